// SPDX-License-Identifier: Apache-2.0
/* kgctl genkey: a new WireGuard private key, like `wg genkey`. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kgctl.h"

static const char usage_text[] =
	"Usage: kgctl genkey\n"
	"\n"
	"Print a new WireGuard private key in base64, with a warning when stdout is a\n"
	"file that others can read. Derive the public key with 'kgctl pubkey'.\n";

int kgctl_genkey(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char text[KILO_KEY_B64_LEN + 2];
	struct kilo_error err = { 0 };
	struct kilo_key key;
	struct stat st;
	int c, r;

	while ((c = kgctl_getopt("genkey", argc, argv, ":h", options)) != -1) {
		if (c == 'h')
			return kgctl_print(usage_text);
		return KGCTL_EXIT_USAGE;
	}
	if (optind != argc)
		return kgctl_usage_fail("genkey", "unexpected argument \"%s\"", argv[optind]);

	/*
	 * As wg does: files this process creates are private, and the shell's
	 * `> key`, created before we run, gets a warning when others can read it.
	 */
	umask(077);
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
		fputs("kgctl: warning: writing a private key to a file that others can read; set umask 077 first\n",
		      stderr);
	r = kilo_key_generate(&key, &err);
	if (r < 0)
		return kgctl_fail("%s", err.message);
	kilo_key_format(&key, text);
	kilo_key_wipe(&key);
	strcat(text, "\n");
	r = kgctl_print(text);
	explicit_bzero(text, sizeof(text));
	return r;
}

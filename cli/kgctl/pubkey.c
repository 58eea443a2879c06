// SPDX-License-Identifier: Apache-2.0
/* kgctl pubkey: the public key of a private key read on stdin, like `wg pubkey`. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kgctl.h"

static const char usage_text[] =
	"Usage: kgctl pubkey < private.key\n"
	"\n"
	"Read a base64 WireGuard private key on stdin (trailing whitespace allowed)\n"
	"and print its public key.\n";

int kgctl_pubkey(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char public_text[KILO_KEY_B64_LEN + 2];
	struct kilo_key private_key = { { 0 } }, public_key;
	struct kilo_error err = { 0 };
	int c, r;

	while ((c = kgctl_getopt("pubkey", argc, argv, ":h", options)) != -1) {
		if (c == 'h')
			return kgctl_print(usage_text);
		return KGCTL_EXIT_USAGE;
	}
	if (optind != argc)
		return kgctl_usage_fail("pubkey", "unexpected argument \"%s\"", argv[optind]);

	if (kilo_key_read_fd(STDIN_FILENO, &private_key, NULL) < 0) {
		r = kgctl_fail("stdin must hold a private key: 44 characters of base64");
		goto out;
	}
	if (kilo_key_public(&private_key, &public_key, &err) < 0) {
		r = kgctl_fail("%s", err.message);
		goto out;
	}
	kilo_key_format(&public_key, public_text);
	strcat(public_text, "\n");
	r = kgctl_print(public_text);
out:
	kilo_key_wipe(&private_key);
	return r;
}

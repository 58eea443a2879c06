// SPDX-License-Identifier: Apache-2.0
/* kgctl pubkey: the public key of a private key read on stdin, like `wg pubkey`. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kgctl.h"

static const char usage_text[] =
	"Usage: kgctl pubkey < private.key\n"
	"\n"
	"Read a base64 WireGuard private key on stdin (trailing whitespace allowed)\n"
	"and print its public key.\n";

/*
 * Reads stdin into buf, one byte less than its size, and strips trailing
 * whitespace. Returns the length, or -1 when stdin holds more than fits.
 */
static ssize_t read_key_text(char *buf, size_t size)
{
	size_t len = fread(buf, 1, size - 1, stdin);

	if (ferror(stdin) || (len == size - 1 && fgetc(stdin) != EOF))
		return -1;
	while (len && isspace((unsigned char)buf[len - 1]))
		len--;
	buf[len] = '\0';
	return (ssize_t)len;
}

int kgctl_pubkey(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* Room for a key and some trailing whitespace; anything longer is not a key. */
	char text[128], public_text[KILO_KEY_B64_LEN + 2];
	struct kilo_key private_key, public_key;
	int c, r;

	while ((c = kgctl_getopt("pubkey", argc, argv, ":h", options)) != -1) {
		if (c == 'h')
			return kgctl_print(usage_text);
		return KGCTL_EXIT_USAGE;
	}
	if (optind != argc)
		return kgctl_usage_fail("pubkey", "unexpected argument \"%s\"", argv[optind]);

	/* Never echo the input: it is meant to be a secret. */
	if (read_key_text(text, sizeof(text)) < 0 || kilo_key_parse(text, &private_key) < 0) {
		r = kgctl_fail("stdin must hold a private key: 44 characters of base64");
		goto out;
	}
	if (kilo_key_public(&private_key, &public_key) < 0) {
		r = kgctl_fail("cannot derive the public key");
		goto out;
	}
	kilo_key_format(&public_key, public_text);
	strcat(public_text, "\n");
	r = kgctl_print(public_text);
out:
	explicit_bzero(text, sizeof(text));
	kilo_key_wipe(&private_key);
	return r;
}

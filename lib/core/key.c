/* SPDX-License-Identifier: Apache-2.0 */
/* WireGuard keys: strict base64, generation and public keys with libsodium. */
#include <kilo/core.h>

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "error.h"
#include "keytext.h"

int kilo_key_parse(const char *text, struct kilo_key *out, struct kilo_error *err)
{
	struct kilo_key key;
	size_t len = 0;
	int r = -EINVAL;

	if (!text)
		return kilo_error_set(err, EINVAL, "key: none given");
	if (strlen(text) != KILO_KEY_B64_LEN || text[KILO_KEY_B64_LEN - 1] != '=')
		return kilo_error_set(err, EINVAL, "key of %zu characters: not %d characters of base64 ending in '='",
				      strlen(text), KILO_KEY_B64_LEN);
	if (sodium_init() < 0)
		return kilo_error_set(err, EIO, "key: libsodium failed to initialise");
	if (sodium_base642bin(key.bytes, sizeof(key.bytes), text, KILO_KEY_B64_LEN, NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    len == KILO_KEY_LEN) {
		*out = key;
		r = 0;
	}
	sodium_memzero(&key, sizeof(key));
	if (r < 0)
		kilo_error_set(err, -r, "key of %d characters: not base64 of %d bytes", KILO_KEY_B64_LEN, KILO_KEY_LEN);
	return r;
}

/*
 * The base64 character of a 6-bit value, computed without branches or a
 * table so that the time taken does not depend on a private key's bits.
 * Starting from 'A' + v, each term shifts v past one boundary of the
 * alphabet: (k - v) >> 8 is all ones exactly when v > k.
 */
static char base64_char(unsigned v)
{
	int x = (int)v, c = 'A' + x;

	c += ((25 - x) >> 8) & 6;  /* 26..51: 'a'..'z' */
	c -= ((51 - x) >> 8) & 75; /* 52..61: '0'..'9' */
	c -= ((61 - x) >> 8) & 15; /* 62: '+' */
	c += ((62 - x) >> 8) & 3;  /* 63: '/' */
	return (char)c;
}

static const char base64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char base64_char_public(unsigned v)
{
	return base64_alphabet[v];
}

/*
 * 30 bytes in ten groups of three, then the last two with one '=' of
 * padding. Inlined so that each caller gets its encoder inlined too.
 */
static inline __attribute__((always_inline)) void encode_key(const uint8_t *b, char *out, char (*base64)(unsigned))
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= KILO_KEY_LEN; i += 3) {
		uint32_t group = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];

		out[o++] = base64(group >> 18 & 63);
		out[o++] = base64(group >> 12 & 63);
		out[o++] = base64(group >> 6 & 63);
		out[o++] = base64(group & 63);
	}
	out[o++] = base64(b[30] >> 2);
	out[o++] = base64((unsigned)(b[30] & 3) << 4 | b[31] >> 4);
	out[o++] = base64((unsigned)(b[31] & 15) << 2);
	out[o++] = '=';
	out[o] = '\0';
}

void kilo_key_format(const struct kilo_key *key, char out[KILO_KEY_B64_LEN + 1])
{
	encode_key(key->bytes, out, base64_char);
}

void kilo_key_format_public(const struct kilo_key *key, char out[KILO_KEY_B64_LEN + 1])
{
	encode_key(key->bytes, out, base64_char_public);
}

bool kilo_key_is_zero(const struct kilo_key *key)
{
	uint64_t words[KILO_KEY_LEN / 8], acc = 0;

	memcpy(words, key->bytes, sizeof(words));
	for (size_t i = 0; i < KILO_KEY_LEN / 8; i++)
		acc |= words[i];
	return acc == 0;
}

bool kilo_key_equal(const struct kilo_key *a, const struct kilo_key *b)
{
	return sodium_memcmp(a->bytes, b->bytes, KILO_KEY_LEN) == 0;
}

int kilo_key_generate(struct kilo_key *private_key, struct kilo_error *err)
{
	if (!private_key)
		return kilo_error_set(err, EINVAL, "key generation: private_key is NULL");
	if (sodium_init() < 0)
		return kilo_error_set(err, EIO, "key generation: libsodium failed to initialise");
	randombytes_buf(private_key->bytes, KILO_KEY_LEN);
	/* Curve25519 clamping, as `wg genkey` does. */
	private_key->bytes[0] &= 248;
	private_key->bytes[31] = (uint8_t)((private_key->bytes[31] & 127) | 64);
	return 0;
}

int kilo_key_public(const struct kilo_key *private_key, struct kilo_key *public_key, struct kilo_error *err)
{
	if (!private_key || !public_key)
		return kilo_error_set(err, EINVAL, "public key: %s is NULL", private_key ? "public_key" : "private_key");
	if (sodium_init() < 0)
		return kilo_error_set(err, EIO, "public key: libsodium failed to initialise");
	/* crypto_scalarmult_base clamps internally, so unclamped keys work as with `wg pubkey`. */
	if (crypto_scalarmult_curve25519_base(public_key->bytes, private_key->bytes) < 0)
		return kilo_error_set(err, EINVAL, "public key: the private key gives no valid public key");
	return 0;
}

void kilo_key_wipe(struct kilo_key *key)
{
	sodium_memzero(key, sizeof(*key));
}

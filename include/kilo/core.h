/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libkilo core: errors, addresses, CIDRs, endpoints and WireGuard keys.
 *
 * Every function that can fail returns 0 (or a count) or a negative errno
 * and takes an optional `struct kilo_error *err` last (NULL: no message),
 * which receives the errno and a message naming the field or argument and
 * the bad value, e.g. `cidr "10.0.0.0/33": prefix 33 is longer than 32`.
 */
#ifndef KILO_CORE_H
#define KILO_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILO_EXPORT __attribute__((visibility("default")))

/* Version of the library as "MAJOR.MINOR.PATCH"; a static string. KILO_VERSION_STRING (version.h) is
 * the version of the headers the caller was compiled against. */
KILO_EXPORT const char *kilo_version(void);

/* Frees a string or buffer returned by libkilo. NULL is a no-op. */
KILO_EXPORT void kilo_free(void *ptr);

/* ---- errors ---------------------------------------------------------- */

#define KILO_ERROR_MESSAGE_MAX 512

struct kilo_error {
	int code; /* positive errno, 0 when no error was recorded */
	char message[KILO_ERROR_MESSAGE_MAX];
};

/* ---- logging --------------------------------------------------------- */

/*
 * The library never prints. A long-running handle (the agent) reports what
 * it did and what it left out through a function the program installs.
 * The levels are syslog's.
 */
enum kilo_log_level {
	KILO_LOG_ERROR = 3,
	KILO_LOG_WARNING = 4,
	KILO_LOG_INFO = 6,
	KILO_LOG_DEBUG = 7,
};

/* Called on the thread that called into the handle; message is one line without a newline. */
typedef void (*kilo_log_fn)(void *ctx, enum kilo_log_level level, const char *message);

/* ---- text for people ------------------------------------------------- */

/* The size kilo_escape needs for a text of n bytes: each may become "\xHH". */
#define KILO_ESCAPED_SIZE(n) (4 * (n) + 1)

/*
 * Copies text into out (size bytes, always terminated, cut before an escape
 * that does not fit) with every control character written as \xHH: the C0
 * controls, DEL and the UTF-8 C1 controls (U+0080..U+009F). A name, location
 * or value printed through it can neither move a terminal's cursor nor start
 * a log line of its own; other UTF-8 passes unchanged. libkilo's error
 * messages are escaped already. Returns out.
 */
KILO_EXPORT const char *kilo_escape(const char *text, char *out, size_t size);

/* ---- IP addresses ---------------------------------------------------- */

/* An IPv4 or IPv6 address. family is 0 (none), 4 or 6; IPv4 uses bytes[0..3]. */
struct kilo_addr {
	uint8_t family;
	uint8_t bytes[16];
};

/* Longest text form of an address or CIDR, with the terminating NUL. */
#define KILO_ADDR_STRLEN 46
#define KILO_CIDR_STRLEN 50

/*
 * Parses a dotted-quad IPv4 or an IPv6 address. Returns -EINVAL if bad, and
 * -EAFNOSUPPORT for an IPv4-mapped IPv6 address (::ffff:a.b.c.d): Go, and so
 * Kilo, prints one as IPv4, so it would come back as another address. The
 * CIDR and endpoint parsers below refuse it the same way.
 */
KILO_EXPORT int kilo_addr_parse(const char *text, struct kilo_addr *out, struct kilo_error *err);
/*
 * The end of an error message about a text that a parser refused with r:
 * why an IPv4-mapped address is refused for -EAFNOSUPPORT, else
 * what_it_is_not (e.g. "not a CIDR"). Callers write "%s is %s".
 */
KILO_EXPORT const char *kilo_addr_refusal(int r, const char *what_it_is_not);
/* Writes the address as Go's net.IP.String() does ("<nil>" for none). */
KILO_EXPORT void kilo_addr_format(const struct kilo_addr *addr, char out[KILO_ADDR_STRLEN]);
KILO_EXPORT bool kilo_addr_equal(const struct kilo_addr *a, const struct kilo_addr *b);
/*
 * Kilo's notion of a public address: IPv4 is private only in 10/8,
 * 172.16/12 and 192.168/16; IPv6 only in fd00::/16. Everything else,
 * loopback included, counts as public.
 */
KILO_EXPORT bool kilo_addr_is_public(const struct kilo_addr *addr);

/* An address with a prefix length. Host bits are kept as given. */
struct kilo_cidr {
	struct kilo_addr addr;
	uint8_t prefix;
};

/* Parses "ip/prefix", keeping host bits. Returns -EINVAL if bad (-EAFNOSUPPORT: see kilo_addr_parse). */
KILO_EXPORT int kilo_cidr_parse(const char *text, struct kilo_cidr *out, struct kilo_error *err);
KILO_EXPORT void kilo_cidr_format(const struct kilo_cidr *cidr, char out[KILO_CIDR_STRLEN]);
/* The CIDR with its host bits cleared (what Go's ParseCIDR returns). */
KILO_EXPORT struct kilo_cidr kilo_cidr_masked(const struct kilo_cidr *cidr);
/* True if addr lies inside the network of cidr (same family only). */
KILO_EXPORT bool kilo_cidr_contains(const struct kilo_cidr *cidr, const struct kilo_addr *addr);
/* True if either network contains the other's address. */
KILO_EXPORT bool kilo_cidr_intersects(const struct kilo_cidr *a, const struct kilo_cidr *b);
KILO_EXPORT bool kilo_cidr_equal(const struct kilo_cidr *a, const struct kilo_cidr *b);
/* A single-address CIDR (/32 or /128) of addr. */
KILO_EXPORT struct kilo_cidr kilo_cidr_host(const struct kilo_addr *addr);

/* ---- endpoints ------------------------------------------------------- */

#define KILO_DNS_NAME_MAX 253

/*
 * A WireGuard endpoint: either an IP address and port, or a DNS name and
 * port. An endpoint with port 0 and neither address nor name is "none".
 */
struct kilo_endpoint {
	struct kilo_addr addr;
	uint16_t port;
	char dns[KILO_DNS_NAME_MAX + 1];
};

#define KILO_ENDPOINT_STRLEN (KILO_DNS_NAME_MAX + 9)

/*
 * Parses "ip:port", "[ipv6]:port" or "dns-name:port". The port must be
 * 1..65535 and a name must be an RFC 1123 subdomain. Returns -EINVAL if bad
 * (-EAFNOSUPPORT: see kilo_addr_parse).
 */
KILO_EXPORT int kilo_endpoint_parse(const char *text, struct kilo_endpoint *out, struct kilo_error *err);
/* Writes "ip:port", "[ipv6]:port" or "name:port"; "" for none. */
KILO_EXPORT void kilo_endpoint_format(const struct kilo_endpoint *ep, char out[KILO_ENDPOINT_STRLEN]);
KILO_EXPORT bool kilo_endpoint_is_set(const struct kilo_endpoint *ep);
/* Kilo's readiness: an IP with a non-zero port, or a DNS name. */
KILO_EXPORT bool kilo_endpoint_ready(const struct kilo_endpoint *ep);
/*
 * Kilo's Endpoint.Equal(b, dnsFirst): equal when both print the same, where
 * an endpoint prints as its address and port once resolved, as its name and
 * port before, and with dns_first as its name and port whenever it has one
 * (so two names that resolve to one address differ). Kilo compares nodes
 * and peers with dns_first, a configuration with the device without.
 */
KILO_EXPORT bool kilo_endpoint_equal_opt(const struct kilo_endpoint *a, const struct kilo_endpoint *b, bool dns_first);
/* kilo_endpoint_equal_opt(a, b, false): a resolved name equals its address. */
KILO_EXPORT bool kilo_endpoint_equal(const struct kilo_endpoint *a, const struct kilo_endpoint *b);

/* ---- WireGuard keys -------------------------------------------------- */

#define KILO_KEY_LEN 32
#define KILO_KEY_B64_LEN 44 /* without the NUL */

struct kilo_key {
	uint8_t bytes[KILO_KEY_LEN];
};

/*
 * Decodes a key: exactly 44 characters of standard base64 ending in '=',
 * decoding to 32 bytes, as `wg` accepts. Returns -EINVAL if bad.
 */
KILO_EXPORT int kilo_key_parse(const char *text, struct kilo_key *out, struct kilo_error *err);
KILO_EXPORT void kilo_key_format(const struct kilo_key *key, char out[KILO_KEY_B64_LEN + 1]);
KILO_EXPORT bool kilo_key_is_zero(const struct kilo_key *key);
KILO_EXPORT bool kilo_key_equal(const struct kilo_key *a, const struct kilo_key *b);
/* A new clamped Curve25519 private key, like `wg genkey`. */
KILO_EXPORT int kilo_key_generate(struct kilo_key *private_key, struct kilo_error *err);
/* The public key of a private key, like `wg pubkey`. */
KILO_EXPORT int kilo_key_public(const struct kilo_key *private_key, struct kilo_key *public_key,
				struct kilo_error *err);
/*
 * Reads a key in the format of `wg genkey` from the file descriptor fd, to
 * its end: 44 characters of base64, then nothing but whitespace (as `wg`
 * allows). The text is wiped.
 */
KILO_EXPORT int kilo_key_read_fd(int fd, struct kilo_key *key, struct kilo_error *err);
/*
 * Reads a private key file. The file must be a regular file (a FIFO or a
 * device is refused at once, -EINVAL, without waiting for a writer) that
 * neither group nor others may read or write (-EPERM, naming the mode), as
 * `wg` demands of private keys.
 */
KILO_EXPORT int kilo_key_read_file(const char *path, struct kilo_key *key, struct kilo_error *err);
/* Writes key as base64 and a newline to a new file at path with mode 0600, atomically. */
KILO_EXPORT int kilo_key_write_file(const char *path, const struct kilo_key *key, struct kilo_error *err);
/* Wipes a key so that the compiler cannot elide it. */
KILO_EXPORT void kilo_key_wipe(struct kilo_key *key);

#ifdef __cplusplus
}
#endif

#endif

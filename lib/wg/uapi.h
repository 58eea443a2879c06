/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The userspace WireGuard backend: the cross-platform UAPI key=value
 * protocol over SOCKET_DIR/IF.sock (wireguard-go, boringtun). The text
 * encoder and decoders are pure so that tests check them against golden
 * text; uapi.c does the socket I/O.
 */
#ifndef KILO_LIB_WG_UAPI_H
#define KILO_LIB_WG_UAPI_H

#include <sys/un.h>

#include <kilo/wg.h>

#include "../core/wgconf.h"

#define KILO_UAPI_SOCKET_DIR "/var/run/wireguard"
#define KILO_UAPI_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/*
 * The "set=1" request for change, ending with the blank line and a NUL
 * that len does not count. UAPI cannot take single allowed IPs away, so a
 * peer flagged REMOVE_ALLOWED_IPS gets replace_allowed_ips with its set in
 * live (the device read just before) plus its allowed_ips minus
 * removed_allowed_ips; live may be NULL when no peer carries that flag. An
 * endpoint must be an address (UAPI takes no names). *out holds secrets:
 * release it with kilo_uapi_text_free.
 */
int kilo_uapi_encode_set(const struct kilo_wg_config *change, const struct kilo_wg_config *live, char **out,
			 size_t *len, struct kilo_error *err);

/* Wipes and frees text of len bytes (NULL is a no-op). */
void kilo_uapi_text_free(char *text, size_t len);

/*
 * Parses the reply to "get=1": the device with its peers and statistics,
 * its public key derived from the private key. Unknown keys are skipped (a
 * newer implementation may add some); malformed lines are an error naming
 * the line, the key and, unless secret, the value. A non-zero errno, of
 * either sign, is returned as -errno. Free *out with kilo_wg_config_free.
 */
int kilo_uapi_decode_get(const char *text, size_t len, struct kilo_wg_config **out, struct kilo_error *err);

/* Parses the reply to "set=1" ("errno=N" and a blank line): 0 or -errno. */
int kilo_uapi_decode_errno(const char *text, size_t len, struct kilo_error *err);

/* SOCKET_DIR/IFNAME.sock in out; -ENAMETOOLONG when it does not fit a socket address. */
int kilo_uapi_socket_path(const char *socket_dir, const char *ifname, char out[KILO_UAPI_PATH_MAX],
			  struct kilo_error *err);

/* Reads the device behind socket path (for ifname, named in errors). -ENODEV: no socket. */
int kilo_uapi_get(const char *path, const char *ifname, struct kilo_wg_config **out, struct kilo_error *err);

/*
 * Applies change in one request: wireguard-go and boringtun read the
 * request line by line, so unlike netlink there is no size limit that
 * would need splitting. Adds the request and its peers to counters.
 */
int kilo_uapi_set(const char *path, const char *ifname, const struct kilo_wg_config *change,
		  struct kilo_wg_counters *counters, struct kilo_error *err);

#endif

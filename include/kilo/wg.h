/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WireGuard devices: read and configure them through the kernel module
 * (generic netlink) or a userspace implementation such as wireguard-go
 * (the cross-platform UAPI socket), behind one handle.
 */
#ifndef KILO_WG_H
#define KILO_WG_H

#include <kilo/core.h>
#include <kilo/wgconf.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kilo_wg kilo_wg;

enum kilo_wg_backend {
	/* The kernel module when the "wireguard" generic netlink family exists, else userspace. */
	KILO_WG_BACKEND_AUTO = 0,
	KILO_WG_BACKEND_KERNEL = 1,
	KILO_WG_BACKEND_USERSPACE = 2,
};

KILO_EXPORT int kilo_wg_backend_parse(const char *text, enum kilo_wg_backend *out, struct kilo_error *err);

struct kilo_wg_opts {
	size_t sz;
	enum kilo_wg_backend backend;
	/*
	 * A userspace implementation to start for a device that has no UAPI
	 * socket yet (e.g. "wireguard-go"), run as PROGRAM IFNAME; NULL: none.
	 */
	const char *userspace_program;
	/* Where UAPI sockets live; NULL: /var/run/wireguard. */
	const char *socket_dir;
};

/*
 * Opens a handle; with the kernel backend it resolves the netlink family once.
 *
 * The userspace programs a handle starts are children of the calling
 * process, and the handle owns them: it reaps one that exits (at its next
 * call that names a device) and kilo_wg_device_delete stops and reaps it.
 * Like a kernel link, a device outlives the handle: kilo_wg_close leaves
 * the programs that still run running, and a program that runs for long
 * keeps one handle open for as long as it manages the device (kg does),
 * or a program that exits later is a zombie until the caller exits. A
 * device that exists already (its UAPI socket accepts connections) is
 * used as it is: a restarted program never starts a second one.
 */
KILO_EXPORT int kilo_wg_open(const struct kilo_wg_opts *opts, kilo_wg **out, struct kilo_error *err);
/* Closes the handle; the devices and their programs stay (see kilo_wg_open). NULL is a no-op. */
KILO_EXPORT void kilo_wg_close(kilo_wg *wg);
/*
 * Where the programs this handle starts from now on write their stdout
 * and stderr: fd, which the caller keeps open (each program gets a copy),
 * or -1 for /dev/null, the default. Never the caller's own stdout, which a
 * program would hold open for as long as its device lives; nor any other
 * descriptor of the caller (a started program gets stdin from /dev/null,
 * stdout and stderr, and nothing else).
 */
KILO_EXPORT void kilo_wg_set_output(kilo_wg *wg, int fd);
/* The backend actually in use for ifname: kernel or userspace. */
KILO_EXPORT enum kilo_wg_backend kilo_wg_backend_of(const kilo_wg *wg, const char *ifname);

/*
 * Creates the device ifname if it does not exist: a kernel link, or the
 * userspace program started in the background (its UAPI socket appears).
 * Returns 1 when it created the device, 0 when it existed. The error says
 * what is missing when neither works.
 */
KILO_EXPORT int kilo_wg_device_create(kilo_wg *wg, const char *ifname, struct kilo_error *err);
/*
 * Deletes the device: a kernel link; a userspace one is stopped (a program
 * this handle started is sent SIGTERM and reaped before this returns).
 */
KILO_EXPORT int kilo_wg_device_delete(kilo_wg *wg, const char *ifname, struct kilo_error *err);

/* Reads the device, peers, statistics and all. Free *out with kilo_wg_config_free. */
KILO_EXPORT int kilo_wg_device_get(kilo_wg *wg, const char *ifname, kilo_wg_config **out, struct kilo_error *err);

/*
 * Applies change (a whole configuration, or the result of
 * kilo_wg_config_diff) to the device, in as many messages as it needs.
 * Secrets are wiped from the buffers after sending.
 */
KILO_EXPORT int kilo_wg_device_set(kilo_wg *wg, const char *ifname, const kilo_wg_config *change,
				   struct kilo_error *err);

/* What kilo_wg_device_sync changed. */
struct kilo_wg_sync_report {
	unsigned peers_changed;  /* peers added, changed or removed */
	bool interface_changed;  /* private key, listen port or fwmark */
	/* peers_changed, split up. */
	unsigned peers_added;
	unsigned peers_removed;
	unsigned peers_updated;
};

/*
 * Makes the device ifname equal to desired with the smallest change
 * (kilo_wg_config_diff against the live device), as `wg setconf` leaves
 * it, and sends nothing when it already matches. report may be NULL.
 */
KILO_EXPORT int kilo_wg_device_sync(kilo_wg *wg, const char *ifname, const kilo_wg_config *desired,
				    struct kilo_wg_sync_report *report, struct kilo_error *err);

/* Counters of the set operations this handle sent, for tests and benchmarks. */
struct kilo_wg_counters {
	uint64_t set_operations; /* calls of kilo_wg_device_set that sent anything */
	uint64_t messages;       /* netlink messages or UAPI requests sent by them */
	uint64_t peers;          /* peers written by them */
};
KILO_EXPORT void kilo_wg_counters_get(const kilo_wg *wg, struct kilo_wg_counters *out);

#ifdef __cplusplus
}
#endif

#endif

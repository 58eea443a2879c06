/* SPDX-License-Identifier: Apache-2.0 */
/* The handle behind bpf.h, shared by the files of lib/bpf. */
#ifndef KILO_LIB_BPF_INTERNAL_H
#define KILO_LIB_BPF_INTERNAL_H

#include <bpf/libbpf.h>

#include "loader.h"

/* libkilo's tc filters: one handle and priority, so that a new kg replaces an old one's in place. */
#define KILO_BPF_TC_HANDLE 0x6b6c
#define KILO_BPF_TC_PRIORITY 0x6b6c

/* The programs' names start with it; a filter running another program is someone else's. */
#define KILO_BPF_PROG_PREFIX "kilo_"

/* At most: lb.bpf.o and sock.bpf.o. */
#define KILO_BPF_MAX_OBJECTS 4

struct kilo_bpf_last; /* sync.c: the state the last sync wrote */
struct kilo_bpf_policy_last; /* policy_sync.c: the same for network policy's maps */
struct kilo_bpf_diff;

struct kilo_bpf {
	char *pin_dir;
	uint32_t maglev_m;
	bool all_flow_events; /* written into kilo_policy_state at each policy sync */
	struct bpf_object *objects[KILO_BPF_MAX_OBJECTS];
	size_t n_objects;
	struct kilo_bpf_attachment *attached;
	size_t n_attached;
	struct kilo_bpf_last *last; /* NULL: read the maps at the next sync */
	struct kilo_bpf_policy_last *policy_last; /* NULL: read the maps at the next policy sync */
};

/*
 * Between kilo__bpf_quiet and kilo__bpf_loud (given what quiet returned),
 * libbpf's messages are kept, not printed; kilo__bpf_said is the first one.
 */
libbpf_print_fn_t kilo__bpf_quiet(void);
void kilo__bpf_loud(libbpf_print_fn_t previous);
const char *kilo__bpf_said(void);

/* The program named name in any object, or NULL. */
struct bpf_program *kilo__bpf_program(const kilo_bpf *bpf, const char *name);
/* Forgets the state the last sync wrote: the next one reads the maps (sync.c). */
void kilo__bpf_last_free(kilo_bpf *bpf);
/* The same for the last policy sync (policy_sync.c). */
void kilo__bpf_policy_last_free(kilo_bpf *bpf);
/* A diff's counts as a report's (sync.c). */
void kilo__bpf_changes(struct kilo_bpf_changes *c, const struct kilo_bpf_diff *d);

#endif

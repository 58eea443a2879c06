/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hand-made desired states for the loader's tests, and a private pin dir
 * under bpffs (mounted when missing) that the tests remove on exit.
 */
#ifndef KILO_TESTS_UNIT_BPF_LB_FIXTURE_H
#define KILO_TESTS_UNIT_BPF_LB_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "bpf/loader.h"

/* A state of up to 8 services with up to 4 backends each, Maglev tables of M entries. */
struct lb_fixture {
	struct kilo_lb_desired desired;
	struct kilo_lb_desired_service services[8];
	struct kilo_lb_desired_backend backends[32];
	struct kilo_lb_desired_slot slots[32];
	struct kilo_lb_desired_revnat revnat[8];
	struct kilo_lb_desired_maglev maglev[8];
	__u32 tables[8][KILO_LB_MAGLEV_DEFAULT];
};

/*
 * n services 10.96.0.S:80/TCP (ids S = 1..n), each with backends
 * 10.2.S.B:8080 (ids S*10+B, B = 1..backends), their slots, reverse NAT
 * and a Maglev table that deals the backends out in turn.
 */
void lb_fixture_build(struct lb_fixture *f, unsigned n, unsigned backends);
/* Sorts every array of f's desired state by key, as lb_desired.h asks. */
void lb_fixture_sort(struct lb_fixture *f);

/*
 * A fresh pin dir under /sys/fs/bpf for this test program (bpffs mounted
 * when missing), removed at exit; NULL (and a reason on stderr) when the
 * test cannot load BPF here: not root, or no bpffs.
 */
const char *lb_fixture_pin_dir(const char *name);
/* The pinned map name in pin_dir, opened; -1 when missing. */
int lb_fixture_map(const char *pin_dir, const char *name);
/* How many entries the pinned map name holds (keys of key_size, at most 64 bytes); SIZE_MAX when missing. */
size_t lb_fixture_count(const char *pin_dir, const char *name, size_t key_size);

#endif

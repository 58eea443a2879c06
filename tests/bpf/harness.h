/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The load balancer's programs loaded for a test: maps pinned in a directory
 * of the test's own under bpffs (removed on close), filled by hand, and
 * packets run through BPF_PROG_TEST_RUN.
 */
#ifndef KILO_TESTS_BPF_HARNESS_H
#define KILO_TESTS_BPF_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "lb.skel.h"
#include "lb_maps.h"
#include "packet.h"

enum kt_prog {
	KT_FROM_POD,
	KT_TO_POD,
	KT_FROM_NETDEV,
};

struct kt_lb {
	struct kilo_lb_bpf *skel;
	char pin_dir[128];
};

/* Loads the programs; returns 0 or -errno (the reason printed). */
int kt_lb_open(struct kt_lb *lb);
void kt_lb_close(struct kt_lb *lb);
/* Empties every map and zeroes the counters. */
void kt_lb_reset(struct kt_lb *lb);

struct kt_service {
	int family;
	const char *addr;
	uint16_t port;
	uint8_t proto;
	uint8_t scope;
	uint32_t id;
	uint16_t flags;
	uint32_t affinity_timeout;
	const uint32_t *slots; /* backend ids, slot 1 first */
	uint16_t n_slots;
};

void kt_add_service(struct kt_lb *lb, const struct kt_service *svc);
void kt_add_backend(struct kt_lb *lb, uint32_t id, int family, const char *addr, uint16_t port,
		    uint8_t proto, uint32_t flags);
void kt_remove_backend(struct kt_lb *lb, uint32_t id);
/* A Maglev table of m entries, entry i holding table[i % n]. */
void kt_set_maglev(struct kt_lb *lb, uint32_t service_id, uint32_t m, const uint32_t *table,
		   uint32_t n);
void kt_addr(int family, const char *text, union kilo_lb_addr *out);
/* This node's IPv4 address (NULL: none), the SNAT source of a ClusterIP flow from outside its pods. */
void kt_set_node4(struct kt_lb *lb, const char *addr);

/* Runs a frame through a program; returns its verdict, the frame it left in out. */
int kt_run(struct kt_lb *lb, enum kt_prog prog, const uint8_t *in, size_t in_len, uint8_t *out,
	   size_t *out_len);
/* Builds in, runs it, and checks the verdict and that the output is want (NULL: in) byte for byte. */
void kt_expect(struct kt_lb *lb, enum kt_prog prog, const struct kt_packet *in, int verdict,
	       const struct kt_packet *want);

uint64_t kt_counter(struct kt_lb *lb, enum kilo_lb_counter counter);
/* How many entries the conntrack map holds. */
size_t kt_conntrack_entries(struct kt_lb *lb);
/* The flow hash the programs compute (conntrack.bpf.h), for predicting slots. */
uint32_t kt_flow_hash(const struct kt_packet *p);
/* The programs' clock: CLOCK_MONOTONIC_COARSE (bpf_ktime_get_coarse_ns). */
uint64_t kt_now_ns(void);

#endif

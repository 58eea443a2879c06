/* SPDX-License-Identifier: Apache-2.0 */
/* The flags that shape a node's plan, shared by `kgctl solve` and `kgctl apply`. */
#ifndef KGCTL_PLANFLAGS_H
#define KGCTL_PLANFLAGS_H

#include "kgctl.h"

enum {
	KGCTL_OPT_LOCAL = 256,
	KGCTL_OPT_NO_LOCAL,
	KGCTL_OPT_ENCAPSULATE,
	KGCTL_OPT_COMPATIBILITY,
	KGCTL_OPT_INTERFACE,
	KGCTL_OPT_CNI,
	KGCTL_OPT_NO_CNI,
	KGCTL_OPT_FORWARD_RULES,
	KGCTL_OPT_GRANULARITY,
	KGCTL_OPT_FIRST_FREE, /* commands number their own options from here */
};

#define KGCTL_PLAN_OPTIONS                                                                  \
	{ "local", no_argument, NULL, KGCTL_OPT_LOCAL },                                    \
	{ "no-local", no_argument, NULL, KGCTL_OPT_NO_LOCAL },                              \
	{ "encapsulate", required_argument, NULL, KGCTL_OPT_ENCAPSULATE },                  \
	{ "compatibility", required_argument, NULL, KGCTL_OPT_COMPATIBILITY },              \
	{ "interface", required_argument, NULL, KGCTL_OPT_INTERFACE },                      \
	{ "cni", no_argument, NULL, KGCTL_OPT_CNI },                                        \
	{ "no-cni", no_argument, NULL, KGCTL_OPT_NO_CNI },                                  \
	{ "iptables-forward-rules", no_argument, NULL, KGCTL_OPT_FORWARD_RULES },           \
	{ "mesh-granularity", required_argument, NULL, KGCTL_OPT_GRANULARITY }

#define KGCTL_PLAN_USAGE                                                                    \
	"      --local, --no-local         manage routes inside the location (default on)\n"  \
	"      --encapsulate MODE          never, crosssubnet or always (default always)\n"   \
	"      --compatibility MODE        flannel or cilium (default: plain IPIP)\n"         \
	"      --interface NAME            the WireGuard interface (default kilo0)\n"          \
	"      --cni, --no-cni             jump pod traffic to KILO-NAT (default on)\n"        \
	"      --iptables-forward-rules    add FORWARD rules for the pod subnet\n"             \
	"      --mesh-granularity G        location, full or cross (default: the mesh's)\n"

/* Zeroed, the library's defaults (kg's): local routes, always encapsulate, plain IPIP, kilo0, CNI on. */
struct kgctl_plan_flags {
	bool no_local;
	enum kilo_encapsulate encapsulate;
	enum kilo_compatibility compatibility;
	const char *interface; /* NULL: the library's default */
	bool no_cni;
	bool forward_rules;
	bool override_granularity;
	enum kilo_granularity granularity;
};

/*
 * Takes option c with its value if it is a plan flag: returns 1 when it
 * was one, 0 when it was not, a negative number (after printing the error)
 * for a bad value, which is a usage error.
 */
int kgctl_plan_flag(int c, const char *value, struct kgctl_plan_flags *flags);

#endif

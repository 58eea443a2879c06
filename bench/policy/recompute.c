// SPDX-License-Identifier: Apache-2.0
/*
 * The policy layer's recompute at scale: a cluster of P pods over 100
 * nodes in 10 locations and 50 namespaces, with N NetworkPolicies (each
 * selecting one app of its namespace, allowing another app, a namespace
 * label and an ipBlock on a named port and a port range), and the VPN
 * peers of the mesh. Rows: the cold computation (read every object,
 * compile node n0), then one pod's labels changed (a new label set, given
 * a new identity): the objects read again and n0's maps compiled again,
 * with the state the first computation kept. The target is one
 * label change -> maps updated <= 10 ms at 10k pods and 1k policies.
 * Times are the thread's CPU time, the best of RUNS.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/netpol.h"

#define NODES 100
#define LOCATIONS 10
#define NAMESPACES 50
#define APPS 40 /* per namespace */
#define RUNS 5

/* This thread's CPU time: on a shared machine, wall time measures the neighbours too. */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct text {
	char *s;
	size_t n, cap;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
		va_end(ap);
		if ((size_t)n < t->cap - t->n)
			break;
		t->cap = t->cap * 2 + 4096;
		if (!(t->s = realloc(t->s, t->cap)))
			abort();
	}
	t->n += (size_t)n;
}

static char *mesh_text(void)
{
	struct text t = { 0 };

	add(&t, "{\"version\":1,\"nodes\":[");
	for (int i = 0; i < NODES; i++)
		add(&t, "%s{\"name\":\"n%d\",\"location\":\"l%d\",\"internalIP\":\"192.168.%d.%d/16\"}", i ? "," : "", i,
		    i % LOCATIONS, i / 250, i % 250 + 1);
	add(&t, "],\"peers\":[{\"name\":\"laptop\",\"publicKey\":\"vyWBFrXwHpLXUT2h0+2M+d2YtLqLQHdL89yafPfCZig=\",\"allowedIPs\":[\"10.5.0.1/32\"]}]}");
	return t.s;
}

/* Pod i: app (i / NAMESPACES) % APPS in namespace i % NAMESPACES, on node i % NODES; changed: one more label. */
static char *pods_text(int n, int changed)
{
	struct text t = { 0 };

	add(&t, "[");
	for (int i = 0; i < n; i++)
		add(&t,
		    "%s{\"metadata\":{\"name\":\"p%d\",\"namespace\":\"ns%d\",\"labels\":{\"app\":\"a%d\",\"tier\":\"t%d\"%s}},"
		    "\"spec\":{\"nodeName\":\"n%d\",\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]},"
		    "\"status\":{\"podIP\":\"10.%d.%d.%d\"}}",
		    i ? "," : "", i, i % NAMESPACES, (i / NAMESPACES) % APPS, i % 3, i == changed ? ",\"canary\":\"yes\"" : "",
		    i % NODES, 10 + i / 65536, (i / 256) % 256, i % 256);
	add(&t, "]");
	return t.s;
}

static char *namespaces_text(void)
{
	struct text t = { 0 };

	add(&t, "[");
	for (int i = 0; i < NAMESPACES; i++)
		add(&t, "%s{\"metadata\":{\"name\":\"ns%d\",\"labels\":{\"team\":\"t%d\"}}}", i ? "," : "", i, i % 5);
	add(&t, "]");
	return t.s;
}

static char *policies_text(int n)
{
	struct text t = { 0 };

	add(&t, "[");
	for (int i = 0; i < n; i++)
		add(&t,
		    "%s{\"metadata\":{\"name\":\"np%d\",\"namespace\":\"ns%d\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
		    "{\"app\":\"a%d\"}},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":\"a%d\"}}},"
		    "{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"t%d\"}},\"podSelector\":{\"matchExpressions\":"
		    "[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"t0\",\"t1\"]}]}},{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\","
		    "\"except\":[\"10.10.%d.0/24\"]}}],\"ports\":[{\"port\":\"http\"},{\"port\":9000,\"endPort\":9100}]}]}}",
		    i ? "," : "", i, i % NAMESPACES, (i / NAMESPACES) % APPS, (i / NAMESPACES + 1) % APPS, i % 5, i % 256);
	add(&t, "]");
	return t.s;
}

struct computation {
	double read_ms, compile_ms;
	size_t rules, endpoints, ipcache;
};

static void compute(struct kilo_np_state *state, const char *pods, const char *namespaces, const char *policies,
		    const kilo_mesh *mesh, struct computation *c)
{
	struct kilo_np_model model;
	struct kilo_np_desired d;
	struct kilo_np_identity_number *ids;
	struct kilo_error err = { 0 };
	double t0 = now_ms(), t1, t2;

	if (kilo_np_model_update(state, pods, namespaces, policies, NULL, mesh, &model, NULL, &err) < 0) {
		fprintf(stderr, "read: %s\n", err.message);
		exit(1);
	}
	t1 = now_ms();
	/* The store's numbers, here the label sets' order (the agent's table, not timed). */
	ids = calloc(model.n_identities + 1, sizeof(*ids));
	if (!ids)
		abort();
	for (size_t i = 0; i < model.n_identities; i++)
		ids[i] = (struct kilo_np_identity_number){ model.identities[i].label_set, 256 + (uint32_t)i };
	t2 = now_ms();
	if (kilo_np_compile(state, &model, "n0", ids, model.n_identities, &d, NULL, &err) < 0) {
		fprintf(stderr, "compile: %s\n", err.message);
		exit(1);
	}
	c->compile_ms = now_ms() - t2;
	c->read_ms = t1 - t0;
	c->rules = d.n_rules;
	c->endpoints = d.n_endpoints;
	c->ipcache = d.n_ipcache;
	kilo_np_desired_release(&d);
	free(ids);
	kilo_np_model_release(&model);
}

int main(int argc, char *argv[])
{
	static const int sizes[][2] = { { 1000, 100 }, { 10000, 1000 } };
	char *mesh_json = mesh_text(), *namespaces = namespaces_text();
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;

	(void)argc;
	if (kilo_mesh_from_json(mesh_json, strlen(mesh_json), &mesh, &err) < 0) {
		fprintf(stderr, "mesh: %s\n", err.message);
		return 1;
	}
	printf("# %s: %d nodes in %d locations, %d namespaces; node n0's maps; CPU ms, best of %d\n", argv[0], NODES, LOCATIONS,
	       NAMESPACES, RUNS);
	printf("%-7s %-9s %-12s %10s %10s %10s %9s %9s %8s\n", "pods", "policies", "computation", "read_ms", "compile_ms",
	       "total_ms", "ipcache", "endpoints", "rules");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		char *pods = pods_text(sizes[s][0], -1), *changed = pods_text(sizes[s][0], sizes[s][0] / 2);
		char *policies = policies_text(sizes[s][1]);
		struct computation cold = { 1e9, 1e9, 0, 0, 0 }, change = { 1e9, 1e9, 0, 0, 0 };

		for (int run = 0; run < RUNS; run++) {
			struct kilo_np_state *state = kilo_np_state_new();
			struct computation a, b;

			compute(state, pods, namespaces, policies, mesh, &a);
			compute(state, changed, namespaces, policies, mesh, &b);
			if (a.read_ms + a.compile_ms < cold.read_ms + cold.compile_ms)
				cold = a;
			if (b.read_ms + b.compile_ms < change.read_ms + change.compile_ms)
				change = b;
			kilo_np_state_free(state);
		}
		printf("%-7d %-9d %-12s %10.2f %10.2f %10.2f %9zu %9zu %8zu\n", sizes[s][0], sizes[s][1], "cold",
		       cold.read_ms, cold.compile_ms, cold.read_ms + cold.compile_ms, cold.ipcache, cold.endpoints, cold.rules);
		printf("%-7d %-9d %-12s %10.2f %10.2f %10.2f %9zu %9zu %8zu\n", sizes[s][0], sizes[s][1], "one-label",
		       change.read_ms, change.compile_ms, change.read_ms + change.compile_ms, change.ipcache, change.endpoints,
		       change.rules);
		free(pods);
		free(changed);
		free(policies);
	}
	kilo_mesh_free(mesh);
	free(mesh_json);
	free(namespaces);
	return 0;
}

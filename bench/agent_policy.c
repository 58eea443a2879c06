// SPDX-License-Identifier: Apache-2.0
/*
 * kg's network policy sync at a cluster's scale (issue 12's target: one
 * pod's labels changed among 10k pods and 1k policies -> maps updated in
 * <= 10 ms): the agent's own path, as kg takes it at every change of the
 * store (kilo_agent_bpf_sync: the load balancer's maps, lib/agent/lb_sync.c,
 * then policy's, lib/agent/policy.c), on a file store of
 * PODS pods in 100 namespaces over 10 nodes and POLICIES policies, writing
 * the real maps of a loader pinned under PIN_DIR (a bpffs directory; root).
 * Rows: the first sync (every identity allocated, every entry written), a
 * sync with nothing changed (the texts compared), one pod's label changed
 * to a label set other pods have (pod 0, app0 -> app1: its number is
 * listed, nothing is written to the store), the same change back, and the
 * pod's label changed to a label set no pod had (app100+: a number
 * allocated, written to the store with the file store's fsyncs); each the
 * best of ROUNDS.
 *
 * With SERVICES (default 0) ClusterIP Services in the store too (no
 * EndpointSlices): the load balancer computes from them, and flows are
 * named by them.
 *
 * Usage: bench-agent-policy PIN_DIR STORE_DIR [PODS [POLICIES [ROUNDS [SERVICES]]]]   (default 10000 1000 5 0)
 * (bench/agent-policy.sh makes both directories and removes them.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kilo/kilo.h>

#include "agent/policy.h"
#include "core/strbuf.h"
#include "mesh/model.h"

#define NAMESPACES 100
#define NODES 10
#define APPS 10

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int put(kilo_store *store, const char *json)
{
	struct kilo_error err = { 0 };

	if (kilo_store_put_object(store, json, &err) < 0) {
		fprintf(stderr, "bench-agent-policy: %s\n", err.message);
		return -1;
	}
	return 0;
}

/* Pod i: namespace i % NAMESPACES, node i % NODES (10.2.NODE.0/16 holds it), app i / NAMESPACES % APPS. */
static int put_pod(kilo_store *store, unsigned i, unsigned app)
{
	char json[512];
	unsigned node = i % NODES, k = i / NODES;

	snprintf(json, sizeof(json),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p%u\",\"namespace\":\"ns%u\","
		 "\"labels\":{\"app\":\"app%u\",\"tier\":\"t%u\"}},\"spec\":{\"nodeName\":\"n%u\",\"containers\":"
		 "[{\"name\":\"c\",\"image\":\"i\",\"ports\":[{\"name\":\"http\",\"containerPort\":80}]}]},"
		 "\"status\":{\"podIP\":\"10.%u.%u.%u\"}}",
		 i, i % NAMESPACES, app, i % 3, node + 1, 20 + node, k / 250, k % 250 + 1);
	return put(store, json);
}

/* Policy j of namespace j % NAMESPACES: app (j / NAMESPACES) % APPS takes http from the next app and a namespace. */
static int put_policy(kilo_store *store, unsigned j)
{
	char json[768];
	unsigned app = j / NAMESPACES % APPS;

	snprintf(json, sizeof(json),
		 "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"np%u\","
		 "\"namespace\":\"ns%u\"},\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"app%u\"}},"
		 "\"policyTypes\":[\"Ingress\"],\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"app\":"
		 "\"app%u\"}}},{\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"ns%u\"}}}],"
		 "\"ports\":[{\"protocol\":\"TCP\",\"port\":\"http\"},{\"protocol\":\"UDP\",\"port\":53,\"endPort\":60}]}]}}",
		 j, j % NAMESPACES, app, (app + 1) % APPS, (j + 1) % NAMESPACES);
	return put(store, json);
}

/* Service k of namespace k % NAMESPACES, ClusterIP 10.96.K. */
static int put_service(kilo_store *store, unsigned k)
{
	char json[512];

	snprintf(json, sizeof(json),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s%u\",\"namespace\":\"ns%u\"},"
		 "\"spec\":{\"clusterIP\":\"10.96.%u.%u\",\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\","
		 "\"port\":80,\"targetPort\":8080}]}}",
		 k, k % NAMESPACES, k / 250, k % 250 + 1);
	return put(store, json);
}

static kilo_mesh *mesh_of_nodes(void)
{
	struct kilo_strbuf sb = { 0 };
	kilo_mesh *mesh = NULL;
	char *json = NULL;

	kilo_strbuf_append(&sb, "{\"version\":1,\"nodes\":[");
	for (unsigned n = 1; n <= NODES; n++)
		kilo_strbuf_printf(&sb,
				   "%s{\"name\":\"n%u\",\"location\":\"loc%u\",\"internalIP\":\"172.31.0.%u/24\","
				   "\"podCIDR\":\"10.%u.0.0/16\",\"publicKey\":\"%cKzkKhYMUBmUgLGSMu7mGbAkWX8mGZvVtDBUh6+Y1UY=\"}",
				   n > 1 ? "," : "", n, n % 3, n, 19 + n, 'A' + n);
	kilo_strbuf_append(&sb, "]}");
	if (kilo_strbuf_finish(&sb, &json) < 0 || kilo_mesh_from_json(json, strlen(json), &mesh, NULL) < 0)
		mesh = NULL;
	kilo_free(json);
	return mesh;
}

static int sync_once(struct kilo_agent_lb *lb, struct kilo_agent_policy *p, kilo_store *store, const kilo_mesh *mesh,
		     double *ms)
{
	struct kilo_error err = { 0 };
	double t = now_ms();
	int r = kilo_agent_bpf_sync(lb, p, store, mesh, false, NULL, &err);

	*ms = now_ms() - t;
	if (r < 0)
		fprintf(stderr, "bench-agent-policy: sync: %s\n", err.message);
	return r;
}

/* What every sync reads before it can tell whether anything changed: the agent's listing. */
static double list_ms(kilo_store *store)
{
	static const char *const kinds[] = { "Pod", "Namespace", "NetworkPolicy", "Peer", "Service" };
	struct kilo_store_identity *ids = NULL;
	double t = now_ms();
	size_t n = 0;
	char *text;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (kilo_store_list_objects(store, kinds[k], &text, NULL) == 0)
			kilo_free(text);
	if (kilo_store_identity_list(store, &ids, &n, NULL) == 0)
		kilo_store_identities_free(ids, n);
	return now_ms() - t;
}

static void row(const char *what, unsigned pods, unsigned policies, double ms)
{
	printf("%-44s %7u %8u %10.2f\n", what, pods, policies, ms);
}

int main(int argc, char *argv[])
{
	const char *pin_dir = argc > 2 ? argv[1] : NULL, *dir = argc > 2 ? argv[2] : NULL;
	unsigned pods = argc > 3 ? (unsigned)atoi(argv[3]) : 10000, policies = argc > 4 ? (unsigned)atoi(argv[4]) : 1000;
	unsigned rounds = argc > 5 ? (unsigned)atoi(argv[5]) : 5, services = argc > 6 ? (unsigned)atoi(argv[6]) : 0;
	struct kilo_bpf_opts opts = { .pin_dir = pin_dir };
	struct kilo_agent_policy p = { 0 };
	struct kilo_agent_lb lb = { 0 };
	struct kilo_error err = { 0 };
	char uri[4096];
	double ms, best_change = 1e9, best_back = 1e9, best_same = 1e9, best_list = 1e9, best_new = 1e9;
	kilo_store *store = NULL;
	kilo_mesh *mesh = mesh_of_nodes();
	int r = 1;

	if (!pin_dir || !pods || !rounds || !mesh) {
		fprintf(stderr, "usage: bench-agent-policy PIN_DIR STORE_DIR [PODS [POLICIES [ROUNDS]]] (root, PIN_DIR on a bpffs)\n");
		return 2;
	}
	if (kilo_bpf_open(&opts, &lb.bpf, &err) < 0) {
		fprintf(stderr, "bench-agent-policy: %s\n", err.message);
		return 1;
	}
	snprintf(uri, sizeof(uri), "file:%s", dir);
	if (kilo_store_open(uri, &store, &err) < 0 || kilo_agent_policy_start(&p, &lb, "n1", NULL, &err) < 0) {
		fprintf(stderr, "bench-agent-policy: %s\n", err.message);
		goto out;
	}
	for (unsigned i = 0; i < pods; i++)
		if (put_pod(store, i, i / NAMESPACES % APPS) < 0)
			goto out;
	for (unsigned j = 0; j < policies; j++)
		if (put_policy(store, j) < 0)
			goto out;
	for (unsigned k = 0; k < services; k++)
		if (put_service(store, k) < 0)
			goto out;
	printf("# bench-agent-policy %s %u %u %u %u: kg's bpf sync (kilo_agent_bpf_sync), file store, node n1 of %u, "
	       "%u Services\n",
	       pin_dir, pods, policies, rounds, services, NODES, services);
	printf("%-44s %7s %8s %10s\n", "operation", "pods", "policies", "ms");
	if (sync_once(&lb, &p, store, mesh, &ms) < 0)
		goto out;
	row("first sync (identities allocated, maps filled)", pods, policies, ms);
	for (unsigned k = 0; k < rounds; k++) {
		/* Pod 0 (on n1, policed by its namespace's policies) moves from app0 to app1 and back. */
		if (sync_once(&lb, &p, store, mesh, &ms) < 0)
			goto out;
		best_same = ms < best_same ? ms : best_same;
		ms = list_ms(store);
		best_list = ms < best_list ? ms : best_list;
		if (put_pod(store, 0, 1) < 0 || sync_once(&lb, &p, store, mesh, &ms) < 0)
			goto out;
		best_change = ms < best_change ? ms : best_change;
		if (put_pod(store, 0, 0) < 0 || sync_once(&lb, &p, store, mesh, &ms) < 0)
			goto out;
		best_back = ms < best_back ? ms : best_back;
		if (put_pod(store, 0, 100 + k) < 0 || sync_once(&lb, &p, store, mesh, &ms) < 0)
			goto out;
		best_new = ms < best_new ? ms : best_new;
		if (put_pod(store, 0, 0) < 0 || sync_once(&lb, &p, store, mesh, &ms) < 0)
			goto out;
	}
	row("the store's objects and identities listed", pods, policies, best_list);
	row("nothing changed (listed, inputs equal)", pods, policies, best_same);
	row("one pod's label changed -> maps updated", pods, policies, best_change);
	row("and back", pods, policies, best_back);
	row("one pod's label set new (allocated) -> maps", pods, policies, best_new);
	r = 0;
out:
	kilo_agent_policy_stop(&p);
	kilo_store_close(store);
	if (lb.bpf)
		kilo_bpf_clean_up(lb.bpf, NULL);
	kilo_bpf_close(lb.bpf);
	kilo_mesh_free(mesh);
	return r;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The eBPF side of bench/policy/connrate.sh: libkilo's programs on a pod's
 * veth (the from_pod and to_pod roles, as kg attaches one), enforcing
 * POLICIES NetworkPolicies of namespace bench that select the client pod
 * (app=client, CLIENT-IP, on this node n0) for egress. Policy i allows TCP
 * port 8080 to the pods app=peer-i (one each, 10.200.(i / 250).(i % 250 + 1),
 * on node n1), but policy ALLOW-AT allows the server pod (app=server,
 * SERVER-IP, on n1) instead: the connection's one allowing rule. Objects
 * read and compiled by the policy layer (kilo_np_*) with the store's
 * numbering (256 + the label set's order), synced by the loader as kg does.
 * What it attaches and pins stays.
 *
 *   bench-policy-load PIN-DIR IFNAME POLICIES ALLOW-AT CLIENT-IP SERVER-IP
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/loader.h"
#include "core/strbuf.h"
#include "policy/netpol.h"

#define MAX_POLICIES (250 * 250)

static void pod(struct kilo_strbuf *pods, const char *name, const char *app, const char *node, const char *ip)
{
	kilo_strbuf_printf(pods,
			  "%s{\"metadata\":{\"name\":\"%s\",\"namespace\":\"bench\",\"labels\":{\"app\":\"%s\"}},"
			  "\"spec\":{\"nodeName\":\"%s\"},\"status\":{\"podIP\":\"%s\"}}",
			  pods->len > 1 ? "," : "", name, app, node, ip);
}

/* The pods and the policies, as JSON arrays of the store's objects. */
static int objects(long policies, long allow_at, const char *client, const char *server, struct kilo_strbuf *pods,
		   struct kilo_strbuf *nps)
{
	char name[32], app[32], ip[32];

	kilo_strbuf_append(pods, "[");
	kilo_strbuf_append(nps, "[");
	pod(pods, "client", "client", "n0", client);
	pod(pods, "server", "server", "n1", server);
	for (long i = 0; i < policies; i++) {
		snprintf(name, sizeof(name), "peer-%ld", i);
		snprintf(ip, sizeof(ip), "10.200.%ld.%ld", i / 250, i % 250 + 1);
		pod(pods, name, name, "n1", ip);
		snprintf(app, sizeof(app), "%s", i == allow_at ? "server" : name);
		kilo_strbuf_printf(nps,
				  "%s{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":"
				  "{\"name\":\"np%ld\",\"namespace\":\"bench\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
				  "{\"app\":\"client\"}},\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":[{\"podSelector\":"
				  "{\"matchLabels\":{\"app\":\"%s\"}}}],\"ports\":[{\"protocol\":\"TCP\",\"port\":8080}]}]}}",
				  i ? "," : "", i, app);
	}
	kilo_strbuf_append(pods, "]");
	kilo_strbuf_append(nps, "]");
	return pods->failed || nps->failed ? -ENOMEM : 0;
}

/* The store numbers label sets from KILO_IDENTITY_FIRST_ALLOCATED up; here in the model's (sorted) order. */
static struct kilo_np_identity_number *numbers(const struct kilo_np_model *model)
{
	struct kilo_np_identity_number *ids = calloc(model->n_identities + 1, sizeof(*ids));

	for (size_t i = 0; ids && i < model->n_identities; i++)
		ids[i] = (struct kilo_np_identity_number){ model->identities[i].label_set,
							   KILO_IDENTITY_FIRST_ALLOCATED + (uint32_t)i };
	return ids;
}

static int enforce(const char *pin_dir, int ifindex, const char *pods, const char *nps, struct kilo_error *err)
{
	struct kilo_np_state *state = kilo_np_state_new();
	struct kilo_bpf_policy_sync_report report;
	struct kilo_np_identity_number *ids = NULL;
	struct kilo_np_desired desired = { 0 };
	struct kilo_np_model model = { 0 };
	kilo_bpf *bpf = NULL;
	int r;

	if (!state)
		return -ENOMEM;
	r = kilo_np_model_read(pods, NULL, nps, NULL, NULL, &model, NULL, err);
	if (r == 0 && !(ids = numbers(&model)))
		r = -ENOMEM;
	if (r == 0)
		r = kilo_np_compile(state, &model, "n0", ids, model.n_identities, &desired, NULL, err);
	if (r == 0 && desired.n_endpoints != 1)
		r = -EPROTO; /* the client alone is policed; else the benchmark measures something else */
	if (r == 0)
		r = kilo_bpf_open(&(struct kilo_bpf_opts){ .pin_dir = pin_dir }, &bpf, err);
	if (r == 0)
		r = kilo_bpf_attach(bpf, ifindex, KILO_BPF_POD, err);
	if (r == 0)
		r = kilo_bpf_policy_sync(bpf, &desired, true, &report, err);
	if (r == 0)
		fprintf(stderr, "bench-policy-load: %zu ipcache entries, %zu endpoints, %zu rules\n", desired.n_ipcache,
			desired.n_endpoints, desired.n_rules);
	kilo_bpf_close(bpf);
	kilo_np_desired_release(&desired);
	kilo_np_model_release(&model);
	kilo_np_state_free(state);
	free(ids);
	return r;
}

int main(int argc, char *argv[])
{
	struct kilo_strbuf pods = { 0 }, nps = { 0 };
	struct kilo_error err = { 0 };
	long policies, allow_at;
	int ifindex, r;

	if (argc != 7) {
		fprintf(stderr, "usage: bench-policy-load PIN-DIR IFNAME POLICIES ALLOW-AT CLIENT-IP SERVER-IP\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[2]);
	policies = atol(argv[3]);
	allow_at = atol(argv[4]);
	if (!ifindex || policies < 1 || policies > MAX_POLICIES || allow_at < 0 || allow_at >= policies) {
		fprintf(stderr, "bench-policy-load: an existing IFNAME, POLICIES 1..%d, ALLOW-AT 0..POLICIES-1\n",
			MAX_POLICIES);
		return 2;
	}
	r = objects(policies, allow_at, argv[5], argv[6], &pods, &nps);
	if (r == 0)
		r = enforce(argv[1], ifindex, pods.data, nps.data, &err);
	if (r < 0)
		fprintf(stderr, "bench-policy-load: %s\n", err.message[0] ? err.message : strerror(-r));
	kilo_strbuf_reset(&pods);
	kilo_strbuf_reset(&nps);
	return r < 0;
}

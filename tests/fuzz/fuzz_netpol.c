/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NetworkPolicies and Pods as the policy layer reads them (the model
 * reader, every field of a policy, the checks apply shares), then the
 * compile for one node: never a crash, a failure explained, maps sorted by
 * key, every rule's id named, every region a rule uses bounded by a cidr
 * entry, and the same maps again from the same state, read through its
 * cache and compiled by updating its endpoints. The input is the
 * policies' text, then a NUL and the pods' text (none: two fixed pods).
 */
#include <kilo/mesh.h>

#include "fuzz.h"

#include "policy/netpol.h"

static const char mesh_json[] = "{\"version\":1,\"nodes\":[{\"name\":\"a\",\"location\":\"x\",\"internalIP\":\"10.0.0.1/24\"},"
				"{\"name\":\"b\",\"location\":\"y\",\"internalIP\":\"10.0.1.1/24\"}],"
				"\"peers\":[{\"name\":\"p\",\"publicKey\":\"vyWBFrXwHpLXUT2h0+2M+d2YtLqLQHdL89yafPfCZig=\",\"allowedIPs\":[\"10.5.0.1/32\"]}]}";
static const char pods_json[] =
	"[{\"metadata\":{\"name\":\"w\",\"namespace\":\"default\",\"labels\":{\"app\":\"w\"}},\"spec\":{\"nodeName\":\"a\","
	"\"containers\":[{\"ports\":[{\"name\":\"http\",\"containerPort\":80}]}]},\"status\":{\"podIP\":\"10.2.0.1\"}},"
	"{\"metadata\":{\"name\":\"c\",\"namespace\":\"default\",\"labels\":{\"app\":\"c\"}},\"spec\":{\"nodeName\":\"b\"},"
	"\"status\":{\"podIP\":\"10.2.1.1\"}}]";

#define ASSERT_SORTED(array, n, what)                                                                       \
	for (size_t k = 1; k < (n); k++)                                                                    \
	FUZZ_ASSERT(memcmp(&(array)[k - 1].key, &(array)[k].key, sizeof((array)[k].key)) < 0, what " %zu out of order", k)

static bool named(const struct kilo_np_desired *d, __u32 rule_id)
{
	for (size_t i = 0; i < d->n_rule_names; i++)
		if (d->rule_names[i].rule_id == rule_id)
			return true;
	return false;
}

static bool region_bounded(const struct kilo_np_desired *d, const struct kilo_policy_key *key)
{
	for (size_t i = 0; i < d->n_cidrs; i++)
		if (d->cidrs[i].key.endpoint == key->endpoint && d->cidrs[i].key.direction == key->direction &&
		    (d->cidrs[i].value.region | KILO_POLICY_REGION_FLAG) == key->identity)
			return true;
	return false;
}

static void check(const struct kilo_np_desired *d)
{
	ASSERT_SORTED(d->ipcache, d->n_ipcache, "ipcache");
	ASSERT_SORTED(d->endpoints, d->n_endpoints, "endpoint");
	ASSERT_SORTED(d->rules, d->n_rules, "rule");
	ASSERT_SORTED(d->cidrs, d->n_cidrs, "cidr");
	for (size_t i = 0; i < d->n_rules; i++) {
		FUZZ_ASSERT(d->rules[i].value.rule_id != 0 && named(d, d->rules[i].value.rule_id), "rule %zu: id %u unnamed",
			    i, d->rules[i].value.rule_id);
		FUZZ_ASSERT(!(d->rules[i].key.identity & KILO_POLICY_REGION_FLAG) || region_bounded(d, &d->rules[i].key),
			    "rule %zu: a region no cidr entry has", i);
	}
}

/* memcmp of arrays that may be NULL when empty. */
static bool same(const void *a, const void *b, size_t size)
{
	return size == 0 || memcmp(a, b, size) == 0;
}

/* The store's numbers: 256 on, in label-set order. */
static struct kilo_np_identity_number *numbers(const struct kilo_np_model *model)
{
	struct kilo_np_identity_number *ids = calloc(model->n_identities + 1, sizeof(*ids));

	if (!ids)
		abort();
	for (size_t i = 0; i < model->n_identities; i++)
		ids[i] = (struct kilo_np_identity_number){ model->identities[i].label_set, 256 + (uint32_t)i };
	return ids;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	size_t split = strlen(text);
	static kilo_mesh *mesh;
	struct kilo_np_state *state = kilo_np_state_new();
	const char *pods = split < size ? text + split + 1 : pods_json;
	struct kilo_np_identity_number *ids;
	struct kilo_lb_report report = { 0 };
	struct kilo_np_desired d, again;
	struct kilo_np_model model;
	struct kilo_error err = { 0 };
	int r;

	if ((!mesh && kilo_mesh_from_json(mesh_json, strlen(mesh_json), &mesh, NULL) < 0) || !state)
		abort();
	r = kilo_np_model_update(state, pods, NULL, text, NULL, mesh, &model, &report, &err);
	FUZZ_ASSERT_EXPLAINED(r, err, "kilo_np_model_update");
	if (r == 0) {
		ids = numbers(&model);
		FUZZ_ASSERT(kilo_np_compile(state, &model, "a", ids, model.n_identities, &d, NULL, NULL) == 0, "compile failed");
		check(&d);
		free(ids);
		kilo_np_model_release(&model);
		/* Again through the state: every object from its cache, every endpoint brought up to date. */
		FUZZ_ASSERT(kilo_np_model_update(state, pods, NULL, text, NULL, mesh, &model, NULL, NULL) == 0,
			    "a second read failed");
		ids = numbers(&model);
		FUZZ_ASSERT(kilo_np_compile(state, &model, "a", ids, model.n_identities, &again, NULL, NULL) == 0,
			    "a second compile failed");
		FUZZ_ASSERT(again.n_rules == d.n_rules && again.n_cidrs == d.n_cidrs && again.n_endpoints == d.n_endpoints &&
				    again.n_ipcache == d.n_ipcache &&
				    same(again.rules, d.rules, d.n_rules * sizeof(*d.rules)) &&
				    same(again.cidrs, d.cidrs, d.n_cidrs * sizeof(*d.cidrs)) &&
				    same(again.endpoints, d.endpoints, d.n_endpoints * sizeof(*d.endpoints)),
			    "a second computation from the same state differs");
		/* Nothing changed: compared with the first, no endpoint listed for the sync to compare. */
		FUZZ_ASSERT(again.changes.base == d.changes.serial && again.changes.n_endpoints == 0,
			    "a second computation from the same state lists changes");
		kilo_np_desired_release(&again);
		kilo_np_desired_release(&d);
		free(ids);
	}
	kilo_np_model_release(&model);
	kilo_np_state_free(state);
	free(text);
	return 0;
}

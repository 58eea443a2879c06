// SPDX-License-Identifier: Apache-2.0
/*
 * The policy model and the compile, entry by entry: selectors (every
 * operator), the canonical label sets, one node's maps on the fixture
 * cluster, ids that stay put from one computation to the next, and the
 * endpoints each computation lists as changed since the one before.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "netpol_fixture.h"
#include "policy/netpol.h"
#include "policy/netpol_compile.h"

static struct kilo_np_selector selector(struct kilo_arena *arena, const char *json)
{
	char *text = j(json);
	json_t *value = json_loads(text, 0, NULL);
	struct kilo_np_selector out;
	struct kilo_error err = { 0 };

	if (kilo_np_selector_read(arena, value, "s", &out, &err) < 0)
		fail_msg("%s: %s", json, err.message);
	json_decref(value);
	free(text);
	return out;
}

static void test_selectors_match_with_every_operator(void **state)
{
	static const struct kilo_np_label items[] = { { "app", "web" }, { "tier", "front" } };
	const struct kilo_np_labels labels = { items, 2 }, none = { NULL, 0 };
	static const struct {
		const char *selector;
		bool web_front, no_labels;
	} cases[] = {
		{ "{}", true, true },
		{ "{'matchLabels': {'app': 'web'}}", true, false },
		{ "{'matchLabels': {'app': 'db'}}", false, false },
		{ "{'matchExpressions': [{'key': 'app', 'operator': 'In', 'values': ['db', 'web']}]}", true, false },
		{ "{'matchExpressions': [{'key': 'app', 'operator': 'In', 'values': ['db']}]}", false, false },
		{ "{'matchExpressions': [{'key': 'app', 'operator': 'NotIn', 'values': ['web']}]}", false, true },
		{ "{'matchExpressions': [{'key': 'app', 'operator': 'NotIn', 'values': ['db']}]}", true, true },
		{ "{'matchExpressions': [{'key': 'tier', 'operator': 'Exists'}]}", true, false },
		{ "{'matchExpressions': [{'key': 'zone', 'operator': 'Exists'}]}", false, false },
		{ "{'matchExpressions': [{'key': 'zone', 'operator': 'DoesNotExist'}]}", true, true },
		{ "{'matchExpressions': [{'key': 'tier', 'operator': 'DoesNotExist'}]}", false, true },
		/* Every requirement must hold. */
		{ "{'matchLabels': {'app': 'web'}, 'matchExpressions': [{'key': 'tier', 'operator': 'NotIn', 'values': ['front']}]}",
		  false, false },
	};
	struct kilo_arena arena = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kilo_np_selector s = selector(&arena, cases[i].selector);

		if (kilo_np_selector_matches(&s, &labels) != cases[i].web_front ||
		    kilo_np_selector_matches(&s, &none) != cases[i].no_labels)
			fail_msg("case %zu (%s)", i, cases[i].selector);
	}
	kilo_arena_release(&arena);
}

/* The fixture with policies; with state, through its cache of the objects read before. */
static void read_fixture(struct kilo_np_state *state, const char *policies, struct kilo_np_model *model,
			 kilo_mesh **mesh)
{
	char *pods = j(fixture_pods), *namespaces = j(fixture_namespaces), *peers = j(fixture_peers);
	char *list = malloc(strlen(policies) + 3), *policy_text;
	struct kilo_lb_report report = { 0 };
	struct kilo_error err = { 0 };

	*mesh = fixture_mesh();
	sprintf(list, "[%s]", policies);
	policy_text = j(list);
	if ((state ? kilo_np_model_update(state, pods, namespaces, policy_text, peers, *mesh, model, &report, &err)
		   : kilo_np_model_read(pods, namespaces, policy_text, peers, *mesh, model, &report, &err)) < 0)
		fail_msg("%s", err.message);
	if (report.n_problems)
		fail_msg("left out: %s", report.problems[0]);
	free(pods);
	free(namespaces);
	free(peers);
	free(list);
	free(policy_text);
}

static void test_label_sets_are_canonical_with_namespaces_locations_and_peers(void **state)
{
	static const char *const expected[] = {
		"ns:kilo.squat.ai/location=eu,ns:kubernetes.io/metadata.name=dev,ns:team=b,"
		"pod:app=tool,pod:kilo.squat.ai/location=eu,pod:role=x",
		"ns:kilo.squat.ai/location=eu,ns:kubernetes.io/metadata.name=prod,ns:team=a,"
		"pod:app=client,pod:kilo.squat.ai/location=eu",
		"ns:kilo.squat.ai/location=eu,ns:kubernetes.io/metadata.name=prod,ns:team=a,"
		"pod:app=web,pod:kilo.squat.ai/location=eu",
		"ns:kilo.squat.ai/location=us,ns:kubernetes.io/metadata.name=dev,ns:team=b,"
		"pod:app=client,pod:kilo.squat.ai/location=us",
		"ns:kilo.squat.ai/location=us,ns:kubernetes.io/metadata.name=prod,ns:team=a,"
		"pod:app=db,pod:kilo.squat.ai/location=us",
		"peer:kilo.squat.ai/peer=laptop,peer:team=ops",
	};
	struct kilo_np_model model;
	const struct kilo_np_pod *web;
	kilo_mesh *mesh;

	(void)state;
	read_fixture(NULL, "", &model, &mesh);
	assert_int_equal(model.n_identities, 6);
	for (size_t i = 0; i < model.n_identities; i++)
		assert_string_equal(model.identities[i].label_set, expected[i]);
	web = kilo_np_model_find_pod(&model, "prod", "web");
	assert_non_null(web);
	assert_string_equal(model.identities[web->identity].label_set, expected[2]);
	assert_string_equal(web->location, "eu");
	assert_int_equal(model.n_locations, 2);
	kilo_np_model_release(&model);
	kilo_mesh_free(mesh);
}

/* The store's numbers: as it hands them out, 256 on, each label set its own from the first time it is seen. */
static struct kilo_np_identity_number *numbers(const struct kilo_np_model *model)
{
	static char *seen[64];
	static size_t n_seen;
	struct kilo_np_identity_number *ids = calloc(model->n_identities + 1, sizeof(*ids));

	for (size_t i = 0; i < model->n_identities; i++) {
		size_t k = 0;

		while (k < n_seen && strcmp(seen[k], model->identities[i].label_set) != 0)
			k++;
		if (k == n_seen) {
			assert_true(n_seen < 64);
			seen[n_seen++] = strdup(model->identities[i].label_set);
		}
		ids[i] = (struct kilo_np_identity_number){ model->identities[i].label_set, 256 + (uint32_t)k };
	}
	return ids;
}

static void addr_text(__u8 family, const union kilo_lb_addr *addr, char *out)
{
	inet_ntop(family, addr->bytes, out, INET6_ADDRSTRLEN);
}

/* Every entry of d as a line, in d's order, after checking that each array is sorted by key. */
static char *describe(const struct kilo_np_desired *d)
{
	static const char *const directions[] = { "in", "out" };
	size_t size = 1 << 16, used = 0;
	char *out = calloc(1, size), a[INET6_ADDRSTRLEN];

#define LINE(...) (used += (size_t)snprintf(out + used, size - used, __VA_ARGS__))
#define SORTED(array, n) for (size_t k = 1; k < (n); k++) assert_true(memcmp(&(array)[k - 1].key, &(array)[k].key, sizeof((array)[k].key)) < 0)
	SORTED(d->ipcache, d->n_ipcache);
	SORTED(d->endpoints, d->n_endpoints);
	SORTED(d->rules, d->n_rules);
	SORTED(d->cidrs, d->n_cidrs);
	for (size_t i = 0; i < d->n_ipcache; i++) {
		addr_text(d->ipcache[i].key.family, &d->ipcache[i].key.addr, a);
		LINE("ipcache %s/%u %u loc %u\n", a, d->ipcache[i].key.prefixlen - 32, d->ipcache[i].value.identity,
		     d->ipcache[i].value.location);
	}
	for (size_t i = 0; i < d->n_endpoints; i++) {
		addr_text(d->endpoints[i].key.family, &d->endpoints[i].key.addr, a);
		LINE("endpoint %s id %u identity %u flags %u deny %u %u\n", a, d->endpoints[i].value.id,
		     d->endpoints[i].value.identity, d->endpoints[i].value.flags,
		     d->endpoints[i].value.deny_rule[KILO_POLICY_INGRESS], d->endpoints[i].value.deny_rule[KILO_POLICY_EGRESS]);
	}
	for (size_t i = 0; i < d->n_rules; i++) {
		const struct kilo_policy_key *k = &d->rules[i].key;

		LINE("rule %u %s %s%u proto %u port %u/%u -> %u\n", k->endpoint, directions[k->direction],
		     k->identity & KILO_POLICY_REGION_FLAG ? "region " : "", k->identity & ~KILO_POLICY_REGION_FLAG,
		     k->proto, ntohs(k->port), k->prefixlen > KILO_POLICY_KEY_FIXED_BITS + 8 ? k->prefixlen - 80 : 0,
		     d->rules[i].value.rule_id);
	}
	for (size_t i = 0; i < d->n_cidrs; i++) {
		addr_text(d->cidrs[i].key.family, &d->cidrs[i].key.addr, a);
		LINE("cidr %u %s %s/%u region %u\n", d->cidrs[i].key.endpoint, directions[d->cidrs[i].key.direction], a,
		     d->cidrs[i].key.prefixlen - KILO_POLICY_CIDR_KEY_FIXED_BITS, d->cidrs[i].value.region);
	}
	for (size_t i = 0; i < d->n_rule_names; i++)
		LINE("name %u %s\n", d->rule_names[i].rule_id, d->rule_names[i].name);
#undef LINE
#undef SORTED
	return out;
}

static char *compile(struct kilo_np_state *state, const char *policies, const char *self)
{
	struct kilo_np_desired d;
	struct kilo_np_model model;
	struct kilo_np_identity_number *ids;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh;
	char *text;

	read_fixture(state, policies, &model, &mesh);
	ids = numbers(&model);
	if (kilo_np_compile(state, &model, self, ids, model.n_identities, &d, NULL, &err) < 0)
		fail_msg("%s", err.message);
	text = describe(&d);
	kilo_np_desired_release(&d);
	free(ids);
	kilo_np_model_release(&model);
	kilo_mesh_free(mesh);
	return text;
}

#define NP(ns, name, spec) "{'metadata': {'namespace': '" ns "', 'name': '" name "'}, 'spec': " spec "}"

static void test_compile_fills_every_map_entry_by_entry(void **state)
{
	struct kilo_np_state *np = kilo_np_state_new();
	/* Identities: 256 dev/tool, 257 prod/client, 258 prod/web, 259 dev/client, 260 prod/db, 261 laptop. */
	char *text = compile(np,
			     NP("prod", "web", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': ["
					       "{'from': [{'podSelector': {'matchLabels': {'app': 'client'}}}],"
					       " 'ports': [{'port': 'http'}, {'port': 8000, 'endPort': 8003}]},"
					       "{'from': [{'ipBlock': {'cidr': '10.0.0.0/8', 'except': ['10.2.2.0/24']}},"
					       " {'ipBlock': {'cidr': '10.2.0.0/16'}}], 'ports': [{'protocol': 'UDP'}]}]}"),
			     "n1");

	(void)state;
	assert_string_equal(text,
		/* The nodes' bridges (the first address of each pod CIDR): n1 itself, n2 another node. */
		"ipcache 10.2.1.1/32 1 loc 1\n"
		"ipcache 10.2.1.10/32 258 loc 1\n"
		"ipcache 10.2.1.11/32 257 loc 1\n"
		"ipcache 10.2.1.12/32 256 loc 1\n"
		"ipcache 10.2.2.1/32 3 loc 2\n"
		"ipcache 10.2.2.10/32 260 loc 2\n"
		"ipcache 10.2.2.11/32 259 loc 2\n"
		"ipcache 10.5.0.1/32 261 loc 0\n"
		"ipcache 192.168.0.1/32 1 loc 1\n"
		"ipcache 192.168.1.1/32 3 loc 2\n"
		/*
		 * Only prod/web is isolated (ingress), its default deny counted as rule 3; the node's other
		 * pods are endpoints without rules.
		 */
		"endpoint 10.2.1.10 id 3 identity 258 flags 1 deny 3 0\n"
		"endpoint 10.2.1.11 id 2 identity 257 flags 0 deny 0 0\n"
		"endpoint 10.2.1.12 id 1 identity 256 flags 0 deny 0 0\n"
		/* By key, prefix length first: the regions' UDP (every port), then 8000-8003 as one /14 and http, 8080 at the endpoint. */
		"rule 3 in region 1 proto 17 port 0/0 -> 2\n"
		"rule 3 in region 2 proto 17 port 0/0 -> 2\n"
		"rule 3 in region 3 proto 17 port 0/0 -> 2\n"
		"rule 3 in 257 proto 6 port 8000/14 -> 1\n"
		"rule 3 in 257 proto 6 port 8080/16 -> 1\n"
		/*
		 * Three bounds, three regions: 10/8 (the first ipBlock), 10.2.2/24 (its except, inside the
		 * second ipBlock alone), 10.2/16 (both).
		 */
		"cidr 3 in 10.0.0.0/8 region 1\n"
		"cidr 3 in 10.2.0.0/16 region 3\n"
		"cidr 3 in 10.2.2.0/24 region 2\n"
		"name 1 prod/web ingress[0]\n"
		"name 2 prod/web ingress[1]\n"
		"name 3 default deny ingress (prod/web)\n");
	free(text);
	kilo_np_state_free(np);
}

static void test_egress_named_ports_resolve_at_each_destination_pod(void **state)
{
	struct kilo_np_state *np = kilo_np_state_new();
	char *text = compile(np,
			     NP("prod", "out", "{'podSelector': {'matchLabels': {'app': 'client'}}, 'policyTypes': ['Egress'],"
					       " 'egress': [{'ports': [{'port': 'http'}]}]}"),
			     "n1");

	(void)state;
	/* prod/client (endpoint 2) may reach dev/tool's 9090 and prod/web's 8080, each at its own identity. */
	assert_non_null(strstr(text, "endpoint 10.2.1.11 id 2 identity 257 flags 2 deny 0 2\n"));
	assert_non_null(strstr(text, "rule 2 out 256 proto 6 port 9090/16 -> 1\nrule 2 out 258 proto 6 port 8080/16 -> 1\n"));
	assert_null(strstr(text, "rule 2 out 0 "));
	free(text);
	kilo_np_state_free(np);
}

static void test_peers_annotation_and_empty_peers_key_rules_by_identity(void **state)
{
	struct kilo_np_state *np = kilo_np_state_new();
	char *text = compile(np,
			     "{'metadata': {'namespace': 'prod', 'name': 'vpn', 'annotations': {'kilo.squat.ai/egress-peers':"
			     " '{\\'matchLabels\\': {\\'team\\': \\'ops\\'}}'}}, 'spec': {'podSelector': {'matchLabels': {'app':"
			     " 'db'}}, 'policyTypes': ['Egress'], 'egress': [{'ports': [{'port': 53, 'protocol': 'UDP'}]}]}}",
			     "n2");

	(void)state;
	assert_non_null(strstr(text, "endpoint 10.2.2.10 id 2 identity 260 flags 2 deny 0 3\n"));
	assert_non_null(strstr(text, "rule 2 out 0 proto 17 port 53/16 -> 1\n"));
	assert_non_null(strstr(text, "rule 2 out 261 proto 0 port 0/0 -> 2\n"));
	assert_non_null(strstr(text, "name 1 prod/vpn egress[0]\nname 2 prod/vpn egress-peers\n"
				     "name 3 default deny egress (prod/vpn)\n"));
	assert_non_null(strstr(text, "ipcache 192.168.0.1/32 3 loc 1\nipcache 192.168.1.1/32 1 loc 2\n"));
	free(text);
	kilo_np_state_free(np);
}

/* A drop names the policies that isolate the endpoint: the first three, then how many more. */
static void test_a_default_deny_is_named_after_the_policies_that_isolate(void **state)
{
	struct kilo_np_state *np = kilo_np_state_new();
	char *text = compile(np,
			     NP("prod", "a", "{'podSelector': {'matchLabels': {'app': 'web'}}}") ","
			     NP("prod", "b", "{'podSelector': {}, 'policyTypes': ['Ingress', 'Egress']}") ","
			     NP("prod", "c", "{'podSelector': {'matchLabels': {'app': 'web'}}}") ","
			     NP("prod", "d", "{'podSelector': {'matchLabels': {'app': 'web'}}}"),
			     "n1");

	(void)state;
	assert_non_null(strstr(text, "name 1 default deny ingress (prod/b)\n"
				     "name 2 default deny egress (prod/b)\n"
				     "name 3 default deny ingress (prod/a, prod/b, prod/c and 1 more)\n"));
	/* prod/web and prod/client (isolated on the way in by prod/b only) share the egress deny. */
	assert_non_null(strstr(text, "endpoint 10.2.1.10 id 3 identity 258 flags 3 deny 3 2\n"));
	assert_non_null(strstr(text, "endpoint 10.2.1.11 id 2 identity 257 flags 3 deny 1 2\n"));
	free(text);
	kilo_np_state_free(np);
}

static void test_ids_stay_put_across_computations(void **state)
{
	struct kilo_np_state *np = kilo_np_state_new();
	const char *web = NP("prod", "web", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{}]}");
	const char *all = NP("prod", "all", "{'podSelector': {}, 'ingress': [{'ports': [{'port': 1}]}]}");
	char *first, *second, *third, policies[1024];

	(void)state;
	first = compile(np, web, "n1");
	assert_non_null(strstr(first, "name 1 prod/web ingress[0]\nname 2 default deny ingress (prod/web)\n"));
	assert_non_null(strstr(first, "endpoint 10.2.1.10 id 3 identity 258 flags 1 deny 2 0\n"));
	/*
	 * A policy that sorts first takes the next free id (2 is free only once this computation is
	 * done); prod/web keeps its own, every endpoint too. Each set of isolating policies has its deny.
	 */
	snprintf(policies, sizeof(policies), "%s,%s", all, web);
	second = compile(np, policies, "n1");
	assert_non_null(strstr(second, "name 1 prod/web ingress[0]\nname 3 prod/all ingress[0]\n"
				       "name 4 default deny ingress (prod/all)\n"
				       "name 5 default deny ingress (prod/all, prod/web)\n"));
	assert_non_null(strstr(second, "endpoint 10.2.1.10 id 3 identity 258 flags 1 deny 5 0\n"));
	assert_non_null(strstr(second, "endpoint 10.2.1.11 id 2 identity 257 flags 1 deny 4 0\n"));
	/* prod/web's rule gone: its id is free, and prod/all keeps 3; both endpoints share one deny. */
	third = compile(np, all, "n1");
	assert_non_null(strstr(third, "name 3 prod/all ingress[0]\nname 4 default deny ingress (prod/all)\n"));
	assert_non_null(strstr(third, "endpoint 10.2.1.10 id 3 identity 258 flags 1 deny 4 0\n"));
	assert_null(strstr(third, "name 1 "));
	assert_null(strstr(third, "name 5 "));
	free(first);
	free(second);
	free(third);
	kilo_np_state_free(np);
}

/* The fixture with prod/web's labels (and so its label set) changed, compiled with state. */
static char *compile_changed(struct kilo_np_state *state, const char *policies, const char *self, const char *from,
			     const char *to)
{
	struct kilo_np_desired d;
	struct kilo_np_model model;
	struct kilo_np_identity_number *ids;
	struct kilo_error err = { 0 };
	char *pods = j(fixture_pods), *old = j(from), *new = j(to), *at = strstr(pods, old), *policy_text;
	char *text, *changed = malloc(strlen(pods) + strlen(to) + 1), *list = malloc(strlen(policies) + 3);
	char *namespaces = j(fixture_namespaces);
	kilo_mesh *mesh = fixture_mesh();

	assert_non_null(at);
	sprintf(changed, "%.*s%s%s", (int)(at - pods), pods, new, at + strlen(old));
	sprintf(list, "[%s]", policies);
	policy_text = j(list);
	if (kilo_np_model_update(state, changed, namespaces, policy_text, NULL, mesh, &model, NULL, &err) < 0)
		fail_msg("%s", err.message);
	ids = numbers(&model);
	if (kilo_np_compile(state, &model, self, ids, model.n_identities, &d, NULL, &err) < 0)
		fail_msg("%s", err.message);
	text = describe(&d);
	kilo_np_desired_release(&d);
	free(ids);
	kilo_np_model_release(&model);
	kilo_mesh_free(mesh);
	free(pods);
	free(old);
	free(new);
	free(namespaces);
	free(changed);
	free(list);
	free(policy_text);
	return text;
}

/* The pods of model as text: each pod's name, address and label set, in the model's order. */
static char *pods_of(const struct kilo_np_model *model)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	assert_non_null(f);
	for (size_t i = 0; i < model->n_pods; i++) {
		const struct kilo_np_pod *pod = &model->pods[i];
		char addr[INET6_ADDRSTRLEN] = "";

		if (pod->n_addrs)
			inet_ntop(pod->addrs[0].family == 4 ? AF_INET : AF_INET6, pod->addrs[0].bytes, addr, sizeof(addr));
		fprintf(f, "%s/%s %s %s\n", pod->namespace, pod->name, addr,
			pod->identity < model->n_identities ? model->identities[pod->identity].label_set : "-");
	}
	fclose(f);
	return text;
}

static void test_a_label_change_updates_the_cached_endpoints_as_a_fresh_compile_would(void **state)
{
	static const struct {
		const char *from, *to;
	} changes[] = {
		/* A new label set for prod/client: the rules of prod/web's selector follow it. */
		{ "'labels': {'app': 'client'}}, 'spec': {'nodeName': 'n1'", "'labels': {'app': 'client', 'v': '2'}}, 'spec': {'nodeName': 'n1'" },
		/* prod/client no longer selected by the peer selector. */
		{ "'labels': {'app': 'client'}}, 'spec': {'nodeName': 'n1'", "'labels': {'app': 'other'}}, 'spec': {'nodeName': 'n1'" },
		/* dev/tool's named port moves: egress rules to it follow. */
		{ "'containerPort': 9090", "'containerPort': 9191" },
		/* prod/web itself changes: its own entries are made again. */
		{ "'containerPort': 8080", "'containerPort': 8081" },
	};
	const char *policies =
		NP("prod", "web", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'from': [{'podSelector': {}},"
				  " {'ipBlock': {'cidr': '10.0.0.0/8', 'except': ['10.2.2.0/24']}}], 'ports': [{'port': 'http'}]}]}") ","
		NP("prod", "out", "{'podSelector': {}, 'policyTypes': ['Egress'], 'egress': [{'ports': [{'port': 'http'}]},"
				  " {'to': [{'namespaceSelector': {}, 'podSelector': {'matchLabels': {'app': 'tool'}}}]}]}");

	(void)state;
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		struct kilo_np_state *kept = kilo_np_state_new(), *fresh = kilo_np_state_new();
		char *before = compile(kept, policies, "n1");
		char *updated = compile_changed(kept, policies, "n1", changes[i].from, changes[i].to);
		char *made = compile_changed(fresh, policies, "n1", changes[i].from, changes[i].to);

		if (strcmp(updated, made) != 0)
			fail_msg("change %zu: updated\n%s\nmade afresh\n%s", i, updated, made);
		assert_string_not_equal(before, updated);
		free(before);
		free(updated);
		free(made);
		kilo_np_state_free(kept);
		kilo_np_state_free(fresh);
	}
}


/* text with each of n (from, to) pairs (in j()'s quotes) replaced once (to NULL: from's element cut); a new string. */
static char *replaced(const char *text, const char *const (*pairs)[2], size_t n)
{
	char *out = j(text);

	for (size_t i = 0; i < n && pairs[i][0]; i++) {
		char *from = j(pairs[i][0]), *to = j(pairs[i][1] ? pairs[i][1] : ""), *at = strstr(out, from), *next;
		size_t cut = strlen(from);

		if (!at)
			fail_msg("no %s", from);
		if (!pairs[i][1])
			cut = (size_t)(strstr(at, ",{") + 1 - at);
		next = malloc(strlen(out) + strlen(to) + 1);
		sprintf(next, "%.*s%s%s", (int)(at - out), out, to, at + cut);
		free(out);
		free(from);
		free(to);
		out = next;
	}
	return out;
}

/* The records (n of size bytes, their endpoint after the prefix length) of the endpoints changes does not list. */
static size_t unlisted(const void *records, size_t n, size_t size, const struct kilo_np_desired_changes *changes,
		       unsigned char *out)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *record = (const unsigned char *)records + i * size;
		uint32_t endpoint;
		bool listed = false;

		memcpy(&endpoint, record + sizeof(uint32_t), sizeof(endpoint));
		for (size_t k = 0; k < changes->n_endpoints; k++)
			listed |= changes->endpoints[k] == endpoint;
		if (!listed)
			memcpy(out + kept++ * size, record, size);
	}
	return kept;
}

static void assert_same_unlisted(const void *before, size_t n_before, const void *after, size_t n_after, size_t size,
				 const struct kilo_np_desired_changes *changes)
{
	unsigned char *a = malloc(n_before * size + 1), *b = malloc(n_after * size + 1);
	size_t n_a = unlisted(before, n_before, size, changes, a), n_b = unlisted(after, n_after, size, changes, b);

	assert_int_equal(n_a, n_b);
	assert_memory_equal(a, b, n_a * size);
	free(a);
	free(b);
}

/*
 * after, computed from before's state, says so, and lists every endpoint
 * whose rules or regions differ: the others' are before's, record for
 * record (what the sync does not compare).
 */
static void assert_changes_listed(const struct kilo_np_desired *before, const struct kilo_np_desired *after)
{
	assert_true(before->changes.serial != 0);
	assert_int_equal(after->changes.base, before->changes.serial);
	assert_true(after->changes.serial != before->changes.serial);
	assert_same_unlisted(before->rules, before->n_rules, after->rules, after->n_rules, sizeof(*after->rules),
			     &after->changes);
	assert_same_unlisted(before->cidrs, before->n_cidrs, after->cidrs, after->n_cidrs, sizeof(*after->cidrs),
			     &after->changes);
}

/*
 * The model's pods and the maps compiled from the texts with state, as one
 * text: read again and brought up to date from what state kept, or (full)
 * read afresh and every endpoint made again, with state's ids only. last:
 * the maps state's computation before made (none: zeros), checked against
 * these' changes and replaced by them.
 */
static char *compile_texts(struct kilo_np_state *state, bool full, const char *pods, const char *namespaces,
			   const char *policies, const kilo_mesh *mesh, struct kilo_np_desired *last)
{
	struct kilo_np_desired d;
	struct kilo_np_model model;
	struct kilo_np_identity_number *ids;
	struct kilo_error err = { 0 };
	char *maps, *listed, *text;

	if (full)
		kilo_np_cache_release(state);
	if ((full ? kilo_np_model_read(pods, namespaces, policies, NULL, mesh, &model, NULL, &err)
		  : kilo_np_model_update(state, pods, namespaces, policies, NULL, mesh, &model, NULL, &err)) < 0)
		fail_msg("%s", err.message);
	ids = numbers(&model);
	if (kilo_np_compile(state, &model, "n1", ids, model.n_identities, &d, NULL, &err) < 0)
		fail_msg("%s", err.message);
	maps = describe(&d);
	listed = pods_of(&model);
	text = malloc(strlen(maps) + strlen(listed) + 1);
	sprintf(text, "%s%s", listed, maps);
	if (last && last->changes.serial)
		assert_changes_listed(last, &d);
	else
		assert_int_equal(d.changes.base, 0);
	if (last) {
		kilo_np_desired_release(last);
		*last = d;
	} else {
		kilo_np_desired_release(&d);
	}
	free(ids);
	free(maps);
	free(listed);
	kilo_np_model_release(&model);
	return text;
}

/*
 * The proof that what a state keeps from one computation to the next
 * (lists, the pods' identities, endpoints' entries) changes nothing: a
 * series of changes, each computed from the last one's state and read
 * afresh (with the same ids), gives the same model and maps byte for byte.
 */
static void test_changes_one_after_another_compile_as_they_would_afresh(void **state)
{
	/* Each step's pods and namespaces as the fixture's with these replaced, and n1's location. */
	static const struct {
		const char *pods[2][2], *namespaces[1][2], *location;
	} steps[] = {
		/* prod/web and prod/client swap their labels: the same label sets (sorted as before), other pods'; and back. */
		{ { { "'client'}}, 'spec': {'nodeName': 'n1'", "'web'}}, 'spec': {'nodeName': 'n1'" },
		    { "'web'}}, 'spec': {'nodeName': 'n1', 'containers': [{'name': 'c', 'ports': [{'name': 'http'",
		      "'client'}}, 'spec': {'nodeName': 'n1', 'containers': [{'name': 'c', 'ports': [{'name': 'http'" } },
		  { { NULL } }, "eu" },
		{ { { NULL } }, { { NULL } }, "eu" },
		/* prod/client to prod/web's label set with its ports (the identity's rules stay), and back. */
		{ { { "'client'}}, 'spec': {'nodeName': 'n1', 'containers': [{'name': 'c', 'ports': []",
		      "'web'}}, 'spec': {'nodeName': 'n1', 'containers': [{'name': 'c', 'ports': [{'name': 'http', "
		      "'containerPort': 8080}, {'name': 'dns', 'containerPort': 53, 'protocol': 'UDP'}]" } },
		  { { NULL } }, "eu" },
		{ { { NULL } }, { { NULL } }, "eu" },
		/* prod/client to prod/web's label set, ports its own, and back. */
		{ { { "'client'}}, 'spec': {'nodeName': 'n1'", "'web'}}, 'spec': {'nodeName': 'n1'" } }, { { NULL } }, "eu" },
		{ { { NULL } }, { { NULL } }, "eu" },
		/* To a new label set; and dev/tool's address changes too. */
		{ { { "'client'}}, 'spec': {'nodeName': 'n1'", "'new'}}, 'spec': {'nodeName': 'n1'" },
		    { "10.2.1.12', 'podIPs': [{'ip': '10.2.1.12'", "10.2.1.22', 'podIPs': [{'ip': '10.2.1.22'" } },
		  { { NULL } }, "eu" },
		/* The pods as they were; a namespace's labels change under them, then n1's location. */
		{ { { NULL } }, { { "'team': 'a'", "'team': 'b'" } }, "eu" },
		{ { { NULL } }, { { "'team': 'a'", "'team': 'b'" } }, "asia" },
		{ { { NULL } }, { { NULL } }, "asia" },
		/* prod/db gone, then back. */
		{ { { "{'metadata': {'namespace': 'prod', 'name': 'db'", NULL } }, { { NULL } }, "asia" },
		{ { { NULL } }, { { NULL } }, "eu" },
		/*
		 * n1 in n2's location; prod/client's label set changes, and so prod/web's rules, not dev/tool's;
		 * then dev/tool, an endpoint of n1 with rules, moves to n2, its label set the same: its rules go
		 * (listed, as gone), the others' stay; and back.
		 */
		{ { { NULL } }, { { NULL } }, "us" },
		{ { { "'client'}}, 'spec': {'nodeName': 'n1'", "'other'}}, 'spec': {'nodeName': 'n1'" } }, { { NULL } }, "us" },
		{ { { "'client'}}, 'spec': {'nodeName': 'n1'", "'other'}}, 'spec': {'nodeName': 'n1'" },
		    { "'role': 'x'}}, 'spec': {'nodeName': 'n1'", "'role': 'x'}}, 'spec': {'nodeName': 'n2'" } },
		  { { NULL } }, "us" },
		{ { { NULL } }, { { NULL } }, "us" },
	};
	const char *policies = "[" NP("prod", "web", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'from': ["
					    "{'podSelector': {}}, {'namespaceSelector': {'matchLabels': {'team': 'b'}}}],"
					    " 'ports': [{'port': 'http'}]}]}") ","
			       NP("dev", "out", "{'podSelector': {}, 'policyTypes': ['Egress'], 'egress': [{'to': ["
					   "{'namespaceSelector': {}, 'podSelector': {'matchLabels': {'app': 'new'}}}]},"
					   " {'to': [{'namespaceSelector': {}}], 'ports': [{'port': 'http'}]}]}") "]";
	struct kilo_np_state *kept = kilo_np_state_new(), *full = kilo_np_state_new();
	char *policy_text = j(policies), *last = NULL;
	struct kilo_np_desired maps = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		char *pods = replaced(fixture_pods, steps[i].pods, 2);
		char *namespaces = replaced(fixture_namespaces, steps[i].namespaces, 1);
		/* A mesh of its own each time: what a read keeps may not point into the last one. */
		kilo_mesh *mesh = fixture_mesh_at(steps[i].location);
		char *updated = compile_texts(kept, false, pods, namespaces, policy_text, mesh, &maps);
		char *made = compile_texts(full, true, pods, namespaces, policy_text, mesh, NULL);

		if (strcmp(updated, made) != 0) {
			print_error("updated:\n%s\nmade afresh:\n%s\n", updated, made);
			fail_msg("step %zu: not as made afresh", i);
		}
		if (last && strcmp(last, updated) == 0)
			fail_msg("step %zu changed nothing", i);
		free(last);
		last = updated;
		free(made);
		free(pods);
		free(namespaces);
		kilo_mesh_free(mesh);
	}
	free(last);
	free(policy_text);
	kilo_np_desired_release(&maps);
	kilo_np_state_free(kept);
	kilo_np_state_free(full);
}

static void test_lists_read_again_after_changes_read_as_they_would_afresh(void **state)
{
#define P(name, app) "{'metadata': {'namespace': 'prod', 'name': '" name "', 'labels': {'app': '" app "'}}," \
		     " 'status': {'podIP': '10.2.1." name "'}}"
	/* Each read after the one before, through one state: changes at the start, middle and end, texts longer and shorter. */
	static const char *const lists[] = {
		"[" P("1", "a") ", " P("2", "b") ", " P("3", "c") ", " P("4", "d") ", " P("5", "e") "]",
		"[" P("1", "a") ", " P("2", "b") ", " P("3", "x") ", " P("4", "d") ", " P("5", "e") "]",
		"[" P("1", "a") ", " P("2", "b") ", " P("3", "longer") ", " P("4", "d") ", " P("5", "e") "]",
		"[" P("2", "b") ", " P("3", "longer") ", " P("4", "d") ", " P("5", "e") "]",
		"[" P("2", "b") ", " P("3", "longer") ", " P("4", "d") ", " P("6", "f") "]",
		"[" P("2", "b") ", " P("3", "longer") ", " P("7", "g") ", " P("4", "d") ", " P("6", "f") "]",
		"[" P("2", "b") ",  " P("3", "longer") "," P("7", "g") ", " P("4", "d") ", " P("6", "f") "]",
		"[" P("2", "b") ", " P("2", "b") ", " P("4", "d") "]",
		"[" P("2", "b") ", " P("2", "b") ", " P("4", "d") ", ",
		"[" P("1", "a") ", " P("2", "b") ", " P("3", "c") ", " P("4", "d") ", " P("5", "e") "]",
		"[]",
		"[" P("5", "e") "]",
		"[" P("5", "e") ", " P("5", "e") "]",
		"[" P("1", "a") ", " P("2", "b") ", " P("3", "c") ", " P("4", "d") ", " P("5", "e") "]",
	};
#undef P
	struct kilo_np_state *kept = kilo_np_state_new();
	kilo_mesh *mesh = fixture_mesh();

	(void)state;
	assert_non_null(kept);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct kilo_np_model updated, fresh;
		struct kilo_error err = { 0 };
		char *pods = j(lists[i]), *a, *b;
		int r = kilo_np_model_update(kept, pods, "[]", "[]", "[]", mesh, &updated, NULL, &err);

		assert_int_equal(r, kilo_np_model_read(pods, "[]", "[]", "[]", mesh, &fresh, NULL, NULL));
		/* Only the text cut short is refused, by both. */
		assert_int_equal(r < 0, lists[i][strlen(lists[i]) - 1] != ']');
		if (r == 0) {
			a = pods_of(&updated);
			b = pods_of(&fresh);
			if (strcmp(a, b))
				fail_msg("list %zu: read again\n%s\nread afresh\n%s", i, a, b);
			free(a);
			free(b);
		}
		kilo_np_model_release(&updated);
		kilo_np_model_release(&fresh);
		free(pods);
	}
	kilo_mesh_free(mesh);
	kilo_np_state_free(kept);
}

/* The model of pods read through state as the text of stamp, vouched by its reader to share all but the middle of base. */
static char *pods_vouched(struct kilo_np_state *state, const kilo_mesh *mesh, const char *text, uint64_t stamp,
			  uint64_t base, size_t prefix, size_t suffix)
{
	char *pods = j(text), *out;
	struct kilo_np_texts texts = { .pods = { pods, strlen(pods), stamp, base, prefix, suffix } };
	struct kilo_np_model model;
	struct kilo_error err = { 0 };

	if (kilo_np_model_update_texts(state, &texts, mesh, &model, NULL, &err) < 0)
		fail_msg("%s", err.message);
	out = pods_of(&model);
	kilo_np_model_release(&model);
	free(pods);
	return out;
}

/*
 * What a list's reader vouches for (struct kilo_np_text: the store's
 * layout) is taken without comparing, when the memo read the text it
 * names; a text of another stamp is compared as one with no word.
 */
static void test_what_the_reader_vouches_for_is_not_compared_again(void **state)
{
#define P(name, app) "{'metadata': {'namespace': 'prod', 'name': '" name "', 'labels': {'app': '" app "'}}," \
		     " 'status': {'podIP': '10.2.1." name "'}}"
	static const char *const before = "[" P("1", "a") ", " P("2", "b") ", " P("3", "c") "]";
	static const char *const after = "[" P("1", "a") ", " P("2", "x") ", " P("3", "c") "]";
#undef P
	struct kilo_np_state *kept = kilo_np_state_new();
	kilo_mesh *mesh = fixture_mesh();
	size_t len = strlen(after);
	char *a, *b;

	(void)state;
	assert_non_null(kept);
	free(pods_vouched(kept, mesh, before, 7, 0, 0, 0));
	/* Vouched as the same whole, against the text of stamp 7 the memo read: its pods are taken as they were. */
	a = pods_vouched(kept, mesh, after, 8, 7, len, 0);
	assert_non_null(strstr(a, "app=b"));
	free(a);
	/* The memo read 8 now; a word about 7 is not about what it read: compared, and read right. */
	free(pods_vouched(kept, mesh, before, 9, 0, 0, 0));
	a = pods_vouched(kept, mesh, after, 10, 8, len, 0);
	b = pods_vouched(kept, mesh, after, 11, 0, 0, 0);
	assert_non_null(strstr(a, "app=x"));
	assert_string_equal(a, b);
	free(a);
	free(b);
	/* What the reader does not vouch for is read: the middle pod. */
	free(pods_vouched(kept, mesh, before, 12, 0, 0, 0));
	a = pods_vouched(kept, mesh, after, 13, 12, strlen(after) / 3, strlen(after) / 3);
	assert_non_null(strstr(a, "app=x"));
	free(a);
	kilo_mesh_free(mesh);
	kilo_np_state_free(kept);
}

static void test_peers_as_the_store_lists_mesh_peers_have_their_name_only(void **state)
{
	char *peers = j("[{'name': 'laptop', 'publicKey': 'vyWBFrXwHpLXUT2h0+2M+d2YtLqLQHdL89yafPfCZig=',"
			" 'allowedIPs': ['10.5.0.1/32']}]");
	struct kilo_lb_report report = { 0 };
	struct kilo_np_model model;
	kilo_mesh *mesh = fixture_mesh();

	(void)state;
	assert_int_equal(kilo_np_model_read(NULL, NULL, NULL, peers, mesh, &model, &report, NULL), 0);
	assert_int_equal(report.n_problems, 0);
	assert_int_equal(model.n_identities, 1);
	assert_string_equal(model.identities[0].label_set, "peer:kilo.squat.ai/peer=laptop");
	kilo_np_model_release(&model);
	kilo_mesh_free(mesh);
	free(peers);
}

static void test_unusable_objects_are_left_out_and_reported(void **state)
{
	char *policies = j("[{'metadata': {'name': 'bad', 'namespace': 'prod'}, 'spec': {'podSelector': {'matchExpressions':"
			   " [{'key': 'a', 'operator': 'Near'}]}}}, 7]");
	char *pods = j("[{'metadata': {'name': 'p', 'labels': {'a': 'b,c'}}, 'spec': {}}]");
	struct kilo_lb_report report = { 0 };
	struct kilo_np_model model;
	struct kilo_error err = { 0 };

	struct kilo_np_state *kept = kilo_np_state_new();

	(void)state;
	/* Read afresh, then twice through a state: the second takes the objects as the first read them. */
	for (int i = 0; i < 3; i++) {
		report = (struct kilo_lb_report){ 0 };
		assert_int_equal(i == 0 ? kilo_np_model_read(pods, NULL, policies, NULL, NULL, &model, &report, &err)
					: kilo_np_model_update(kept, pods, NULL, policies, NULL, NULL, &model, &report, &err),
				 0);
		assert_int_equal(model.n_policies, 0);
		assert_int_equal(model.n_pods, 0);
		assert_int_equal(report.n_problems, 3);
		assert_non_null(strstr(report.problems[0], "Pod default/p: metadata.labels"));
		assert_non_null(
			strstr(report.problems[1], "NetworkPolicy prod/bad: spec.podSelector.matchExpressions[0].operator"));
		assert_string_equal(report.problems[2], "policies[1]: not an object");
		kilo_np_model_release(&model);
	}
	kilo_np_state_free(kept);
	assert_int_equal(kilo_np_model_read("{}", NULL, NULL, NULL, NULL, &model, &report, &err), -EINVAL);
	assert_non_null(strstr(err.message, "pods: not a JSON array"));
	kilo_np_model_release(&model);
	free(policies);
	free(pods);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selectors_match_with_every_operator),
		cmocka_unit_test(test_label_sets_are_canonical_with_namespaces_locations_and_peers),
		cmocka_unit_test(test_compile_fills_every_map_entry_by_entry),
		cmocka_unit_test(test_egress_named_ports_resolve_at_each_destination_pod),
		cmocka_unit_test(test_peers_annotation_and_empty_peers_key_rules_by_identity),
		cmocka_unit_test(test_a_default_deny_is_named_after_the_policies_that_isolate),
		cmocka_unit_test(test_ids_stay_put_across_computations),
		cmocka_unit_test(test_a_label_change_updates_the_cached_endpoints_as_a_fresh_compile_would),
		cmocka_unit_test(test_changes_one_after_another_compile_as_they_would_afresh),
		cmocka_unit_test(test_lists_read_again_after_changes_read_as_they_would_afresh),
		cmocka_unit_test(test_what_the_reader_vouches_for_is_not_compared_again),
		cmocka_unit_test(test_peers_as_the_store_lists_mesh_peers_have_their_name_only),
		cmocka_unit_test(test_unusable_objects_are_left_out_and_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

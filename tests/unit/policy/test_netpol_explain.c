// SPDX-License-Identifier: Apache-2.0
/*
 * NetworkPolicy's features, each judged through kilo_policy_explain, which
 * compiles the nodes' maps and looks the flow up in them as the datapath
 * does: podSelector, namespaceSelector, both, ipBlock with except, named
 * ports (ingress and egress), endPort, policyTypes' default, empty peers,
 * several policies' union, the VPN peers' annotation and locations.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <kilo/kilo.h>

#include "netpol_fixture.h"

#define NP(ns, name, spec) "{'metadata': {'namespace': '" ns "', 'name': '" name "'}, 'spec': " spec "}"
#define PEERS_NP(annotation, selector, spec)                                                                     \
	"{'metadata': {'namespace': 'prod', 'name': 'vpn', 'annotations': {'" annotation "': '" selector "'}},"    \
	" 'spec': " spec "}"

static const struct {
	const char *policies; /* the list's items */
	const char *from, *to;
	uint16_t port;
	uint8_t proto;
	const char *expected; /* in the text: "ALLOWED", "DENIED", and what said so */
} cases[] = {
	/* No policy: everything passes. */
	{ "", "prod/client", "prod/web", 80, IPPROTO_TCP, "ALLOWED" },
	{ "", "prod/client", "prod/web", 80, IPPROTO_TCP, "ingress at n1: allowed: no policy selects prod/web for ingress" },
	/* Default deny of ingress names the policy that isolates. */
	{ NP("prod", "deny", "{'podSelector': {}, 'policyTypes': ['Ingress']}"), "prod/client", "prod/web", 8080,
	  IPPROTO_TCP, "DENIED\n  egress at n1: allowed: no policy selects prod/client for egress\n"
		       "  ingress at n1: denied: no rule allows it; prod/web isolated by prod/deny" },
	/* policyTypes' default: Ingress, and Egress because there are egress rules. */
	{ NP("prod", "p", "{'podSelector': {'matchLabels': {'app': 'client'}},"
			  " 'egress': [{'to': [{'podSelector': {'matchLabels': {'app': 'db'}}}]}]}"),
	  "prod/client", "prod/web", 8080, IPPROTO_TCP, "egress at n1: denied: no rule allows it; prod/client isolated by prod/p" },
	{ NP("prod", "p", "{'podSelector': {'matchLabels': {'app': 'client'}},"
			  " 'egress': [{'to': [{'podSelector': {'matchLabels': {'app': 'db'}}}]}]}"),
	  "prod/client", "prod/db", 5432, IPPROTO_TCP, "ALLOWED\n  egress at n1: allowed by prod/p egress[0]" },
	{ NP("prod", "p", "{'podSelector': {}, 'ingress': []}"), "prod/web", "prod/db", 5432, IPPROTO_TCP,
	  "egress at n1: allowed: no policy selects prod/web for egress" },
	/* podSelector: the policy's namespace only. */
	{ NP("prod", "allow", "{'podSelector': {'matchLabels': {'app': 'web'}},"
			      " 'ingress': [{'from': [{'podSelector': {'matchLabels': {'app': 'client'}}}]}]}"),
	  "prod/client", "prod/web", 8080, IPPROTO_TCP, "ALLOWED\n  egress at n1: allowed: no policy selects prod/client"
							 " for egress\n  ingress at n1: allowed by prod/allow ingress[0]" },
	{ NP("prod", "allow", "{'podSelector': {'matchLabels': {'app': 'web'}},"
			      " 'ingress': [{'from': [{'podSelector': {'matchLabels': {'app': 'client'}}}]}]}"),
	  "dev/client", "prod/web", 8080, IPPROTO_TCP, "DENIED" },
	/* namespaceSelector. */
	{ NP("prod", "ns", "{'podSelector': {'matchLabels': {'app': 'web'}},"
			   " 'ingress': [{'from': [{'namespaceSelector': {'matchLabels': {'team': 'b'}}}]}]}"),
	  "dev/client", "prod/web", 8080, IPPROTO_TCP, "allowed by prod/ns ingress[0]" },
	{ NP("prod", "ns", "{'podSelector': {'matchLabels': {'app': 'web'}},"
			   " 'ingress': [{'from': [{'namespaceSelector': {'matchLabels': {'team': 'b'}}}]}]}"),
	  "prod/client", "prod/web", 8080, IPPROTO_TCP, "DENIED" },
	/* Both in one entry: pods of those namespaces only. */
	{ NP("prod", "both", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'from': [{"
			     "'namespaceSelector': {'matchLabels': {'team': 'b'}}, 'podSelector': {'matchLabels': {'app': 'tool'}}}]}]}"),
	  "dev/tool", "prod/web", 8080, IPPROTO_TCP, "allowed by prod/both ingress[0]" },
	{ NP("prod", "both", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'from': [{"
			     "'namespaceSelector': {'matchLabels': {'team': 'b'}}, 'podSelector': {'matchLabels': {'app': 'tool'}}}]}]}"),
	  "dev/client", "prod/web", 8080, IPPROTO_TCP, "DENIED" },
	/* ipBlock with except, pods' addresses included. */
	{ NP("prod", "block", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'from': [{'ipBlock':"
			      " {'cidr': '10.2.0.0/16', 'except': ['10.2.2.0/24']}}]}]}"),
	  "prod/client", "prod/web", 8080, IPPROTO_TCP, "allowed by prod/block ingress[0]" },
	{ NP("prod", "block", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'from': [{'ipBlock':"
			      " {'cidr': '10.2.0.0/16', 'except': ['10.2.2.0/24']}}]}]}"),
	  "dev/client", "prod/web", 8080, IPPROTO_TCP, "DENIED" },
	{ NP("prod", "block", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'from': [{'ipBlock':"
			      " {'cidr': '10.2.0.0/16', 'except': ['10.2.2.0/24']}}]}]}"),
	  "laptop", "prod/web", 8080, IPPROTO_TCP, "DENIED" },
	{ NP("prod", "block", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'from': [{'ipBlock':"
			      " {'cidr': '10.5.0.0/16'}}], 'ports': [{'port': 22}]}]}"),
	  "laptop", "prod/web", 22, IPPROTO_TCP, "egress at (no node): allowed: laptop is a VPN peer; no node enforces its"
						 " egress\n  ingress at n1: allowed by prod/block ingress[0]" },
	/* Named ports: ingress at the endpoint's own container ports. */
	{ NP("prod", "named", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'ports': [{'port': 'http'}]}]}"),
	  "dev/client", "prod/web", 8080, IPPROTO_TCP, "allowed by prod/named ingress[0]" },
	{ NP("prod", "named", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'ports': [{'port': 'http'}]}]}"),
	  "dev/client", "prod/web", 80, IPPROTO_TCP, "DENIED" },
	{ NP("prod", "named", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'ports': [{'port': 'dns'}]}]}"),
	  "dev/client", "prod/web", 53, IPPROTO_TCP, "DENIED" },
	{ NP("prod", "named", "{'podSelector': {'matchLabels': {'app': 'web'}},"
			      " 'ingress': [{'ports': [{'port': 'dns', 'protocol': 'UDP'}]}]}"),
	  "dev/client", "prod/web", 53, IPPROTO_UDP, "allowed by prod/named ingress[0]" },
	/* Named ports: egress at each destination pod's. */
	{ NP("prod", "out", "{'podSelector': {'matchLabels': {'app': 'client'}}, 'policyTypes': ['Egress'],"
			    " 'egress': [{'ports': [{'port': 'http'}]}]}"),
	  "prod/client", "dev/tool", 9090, IPPROTO_TCP, "allowed by prod/out egress[0]" },
	{ NP("prod", "out", "{'podSelector': {'matchLabels': {'app': 'client'}}, 'policyTypes': ['Egress'],"
			    " 'egress': [{'ports': [{'port': 'http'}]}]}"),
	  "prod/client", "prod/web", 8080, IPPROTO_TCP, "allowed by prod/out egress[0]" },
	{ NP("prod", "out", "{'podSelector': {'matchLabels': {'app': 'client'}}, 'policyTypes': ['Egress'],"
			    " 'egress': [{'ports': [{'port': 'http'}]}]}"),
	  "prod/client", "prod/web", 9090, IPPROTO_TCP, "DENIED" },
	{ NP("prod", "out", "{'podSelector': {'matchLabels': {'app': 'client'}}, 'policyTypes': ['Egress'],"
			    " 'egress': [{'to': [{'podSelector': {}}], 'ports': [{'port': 'http'}]}]}"),
	  "prod/client", "dev/tool", 9090, IPPROTO_TCP, "DENIED" },
	/* endPort: the whole range, nothing past it. */
	{ NP("prod", "range", "{'podSelector': {}, 'ingress': [{'ports': [{'port': 8000, 'endPort': 8100}]}]}"),
	  "prod/client", "prod/web", 8000, IPPROTO_TCP, "allowed by prod/range ingress[0]" },
	{ NP("prod", "range", "{'podSelector': {}, 'ingress': [{'ports': [{'port': 8000, 'endPort': 8100}]}]}"),
	  "prod/client", "prod/web", 8100, IPPROTO_TCP, "allowed by prod/range ingress[0]" },
	{ NP("prod", "range", "{'podSelector': {}, 'ingress': [{'ports': [{'port': 8000, 'endPort': 8100}]}]}"),
	  "prod/client", "prod/web", 8101, IPPROTO_TCP, "DENIED" },
	{ NP("prod", "range", "{'podSelector': {}, 'ingress': [{'ports': [{'port': 8000, 'endPort': 8100}]}]}"),
	  "prod/client", "prod/web", 7999, IPPROTO_TCP, "DENIED" },
	{ NP("prod", "range", "{'podSelector': {}, 'ingress': [{'ports': [{'port': 8000, 'endPort': 8100}]}]}"),
	  "prod/client", "prod/web", 8050, IPPROTO_UDP, "DENIED" },
	{ NP("prod", "proto", "{'podSelector': {}, 'ingress': [{'ports': [{'protocol': 'SCTP'}]}]}"),
	  "prod/client", "prod/web", 9999, IPPROTO_SCTP, "allowed by prod/proto ingress[0]" },
	/* Empty from: every source, VPN peers and other namespaces too. */
	{ NP("prod", "open", "{'podSelector': {}, 'ingress': [{}]}"), "laptop", "prod/web", 1234, IPPROTO_UDP,
	  "allowed by prod/open ingress[0]" },
	{ NP("prod", "open", "{'podSelector': {}, 'ingress': [{}]}"), "dev/client", "prod/db", 1, IPPROTO_TCP,
	  "allowed by prod/open ingress[0]" },
	/* Union: each policy allows its own. */
	{ NP("prod", "a", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'from': [{'podSelector': {}}]}]}") ","
	  NP("prod", "b", "{'podSelector': {'matchLabels': {'app': 'web'}},"
			  " 'ingress': [{'from': [{'namespaceSelector': {'matchLabels': {'team': 'b'}}}]}]}"),
	  "dev/tool", "prod/web", 8080, IPPROTO_TCP, "allowed by prod/b ingress[0]" },
	{ NP("prod", "a", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'from': [{'podSelector': {}}]}]}") ","
	  NP("prod", "b", "{'podSelector': {'matchLabels': {'app': 'web'}},"
			  " 'ingress': [{'from': [{'namespaceSelector': {'matchLabels': {'team': 'b'}}}]}]}"),
	  "prod/client", "prod/web", 8080, IPPROTO_TCP, "allowed by prod/a ingress[0]" },
	{ NP("prod", "a", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'ingress': [{'from': [{'podSelector': {}}]}]}") ","
	  NP("prod", "b", "{'podSelector': {'matchLabels': {'app': 'web'}}, 'policyTypes': ['Ingress']}"),
	  "laptop", "prod/web", 8080, IPPROTO_TCP, "isolated by prod/a, prod/b" },
	/* VPN peers: the annotation's rule, every port; it does not isolate by itself. */
	{ PEERS_NP("kilo.squat.ai/ingress-peers", "{\\'matchLabels\\': {\\'team\\': \\'ops\\'}}",
		   "{'podSelector': {'matchLabels': {'app': 'web'}}, 'policyTypes': ['Ingress']}"),
	  "laptop", "prod/web", 22, IPPROTO_TCP, "allowed by prod/vpn ingress-peers" },
	{ PEERS_NP("kilo.squat.ai/ingress-peers", "{\\'matchLabels\\': {\\'kilo.squat.ai/peer\\': \\'phone\\'}}",
		   "{'podSelector': {'matchLabels': {'app': 'web'}}, 'policyTypes': ['Ingress']}"),
	  "laptop", "prod/web", 22, IPPROTO_TCP, "DENIED" },
	{ PEERS_NP("kilo.squat.ai/ingress-peers", "{\\'matchLabels\\': {\\'team\\': \\'ops\\'}}",
		   "{'podSelector': {'matchLabels': {'app': 'web'}}, 'policyTypes': ['Ingress']}"),
	  "prod/client", "prod/web", 8080, IPPROTO_TCP, "DENIED" },
	{ PEERS_NP("kilo.squat.ai/ingress-peers", "{\\'matchLabels\\': {\\'team\\': \\'ops\\'}}",
		   "{'podSelector': {'matchLabels': {'app': 'db'}}}"),
	  "prod/client", "prod/web", 8080, IPPROTO_TCP, "ALLOWED" },
	/* Locations: a label of pods and of their namespaces as seen for them. */
	{ NP("prod", "loc", "{'podSelector': {'matchLabels': {'app': 'db'}}, 'ingress': [{'from': [{'namespaceSelector':"
			    " {'matchLabels': {'kilo.squat.ai/location': 'eu'}}}]}]}"),
	  "dev/tool", "prod/db", 5432, IPPROTO_TCP, "allowed by prod/loc ingress[0]" },
	{ NP("prod", "loc", "{'podSelector': {'matchLabels': {'app': 'db'}}, 'ingress': [{'from': [{'namespaceSelector':"
			    " {'matchLabels': {'kilo.squat.ai/location': 'eu'}}}]}]}"),
	  "dev/client", "prod/db", 5432, IPPROTO_TCP, "DENIED" },
	{ NP("prod", "stay", "{'podSelector': {'matchLabels': {'app': 'client'}}, 'policyTypes': ['Egress'], 'egress': [{'to':"
			     " [{'namespaceSelector': {}, 'podSelector': {'matchLabels': {'kilo.squat.ai/location': 'eu'}}}]}]}"),
	  "prod/client", "prod/db", 5432, IPPROTO_TCP, "DENIED\n  egress at n1: denied: no rule allows it; prod/client"
						       " isolated by prod/stay" },
	{ NP("prod", "stay", "{'podSelector': {'matchLabels': {'app': 'client'}}, 'policyTypes': ['Egress'], 'egress': [{'to':"
			     " [{'namespaceSelector': {}, 'podSelector': {'matchLabels': {'kilo.squat.ai/location': 'eu'}}}]}]}"),
	  "prod/client", "dev/tool", 9090, IPPROTO_TCP, "allowed by prod/stay egress[0]" },
	/* A pod's traffic to itself never leaves it. */
	{ NP("prod", "deny", "{'podSelector': {}, 'policyTypes': ['Ingress', 'Egress']}"), "prod/web", "prod/web", 8080,
	  IPPROTO_TCP, "ALLOWED\n  egress at n1: allowed by the pod itself" },
	/* A policy of another namespace does not apply. */
	{ NP("dev", "deny", "{'podSelector': {}, 'policyTypes': ['Ingress', 'Egress']}"), "prod/client", "prod/web", 8080,
	  IPPROTO_TCP, "ALLOWED" },
	{ NP("dev", "deny", "{'podSelector': {}, 'policyTypes': ['Ingress', 'Egress']}"), "dev/client", "prod/web", 8080,
	  IPPROTO_TCP, "egress at n2: denied: no rule allows it; dev/client isolated by dev/deny" },
};

static char *explain(const char *policies, const char *from, const char *to, uint16_t port, uint8_t proto,
		     enum kilo_policy_format format, struct kilo_error *err)
{
	char *list = malloc(strlen(policies) + 3), *pods = j(fixture_pods), *namespaces = j(fixture_namespaces);
	char *peers = j(fixture_peers), *policy_text, *out = NULL;
	kilo_mesh *mesh = fixture_mesh();
	struct kilo_policy_explain_opts opts = { .sz = sizeof(opts), .pods = pods, .namespaces = namespaces,
						 .peer_objects = peers, .mesh = mesh, .from = from, .to = to,
						 .port = port, .proto = proto, .format = format };

	assert_non_null(mesh);
	sprintf(list, "[%s]", policies);
	policy_text = j(list);
	opts.policies = policy_text;
	kilo_policy_explain(&opts, &out, err);
	free(list);
	free(pods);
	free(namespaces);
	free(peers);
	free(policy_text);
	kilo_mesh_free(mesh);
	return out;
}

static void test_each_feature_is_judged_as_kubernetes_does(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kilo_error err = { 0 };
		char *out = explain(cases[i].policies, cases[i].from, cases[i].to, cases[i].port, cases[i].proto,
				    KILO_POLICY_FORMAT_TEXT, &err);

		if (!out)
			fail_msg("case %zu: %s", i, err.message);
		if (!strstr(out, cases[i].expected))
			fail_msg("case %zu: expected \"%s\" in:\n%s", i, cases[i].expected, out);
		kilo_free(out);
	}
}

static void test_json_names_the_verdict_rule_and_isolating_policies(void **state)
{
	struct kilo_error err = { 0 };
	char *out = explain(NP("prod", "deny", "{'podSelector': {}, 'policyTypes': ['Ingress']}"), "prod/client",
			    "prod/web", 8080, IPPROTO_TCP, KILO_POLICY_FORMAT_JSON, &err);
	json_t *doc;

	(void)state;
	assert_non_null(out);
	doc = json_loads(out, 0, NULL);
	assert_non_null(doc);
	assert_true(json_is_false(json_object_get(doc, "allowed")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "egress"), "verdict")), "allowed");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "ingress"), "verdict")), "denied");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(doc, "ingress"), "isolated_by"), 0)),
			    "prod/deny");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "ingress"), "node")), "n1");
	json_decref(doc);
	kilo_free(out);
}

static void test_unknown_ends_and_bad_options_are_named(void **state)
{
	struct kilo_error err = { 0 };

	(void)state;
	assert_null(explain("", "prod/nobody", "prod/web", 80, IPPROTO_TCP, KILO_POLICY_FORMAT_TEXT, &err));
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.message, "prod/nobody"));
	err = (struct kilo_error){ 0 };
	assert_null(explain("", "phone", "prod/web", 80, IPPROTO_TCP, KILO_POLICY_FORMAT_TEXT, &err));
	assert_non_null(strstr(err.message, "phone"));
	err = (struct kilo_error){ 0 };
	assert_null(explain("", "prod/web", "laptop", 80, IPPROTO_TCP, KILO_POLICY_FORMAT_TEXT, &err));
	assert_non_null(strstr(err.message, "laptop"));
	err = (struct kilo_error){ 0 };
	assert_null(explain("", "prod/client", "prod/web", 0, IPPROTO_TCP, KILO_POLICY_FORMAT_TEXT, &err));
	assert_int_equal(err.code, EINVAL);
	assert_non_null(strstr(err.message, "port 0"));
	err = (struct kilo_error){ 0 };
	assert_null(explain("", "prod/client", "prod/web", 80, 1, KILO_POLICY_FORMAT_TEXT, &err));
	assert_non_null(strstr(err.message, "protocol 1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_feature_is_judged_as_kubernetes_does),
		cmocka_unit_test(test_json_names_the_verdict_rule_and_isolating_policies),
		cmocka_unit_test(test_unknown_ends_and_bad_options_are_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

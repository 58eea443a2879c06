/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifests as users write them: YAML typed as Kubernetes types it, several
 * documents and Lists, and every kind's checks with the message a user
 * reads (kind, namespace/name, field, value).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <kilo/manifest.h>

#include "serial/manifest_check.h"

static kilo_manifest *read_ok(const char *text)
{
	struct kilo_error err = { 0 };
	kilo_manifest *m = NULL;

	if (kilo_manifest_read(text, strlen(text), &m, &err) < 0)
		fail_msg("%s", err.message);
	return m;
}

static void read_fails(const char *text, const char *message)
{
	struct kilo_error err = { 0 };
	kilo_manifest *m = NULL;

	assert_int_equal(kilo_manifest_read(text, strlen(text), &m, &err), -EINVAL);
	assert_null(m);
	if (!strstr(err.message, message))
		fail_msg("expected \"%s\" in \"%s\"", message, err.message);
}

static json_t *object_of(const kilo_manifest *m, size_t i)
{
	json_t *object = json_loads(kilo_manifest_object(m, i)->json, 0, NULL);

	assert_non_null(object);
	return object;
}

static void test_yaml_scalars_are_typed_as_kubernetes_types_them(void **state)
{
	kilo_manifest *m = read_ok("kind: Service\n"
				   "a: 80\nb: \"80\"\nc: true\nd: yes\ne: ~\nf: null\ng: 1.5\nh: 0x1F\ni: 010\nj: web\n"
				   "k: 'true'\nl: |\n  text\nm:\nn: 2026-12-04\no: 1_000\np: 99999999999999999999\n");
	json_t *o = object_of(m, 0);

	(void)state;
	assert_int_equal(json_integer_value(json_object_get(o, "a")), 80);
	assert_string_equal(json_string_value(json_object_get(o, "b")), "80");
	assert_true(json_is_true(json_object_get(o, "c")));
	assert_true(json_is_true(json_object_get(o, "d")));
	assert_true(json_is_null(json_object_get(o, "e")));
	assert_true(json_is_null(json_object_get(o, "f")));
	assert_true(json_is_real(json_object_get(o, "g")));
	assert_int_equal(json_integer_value(json_object_get(o, "h")), 31);
	assert_int_equal(json_integer_value(json_object_get(o, "i")), 8);
	assert_string_equal(json_string_value(json_object_get(o, "j")), "web");
	assert_string_equal(json_string_value(json_object_get(o, "k")), "true");
	assert_string_equal(json_string_value(json_object_get(o, "l")), "text\n");
	assert_true(json_is_null(json_object_get(o, "m")));
	assert_string_equal(json_string_value(json_object_get(o, "n")), "2026-12-04");
	assert_int_equal(json_integer_value(json_object_get(o, "o")), 1000);
	/* go-yaml reads an integer too large for 64 bits as a float. */
	assert_true(json_is_real(json_object_get(o, "p")));
	json_decref(o);
	kilo_manifest_free(m);
}

static void test_documents_and_lists_become_objects_of_their_own(void **state)
{
	kilo_manifest *m = read_ok("# a comment\n"
				   "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
				   "---\n"
				   "---\n"
				   "apiVersion: v1\nkind: List\nitems:\n"
				   "- {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: prod}}\n"
				   "- {apiVersion: v1, kind: Namespace, metadata: {name: prod, namespace: x}}\n");
	const struct kilo_manifest_object *o;

	(void)state;
	assert_int_equal(kilo_manifest_count(m), 3);
	o = kilo_manifest_object(m, 0);
	assert_string_equal(o->kind, "Service");
	assert_string_equal(o->ns, "default");
	assert_string_equal(o->name, "a");
	assert_string_equal(o->resource, "service");
	assert_int_equal(o->document, 1);
	assert_int_equal(o->item, 0);
	o = kilo_manifest_object(m, 1);
	assert_string_equal(o->ns, "prod");
	assert_int_equal(o->document, 3);
	assert_int_equal(o->line, 6);
	assert_int_equal(o->item, 1);
	/* A Namespace is in no namespace. */
	assert_string_equal(kilo_manifest_object(m, 2)->ns, "");
	assert_null(kilo_manifest_object(m, 3));
	kilo_manifest_free(m);
}

/* Objects read early keep their strings while the manifest grows to hold later ones. */
static void test_many_documents_keep_every_object_whole(void **state)
{
	const char doc[] = "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\n";
	size_t n = 500;
	char *text = malloc(n * strlen(doc) + 1);
	kilo_manifest *m;

	(void)state;
	assert_non_null(text);
	text[0] = '\0';
	for (size_t i = 0; i < n; i++)
		strcat(text, doc);
	m = read_ok(text);
	assert_int_equal(kilo_manifest_count(m), n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(kilo_manifest_object(m, i)->resource, "endpointslice.discovery.k8s.io");
		assert_string_equal(kilo_manifest_object(m, i)->name, "s");
		assert_int_equal(kilo_manifest_object(m, i)->document, i + 1);
	}
	kilo_manifest_free(m);
	free(text);
}

static void test_json_and_kubectl_lists_are_read(void **state)
{
	kilo_manifest *m = read_ok("{\"apiVersion\": \"v1\", \"kind\": \"NodeList\", \"items\": ["
				   "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"n1\"}}]}");

	(void)state;
	assert_int_equal(kilo_manifest_count(m), 1);
	assert_string_equal(kilo_manifest_object(m, 0)->kind, "Node");
	assert_string_equal(kilo_manifest_object(m, 0)->resource, "node");
	kilo_manifest_free(m);
	m = read_ok("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\n");
	assert_string_equal(kilo_manifest_object(m, 0)->resource, "endpointslice.discovery.k8s.io");
	kilo_manifest_free(m);
}

static void test_bad_manifests_name_document_line_and_field(void **state)
{
	char deep[1024] = "";

	(void)state;
	read_fails("a: 1\n---\nb: [1, &x 2]\n", "document 2, line 3: b[1]: an anchor (&x) is not supported");
	read_fails("a: &x 1\nb: *x\n", "document 1, line 1: a: an anchor (&x) is not supported");
	read_fails("a:\n  b: 1\n  b: 2\n", "document 1, line 3: a: key \"b\" appears twice");
	read_fails("a: 1\n  b: 2\n", "document 1, line 2: mapping values are not allowed");
	read_fails("<<: {a: 1}\n", "merge keys (<<) are not supported");
	read_fails("- 1\n- 2\n", "document 1, line 1: not an object");
	read_fails("a: 0xFFFFFFFFFFFFFFFFF\n", "a: 0xFFFFFFFFFFFFFFFFF: out of range of a 64-bit integer");
	read_fails("a: .inf\n", "not a finite number");
	read_fails("{\"a\": 1, \"a\": 2}", "document 1, line 1");
	read_fails("kind: List\nitems: [1]\n", "items[0]: not an object");
	strcat(deep, "{\"a\": ");
	for (int i = 0; i < 70; i++)
		strcat(deep, "[");
	for (int i = 0; i < 70; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	read_fails(deep, "nested deeper than 64 levels");
	/* The same as YAML: "a": [[[...]]] */
	deep[strlen(deep) - 1] = '\0';
	read_fails(deep + 1, "document 1, line 1: a");
}

static void test_kinds_by_kubectl_names(void **state)
{
	(void)state;
	assert_string_equal(kilo_object_kind("svc"), "Service");
	assert_string_equal(kilo_object_kind("services"), "Service");
	assert_string_equal(kilo_object_kind("endpointslices"), "EndpointSlice");
	assert_string_equal(kilo_object_kind("po"), "Pod");
	assert_string_equal(kilo_object_kind("ns"), "Namespace");
	assert_string_equal(kilo_object_kind("netpol"), "NetworkPolicy");
	assert_string_equal(kilo_object_kind("nodes"), "Node");
	assert_string_equal(kilo_object_kind("peers"), "Peer");
	assert_null(kilo_object_kind("deployments"));
	assert_null(kilo_object_kind(NULL));
}

/* The canonical object of YAML text, or the error it gets (*message). */
static json_t *canonical(const char *yaml, char message[KILO_ERROR_MESSAGE_MAX])
{
	const struct kilo_object_kind *kind;
	struct kilo_error err = { 0 };
	kilo_manifest *m = read_ok(yaml);
	json_t *object = object_of(m, 0), *out = NULL;

	message[0] = '\0';
	if (kilo_object_canonical(object, &kind, &out, &err) < 0)
		snprintf(message, KILO_ERROR_MESSAGE_MAX, "%s", err.message);
	json_decref(object);
	kilo_manifest_free(m);
	return out;
}

#define SERVICE "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
#define SLICE "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-a, labels: {kubernetes.io/service-name: web}}\n"
#define POD "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: prod}\n"
#define POLICY "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\n"

static const struct {
	const char *yaml;
	const char *error; /* NULL: accepted */
} checks[] = {
	{ SERVICE "spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}", NULL },
	{ SERVICE "spec: {clusterIP: None}", NULL },
	{ SERVICE "spec: {type: NodePort, ports: [{port: 80, nodePort: 30080}], externalTrafficPolicy: Local}", NULL },
	{ SERVICE "spec: {type: LoadBalancer, ports: [{port: 80}]}", NULL },
	{ SERVICE "spec: {type: ExternalName, externalName: example.com}", NULL },
	{ SERVICE "spec: {ports: [{name: a, port: 80}, {name: b, port: 70000}]}",
	  "Service default/web: spec.ports[1].port: 70000 is not a port (1-65535)" },
	{ SERVICE "spec: {ports: [{port: \"80\"}]}", "Service default/web: spec.ports[0].port: \"80\" is not an integer" },
	{ SERVICE "spec: {ports: [{port: 80, protocol: SCTP}]}",
	  "Service default/web: spec.ports[0].protocol: \"SCTP\" is not supported (TCP or UDP)" },
	{ SERVICE "spec: {ports: [{port: 80, protocol: ICMP}]}",
	  "Service default/web: spec.ports[0].protocol: \"ICMP\" is not TCP or UDP" },
	{ SERVICE "spec: {ports: [{port: 80, targetPort: Web_Port}]}",
	  "spec.ports[0].targetPort: \"Web_Port\" is not a port (1-65535) or a port name" },
	{ SERVICE "spec: {ports: [{port: 80, targetPort: 0}]}", "spec.ports[0].targetPort: 0 is not a port" },
	{ SERVICE "spec: {ports: [{port: 80, nodePort: 30080}]}",
	  "spec.ports[0].nodePort: only with spec.type NodePort or LoadBalancer" },
	{ SERVICE "spec: {type: NodePort, ports: [{port: 80, nodePort: 0}]}", "spec.ports[0].nodePort: 0 is not a port" },
	{ SERVICE "spec: {ports: [{port: 80}, {port: 81}]}", "spec.ports[0].name: required" },
	{ SERVICE "spec: {ports: [{name: a, port: 80}, {name: a, port: 81}]}", "spec.ports[1]: name \"a\" repeats spec.ports[0]" },
	{ SERVICE "spec: {ports: [{name: a, port: 80}, {name: b, port: 80}]}", "spec.ports[1]: port 80/TCP repeats spec.ports[0]" },
	{ SERVICE "spec: {ports: []}", "spec.ports: required (at least one port) unless the service is headless" },
	{ SERVICE "spec: {type: Cluster, ports: [{port: 80}]}",
	  "spec.type: \"Cluster\" is not ClusterIP, NodePort, LoadBalancer or ExternalName" },
	{ SERVICE "spec: {clusterIP: 10.96.0.300, ports: [{port: 80}]}",
	  "Service default/web: spec.clusterIPs[0]: \"10.96.0.300\" is not an IP address" },
	{ SERVICE "spec: {clusterIP: 10.96.0.1, clusterIPs: [10.96.0.2], ports: [{port: 80}]}",
	  "spec.clusterIPs[0]: must equal spec.clusterIP (\"10.96.0.1\")" },
	{ SERVICE "spec: {clusterIPs: [10.96.0.1, 10.96.0.2], ports: [{port: 80}]}",
	  "spec.clusterIPs[1]: a second address of the same family as the first" },
	{ SERVICE "spec: {clusterIPs: [10.96.0.1, \"fd96::1\"], ipFamilies: [IPv6, IPv4], ports: [{port: 80}]}",
	  "spec.ipFamilies[0]: \"IPv6\" does not match spec.clusterIPs[0], an IPv4 address" },
	{ SERVICE "spec: {ipFamilies: [IPv5], ports: [{port: 80}]}", "spec.ipFamilies[0]: \"IPv5\" is not IPv4 or IPv6" },
	{ SERVICE "spec: {sessionAffinity: Sticky, ports: [{port: 80}]}",
	  "spec.sessionAffinity: \"Sticky\" is not None or ClientIP" },
	{ SERVICE "spec: {sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 86401}}, ports: [{port: 80}]}",
	  "spec.sessionAffinityConfig.clientIP.timeoutSeconds: 86401 is not a timeout (1-86400 seconds)" },
	{ SERVICE "spec: {sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}, ports: [{port: 80}]}",
	  "spec.sessionAffinityConfig: only with spec.sessionAffinity ClientIP" },
	{ SERVICE "spec: {internalTrafficPolicy: Node, ports: [{port: 80}]}",
	  "spec.internalTrafficPolicy: \"Node\" is not Cluster or Local" },
	{ SERVICE "spec: {externalTrafficPolicy: Local, ports: [{port: 80}]}",
	  "spec.externalTrafficPolicy: only with spec.type NodePort or LoadBalancer" },
	{ "apiVersion: v1\nkind: Service\nmetadata: {name: web, annotations: {kilo.squat.ai/topology: zone}}\nspec: {ports: [{port: 80}]}",
	  "metadata.annotations[\"kilo.squat.ai/topology\"]: \"zone\" is not location" },
	{ "apiVersion: v1\nkind: Service\nmetadata: {name: 9web}\nspec: {ports: [{port: 80}]}",
	  "Service default/9web: metadata.name: \"9web\" is not a DNS label that starts with a letter" },
	{ "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: Prod}\nspec: {ports: [{port: 80}]}",
	  "Service Prod/web: metadata.namespace: \"Prod\" is not a DNS label" },
	{ "apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {app: \"-x\"}}\nspec: {ports: [{port: 80}]}",
	  "metadata.labels: \"app\": \"-x\" is not a valid label value" },
	{ "apiVersion: v2\nkind: Service\nmetadata: {name: web}\n", "Service default/web: apiVersion: \"v2\" is not v1" },
	{ "apiVersion: v1\nkind: Service\nmetadata: {}\n", "metadata.name: required" },
	{ "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: y}\nspec: {containers: []}\n",
	  "metadata.namespace: true is not a string" },
	{ "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n", "Deployment d: kind: \"Deployment\" is not one libkilo stores" },
	{ "apiVersion: v1\nkind: svc\nmetadata: {name: d}\n", "kind: \"svc\" is not one libkilo stores" },

	{ SLICE "addressType: IPv4\nendpoints: [{addresses: [10.2.1.10], nodeName: n1, conditions: {ready: true, serving: true, terminating: false}}]\nports: [{name: http, port: 8080}]", NULL },
	{ SLICE "addressType: IPv6\nendpoints: [{addresses: [\"fd02:1::10\"], conditions: {ready: null}}]", NULL },
	{ "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\n",
	  "EndpointSlice default/s: metadata.labels: \"kubernetes.io/service-name\" is required" },
	{ SLICE "addressType: FQDN\n", "addressType: \"FQDN\" is not supported (IPv4 or IPv6)" },
	{ SLICE "endpoints: []\n", "addressType: required (IPv4 or IPv6)" },
	{ SLICE "addressType: null\n", "addressType: required (IPv4 or IPv6)" },
	{ SLICE "addressType: IPv4\nendpoints: [{addresses: [\"fd02:1::10\"]}]",
	  "EndpointSlice default/web-a: endpoints[0].addresses[0]: fd02:1::10 is not an IPv4 address (the slice's addressType)" },
	{ SLICE "addressType: IPv4\nendpoints: [{addresses: []}]", "endpoints[0].addresses: 0 addresses; 1 to 100" },
	{ SLICE "addressType: IPv4\nendpoints: [{addresses: [10.2.1.10], conditions: {ready: \"yes\"}}]",
	  "endpoints[0].conditions.ready: \"yes\" is not a boolean" },
	{ SLICE "addressType: IPv4\nendpoints: [{addresses: [10.2.1.10], nodeName: N_1}]",
	  "endpoints[0].nodeName: \"N_1\" is not a node name" },
	{ SLICE "addressType: IPv4\nports: [{name: http, port: 8080}, {name: http, port: 8081}]",
	  "ports[1].name: \"http\" repeats ports[0]" },
	{ SLICE "addressType: IPv4\nports: [{port: 8080, protocol: SCTP}]", "ports[0].protocol: \"SCTP\" is not supported" },

	{ POD "spec: {nodeName: n1, containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]}\nstatus: {podIP: 10.2.1.10, podIPs: [{ip: 10.2.1.10}], phase: Running}", NULL },
	{ POD "spec: {containers: [{name: web, ports: [{containerPort: 0}]}]}",
	  "Pod prod/p: spec.containers[0].ports[0].containerPort: 0 is not a port (1-65535)" },
	{ POD "spec: {containers: [{name: web, ports: [{name: HTTP, containerPort: 80}]}]}",
	  "spec.containers[0].ports[0].name: \"HTTP\" is not a port name" },
	{ POD "spec: {containers: [{name: web}]}\nstatus: {podIP: 10.2.1}", "status.podIP: \"10.2.1\" is not an IP address" },
	{ POD "spec: {nodeName: n1}", "spec.containers: required" },

	{ "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {team: a}}\n", NULL },
	{ "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod.eu}\n", "Namespace prod.eu: metadata.name: \"prod.eu\" is not a DNS label" },

	{ POLICY "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}", NULL },
	{ POLICY "spec: {policyTypes: [Ingress]}", "NetworkPolicy default/deny: spec.podSelector: required" },
	{ POLICY "spec: {podSelector: {}, policyTypes: [Inbound]}", "spec.policyTypes[0]: \"Inbound\" is not Ingress or Egress" },
	{ POLICY "spec: {podSelector: {matchExpressions: [{key: app, operator: In, values: [a]}, {key: tier, operator: NotIn, values: [b]},"
		 " {key: x, operator: Exists}, {key: zone, operator: DoesNotExist}]},"
		 " ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}, {namespaceSelector: {}, podSelector: {}}],"
		 " ports: [{port: 8000, endPort: 8100}, {port: http, protocol: SCTP}, {protocol: UDP}]}]}", NULL },
	{ POLICY "spec: {podSelector: {matchExpressions: [{key: app, operator: Equals, values: [a]}]}}",
	  "NetworkPolicy default/deny: spec.podSelector.matchExpressions[0].operator: \"Equals\" is not In, NotIn, Exists or DoesNotExist" },
	{ POLICY "spec: {podSelector: {matchExpressions: [{key: app, operator: NotIn, values: []}]}}",
	  "spec.podSelector.matchExpressions[0].values: required (at least one value) with operator NotIn" },
	{ POLICY "spec: {podSelector: {matchExpressions: [{key: app, operator: Exists, values: [a]}]}}",
	  "spec.podSelector.matchExpressions[0].values: must be empty with operator Exists" },
	{ POLICY "spec: {podSelector: {matchLabels: {\"a b\": c}}}",
	  "spec.podSelector.matchLabels[\"a b\"]: \"a b\" is not a label key" },
	{ POLICY "spec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: \"-a\"}}}]}]}",
	  "spec.ingress[0].from[0].namespaceSelector.matchLabels[\"team\"]: \"-a\" is not a label value" },
	{ POLICY "spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}",
	  "NetworkPolicy default/deny: spec.ingress[0].from[0].ipBlock.cidr: \"10.0.0.0/33\" is not a CIDR" },
	{ POLICY "spec: {podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]}]}",
	  "spec.egress[0].to[0].ipBlock.except[0]: \"10.1.0.0/24\" is not a CIDR strictly inside cidr" },
	{ POLICY "spec: {podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}}]}]}",
	  "spec.egress[0].to[0].ipBlock.except[0]: \"10.0.0.0/16\" is not a CIDR strictly inside cidr" },
	{ POLICY "spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}",
	  "spec.ingress[0].from[0]: ipBlock must be alone in its entry (not with podSelector)" },
	{ POLICY "spec: {podSelector: {}, ingress: [{from: [{}]}]}",
	  "spec.ingress[0].from[0]: podSelector, namespaceSelector or ipBlock required" },
	{ POLICY "spec: {podSelector: {}, ingress: [{ports: [{port: 0}]}]}",
	  "NetworkPolicy default/deny: spec.ingress[0].ports[0].port: 0 is not a port (1-65535) or a port name" },
	{ POLICY "spec: {podSelector: {}, ingress: [{ports: [{port: Web_Port}]}]}",
	  "spec.ingress[0].ports[0].port: \"Web_Port\" is not a port (1-65535) or a port name" },
	{ POLICY "spec: {podSelector: {}, ingress: [{ports: [{port: 80, protocol: ICMP}]}]}",
	  "spec.ingress[0].ports[0].protocol: \"ICMP\" is not TCP, UDP or SCTP" },
	{ POLICY "spec: {podSelector: {}, egress: [{ports: [{port: 8080, endPort: 80}]}]}",
	  "NetworkPolicy default/deny: spec.egress[0].ports[0].endPort: 80 is not a port from port (8080) to 65535" },
	{ POLICY "spec: {podSelector: {}, egress: [{ports: [{port: 8080, endPort: 65536}]}]}",
	  "spec.egress[0].ports[0].endPort: 65536 is not a port from port (8080) to 65535" },
	{ POLICY "spec: {podSelector: {}, egress: [{ports: [{port: http, endPort: 90}]}]}",
	  "spec.egress[0].ports[0].endPort: only with a numeric port" },
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: vpn, annotations: "
	  "{kilo.squat.ai/ingress-peers: '{\"matchExpressions\": [{\"key\": \"team\", \"operator\": \"Is\"}]}'}}\n"
	  "spec: {podSelector: {}}",
	  "metadata.annotations[\"kilo.squat.ai/ingress-peers\"].matchExpressions[0].operator: \"Is\" is not In" },
	{ "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: vpn, annotations: "
	  "{kilo.squat.ai/egress-peers: 'team=ops'}}\nspec: {podSelector: {}}",
	  "metadata.annotations[\"kilo.squat.ai/egress-peers\"]: \"team=ops\" is not a label selector as JSON" },

	{ "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n", NULL },
	{ "apiVersion: kilo.squat.ai/v1\nkind: Peer\nmetadata: {name: laptop}\n",
	  "Peer laptop: apiVersion: \"kilo.squat.ai/v1\" is not kilo.squat.ai/v1alpha1" },
};

static void test_every_kind_is_checked_with_a_message_naming_field_and_value(void **state)
{
	char message[KILO_ERROR_MESSAGE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		json_t *out = canonical(checks[i].yaml, message);

		if (!checks[i].error && !out)
			fail_msg("case %zu refused: %s", i, message);
		if (checks[i].error && (out || !strstr(message, checks[i].error)))
			fail_msg("case %zu: expected \"%s\", got \"%s\"", i, checks[i].error, out ? "(accepted)" : message);
		json_decref(out);
	}
}

static void test_service_defaults_are_filled_in_as_kubernetes_does(void **state)
{
	char message[KILO_ERROR_MESSAGE_MAX];
	json_t *out = canonical("apiVersion: v1\nkind: Service\n"
				"metadata: {name: web, uid: u-1, resourceVersion: \"7\", managedFields: [{}],"
				" annotations: {kubectl.kubernetes.io/last-applied-configuration: \"{}\"}}\n"
				"spec: {clusterIPs: [10.96.0.1, \"fd96::1\"], sessionAffinity: ClientIP, ports: [{port: 80}]}\n"
				"status: {loadBalancer: {}}\n",
				message);
	json_t *spec = json_object_get(out, "spec"), *port = json_array_get(json_object_get(spec, "ports"), 0);
	char *text;

	(void)state;
	assert_non_null(out);
	assert_string_equal(json_string_value(json_object_get(spec, "type")), "ClusterIP");
	assert_string_equal(json_string_value(json_object_get(spec, "clusterIP")), "10.96.0.1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "ipFamilies"), 1)), "IPv6");
	assert_string_equal(json_string_value(json_object_get(port, "protocol")), "TCP");
	assert_int_equal(json_integer_value(json_object_get(port, "targetPort")), 80);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(spec, "sessionAffinityConfig"),
									  "clientIP"),
							  "timeoutSeconds")),
			 10800);
	assert_string_equal(json_string_value(json_object_get(spec, "internalTrafficPolicy")), "Cluster");
	assert_null(json_object_get(spec, "externalTrafficPolicy"));
	/* What the store keeps of metadata, and no status. */
	text = json_dumps(json_object_get(out, "metadata"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u-1\"}");
	free(text);
	assert_null(json_object_get(out, "status"));
	json_decref(out);
}

static void test_endpointslice_and_pod_keep_their_own_fields(void **state)
{
	char message[KILO_ERROR_MESSAGE_MAX];
	json_t *slice = canonical(SLICE "addressType: IPv4\nports: [{port: 8080}]\nstatus: {}\n", message);
	json_t *pod = canonical(POD "spec: {containers: [{name: a}]}\nstatus: {phase: Running, podIP: 10.2.1.10}\n", message);
	char *text;

	(void)state;
	assert_non_null(slice);
	assert_null(json_object_get(slice, "spec"));
	assert_null(json_object_get(slice, "status"));
	assert_int_equal(json_array_size(json_object_get(slice, "endpoints")), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(slice, "ports"), 0), "protocol")),
			    "TCP");
	assert_non_null(pod);
	text = json_dumps(json_object_get(pod, "status"), JSON_COMPACT);
	assert_string_equal(text, "{\"podIP\":\"10.2.1.10\"}");
	free(text);
	json_decref(slice);
	json_decref(pod);
}

static void test_objects_print_as_kubectl_prints_them(void **state)
{
	struct kilo_error err = { 0 };
	char *out = NULL;
	const char *list = "[{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
			   "\"spec\":{\"type\":\"NodePort\",\"clusterIP\":\"10.96.0.10\",\"ports\":[{\"port\":80,\"nodePort\":30080,"
			   "\"protocol\":\"TCP\"},{\"port\":53,\"protocol\":\"UDP\"}]}}]";

	(void)state;
	assert_int_equal(kilo_objects_format("svc", list, KILO_OBJECT_TABLE, &out, &err), 0);
	assert_string_equal(out, "NAMESPACE   NAME   TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)\n"
				 "default     web    NodePort   10.96.0.10   <none>        80:30080/TCP,53/UDP\n");
	kilo_free(out);
	assert_int_equal(kilo_objects_format("pods", "[]", KILO_OBJECT_TABLE, &out, &err), 0);
	assert_string_equal(out, "");
	kilo_free(out);
	assert_int_equal(kilo_objects_format("Service", list, KILO_OBJECT_YAML, &out, &err), 0);
	assert_non_null(strstr(out, "kind: List\n"));
	assert_non_null(strstr(out, "items:\n- apiVersion: v1\n  kind: Service\n"));
	kilo_free(out);
	assert_int_equal(kilo_objects_format("Service", "{\"kind\":\"Service\"}", KILO_OBJECT_JSON, &out, &err), 0);
	assert_string_equal(out, "{\n  \"kind\": \"Service\"\n}\n");
	kilo_free(out);
	assert_int_equal(kilo_objects_format("Deployment", list, KILO_OBJECT_JSON, &out, &err), -EINVAL);
	assert_string_equal(err.message, "kind: \"Deployment\" is not one libkilo stores");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_scalars_are_typed_as_kubernetes_types_them),
		cmocka_unit_test(test_documents_and_lists_become_objects_of_their_own),
		cmocka_unit_test(test_json_and_kubectl_lists_are_read),
		cmocka_unit_test(test_many_documents_keep_every_object_whole),
		cmocka_unit_test(test_bad_manifests_name_document_line_and_field),
		cmocka_unit_test(test_kinds_by_kubectl_names),
		cmocka_unit_test(test_every_kind_is_checked_with_a_message_naming_field_and_value),
		cmocka_unit_test(test_service_defaults_are_filled_in_as_kubernetes_does),
		cmocka_unit_test(test_endpointslice_and_pod_keep_their_own_fields),
		cmocka_unit_test(test_objects_print_as_kubectl_prints_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

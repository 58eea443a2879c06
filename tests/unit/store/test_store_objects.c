/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes objects in every store kind (the file store, and etcd through
 * tests/etcd/with-etcd.sh): put, apply, get, list, delete, and the store's
 * change notification, which the agent relies on to list them again.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <kilo/manifest.h>
#include <kilo/mesh.h>
#include <kilo/store.h>

#include "contract_fixture.h"

#define SERVICE(ns, name, port)                                                                            \
	"{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"" name "\", \"namespace\": \"" ns \
	"\"}, \"spec\": {\"clusterIP\": \"10.96.0.10\", \"ports\": [{\"port\": " port "}]}}"
#define SLICE                                                                                              \
	"{\"apiVersion\": \"discovery.k8s.io/v1\", \"kind\": \"EndpointSlice\", \"metadata\": {\"name\": \"web-a\","  \
	" \"labels\": {\"kubernetes.io/service-name\": \"web\"}}, \"addressType\": \"IPv4\", \"endpoints\":"          \
	" [{\"addresses\": [\"10.2.1.10\"], \"nodeName\": \"n1\", \"conditions\": {\"ready\": true}}],"               \
	" \"ports\": [{\"name\": \"\", \"port\": 8080}]}"
#define KEY_P "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define PSK "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="

static enum kilo_object_change apply(kilo_store *store, const char *json)
{
	enum kilo_object_change change = (enum kilo_object_change)-1;
	struct kilo_error err = { 0 };

	if (kilo_store_apply_object(store, json, &change, &err) < 0)
		fail_msg("%s", err.message);
	return change;
}

static void test_objects_go_in_come_out_and_go_away(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	char *out = NULL;

	assert_int_equal(kilo_store_put_object(f->store, SERVICE("prod", "web", "80"), &err), 0);
	assert_int_equal(kilo_store_put_object(f->store, SLICE, &err), 0);
	assert_int_equal(kilo_store_get_object(f->store, "Service", "prod", "web", &out, &err), 0);
	/* Canonical: Kubernetes' defaults filled in. */
	assert_non_null(strstr(out, "\"targetPort\": 80"));
	assert_non_null(strstr(out, "\"type\": \"ClusterIP\""));
	kilo_free(out);
	/* No namespace: default. */
	assert_int_equal(kilo_store_get_object(f->store, "endpointslices", NULL, "web-a", &out, &err), 0);
	assert_non_null(strstr(out, "\"protocol\": \"TCP\""));
	kilo_free(out);
	if (f->dir[0]) {
		struct stat st;
		char path[128];

		snprintf(path, sizeof(path), "%s/services/prod.web.json", f->dir);
		assert_int_equal(stat(path, &st), 0);
		snprintf(path, sizeof(path), "%s/endpointslices/default.web-a.json", f->dir);
		assert_int_equal(stat(path, &st), 0);
	}
	assert_int_equal(kilo_store_delete_object(f->store, "Service", "prod", "web", &err), 0);
	assert_int_equal(kilo_store_get_object(f->store, "Service", "prod", "web", &out, &err), -ENOENT);
	assert_null(out);
	assert_string_equal(err.message, "Service prod/web: not in the store");
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_store_delete_object(f->store, "Service", "prod", "web", &err), -ENOENT);
	assert_string_equal(err.message, "Service prod/web: not in the store");
}

static void test_apply_says_created_configured_or_unchanged(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(apply(f->store, SERVICE("default", "web", "80")), KILO_OBJECT_CREATED);
	assert_int_equal(apply(f->store, SERVICE("default", "web", "80")), KILO_OBJECT_UNCHANGED);
	assert_int_equal(apply(f->store, SERVICE("default", "web", "81")), KILO_OBJECT_CONFIGURED);
	assert_int_equal(apply(f->store,
			       "{\"apiVersion\": \"kilo.squat.ai/v1alpha1\", \"kind\": \"Peer\", \"metadata\": {\"name\": \"laptop\"},"
			       " \"spec\": {\"publicKey\": \"" KEY_P "\", \"allowedIPs\": [\"10.5.0.1/32\"]}}"),
			 KILO_OBJECT_CREATED);
	assert_int_equal(apply(f->store,
			       "{\"apiVersion\": \"kilo.squat.ai/v1alpha1\", \"kind\": \"Peer\", \"metadata\": {\"name\": \"laptop\"},"
			       " \"spec\": {\"publicKey\": \"" KEY_P "\", \"allowedIPs\": [\"10.5.0.1/32\"]}}"),
			 KILO_OBJECT_UNCHANGED);
}

static void test_a_bad_object_is_refused_and_nothing_is_written(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	char *out = NULL;

	assert_int_equal(kilo_store_put_object(f->store, SERVICE("default", "web", "70000"), &err), -EINVAL);
	assert_string_equal(err.message, "Service default/web: spec.ports[0].port: 70000 is not a port (1-65535)");
	assert_int_equal(kilo_store_get_object(f->store, "Service", "default", "web", &out, NULL), -ENOENT);
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_store_put_object(f->store, "{\"kind\": ", &err), -EINVAL);
	assert_non_null(strstr(err.message, "object: line 1"));
	memset(&err, 0, sizeof(err));
	/* A name that could reach outside the store's folders never makes a path or a key. */
	assert_int_equal(kilo_store_get_object(f->store, "Service", "..", "web", &out, &err), -EINVAL);
	assert_string_equal(err.message, "Service: namespace \"..\" is not a DNS label");
	assert_int_equal(kilo_store_delete_object(f->store, "Service", "default", "../../nodes/a", &err), -EINVAL);
	assert_int_equal(kilo_store_list_objects(f->store, "Deployment", &out, &err), -EINVAL);
	assert_null(out);
}

static void test_list_is_sorted_by_namespace_then_name(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	const char *order[] = { "\"namespace\": \"a\"", "\"namespace\": \"a-b\"", "\"name\": \"x\"" };
	char *out = NULL, *at;

	apply(f->store, SERVICE("a-b", "y", "80"));
	apply(f->store, SERVICE("b", "x", "80"));
	apply(f->store, SERVICE("a", "z", "80"));
	assert_int_equal(kilo_store_list_objects(f->store, "svc", &out, &err), 0);
	at = out;
	for (size_t i = 0; i < 3; i++) {
		at = strstr(at, order[i]);
		assert_non_null(at);
	}
	kilo_free(out);
	assert_int_equal(kilo_store_list_objects_in(f->store, "Service", "b", &out, &err), 0);
	assert_null(strstr(out, "\"namespace\": \"a"));
	assert_non_null(strstr(out, "\"name\": \"x\""));
	kilo_free(out);
	assert_int_equal(kilo_store_list_objects(f->store, "Pod", &out, &err), 0);
	assert_string_equal(out, "[]\n");
	kilo_free(out);
}

static void test_a_change_wakes_other_handles(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	kilo_store *watcher = open_again(f);
	kilo_mesh *mesh = NULL;
	char *out = NULL;

	/* The watcher has seen the store once, before any object folder or key existed. */
	assert_int_equal(kilo_store_list_objects(watcher, "Service", &out, &err), 0);
	kilo_free(out);
	apply(f->store, SERVICE("default", "web", "80"));
	assert_true(wait_for_change(watcher));
	assert_int_equal(kilo_store_list_objects(watcher, "Service", &out, &err), 0);
	assert_non_null(strstr(out, "\"name\": \"web\""));
	kilo_free(out);
	apply(f->store, SLICE);
	assert_true(wait_for_change(watcher));
	assert_int_equal(kilo_store_delete_object(f->store, "Service", NULL, "web", &err), 0);
	assert_true(wait_for_change(watcher));
	/* A load reads nodes and peers only: the objects are neither in the mesh nor reported. */
	struct kilo_store_report report;

	assert_int_equal(kilo_store_load(watcher, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 0);
	assert_int_equal(report.n_problems, 0);
	kilo_mesh_free(mesh);
	kilo_store_close(watcher);
}

static void test_nodes_and_peers_become_the_meshs(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;
	char *out = NULL;

	apply(f->store, "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"n1\", \"annotations\":"
			" {\"kilo.squat.ai/location\": \"eu\", \"kilo.squat.ai/key\": \"" KEY_P "\"}},"
			" \"spec\": {\"podCIDR\": \"10.2.1.0/24\"}, \"status\": {\"phase\": \"Ready\"}}");
	apply(f->store, "{\"apiVersion\": \"kilo.squat.ai/v1alpha1\", \"kind\": \"Peer\", \"metadata\": {\"name\": \"laptop\"},"
			" \"spec\": {\"publicKey\": \"" KEY_P "\", \"presharedKey\": \"" PSK "\", \"allowedIPs\": [\"10.5.0.1/32\"]}}");
	assert_int_equal(kilo_store_get_node(f->store, "n1", &out, &err), 0);
	assert_non_null(strstr(out, "\"location\": \"eu\""));
	kilo_free(out);
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, NULL, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	assert_int_equal(kilo_mesh_peer_count(mesh), 1);
	kilo_mesh_free(mesh);
	/* Listed, a peer shows no preshared key. */
	assert_int_equal(kilo_store_list_objects(f->store, "peers", &out, &err), 0);
	assert_non_null(strstr(out, "\"name\": \"laptop\""));
	assert_null(strstr(out, PSK));
	kilo_free(out);
	assert_int_equal(kilo_store_get_object(f->store, "Peer", NULL, "laptop", &out, &err), 0);
	assert_null(strstr(out, PSK));
	kilo_free(out);
	assert_int_equal(kilo_store_delete_object(f->store, "Node", NULL, "n1", &err), 0);
	assert_int_equal(kilo_store_delete_object(f->store, "Node", NULL, "n1", &err), -ENOENT);
}

static void test_an_object_edited_by_hand_is_left_out_of_a_list(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	const char *bad = "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"web\"},"
			  " \"spec\": {\"ports\": [{\"port\": 0}]}}";
	char *out = NULL;

	apply(f->store, SERVICE("default", "ok", "80"));
	put_raw(f, KILO_STORE_SERVICE, "default/web", bad, strlen(bad));
	put_raw(f, KILO_STORE_SERVICE, "default/other", SERVICE("default", "ok", "80"), strlen(SERVICE("default", "ok", "80")));
	assert_int_equal(kilo_store_list_objects(f->store, "Service", &out, &err), 0);
	assert_non_null(strstr(out, "\"name\": \"ok\""));
	assert_null(strstr(out, "\"name\": \"web\""));
	kilo_free(out);
	assert_int_equal(kilo_store_get_object(f->store, "Service", NULL, "web", &out, &err), -EINVAL);
	assert_string_equal(err.message, "Service default/web: spec.ports[0].port: 0 is not a port (1-65535)");
	memset(&err, 0, sizeof(err));
	/* An object stored under another's name is not that object. */
	assert_int_equal(kilo_store_get_object(f->store, "Service", NULL, "other", &out, &err), -EINVAL);
	assert_non_null(strstr(err.message, "not the object stored under its name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_objects_go_in_come_out_and_go_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_says_created_configured_or_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_bad_object_is_refused_and_nothing_is_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_is_sorted_by_namespace_then_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_change_wakes_other_handles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_and_peers_become_the_meshs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_object_edited_by_hand_is_left_out_of_a_list, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

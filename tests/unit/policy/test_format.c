// SPDX-License-Identifier: Apache-2.0
/*
 * kilo_lb_services_format, as `kgctl services` prints it: the frontends a
 * node serves, each endpoint with its node, location, state and whether
 * it takes new flows, in text and JSON; through the public API.
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

#include <kilo/kilo.h>

struct fixture {
	kilo_mesh *mesh;
	char *services, *slices;
};

/* A case of test_services: its mesh and objects. */
static void load(struct fixture *f, const char *name)
{
	const char *dir = getenv("KILO_TEST_DATA");
	char path[4096], *mesh;
	json_t *root;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/unit/policy/cases", name);
	root = json_load_file(path, 0, NULL);
	assert_non_null(root);
	mesh = json_dumps(json_object_get(root, "mesh"), 0);
	assert_int_equal(kilo_mesh_from_json(mesh, strlen(mesh), &f->mesh, NULL), 0);
	f->services = json_dumps(json_object_get(root, "services"), 0);
	f->slices = json_dumps(json_object_get(root, "endpointslices"), 0);
	free(mesh);
	json_decref(root);
}

static void release(struct fixture *f)
{
	kilo_mesh_free(f->mesh);
	free(f->services);
	free(f->slices);
}

static void test_text_names_every_endpoint(void **state)
{
	struct fixture f;
	char *out = NULL;

	(void)state;
	load(&f, "nodeport-cluster.json");
	assert_int_equal(kilo_lb_services_format(f.services, f.slices, f.mesh, "a", KILO_SERVICES_FORMAT_TEXT, &out, NULL), 0);
	assert_string_equal(out,
			    "SERVICE      FRONTEND            SCOPE          ENDPOINT       NODE  LOCATION  STATE  NEW-FLOWS\n"
			    "default/web  10.96.0.10:80/TCP   cluster        10.2.0.5:8080  a     aws       ready  yes\n"
			    "                                                10.2.1.5:8080  b     aws       ready  yes\n"
			    "                                                10.2.2.5:8080  c     gcp       ready  yes\n"
			    "default/web  10.0.0.1:30080/TCP  nodeport,snat  10.2.0.5:8080  a     aws       ready  yes\n"
			    "                                                10.2.1.5:8080  b     aws       ready  yes\n"
			    "                                                10.2.2.5:8080  c     gcp       ready  yes\n");
	kilo_free(out);
	release(&f);
}

/* Location preference and endpoint states: who takes new flows and who only keeps its own. */
static void test_text_shows_states_and_new_flows(void **state)
{
	static const struct {
		const char *name, *text;
	} cases[] = {
		{"topology-location.json",
		 "SERVICE      FRONTEND           SCOPE    ENDPOINT       NODE  LOCATION  STATE  NEW-FLOWS\n"
		 "default/web  10.96.0.10:80/TCP  cluster  10.2.0.5:8080  a     aws       ready  yes\n"
		 "                                         10.2.1.5:8080  b     aws       ready  yes\n"
		 "                                         10.2.2.5:8080  c     gcp       ready  no\n"},
		{"terminating-fallback.json",
		 "SERVICE      FRONTEND           SCOPE    ENDPOINT       NODE  LOCATION  STATE        NEW-FLOWS\n"
		 "default/web  10.96.0.10:80/TCP  cluster  10.2.0.5:8080  a     aws       terminating  yes\n"
		 "                                         10.2.1.5:8080  b     aws       terminating  yes\n"
		 "                                         10.2.2.5:8080  c     gcp       not serving  no\n"},
		{"no-endpoints.json",
		 "SERVICE        FRONTEND           SCOPE    ENDPOINT  NODE  LOCATION  STATE         NEW-FLOWS\n"
		 "default/empty  10.96.0.10:80/TCP  cluster  -         -     -         no endpoints  reject\n"},
		{"affinity.json",
		 "SERVICE                  FRONTEND           SCOPE                    ENDPOINT       NODE  LOCATION  STATE  NEW-FLOWS\n"
		 "default/default-timeout  10.96.0.10:80/TCP  cluster,affinity=10800s  10.2.0.5:8080  a     aws       ready  yes\n"
		 "default/none             10.96.0.12:80/TCP  cluster                  10.2.0.7:8080  a     aws       ready  yes\n"
		 "default/one-minute       10.96.0.11:80/TCP  cluster,affinity=60s     10.2.0.6:8080  a     aws       ready  yes\n"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		char *out = NULL;

		load(&f, cases[i].name);
		assert_int_equal(kilo_lb_services_format(f.services, f.slices, f.mesh, "a", KILO_SERVICES_FORMAT_TEXT,
							 &out, NULL),
				 0);
		assert_string_equal(out, cases[i].text);
		kilo_free(out);
		release(&f);
	}
}

/* What was left out follows the table, so that an operator sees why a service is missing. */
static void test_text_lists_what_was_left_out(void **state)
{
	struct fixture f;
	char *out = NULL;

	(void)state;
	load(&f, "bad-objects.json");
	assert_int_equal(kilo_lb_services_format(f.services, f.slices, f.mesh, "a", KILO_SERVICES_FORMAT_TEXT, &out, NULL),
			 0);
	assert_non_null(strstr(out, "\n8 left out:\n  Service default/sctp: spec.ports[1].protocol: \"SCTP\" is not balanced"));
	kilo_free(out);
	release(&f);
}

static void test_json_has_every_field(void **state)
{
	struct fixture f;
	char *out = NULL;
	json_t *root, *fronts, *backend;

	(void)state;
	load(&f, "nodeport-local.json");
	assert_int_equal(kilo_lb_services_format(f.services, f.slices, f.mesh, "a", KILO_SERVICES_FORMAT_JSON, &out, NULL),
			 0);
	root = json_loads(out, 0, NULL);
	assert_non_null(root);
	fronts = json_object_get(root, "frontends");
	assert_int_equal(json_array_size(fronts), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fronts, 1), "frontend")),
			    "10.0.0.1:30080/TCP");
	assert_string_equal(json_string_value(json_object_get(json_array_get(fronts, 1), "scope")), "nodeport");
	assert_null(json_object_get(json_array_get(fronts, 1), "snat"));
	backend = json_array_get(json_object_get(json_array_get(fronts, 1), "backends"), 2);
	assert_string_equal(json_string_value(json_object_get(backend, "address")), "10.2.2.5");
	assert_int_equal(json_integer_value(json_object_get(backend, "port")), 8080);
	assert_string_equal(json_string_value(json_object_get(backend, "node")), "c");
	assert_string_equal(json_string_value(json_object_get(backend, "location")), "gcp");
	assert_string_equal(json_string_value(json_object_get(backend, "state")), "ready");
	assert_true(json_is_false(json_object_get(backend, "newFlows")));
	assert_int_equal(json_array_size(json_object_get(root, "problems")), 0);
	json_decref(root);
	kilo_free(out);
	release(&f);
}

/* From outside the mesh: no NodePort, and a Local policy leaves no endpoint. */
static void test_outside_view_has_no_node_ports(void **state)
{
	struct fixture f;
	char *out = NULL;

	(void)state;
	load(&f, "nodeport-local.json");
	assert_int_equal(kilo_lb_services_format(f.services, f.slices, f.mesh, NULL, KILO_SERVICES_FORMAT_TEXT, &out, NULL),
			 0);
	assert_null(strstr(out, "nodeport"));
	assert_non_null(strstr(out, "10.96.0.10:80/TCP"));
	kilo_free(out);
	release(&f);
}

static void test_bad_arguments_are_named(void **state)
{
	struct kilo_error err = {0};
	char *out = NULL;

	(void)state;
	assert_int_equal(kilo_lb_services_format(NULL, NULL, NULL, NULL, 7, &out, &err), -EINVAL);
	assert_string_equal(err.message, "format: 7 is not KILO_SERVICES_FORMAT_TEXT or KILO_SERVICES_FORMAT_JSON");
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_lb_services_format("{}", NULL, NULL, NULL, KILO_SERVICES_FORMAT_TEXT, &out, &err), -EINVAL);
	assert_string_equal(err.message, "services: not a JSON array of objects");
	assert_null(out);
	/* Nothing at all: an empty table, not an error. */
	assert_int_equal(kilo_lb_services_format(NULL, NULL, NULL, NULL, KILO_SERVICES_FORMAT_TEXT, &out, NULL), 0);
	assert_string_equal(out, "SERVICE  FRONTEND  SCOPE  ENDPOINT  NODE  LOCATION  STATE  NEW-FLOWS\n");
	kilo_free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_names_every_endpoint),
		cmocka_unit_test(test_text_shows_states_and_new_flows),
		cmocka_unit_test(test_text_lists_what_was_left_out),
		cmocka_unit_test(test_json_has_every_field),
		cmocka_unit_test(test_outside_view_has_no_node_ports),
		cmocka_unit_test(test_bad_arguments_are_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

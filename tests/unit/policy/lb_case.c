// SPDX-License-Identifier: Apache-2.0
#include "lb_case.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

const char *lb_cases_dir(void)
{
	const char *dir = getenv("KILO_TEST_DATA");

	return dir ? dir : "tests/unit/policy/cases";
}

static char *dump(json_t *value)
{
	return value ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

void lb_case_load(struct lb_case *c, const char *name)
{
	char path[4096];
	json_error_t jerr;
	json_t *mesh;
	struct kilo_error err = {0};

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/%s", lb_cases_dir(), name);
	c->root = json_load_file(path, 0, &jerr);
	if (!c->root)
		fail_msg("%s: line %d: %s", path, jerr.line, jerr.text);
	mesh = json_object_get(c->root, "mesh");
	if (mesh) {
		char *text = dump(mesh);

		if (kilo_mesh_from_json(text, strlen(text), &c->mesh, &err) < 0)
			fail_msg("%s: mesh: %s", path, err.message);
		free(text);
	}
	c->services = dump(json_object_get(c->root, "services"));
	c->slices = dump(json_object_get(c->root, "endpointslices"));
	c->self = json_string_value(json_object_get(c->root, "self"));
	c->maglev_m = (uint32_t)json_integer_value(json_object_get(c->root, "maglevM"));
	c->maglev_max_tables = (uint32_t)json_integer_value(json_object_get(c->root, "maglevMaxTables"));
}

void lb_case_free(struct lb_case *c)
{
	kilo_mesh_free(c->mesh);
	free(c->services);
	free(c->slices);
	json_decref(c->root);
}

int lb_case_compute(const struct lb_case *c, struct kilo_lb_ids *ids, struct kilo_lb_desired *out,
		    struct kilo_lb_report *report)
{
	struct kilo_lb_inputs in = {
		.services = c->services,
		.slices = c->slices,
		.mesh = c->mesh,
		.self = c->self,
		.maglev_m = c->maglev_m,
		.maglev_max_tables = c->maglev_max_tables,
	};
	struct kilo_error err = {0};
	int r = kilo_lb_compute(&in, ids, out, report, &err);

	if (r < 0)
		print_error("kilo_lb_compute: %s\n", err.message);
	return r;
}

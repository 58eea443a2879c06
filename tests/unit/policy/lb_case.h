/* SPDX-License-Identifier: Apache-2.0 */
/* A load-balancer policy fixture (cases/NAME.json, see cases/README.md) loaded and computed. */
#ifndef KILO_TESTS_POLICY_LB_CASE_H
#define KILO_TESTS_POLICY_LB_CASE_H

#include <stdint.h>

#include <jansson.h>

#include "policy/services.h"

struct lb_case {
	json_t *root;
	kilo_mesh *mesh;
	char *services, *slices;
	const char *self;
	uint32_t maglev_m;
	uint32_t maglev_max_tables;
};

/* The cases' directory: $KILO_TEST_DATA, else the source tree's from its top. */
const char *lb_cases_dir(void);
/* Loads cases_dir/name; fails the test when it cannot. */
void lb_case_load(struct lb_case *c, const char *name);
void lb_case_free(struct lb_case *c);
/* kilo_lb_compute on the case's objects, as self; its error printed. */
int lb_case_compute(const struct lb_case *c, struct kilo_lb_ids *ids, struct kilo_lb_desired *out,
		    struct kilo_lb_report *report);

#endif

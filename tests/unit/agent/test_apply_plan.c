// SPDX-License-Identifier: Apache-2.0
/*
 * kilo_applier_apply_plan refuses a plan whose ip rules name another
 * WireGuard link than the applier's, before the host is read or changed.
 * The applier's handles are opened in a network namespace of the test's
 * own (unshare(2)); where that is not allowed the test is skipped.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <kilo/agent.h>
#include <kilo/plan.h>

static bool own_netns;

static void test_a_plan_for_another_interface_is_refused_naming_both(void **state)
{
	static const char mesh_json[] =
		"{\"version\": 1, \"settings\": {\"granularity\": \"location\", \"subnet\": \"10.4.0.0/16\"},"
		" \"nodes\": [{\"name\": \"a\", \"location\": \"x\", \"endpoint\": \"198.51.100.1:51820\","
		" \"podCIDR\": \"10.244.0.0/24\", \"publicKey\": \"rWVtBbe4cKjQb3nY8f9n5JvYVRttWJKWe5AD1IHs3B4=\"}]}";
	struct kilo_solve_opts solve = { .sz = sizeof(solve), .hostname = "a" };
	struct kilo_apply_opts apply = { .sz = sizeof(apply), .interface = "kplanh0" };
	struct kilo_apply_report report;
	struct kilo_error err = { 0 };
	kilo_applier *applier = NULL;
	kilo_topology *t = NULL;
	kilo_mesh *mesh = NULL;
	kilo_plan *plan = NULL;

	(void)state;
	if (!own_netns)
		skip();
	assert_int_equal(kilo_mesh_from_json(mesh_json, strlen(mesh_json), &mesh, NULL), 0);
	assert_int_equal(kilo_topology_solve(mesh, &solve, &t, NULL), 0);
	assert_int_equal(kilo_plan_new(t, NULL, &plan, NULL), 0);
	assert_int_equal(kilo_applier_new(&apply, &applier, NULL), 0);
	assert_int_equal(kilo_applier_apply_plan(applier, plan, &report, &err), -EINVAL);
	assert_non_null(strstr(err.message, "kilo0"));
	assert_non_null(strstr(err.message, "kplanh0"));
	assert_false(report.device_created);
	kilo_applier_free(applier);
	kilo_plan_free(plan);
	kilo_topology_free(t);
	kilo_mesh_free(mesh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_plan_for_another_interface_is_refused_naming_both),
	};

	own_netns = unshare(CLONE_NEWNET) == 0 || unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0;
	if (!own_netns)
		fprintf(stderr, "no network namespace of its own (%s): skipped\n", strerror(errno));
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The node orders a mesh keeps for the solver. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mesh/model.h"

static const char document[] =
	"{\"version\":1,\"nodes\":["
	"{\"name\":\"c\",\"location\":\"gcp\"},{\"name\":\"b\",\"location\":\"aws\"},"
	"{\"name\":\"a\",\"location\":\"gcp\"},{\"name\":\"b2\",\"location\":\"aws\"},"
	"{\"name\":\"0z\",\"location\":\"\"}]}";

static void assert_names(const struct kilo_mesh *mesh, const size_t *order, const char *expected)
{
	char names[64] = "";

	for (size_t i = 0; i < mesh->n_nodes; i++) {
		strcat(names, mesh->nodes[order[i]].name);
		strcat(names, i + 1 < mesh->n_nodes ? " " : "");
	}
	assert_string_equal(names, expected);
}

static void test_document_nodes_are_sorted_by_name_and_by_location(void **state)
{
	kilo_mesh *mesh = NULL;

	(void)state;
	assert_int_equal(kilo_mesh_from_json(document, strlen(document), &mesh, NULL), 0);
	assert_non_null(mesh->orders.by_name);
	/* Byte order, as Go compares strings: digits before letters. */
	assert_names(mesh, mesh->orders.by_name, "0z a b b2 c");
	assert_names(mesh, mesh->orders.by_location, "0z b b2 a c");
	kilo_mesh_free(mesh);
}

static void test_mesh_built_in_code_gets_orders_on_demand(void **state)
{
	kilo_mesh *mesh = NULL;
	struct kilo_arena arena = { 0 };
	struct kilo_node_orders orders;

	(void)state;
	assert_int_equal(kilo_mesh_from_json(document, strlen(document), &mesh, NULL), 0);
	mesh->orders = (struct kilo_node_orders){ 0 };
	assert_int_equal(kilo_mesh_node_orders(mesh, &arena, &orders), 0);
	assert_names(mesh, orders.by_location, "0z b b2 a c");
	assert_null(mesh->orders.by_name);
	kilo_arena_release(&arena);
	kilo_mesh_free(mesh);
}

static void test_node_found_by_name_order(void **state)
{
	kilo_mesh *mesh = NULL;

	(void)state;
	assert_int_equal(kilo_mesh_from_json(document, strlen(document), &mesh, NULL), 0);
	/* Every node, the first and the last of the name order among them, and none for a name in between. */
	for (size_t i = 0; i < mesh->n_nodes; i++)
		assert_ptr_equal(kilo_mesh_find_node(mesh, &mesh->orders, mesh->nodes[i].name), &mesh->nodes[i]);
	assert_null(kilo_mesh_find_node(mesh, &mesh->orders, "b1"));
	assert_null(kilo_mesh_find_node(mesh, &mesh->orders, ""));
	assert_null(kilo_mesh_find_node(mesh, &mesh->orders, "d"));
	kilo_mesh_free(mesh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document_nodes_are_sorted_by_name_and_by_location),
		cmocka_unit_test(test_mesh_built_in_code_gets_orders_on_demand),
		cmocka_unit_test(test_node_found_by_name_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

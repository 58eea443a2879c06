// SPDX-License-Identifier: Apache-2.0
/*
 * The C side of the four-language comparison (tests/bindings/compare.sh):
 * what every binding's compare program prints for a mesh document, byte
 * for byte. The format is in tests/bindings/README.md.
 */
#include <stdio.h>

#include <kilo/kilo.h>

/* The private key whose public key every binding prints: 32 bytes of 0x01. */
#define FIXED_PRIVATE_KEY "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

static int fail(const char *what, const struct kilo_error *err)
{
	fprintf(stderr, "compare: %s: %s\n", what, err->message);
	return 1;
}

static int print_node(const kilo_mesh *mesh, const char *name)
{
	struct kilo_solve_opts opts = { .sz = sizeof(opts), .hostname = name };
	struct kilo_error err = { 0 };
	kilo_topology *t = NULL;
	kilo_wg_config *config = NULL;
	char *text = NULL;
	int r;

	r = kilo_topology_solve(mesh, &opts, &t, &err);
	if (r == 0 && !kilo_topology_is_leader(t)) {
		printf("# node %s (not a leader)\n", name);
		goto out;
	}
	if (r == 0)
		r = kilo_topology_conf(t, &config, &err);
	if (r == 0)
		r = kilo_wg_config_format(config, &text, &err);
	if (r == 0)
		printf("# node %s (leader)\n%s", name, text);
out:
	kilo_free(text);
	kilo_wg_config_free(config);
	kilo_topology_free(t);
	return r < 0 ? fail(name, &err) : 0;
}

static int print_graph(const kilo_mesh *mesh)
{
	struct kilo_solve_opts opts = { .sz = sizeof(opts) };
	struct kilo_error err = { 0 };
	kilo_topology *t = NULL;
	char *dot = NULL;
	int r;

	r = kilo_topology_solve(mesh, &opts, &t, &err);
	if (r == 0)
		r = kilo_topology_dot(t, &dot, &err);
	if (r == 0)
		printf("# graph\n%s", dot);
	kilo_free(dot);
	kilo_topology_free(t);
	return r < 0 ? fail("graph", &err) : 0;
}

static int print_mesh(const kilo_mesh *mesh)
{
	struct kilo_error err = { 0 };
	char *json = NULL;

	if (kilo_mesh_to_json(mesh, &json, &err) < 0)
		return fail("mesh", &err);
	printf("# mesh\n%s\n", json);
	kilo_free(json);
	return 0;
}

static int print_key_and_error(void)
{
	struct kilo_key private_key, public_key;
	struct kilo_error err = { 0 };
	struct kilo_cidr cidr;
	char text[KILO_KEY_B64_LEN + 1];

	if (kilo_key_parse(FIXED_PRIVATE_KEY, &private_key, &err) < 0 ||
	    kilo_key_public(&private_key, &public_key, &err) < 0)
		return fail("key", &err);
	kilo_key_wipe(&private_key);
	kilo_key_format(&public_key, text);
	printf("# public key\n%s\n", text);
	if (kilo_cidr_parse("10.0.0.0/33", &cidr, &err) == 0)
		return fail("a bad CIDR was taken", &err);
	printf("# error\n%s\n", err.message);
	return 0;
}

int main(int argc, char *argv[])
{
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: compare MESH.json\n");
		return 2;
	}
	if (kilo_mesh_load_file(argv[1], &mesh, &err) < 0)
		return fail("load", &err);
	r = 0;
	for (size_t i = 0; r == 0 && i < kilo_mesh_node_count(mesh); i++)
		r = print_node(mesh, kilo_mesh_node_name(mesh, i));
	if (r == 0)
		r = print_graph(mesh);
	if (r == 0)
		r = print_mesh(mesh);
	if (r == 0)
		r = print_key_and_error();
	kilo_mesh_free(mesh);
	return r;
}

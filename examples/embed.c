// SPDX-License-Identifier: Apache-2.0
/*
 * Embedding libkilo: load a mesh document and print the WireGuard
 * configuration of one node. Build against an installed libkilo:
 *
 *	cc embed.c $(pkg-config --cflags --libs libkilo) -o embed
 *	./embed meshes/three-clouds.json aws-eu-1
 */
#include <stdio.h>

#include <kilo/kilo.h>

int main(int argc, char *argv[])
{
	struct kilo_solve_opts opts = { .sz = sizeof(opts) };
	struct kilo_error err = { 0 };
	kilo_topology *topology = NULL;
	kilo_wg_config *config = NULL;
	kilo_mesh *mesh = NULL;
	char *conf = NULL;
	int status = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s MESH.json NODE\n", argv[0]);
		return 2;
	}
	if (kilo_mesh_load_file(argv[1], &mesh, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		goto out;
	}

	opts.hostname = argv[2];
	if (kilo_topology_solve(mesh, &opts, &topology, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		goto out;
	}
	if (!kilo_topology_is_leader(topology)) {
		printf("# %s does not lead its location: it runs no WireGuard peers\n", argv[2]);
		status = 0;
		goto out;
	}
	if (kilo_topology_conf(topology, &config, &err) < 0 || kilo_wg_config_format(config, &conf, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		goto out;
	}
	printf("# libkilo %s: WireGuard configuration of %s\n%s", kilo_version(), argv[2], conf);
	status = 0;
out:
	kilo_free(conf);
	kilo_wg_config_free(config);
	kilo_topology_free(topology);
	kilo_mesh_free(mesh);
	return status;
}

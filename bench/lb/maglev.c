// SPDX-License-Identifier: Apache-2.0
/*
 * bench-lb-maglev: what the load balancer's policy layer costs. First the
 * Maglev table of one frontend (both hashes of every backend's name and
 * the fill), for M = 16381 and 65521 and 10, 100 and 1,000 backends;
 * then a node's whole desired map contents from Services and
 * EndpointSlices as JSON (kilo_lb_compute: parse, endpoint choice, ids,
 * slots, Maglev tables, sorting), for 10 to 100,000 services of 3
 * backends each: cold (new ids), again (every id, table and parsed
 * object kept) and after one changed EndpointSlice.
 * Prints a table; never part of the test run.
 *
 *	bench-lb-maglev                 the standard sizes
 *	bench-lb-maglev --runs K        best of K runs (default 7; 100 for the tables alone)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kilo/kilo.h>

#include "policy/maglev.h"
#include "policy/services.h"

#define NODES 30     /* the mesh: 30 nodes in 3 locations */
#define LOCATIONS 3
#define BACKENDS_PER_SERVICE 3

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-lb-maglev: %s\n", what);
	exit(1);
}

/* One frontend's table: the backends' permutations from their names, then the fill. */
static double time_table(size_t n, uint32_t m, unsigned runs)
{
	char (*names)[32] = calloc(n, sizeof(*names));
	struct kilo_maglev_permutation *perms = calloc(n, sizeof(*perms));
	uint32_t *values = calloc(n, sizeof(*values)), *table = calloc(m, sizeof(*table));
	void *scratch = malloc(kilo_maglev_scratch_size(n, m));
	double best = 1e9;

	if (!names || !perms || !values || !table || !scratch)
		die("out of memory");
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "10.2.%zu.%zu:8080", i / 250, i % 250 + 2);
		values[i] = (uint32_t)i + 1;
	}
	for (unsigned r = 0; r < runs; r++) {
		double start = now_ms();

		for (size_t i = 0; i < n; i++)
			perms[i] = kilo_maglev_permutation(names[i], strlen(names[i]), m);
		if (kilo_maglev_fill(perms, values, n, m, scratch, table, NULL) < 0)
			die("kilo_maglev_fill failed");
		if (now_ms() - start < best)
			best = now_ms() - start;
	}
	free(names);
	free(perms);
	free(values);
	free(table);
	free(scratch);
	return best;
}

static char *mesh_document(void)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		die("out of memory");
	fputs("{\"version\":1,\"nodes\":[", f);
	for (unsigned i = 0; i < NODES; i++)
		fprintf(f, "%s{\"name\":\"node-%u\",\"location\":\"loc-%u\",\"internalIP\":\"192.168.%u.%u/24\"}", i ? "," : "",
			i, i % LOCATIONS, i % LOCATIONS, i + 1);
	fputs("]}", f);
	fclose(f);
	return text;
}

/* The address of number i in 10.0.0.0/8 above base (i < 2^24 - base). */
static void address(char *out, size_t size, uint32_t base, uint32_t i)
{
	uint32_t a = base + i;

	snprintf(out, size, "10.%u.%u.%u", (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* A stream into *text that holds a JSON array: the caller writes its elements, then calls fclose. */
static FILE *array_stream(char **text, size_t *size)
{
	FILE *f = open_memstream(text, size);

	if (!f)
		die("out of memory");
	fputc('[', f);
	return f;
}

/* n Services, ClusterIPs from 10.96.0.0. */
static char *services_of(size_t n)
{
	size_t size = 0;
	char *text = NULL, ip[16];
	FILE *f = array_stream(&text, &size);

	for (size_t i = 0; i < n; i++) {
		address(ip, sizeof(ip), 96u << 16, (uint32_t)i);
		fprintf(f,
			"%s{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"svc-%zu\","
			"\"namespace\":\"default\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"%s\","
			"\"clusterIPs\":[\"%s\"],\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\","
			"\"targetPort\":8080}],\"selector\":{\"app\":\"svc-%zu\"}}}",
			i ? "," : "", i, ip, ip, i);
	}
	fputc(']', f);
	fclose(f);
	return text;
}

/* Their EndpointSlices, 3 pods each from 10.128.0.0; with changed, service n/2's has a 4th pod. */
static char *slices_of(size_t n, bool changed)
{
	size_t size = 0;
	char *text = NULL, ip[16];
	FILE *f = array_stream(&text, &size);

	for (size_t i = 0; i < n; i++) {
		size_t pods = BACKENDS_PER_SERVICE + (changed && i == n / 2);

		fprintf(f,
			"%s{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
			"\"svc-%zu-abcde\",\"namespace\":\"default\",\"labels\":{\"kubernetes.io/service-name\":\"svc-%zu\"}},"
			"\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}],"
			"\"endpoints\":[",
			i ? "," : "", i, i);
		for (size_t b = 0; b < pods; b++) {
			/* The 4th pod's address is past every other pod's. */
			address(ip, sizeof(ip), 128u << 16,
				(uint32_t)(b < BACKENDS_PER_SERVICE ? i * BACKENDS_PER_SERVICE + b : n * BACKENDS_PER_SERVICE));
			fprintf(f, "%s{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":true,\"serving\":true,"
				   "\"terminating\":false},\"nodeName\":\"node-%zu\"}",
				b ? "," : "", ip, (i + b * 7) % NODES);
		}
		fputs("]}", f);
	}
	fputc(']', f);
	fclose(f);
	return text;
}

struct compute_result {
	double cold_ms, warm_ms, changed_ms;
	size_t n_services, n_slots, n_maglev;
};

static struct compute_result time_compute(const kilo_mesh *mesh, size_t n, bool maglev, unsigned runs)
{
	struct compute_result res = {1e12, 1e12, 1e12, 0, 0, 0};
	struct kilo_lb_inputs in = {.mesh = mesh, .self = "node-0", .no_maglev = !maglev};
	struct kilo_error err = {0};
	char *services = services_of(n), *slices = slices_of(n, false), *changed_slices = slices_of(n, true);
	double *best[3] = {&res.cold_ms, &res.warm_ms, &res.changed_ms};

	in.services = services;
	for (unsigned r = 0; r < runs; r++) {
		struct kilo_lb_ids *ids = kilo_lb_ids_new();
		struct kilo_lb_desired d;
		double start;

		if (!ids)
			die("out of memory");
		for (int pass = 0; pass < 3; pass++) {
			in.slices = pass < 2 ? slices : changed_slices;
			start = now_ms();
			if (kilo_lb_compute(&in, ids, &d, NULL, &err) < 0)
				die(err.message);
			if (now_ms() - start < *best[pass])
				*best[pass] = now_ms() - start;
			if (pass == 0) {
				res.n_services = d.n_services;
				res.n_slots = d.n_slots;
				res.n_maglev = d.n_maglev;
			}
			kilo_lb_desired_release(&d);
		}
		kilo_lb_ids_free(ids);
	}
	free(services);
	free(slices);
	free(changed_slices);
	return res;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {{"runs", required_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'}, {0}};
	const size_t backends[] = {10, 100, 1000};
	const uint32_t sizes[] = {KILO_LB_MAGLEV_DEFAULT, KILO_LB_MAGLEV_LARGE};
	const size_t services[] = {10, 1000, 10000, 100000};
	unsigned runs = 7;
	double load[3];
	char *document;
	kilo_mesh *mesh = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'r' && atoi(optarg) > 0) {
			runs = (unsigned)atoi(optarg);
		} else {
			fprintf(stderr, "Usage: %s [--runs K]\n", argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	if (getloadavg(load, 3) == 3)
		printf("\nlibkilo %s, milliseconds, best of runs; load average %.2f %.2f %.2f on %ld CPUs\n\n",
		       kilo_version(), load[0], load[1], load[2], sysconf(_SC_NPROCESSORS_ONLN));

	printf("Maglev table of one frontend: both hashes of every backend's name, then the fill (best of %u)\n",
	       runs * 15);
	printf("%8s %9s %10s\n", "M", "backends", "build-ms");
	for (size_t s = 0; s < 2; s++)
		for (size_t b = 0; b < 3; b++)
			printf("%8u %9zu %10.3f\n", sizes[s], backends[b], time_table(backends[b], sizes[s], runs * 15));
	printf("target: M = 65521 with 1000 backends <= 2 ms\n\n");

	document = mesh_document();
	if (kilo_mesh_from_json(document, strlen(document), &mesh, NULL) < 0)
		die("the mesh document is refused");
	printf("A node's desired map contents (kilo_lb_compute) from Services and EndpointSlices as JSON,\n"
	       "%d backends each on %d nodes in %d locations. cold: new ids; again: the same objects with the ids of\n"
	       "the first computation, which keep every id, Maglev table and parsed object; changed: then one\n"
	       "EndpointSlice with a 4th backend (that one parsed, that service's table filled)\n"
	       "(best of %u). Maglev tables of M = %u take 4 * M bytes each: 100000 of them would need 6.4 GB, so\n"
	       "the largest size runs without them.\n",
	       BACKENDS_PER_SERVICE, NODES, LOCATIONS, runs, KILO_LB_MAGLEV_DEFAULT);
	printf("%9s %7s %10s %10s %11s %9s %9s %11s\n", "services", "maglev", "cold-ms", "again-ms", "changed-ms",
	       "frontends", "slots", "tables-MiB");
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		for (int maglev = 1; maglev >= 0; maglev--) {
			struct compute_result r;

			if (maglev && services[i] > 10000)
				continue;
			r = time_compute(mesh, services[i], maglev, services[i] >= 100000 ? (runs + 2) / 3 : runs);
			printf("%9zu %7s %10.3f %10.3f %11.3f %9zu %9zu %11.1f\n", services[i], maglev ? "yes" : "no",
			       r.cold_ms, r.warm_ms, r.changed_ms, r.n_services, r.n_slots,
			       (double)r.n_maglev * KILO_LB_MAGLEV_DEFAULT * 4 / (1024.0 * 1024.0));
		}
	}
	kilo_mesh_free(mesh);
	free(document);
	return 0;
}

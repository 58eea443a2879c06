// SPDX-License-Identifier: Apache-2.0
/*
 * The eBPF side of bench/lb/connrate.sh: libkilo's programs on one link, as
 * kg puts them on a pod veth, balancing SERVICES ClusterIPs (service i is
 * 10.96.(i / 250).(i % 250 + 1):80/TCP, as bench-lb-connrate connects to
 * them) over the given backends on port 8080, through the policy layer and
 * the loader as kg does. New flows pick a slot by hash (no Maglev tables:
 * 64 KiB each at 10,000 services). With -c, the socket programs also go on
 * the cgroup v2 directory CGROUP, as kg puts them on the cgroup root, where
 * every pod's processes get them. What it attaches and pins stays.
 *
 *   bench-lb-load [-c CGROUP] PIN-DIR IFNAME SERVICES BACKEND-IP...
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/loader.h"
#include "core/strbuf.h"
#include "policy/services.h"

/* The Services and their one EndpointSlice each, as JSON arrays. */
static int objects(long services, char **backends, int n_backends, struct kilo_strbuf *svc,
		   struct kilo_strbuf *slices)
{
	kilo_strbuf_append(svc, "[");
	kilo_strbuf_append(slices, "[");
	for (long i = 0; i < services; i++) {
		kilo_strbuf_printf(svc,
				  "%s{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"s%ld\", "
				  "\"namespace\": \"bench\"}, \"spec\": {\"clusterIP\": \"10.96.%ld.%ld\", \"ports\": "
				  "[{\"name\": \"http\", \"protocol\": \"TCP\", \"port\": 80, \"targetPort\": 8080}]}}",
				  i ? "," : "", i, i / 250, i % 250 + 1);
		kilo_strbuf_printf(slices,
				  "%s{\"apiVersion\": \"discovery.k8s.io/v1\", \"kind\": \"EndpointSlice\", "
				  "\"metadata\": {\"name\": \"s%ld\", \"namespace\": \"bench\", \"labels\": "
				  "{\"kubernetes.io/service-name\": \"s%ld\"}}, \"addressType\": \"IPv4\", \"ports\": "
				  "[{\"name\": \"http\", \"protocol\": \"TCP\", \"port\": 8080}], \"endpoints\": [",
				  i ? "," : "", i, i);
		for (int b = 0; b < n_backends; b++)
			kilo_strbuf_printf(slices, "%s{\"addresses\": [\"%s\"], \"conditions\": {\"ready\": true}}",
					    b ? "," : "", backends[b]);
		kilo_strbuf_append(slices, "]}");
	}
	kilo_strbuf_append(svc, "]");
	kilo_strbuf_append(slices, "]");
	return svc->failed || slices->failed ? -ENOMEM : 0;
}

int main(int argc, char *argv[])
{
	struct kilo_strbuf svc = { 0 }, slices = { 0 };
	const char *cgroup = NULL;
	struct kilo_bpf_sync_report report;
	struct kilo_lb_desired desired;
	struct kilo_lb_ids *ids = NULL;
	struct kilo_error err = { 0 };
	kilo_bpf *bpf = NULL;
	long services;
	int ifindex, r;

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		cgroup = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: bench-lb-load [-c CGROUP] PIN-DIR IFNAME SERVICES BACKEND-IP...\n");
		return 2;
	}
	services = atol(argv[3]);
	ifindex = (int)if_nametoindex(argv[2]);
	if (services < 1 || services > 250 * 250 || !ifindex) {
		fprintf(stderr, "bench-lb-load: SERVICES 1..62500 and an existing IFNAME\n");
		return 2;
	}
	r = objects(services, argv + 4, argc - 4, &svc, &slices);
	ids = kilo_lb_ids_new();
	if (r < 0 || !ids) {
		fprintf(stderr, "bench-lb-load: out of memory\n");
		r = -ENOMEM;
		goto out;
	}
	r = kilo_lb_compute(&(struct kilo_lb_inputs){ .services = svc.data, .slices = slices.data, .no_maglev = true },
			    ids, &desired, NULL, &err);
	if (r < 0)
		goto out;
	r = kilo_bpf_open(&(struct kilo_bpf_opts){ .pin_dir = argv[1] }, &bpf, &err);
	if (r == 0)
		r = kilo_bpf_attach(bpf, ifindex, KILO_BPF_POD, &err);
	/* How many programs went on the cgroup: none would make the row the plain eBPF one. */
	if (r == 0 && cgroup && (r = kilo_bpf_attach_cgroup(bpf, cgroup, &err)) == 0)
		r = -ENOENT;
	if (r > 0)
		r = 0;
	if (r == 0)
		r = kilo_bpf_sync(bpf, &desired, true, &report, &err);
	kilo_lb_desired_release(&desired);
out:
	if (r < 0)
		fprintf(stderr, "bench-lb-load: %s\n", err.message[0] ? err.message : strerror(-r));
	kilo_bpf_close(bpf);
	kilo_lb_ids_free(ids);
	kilo_strbuf_reset(&svc);
	kilo_strbuf_reset(&slices);
	return r < 0;
}

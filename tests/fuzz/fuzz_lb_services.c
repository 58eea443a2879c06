/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Services and EndpointSlices as the load balancer reads them (the array
 * reader, every field): never a crash, a failure explained, and a desired
 * state whose every slot names a backend it holds. The input is the
 * services' text, then a NUL and the slices' text (none: no slices).
 */
#include <kilo/services.h>

#include "fuzz.h"

#include "policy/services.h"

static const char mesh_json[] = "{\"version\":1,\"nodes\":[{\"name\":\"a\",\"location\":\"x\",\"internalIP\":\"10.0.0.1/24\"},"
				"{\"name\":\"b\",\"location\":\"y\",\"internalIP\":\"10.0.1.1/24\"}]}";

static bool has_backend(const struct kilo_lb_desired *d, __u32 id)
{
	for (size_t i = 0; i < d->n_backends; i++)
		if (d->backends[i].id == id)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	size_t split = strlen(text);
	static kilo_mesh *mesh;
	struct kilo_lb_ids *ids = kilo_lb_ids_new();
	struct kilo_lb_inputs in = {.services = text, .slices = split < size ? text + split + 1 : NULL, .self = "a"};
	struct kilo_lb_report report = {0};
	struct kilo_lb_desired d;
	struct kilo_error err = {0};
	char *out = NULL;
	int r;

	if (!mesh && kilo_mesh_from_json(mesh_json, strlen(mesh_json), &mesh, NULL) < 0)
		abort();
	in.mesh = mesh;
	if (!ids)
		abort();
	r = kilo_lb_compute(&in, ids, &d, &report, &err);
	FUZZ_ASSERT_EXPLAINED(r, err, "kilo_lb_compute");
	for (size_t i = 0; r == 0 && i < d.n_slots; i++)
		FUZZ_ASSERT(has_backend(&d, d.slots[i].backend_id), "slot %zu names backend %u, which is not there", i,
			    d.slots[i].backend_id);
	/* Again with the same ids, every object from their cache: the same entries and the same report. */
	if (r == 0) {
		struct kilo_lb_report again = {0};
		struct kilo_lb_desired d2;

		FUZZ_ASSERT(kilo_lb_compute(&in, ids, &d2, &again, NULL) == 0, "a second computation failed");
		FUZZ_ASSERT(d2.n_services == d.n_services && d2.n_backends == d.n_backends && d2.n_slots == d.n_slots &&
				    d2.n_maglev == d.n_maglev,
			    "a second computation differs");
		FUZZ_ASSERT(memcmp(d2.services, d.services, d.n_services * sizeof(*d.services)) == 0,
			    "a second computation's frontends differ");
		FUZZ_ASSERT(again.n_problems == report.n_problems, "reported %zu problems, then %zu", report.n_problems,
			    again.n_problems);
		kilo_lb_desired_release(&d2);
	}
	kilo_lb_desired_release(&d);
	kilo_lb_ids_free(ids);
	if (kilo_lb_services_format(in.services, in.slices, mesh, "a", KILO_SERVICES_FORMAT_TEXT, &out, NULL) == 0)
		FUZZ_ASSERT(r == 0, "the text format accepted what kilo_lb_compute refused");
	kilo_free(out);
	free(text);
	return 0;
}

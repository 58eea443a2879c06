// SPDX-License-Identifier: Apache-2.0
/*
 * A desired state written into the maps by difference. Between resyncs
 * the difference is taken against what the last sync wrote (kept in the
 * handle: the hash maps' records and a digest per Maglev table); at the
 * first sync, after a failure and at a resync, against the maps read back.
 */
#include "internal.h"
#include "maglev_maps.h"
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../core/error.h"

/* The desired arrays are key-value records with no gap, so that they are tables as they are. */
_Static_assert(sizeof(struct kilo_lb_desired_service) ==
		       sizeof(struct kilo_lb_service_key) + sizeof(struct kilo_lb_service), "service record");
_Static_assert(sizeof(struct kilo_lb_desired_backend) == sizeof(__u32) + sizeof(struct kilo_lb_backend),
	       "backend record");
_Static_assert(sizeof(struct kilo_lb_desired_slot) == sizeof(struct kilo_lb_slot_key) + sizeof(__u32), "slot record");
_Static_assert(sizeof(struct kilo_lb_desired_revnat) == sizeof(__u32) + sizeof(struct kilo_lb_revnat),
	       "revnat record");
_Static_assert(sizeof(struct kilo_lb_desired_backend_frontends) ==
		       sizeof(struct kilo_lb_backend_addr) + sizeof(struct kilo_lb_backend_frontends),
	       "backend frontends record");

enum { SERVICES, BACKENDS, SLOTS, REVNAT, BACKEND_FRONTENDS, N_TABLES };

static const char *const map_names[N_TABLES] = {
	[SERVICES] = "kilo_lb_services",
	[BACKENDS] = "kilo_lb_backends",
	[SLOTS] = "kilo_lb_slots",
	[REVNAT] = "kilo_lb_revnat",
	[BACKEND_FRONTENDS] = "kilo_lb_backend_frontends",
};

#define MAGLEV_MAP "kilo_lb_maglev"
#define NODE_MAP "kilo_lb_node"

/* What a sync compares with, and what it keeps of what it wrote: tables plus Maglev digests. */
struct kilo_bpf_last {
	struct kilo_bpf_table tables[N_TABLES];
	struct kilo_bpf_maglev_digest *maglev; /* sorted by service_id (memcmp) */
	size_t n_maglev;
};

static void state_free(struct kilo_bpf_last *s)
{
	for (int i = 0; i < N_TABLES; i++)
		kilo_bpf_table_free(&s->tables[i]);
	free(s->maglev);
	s->maglev = NULL;
	s->n_maglev = 0;
}

void kilo__bpf_last_free(kilo_bpf *bpf)
{
	if (!bpf->last)
		return;
	state_free(bpf->last);
	free(bpf->last);
	bpf->last = NULL;
}

/* The desired state's arrays seen as tables, borrowed. */
static void desired_tables(const struct kilo_lb_desired *d, struct kilo_bpf_table t[N_TABLES])
{
	t[SERVICES] = (struct kilo_bpf_table){ d->n_services, sizeof(struct kilo_lb_service_key),
					       sizeof(struct kilo_lb_service), (unsigned char *)d->services, false };
	t[BACKENDS] = (struct kilo_bpf_table){ d->n_backends, sizeof(__u32), sizeof(struct kilo_lb_backend),
					       (unsigned char *)d->backends, false };
	t[SLOTS] = (struct kilo_bpf_table){ d->n_slots, sizeof(struct kilo_lb_slot_key), sizeof(__u32),
					    (unsigned char *)d->slots, false };
	t[REVNAT] = (struct kilo_bpf_table){ d->n_revnat, sizeof(__u32), sizeof(struct kilo_lb_revnat),
					     (unsigned char *)d->revnat, false };
	t[BACKEND_FRONTENDS] = (struct kilo_bpf_table){ d->n_backend_frontends, sizeof(struct kilo_lb_backend_addr),
							sizeof(struct kilo_lb_backend_frontends),
							(unsigned char *)d->backend_frontends, false };
}

static int maglev_compare(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(__u32));
}

/* Every array sorted, every slot's backend present, every table of a size the map takes: or nothing is written. */
static int check_desired(const struct kilo_lb_desired *d, const struct kilo_bpf_table t[N_TABLES],
			 struct kilo_error *err)
{
	static const char *const array_names[N_TABLES] = {
		[SERVICES] = "services", [BACKENDS] = "backends", [SLOTS] = "slots", [REVNAT] = "revnat",
		[BACKEND_FRONTENDS] = "backend_frontends",
	};

	for (int i = 0; i < N_TABLES; i++) {
		size_t bad = kilo_bpf_table_unsorted(&t[i]);

		if (bad < t[i].n)
			return kilo_error_set(err, EINVAL, "bpf: desired %s[%zu]: not sorted after the entry before it "
					      "(or the same key twice)", array_names[i], bad);
	}
	for (size_t i = 0; i < d->n_slots; i++)
		if (!kilo_bpf_table_has(&t[BACKENDS], &d->slots[i].backend_id))
			return kilo_error_set(err, EINVAL, "bpf: desired slots[%zu] (service %u, slot %u): backend %u is "
					      "not in the backends", i, d->slots[i].key.service_id, d->slots[i].key.slot,
					      d->slots[i].backend_id);
	for (size_t i = 0; i < d->n_maglev; i++) {
		const struct kilo_lb_desired_maglev *g = &d->maglev[i];

		if (g->m != KILO_LB_MAGLEV_DEFAULT && g->m != KILO_LB_MAGLEV_LARGE)
			return kilo_error_set(err, EINVAL, "bpf: desired maglev[%zu] (service %u): M %u is not %u or %u", i,
					      g->service_id, g->m, KILO_LB_MAGLEV_DEFAULT, KILO_LB_MAGLEV_LARGE);
		if (!g->table)
			return kilo_error_set(err, EINVAL, "bpf: desired maglev[%zu] (service %u): no table", i,
					      g->service_id);
		if (i > 0 && maglev_compare(&d->maglev[i - 1].service_id, &g->service_id) >= 0)
			return kilo_error_set(err, EINVAL, "bpf: desired maglev[%zu]: not sorted after the entry before it "
					      "(or the same service twice)", i);
	}
	return 0;
}

/* The maps as they are; Maglev tables in the inner maps that last (may be NULL) wrote are not read again. */
static int read_state(const int fds[N_TABLES], int maglev_fd, const struct kilo_bpf_last *last, struct kilo_bpf_last *s,
		      struct kilo_error *err)
{
	struct kilo_bpf_table shapes[N_TABLES];
	int r;

	desired_tables(&(struct kilo_lb_desired){ 0 }, shapes);
	for (int i = 0; i < N_TABLES; i++) {
		s->tables[i] = shapes[i];
		r = kilo_bpf_table_read(fds[i], &s->tables[i]);
		if (r < 0)
			return kilo_error_set(err, -r, "bpf: reading map %s: %s", map_names[i], strerror(-r));
	}
	r = kilo_bpf_maglev_read(maglev_fd, last ? last->maglev : NULL, last ? last->n_maglev : 0, &s->maglev,
				 &s->n_maglev);
	if (r < 0)
		return kilo_error_set(err, -r, "bpf: reading map %s: %s", MAGLEV_MAP, strerror(-r));
	return 0;
}

/* The desired state as kept for the next sync: records copied, Maglev tables as digests. */
static int keep_state(const struct kilo_bpf_table want[N_TABLES], const struct kilo_bpf_maglev_digest *digests, size_t n,
		      struct kilo_bpf_last *out)
{
	*out = (struct kilo_bpf_last){ 0 };
	for (int i = 0; i < N_TABLES; i++)
		if (kilo_bpf_table_copy(&want[i], &out->tables[i]) < 0)
			goto oom;
	if (n) {
		out->maglev = malloc(n * sizeof(*out->maglev));
		if (!out->maglev)
			goto oom;
		memcpy(out->maglev, digests, n * sizeof(*digests));
	}
	out->n_maglev = n;
	return 0;
oom:
	state_free(out);
	return -ENOMEM;
}

void kilo__bpf_changes(struct kilo_bpf_changes *c, const struct kilo_bpf_diff *d)
{
	*c = (struct kilo_bpf_changes){ .added = (unsigned)d->n_added, .changed = (unsigned)(d->n_write - d->n_added),
					.removed = (unsigned)d->n_remove };
}

/*
 * The order that keeps every reference valid: what is referred to goes in
 * before what refers to it (backends, then reverse NAT, slots and tables,
 * then services), and comes out after.
 */
static int write_all(const int fds[N_TABLES], int maglev_fd, const struct kilo_lb_desired *d,
		     const struct kilo_bpf_table want[N_TABLES], const struct kilo_bpf_last *have,
		     const struct kilo_bpf_diff diffs[N_TABLES], struct kilo_bpf_maglev_plan *mp, struct kilo_error *err)
{
	static const int writes[] = { BACKENDS, REVNAT, BACKEND_FRONTENDS, SLOTS, -1, SERVICES };
	static const int removes[] = { SERVICES, SLOTS, -1, BACKEND_FRONTENDS, REVNAT, BACKENDS };
	int r;

	for (size_t k = 0; k < sizeof(writes) / sizeof(writes[0]); k++) {
		int t = writes[k];

		r = t < 0 ? kilo_bpf_maglev_write(maglev_fd, d, mp)
			  : kilo_bpf_table_write(fds[t], &want[t], diffs[t].write, diffs[t].n_write);
		if (r < 0)
			return kilo_error_set(err, -r, "bpf: writing map %s: %s", t < 0 ? MAGLEV_MAP : map_names[t],
					      strerror(-r));
	}
	for (size_t k = 0; k < sizeof(removes) / sizeof(removes[0]); k++) {
		int t = removes[k];

		r = t < 0 ? kilo_bpf_maglev_remove(maglev_fd, mp)
			  : kilo_bpf_table_delete(fds[t], &have->tables[t], diffs[t].remove, diffs[t].n_remove);
		if (r < 0)
			return kilo_error_set(err, -r, "bpf: deleting from map %s: %s", t < 0 ? MAGLEV_MAP : map_names[t],
					      strerror(-r));
	}
	return 0;
}

/* One entry, written every sync: before the services whose flows read it. */
static int write_node(kilo_bpf *bpf, const struct kilo_lb_node *node, struct kilo_error *err)
{
	int fd = kilo__bpf_map_fd(bpf, NODE_MAP);
	__u32 key = 0;

	if (fd < 0)
		return kilo_error_set(err, ENOENT, "bpf: no map %s in the programs", NODE_MAP);
	if (bpf_map_update_elem(fd, &key, node, BPF_ANY) < 0)
		return kilo_error_set(err, errno, "bpf: writing map %s: %s", NODE_MAP, strerror(errno));
	return 0;
}

int kilo_bpf_sync(kilo_bpf *bpf, const struct kilo_lb_desired *desired, bool read_maps,
		  struct kilo_bpf_sync_report *report, struct kilo_error *err)
{
	struct kilo_bpf_table want[N_TABLES];
	struct kilo_bpf_diff diffs[N_TABLES] = { 0 };
	struct kilo_bpf_maglev_plan mp = { 0 };
	struct kilo_bpf_last read = { 0 }, kept;
	const struct kilo_bpf_last *have;
	int fds[N_TABLES], maglev_fd, r;

	*report = (struct kilo_bpf_sync_report){ 0 };
	desired_tables(desired, want);
	r = check_desired(desired, want, err);
	if (r < 0)
		return r;
	for (int i = 0; i < N_TABLES; i++)
		if ((fds[i] = kilo__bpf_map_fd(bpf, map_names[i])) < 0)
			return kilo_error_set(err, ENOENT, "bpf: no map %s in the programs", map_names[i]);
	maglev_fd = kilo__bpf_map_fd(bpf, MAGLEV_MAP);
	if (maglev_fd < 0)
		return kilo_error_set(err, ENOENT, "bpf: no map %s in the programs", MAGLEV_MAP);
	if (read_maps || !bpf->last) {
		r = read_state(fds, maglev_fd, bpf->last, &read, err);
		have = &read;
	} else {
		have = bpf->last;
	}
	for (int i = 0; r == 0 && i < N_TABLES; i++)
		r = kilo_bpf_table_diff(&want[i], &have->tables[i], &diffs[i]);
	if (r == 0)
		r = kilo_bpf_maglev_plan(desired, have->maglev, have->n_maglev, &mp);
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "bpf: sync: out of memory");
	if (r == 0)
		r = write_node(bpf, &desired->node, err);
	if (r == 0)
		r = write_all(fds, maglev_fd, desired, want, have, diffs, &mp, err);
	/* After a failure the maps are between two states: the next sync reads them. */
	kilo__bpf_last_free(bpf);
	if (r == 0 && keep_state(want, mp.want, desired->n_maglev, &kept) == 0) {
		bpf->last = malloc(sizeof(*bpf->last));
		if (bpf->last)
			memcpy(bpf->last, &kept, sizeof(kept));
		else
			state_free(&kept);
	}
	if (r == 0) {
		kilo__bpf_changes(&report->services, &diffs[SERVICES]);
		kilo__bpf_changes(&report->backends, &diffs[BACKENDS]);
		kilo__bpf_changes(&report->slots, &diffs[SLOTS]);
		kilo__bpf_changes(&report->revnat, &diffs[REVNAT]);
		kilo__bpf_changes(&report->backend_frontends, &diffs[BACKEND_FRONTENDS]);
		report->maglev = (struct kilo_bpf_changes){ .added = (unsigned)mp.n_added,
							    .changed = (unsigned)(mp.n_write - mp.n_added),
							    .removed = (unsigned)mp.n_remove };
	}
	for (int i = 0; i < N_TABLES; i++)
		kilo_bpf_diff_free(&diffs[i]);
	kilo_bpf_maglev_plan_free(&mp);
	state_free(&read);
	return r;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * A desired state written into the maps by difference. Between resyncs
 * the difference is taken against what the last sync wrote (kept in the
 * handle: the hash maps' records and a digest per Maglev table); at the
 * first sync, after a failure and at a resync, against the maps read back.
 */
#include "internal.h"
#include "table.h"

#include <errno.h>
#include <sodium.h>
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

enum { SERVICES, BACKENDS, SLOTS, REVNAT, N_TABLES };

static const char *const map_names[N_TABLES] = {
	[SERVICES] = "kilo_lb_services",
	[BACKENDS] = "kilo_lb_backends",
	[SLOTS] = "kilo_lb_slots",
	[REVNAT] = "kilo_lb_revnat",
};

#define MAGLEV_MAP "kilo_lb_maglev"

/* A Maglev table as kept between syncs: its digest, not its M entries. */
struct maglev_digest {
	__u32 service_id;
	__u32 m;
	unsigned char digest[16];
};

/* What a sync compares with, and what it keeps of what it wrote: tables plus Maglev digests. */
struct kilo_bpf_last {
	struct kilo_bpf_table tables[N_TABLES];
	struct maglev_digest *maglev; /* sorted by service_id (memcmp) */
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

static void digest_table(const __u32 *table, __u32 m, unsigned char out[16])
{
	crypto_generichash(out, 16, (const unsigned char *)table, (unsigned long long)m * sizeof(*table), NULL, 0);
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
		[SERVICES] = "services", [BACKENDS] = "backends", [SLOTS] = "slots", [REVNAT] = "revnat"
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

static int lookup_each(int fd, __u32 *values, __u32 n)
{
	for (__u32 k = 0; k < n; k++) {
		int r = bpf_map_lookup_elem(fd, &k, &values[k]);

		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads the Maglev table that the outer map holds for *id. */
static int read_maglev_table(int outer_fd, __u32 id, struct maglev_digest *out)
{
	struct bpf_map_info info = { 0 };
	__u32 inner_id, info_len = sizeof(info), count;
	__u32 *keys = NULL, *values = NULL, batch;
	int fd, r;

	r = bpf_map_lookup_elem(outer_fd, &id, &inner_id);
	if (r < 0)
		return r;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return fd;
	r = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	if (r == 0) {
		keys = malloc(info.max_entries * sizeof(*keys));
		values = malloc(info.max_entries * sizeof(*values));
		r = keys && values ? 0 : -ENOMEM;
	}
	if (r == 0) {
		count = info.max_entries;
		r = bpf_map_lookup_batch(fd, NULL, &batch, keys, values, &count, NULL);
		if (r == -ENOENT && count == info.max_entries)
			r = 0;
		/* A kernel without batches on arrays: one by one. */
		if (r < 0)
			r = lookup_each(fd, values, info.max_entries);
	}
	if (r == 0) {
		*out = (struct maglev_digest){ .service_id = id, .m = info.max_entries };
		digest_table(values, info.max_entries, out->digest);
	}
	free(keys);
	free(values);
	close(fd);
	return r;
}

static int read_maglev(int outer_fd, struct kilo_bpf_last *s)
{
	__u32 key, next;
	size_t cap = 0;
	bool first = true;
	int r;

	while ((r = bpf_map_get_next_key(outer_fd, first ? NULL : &key, &next)) == 0) {
		first = false;
		key = next;
		if (s->n_maglev == cap) {
			struct maglev_digest *grown = realloc(s->maglev, (cap = cap * 2 + 16) * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			s->maglev = grown;
		}
		r = read_maglev_table(outer_fd, key, &s->maglev[s->n_maglev]);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		s->n_maglev++;
	}
	if (r != -ENOENT)
		return r;
	qsort(s->maglev, s->n_maglev, sizeof(*s->maglev), maglev_compare);
	return 0;
}

/* The maps as they are. */
static int read_state(const int fds[N_TABLES], int maglev_fd, struct kilo_bpf_last *s, struct kilo_error *err)
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
	r = read_maglev(maglev_fd, s);
	if (r < 0)
		return kilo_error_set(err, -r, "bpf: reading map %s: %s", MAGLEV_MAP, strerror(-r));
	return 0;
}

/* The desired state as kept for the next sync: records copied, Maglev tables as digests. */
static int keep_state(const struct kilo_bpf_table want[N_TABLES], const struct maglev_digest *digests, size_t n,
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

/* A new table for service g, filled, then swapped into the outer map in one update. */
static int swap_in_table(int outer_fd, const struct kilo_lb_desired_maglev *g, __u32 *keys)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	LIBBPF_OPTS(bpf_map_batch_opts, batch);
	__u32 count = g->m;
	int fd, r;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kilo_lb_maglev", sizeof(__u32), sizeof(__u32), g->m, &opts);
	if (fd < 0)
		return fd;
	r = bpf_map_update_batch(fd, keys, g->table, &count, &batch);
	/* A kernel without batches on arrays: one by one. */
	for (__u32 k = 0, failed = r < 0; failed && k < g->m; k++)
		if ((r = bpf_map_update_elem(fd, &k, &g->table[k], BPF_ANY)) < 0)
			break;
	if (r == 0)
		r = bpf_map_update_elem(outer_fd, &g->service_id, &fd, BPF_ANY);
	/* The outer map holds the table now; this fd is not needed. */
	close(fd);
	return r;
}

struct maglev_plan {
	struct maglev_digest *want; /* desired's digests, in its order */
	size_t *write;             /* indexes of desired's tables to swap in */
	size_t n_write, n_added;
	__u32 *remove;             /* services whose table goes */
	size_t n_remove;
};

static void maglev_plan_free(struct maglev_plan *p)
{
	free(p->want);
	free(p->write);
	free(p->remove);
}

static int plan_maglev(const struct kilo_lb_desired *d, const struct kilo_bpf_last *have, struct maglev_plan *p)
{
	size_t i = 0, j = 0;

	*p = (struct maglev_plan){ 0 };
	p->want = malloc((d->n_maglev + 1) * sizeof(*p->want));
	p->write = malloc((d->n_maglev + 1) * sizeof(*p->write));
	p->remove = malloc((have->n_maglev + 1) * sizeof(*p->remove));
	if (!p->want || !p->write || !p->remove)
		return -ENOMEM;
	for (size_t k = 0; k < d->n_maglev; k++) {
		p->want[k] = (struct maglev_digest){ .service_id = d->maglev[k].service_id, .m = d->maglev[k].m };
		digest_table(d->maglev[k].table, d->maglev[k].m, p->want[k].digest);
	}
	while (i < d->n_maglev || j < have->n_maglev) {
		int c = i == d->n_maglev ? 1 : j == have->n_maglev ? -1 : maglev_compare(&p->want[i], &have->maglev[j]);

		if (c < 0) {
			p->write[p->n_write++] = i++;
			p->n_added++;
		} else if (c > 0) {
			p->remove[p->n_remove++] = have->maglev[j++].service_id;
		} else {
			if (memcmp(&p->want[i], &have->maglev[j], sizeof(p->want[i])))
				p->write[p->n_write++] = i;
			i++;
			j++;
		}
	}
	return 0;
}

static int write_maglev(int outer_fd, const struct kilo_lb_desired *d, const struct maglev_plan *p)
{
	__u32 *keys;
	int r = 0;

	if (p->n_write == 0)
		return 0;
	keys = malloc(KILO_LB_MAGLEV_LARGE * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (__u32 k = 0; k < KILO_LB_MAGLEV_LARGE; k++)
		keys[k] = k;
	for (size_t i = 0; i < p->n_write && r == 0; i++)
		r = swap_in_table(outer_fd, &d->maglev[p->write[i]], keys);
	free(keys);
	return r;
}

static int remove_maglev(int outer_fd, const struct maglev_plan *p)
{
	for (size_t i = 0; i < p->n_remove; i++) {
		int r = bpf_map_delete_elem(outer_fd, &p->remove[i]);

		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

static void count(struct kilo_bpf_changes *c, const struct kilo_bpf_diff *d)
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
		     const struct kilo_bpf_diff diffs[N_TABLES], const struct maglev_plan *mp, struct kilo_error *err)
{
	static const int writes[] = { BACKENDS, REVNAT, SLOTS, -1, SERVICES };
	static const int removes[] = { SERVICES, SLOTS, -1, REVNAT, BACKENDS };
	int r;

	for (size_t k = 0; k < sizeof(writes) / sizeof(writes[0]); k++) {
		int t = writes[k];

		r = t < 0 ? write_maglev(maglev_fd, d, mp)
			  : kilo_bpf_table_write(fds[t], &want[t], diffs[t].write, diffs[t].n_write);
		if (r < 0)
			return kilo_error_set(err, -r, "bpf: writing map %s: %s", t < 0 ? MAGLEV_MAP : map_names[t],
					      strerror(-r));
	}
	for (size_t k = 0; k < sizeof(removes) / sizeof(removes[0]); k++) {
		int t = removes[k];

		r = t < 0 ? remove_maglev(maglev_fd, mp)
			  : kilo_bpf_table_delete(fds[t], &have->tables[t], diffs[t].remove, diffs[t].n_remove);
		if (r < 0)
			return kilo_error_set(err, -r, "bpf: deleting from map %s: %s", t < 0 ? MAGLEV_MAP : map_names[t],
					      strerror(-r));
	}
	return 0;
}

int kilo_bpf_sync(kilo_bpf *bpf, const struct kilo_lb_desired *desired, bool read_maps,
		  struct kilo_bpf_sync_report *report, struct kilo_error *err)
{
	struct kilo_bpf_table want[N_TABLES];
	struct kilo_bpf_diff diffs[N_TABLES] = { 0 };
	struct maglev_plan mp = { 0 };
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
		r = read_state(fds, maglev_fd, &read, err);
		have = &read;
	} else {
		have = bpf->last;
	}
	for (int i = 0; r == 0 && i < N_TABLES; i++)
		r = kilo_bpf_table_diff(&want[i], &have->tables[i], &diffs[i]);
	if (r == 0)
		r = plan_maglev(desired, have, &mp);
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "bpf: sync: out of memory");
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
		count(&report->services, &diffs[SERVICES]);
		count(&report->backends, &diffs[BACKENDS]);
		count(&report->slots, &diffs[SLOTS]);
		count(&report->revnat, &diffs[REVNAT]);
		report->maglev = (struct kilo_bpf_changes){ .added = (unsigned)mp.n_added,
							    .changed = (unsigned)(mp.n_write - mp.n_added),
							    .removed = (unsigned)mp.n_remove };
	}
	for (int i = 0; i < N_TABLES; i++)
		kilo_bpf_diff_free(&diffs[i]);
	maglev_plan_free(&mp);
	state_free(&read);
	return r;
}

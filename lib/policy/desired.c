/* SPDX-License-Identifier: Apache-2.0 */
/* Frontends -> the contents of the maps, with stable ids. */
#include "services.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "frontends.h"
#include "maglev.h"

#define MAX_SLOTS UINT16_MAX /* kilo_lb_service.backend_count */

struct builder {
	struct kilo_lb_desired *d;
	struct kilo_lb_ids *ids;
	struct kilo_lb_report *report;
	uint32_t m; /* 0: no Maglev tables */
	uint32_t max_tables;
	/* Room for the largest frontend: its backends' ids, their permutations, and the fill's scratch. */
	uint32_t *backend_ids;
	uint32_t *slot_ids;
	struct kilo_maglev_permutation *perms;
	void *scratch;
};

/*
 * A Maglev table, shared by the desired states that hold it and by its
 * frontend's cache: a table costs 0.2 ms to fill at M = 16381, and a
 * computation after one changed EndpointSlice would otherwise fill every
 * frontend's again.
 */
struct shared_table {
	size_t refs;
	__u32 entries[];
};

static struct shared_table *table_of(const __u32 *entries)
{
	return (struct shared_table *)((uintptr_t)entries - offsetof(struct shared_table, entries));
}

static void table_unref(struct shared_table *table)
{
	if (table && --table->refs == 0)
		free(table);
}

/* What a frontend's last table was filled from: the same backends in the same order give the same table. */
struct maglev_cache {
	struct shared_table *table;
	uint32_t m;
	size_t n;
	uint32_t backend_ids[];
};

static void maglev_cache_drop(void *cache)
{
	struct maglev_cache *c = cache;

	table_unref(c->table);
	free(c);
}

void kilo_lb_desired_release(struct kilo_lb_desired *desired)
{
	if (!desired)
		return;
	for (size_t i = 0; i < desired->n_maglev; i++)
		table_unref(table_of(desired->maglev[i].table));
	free(desired->services);
	free(desired->backends);
	free(desired->slots);
	free(desired->revnat);
	free(desired->maglev);
	free(desired->backend_frontends);
	memset(desired, 0, sizeof(*desired));
}

/*
 * Lists frontend_id among the frontends of the backend at index i of the
 * desired backends (the same index in backend_frontends). A backend with
 * more frontends than the map holds keeps a REPLY entry per flow instead,
 * and a record that lists none: a reply could find another frontend's flow
 * of the same client port, not the newest.
 */
static void link_frontend(struct builder *b, size_t i, __u32 frontend_id)
{
	struct kilo_lb_backend_frontends *fronts = &b->d->backend_frontends[i].value;

	for (__u32 k = 0; k < fronts->n_services; k++)
		if (fronts->service_ids[k] == frontend_id)
			return;
	if (fronts->n_services == KILO_LB_BACKEND_FRONTENDS) {
		b->d->backends[i].value.flags |= KILO_LB_BACKEND_REPLY_ENTRIES;
		return;
	}
	fronts->service_ids[fronts->n_services++] = frontend_id;
}

/* The ids of f's backends into b->backend_ids, each backend listed once over all frontends. */
static int add_backends(struct builder *b, const struct kilo_lb_frontend *f, __u32 frontend_id)
{
	for (size_t i = 0; i < f->n_backends; i++) {
		const struct kilo_lb_choice *c = &f->backends[i];
		struct kilo_lb_id_entry *entry;
		bool first;
		int r = kilo_lb_ids_get(b->ids, &b->ids->backends, &c->key, &entry, &first);

		if (r < 0)
			return r;
		b->backend_ids[i] = entry->id;
		/*
		 * A backend in no frontend's slots keeps its flows and takes no new
		 * ones, not even by a client's affinity; one with a slot anywhere
		 * takes them, terminating or not (kube-proxy's fallback to serving
		 * terminating endpoints). Affinity is per backend, not per frontend:
		 * a backend with a slot in one frontend alone still draws its
		 * affine clients' new flows in the others until their entries expire.
		 */
		if (first) {
			struct kilo_lb_desired_backend *out = &b->d->backends[b->d->n_backends];

			*out = (struct kilo_lb_desired_backend){.id = entry->id};
			out->value.addr = c->key.addr;
			out->value.port = c->key.port;
			out->value.proto = c->key.proto;
			out->value.family = c->key.family;
			out->value.flags = c->slot ? 0 : KILO_LB_BACKEND_NO_NEW_FLOWS;
			b->d->backend_frontends[b->d->n_backends] = (struct kilo_lb_desired_backend_frontends){
				.key = {.addr = c->key.addr, .port = c->key.port, .proto = c->key.proto,
					.family = c->key.family},
				.value = {.backend_id = entry->id},
			};
			entry->out = b->d->n_backends++;
		} else if (c->slot) {
			b->d->backends[entry->out].value.flags &= ~(__u32)KILO_LB_BACKEND_NO_NEW_FLOWS;
		}
		/* Terminating backends too: their flows' replies are still reversed. */
		link_frontend(b, entry->out, frontend_id);
	}
	return 0;
}

/* The frontend's cached table when its slots have not changed, else a new one, cached. */
static struct shared_table *maglev_table(struct builder *b, const struct kilo_lb_frontend *f,
					 struct kilo_lb_id_entry *entry, size_t n_slots)
{
	struct maglev_cache *cache = entry->cache;
	struct shared_table *table;
	size_t j = 0;

	if (cache && cache->m == b->m && cache->n == n_slots &&
	    memcmp(cache->backend_ids, b->slot_ids, n_slots * sizeof(*b->slot_ids)) == 0) {
		cache->table->refs++;
		return cache->table;
	}
	table = malloc(sizeof(*table) + (size_t)b->m * sizeof(table->entries[0]));
	cache = malloc(sizeof(*cache) + n_slots * sizeof(cache->backend_ids[0]));
	if (!table || !cache)
		goto fail;
	for (size_t i = 0; i < f->n_backends && j < n_slots; i++)
		if (f->backends[i].slot)
			b->perms[j++] = kilo_maglev_permutation(f->backends[i].name, strlen(f->backends[i].name), b->m);
	if (kilo_maglev_fill(b->perms, b->slot_ids, n_slots, b->m, b->scratch, table->entries, NULL) < 0)
		goto fail;
	table->refs = 2; /* the desired state's and the cache's */
	*cache = (struct maglev_cache){.table = table, .m = b->m, .n = n_slots};
	memcpy(cache->backend_ids, b->slot_ids, n_slots * sizeof(*b->slot_ids));
	if (entry->cache)
		maglev_cache_drop(entry->cache);
	entry->cache = cache;
	return table;
fail:
	free(table);
	free(cache);
	return NULL;
}

static int add_frontend(struct builder *b, const struct kilo_lb_frontend *f)
{
	struct kilo_lb_desired *d = b->d;
	struct kilo_lb_desired_service *svc;
	struct kilo_lb_id_entry *entry;
	char name[KILO_LB_FRONTEND_NAME_MAX];
	size_t n_slots = 0;
	bool first;
	int r = kilo_lb_ids_get(b->ids, &b->ids->frontends, &f->key, &entry, &first);

	if (r < 0)
		return r;
	if (!first) {
		kilo_lb_frontend_name(f, name);
		kilo_lb_report_add(b->report, "%s: frontend %s is another service's; left out", f->svc->label, name);
		return 0;
	}
	svc = &d->services[d->n_services++];
	*svc = (struct kilo_lb_desired_service){.key = f->key};
	svc->value.id = entry->id;
	svc->value.flags = f->flags;
	if (f->flags & KILO_LB_SERVICE_AFFINITY)
		svc->value.affinity_timeout = f->svc->affinity_timeout;
	d->revnat[d->n_revnat++] = (struct kilo_lb_desired_revnat){
		.service_id = entry->id,
		.value = {.addr = f->key.addr, .port = f->key.port, .family = f->key.family},
	};
	/* entry stays valid: add_backends looks up the backends' table, never the frontends'. */
	r = add_backends(b, f, entry->id);
	if (r < 0)
		return r;
	for (size_t i = 0; i < f->n_backends; i++) {
		if (!f->backends[i].slot)
			continue;
		if (n_slots == MAX_SLOTS) {
			kilo_lb_frontend_name(f, name);
			kilo_lb_report_add(b->report, "%s: frontend %s: only %u of %zu backends take new flows",
					   f->svc->label, name, MAX_SLOTS, f->n_slots);
			break;
		}
		b->slot_ids[n_slots++] = b->backend_ids[i];
		d->slots[d->n_slots++] = (struct kilo_lb_desired_slot){
			.key = {.service_id = entry->id, .slot = (__u32)n_slots},
			.backend_id = b->backend_ids[i],
		};
	}
	svc->value.backend_count = (__u16)n_slots;
	if (b->m && n_slots > b->m) {
		kilo_lb_frontend_name(f, name);
		kilo_lb_report_add(b->report,
				   "%s: frontend %s: %zu backends do not fit a Maglev table of %u entries; "
				   "new flows pick a slot by hash",
				   f->svc->label, name, n_slots, b->m);
	} else if (b->m && n_slots >= 2 && d->n_maglev == b->max_tables) {
		kilo_lb_frontend_name(f, name);
		kilo_lb_report_add(b->report,
				   "%s: frontend %s: no Maglev table, %u frontends have one already "
				   "(kg --bpf-maglev-tables); new flows pick a slot by hash",
				   f->svc->label, name, b->max_tables);
	} else if (b->m && n_slots >= 2) {
		struct shared_table *table = maglev_table(b, f, entry, n_slots);

		if (!table)
			return -ENOMEM;
		d->maglev[d->n_maglev++] = (struct kilo_lb_desired_maglev){
			.service_id = entry->id,
			.m = b->m,
			.table = table->entries,
		};
		svc->value.flags |= KILO_LB_SERVICE_MAGLEV;
		return 0;
	}
	if (entry->cache) {
		maglev_cache_drop(entry->cache);
		entry->cache = NULL;
	}
	return 0;
}

static int compare_services(const void *a, const void *b)
{
	return memcmp(&((const struct kilo_lb_desired_service *)a)->key,
		      &((const struct kilo_lb_desired_service *)b)->key, sizeof(struct kilo_lb_service_key));
}

static int compare_backends(const void *a, const void *b)
{
	return memcmp(&((const struct kilo_lb_desired_backend *)a)->id, &((const struct kilo_lb_desired_backend *)b)->id,
		      sizeof(__u32));
}

static int compare_slots(const void *a, const void *b)
{
	return memcmp(&((const struct kilo_lb_desired_slot *)a)->key, &((const struct kilo_lb_desired_slot *)b)->key,
		      sizeof(struct kilo_lb_slot_key));
}

static int compare_revnat(const void *a, const void *b)
{
	return memcmp(&((const struct kilo_lb_desired_revnat *)a)->service_id,
		      &((const struct kilo_lb_desired_revnat *)b)->service_id, sizeof(__u32));
}

static int compare_backend_frontends(const void *a, const void *b)
{
	return memcmp(&((const struct kilo_lb_desired_backend_frontends *)a)->key,
		      &((const struct kilo_lb_desired_backend_frontends *)b)->key, sizeof(struct kilo_lb_backend_addr));
}

static int compare_maglev(const void *a, const void *b)
{
	return memcmp(&((const struct kilo_lb_desired_maglev *)a)->service_id,
		      &((const struct kilo_lb_desired_maglev *)b)->service_id, sizeof(__u32));
}

/* Every array at its largest size, so that no entry moves while it is built; the builder's room too. */
static int reserve(struct builder *b, const struct kilo_lb_frontends *fronts)
{
	struct kilo_lb_desired *d = b->d;
	size_t n_backends = 0, n_slots = 0, widest = 1;

	for (size_t i = 0; i < fronts->n; i++) {
		n_backends += fronts->items[i].n_backends;
		n_slots += fronts->items[i].n_slots;
		if (fronts->items[i].n_backends > widest)
			widest = fronts->items[i].n_backends;
	}
	d->services = calloc(fronts->n + 1, sizeof(*d->services));
	d->revnat = calloc(fronts->n + 1, sizeof(*d->revnat));
	d->maglev = calloc(fronts->n + 1, sizeof(*d->maglev));
	d->backends = calloc(n_backends + 1, sizeof(*d->backends));
	d->slots = calloc(n_slots + 1, sizeof(*d->slots));
	d->backend_frontends = calloc(n_backends + 1, sizeof(*d->backend_frontends));
	b->backend_ids = calloc(widest, sizeof(*b->backend_ids));
	b->slot_ids = calloc(widest, sizeof(*b->slot_ids));
	b->perms = calloc(widest, sizeof(*b->perms));
	b->scratch = b->m ? malloc(kilo_maglev_scratch_size(widest, b->m)) : NULL;
	if (!d->services || !d->revnat || !d->maglev || !d->backends || !d->slots || !d->backend_frontends ||
	    !b->backend_ids || !b->slot_ids ||
	    !b->perms || (b->m && !b->scratch))
		return -ENOMEM;
	return 0;
}

static int build(struct builder *b, const struct kilo_lb_frontends *fronts)
{
	struct kilo_lb_desired *d = b->d;
	int r = reserve(b, fronts);

	if (r < 0)
		return r;
	d->node = fronts->node;
	for (size_t i = 0; i < fronts->n; i++) {
		r = add_frontend(b, &fronts->items[i]);
		if (r < 0)
			return r;
	}
	/*
	 * Every backend has a record, so that the programs know a packet from no
	 * backend for what it is without a conntrack lookup; one whose replies
	 * search REPLY entries lists no frontend: its frontends do not all fit.
	 */
	for (size_t i = 0; i < d->n_backends; i++) {
		struct kilo_lb_backend_frontends *record = &d->backend_frontends[i].value;

		if (d->backends[i].value.flags & KILO_LB_BACKEND_REPLY_ENTRIES) {
			record->n_services = 0;
			memset(record->service_ids, 0, sizeof(record->service_ids));
		}
	}
	d->n_backend_frontends = d->n_backends;
	qsort(d->services, d->n_services, sizeof(*d->services), compare_services);
	qsort(d->backends, d->n_backends, sizeof(*d->backends), compare_backends);
	qsort(d->slots, d->n_slots, sizeof(*d->slots), compare_slots);
	qsort(d->revnat, d->n_revnat, sizeof(*d->revnat), compare_revnat);
	qsort(d->maglev, d->n_maglev, sizeof(*d->maglev), compare_maglev);
	qsort(d->backend_frontends, d->n_backend_frontends, sizeof(*d->backend_frontends), compare_backend_frontends);
	return kilo_lb_ids_commit(b->ids);
}

int kilo_lb_compute(const struct kilo_lb_inputs *in, struct kilo_lb_ids *ids, struct kilo_lb_desired *out,
		    struct kilo_lb_report *report, struct kilo_error *err)
{
	struct kilo_lb_objects objects = {0};
	struct kilo_lb_frontends fronts = {0};
	struct kilo_lb_report unasked;
	struct builder b = {.d = out, .ids = ids, .report = report};
	int r;

	memset(out, 0, sizeof(*out));
	if (!ids)
		return kilo_error_set(err, EINVAL, "services: ids is NULL");
	/* Objects read from the cache report again what they reported when parsed: they need a report. */
	if (!report) {
		unasked.n_problems = 0;
		b.report = report = &unasked;
	}
	ids->frontends.drop = maglev_cache_drop;
	b.m = in->no_maglev ? 0 : in->maglev_m ? in->maglev_m : KILO_LB_MAGLEV_DEFAULT;
	b.max_tables = in->maglev_max_tables ? in->maglev_max_tables : KILO_LB_MAGLEV_TABLES_DEFAULT;
	if (b.m && !kilo_maglev_size_valid(b.m))
		return kilo_error_set(err, EINVAL, "maglev_m: %u is not a prime of at most %u", in->maglev_m,
				      KILO_MAGLEV_MAX);
	r = kilo_lb_ids_begin(ids);
	if (r < 0) {
		kilo_error_set(err, -r, "services: out of memory");
		goto out;
	}
	r = kilo_lb_objects_read(in->services, in->slices, ids, &objects, report, err);
	if (r < 0)
		goto out;
	r = kilo_lb_frontends_build(&objects, in->mesh, in->self, &fronts, err);
	if (r < 0)
		goto out;
	r = build(&b, &fronts);
	if (r < 0)
		kilo_error_set(err, -r, "services: out of memory");
out:
	if (r < 0)
		kilo_lb_desired_release(out);
	free(b.backend_ids);
	free(b.slot_ids);
	free(b.perms);
	free(b.scratch);
	kilo_lb_frontends_release(&fronts);
	kilo_lb_objects_release(&objects);
	return r;
}

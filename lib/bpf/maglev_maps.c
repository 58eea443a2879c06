// SPDX-License-Identifier: Apache-2.0
/*
 * Maglev tables written by swapping whole new maps into the outer map.
 * Every update of a map of maps waits for the programs running to finish
 * (an RCU grace period, about 10 ms): the new tables of a sync are made and
 * filled first, then swapped in by batches of the outer map's updates, one
 * wait per batch where the kernel batches them.
 */
#include "maglev_maps.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

/* Tables made before one swap: bounded, as each holds a file descriptor until then. */
#define SWAP_BATCH 256

/* Digests compare up to the inner map's id, which says where a table is, not what it holds. */
#define DIGEST_CONTENT offsetof(struct kilo_bpf_maglev_digest, inner_id)

static int by_service(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(__u32));
}

static void digest_table(const __u32 *table, __u32 m, unsigned char out[16])
{
	crypto_generichash(out, 16, (const unsigned char *)table, (unsigned long long)m * sizeof(*table), NULL, 0);
}

static const struct kilo_bpf_maglev_digest *find(const struct kilo_bpf_maglev_digest *list, size_t n, __u32 service)
{
	return n ? bsearch(&service, list, n, sizeof(*list), by_service) : NULL;
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

/* Reads the table in the inner map inner_id. */
static int read_table(__u32 inner_id, struct kilo_bpf_maglev_digest *out)
{
	struct bpf_map_info info = { 0 };
	__u32 info_len = sizeof(info), count, batch;
	__u32 *keys = NULL, *values = NULL;
	int fd = bpf_map_get_fd_by_id(inner_id), r;

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
		out->m = info.max_entries;
		out->inner_id = inner_id;
		digest_table(values, info.max_entries, out->digest);
	}
	free(keys);
	free(values);
	close(fd);
	return r;
}

int kilo_bpf_maglev_read(int outer_fd, const struct kilo_bpf_maglev_digest *known, size_t n_known,
			 struct kilo_bpf_maglev_digest **out, size_t *n)
{
	struct kilo_bpf_maglev_digest *list = NULL;
	__u32 key, next, inner_id;
	size_t cap = 0;
	bool first = true;
	int r;

	*out = NULL;
	*n = 0;
	while ((r = bpf_map_get_next_key(outer_fd, first ? NULL : &key, &next)) == 0) {
		const struct kilo_bpf_maglev_digest *same;

		first = false;
		key = next;
		if (*n == cap) {
			struct kilo_bpf_maglev_digest *grown = realloc(list, (cap = cap * 2 + 16) * sizeof(*grown));

			if (!grown) {
				r = -ENOMEM;
				break;
			}
			list = grown;
		}
		r = bpf_map_lookup_elem(outer_fd, &key, &inner_id);
		same = r == 0 ? find(known, n_known, key) : NULL;
		if (same && same->inner_id == inner_id) {
			list[*n] = *same;
		} else {
			list[*n] = (struct kilo_bpf_maglev_digest){ .service_id = key };
			if (r == 0)
				r = read_table(inner_id, &list[*n]);
		}
		/* Deleted meanwhile: not there. */
		if (r == -ENOENT)
			continue;
		if (r < 0)
			break;
		(*n)++;
	}
	if (r != -ENOENT) {
		free(list);
		*n = 0;
		return r;
	}
	if (*n > 1)
		qsort(list, *n, sizeof(*list), by_service);
	*out = list;
	return 0;
}

void kilo_bpf_maglev_plan_free(struct kilo_bpf_maglev_plan *p)
{
	free(p->want);
	free(p->write);
	free(p->remove);
	*p = (struct kilo_bpf_maglev_plan){ 0 };
}

int kilo_bpf_maglev_plan(const struct kilo_lb_desired *d, const struct kilo_bpf_maglev_digest *have, size_t n_have,
			 struct kilo_bpf_maglev_plan *p)
{
	size_t i = 0, j = 0;

	*p = (struct kilo_bpf_maglev_plan){ 0 };
	p->want = malloc((d->n_maglev + 1) * sizeof(*p->want));
	p->write = malloc((d->n_maglev + 1) * sizeof(*p->write));
	p->remove = malloc((n_have + 1) * sizeof(*p->remove));
	if (!p->want || !p->write || !p->remove) {
		kilo_bpf_maglev_plan_free(p);
		return -ENOMEM;
	}
	for (size_t k = 0; k < d->n_maglev; k++) {
		p->want[k] = (struct kilo_bpf_maglev_digest){ .service_id = d->maglev[k].service_id, .m = d->maglev[k].m };
		digest_table(d->maglev[k].table, d->maglev[k].m, p->want[k].digest);
	}
	while (i < d->n_maglev || j < n_have) {
		int c = i == d->n_maglev ? 1 : j == n_have ? -1 : by_service(&p->want[i], &have[j]);

		if (c < 0) {
			p->write[p->n_write++] = i++;
			p->n_added++;
		} else if (c > 0) {
			p->remove[p->n_remove++] = have[j++].service_id;
		} else {
			if (memcmp(&p->want[i], &have[j], DIGEST_CONTENT))
				p->write[p->n_write++] = i;
			else
				p->want[i].inner_id = have[j].inner_id;
			i++;
			j++;
		}
	}
	return 0;
}

/* A new table for g, filled; its fd in *fd and its id in *id. */
static int make_table(const struct kilo_lb_desired_maglev *g, const __u32 *keys, int *fd, __u32 *id)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	struct bpf_map_info info = { 0 };
	__u32 count = g->m, len = sizeof(info);
	int r;

	*fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kilo_lb_maglev", sizeof(__u32), sizeof(__u32), g->m, &opts);
	if (*fd < 0)
		return *fd;
	r = bpf_map_update_batch(*fd, keys, g->table, &count, NULL);
	/* A kernel without batches on arrays: one by one. */
	for (__u32 k = 0, failed = r < 0; failed && k < g->m; k++)
		if ((r = bpf_map_update_elem(*fd, &k, &g->table[k], BPF_ANY)) < 0)
			break;
	if (r == 0)
		r = bpf_obj_get_info_by_fd(*fd, &info, &len);
	if (r < 0) {
		close(*fd);
		*fd = -1;
		return r;
	}
	*id = info.id;
	return 0;
}

/* Swaps n tables into the outer map: one update for all where the kernel batches maps of maps. */
static int swap_in(int outer_fd, const __u32 *services, const int *fds, __u32 n)
{
	__u32 count = n;

	if (bpf_map_update_batch(outer_fd, services, fds, &count, NULL) == 0)
		return 0;
	/* The rest one by one. */
	for (__u32 k = count; k < n; k++) {
		int r = bpf_map_update_elem(outer_fd, &services[k], &fds[k], BPF_ANY);

		if (r < 0)
			return r;
	}
	return 0;
}

int kilo_bpf_maglev_write(int outer_fd, const struct kilo_lb_desired *d, struct kilo_bpf_maglev_plan *p)
{
	__u32 services[SWAP_BATCH], *keys;
	int fds[SWAP_BATCH];
	int r = 0;

	if (p->n_write == 0)
		return 0;
	keys = malloc(KILO_LB_MAGLEV_LARGE * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (__u32 k = 0; k < KILO_LB_MAGLEV_LARGE; k++)
		keys[k] = k;
	for (size_t done = 0; done < p->n_write && r == 0;) {
		__u32 n = 0;

		for (; n < SWAP_BATCH && done + n < p->n_write && r == 0; n++) {
			size_t i = p->write[done + n];

			services[n] = d->maglev[i].service_id;
			r = make_table(&d->maglev[i], keys, &fds[n], &p->want[i].inner_id);
		}
		/* The table that failed was not made: only those before it are swapped in. */
		if (r < 0)
			n--;
		if (n > 0) {
			int s = swap_in(outer_fd, services, fds, n);

			if (r == 0)
				r = s;
		}
		/* The outer map holds the tables now: these fds are not needed. */
		for (__u32 k = 0; k < n; k++)
			close(fds[k]);
		done += n;
	}
	free(keys);
	return r;
}

int kilo_bpf_maglev_remove(int outer_fd, const struct kilo_bpf_maglev_plan *p)
{
	__u32 count = (__u32)p->n_remove;

	/* One wait for all, where the kernel batches; else (or a table already gone) one by one. */
	if (count == 0 || bpf_map_delete_batch(outer_fd, p->remove, &count, NULL) == 0)
		return 0;
	for (size_t i = count; i < p->n_remove; i++) {
		int r = bpf_map_delete_elem(outer_fd, &p->remove[i]);

		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

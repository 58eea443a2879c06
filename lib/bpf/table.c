// SPDX-License-Identifier: Apache-2.0
/* Maps read into sorted tables, diffed in one merge pass, and written back by batches. */
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "../core/array.h"

/* Records per batch syscall: large enough that a 1M-entry map is read in a few hundred. */
#define BATCH 4096

void kilo_bpf_table_free(struct kilo_bpf_table *t)
{
	if (t->owned)
		free(t->data);
	t->data = NULL;
	t->n = 0;
	t->owned = false;
}

int kilo_bpf_table_copy(const struct kilo_bpf_table *t, struct kilo_bpf_table *out)
{
	size_t bytes = t->n * (t->key_size + t->value_size);

	*out = (struct kilo_bpf_table){ .n = t->n, .key_size = t->key_size, .value_size = t->value_size, .owned = true };
	if (bytes == 0)
		return 0;
	out->data = malloc(bytes);
	if (!out->data)
		return -ENOMEM;
	memcpy(out->data, t->data, bytes);
	return 0;
}

size_t kilo_bpf_table_unsorted(const struct kilo_bpf_table *t)
{
	for (size_t i = 1; i < t->n; i++)
		if (memcmp(kilo_bpf_record(t, i - 1), kilo_bpf_record(t, i), t->key_size) >= 0)
			return i;
	return t->n;
}

bool kilo_bpf_table_has(const struct kilo_bpf_table *t, const void *key)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(kilo_bpf_record(t, mid), key, t->key_size);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int compare_keys(const void *a, const void *b, void *key_size)
{
	return memcmp(a, b, *(size_t *)key_size);
}

void kilo_bpf_table_sort(struct kilo_bpf_table *t)
{
	size_t key_size = t->key_size;

	if (t->n > 1)
		qsort_r(t->data, t->n, t->key_size + t->value_size, compare_keys, &key_size);
}

static int grow(struct kilo_bpf_table *t, size_t *cap, size_t more)
{
	size_t record = t->key_size + t->value_size;
	unsigned char *data;

	if (t->n + more <= *cap)
		return 0;
	*cap = (t->n + more) * 2;
	data = realloc(t->data, *cap * record);
	if (!data)
		return -ENOMEM;
	t->data = data;
	return 0;
}

/* Appends n keys and values, given apart, as records. */
static void append(struct kilo_bpf_table *t, const unsigned char *keys, const unsigned char *values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char *rec = t->data + (t->n + i) * (t->key_size + t->value_size);

		memcpy(rec, keys + i * t->key_size, t->key_size);
		memcpy(rec + t->key_size, values + i * t->value_size, t->value_size);
	}
	t->n += n;
}

/* One key after another, for a kernel without batch lookups on the map's type. */
static int read_by_key(int fd, struct kilo_bpf_table *t, size_t *cap, unsigned char *key, unsigned char *value)
{
	unsigned char *next = key + t->key_size;
	bool first = true;
	int r;

	t->n = 0;
	while ((r = bpf_map_get_next_key(fd, first ? NULL : key, next)) == 0) {
		first = false;
		memcpy(key, next, t->key_size);
		r = bpf_map_lookup_elem(fd, key, value);
		/* Deleted between the two calls: not there. */
		if (r == -ENOENT)
			continue;
		if (r < 0 || (r = grow(t, cap, 1)) < 0)
			return r;
		append(t, key, value, 1);
	}
	return r == -ENOENT ? 0 : r;
}

int kilo_bpf_table_read(int fd, struct kilo_bpf_table *t)
{
	unsigned char batch[64]; /* the kernel's position token: a bucket number for a hash */
	unsigned char *keys, *values;
	size_t cap = 0;
	bool first = true;
	int r = 0;

	t->n = 0;
	t->data = NULL;
	t->owned = true;
	keys = malloc(BATCH * t->key_size * 2);
	values = malloc(BATCH * t->value_size);
	if (!keys || !values) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 count = BATCH;

		r = bpf_map_lookup_batch(fd, first ? NULL : batch, batch, keys, values, &count, NULL);
		if (r < 0 && r != -ENOENT && first && count == 0) {
			r = read_by_key(fd, t, &cap, keys, values);
			break;
		}
		first = false;
		if (r < 0 && r != -ENOENT)
			break;
		if (grow(t, &cap, count) < 0) {
			r = -ENOMEM;
			break;
		}
		append(t, keys, values, count);
		if (r == -ENOENT) {
			r = 0;
			break;
		}
	}
	if (r == 0)
		kilo_bpf_table_sort(t);
out:
	free(keys);
	free(values);
	if (r < 0)
		kilo_bpf_table_free(t);
	return r;
}

/* How many of n records of size bytes at a and b are the same from the start, or (backward) from the end. */
static size_t same_records(const unsigned char *a, const unsigned char *b, size_t n, size_t size, bool backward)
{
	size_t same = 0, block = 64;

	/* By blocks first, as one memcmp: a sync of 165,000 rules changes a few of them. */
	while (same + block <= n && !memcmp(backward ? a - (same + block) * size : a + same * size,
					    backward ? b - (same + block) * size : b + same * size, block * size))
		same += block;
	while (same < n && !memcmp(backward ? a - (same + 1) * size : a + same * size,
				   backward ? b - (same + 1) * size : b + same * size, size))
		same++;
	return same;
}

/* How many records a and b (of the same sizes) share from their start (*front) and, in what is left, their end (*back). */
static void shared(const struct kilo_bpf_table *a, const struct kilo_bpf_table *b, size_t *front, size_t *back)
{
	size_t size = a->key_size + a->value_size, n = a->n < b->n ? a->n : b->n;

	*front = n ? same_records(a->data, b->data, n, size, false) : 0;
	*back = n > *front ? same_records(a->data + a->n * size, b->data + b->n * size, n - *front, size, true) : 0;
}

/* A diff being made: the changed records apart, to follow the added at the end (diff_end). */
struct diff_making {
	struct kilo_bpf_diff *d;
	size_t *changed;
	size_t n_changed;
};

static int diff_begin(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, struct kilo_bpf_diff *d,
		      struct diff_making *m)
{
	*d = (struct kilo_bpf_diff){ 0 };
	*m = (struct diff_making){ d, malloc((want->n + 1) * sizeof(*m->changed)), 0 };
	d->write = malloc((want->n + 1) * sizeof(*d->write));
	d->remove = malloc((have->n + 1) * sizeof(*d->remove));
	if (!d->write || !d->remove || !m->changed) {
		free(m->changed);
		kilo_bpf_diff_free(d);
		return -ENOMEM;
	}
	return 0;
}

/* Merges want's records i to i_end with have's j to j_end (both sorted) into the diff. */
static void merge(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, size_t i, size_t i_end,
		  size_t j, size_t j_end, struct diff_making *m)
{
	struct kilo_bpf_diff *d = m->d;

	while (i < i_end || j < j_end) {
		const unsigned char *w = i < i_end ? kilo_bpf_record(want, i) : NULL;
		const unsigned char *h = j < j_end ? kilo_bpf_record(have, j) : NULL;
		int c = !w ? 1 : !h ? -1 : memcmp(w, h, want->key_size);

		if (c < 0) {
			d->write[d->n_added++] = i++;
		} else if (c > 0) {
			d->remove[d->n_remove++] = j++;
		} else {
			if (memcmp(w + want->key_size, h + want->key_size, want->value_size))
				m->changed[m->n_changed++] = i;
			i++;
			j++;
		}
	}
}

/* The added first, then the changed: n_write - n_added of them. */
static void diff_end(struct diff_making *m)
{
	struct kilo_bpf_diff *d = m->d;

	memcpy(d->write + d->n_added, m->changed, m->n_changed * sizeof(*m->changed));
	d->n_write = d->n_added + m->n_changed;
	free(m->changed);
}

int kilo_bpf_table_diff(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, struct kilo_bpf_diff *d)
{
	struct diff_making m;
	size_t front, back;

	if (diff_begin(want, have, d, &m) < 0)
		return -ENOMEM;
	/* The records both share at either end need nothing: merged in between only. */
	shared(want, have, &front, &back);
	merge(want, have, front, want->n - back, front, have->n - back, &m);
	diff_end(&m);
	return 0;
}

/* Whether two keys begin with the same prefix bytes: a word's (policy's runs) compared as one, not through memcmp. */
static bool same_prefix(const void *a, const void *b, size_t prefix)
{
	uint64_t x, y;

	if (prefix != sizeof(x))
		return !memcmp(a, b, prefix);
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x == y;
}

/*
 * The index after the run of t's records from i whose keys begin with the
 * prefix bytes of record i's (t sorted): by doubling steps, then halving,
 * as a run is tens of records among 100,000s.
 */
size_t kilo_bpf_table_run_end(const struct kilo_bpf_table *t, size_t i, size_t prefix)
{
	const void *key = kilo_bpf_record(t, i);
	size_t lo = i + 1, hi = i + 1, step = 1;

	/* [i, lo) is in the run; hi is past it, or t->n. */
	while (hi < t->n && same_prefix(kilo_bpf_record(t, hi), key, prefix)) {
		lo = hi + 1;
		hi += step;
		step *= 2;
	}
	hi = hi < t->n ? hi : t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (same_prefix(kilo_bpf_record(t, mid), key, prefix))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The runs that differ, as kilo_bpf_table_diff_runs gives them. */
struct differ {
	size_t *at;
	size_t n, cap;
};

/* want's run [i, i_end) against have's [j, j_end): merged into the diff where they differ. -ENOMEM. */
static int diff_run(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, size_t i, size_t i_end,
		    size_t j, size_t j_end, struct diff_making *m, struct differ *out)
{
	size_t size = want->key_size + want->value_size;

	/* A run only one side has differs by its length, the other's being none. */
	if (i_end - i == j_end - j && !memcmp(kilo_bpf_record(want, i), kilo_bpf_record(have, j), (i_end - i) * size))
		return 0;
	merge(want, have, i, i_end, j, j_end, m);
	if (i_end == i)
		return 0;
	if (kilo_array_reserve((void **)&out->at, &out->cap, out->n + 2, sizeof(*out->at)) < 0)
		return -ENOMEM;
	out->at[out->n++] = i;
	out->at[out->n++] = i_end;
	return 0;
}

/* The first record of t from lo on whose key's prefix bytes are not below key's, found by halving. */
static size_t lower_bound(const struct kilo_bpf_table *t, size_t lo, const void *key, size_t prefix)
{
	size_t hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(kilo_bpf_record(t, mid), key, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t kilo_bpf_table_find_run(const struct kilo_bpf_table *t, size_t *at, const void *key, size_t prefix)
{
	*at = lower_bound(t, *at, key, prefix);
	return *at < t->n && !memcmp(kilo_bpf_record(t, *at), key, prefix) ? kilo_bpf_table_run_end(t, *at, prefix) : *at;
}

/*
 * The next run of want and of have from *i and *j on (either may be empty,
 * [*i, *i_end)): the first of either in key order, or (key) the one key's
 * prefix names.
 */
static void next_run(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, size_t prefix,
		     const void *key, size_t *i, size_t *i_end, size_t *j, size_t *j_end)
{
	int c;

	if (key) {
		*i_end = kilo_bpf_table_find_run(want, i, key, prefix);
		*j_end = kilo_bpf_table_find_run(have, j, key, prefix);
		return;
	}
	c = *i == want->n ? 1 : *j == have->n ? -1 : memcmp(kilo_bpf_record(want, *i), kilo_bpf_record(have, *j), prefix);
	*i_end = c <= 0 ? kilo_bpf_table_run_end(want, *i, prefix) : *i;
	*j_end = c >= 0 ? kilo_bpf_table_run_end(have, *j, prefix) : *j;
}

/* The diff run by run: every run of either (runs NULL), or the n_runs listed. */
static int diff_by_runs(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, size_t prefix,
			const unsigned char *runs, size_t n_runs, struct kilo_bpf_diff *d, size_t **differ,
			size_t *n_differ)
{
	struct differ out = { 0 };
	struct diff_making m;
	size_t i = 0, j = 0;
	int r = 0;

	if (diff_begin(want, have, d, &m) < 0) {
		*differ = NULL;
		*n_differ = 0;
		return -ENOMEM;
	}
	for (size_t k = 0; r == 0 && (runs ? k < n_runs : i < want->n || j < have->n); k++) {
		size_t i_end, j_end;

		next_run(want, have, prefix, runs ? runs + k * prefix : NULL, &i, &i_end, &j, &j_end);
		r = diff_run(want, have, i, i_end, j, j_end, &m, &out);
		i = i_end;
		j = j_end;
	}
	diff_end(&m);
	if (r < 0) {
		kilo_bpf_diff_free(d);
		free(out.at);
		out = (struct differ){ 0 };
	}
	*differ = out.at;
	*n_differ = out.n;
	return r;
}

int kilo_bpf_table_diff_runs(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, size_t prefix,
			     struct kilo_bpf_diff *d, size_t **differ, size_t *n_differ)
{
	return diff_by_runs(want, have, prefix, NULL, 0, d, differ, n_differ);
}

int kilo_bpf_table_diff_listed(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, size_t prefix,
			       const unsigned char *runs, size_t n_runs, struct kilo_bpf_diff *d, size_t **differ,
			       size_t *n_differ)
{
	return diff_by_runs(want, have, prefix, runs, n_runs, d, differ, n_differ);
}

void kilo_bpf_diff_free(struct kilo_bpf_diff *d)
{
	free(d->write);
	free(d->remove);
	*d = (struct kilo_bpf_diff){ 0 };
}

static int write_one_by_one(int fd, const struct kilo_bpf_table *t, const size_t *idx, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const unsigned char *rec = kilo_bpf_record(t, idx[i]);
		int r = bpf_map_update_elem(fd, rec, rec + t->key_size, BPF_ANY);

		if (r < 0)
			return r;
	}
	return 0;
}

int kilo_bpf_table_write(int fd, const struct kilo_bpf_table *t, const size_t *idx, size_t n)
{
	unsigned char *keys, *values;
	int r = 0;

	if (n < 8)
		return write_one_by_one(fd, t, idx, n);
	keys = malloc(BATCH * t->key_size);
	values = malloc(BATCH * t->value_size);
	if (!keys || !values) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t done = 0; done < n && r == 0;) {
		__u32 count = (__u32)(n - done < BATCH ? n - done : BATCH);

		for (size_t i = 0; i < count; i++) {
			const unsigned char *rec = kilo_bpf_record(t, idx[done + i]);

			memcpy(keys + i * t->key_size, rec, t->key_size);
			memcpy(values + i * t->value_size, rec + t->key_size, t->value_size);
		}
		r = bpf_map_update_batch(fd, keys, values, &count, NULL);
		if (r == -EINVAL || r == -ENOTSUP || r == -EOPNOTSUPP)
			r = write_one_by_one(fd, t, idx + done, n - done), done = n;
		else
			done += count;
	}
out:
	free(keys);
	free(values);
	return r;
}

int kilo_bpf_table_delete(int fd, const struct kilo_bpf_table *t, const size_t *idx, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = bpf_map_delete_elem(fd, kilo_bpf_record(t, idx[i]));

		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* Maps read into sorted tables, diffed in one merge pass, and written back by batches. */
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

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

void kilo_bpf_table_shared(const struct kilo_bpf_table *a, const struct kilo_bpf_table *b, size_t *front,
			   size_t *back)
{
	size_t size = a->key_size + a->value_size, n = a->n < b->n ? a->n : b->n;

	*front = n ? same_records(a->data, b->data, n, size, false) : 0;
	*back = n > *front ? same_records(a->data + a->n * size, b->data + b->n * size, n - *front, size, true) : 0;
}

int kilo_bpf_table_diff(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, struct kilo_bpf_diff *d)
{
	size_t front, back;

	kilo_bpf_table_shared(want, have, &front, &back);
	return kilo_bpf_table_diff_shared(want, have, front, back, d);
}

int kilo_bpf_table_diff_shared(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, size_t front,
			       size_t back, struct kilo_bpf_diff *d)
{
	size_t i, j, n_changed = 0;
	size_t *changed;

	*d = (struct kilo_bpf_diff){ 0 };
	d->write = malloc((want->n + 1) * sizeof(*d->write));
	d->remove = malloc((have->n + 1) * sizeof(*d->remove));
	changed = malloc((want->n + 1) * sizeof(*changed));
	if (!d->write || !d->remove || !changed) {
		free(changed);
		kilo_bpf_diff_free(d);
		return -ENOMEM;
	}
	/* The records both share at either end need nothing: merged in between only. */
	i = j = front;
	while (i < want->n - back || j < have->n - back) {
		const unsigned char *w = i < want->n - back ? kilo_bpf_record(want, i) : NULL;
		const unsigned char *h = j < have->n - back ? kilo_bpf_record(have, j) : NULL;
		int c = !w ? 1 : !h ? -1 : memcmp(w, h, want->key_size);

		if (c < 0) {
			d->write[d->n_added++] = i++;
		} else if (c > 0) {
			d->remove[d->n_remove++] = j++;
		} else {
			if (memcmp(w + want->key_size, h + want->key_size, want->value_size))
				changed[n_changed++] = i;
			i++;
			j++;
		}
	}
	/* The added first, then the changed: n_write - n_added of them. */
	memcpy(d->write + d->n_added, changed, n_changed * sizeof(*changed));
	d->n_write = d->n_added + n_changed;
	free(changed);
	return 0;
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

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A map's entries as key-value records sorted by key (memcmp), the form
 * both a desired state's arrays and a map read back take, so that one merge
 * pass diffs them (table.c).
 */
#ifndef KILO_LIB_BPF_TABLE_H
#define KILO_LIB_BPF_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kilo/core.h>

struct kilo_bpf_table {
	size_t n;
	size_t key_size, value_size; /* a record is the key, then the value, with no gap */
	unsigned char *data;
	bool owned; /* data is malloc'ed by the table, else borrowed */
};

static inline const void *kilo_bpf_record(const struct kilo_bpf_table *t, size_t i)
{
	return t->data + i * (t->key_size + t->value_size);
}

void kilo_bpf_table_free(struct kilo_bpf_table *t);
/* An owned copy of t in *out. */
int kilo_bpf_table_copy(const struct kilo_bpf_table *t, struct kilo_bpf_table *out);
/* The index of the first record whose key is not strictly greater than the one before, or t->n. */
size_t kilo_bpf_table_unsorted(const struct kilo_bpf_table *t);
/* Sorts t's records by key. */
void kilo_bpf_table_sort(struct kilo_bpf_table *t);
/* Whether a record has key. */
bool kilo_bpf_table_has(const struct kilo_bpf_table *t, const void *key);
/*
 * Reads every entry of the hash map fd (keys and values of t's sizes) into
 * t, sorted; t->key_size and t->value_size are set by the caller.
 */
int kilo_bpf_table_read(int fd, struct kilo_bpf_table *t);

/* What turns have into want: indexes of want to write (added ones first counted), of have to delete. */
struct kilo_bpf_diff {
	size_t *write;
	size_t n_write, n_added;
	size_t *remove;
	size_t n_remove;
};

int kilo_bpf_table_diff(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, struct kilo_bpf_diff *d);
/*
 * The same, run by run: the records whose keys begin with the same prefix
 * bytes (an endpoint's of one prefix length, in policy's maps) compared
 * with have's run as one block, and merged only where they differ; the
 * runs of want that differ in *differ, n_differ / 2 ranges [lo, hi), in
 * order (free it). -ENOMEM. have must be sorted: then want is sorted when
 * its runs that differ are, each after the record before it and before
 * the one after (the others are have's).
 */
int kilo_bpf_table_diff_runs(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, size_t prefix,
			     struct kilo_bpf_diff *d, size_t **differ, size_t *n_differ);
/*
 * The same where want and have may differ only in the runs listed: n_runs
 * prefixes (prefix bytes each, in memcmp order), each run found by
 * halving; every other run the caller knows to be the same in both, and it
 * is neither compared nor in *differ.
 */
int kilo_bpf_table_diff_listed(const struct kilo_bpf_table *want, const struct kilo_bpf_table *have, size_t prefix,
			       const unsigned char *runs, size_t n_runs, struct kilo_bpf_diff *d, size_t **differ,
			       size_t *n_differ);
/* The index after the run of t's records from i whose keys begin with the prefix bytes of record i's (t sorted). */
size_t kilo_bpf_table_run_end(const struct kilo_bpf_table *t, size_t i, size_t prefix);
/*
 * The run of t (sorted) whose keys begin with key's prefix bytes, looked
 * for from *at on by halving: *at moves to its start, and its end is
 * returned (*at itself where t has none).
 */
size_t kilo_bpf_table_find_run(const struct kilo_bpf_table *t, size_t *at, const void *key, size_t prefix);
void kilo_bpf_diff_free(struct kilo_bpf_diff *d);

/* Writes the records of t at the indexes idx (n of them) into the map fd, in batches where the kernel can. */
int kilo_bpf_table_write(int fd, const struct kilo_bpf_table *t, const size_t *idx, size_t n);
/* Deletes the keys of t at the indexes idx from the map fd; a key already gone is no error. */
int kilo_bpf_table_delete(int fd, const struct kilo_bpf_table *t, const size_t *idx, size_t n);

#endif

// SPDX-License-Identifier: Apache-2.0
/*
 * Identities in the store: a number per label set, the same on every node.
 * Each identity is two records holding the same pair: identities/ID (what
 * a number means) and identity-labels/HASH (which number a label set has).
 * The second one's name is the label set's hash, so that two allocators of
 * the same label set race for one name and exactly one creates it.
 *
 * A new number comes from the record identities/next, the number after
 * the highest ever handed out, so that a released number is not handed out
 * again before every other (a node may still judge packets by the old
 * one). etcd creates both records and moves next in one transaction; the
 * file store creates the number's record first (link(): only one process
 * gets a number), then the label set's (only one gets a label set; the
 * loser removes its number and takes the winner's), then moves next on.
 * An allocator that died between the two creates leaves a number whose
 * label set points elsewhere: it is not listed, and released like an
 * unused one.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kilo/store.h>

#include "../bpf/progs/policy_maps.h"
#include "../core/error.h"
#include "store.h"

/* Tries of an allocation that lost a race (to a writer of the same number, label set or next). */
#define ALLOCATE_TRIES 64
#define NEXT_NAME "next"
#define HASH_BYTES 16

struct record {
	uint32_t id;
	char *labels;
	int64_t created;
	int64_t version;
	char hash[2 * HASH_BYTES + 1];
};

static void labels_hash(const char *labels, char out[2 * HASH_BYTES + 1])
{
	unsigned char digest[HASH_BYTES];

	crypto_generichash(digest, sizeof(digest), (const unsigned char *)labels, strlen(labels), NULL, 0);
	sodium_bin2hex(out, 2 * HASH_BYTES + 1, digest, sizeof(digest));
}

static int check_labels(const char *labels, struct kilo_error *err)
{
	size_t len;
	json_t *s;

	if (!labels || !labels[0])
		return kilo_error_set(err, EINVAL, "identity labels: empty");
	len = strlen(labels);
	if (len > KILO_IDENTITY_LABELS_MAX)
		return kilo_error_set(err, EINVAL, "identity labels: %zu bytes, more than %d (\"%.40s...\")", len,
				      KILO_IDENTITY_LABELS_MAX, labels);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)labels[i] < 0x20 || labels[i] == 0x7f)
			return kilo_error_set(err, EINVAL, "identity labels: \"%.80s\": control character 0x%02x at byte %zu",
					      labels, (unsigned char)labels[i], i);
	s = json_string(labels);
	if (!s)
		return kilo_error_set(err, EINVAL, "identity labels: \"%.80s\" is not UTF-8", labels);
	json_decref(s);
	return 0;
}

/* The text both records of an identity hold; NULL when out of memory. */
static char *record_text(uint32_t id, const char *labels, int64_t created, size_t *len)
{
	json_t *o = json_pack("{s:I, s:s, s:I}", "id", (json_int_t)id, "labels", labels, "created", (json_int_t)created);
	char *text = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;

	json_decref(o);
	*len = text ? strlen(text) : 0;
	return text;
}

static bool allocated_id(json_int_t id)
{
	return id >= KILO_IDENTITY_FIRST_ALLOCATED && id <= KILO_IDENTITY_LAST_ALLOCATED;
}

/* An entry's record; -EINVAL when it is not one (a file edited by hand). */
static int parse_record(const struct kilo_store_entry *e, struct record *out)
{
	json_int_t id = 0, created = 0;
	const char *labels = NULL;
	json_t *o;
	int r = -EINVAL;

	memset(out, 0, sizeof(*out));
	o = e->text ? json_loadb(e->text, e->len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (o && json_unpack(o, "{s:I, s:s, s:I}", "id", &id, "labels", &labels, "created", &created) == 0 &&
	    allocated_id(id) && labels[0]) {
		out->labels = strdup(labels);
		r = out->labels ? 0 : -ENOMEM;
	}
	json_decref(o);
	if (r == 0) {
		out->id = (uint32_t)id;
		out->created = created;
		out->version = e->version;
		labels_hash(out->labels, out->hash);
	}
	return r;
}

static void entry_clear(struct kilo_store_entry *e)
{
	free(e->name);
	free(e->source);
	free(e->text);
	memset(e, 0, sizeof(*e));
}

/* The record of kind named name: -ENOENT when absent, -EINVAL (named in err) when it is not one. */
static int read_record(kilo_store *store, enum kilo_store_kind kind, const char *name, struct record *out,
		       struct kilo_error *err)
{
	struct kilo_store_entry e = { 0 };
	int r = store->ops->get(store, kind, name, &e, err);

	if (r < 0)
		return r;
	r = parse_record(&e, out);
	if (r == -EINVAL)
		kilo_error_set(err, EINVAL, "identity: %.400s is not an identity record (%s)", e.source,
			       e.unreadable ? e.unreadable : "want {\"id\", \"labels\", \"created\"}");
	else if (r < 0)
		kilo_error_set(err, ENOMEM, "out of memory");
	entry_clear(&e);
	return r;
}

/* The number after the highest handed out, and the version of its record (0: none yet). */
static int read_next(kilo_store *store, uint32_t *next, int64_t *version, struct kilo_error *err)
{
	struct kilo_store_entry e = { 0 };
	json_int_t n = 0;
	json_t *o;
	int r = store->ops->get(store, KILO_STORE_IDENTITY, NEXT_NAME, &e, err);

	*next = KILO_IDENTITY_FIRST_ALLOCATED;
	*version = 0;
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* A record that is not a number is replaced: allocation still finds a free number by trying. */
	o = e.text ? json_loadb(e.text, e.len, 0, NULL) : NULL;
	if (json_unpack(o, "{s:I}", "next", &n) == 0 && allocated_id(n))
		*next = (uint32_t)n;
	*version = e.version;
	json_decref(o);
	entry_clear(&e);
	return 0;
}

/* The text of the record next; wraps to the first number past the last. */
static int next_text(uint32_t after, char out[64])
{
	uint32_t next = after >= KILO_IDENTITY_LAST_ALLOCATED ? KILO_IDENTITY_FIRST_ALLOCATED : after + 1;

	return snprintf(out, 64, "{\"next\":%u}", next);
}

/* File store: moves next past id, unless another allocator moved it further already. */
static void advance_next(kilo_store *store, uint32_t id)
{
	char text[64];
	uint32_t next;
	int64_t version;

	for (int tries = 0; tries < KILO_STORE_CAS_TRIES; tries++) {
		if (read_next(store, &next, &version, NULL) < 0 || (next > id && version))
			return;
		if (store->ops->write(store, KILO_STORE_IDENTITY, NEXT_NAME, text, (size_t)next_text(id, text), version,
				      NULL) != -EAGAIN)
			return;
	}
}

/*
 * Creates both records of id = labels (hash), next at next_version moving
 * past it; -EAGAIN when another writer came first, and nothing is left.
 */
static int create_identity(kilo_store *store, uint32_t id, const char *hash, const char *text, size_t len,
			   int64_t next_version, struct kilo_error *err)
{
	char name[16], next[64];
	int r;

	snprintf(name, sizeof(name), "%u", id);
	if (store->ops->write_all) {
		const struct kilo_store_write writes[] = {
			{ KILO_STORE_IDENTITY, name, text, len, 0 },
			{ KILO_STORE_IDENTITY_LABELS, hash, text, len, 0 },
			{ KILO_STORE_IDENTITY, NEXT_NAME, next, (size_t)next_text(id, next), next_version },
		};

		return store->ops->write_all(store, writes, sizeof(writes) / sizeof(writes[0]), err);
	}
	r = store->ops->write(store, KILO_STORE_IDENTITY, name, text, len, 0, err);
	if (r < 0)
		return r;
	r = store->ops->write(store, KILO_STORE_IDENTITY_LABELS, hash, text, len, 0, err);
	if (r < 0) {
		store->ops->remove(store, KILO_STORE_IDENTITY, name, NULL);
		return r;
	}
	advance_next(store, id);
	return 0;
}

int kilo_store_identity_allocate(kilo_store *store, const char *labels, uint32_t *id, struct kilo_error *err)
{
	char hash[2 * HASH_BYTES + 1], *text = NULL;
	uint32_t candidate = KILO_IDENTITY_FIRST_ALLOCATED, next;
	struct record found;
	int64_t next_version;
	size_t len;
	int r;

	if (!store || !id)
		return kilo_error_set(err, EINVAL, "identity: %s is NULL", store ? "id" : "store");
	r = check_labels(labels, err);
	if (r < 0)
		return r;
	labels_hash(labels, hash);
	for (int tries = 0; tries < ALLOCATE_TRIES; tries++) {
		r = read_record(store, KILO_STORE_IDENTITY_LABELS, hash, &found, err);
		/* Known, or given meanwhile by a writer that won the race for it (this one's text goes). */
		if (r == 0) {
			if (!strcmp(found.labels, labels))
				*id = found.id;
			else
				r = kilo_error_set(err, EEXIST, "identity labels: \"%.80s\": hash %s is taken by another label set",
						   labels, hash);
			free(found.labels);
			break;
		}
		if (r != -ENOENT || (r = read_next(store, &next, &next_version, err)) < 0)
			break;
		/* A number found taken (by a record next did not count) is skipped on the next try. */
		if (next > candidate)
			candidate = next;
		free(text);
		text = record_text(candidate, labels, (int64_t)time(NULL), &len);
		if (!text) {
			r = kilo_error_set(err, ENOMEM, "out of memory");
			break;
		}
		r = create_identity(store, candidate, hash, text, len, next_version, err);
		if (r == 0)
			*id = candidate;
		if (r != -EAGAIN)
			break;
		if (err)
			memset(err, 0, sizeof(*err));
		candidate = candidate >= KILO_IDENTITY_LAST_ALLOCATED ? KILO_IDENTITY_FIRST_ALLOCATED : candidate + 1;
	}
	free(text);
	if (r == -EAGAIN)
		r = kilo_error_set(err, EBUSY, "identity labels: \"%.80s\": other writers won %d tries in a row", labels,
				   ALLOCATE_TRIES);
	return r;
}

/* ---- listing and releasing ---------------------------------------------- */

/* A record as kept between listings (kept.c): parsed, or not a record (next, a file edited by hand). */
struct kept_record {
	struct kilo_store_kept_head head;
	bool valid;
	struct record record;
};

static void drop_record(void *item)
{
	struct kept_record *k = item;

	if (!k)
		return;
	kilo_store_kept_head_clear(&k->head);
	free(k->record.labels);
	free(k);
}

static const struct kilo_store_item_ops record_ops;

static void *make_record(enum kilo_store_kind kind, struct kilo_store_entry *entry)
{
	struct kept_record *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return NULL;
	r = parse_record(entry, &k->record);
	k->valid = r == 0;
	if ((r < 0 && r != -EINVAL) || kilo_store_kept_head_take(&k->head, &record_ops, kind, entry) < 0) {
		drop_record(k);
		return NULL;
	}
	return k;
}

static const struct kilo_store_item_ops record_ops = { make_record, drop_record, kilo_store_kept_compare, NULL,
						       NULL };

/*
 * The identities as the store has them now: the numbers' records by
 * number, and for each the record of its label set when that names it
 * (then the label set's number; else NULL).
 */
struct identities {
	const struct record **ids;
	const struct record **sets;
	size_t n;
};

static int compare_by_id(const void *a, const void *b)
{
	const struct record *x = *(const struct record *const *)a, *y = *(const struct record *const *)b;

	return (x->id > y->id) - (x->id < y->id);
}

static void identities_free(struct identities *all)
{
	free(all->ids);
	free(all->sets);
	memset(all, 0, sizeof(*all));
}

/* The valid records of kept, sorted by number (malloc'ed, *n of them); NULL when out of memory. */
static const struct record **by_number(const struct kilo_store_kept *kept, size_t *n)
{
	const struct record **records = malloc((kept->n ? kept->n : 1) * sizeof(*records));

	*n = 0;
	for (size_t i = 0; records && i < kept->n; i++) {
		const struct kept_record *k = kept->items[i];

		if (k->valid)
			records[(*n)++] = &k->record;
	}
	if (records)
		qsort(records, *n, sizeof(*records), compare_by_id);
	return records;
}

/* The name a kept record was read under: a label set's is its labels' hash, unless written by hand. */
static const char *kept_name(const struct record *r)
{
	return ((const struct kept_record *)((const char *)r - offsetof(struct kept_record, record)))->head.name;
}

/*
 * Each number's label set record, when its name is the number's labels'
 * hash and it holds the same pair: both kinds by number, merged (a lookup
 * by name each was most of a listing of ~3,000). -ENOMEM.
 */
static int match_sets(struct identities *all, const struct kilo_store_kept *by_hash)
{
	size_t n_sets = 0, j = 0;
	const struct record **sets = by_number(by_hash, &n_sets);

	all->sets = calloc(all->n ? all->n : 1, sizeof(*all->sets));
	if (!sets || !all->sets) {
		free(sets);
		return -ENOMEM;
	}
	for (size_t i = 0; i < all->n; i++) {
		const struct record *id = all->ids[i];

		while (j < n_sets && sets[j]->id < id->id)
			j++;
		for (size_t k = j; k < n_sets && sets[k]->id == id->id && !all->sets[i]; k++)
			if (!strcmp(kept_name(sets[k]), id->hash) && !strcmp(sets[k]->labels, id->labels))
				all->sets[i] = sets[k];
	}
	free(sets);
	return 0;
}

/*
 * Both kinds of records, kept by the store between calls: only those it
 * names as changed are read again (a relabel to a label set that has its
 * number reads none). When stamp (else NULL) is theirs as they are now,
 * out is left empty and 1 returned; else stamp is set to it.
 */
static int read_all(kilo_store *store, uint64_t *stamp, struct identities *out, struct kilo_error *err)
{
	struct kilo_store_kept *ids, *by_hash;
	uint64_t now;
	int r;

	memset(out, 0, sizeof(*out));
	if (!store)
		return kilo_error_set(err, EINVAL, "identity: store is NULL");
	ids = kilo_store_kept_of(store, KILO_STORE_IDENTITY, &record_ops);
	by_hash = kilo_store_kept_of(store, KILO_STORE_IDENTITY_LABELS, &record_ops);
	if (!ids || !by_hash)
		return kilo_error_set(err, ENOMEM, "out of memory");
	r = kilo_store_kept_refresh(store, KILO_STORE_IDENTITY, ids, true, NULL, err);
	if (r == 0)
		r = kilo_store_kept_refresh(store, KILO_STORE_IDENTITY_LABELS, by_hash, true, NULL, err);
	if (r < 0)
		return r;
	/* Each change takes a number above every stamp before it: the higher of the two moves with either. */
	now = ids->stamp > by_hash->stamp ? ids->stamp : by_hash->stamp;
	if (stamp && *stamp == now)
		return 1;
	if (!(out->ids = by_number(ids, &out->n)) || match_sets(out, by_hash) < 0) {
		identities_free(out);
		return kilo_error_set(err, ENOMEM, "out of memory");
	}
	if (stamp)
		*stamp = now;
	return 0;
}

int kilo_store_identity_list_since(kilo_store *store, uint64_t *stamp, struct kilo_store_identity **out, size_t *n_out,
				   struct kilo_error *err)
{
	struct kilo_store_identity *list;
	struct identities all;
	size_t n = 0;
	int r;

	if (!out || !n_out)
		return kilo_error_set(err, EINVAL, "identity: %s is NULL", out ? "n" : "out");
	*out = NULL;
	*n_out = 0;
	r = read_all(store, stamp, &all, err);
	if (r != 0)
		return r;
	list = calloc(all.n ? all.n : 1, sizeof(*list));
	for (size_t i = 0; list && i < all.n; i++) {
		if (!all.sets[i])
			continue;
		list[n].id = all.ids[i]->id;
		list[n].created = all.ids[i]->created;
		if (!(list[n++].labels = strdup(all.ids[i]->labels))) {
			kilo_store_identities_free(list, n);
			list = NULL;
		}
	}
	identities_free(&all);
	if (!list) {
		/* Not listed: the next call lists them whatever they are. */
		if (stamp)
			*stamp = 0;
		return kilo_error_set(err, ENOMEM, "out of memory");
	}
	*out = list;
	*n_out = n;
	return 0;
}

int kilo_store_identity_list(kilo_store *store, struct kilo_store_identity **out, size_t *n_out, struct kilo_error *err)
{
	return kilo_store_identity_list_since(store, NULL, out, n_out, err);
}

void kilo_store_identities_free(struct kilo_store_identity *identities, size_t n)
{
	if (!identities)
		return;
	for (size_t i = 0; i < n; i++)
		free(identities[i].labels);
	free(identities);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Removes id's records, its label set's too when it is still id's
 * (label_set, else NULL), only while neither changed since they were read:
 * a label set released and allocated again by other nodes meanwhile keeps
 * its new number. etcd removes both at once; the file store the label
 * set's first, so that no allocation finds a number whose record is gone.
 */
static int release(kilo_store *store, const struct record *id, const struct record *label_set, struct kilo_error *err)
{
	char name[16];
	int r;

	snprintf(name, sizeof(name), "%u", id->id);
	if (store->ops->write_all) {
		const struct kilo_store_write writes[] = {
			{ KILO_STORE_IDENTITY, name, NULL, 0, id->version },
			{ KILO_STORE_IDENTITY_LABELS, label_set ? label_set->hash : "", NULL, 0,
			  label_set ? label_set->version : 0 },
		};

		return store->ops->write_all(store, writes, label_set ? 2 : 1, err);
	}
	if (label_set &&
	    (r = store->ops->remove_if(store, KILO_STORE_IDENTITY_LABELS, label_set->hash, label_set->version, err)) < 0)
		return r;
	return store->ops->remove_if(store, KILO_STORE_IDENTITY, name, id->version, err);
}

int kilo_store_identities_release_unused(kilo_store *store, const char *const *in_use, size_t n_in_use,
					 uint32_t min_age_s, size_t *released, struct kilo_error *err)
{
	const char **sorted = NULL;
	struct identities all;
	int64_t now = (int64_t)time(NULL);
	size_t freed = 0;
	int r;

	if (released)
		*released = 0;
	if (n_in_use && !in_use)
		return kilo_error_set(err, EINVAL, "identity: in_use is NULL");
	r = read_all(store, NULL, &all, err);
	if (r < 0)
		return r;
	sorted = malloc((n_in_use ? n_in_use : 1) * sizeof(*sorted));
	if (!sorted) {
		r = kilo_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_in_use; i++) {
		if (!in_use[i]) {
			r = kilo_error_set(err, EINVAL, "identity: in_use[%zu] is NULL", i);
			goto out;
		}
		sorted[i] = in_use[i];
	}
	qsort(sorted, n_in_use, sizeof(*sorted), compare_strings);
	for (size_t i = 0; i < all.n && r == 0; i++) {
		const struct record *id = all.ids[i], *label_set = all.sets[i];
		const char *labels = id->labels;

		if (now - id->created < (int64_t)min_age_s)
			continue;
		if (label_set && bsearch(&labels, sorted, n_in_use, sizeof(*sorted), compare_strings))
			continue;
		r = release(store, id, label_set, err);
		/* Allocated again or released by another node meanwhile: theirs. */
		if (r == -EAGAIN) {
			r = 0;
			if (err)
				memset(err, 0, sizeof(*err));
			continue;
		}
		if (r == 0)
			freed++;
	}
out:
	if (released)
		*released = freed;
	free(sorted);
	identities_free(&all);
	return r;
}

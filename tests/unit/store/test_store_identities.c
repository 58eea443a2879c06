/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identities in every store kind (the file store, and etcd through
 * tests/etcd/with-etcd.sh): one number per label set, the same for every
 * process that asks, even when they ask at once; listed, released when
 * unused and old enough, never handed out again early.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <kilo/store.h>

#include "bpf/progs/policy_maps.h"
#include "contract_fixture.h"

#define WEB "app=web,kubernetes.io/metadata.name=prod,kilo.squat.ai/location=a"
#define DB "app=db,kubernetes.io/metadata.name=prod,kilo.squat.ai/location=a"
#define PEER "kilo.squat.ai/peer=laptop"

static uint32_t allocate(kilo_store *store, const char *labels)
{
	struct kilo_error err = { 0 };
	uint32_t id = 0;

	if (kilo_store_identity_allocate(store, labels, &id, &err) < 0)
		fail_msg("allocate %s: %s", labels, err.message);
	return id;
}

static size_t list(kilo_store *store, struct kilo_store_identity **out)
{
	struct kilo_error err = { 0 };
	size_t n = 0;

	if (kilo_store_identity_list(store, out, &n, &err) < 0)
		fail_msg("list: %s", err.message);
	return n;
}

/*
 * Waits for store to be told of a change, then lists; again while it lists
 * other than want identities (another process's writes may come in
 * several events). Bounded.
 */
static size_t list_after_change(kilo_store *store, size_t want, struct kilo_store_identity **out)
{
	size_t n = 0;

	*out = NULL;
	for (int tries = 0; tries < 10 && wait_for_change(store); tries++) {
		kilo_store_identities_free(*out, n);
		n = list(store, out);
		if (n == want)
			break;
	}
	return n;
}

static size_t release(kilo_store *store, const char *const *in_use, size_t n_in_use, uint32_t min_age_s)
{
	struct kilo_error err = { 0 };
	size_t released = 0;

	if (kilo_store_identities_release_unused(store, in_use, n_in_use, min_age_s, &released, &err) < 0)
		fail_msg("release: %s", err.message);
	return released;
}

static void test_a_label_set_keeps_its_number_and_others_get_theirs(void **state)
{
	struct fixture *f = *state;
	uint32_t web = allocate(f->store, WEB), db = allocate(f->store, DB), peer = allocate(f->store, PEER);
	kilo_store *other;

	assert_true(web >= KILO_IDENTITY_FIRST_ALLOCATED);
	assert_true(db >= KILO_IDENTITY_FIRST_ALLOCATED);
	assert_int_not_equal(web, db);
	assert_int_not_equal(web, peer);
	assert_int_not_equal(db, peer);
	assert_int_equal(allocate(f->store, WEB), web);
	/* Another process (another node on etcd) gets the same numbers. */
	other = open_again(f);
	assert_int_equal(allocate(other, DB), db);
	assert_int_equal(allocate(other, WEB), web);
	assert_int_equal(allocate(other, PEER), peer);
	kilo_store_close(other);
}

static void test_another_process_is_told_of_a_new_number_and_lists_it(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_identity *ids = NULL;
	uint32_t web = allocate(f->store, WEB), db;
	kilo_store *other = open_again(f);
	size_t n;

	n = list(other, &ids);
	assert_int_equal(n, 1);
	kilo_store_identities_free(ids, n);
	db = allocate(f->store, DB);
	n = list_after_change(other, 2, &ids);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0].id, web);
	assert_string_equal(ids[0].labels, WEB);
	assert_int_equal(ids[1].id, db);
	assert_string_equal(ids[1].labels, DB);
	assert_true(ids[1].created > 0);
	kilo_store_identities_free(ids, n);
	/* A release too. */
	assert_int_equal(release(f->store, NULL, 0, 0), 2);
	n = list_after_change(other, 0, &ids);
	assert_int_equal(n, 0);
	kilo_store_identities_free(ids, n);
	kilo_store_close(other);
}

/* Every child allocates every label set (in its own order) at the same moment and writes the numbers. */
#define RACERS 8
#define SETS 6

static void race(const char *uri, int start_fd, int out_fd, int child)
{
	uint32_t ids[SETS] = { 0 };
	kilo_store *store = NULL;
	char labels[64], go;
	int ok = kilo_store_open(uri, &store, NULL) == 0;

	ok = ok && read(start_fd, &go, 1) == 0;
	for (int i = 0; ok && i < SETS; i++) {
		int set = (i + child) % SETS;

		snprintf(labels, sizeof(labels), "app=racer-%d", set);
		ok = kilo_store_identity_allocate(store, labels, &ids[set], NULL) == 0;
	}
	kilo_store_close(store);
	if (ok && write(out_fd, ids, sizeof(ids)) == (ssize_t)sizeof(ids))
		_exit(0);
	_exit(1);
}

static void test_processes_racing_agree_on_every_number(void **state)
{
	struct fixture *f = *state;
	uint32_t got[RACERS][SETS];
	struct kilo_store_identity *ids = NULL;
	int start[2], out[2], status;
	pid_t pids[RACERS];
	size_t n;

	assert_int_equal(pipe(start), 0);
	assert_int_equal(pipe(out), 0);
	for (int c = 0; c < RACERS; c++) {
		pids[c] = fork();
		assert_true(pids[c] >= 0);
		if (pids[c] == 0) {
			close(start[1]);
			close(out[0]);
			race(f->uri, start[0], out[1], c);
		}
	}
	close(start[0]);
	close(out[1]);
	/* Closing the write end starts every child at once. */
	close(start[1]);
	for (int c = 0; c < RACERS; c++) {
		assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (int c = 0; c < RACERS; c++)
		assert_int_equal(read(out[0], got[c], sizeof(got[c])), (ssize_t)sizeof(got[c]));
	close(out[0]);
	for (int s = 0; s < SETS; s++) {
		for (int c = 1; c < RACERS; c++)
			assert_int_equal(got[c][s], got[0][s]);
		for (int t = 0; t < s; t++)
			assert_int_not_equal(got[0][s], got[0][t]);
	}
	/* Losers left nothing behind: one number per label set. */
	n = list(f->store, &ids);
	assert_int_equal(n, SETS);
	kilo_store_identities_free(ids, n);
}

static void test_unused_old_identities_are_released_and_their_numbers_not_reused(void **state)
{
	struct fixture *f = *state;
	const char *in_use[] = { WEB };
	struct kilo_store_identity *ids = NULL;
	uint32_t web = allocate(f->store, WEB), db = allocate(f->store, DB), again;
	size_t n;

	/* Allocated a moment ago: maybe for a pod this node has not seen yet. */
	assert_int_equal(release(f->store, in_use, 1, 3600), 0);
	assert_int_equal(release(f->store, in_use, 1, 0), 1);
	n = list(f->store, &ids);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0].id, web);
	kilo_store_identities_free(ids, n);
	again = allocate(f->store, DB);
	assert_true(again > db);
	assert_int_not_equal(again, web);
	assert_int_equal(allocate(f->store, WEB), web);
	/* Nothing in use: both go. */
	assert_int_equal(release(f->store, NULL, 0, 0), 2);
	assert_int_equal(list(f->store, &ids), 0);
	kilo_store_identities_free(ids, 0);
	assert_true(allocate(f->store, WEB) > again);
}

static void test_a_number_its_label_set_does_not_name_is_not_listed_and_is_released(void **state)
{
	struct fixture *f = *state;
	const char *in_use[] = { WEB };
	const char *orphan = "{\"created\":1,\"id\":300,\"labels\":\"" WEB "\"}";
	struct kilo_store_identity *ids = NULL;
	uint32_t web = allocate(f->store, WEB);
	size_t n;

	/* What an allocator that died between its two writes leaves. */
	put_raw(f, KILO_STORE_IDENTITY, "300", orphan, strlen(orphan));
	put_raw(f, KILO_STORE_IDENTITY, "301", "not json", 8);
	/* A label set record under another name than its labels' hash names nothing either. */
	put_raw(f, KILO_STORE_IDENTITY_LABELS, "00000000000000000000000000000000", orphan, strlen(orphan));
	n = list(f->store, &ids);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0].id, web);
	kilo_store_identities_free(ids, n);
	assert_int_equal(release(f->store, in_use, 1, 60), 1);
	assert_int_equal(allocate(f->store, WEB), web);
}

static void entry_clear(struct kilo_store_entry *e)
{
	free(e->source);
	free(e->name);
	free(e->text);
	memset(e, 0, sizeof(*e));
}

static void test_a_record_changed_since_it_was_read_is_not_released(void **state)
{
	struct fixture *f = *state;
	const char *record = "{\"created\":1,\"id\":300,\"labels\":\"" DB "\"}";
	struct kilo_store_entry entry = { 0 };
	struct kilo_error err = { 0 };
	kilo_store *store = f->store;
	int64_t read_at;

	/* etcd releases in one transaction that compares both records (write_all). */
	if (!store->ops->remove_if)
		skip();
	put_raw(f, KILO_STORE_IDENTITY, "300", record, strlen(record));
	assert_int_equal(store->ops->get(store, KILO_STORE_IDENTITY, "300", &entry, &err), 0);
	read_at = entry.version;
	entry_clear(&entry);
	put_raw(f, KILO_STORE_IDENTITY, "300", record, strlen(record));
	assert_int_equal(store->ops->remove_if(store, KILO_STORE_IDENTITY, "300", read_at, &err), -EAGAIN);
	assert_int_equal(store->ops->get(store, KILO_STORE_IDENTITY, "300", &entry, &err), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(store->ops->remove_if(store, KILO_STORE_IDENTITY, "300", entry.version, &err), 0);
	entry_clear(&entry);
	assert_int_equal(store->ops->get(store, KILO_STORE_IDENTITY, "300", &entry, &err), -ENOENT);
}

/* The name of the label-set record that holds labels. */
static char *label_set_name(kilo_store *store, const char *labels)
{
	struct kilo_store_entry *entries = NULL;
	char *name = NULL;
	size_t n = 0;

	assert_int_equal(store->ops->list(store, KILO_STORE_IDENTITY_LABELS, &entries, &n, NULL, NULL), 0);
	for (size_t i = 0; i < n; i++)
		if (entries[i].text && strstr(entries[i].text, labels))
			name = strdup(entries[i].name);
	kilo_store_entries_free(entries, n);
	assert_non_null(name);
	return name;
}

/*
 * A store keeps what it listed and reads again what changed: a listing
 * after a record is replaced under it by another writer, and after records
 * are removed, is what a fresh handle lists.
 */
static void test_a_listing_follows_records_replaced_and_removed_by_another_writer(void **state)
{
	struct fixture *f = *state;
	const char *moved = "{\"created\":1,\"id\":300,\"labels\":\"" WEB "\"}";
	const char *in_use[] = { WEB };
	struct kilo_store_identity *ids = NULL, *fresh_ids = NULL;
	uint32_t web = allocate(f->store, WEB), db = allocate(f->store, DB);
	kilo_store *other = open_again(f), *fresh;
	char *web_set = label_set_name(f->store, WEB);
	size_t n;

	n = list(other, &ids);
	assert_int_equal(n, 2);
	kilo_store_identities_free(ids, n);
	/* WEB's label set now names 300: web's number is no longer WEB's. */
	put_raw(f, KILO_STORE_IDENTITY, "300", moved, strlen(moved));
	put_raw(f, KILO_STORE_IDENTITY_LABELS, web_set, moved, strlen(moved));
	n = list_after_change(other, 2, &ids);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0].id, db);
	assert_string_equal(ids[0].labels, DB);
	assert_int_equal(ids[1].id, 300);
	assert_string_equal(ids[1].labels, WEB);
	kilo_store_identities_free(ids, n);
	/* db (unused) and web (no label set names it) go. */
	assert_int_equal(release(f->store, in_use, 1, 0), 2);
	n = list_after_change(other, 1, &ids);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0].id, 300);
	fresh = open_again(f);
	assert_int_equal(list(fresh, &fresh_ids), 1);
	assert_int_equal(fresh_ids[0].id, 300);
	assert_true(web != 300);
	kilo_store_identities_free(ids, n);
	kilo_store_identities_free(fresh_ids, 1);
	kilo_store_close(fresh);
	kilo_store_close(other);
	free(web_set);
}

/* kilo_store_identity_list_since: 1 (nothing listed) or 0 with the identities in *n. */
static int list_since(kilo_store *store, uint64_t *stamp, size_t *n)
{
	struct kilo_store_identity *ids = NULL;
	struct kilo_error err = { 0 };
	int r = kilo_store_identity_list_since(store, stamp, &ids, n, &err);

	if (r < 0)
		fail_msg("list since: %s", err.message);
	assert_true(r == 0 || (!ids && *n == 0));
	kilo_store_identities_free(ids, *n);
	return r;
}

/* Waits for other to be told of a change and lists since stamp: again while nothing changed. Bounded. */
static int list_since_after_change(kilo_store *store, uint64_t *stamp, size_t *n)
{
	int r = 1;

	for (int tries = 0; r == 1 && tries < 10 && wait_for_change(store); tries++)
		r = list_since(store, stamp, n);
	return r;
}

static void test_a_listing_since_a_stamp_is_none_until_a_record_changes(void **state)
{
	struct fixture *f = *state;
	const char *moved = "{\"created\":1,\"id\":300,\"labels\":\"" WEB "\"}";
	struct kilo_store_identity *ids = NULL;
	kilo_store *other, *fresh;
	uint64_t stamp = 0, fresh_stamp;
	size_t n;

	allocate(f->store, WEB);
	other = open_again(f);
	/* Watching from the start, as the agent, which waits on the store: a store not watching reads everything. */
	assert_true(kilo_store_fd(other) >= 0);
	assert_int_equal(list_since(other, &stamp, &n), 0);
	assert_int_equal(n, 1);
	assert_true(stamp != 0);
	assert_int_equal(list_since(other, &stamp, &n), 1);
	/* A whole listing meanwhile changes nothing. */
	n = list(other, &ids);
	kilo_store_identities_free(ids, n);
	assert_int_equal(list_since(other, &stamp, &n), 1);
	/* Another store's stamp is never this one's, though both hold the same. */
	fresh = open_again(f);
	fresh_stamp = stamp;
	assert_int_equal(list_since(fresh, &fresh_stamp, &n), 0);
	assert_int_equal(n, 1);
	assert_true(fresh_stamp != stamp);
	kilo_store_close(fresh);
	/* A number allocated elsewhere, and a record replaced by hand. */
	allocate(f->store, DB);
	assert_int_equal(list_since_after_change(other, &stamp, &n), 0);
	if (n == 1)
		assert_int_equal(list_since_after_change(other, &stamp, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list_since(other, &stamp, &n), 1);
	put_raw(f, KILO_STORE_IDENTITY, "300", moved, strlen(moved));
	assert_int_equal(list_since_after_change(other, &stamp, &n), 0);
	assert_int_equal(list_since(other, &stamp, &n), 1);
	kilo_store_close(other);
}

/* What allocating labels fails with; the error names the value. */
static int refused(kilo_store *store, const char *labels, uint32_t *id, struct kilo_error *err)
{
	memset(err, 0, sizeof(*err));
	return kilo_store_identity_allocate(store, labels, id, err);
}

static void test_bad_labels_are_refused_and_nothing_is_written(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_identity *ids = NULL;
	struct kilo_error err;
	char *longest = malloc(KILO_IDENTITY_LABELS_MAX + 2);
	uint32_t id = 7;

	assert_non_null(longest);
	assert_int_equal(refused(f->store, "", &id, &err), -EINVAL);
	assert_string_equal(err.message, "identity labels: empty");
	assert_int_equal(refused(f->store, NULL, &id, &err), -EINVAL);
	memset(longest, 'a', KILO_IDENTITY_LABELS_MAX + 1);
	longest[KILO_IDENTITY_LABELS_MAX + 1] = '\0';
	assert_int_equal(refused(f->store, longest, &id, &err), -EINVAL);
	assert_non_null(strstr(err.message, "identity labels: 4097 bytes, more than 4096"));
	assert_int_equal(refused(f->store, "app=a\nb", &id, &err), -EINVAL);
	assert_string_equal(err.message, "identity labels: \"app=a\\x0ab\": control character 0x0a at byte 5");
	assert_int_equal(refused(f->store, "app=\xff", &id, &err), -EINVAL);
	assert_non_null(strstr(err.message, "is not UTF-8"));
	assert_int_equal(id, 7);
	assert_int_equal(list(f->store, &ids), 0);
	kilo_store_identities_free(ids, 0);
	/* The longest allowed goes in. */
	longest[KILO_IDENTITY_LABELS_MAX] = '\0';
	assert_true(allocate(f->store, longest) >= KILO_IDENTITY_FIRST_ALLOCATED);
	free(longest);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_label_set_keeps_its_number_and_others_get_theirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_another_process_is_told_of_a_new_number_and_lists_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_processes_racing_agree_on_every_number, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unused_old_identities_are_released_and_their_numbers_not_reused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_number_its_label_set_does_not_name_is_not_listed_and_is_released,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_record_changed_since_it_was_read_is_not_released, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_listing_follows_records_replaced_and_removed_by_another_writer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_listing_since_a_stamp_is_none_until_a_record_changes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_labels_are_refused_and_nothing_is_written, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every store kind must do, one suite for all: the store comes from
 * KILO_TEST_STORE_URI, "file:" (a fresh directory per test) or "etcd:"
 * (the member of KILO_TEST_ETCD, as tests/etcd/with-etcd.sh starts it, a
 * cluster of its own per test). Objects that a careless writer could
 * leave are written past the validation, through the kind's raw write.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include <kilo/mesh.h>
#include <kilo/store.h>

#include "contract_fixture.h"
#include "store/etcd/etcd_store.h"
#include "store/store.h"

#define KEY_A "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define KEY_B "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="
#define KEY_C "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define KEY_P "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="

static void put_node(kilo_store *store, const char *name, const char *key, const char *pod_cidr)
{
	struct kilo_error err = { 0 };
	char json[512];

	snprintf(json, sizeof(json),
		 "{\"name\": \"%s\", \"location\": \"eu\", \"endpoint\": \"10.0.0.1:51820\", \"publicKey\": \"%s\","
		 " \"podCIDR\": \"%s\", \"lastSeen\": %lld}",
		 name, key, pod_cidr, (long long)time(NULL));
	assert_int_equal(kilo_store_put_node(store, json, &err), 0);
}

static kilo_mesh *load(kilo_store *store, struct kilo_store_report *report)
{
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;

	assert_int_equal(kilo_store_load(store, NULL, &mesh, report, &err), 0);
	return mesh;
}

static bool has_node(const kilo_mesh *mesh, const char *name)
{
	for (size_t i = 0; i < kilo_mesh_node_count(mesh); i++)
		if (!strcmp(kilo_mesh_node_name(mesh, i), name))
			return true;
	return false;
}

/* The problem reported for the object named name of kind ("nodes/NAME"), or NULL. */
static const char *problem(const struct kilo_store_report *report, const char *kind, const char *name)
{
	char tail[128];

	snprintf(tail, sizeof(tail), "%s/%s", kind, name);
	for (size_t i = 0; i < report->n_problems && i < 16; i++) {
		const char *path = report->problems[i].path, *end = path + strlen(path);

		/* A file store names NAME.json, etcd the key. */
		if (strlen(path) > 5 && !strcmp(end - 5, ".json"))
			end -= 5;
		if ((size_t)(end - path) >= strlen(tail) && !strncmp(end - strlen(tail), tail, strlen(tail)))
			return report->problems[i].message;
	}
	return NULL;
}

static void test_put_get_delete_node_and_peer(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh;
	char *text = NULL;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	assert_int_equal(kilo_store_put_peer(f->store,
					     "{\"name\": \"laptop\", \"publicKey\": \"" KEY_P "\","
					     " \"allowedIPs\": [\"10.5.0.1/32\"]}",
					     &err),
			 0);
	assert_int_equal(kilo_store_get_node(f->store, "a", &text, &err), 0);
	assert_non_null(strstr(text, "\"podCIDR\": \"10.2.1.0/24\""));
	kilo_free(text);
	assert_int_equal(kilo_store_get_node(f->store, "zz", &text, &err), -ENOENT);
	assert_null(text);

	mesh = load(f->store, NULL);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	assert_int_equal(kilo_mesh_peer_count(mesh), 1);
	assert_string_equal(kilo_mesh_peer_name(mesh, 0), "laptop");
	kilo_mesh_free(mesh);

	assert_int_equal(kilo_store_delete_node(f->store, "a", &err), 0);
	assert_int_equal(kilo_store_delete_peer(f->store, "laptop", &err), 0);
	/* Deleting what is not there is no error. */
	assert_int_equal(kilo_store_delete_node(f->store, "a", &err), 0);
	assert_int_equal(kilo_store_get_node(f->store, "a", &text, &err), -ENOENT);
	mesh = load(f->store, NULL);
	assert_int_equal(kilo_mesh_node_count(mesh), 0);
	assert_int_equal(kilo_mesh_peer_count(mesh), 0);
	kilo_mesh_free(mesh);
}

static void test_load_sees_every_node_and_peer(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_report report;
	kilo_mesh *mesh;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	put_node(f->store, "b", KEY_B, "10.2.2.0/24");
	put_node(f->store, "c", KEY_C, "10.2.3.0/24");
	mesh = load(f->store, &report);
	assert_int_equal(report.n_problems, 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 3);
	assert_true(has_node(mesh, "a") && has_node(mesh, "b") && has_node(mesh, "c"));
	kilo_mesh_free(mesh);
}

static void test_bad_objects_are_reported_and_skipped(void **state)
{
	struct fixture *f = *state;
	static const char wrong_name[] =
		"{\"name\": \"y\", \"publicKey\": \"" KEY_B "\", \"podCIDR\": \"10.2.9.0/24\"}";
	struct kilo_store_report report;
	size_t huge_len = KILO_STORE_OBJECT_MAX + 16;
	char *huge = malloc(huge_len);
	kilo_mesh *mesh;
	const char *p;

	assert_non_null(huge);
	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	put_raw(f, KILO_STORE_NODE, "broken", "{not json", 9);
	put_raw(f, KILO_STORE_NODE, "x", wrong_name, strlen(wrong_name));
	/* Valid JSON, but larger than any object may be. */
	memset(huge, ' ', huge_len);
	memcpy(huge, wrong_name, strlen(wrong_name));
	put_raw(f, KILO_STORE_NODE, "huge", huge, huge_len);
	put_raw(f, KILO_STORE_PEER, "bad-peer", "[]", 2);
	/* Each valid alone, these two overlap: the second by name is left out. */
	put_node(f->store, "b", KEY_B, "10.2.2.0/24");
	put_node(f->store, "c", KEY_C, "10.2.2.128/25");

	mesh = load(f->store, &report);
	assert_int_equal(kilo_mesh_node_count(mesh), 2);
	assert_true(has_node(mesh, "a") && has_node(mesh, "b"));
	assert_int_equal(kilo_mesh_peer_count(mesh), 0);
	assert_int_equal(report.n_problems, 5);
	assert_non_null(problem(&report, "nodes", "broken"));
	p = problem(&report, "nodes", "x");
	assert_non_null(p);
	assert_non_null(strstr(p, "\"y\""));
	p = problem(&report, "nodes", "huge");
	assert_non_null(p);
	assert_non_null(strstr(p, "1 MiB"));
	assert_non_null(problem(&report, "peers", "bad-peer"));
	p = problem(&report, "nodes", "c");
	assert_non_null(p);
	assert_non_null(strstr(p, "overlaps a pod CIDR of node \"b\""));
	kilo_mesh_free(mesh);
	free(huge);
}

/* Keys under the cluster's prefix that are neither a node nor a peer: reported, the rest loads. */
static void test_keys_outside_the_layout_are_reported(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_report report;
	char key[256];
	kilo_mesh *mesh;

	if (!f->etcd[0])
		skip(); /* a file store has no keys: its folders hold only NAME.json */
	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	snprintf(key, sizeof(key), "/kilo/%s/services/web", f->cluster);
	etcdctl_put(f, key, "{}", 2);
	snprintf(key, sizeof(key), "/kilo/%s/nodes/a/extra", f->cluster);
	etcdctl_put(f, key, "{}", 2);
	mesh = load(f->store, &report);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	assert_int_equal(report.n_problems, 2);
	assert_non_null(strstr(report.problems[0].message, "not a node or peer"));
	kilo_mesh_free(mesh);
}

static void test_another_writer_is_seen_and_loaded_incrementally(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	kilo_store *other = open_again(f);
	char *text = NULL;
	bool gone = false;
	kilo_mesh *mesh;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	mesh = load(f->store, NULL);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	kilo_mesh_free(mesh);

	put_node(other, "b", KEY_B, "10.2.2.0/24");
	assert_true(wait_for_change(f->store));
	mesh = load(f->store, NULL);
	assert_true(has_node(mesh, "a") && has_node(mesh, "b"));
	kilo_mesh_free(mesh);

	/* A change and a removal by the other writer: the events may come apart, each seen by a load. */
	put_node(other, "a", KEY_A, "10.2.7.0/24");
	assert_int_equal(kilo_store_delete_node(other, "b", &err), 0);
	for (int i = 0; i < 10 && !gone; i++) {
		assert_true(wait_for_change(f->store));
		mesh = load(f->store, NULL);
		gone = !has_node(mesh, "b");
		kilo_mesh_free(mesh);
	}
	assert_true(gone);
	assert_int_equal(kilo_store_get_node(f->store, "a", &text, &err), 0);
	assert_non_null(strstr(text, "10.2.7.0/24"));
	kilo_free(text);
	kilo_store_close(other);
}

/* Runs a shell command line built like printf; asserts that it succeeded. */
static void __attribute__((format(printf, 1, 2))) shell(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/*
 * a and b in f's store, loaded; then, while its watch's stream is broken
 * (the member restarted), another writer moves a, deletes b and adds c,
 * and the revisions of those events are compacted away.
 */
static void change_while_away_and_compact(const struct fixture *f, const char *member_sh, const char *member)
{
	struct kilo_error err = { 0 };
	kilo_store *other;
	kilo_mesh *mesh;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	put_node(f->store, "b", KEY_B, "10.2.2.0/24");
	mesh = load(f->store, NULL);
	assert_int_equal(kilo_mesh_node_count(mesh), 2);
	kilo_mesh_free(mesh);
	/* The watch's stream breaks; until this store steps again, it does not come back. */
	shell("%s stop %s && %s start %s", member_sh, member, member_sh, member);
	other = open_again(f);
	put_node(other, "a", KEY_A, "10.2.7.0/24");
	assert_int_equal(kilo_store_delete_node(other, "b", &err), 0);
	put_node(other, "c", KEY_C, "10.2.3.0/24");
	kilo_store_close(other);
	shell("rev=$(etcdctl --endpoints=%s get x -w fields | sed -n 's/^\"Revision\" : //p') && "
	      "etcdctl --endpoints=%s compact \"$rev\" >/dev/null",
	      f->etcd, f->etcd);
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/*
 * The agent's step (kilo_store_changed, then a load) never waits for etcd,
 * not even for the list again that a compaction asks for: with the member
 * stopped (SIGSTOP: requests hang rather than fail) and that list pending,
 * each step returns at once and a load gives the last mesh; once the
 * member runs again the list comes in and a load sees every change.
 */
static void test_list_again_never_blocks_the_step(void **state)
{
	struct fixture *f = *state;
	const char *member_sh = getenv("KILO_TEST_ETCD_MEMBER_SH"), *member = getenv("KILO_TEST_ETCD_MEMBER");
	struct kilo_etcd_store *s = (struct kilo_etcd_store *)f->store;
	struct kilo_error err = { 0 };
	struct timespec start;
	bool changed = false;
	kilo_mesh *mesh;
	long pid;

	if (!f->etcd[0] || !member_sh || !member)
		skip();
	change_while_away_and_compact(f, member_sh, member);
	pid = member_pid(member);
	assert_true(pid > 0);
	assert_int_equal(kill((pid_t)pid, SIGSTOP), 0);
	/*
	 * What the watch does when it comes back to a compacted revision (white
	 * box: the watch's reconnection cannot be timed against the SIGSTOP).
	 */
	kilo_etcd_watch_stop(s->watch);
	s->watch = NULL;
	s->relist = true;
	for (int step = 0; step < 5; step++) {
		clock_gettime(CLOCK_MONOTONIC, &start);
		err.code = 0;
		kilo_store_changed(f->store, &changed, &err);
		mesh = load(f->store, NULL);
		assert_true(elapsed_ms(&start) < 500);
		/* The last mesh, whole: nothing torn down while etcd does not answer. */
		assert_int_equal(kilo_mesh_node_count(mesh), 2);
		assert_true(has_node(mesh, "a") && has_node(mesh, "b"));
		kilo_mesh_free(mesh);
		usleep(200 * 1000);
	}
	assert_int_equal(kill((pid_t)pid, SIGCONT), 0);
	assert_true(wait_for_change(f->store));
	mesh = load(f->store, NULL);
	assert_int_equal(kilo_mesh_node_count(mesh), 2);
	assert_true(has_node(mesh, "a") && has_node(mesh, "c") && !has_node(mesh, "b"));
	kilo_mesh_free(mesh);
}

/*
 * A watch that comes back after events it missed were compacted away: the
 * store lists again and reports what differs, so a load sees every change.
 */
static void test_compacted_watch_lists_again(void **state)
{
	struct fixture *f = *state;
	const char *member_sh = getenv("KILO_TEST_ETCD_MEMBER_SH"), *member = getenv("KILO_TEST_ETCD_MEMBER");
	struct kilo_error err = { 0 };
	char *text = NULL;
	kilo_mesh *mesh;

	if (!f->etcd[0] || !member_sh || !member)
		skip(); /* inotify has no history to compact */
	change_while_away_and_compact(f, member_sh, member);
	assert_true(wait_for_change(f->store));
	mesh = load(f->store, NULL);
	assert_int_equal(kilo_mesh_node_count(mesh), 2);
	assert_true(has_node(mesh, "a") && has_node(mesh, "c") && !has_node(mesh, "b"));
	kilo_mesh_free(mesh);
	assert_int_equal(kilo_store_get_node(f->store, "a", &text, &err), 0);
	assert_non_null(strstr(text, "10.2.7.0/24"));
	kilo_free(text);
}

struct setter {
	const char *uri;
	const char *key;   /* the setting this writer changes, to PREFIX<round>SUFFIX */
	const char *field; /* the node's field that holds it */
	const char *prefix, *suffix;
	int rounds;
	int failures;
	int lost; /* reads after its own edit that did not show it */
};

/*
 * One writer of `kgctl node set`, on a handle of its own, as a second
 * operator's would be. The other writer changes another setting only, so
 * once an edit landed every later read shows it: a write based on an
 * older read would have taken it away.
 */
static void *set_many(void *arg)
{
	struct setter *s = arg;
	kilo_store *store = NULL;

	if (kilo_store_open(s->uri, &store, NULL) < 0) {
		s->failures = s->rounds;
		return NULL;
	}
	for (int i = 1; i <= s->rounds; i++) {
		char assignment[64], stored[64], *text = NULL;
		const char *one[1] = { assignment };

		snprintf(assignment, sizeof(assignment), "%s=%s%d%s", s->key, s->prefix, i, s->suffix);
		snprintf(stored, sizeof(stored), "\"%s\": \"%s%d%s\"", s->field, s->prefix, i, s->suffix);
		struct kilo_error err = { 0 };

		/*
		 * A pause between edits, as an operator's (or a script's) have:
		 * two loops that never pause let the quicker one win every race,
		 * which no bound on retries survives.
		 */
		usleep(randombytes_uniform(5000));
		if (kilo_store_set_node(store, "a", one, 1, &err) < 0) {
			fprintf(stderr, "%s round %d: %s\n", s->key, i, err.message);
			s->failures++;
		}
		else if (kilo_store_get_node(store, "a", &text, NULL) < 0 || !strstr(text, stored))
			s->lost++;
		kilo_free(text);
	}
	kilo_store_close(store);
	return NULL;
}

static void test_concurrent_node_sets_both_land(void **state)
{
	struct fixture *f = *state;
	struct setter location = { .uri = f->uri, .key = "location", .field = "location", .prefix = "loc", .suffix = "",
				   .rounds = 30 };
	struct setter endpoint = { .uri = f->uri, .key = "force-endpoint", .field = "endpoint", .prefix = "10.0.1.",
				   .suffix = ":51820", .rounds = 30 };
	struct kilo_error err = { 0 };
	pthread_t t1, t2;
	char *text = NULL;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	assert_int_equal(pthread_create(&t1, NULL, set_many, &location), 0);
	assert_int_equal(pthread_create(&t2, NULL, set_many, &endpoint), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert_int_equal(location.failures, 0);
	assert_int_equal(endpoint.failures, 0);
	/* Neither writer ever overwrote the other's edit with what it had read before. */
	assert_int_equal(location.lost, 0);
	assert_int_equal(endpoint.lost, 0);
	assert_int_equal(kilo_store_get_node(f->store, "a", &text, &err), 0);
	assert_non_null(strstr(text, "\"location\": \"loc30\""));
	assert_non_null(strstr(text, "\"endpoint\": \"10.0.1.30:51820\""));
	kilo_free(text);
}

/* The agent's node "a" as kilo_agent_node_publish makes it: location as it read it, its own WireGuard IP. */
static void publish_self(kilo_store *agent, const char *location, const char *wireguard_ip)
{
	struct kilo_error err = { 0 };
	char json[512];

	snprintf(json, sizeof(json),
		 "{\"name\": \"a\", \"location\": \"%s\", \"endpoint\": \"10.0.0.1:51820\", \"publicKey\": \"" KEY_A
		 "\", \"podCIDR\": \"10.2.1.0/24\", \"wireGuardIP\": \"%s\", \"lastSeen\": %lld}",
		 location, wireguard_ip, (long long)time(NULL));
	assert_int_equal(kilo_store_publish_self(agent, json, 30, &err), 0);
}

/*
 * An operator's `kgctl node set` that lands between the agent's read of
 * its node and its put is not lost: the put is a compare-and-swap, and
 * after a lost race the agent keeps the operator's fields with its own.
 */
static void test_agent_publish_keeps_an_operators_edit(void **state)
{
	struct fixture *f = *state;
	const char *edit[] = { "location=us" };
	struct kilo_error err = { 0 };
	kilo_store *operator;
	char *text = NULL;
	bool changed;

	/* The file store's publish is a plain write of what the agent read just before (no revisions). */
	if (!f->etcd[0])
		skip();
	publish_self(f->store, "eu", "10.4.0.1/16");
	kilo_mesh_free(load(f->store, NULL));
	operator = open_again(f);
	assert_int_equal(kilo_store_set_node(operator, "a", edit, 1, &err), 0);
	/* The agent's next publish, made from what it read before the edit (its watch has not brought it yet). */
	publish_self(f->store, "eu", "10.4.0.9/16");
	for (int i = 0; i < 50; i++) {
		struct pollfd p = { .fd = kilo_store_fd(f->store), .events = POLLIN };
		kilo_store *reader;

		poll(&p, 1, 100);
		assert_int_equal(kilo_store_changed(f->store, &changed, &err), 0);
		kilo_free(text);
		text = NULL;
		reader = open_again(f);
		assert_int_equal(kilo_store_get_node(reader, "a", &text, &err), 0);
		kilo_store_close(reader);
		if (strstr(text, "10.4.0.9/16"))
			break;
	}
	assert_non_null(strstr(text, "\"wireGuardIP\": \"10.4.0.9/16\""));
	assert_non_null(strstr(text, "\"location\": \"us\""));
	kilo_free(text);
	/* And the agent's own load shows the operator's edit. */
	assert_int_equal(kilo_store_get_node(f->store, "a", &text, &err), 0);
	assert_non_null(strstr(text, "\"location\": \"us\""));
	kilo_free(text);
	kilo_store_close(operator);
}

/* kgctl connect's creation of its peer: only while it is missing, whoever comes first keeps it. */
static void test_create_only_put_keeps_what_is_there(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_entry entry = { 0 };
	struct kilo_error err = { 0 };
	kilo_store *other = open_again(f);
	kilo_mesh *mesh;

	assert_int_equal(kilo_store_put_if(f->store, KILO_STORE_PEER,
					   "{\"name\": \"laptop\", \"publicKey\": \"" KEY_P "\","
					   " \"allowedIPs\": [\"10.5.0.1/32\"]}",
					   0, &err),
			 0);
	/* The other handle has not seen it yet: the store itself refuses. */
	assert_int_equal(kilo_store_put_if(other, KILO_STORE_PEER,
					   "{\"name\": \"laptop\", \"publicKey\": \"" KEY_A "\","
					   " \"allowedIPs\": [\"10.5.0.2/32\"]}",
					   0, &err),
			 -EAGAIN);
	kilo_store_close(other);
	mesh = load(f->store, NULL);
	assert_int_equal(kilo_mesh_peer_count(mesh), 1);
	kilo_mesh_free(mesh);
	/* The first one's. */
	assert_int_equal(f->store->ops->get(f->store, KILO_STORE_PEER, "laptop", &entry, &err), 0);
	assert_non_null(entry.text);
	assert_non_null(strstr(entry.text, "10.5.0.1/32"));
	free(entry.source);
	free(entry.name);
	free(entry.text);
}

/* What a store holds, as text to compare: a file store's tree, or etcd's revision. */
static char *fingerprint(const struct fixture *f)
{
	struct kilo_store_health h;
	kilo_store *store;
	char cmd[128], *out = NULL;
	size_t len = 0;
	FILE *p;

	if (f->dir[0]) {
		snprintf(cmd, sizeof(cmd), "find %s -printf '%%p %%s %%T@\\n' | sort", f->dir);
		p = popen(cmd, "r");
		assert_non_null(p);
		out = calloc(1, 65536);
		assert_non_null(out);
		len = fread(out, 1, 65535, p);
		out[len] = '\0';
		pclose(p);
		return out;
	}
	store = open_again(f);
	kilo_mesh_free(load(store, NULL));
	kilo_store_health(store, &h);
	kilo_store_close(store);
	assert_true(h.up);
	assert_true(asprintf(&out, "revision %lld", (long long)h.revision) > 0);
	return out;
}

static void test_reading_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	kilo_store *reader;
	char *before, *after, *text = NULL;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	before = fingerprint(f);
	reader = open_again(f);
	kilo_mesh_free(load(reader, NULL));
	assert_int_equal(kilo_store_get_node(reader, "a", &text, &err), 0);
	kilo_free(text);
	assert_int_equal(kilo_store_get_node(reader, "zz", &text, &err), -ENOENT);
	kilo_store_close(reader);
	after = fingerprint(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_health_is_up(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_health h;
	char *text = NULL;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	kilo_mesh_free(load(f->store, NULL));
	kilo_store_health(f->store, &h);
	assert_true(h.up);
	assert_string_equal(h.why, "");
	assert_int_equal(kilo_store_describe(f->store, &text, NULL), 0);
	assert_non_null(strstr(text, "Store: "));
	kilo_free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_delete_node_and_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_sees_every_node_and_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_objects_are_reported_and_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_outside_the_layout_are_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_another_writer_is_seen_and_loaded_incrementally, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compacted_watch_lists_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_again_never_blocks_the_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_node_sets_both_land, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_only_put_keeps_what_is_there, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_publish_keeps_an_operators_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reading_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_is_up, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

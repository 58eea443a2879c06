/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file store's kept listings (lib/store/listing.c): after objects are
 * created, modified in place (same size, same mtime) or through another
 * name, and deleted by another process, a handle that listed before lists
 * exactly what a fresh handle lists, in the text a whole dump gives; and a
 * listing after one change does not read every object again.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <kilo/store.h>

#include "store/store.h"

#define POD_FORMAT                                                                                                 \
	"{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"%s\", \"namespace\": \"%s\","         \
	" \"labels\": {\"app\": \"%s\"}}, \"spec\": {\"nodeName\": \"n1\", \"containers\": [{\"name\": \"c\","       \
	" \"image\": \"i\"}]}, \"status\": {\"podIP\": \"10.2.%u.%u\"}}"

#define NAMESPACE_FORMAT "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}"

struct fixture {
	char dir[64];
	char uri[80];
	kilo_store *writer, *reader;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kilo_error err = { 0 };

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/kilo-test-listing.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->uri, sizeof(f->uri), "file:%s", f->dir);
	if (kilo_store_open(f->uri, &f->writer, &err) < 0 || kilo_store_open(f->uri, &f->reader, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	kilo_store_close(f->writer);
	kilo_store_close(f->reader);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void put_pod(kilo_store *store, const char *ns, const char *name, const char *app, unsigned ip)
{
	struct kilo_error err = { 0 };
	char json[1024];

	snprintf(json, sizeof(json), POD_FORMAT, name, ns, app, ip / 250, ip % 250 + 1);
	if (kilo_store_put_object(store, json, &err) < 0)
		fail_msg("%s", err.message);
}

static char *list(kilo_store *store, const char *ns)
{
	struct kilo_error err = { 0 };
	char *out = NULL;

	if (kilo_store_list_objects_in(store, "Pod", ns, &out, &err) < 0)
		fail_msg("%s", err.message);
	return out;
}

/* The reader's listing equals a fresh handle's, and is what dumping the parsed array gives. */
static void assert_exact(struct fixture *f)
{
	struct kilo_error err = { 0 };
	kilo_store *fresh = NULL;
	char *kept = list(f->reader, NULL), *whole, *dumped, *in_a = list(f->reader, "a"), *fresh_a;
	json_t *array = json_loads(kept, 0, NULL);

	assert_int_equal(kilo_store_open(f->uri, &fresh, &err), 0);
	whole = list(fresh, NULL);
	fresh_a = list(fresh, "a");
	assert_string_equal(kept, whole);
	assert_string_equal(in_a, fresh_a);
	assert_non_null(array);
	dumped = json_dumps(array, JSON_INDENT(2) | JSON_SORT_KEYS);
	assert_non_null(dumped);
	assert_memory_equal(kept, dumped, strlen(dumped));
	assert_string_equal(kept + strlen(dumped), "\n");
	free(dumped);
	json_decref(array);
	kilo_free(kept);
	kilo_free(whole);
	kilo_free(in_a);
	kilo_free(fresh_a);
	kilo_store_close(fresh);
}

/* Runs fn(f, arg) in a child process: the store's writer is another process. */
static void in_another_process(void (*fn)(struct fixture *f, const char *arg), struct fixture *f, const char *arg)
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		fn(f, arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void path_of(const struct fixture *f, const char *file, char *path, size_t size)
{
	snprintf(path, size, "%s/pods/%s", f->dir, file);
}

/*
 * Replaces "app1" by "app2" in the file in place, then puts its times back:
 * same size, same mtime. The file stays open (its descriptor returned).
 */
static int edit_open(struct fixture *f, const char *file)
{
	char path[256], text[4096], *at;
	struct stat st;
	ssize_t n;
	int fd;

	path_of(f, file, path, sizeof(path));
	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st) < 0 || (n = pread(fd, text, sizeof(text) - 1, 0)) <= 0)
		return -1;
	text[n] = '\0';
	at = strstr(text, "\"app1\"");
	if (!at || pwrite(fd, "\"app2\"", 6, at - text) != 6 || futimens(fd, (struct timespec[]){ st.st_atim, st.st_mtim }) < 0)
		return -1;
	return fd;
}

static void edit_in_place(struct fixture *f, const char *file)
{
	int fd = edit_open(f, file);

	if (fd < 0)
		_exit(1);
	close(fd);
}

static void remove_file(struct fixture *f, const char *file)
{
	char path[256];

	path_of(f, file, path, sizeof(path));
	if (unlink(path) < 0)
		_exit(1);
}

static void create_file(struct fixture *f, const char *ns_name)
{
	char json[1024], path[256], name[64];
	const char *dot = strchr(ns_name, '.');
	FILE *file;

	snprintf(name, sizeof(name), "%s", dot + 1);
	snprintf(json, sizeof(json), POD_FORMAT, name, "a", "app9", 200u, 9u);
	snprintf(path, sizeof(path), "%s/pods/%s.json", f->dir, ns_name);
	file = fopen(path, "w");
	if (!file || fputs(json, file) < 0 || fclose(file) != 0)
		_exit(1);
}

static void test_changes_by_another_process_are_listed_exactly(void **state)
{
	struct fixture *f = *state;
	char *out;
	int fd;

	put_pod(f->writer, "a", "p1", "app1", 1);
	put_pod(f->writer, "a-b", "p2", "app1", 2);
	put_pod(f->writer, "b", "p3", "app1", 3);
	assert_exact(f);
	/* Same size, same mtime: only the watch can tell. */
	in_another_process(edit_in_place, f, "a.p1.json");
	out = list(f->reader, "a");
	assert_non_null(strstr(out, "\"app\": \"app2\""));
	kilo_free(out);
	assert_exact(f);
	/* A writer that has not closed the file yet. */
	fd = edit_open(f, "b.p3.json");
	assert_true(fd >= 0);
	out = list(f->reader, "b");
	assert_non_null(strstr(out, "\"app\": \"app2\""));
	kilo_free(out);
	close(fd);
	in_another_process(create_file, f, "a.p0");
	assert_exact(f);
	out = list(f->reader, NULL);
	assert_non_null(strstr(out, "\"name\": \"p0\""));
	kilo_free(out);
	in_another_process(remove_file, f, "a-b.p2.json");
	assert_exact(f);
	out = list(f->reader, NULL);
	assert_null(strstr(out, "\"name\": \"p2\""));
	kilo_free(out);
}

static void test_a_file_with_another_name_is_read_again(void **state)
{
	struct fixture *f = *state;
	char path[256], other[256];
	char *out;

	put_pod(f->writer, "a", "p1", "app1", 1);
	path_of(f, "a.p1.json", path, sizeof(path));
	snprintf(other, sizeof(other), "%s/elsewhere.json", f->dir);
	assert_int_equal(link(path, other), 0);
	kilo_free(list(f->reader, NULL));
	/* Written through the other name, in a folder nobody watches. */
	in_another_process(edit_in_place, f, "../elsewhere.json");
	out = list(f->reader, NULL);
	assert_non_null(strstr(out, "\"app\": \"app2\""));
	kilo_free(out);
	assert_exact(f);
}

/* kilo_store_list_objects_since of kind: 1 (nothing) or 0 with the text, whose length it gives. */
static int list_since(kilo_store *store, const char *kind, struct kilo_store_since *since, char **out)
{
	struct kilo_error err = { 0 };
	int r = kilo_store_list_objects_since(store, kind, since, out, &err);

	if (r < 0)
		fail_msg("%s", err.message);
	if (r == 0)
		assert_int_equal(since->len, strlen(*out));
	else
		assert_null(*out);
	return r;
}

/* The same, from the stamp of the text held (0: none), which it then holds. */
static int list_from(kilo_store *store, const char *kind, uint64_t *stamp, char **out)
{
	struct kilo_store_since since = { .stamp = *stamp };
	int r = list_since(store, kind, &since, out);

	*stamp = since.stamp;
	return r;
}

static void test_a_listing_since_a_stamp_is_none_until_its_kind_changes(void **state)
{
	struct fixture *f = *state;
	uint64_t pods = 0, services = 0;
	struct kilo_error err = { 0 };
	char *out = NULL, json[128];

	/* Watching from the start, as the agent, which waits on the store: a store not watching reads everything. */
	assert_true(kilo_store_fd(f->reader) >= 0);
	/* The namespaces' folder made first: a new folder has every kind read again. */
	snprintf(json, sizeof(json), NAMESPACE_FORMAT, "a");
	assert_int_equal(kilo_store_put_object(f->writer, json, &err), 0);
	put_pod(f->writer, "a", "p1", "app1", 1);
	assert_int_equal(list_from(f->reader, "Pod", &pods, &out), 0);
	assert_non_null(strstr(out, "\"p1\""));
	kilo_free(out);
	assert_int_equal(list_from(f->reader, "Pod", &pods, &out), 1);
	assert_int_equal(list_from(f->reader, "Service", &services, &out), 0);
	assert_string_equal(out, "[]\n");
	kilo_free(out);
	/* A kind with no object yet (no folder to watch) is none the next time too. */
	assert_int_equal(list_from(f->reader, "Service", &services, &out), 1);
	/* Another kind's change is not the pods'. */
	snprintf(json, sizeof(json), NAMESPACE_FORMAT, "b");
	assert_int_equal(kilo_store_put_object(f->writer, json, &err), 0);
	assert_int_equal(list_from(f->reader, "Pod", &pods, &out), 1);
	put_pod(f->writer, "a", "p2", "app1", 2);
	assert_int_equal(list_from(f->reader, "Pod", &pods, &out), 0);
	assert_non_null(strstr(out, "\"p2\""));
	kilo_free(out);
	assert_int_equal(list_from(f->reader, "Pod", &pods, &out), 1);
	/* A whole listing meanwhile changes nothing. */
	kilo_free(list(f->reader, NULL));
	assert_int_equal(list_from(f->reader, "Pod", &pods, &out), 1);
}

/* Pod pod of change_pods: in namespace a, a-b or b. */
static const char *pod_namespace(unsigned pod)
{
	return (const char *[]){ "a", "a-b", "b" }[pod % 3];
}

/* Pod pod removed, written (labels app), or written by hand as a text that is no object, which listings leave out. */
static void change_pod(struct fixture *f, unsigned pod, int how, const char *app)
{
	struct kilo_error err = { 0 };
	char name[32], path[256];
	FILE *file;
	int r;

	snprintf(name, sizeof(name), "p%u", pod);
	if (how == 0) {
		r = kilo_store_delete_object(f->writer, "Pod", pod_namespace(pod), name, &err);
		if (r < 0 && r != -ENOENT)
			fail_msg("%s", err.message);
	} else if (how == 1) {
		snprintf(path, sizeof(path), "%s/pods/%s.%s.json", f->dir, pod_namespace(pod), name);
		file = fopen(path, "w");
		assert_non_null(file);
		assert_true(fputs("{\"kind\":", file) >= 0);
		assert_int_equal(fclose(file), 0);
	} else {
		put_pod(f->writer, pod_namespace(pod), name, app, pod);
	}
}

/*
 * Step step of the changes: first around the list's first pod (p0: gone,
 * back, broken, fixed), whose separator the next one takes; then random:
 * modified (labels of another length), removed, broken, or three at once.
 */
static void change_pods(struct fixture *f, unsigned step, unsigned *seed)
{
	static const char *const apps[] = { "app1", "app22", "app333" };
	static const int first[] = { 0, 2, 1, 2, 1, 0, 2 };
	unsigned changes = step % 7 == 6 ? 3 : 1;

	if (step < sizeof(first) / sizeof(first[0])) {
		change_pod(f, 0, first[step], "app1");
		return;
	}
	for (unsigned c = 0; c < changes; c++) {
		unsigned pod = (unsigned)rand_r(seed) % 40, how = (unsigned)rand_r(seed) % 8;

		change_pod(f, pod, how < 2 ? (int)how : 2, apps[(unsigned)rand_r(seed) % 3]);
	}
}

/*
 * Each listing says how much it surely shares with the one its caller
 * held: those bytes are the same, from the start and from the end, and
 * after one object's change the part it does not vouch for is about that
 * object's text; a caller holding another stamp is told nothing.
 */
static void test_a_listing_says_what_it_shares_with_the_text_held(void **state)
{
	struct fixture *f = *state;
	uint64_t stamp = 0, older = 0;
	unsigned seed = 12, small_windows = 0, single_changes = 0;
	char *held = NULL, *out = NULL;

	assert_true(kilo_store_fd(f->reader) >= 0);
	for (unsigned pod = 0; pod < 40; pod++)
		change_pod(f, pod, 2, "app1");
	assert_int_equal(list_from(f->reader, "Pod", &stamp, &held), 0);
	for (unsigned step = 0; step < 120; step++) {
		struct kilo_store_since since = { .stamp = stamp };
		size_t held_len = strlen(held), shorter;

		change_pods(f, step, &seed);
		if (list_since(f->reader, "Pod", &since, &out) == 1)
			continue;
		shorter = since.len < held_len ? since.len : held_len;
		assert_true(since.prefix + since.suffix <= shorter);
		assert_memory_equal(out, held, since.prefix);
		assert_memory_equal(out + since.len - since.suffix, held + held_len - since.suffix, since.suffix);
		/* One pod's text is some 400 bytes here. */
		if (step >= 7 && step % 7 != 6) {
			single_changes++;
			small_windows += since.len - since.prefix - since.suffix < 600;
		}
		kilo_free(held);
		held = out;
		out = NULL;
		older = stamp;
		stamp = since.stamp;
	}
	/* A change at the end of the list (its last pod removed) leaves the start to vouch for, and so on: most are small. */
	printf("# %u of %u single changes told within 600 bytes\n", small_windows, single_changes);
	assert_true(small_windows * 10 >= single_changes * 9);
	assert_exact(f);

	/* Held at an older stamp: nothing vouched for. */
	put_pod(f->writer, "a", "p0", "app4444", 0);
	{
		struct kilo_store_since since = { .stamp = older };

		assert_int_equal(list_since(f->reader, "Pod", &since, &out), 0);
		assert_int_equal(since.prefix + since.suffix, 0);
		kilo_free(out);
	}
	kilo_free(held);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The best of three listings by store (fresh: a new handle each time, which reads every object). */
static double best_listing_ms(struct fixture *f, bool fresh)
{
	struct kilo_error err = { 0 };
	double best = 1e9;

	for (unsigned round = 0; round < 3; round++) {
		kilo_store *store = f->reader;
		double t;
		char name[32];

		snprintf(name, sizeof(name), "p%u", round);
		put_pod(f->writer, "a", name, round % 2 ? "app1" : "app2", round);
		if (fresh)
			assert_int_equal(kilo_store_open(f->uri, &store, &err), 0);
		t = now_ms();
		kilo_free(list(store, NULL));
		t = now_ms() - t;
		best = t < best ? t : best;
		if (fresh)
			kilo_store_close(store);
	}
	return best;
}

static void test_one_change_reads_one_object_again(void **state)
{
	struct fixture *f = *state;
	double kept, whole;

	for (unsigned i = 0; i < 2000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "p%u", i);
		put_pod(f->writer, "a", name, "app1", i);
	}
	kilo_free(list(f->reader, NULL));
	kept = best_listing_ms(f, false);
	whole = best_listing_ms(f, true);
	printf("# 2,000 pods listed after one change: %.2f ms kept, %.2f ms read whole\n", kept, whole);
	/* Checking 2,000 objects again costs tens of times what copying their kept text does. */
	if (kept * 4 > whole)
		fail_msg("a listing after one change took %.2f ms, reading every object %.2f ms", kept, whole);
	assert_exact(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_changes_by_another_process_are_listed_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_file_with_another_name_is_read_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_change_reads_one_object_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_listing_says_what_it_shares_with_the_text_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_listing_since_a_stamp_is_none_until_its_kind_changes, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

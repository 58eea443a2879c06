/* SPDX-License-Identifier: Apache-2.0 */
/* The file store: objects in, a mesh out, bad files reported, changes seen. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <kilo/mesh.h>
#include <kilo/store.h>

#define KEY_A "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define KEY_B "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="
#define KEY_P "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="

struct fixture {
	char dir[64];
	char uri[80];
	kilo_store *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/kilo-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->uri, sizeof(f->uri), "file:%s", f->dir);
	if (kilo_store_open(f->uri, &f->store, NULL) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[96];

	kilo_store_close(f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	free(f);
	return system(cmd) == 0 ? 0 : -1;
}

/* A ready node; secondary_pod_cidr (dual stack) may be NULL. */
static void put_dual_stack_node(kilo_store *store, const char *name, const char *key, const char *pod_cidr,
				const char *secondary_pod_cidr)
{
	struct kilo_error err = { 0 };
	char json[512], secondary[128] = "";

	if (secondary_pod_cidr)
		snprintf(secondary, sizeof(secondary), ", \"secondaryPodCIDR\": \"%s\"", secondary_pod_cidr);
	snprintf(json, sizeof(json),
		 "{\"name\": \"%s\", \"location\": \"eu\", \"endpoint\": \"10.0.0.1:51820\", \"publicKey\": \"%s\","
		 " \"podCIDR\": \"%s\"%s}",
		 name, key, pod_cidr, secondary);
	assert_int_equal(kilo_store_put_node(store, json, &err), 0);
}

static void put_node(kilo_store *store, const char *name, const char *key, const char *pod_cidr)
{
	put_dual_stack_node(store, name, key, pod_cidr, NULL);
}

/* Writes rel past the store, as another program might; its folder is made if missing. */
static void write_file(const struct fixture *f, const char *rel, const char *text)
{
	char path[160];
	FILE *file;

	snprintf(path, sizeof(path), "%s/%.*s", f->dir, (int)(strchr(rel, '/') - rel), rel);
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	file = fopen(path, "w");
	assert_non_null(file);
	fputs(text, file);
	assert_int_equal(fclose(file), 0);
}

static bool has_node(const kilo_mesh *mesh, const char *name)
{
	for (size_t i = 0; i < kilo_mesh_node_count(mesh); i++)
		if (!strcmp(kilo_mesh_node_name(mesh, i), name))
			return true;
	return false;
}

/* The problem reported for the file rel, or NULL. */
static const char *problem(const struct fixture *f, const struct kilo_store_report *report, const char *rel)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	for (size_t i = 0; i < report->n_problems && i < 16; i++)
		if (!strcmp(report->problems[i].path, path))
			return report->problems[i].message;
	return NULL;
}

static void test_load_takes_settings(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	assert_int_equal(kilo_store_load(f->store, "{\"version\": 1, \"settings\": {\"granularity\": \"full\"}}", &mesh,
					 NULL, &err),
			 0);
	assert_int_equal(kilo_mesh_granularity(mesh), KILO_GRANULARITY_FULL);
	kilo_mesh_free(mesh);
	assert_int_equal(kilo_store_load(f->store, "{\"version\": 1, \"nodes\": [{\"name\": \"x\"}]}", &mesh, NULL,
					 &err),
			 -EINVAL);
	assert_null(mesh);
	assert_non_null(strstr(err.message, "only settings"));
}

static void test_atomic_write_leaves_no_temporary_file(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	char path[160];
	struct dirent *d;
	struct stat st;
	size_t n = 0;
	DIR *dir;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	put_node(f->store, "a", KEY_A, "10.2.3.0/24");
	snprintf(path, sizeof(path), "%s/nodes", f->dir);
	dir = opendir(path);
	assert_non_null(dir);
	while ((d = readdir(dir))) {
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
			assert_string_equal(d->d_name, "a.json");
			n++;
		}
	}
	closedir(dir);
	assert_int_equal(n, 1);
	assert_int_equal(kilo_store_put_peer(f->store,
					     "{\"name\": \"p\", \"publicKey\": \"" KEY_P "\", \"presharedKey\": \"" KEY_B
					     "\"}",
					     &err),
			 0);
	snprintf(path, sizeof(path), "%s/peers/p.json", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_corrupt_files_are_reported_and_skipped(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_report report;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	put_node(f->store, "b", KEY_B, "10.2.2.0/24");
	write_file(f, "nodes/half.json", "{\"name\": \"half\", \"loca");
	write_file(f, "nodes/typo.json", "{\"name\": \"typo\", \"locaton\": \"eu\"}");
	write_file(f, "nodes/bad.json", "{\"name\": \"bad\", \"podCIDR\": \"10.9.0.0/33\"}");
	write_file(f, "nodes/other.json", "{\"name\": \"someone-else\"}");
	write_file(f, "nodes/.a.json.tmp123", "{garbage");
	write_file(f, "peers/p.json", "[]");

	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 2);
	assert_true(has_node(mesh, "a") && has_node(mesh, "b"));
	assert_int_equal(kilo_mesh_peer_count(mesh), 0);
	assert_int_equal(report.n_problems, 5);
	assert_non_null(problem(f, &report, "nodes/half.json"));
	assert_non_null(strstr(problem(f, &report, "nodes/typo.json"), "locaton: unknown field"));
	assert_non_null(strstr(problem(f, &report, "nodes/bad.json"), "podCIDR"));
	assert_non_null(strstr(problem(f, &report, "nodes/other.json"), "someone-else"));
	assert_non_null(problem(f, &report, "peers/p.json"));
	kilo_mesh_free(mesh);
}

static void test_overlapping_pod_cidr_is_left_out(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_report report;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;

	put_node(f->store, "b", KEY_B, "10.2.1.128/25");
	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	assert_true(has_node(mesh, "a"));
	assert_int_equal(report.n_problems, 1);
	assert_non_null(strstr(problem(f, &report, "nodes/b.json"), "podCIDR: \"10.2.1.128/25\" overlaps a pod CIDR of node \"a\""));
	kilo_mesh_free(mesh);
}

static void test_overlapping_secondary_pod_cidr_is_left_out(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_report report;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;

	put_dual_stack_node(f->store, "a", KEY_A, "10.2.1.0/24", "fd02:1::/64");
	put_dual_stack_node(f->store, "b", KEY_B, "10.2.2.0/24", "fd02:1::8000:0:0:0/65");
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	assert_true(has_node(mesh, "a"));
	assert_non_null(
		strstr(problem(f, &report, "nodes/b.json"), "secondaryPodCIDR: \"fd02:1:0:0:8000::/65\" overlaps a pod CIDR of node \"a\""));
	kilo_mesh_free(mesh);
}

static void test_secondary_of_the_same_family_leaves_only_that_node_out(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_report report;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	/* Written past the store's own checks, as a careless operator or another program might. */
	write_file(f, "nodes/b.json", "{\"name\": \"b\", \"podCIDR\": \"10.2.2.0/24\", \"secondaryPodCIDR\": \"10.3.2.0/24\"}");
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	assert_true(has_node(mesh, "a"));
	assert_non_null(strstr(problem(f, &report, "nodes/b.json"),
			       "secondaryPodCIDR: \"10.3.2.0/24\" is IPv4 like podCIDR; it must be of the other family"));
	kilo_mesh_free(mesh);
}

static void test_names_that_escape_are_refused(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	char *text = NULL;

	assert_int_equal(kilo_store_put_node(f->store, "{\"name\": \"../evil\"}", &err), -EINVAL);
	assert_non_null(strstr(err.message, "../evil"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(kilo_store_get_node(f->store, "../nodes/a", &text, &err), -EINVAL);
	assert_int_equal(kilo_store_delete_node(f->store, "..", &err), -EINVAL);
	assert_int_equal(kilo_store_put_node(f->store, "{\"name\": \"a\", \"color\": 1}", &err), -EINVAL);
}

static void test_set_node_edits_settings(void **state)
{
	struct fixture *f = *state;
	const char *const set[] = { "location=us", "leader=true", "force-endpoint=1.2.3.4:51821",
				    "persistent-keepalive=25", "allowed-location-ips=10.9.0.0/24,10.9.1.0/24" };
	const char *const unset[] = { "location=", "pod-cidr=10.2.7.0/24" };
	const char *bad[] = { "colour=blue" };
	struct kilo_error err = { 0 };
	char *text = NULL;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	assert_int_equal(kilo_store_set_node(f->store, "a", set, 5, &err), 0);
	assert_int_equal(kilo_store_get_node(f->store, "a", &text, &err), 0);
	assert_non_null(strstr(text, "\"location\": \"us\""));
	assert_non_null(strstr(text, "\"leader\": true"));
	assert_non_null(strstr(text, "\"endpoint\": \"1.2.3.4:51821\""));
	assert_non_null(strstr(text, "\"persistentKeepalive\": 25"));
	assert_non_null(strstr(text, "10.9.1.0/24"));
	kilo_free(text);

	assert_int_equal(kilo_store_set_node(f->store, "a", unset, 2, &err), 0);
	assert_int_equal(kilo_store_get_node(f->store, "a", &text, &err), 0);
	assert_null(strstr(text, "location"));
	assert_non_null(strstr(text, "10.2.7.0/24"));
	kilo_free(text);

	assert_int_equal(kilo_store_set_node(f->store, "a", bad, 1, &err), -EINVAL);
	assert_non_null(strstr(err.message, "unknown key \"colour\""));
	memset(&err, 0, sizeof(err));
	bad[0] = "pod-cidr=10.2.7.0/33";
	assert_int_equal(kilo_store_set_node(f->store, "a", bad, 1, &err), -EINVAL);
	assert_non_null(strstr(err.message, "podCIDR"));
	memset(&err, 0, sizeof(err));
	bad[0] = "leader=yes";
	assert_int_equal(kilo_store_set_node(f->store, "a", bad, 1, &err), -EINVAL);
	assert_int_equal(kilo_store_set_node(f->store, "missing", set, 1, &err), -ENOENT);
}

/*
 * Waits for the store's descriptor, then asks whether it changed: up to two
 * seconds where an event is due, a tenth of one where none may come.
 */
static bool changed_within(kilo_store *store, int timeout_ms, int *r, struct kilo_error *err)
{
	struct pollfd pfd = { .fd = kilo_store_fd(store), .events = POLLIN };
	bool changed = false;

	poll(&pfd, 1, timeout_ms);
	*r = kilo_store_changed(store, &changed, err);
	return changed;
}

static void test_write_by_another_handle_is_seen(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	kilo_store *other = NULL;
	bool changed = true;
	int r;

	assert_int_equal(kilo_store_changed(f->store, &changed, &err), 0);
	assert_false(changed);
	assert_int_equal(kilo_store_open(f->uri, &other, &err), 0);
	put_node(other, "b", KEY_B, "10.2.2.0/24");
	assert_true(changed_within(f->store, 2000, &r, &err));
	assert_int_equal(r, 0);
	/* A writer's temporary file is not a change. */
	write_file(f, "nodes/.b.json.XXXXXX", "{");
	assert_false(changed_within(f->store, 2000, &r, &err));
	assert_int_equal(kilo_store_delete_node(other, "b", &err), 0);
	assert_true(changed_within(f->store, 2000, &r, &err));
	kilo_store_close(other);
}

static void test_deleted_directory_is_reported_and_watched_again(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	kilo_store *other = NULL;
	kilo_mesh *mesh = NULL;
	char cmd[96];
	int r;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	changed_within(f->store, 2000, &r, &err);
	assert_int_equal(r, -ENOENT);
	assert_non_null(strstr(err.message, "disappeared"));
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, NULL, &err), -ENOENT);
	assert_null(mesh);
	/* A heartbeat does not make it again, empty: the agents keep their mesh until it is back. */
	assert_int_equal(kilo_store_put_node(f->store,
					     "{\"name\": \"a\", \"publicKey\": \"" KEY_A "\", \"podCIDR\": \"10.2.1.0/24\"}",
					     &err),
			 -ENOENT);
	assert_int_equal(access(f->dir, F_OK), -1);
	/* Still gone: still an error, every time. */
	memset(&err, 0, sizeof(err));
	changed_within(f->store, 100, &r, &err);
	assert_int_equal(r, -ENOENT);

	assert_int_equal(mkdir(f->dir, 0700), 0);
	memset(&err, 0, sizeof(err));
	assert_true(changed_within(f->store, 100, &r, &err));
	assert_int_equal(r, 0);
	assert_int_equal(kilo_store_open(f->uri, &other, &err), 0);
	put_node(other, "b", KEY_B, "10.2.2.0/24");
	assert_true(changed_within(f->store, 2000, &r, &err));
	assert_int_equal(r, 0);
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, NULL, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	kilo_mesh_free(mesh);
	kilo_store_close(other);
}

/*
 * The nodes folder made by another writer after this handle opened, and
 * first noticed by a load (which takes the folder's event in): this
 * handle still watches the folder, and sees the next node's heartbeat.
 */
static void test_folder_first_seen_by_a_load_is_watched(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	kilo_store *other = NULL;
	kilo_mesh *mesh = NULL;
	int r;

	assert_int_equal(kilo_store_open(f->uri, &other, &err), 0);
	put_node(other, "a", KEY_A, "10.2.1.0/24");
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, NULL, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	kilo_mesh_free(mesh);
	put_node(other, "b", KEY_B, "10.2.2.0/24");
	/* The caller's loop waits on the fd: it must wake. */
	assert_int_equal(poll(&(struct pollfd){ .fd = kilo_store_fd(f->store), .events = POLLIN }, 1, 2000), 1);
	assert_true(changed_within(f->store, 0, &r, &err));
	assert_int_equal(r, 0);
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, NULL, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 2);
	kilo_mesh_free(mesh);
	kilo_store_close(other);
}

/* How many inotify instances this process holds. */
static int inotify_instances(void)
{
	char path[300], target[64];
	struct dirent *d;
	int n = 0;
	DIR *fds = opendir("/proc/self/fd");

	assert_non_null(fds);
	while ((d = readdir(fds))) {
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = '\0';
			n += strcmp(target, "anon_inode:inotify") == 0;
		}
	}
	closedir(fds);
	return n;
}

/*
 * A reader that loads once never watches (closing watches costs a one-shot
 * kgctl most of its time); one that waits after its load is woken by what
 * changed in between, and sees it.
 */
static void test_watches_begin_with_the_first_wait(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	kilo_store *reader = NULL;
	kilo_mesh *mesh = NULL;
	char *text = NULL;
	int before = inotify_instances(), r;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	assert_int_equal(kilo_store_open(f->uri, &reader, &err), 0);
	assert_int_equal(kilo_store_load(reader, NULL, &mesh, NULL, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	kilo_mesh_free(mesh);
	assert_int_equal(kilo_store_get_node(reader, "a", &text, &err), 0);
	kilo_free(text);
	assert_int_equal(inotify_instances(), before);
	put_node(f->store, "b", KEY_B, "10.2.2.0/24");
	assert_true(changed_within(reader, 0, &r, &err));
	assert_int_equal(r, 0);
	assert_int_equal(inotify_instances(), before + 1);
	assert_int_equal(kilo_store_load(reader, NULL, &mesh, NULL, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 2);
	kilo_mesh_free(mesh);
	/* Woken once: from now on only by changes. */
	assert_false(changed_within(reader, 0, &r, &err));
	assert_int_equal(kilo_store_delete_node(f->store, "b", &err), 0);
	assert_true(changed_within(reader, 2000, &r, &err));
	kilo_store_close(reader);
	assert_int_equal(inotify_instances(), before);
}

/* The names of what is in dir, one per line, sorted. */
static void list_dir(const char *dir, char *out, size_t size)
{
	char cmd[128];
	FILE *ls;
	size_t n;

	snprintf(cmd, sizeof(cmd), "ls -A %s", dir);
	ls = popen(cmd, "r");
	assert_non_null(ls);
	n = fread(out, 1, size - 1, ls);
	out[n] = '\0';
	pclose(ls);
}

static void test_reading_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct kilo_error err = { 0 };
	kilo_store *reader = NULL;
	kilo_mesh *mesh = NULL;
	char listing[256];
	bool changed = true;

	assert_int_equal(kilo_store_open(f->uri, &reader, &err), 0);
	/* Watching from before the load: nothing is pending after it. */
	assert_true(kilo_store_fd(reader) >= 0);
	assert_int_equal(kilo_store_load(reader, NULL, &mesh, NULL, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 0);
	assert_int_equal(kilo_store_changed(reader, &changed, &err), 0);
	assert_false(changed);
	list_dir(f->dir, listing, sizeof(listing));
	assert_string_equal(listing, "");
	kilo_mesh_free(mesh);
	/* The first write makes the folder it needs, and a watcher sees it. */
	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	list_dir(f->dir, listing, sizeof(listing));
	assert_string_equal(listing, "nodes\n");
	assert_int_equal(kilo_store_changed(reader, &changed, &err), 0);
	assert_true(changed);
	assert_int_equal(kilo_store_load(reader, NULL, &mesh, NULL, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	kilo_mesh_free(mesh);
	kilo_store_close(reader);
}

/* The pod CIDR of the node named name in mesh, as text. */
static const char *pod_cidr_of(const kilo_mesh *mesh, const char *name, char *text)
{
	char *json = NULL;
	const char *p;

	assert_int_equal(kilo_mesh_to_json(mesh, &json, NULL), 0);
	snprintf(text, 64, "%s", "");
	p = strstr(json, name);
	p = p ? strstr(p, "\"podCIDR\"") : NULL;
	if (p)
		sscanf(p, "\"podCIDR\": \"%63[^\"]\"", text);
	kilo_free(json);
	return text;
}

static void test_load_after_load_sees_every_change(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_report report;
	struct kilo_error err = { 0 };
	kilo_store *other = NULL;
	kilo_mesh *mesh = NULL;
	char cidr[64];

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	put_node(f->store, "b", KEY_B, "10.2.2.0/24");
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 2);
	kilo_mesh_free(mesh);

	/* Another handle replaces one node and removes the other; no kilo_store_changed in between. */
	assert_int_equal(kilo_store_open(f->uri, &other, &err), 0);
	put_node(other, "a", KEY_A, "10.2.9.0/24");
	assert_int_equal(kilo_store_delete_node(other, "b", &err), 0);
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	assert_string_equal(pod_cidr_of(mesh, "\"a\"", cidr), "10.2.9.0/24");
	kilo_mesh_free(mesh);

	/* Written in place (no rename), broken, then mended: reported while broken, back once mended. */
	write_file(f, "nodes/a.json", "{\"name\": \"a\", \"podCIDR\": \"10.2.1.0/33\"}");
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 0);
	assert_non_null(strstr(problem(f, &report, "nodes/a.json"), "podCIDR"));
	kilo_mesh_free(mesh);
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_non_null(problem(f, &report, "nodes/a.json"));
	kilo_mesh_free(mesh);
	put_node(other, "a", KEY_A, "10.2.3.0/24");
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(report.n_problems, 0);
	assert_string_equal(pod_cidr_of(mesh, "\"a\"", cidr), "10.2.3.0/24");
	kilo_mesh_free(mesh);
	kilo_store_close(other);
}

/* A conflict that comes, holds while the node changes otherwise, and goes with the other node. */
static void test_conflicts_follow_changes_between_loads(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_report report;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;

	put_node(f->store, "a", KEY_A, "10.2.1.0/24");
	put_node(f->store, "b", KEY_B, "10.2.2.0/24");
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 2);
	kilo_mesh_free(mesh);
	put_node(f->store, "b", KEY_B, "10.2.1.128/25");
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	assert_non_null(strstr(problem(f, &report, "nodes/b.json"), "overlaps a pod CIDR of node \"a\""));
	kilo_mesh_free(mesh);
	/* Only the endpoint of a changes: nothing is settled again, b stays out and is reported again. */
	write_file(f, "nodes/a.json", "{\"name\": \"a\", \"location\": \"eu\", \"endpoint\": \"10.0.0.9:51820\","
				      " \"publicKey\": \"" KEY_A "\", \"podCIDR\": \"10.2.1.0/24\"}");
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	assert_true(has_node(mesh, "a"));
	assert_non_null(problem(f, &report, "nodes/b.json"));
	kilo_mesh_free(mesh);
	assert_int_equal(kilo_store_delete_node(f->store, "a", &err), 0);
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 1);
	assert_true(has_node(mesh, "b"));
	assert_int_equal(report.n_problems, 0);
	kilo_mesh_free(mesh);
}

/* Conflicts are settled against the nodes kept, not every earlier one. */
static void test_conflicts_are_settled_by_name_against_kept_nodes(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_report report;
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL;

	put_node(f->store, "a", KEY_A, "10.2.0.0/16");
	/* b overlaps a and is left out, so c, which overlaps only b, stays. */
	write_file(f, "nodes/b.json", "{\"name\": \"b\", \"publicKey\": \"" KEY_B "\", \"podCIDR\": \"10.0.0.0/8\"}");
	write_file(f, "nodes/c.json", "{\"name\": \"c\", \"publicKey\": \"" KEY_B "\", \"podCIDR\": \"10.3.0.0/16\"}");
	/* d has c's key. */
	write_file(f, "nodes/d.json", "{\"name\": \"d\", \"publicKey\": \"" KEY_B "\", \"podCIDR\": \"10.4.0.0/16\"}");
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, &report, &err), 0);
	assert_int_equal(kilo_mesh_node_count(mesh), 2);
	assert_true(has_node(mesh, "a") && has_node(mesh, "c"));
	assert_int_equal(report.n_problems, 2);
	assert_non_null(strstr(problem(f, &report, "nodes/b.json"), "podCIDR: \"10.0.0.0/8\" overlaps a pod CIDR of node \"a\""));
	assert_non_null(strstr(problem(f, &report, "nodes/d.json"), "publicKey: the same key as node \"c\""));
	kilo_mesh_free(mesh);
}

/*
 * A store's mesh is live: readiness and the solve judge lastSeen at the time
 * of the load, over the window the store was opened with. The same node in
 * a mesh document (a snapshot) stays ready.
 */
static void test_a_store_mesh_is_judged_at_its_load(void **state)
{
	struct fixture *f = *state;
	struct kilo_store_opts opts = { .sz = sizeof(opts), .ready_window = 30 };
	struct kilo_error err = { 0 };
	kilo_store *windowed = NULL;
	kilo_mesh *mesh = NULL, *document = NULL;
	char json[512], *text = NULL;

	snprintf(json, sizeof(json),
		 "{\"name\": \"a\", \"endpoint\": \"10.0.0.1:51820\", \"publicKey\": \"" KEY_A "\","
		 " \"podCIDR\": \"10.2.1.0/24\", \"lastSeen\": %lld}",
		 (long long)time(NULL) - 20);
	assert_int_equal(kilo_store_put_node(f->store, json, &err), 0);
	/* The default window is 6 s: a heartbeat 20 s old is too old. */
	assert_int_equal(kilo_store_load(f->store, NULL, &mesh, NULL, &err), 0);
	assert_false(kilo_mesh_node_ready(mesh, 0, 0));
	assert_int_equal(kilo_mesh_to_json(mesh, &text, &err), 0);
	kilo_mesh_free(mesh);
	/* A 30 s window keeps it. */
	assert_int_equal(kilo_store_open_opts(f->uri, &opts, &windowed, &err), 0);
	assert_int_equal(kilo_store_load(windowed, NULL, &mesh, NULL, &err), 0);
	assert_true(kilo_mesh_node_ready(mesh, 0, 0));
	kilo_mesh_free(mesh);
	kilo_store_close(windowed);
	/* The same node in a document is a snapshot. */
	assert_int_equal(kilo_mesh_from_json(text, strlen(text), &document, &err), 0);
	assert_true(kilo_mesh_node_ready(document, 0, 0));
	kilo_mesh_free(document);
	kilo_free(text);
}

static void test_bad_uri_is_refused(void **state)
{
	struct kilo_error err = { 0 };
	kilo_store *store = NULL;

	(void)state;
	assert_int_equal(kilo_store_open("etcd+nothing:x", &store, &err), -EINVAL);
	assert_non_null(strstr(err.message, "file:DIR"));
	assert_int_equal(kilo_store_open("file:", &store, &err), -EINVAL);
	assert_null(store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_takes_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_write_leaves_no_temporary_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_files_are_reported_and_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlapping_pod_cidr_is_left_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlapping_secondary_pod_cidr_is_left_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secondary_of_the_same_family_leaves_only_that_node_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_names_that_escape_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_node_edits_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_by_another_handle_is_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_directory_is_reported_and_watched_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reading_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watches_begin_with_the_first_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_first_seen_by_a_load_is_watched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_after_load_sees_every_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflicts_are_settled_by_name_against_kept_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflicts_follow_changes_between_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_store_mesh_is_judged_at_its_load, setup, teardown),
		cmocka_unit_test(test_bad_uri_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The file store's objects: one JSON file each, replaced atomically
 * (temporary file, fsync, rename, fsync of the folder) so that a reader
 * sees the old object or the new one, even across a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/array.h"
#include "../core/error.h"
#include "../core/io.h"
#include "../core/strbuf.h"
#include "file.h"

#define SUFFIX ".json"
/* "NS/NAME": a DNS label and a DNS subdomain. */
#define OBJECT_NAME_MAX (63 + 1 + 253 + 1)

static struct kilo_file_store *file_store(kilo_store *store)
{
	return (struct kilo_file_store *)store;
}

bool kilo_file_store_is_object(const char *file_name)
{
	size_t len = strlen(file_name);

	return file_name[0] != '.' && len > strlen(SUFFIX) && !strcmp(file_name + len - strlen(SUFFIX), SUFFIX);
}

static int __attribute__((format(printf, 2, 3))) path_printf(char out[PATH_MAX], const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/*
 * A file's version: every write renames a new file (a new inode, a new
 * change time) over the old one. Never 0, which means "absent".
 */
static int64_t file_version(const struct stat *st)
{
	uint64_t v = ((uint64_t)st->st_ino << 30) ^ ((uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec);

	return (int64_t)(v & INT64_MAX) | 1;
}

/* Reads a regular file of at most KILO_STORE_OBJECT_MAX bytes, NUL-terminated, into e. */
static int read_file(const char *path, struct kilo_store_entry *e)
{
	struct stat st;
	size_t size = 0;
	char *buf = NULL;
	ssize_t n;
	int fd, r;

	/* O_NONBLOCK: a FIFO dropped into the store must not hang the agent. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	e->version = file_version(&st);
	/* Written through another name, in another folder, it changes without an event on this one's watch. */
	e->unwatched = st.st_nlink > 1;
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st.st_size > KILO_STORE_OBJECT_MAX) {
		r = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	/* A file that grows while it is read is cut at its size when opened; the next load sees the rest. */
	while (size < (size_t)st.st_size) {
		n = read(fd, buf + size, (size_t)st.st_size - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	buf[size] = '\0';
	e->text = buf;
	e->len = size;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

static const char *read_error(int r)
{
	if (r == -EINVAL)
		return "not a regular file";
	if (r == -EFBIG)
		return "larger than 1 MiB";
	return strerror(-r);
}

/*
 * A namespaced object "NS/NAME" is the file NS.NAME.json: a namespace is a
 * DNS label, without dots, so the first dot splits the two again.
 */
static void file_name_of(enum kilo_store_kind kind, char *name)
{
	char *slash = kilo_store_kind_namespaced(kind) ? strchr(name, '/') : NULL;

	if (slash)
		*slash = '.';
}

void kilo_file_store_object_name(enum kilo_store_kind kind, char *name)
{
	char *dot = kilo_store_kind_namespaced(kind) ? strchr(name, '.') : NULL;

	if (dot)
		*dot = '/';
}

/* The object at path as an entry named name: its text, or why it cannot be read. -ENOENT, -ENOMEM. */
static int fill_entry(enum kilo_store_kind kind, const char *path, const char *name, size_t name_len,
		      struct kilo_store_entry *e)
{
	int r;

	memset(e, 0, sizeof(*e));
	e->source = strdup(path);
	e->name = strndup(name, name_len);
	if (e->name)
		kilo_file_store_object_name(kind, e->name);
	r = e->source && e->name ? read_file(path, e) : -ENOMEM;
	if (r < 0 && r != -ENOENT && r != -ENOMEM) {
		e->unreadable = read_error(r);
		r = 0;
	}
	if (r < 0) {
		free(e->source);
		free(e->name);
		memset(e, 0, sizeof(*e));
	}
	return r;
}

static int list(kilo_store *store, enum kilo_store_kind kind, struct kilo_store_entry **out, size_t *n_out,
		struct kilo_store_report *report, struct kilo_error *err)
{
	struct kilo_file_store *fs = file_store(store);
	const char *folder = kilo_store_kind_name(kind);
	struct kilo_store_entry *entries = NULL;
	char path[PATH_MAX], dir_path[PATH_MAX];
	size_t n = 0, cap = 0;
	struct stat st;
	struct dirent *d;
	DIR *dir;
	int r;

	*out = NULL;
	*n_out = 0;
	fs->has_read = true;
	r = path_printf(dir_path, "%s/%s", fs->dir, folder);
	if (r < 0)
		return kilo_error_set(err, -r, "store: %.200s/%s: path too long", fs->dir, folder);
	dir = opendir(dir_path);
	/* Only writers make the folders: a store nobody wrote to yet is empty. */
	if (!dir && errno == ENOENT && stat(fs->dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (!dir)
		return kilo_error_set(err, errno, "store: cannot open %.400s: %s", dir_path, strerror(errno));
	while ((errno = 0, d = readdir(dir))) {
		if (!kilo_file_store_is_object(d->d_name))
			continue;
		if (path_printf(path, "%s/%s", dir_path, d->d_name) < 0) {
			kilo_store_report_add(report, d->d_name, "path too long");
			continue;
		}
		r = kilo_array_reserve((void **)&entries, &cap, n + 1, sizeof(*entries));
		if (r == 0)
			r = fill_entry(kind, path, d->d_name, strlen(d->d_name) - strlen(SUFFIX), &entries[n]);
		if (r == -ENOMEM)
			goto fail;
		/* Gone between readdir and open: deleted, not broken. */
		if (r == 0)
			n++;
	}
	if (errno) {
		r = kilo_error_set(err, errno, "store: cannot list %.400s: %s", dir_path, strerror(errno));
		goto fail;
	}
	closedir(dir);
	*out = entries;
	*n_out = n;
	return 0;
fail:
	closedir(dir);
	kilo_store_entries_free(entries, n);
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "out of memory");
	return r;
}

/* Where the object name of kind is (path), and its file's name (file). */
static int object_path(struct kilo_file_store *fs, enum kilo_store_kind kind, const char *name, char path[PATH_MAX],
		       char file[OBJECT_NAME_MAX], struct kilo_error *err)
{
	if (strlen(name) >= OBJECT_NAME_MAX || path_printf(path, "%s/%s/%s" SUFFIX, fs->dir, kilo_store_kind_name(kind), name) < 0)
		return kilo_error_set(err, ENAMETOOLONG, "store: %.200s/%s/%.200s" SUFFIX ": path too long", fs->dir,
				      kilo_store_kind_name(kind), name);
	snprintf(file, OBJECT_NAME_MAX, "%s", name);
	file_name_of(kind, file);
	path_printf(path, "%s/%s/%s" SUFFIX, fs->dir, kilo_store_kind_name(kind), file);
	return 0;
}

static int get_object(kilo_store *store, enum kilo_store_kind kind, const char *name, struct kilo_store_entry *out,
		      struct kilo_error *err)
{
	char path[PATH_MAX], file[OBJECT_NAME_MAX];
	int r;

	file_store(store)->has_read = true;
	r = object_path(file_store(store), kind, name, path, file, err);
	if (r < 0)
		return r;
	r = fill_entry(kind, path, file, strlen(file), out);
	return r == -ENOMEM ? kilo_error_set(err, ENOMEM, "out of memory") : r;
}

/*
 * DIR and the folder of kind, for the first write to a new store. A store
 * that was there and went away is not made again, empty, by the next
 * heartbeat: every agent would drop every other node. The agents keep
 * their mesh until it is back.
 */
static int make_folders(struct kilo_file_store *fs, const char *dir_path)
{
	if (!fs->dir_seen && mkdir(fs->dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	fs->dir_seen = true;
	if (mkdir(dir_path, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* The store could not be watched without its folders; now it can. */
	kilo_file_watch_start(fs);
	return 0;
}

/*
 * Locks the folder dir_path against the other writers that compare a
 * version (*dir_fd: close it to unlock) and checks that path is at
 * if_version; -EAGAIN when it is not.
 */
static int lock_at_version(const char *dir_path, const char *path, int64_t if_version, int *dir_fd)
{
	struct stat st;

	*dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dir_fd < 0)
		return -errno;
	if (flock(*dir_fd, LOCK_EX) < 0)
		return -errno;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? -EAGAIN : -errno;
	return file_version(&st) == if_version ? 0 : -EAGAIN;
}

/*
 * Renames tmp over path if path is at if_version, under the folder's lock;
 * links it when path must be absent (0).
 */
static int rename_if(const char *dir_path, const char *tmp, const char *path, int64_t if_version)
{
	int dir_fd, r;

	if (if_version == KILO_STORE_ANY_VERSION)
		return rename(tmp, path) < 0 ? -errno : 0;
	/* A create: link() fails if another writer made path first, whichever process it is. */
	if (if_version == 0) {
		r = link(tmp, path) < 0 ? (errno == EEXIST ? -EAGAIN : -errno) : 0;
		if (r == 0)
			unlink(tmp);
		return r;
	}
	r = lock_at_version(dir_path, path, if_version, &dir_fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (dir_fd >= 0)
		close(dir_fd);
	return r;
}

static int write_object(kilo_store *store, enum kilo_store_kind kind, const char *name, const char *text, size_t len,
			int64_t if_version, struct kilo_error *err)
{
	struct kilo_file_store *fs = file_store(store);
	const char *folder = kilo_store_kind_name(kind);
	char path[PATH_MAX], tmp[PATH_MAX], dir_path[PATH_MAX], file[OBJECT_NAME_MAX];
	/* Peers may carry a preshared key: only the store's owner reads them. */
	mode_t mode = kind == KILO_STORE_PEER ? 0600 : 0644;
	int r;

	r = object_path(fs, kind, name, path, file, err);
	if (r < 0)
		return r;
	if (path_printf(tmp, "%s/%s/.%s" SUFFIX ".XXXXXX", fs->dir, folder, file) < 0 ||
	    path_printf(dir_path, "%s/%s", fs->dir, folder) < 0)
		return kilo_error_set(err, ENAMETOOLONG, "store: %.400s: path too long", path);
	r = kilo_file_write_new(tmp, text, len, mode);
	if (r == -ENOENT) {
		r = make_folders(fs, dir_path);
		if (r < 0)
			return kilo_error_set(err, -r, "store: cannot create %.400s: %s", dir_path, strerror(-r));
		/* mkostemp replaced the X's: put them back. */
		path_printf(tmp, "%s/%s/.%s" SUFFIX ".XXXXXX", fs->dir, folder, file);
		r = kilo_file_write_new(tmp, text, len, mode);
	}
	if (r < 0)
		return kilo_error_set(err, -r, "store: cannot write %.400s: %s", path, strerror(-r));
	r = rename_if(dir_path, tmp, path, if_version);
	if (r < 0)
		unlink(tmp);
	if (r == -EAGAIN)
		return kilo_error_set(err, EAGAIN, "store: %.400s changed meanwhile", path);
	if (r < 0)
		return kilo_error_set(err, -r, "store: cannot write %.400s: %s", path, strerror(-r));
	r = sync_dir(dir_path);
	if (r < 0)
		return kilo_error_set(err, -r, "store: cannot sync %.400s: %s", dir_path, strerror(-r));
	return 0;
}

static int remove_object(kilo_store *store, enum kilo_store_kind kind, const char *name, struct kilo_error *err)
{
	struct kilo_file_store *fs = file_store(store);
	char path[PATH_MAX], dir_path[PATH_MAX], file[OBJECT_NAME_MAX];
	int r;

	r = object_path(fs, kind, name, path, file, err);
	if (r < 0)
		return r;
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : kilo_error_set(err, errno, "store: cannot remove %.400s: %s", path,
							    strerror(errno));
	if (path_printf(dir_path, "%s/%s", fs->dir, kilo_store_kind_name(kind)) == 0 && (r = sync_dir(dir_path)) < 0)
		return kilo_error_set(err, -r, "store: cannot sync %.400s: %s", dir_path, strerror(-r));
	return 0;
}

/* Removes name while it is at if_version (an identity no other node took meanwhile); -EAGAIN otherwise. */
static int remove_if(kilo_store *store, enum kilo_store_kind kind, const char *name, int64_t if_version,
		     struct kilo_error *err)
{
	struct kilo_file_store *fs = file_store(store);
	char path[PATH_MAX], dir_path[PATH_MAX], file[OBJECT_NAME_MAX];
	int dir_fd, r;

	r = object_path(fs, kind, name, path, file, err);
	if (r < 0)
		return r;
	if (path_printf(dir_path, "%s/%s", fs->dir, kilo_store_kind_name(kind)) < 0)
		return kilo_error_set(err, ENAMETOOLONG, "store: %.400s: path too long", path);
	r = lock_at_version(dir_path, path, if_version, &dir_fd);
	if (r == 0 && unlink(path) < 0)
		r = -errno;
	if (dir_fd >= 0)
		close(dir_fd);
	if (r == -EAGAIN)
		return kilo_error_set(err, EAGAIN, "store: %.400s changed meanwhile", path);
	if (r == 0)
		r = sync_dir(dir_path);
	return r < 0 ? kilo_error_set(err, -r, "store: cannot remove %.400s: %s", path, strerror(-r)) : 0;
}

static void close_store(kilo_store *store)
{
	struct kilo_file_store *fs = file_store(store);

	kilo_file_watch_close(fs);
	for (size_t i = 0; i < KILO_STORE_MESH_KINDS; i++)
		kilo_store_cache_free(store->cache[i]);
	for (size_t i = 0; i < KILO_STORE_CHANGED_KINDS; i++) {
		for (size_t j = 0; j < fs->n_dirty[i]; j++)
			free(fs->dirty[i][j]);
		free(fs->dirty[i]);
	}
	free(fs->dir);
	free(fs);
}

/* Up while the directory is there: a store that went away keeps the agents' mesh as it was. */
static void health(kilo_store *store, struct kilo_store_health *out)
{
	struct kilo_file_store *fs = file_store(store);
	struct stat st;

	const char *why = NULL;

	memset(out, 0, sizeof(*out));
	if (stat(fs->dir, &st) < 0)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	out->up = !why;
	if (why)
		snprintf(out->why, sizeof(out->why), "%.400s: %s", fs->dir, why);
}

static int describe(kilo_store *store, struct kilo_strbuf *out, struct kilo_error *err)
{
	(void)err;
	kilo_strbuf_printf(out, "Store: file:%s\n", file_store(store)->dir);
	return 0;
}

static const struct kilo_store_ops file_ops = {
	.close = close_store,
	.list = list,
	.get = get_object,
	.changes = kilo_file_watch_changes,
	.write = write_object,
	.remove = remove_object,
	.remove_if = remove_if,
	.fd = kilo_file_watch_fd,
	.changed = kilo_file_watch_changed,
	.health = health,
	.describe = describe,
	.object_changes = true,
};

int kilo_file_store_open(const char *dir, kilo_store **out, struct kilo_error *err)
{
	struct kilo_file_store *fs;
	struct stat st;
	bool exists;
	int r;

	if (!dir[0])
		return kilo_error_set(err, EINVAL, "store: file: needs a directory (file:DIR)");
	fs = calloc(1, sizeof(*fs));
	if (!fs || !(fs->dir = strdup(dir))) {
		free(fs);
		return kilo_error_set(err, ENOMEM, "out of memory");
	}
	fs->base.ops = &file_ops;
	kilo_file_watch_init(fs);
	/* Nothing is created here: a reader writes nothing, a writer makes the folders it needs. */
	r = 0;
	exists = fs->dir_seen = stat(dir, &st) == 0;
	if (!exists && errno != ENOENT)
		r = kilo_error_set(err, errno, "store: %.400s: %s", dir, strerror(errno));
	else if (exists && !S_ISDIR(st.st_mode))
		r = kilo_error_set(err, ENOTDIR, "store: %.400s is not a directory", dir);
	if (r < 0) {
		close_store(&fs->base);
		return r;
	}
	*out = &fs->base;
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Watching the file store with inotify. Objects are replaced by rename,
 * so a finished write shows as IN_MOVED_TO (or IN_CLOSE_WRITE from a
 * writer that does not rename); temporary files are skipped. When the
 * directory goes away its watches die with it; every later call looks for
 * it again, so the store recovers once it is back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/error.h"
#include "file.h"

#define SELF_EVENTS (IN_DELETE_SELF | IN_MOVE_SELF)
#define OBJECT_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM)

static const char *const folders[KILO_FILE_WATCH_MAX] = {
	[KILO_FILE_WATCH_DIR] = "",
	[KILO_FILE_WATCH_NODES] = "/nodes",
	[KILO_FILE_WATCH_PEERS] = "/peers",
};

static void remove_watches(struct kilo_file_store *fs)
{
	for (size_t i = 0; i < KILO_FILE_WATCH_MAX; i++) {
		if (fs->watches[i] >= 0)
			inotify_rm_watch(fs->inotify_fd, fs->watches[i]);
		fs->watches[i] = -1;
	}
}

static bool watching(const struct kilo_file_store *fs)
{
	for (size_t i = 0; i < KILO_FILE_WATCH_MAX; i++) {
		if (fs->watches[i] < 0)
			return false;
	}
	return true;
}

static int add_watches(struct kilo_file_store *fs, struct kilo_error *err)
{
	/* On DIR itself: its folders coming and going (IN_CREATE: a folder made again). */
	const uint32_t dir_mask = SELF_EVENTS | IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ONLYDIR;
	char path[4096];
	int wd;

	for (size_t i = 0; i < KILO_FILE_WATCH_MAX; i++) {
		if (snprintf(path, sizeof(path), "%s%s", fs->dir, folders[i]) >= (int)sizeof(path)) {
			remove_watches(fs);
			return kilo_error_set(err, ENAMETOOLONG, "store: %.400s: path too long", fs->dir);
		}
		wd = inotify_add_watch(fs->inotify_fd, path,
				       i == KILO_FILE_WATCH_DIR ? dir_mask : SELF_EVENTS | OBJECT_EVENTS | IN_ONLYDIR);
		if (wd < 0) {
			wd = -errno;
			remove_watches(fs);
			return kilo_error_set(err, -wd, "store: cannot watch %.400s: %s", path, strerror(-wd));
		}
		fs->watches[i] = wd;
	}
	return 0;
}

int kilo_file_watch_init(struct kilo_file_store *fs, struct kilo_error *err)
{
	fs->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fs->inotify_fd < 0)
		return kilo_error_set(err, errno, "store: cannot create an inotify instance: %s", strerror(errno));
	return add_watches(fs, err);
}

void kilo_file_watch_close(struct kilo_file_store *fs)
{
	if (fs->inotify_fd >= 0)
		close(fs->inotify_fd);
	fs->inotify_fd = -1;
}

int kilo_file_watch_fd(const kilo_store *store)
{
	return ((const struct kilo_file_store *)store)->inotify_fd;
}

static bool relevant(const struct kilo_file_store *fs, const struct inotify_event *ev, bool *lost)
{
	size_t i;

	if (ev->mask & IN_Q_OVERFLOW)
		return true;
	for (i = 0; i < KILO_FILE_WATCH_MAX && fs->watches[i] != ev->wd; i++)
		;
	/* A watch removed earlier still delivers its last events. */
	if (i == KILO_FILE_WATCH_MAX)
		return false;
	if (ev->mask & (IN_IGNORED | SELF_EVENTS)) {
		*lost = true;
		return true;
	}
	if (!ev->len)
		return false;
	if (i == KILO_FILE_WATCH_DIR)
		return !strcmp(ev->name, "nodes") || !strcmp(ev->name, "peers");
	return kilo_file_store_is_object(ev->name);
}

/* Reads every queued event; *changed when one matters, *lost when a watch died. */
static int drain(struct kilo_file_store *fs, bool *changed, bool *lost, struct kilo_error *err)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;

	for (;;) {
		n = read(fs->inotify_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return kilo_error_set(err, errno, "store: cannot read inotify events: %s", strerror(errno));
		for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (relevant(fs, ev, lost))
				*changed = true;
		}
	}
}

static int make_folder(const char *dir, const char *folder)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s%s", dir, folder) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

int kilo_file_watch_changed(kilo_store *store, bool *changed, struct kilo_error *err)
{
	struct kilo_file_store *fs = (struct kilo_file_store *)store;
	struct stat st;
	bool lost = false;
	int r;

	r = drain(fs, changed, &lost, err);
	if (r < 0)
		return r;
	if (!lost && watching(fs))
		return 0;
	/* Start again from DIR: a folder may have been replaced by another one of the same name. */
	remove_watches(fs);
	if (stat(fs->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*changed = false;
		return kilo_error_set(err, ENOENT, "store: directory %.400s has disappeared; watching for it to come back",
				      fs->dir);
	}
	if ((r = make_folder(fs->dir, folders[KILO_FILE_WATCH_NODES])) < 0 ||
	    (r = make_folder(fs->dir, folders[KILO_FILE_WATCH_PEERS])) < 0)
		return kilo_error_set(err, -r, "store: cannot create the folders of %.400s: %s", fs->dir, strerror(-r));
	r = add_watches(fs, err);
	if (r < 0)
		return r;
	/* What is in the directory now is not what was loaded before. */
	*changed = true;
	return 0;
}

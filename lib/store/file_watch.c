// SPDX-License-Identifier: Apache-2.0
/*
 * Watching the file store with inotify. Objects are replaced by rename,
 * so a finished write shows as IN_MOVED_TO (or IN_CLOSE_WRITE from a
 * writer that does not rename, IN_CREATE from a link); temporary files
 * are skipped. When the
 * directory goes away its watches die with it; every later call looks for
 * it again, so the store recovers once it is back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/array.h"
#include "../core/error.h"
#include "file.h"

#define SELF_EVENTS (IN_DELETE_SELF | IN_MOVE_SELF)
/*
 * IN_CREATE: an object created whole by link(), as a write that must not
 * replace one is. IN_MODIFY: a file written in place by a writer that keeps
 * it open, which a kept listing must not miss.
 */
#define OBJECT_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_CREATE | IN_MODIFY)

/* The folder of watch i: DIR itself, or the folder of kind i - 1. */
static const char *folder(size_t i)
{
	return i == KILO_FILE_WATCH_DIR ? "" : kilo_store_kind_name((enum kilo_store_kind)(i - 1));
}

/* Whether watch i is of a kind whose changes are kept by name: read by a load, or listed. */
static bool named_watch(size_t i)
{
	return i != KILO_FILE_WATCH_DIR && i - 1 < KILO_STORE_CHANGED_KINDS;
}

static void remove_watches(struct kilo_file_store *fs)
{
	for (size_t i = 0; i < KILO_FILE_WATCH_MAX; i++) {
		if (fs->watches[i] >= 0)
			inotify_rm_watch(fs->inotify_fd, fs->watches[i]);
		fs->watches[i] = -1;
	}
}

static void all_dirty(struct kilo_file_store *fs)
{
	for (size_t k = 0; k < KILO_STORE_CHANGED_KINDS; k++)
		fs->all_dirty[k] = true;
}

/* Whether the folder which (KILO_FILE_WATCH_MAX: every folder) is watched. */
static bool watching(const struct kilo_file_store *fs, size_t which)
{
	for (size_t i = 0; i < KILO_FILE_WATCH_MAX; i++) {
		if (fs->watches[i] < 0 && (which == KILO_FILE_WATCH_MAX || which == i))
			return false;
	}
	return true;
}

static size_t kind_watch(enum kilo_store_kind kind)
{
	return (size_t)kind + 1;
}

/*
 * Watches DIR and those of its folders that exist and are not watched yet;
 * *added when one is new. A folder made later shows on DIR's watch. A
 * reader creates nothing: only writers make the folders.
 */
static int add_watches(struct kilo_file_store *fs, bool *added, bool *named_added, struct kilo_error *err)
{
	/* On DIR itself: its folders coming and going (IN_CREATE: a folder made again). */
	const uint32_t dir_mask = SELF_EVENTS | IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ONLYDIR;
	char path[4096];
	int wd;

	*added = *named_added = false;
	for (size_t i = 0; i < KILO_FILE_WATCH_MAX; i++) {
		if (fs->watches[i] >= 0)
			continue;
		if (snprintf(path, sizeof(path), "%s%s%s", fs->dir, i ? "/" : "", folder(i)) >= (int)sizeof(path)) {
			remove_watches(fs);
			return kilo_error_set(err, ENAMETOOLONG, "store: %.400s: path too long", fs->dir);
		}
		wd = inotify_add_watch(fs->inotify_fd, path,
				       i == KILO_FILE_WATCH_DIR ? dir_mask : SELF_EVENTS | OBJECT_EVENTS | IN_ONLYDIR);
		if (wd < 0 && errno == ENOENT && i != KILO_FILE_WATCH_DIR)
			continue;
		if (wd < 0) {
			wd = -errno;
			remove_watches(fs);
			return kilo_error_set(err, -wd, "store: cannot watch %.400s: %s", path, strerror(-wd));
		}
		fs->watches[i] = wd;
		*added = true;
		/* What a load read of DIR's kinds before is not known to be current any more. */
		*named_added |= i == KILO_FILE_WATCH_DIR || named_watch(i);
	}
	return 0;
}

/*
 * The watches begin only when a caller waits for changes (kilo_store_fd,
 * kilo_store_changed) or loads a kind again: a one-shot reader such as
 * `kgctl get` never has them. Closing an inotify instance that had watches waits for the
 * kernel's grace period, 10-20 ms, most of such a call. Until then every
 * load reads everything.
 */
void kilo_file_watch_init(struct kilo_file_store *fs)
{
	fs->inotify_fd = fs->wait_fd = fs->wake_fd = -1;
	for (size_t i = 0; i < KILO_FILE_WATCH_MAX; i++)
		fs->watches[i] = -1;
	all_dirty(fs);
}

/*
 * Starts watching, once. What happened before is unknown: everything is
 * dirty, and a change is pending if the caller read the store already.
 */
static int watch_begin(struct kilo_file_store *fs, struct kilo_error *err)
{
	bool added, named_added;
	int r;

	if (fs->inotify_fd >= 0)
		return 0;
	fs->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fs->inotify_fd < 0)
		return kilo_error_set(err, errno, "store: cannot create an inotify instance: %s", strerror(errno));
	all_dirty(fs);
	fs->pending |= fs->has_read;
	r = add_watches(fs, &added, &named_added, err);
	/* No DIR yet: the first write makes it (kilo_file_watch_start). */
	if (r == -ENOENT) {
		if (err)
			memset(err, 0, sizeof(*err));
		return 0;
	}
	if (r < 0) {
		close(fs->inotify_fd);
		fs->inotify_fd = -1;
	}
	return r;
}

void kilo_file_watch_start(struct kilo_file_store *fs)
{
	bool added, named_added;

	if (fs->inotify_fd >= 0 && add_watches(fs, &added, &named_added, NULL) == 0 && added) {
		/* What happened before the watches began is unknown. */
		if (named_added)
			all_dirty(fs);
		fs->pending = true;
	}
}

void kilo_file_watch_close(struct kilo_file_store *fs)
{
	int *fds[] = { &fs->wait_fd, &fs->wake_fd, &fs->inotify_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/*
 * The caller waits on an epoll instance over the inotify descriptor and an
 * eventfd: a change pending when the watches began (one that may have come
 * between a read and the wait) has no inotify event to wake the caller.
 */
static int wait_begin(struct kilo_file_store *fs)
{
	struct epoll_event in = { .events = EPOLLIN };
	int r = watch_begin(fs, NULL);

	if (r < 0 || fs->wait_fd >= 0)
		return r;
	fs->wait_fd = epoll_create1(EPOLL_CLOEXEC);
	fs->wake_fd = eventfd(fs->pending, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fs->wait_fd < 0 || fs->wake_fd < 0 || epoll_ctl(fs->wait_fd, EPOLL_CTL_ADD, fs->inotify_fd, &in) < 0 ||
	    epoll_ctl(fs->wait_fd, EPOLL_CTL_ADD, fs->wake_fd, &in) < 0) {
		r = -errno;
		kilo_file_watch_close(fs);
	}
	return r;
}

int kilo_file_watch_fd(const kilo_store *store)
{
	/* The store is not const where it was made; only its watches begin here. */
	struct kilo_file_store *fs = (struct kilo_file_store *)store;
	int r = wait_begin(fs);

	return r < 0 ? r : fs->wait_fd;
}

/* Past this many changed names a load reads every object again, which is then as cheap. */
#define DIRTY_MAX 4096

/* Notes the object file name of kind as changed. */
static void mark_dirty(struct kilo_file_store *fs, enum kilo_store_kind kind, const char *file_name)
{
	size_t n = fs->n_dirty[kind];
	char *name;

	if (fs->all_dirty[kind])
		return;
	name = n < DIRTY_MAX ? strndup(file_name, strlen(file_name) - strlen(".json")) : NULL;
	if (name)
		kilo_file_store_object_name(kind, name);
	if (!name || kilo_array_reserve((void **)&fs->dirty[kind], &fs->cap_dirty[kind], n + 1, sizeof(char *)) < 0) {
		free(name);
		fs->all_dirty[kind] = true;
		return;
	}
	fs->dirty[kind][fs->n_dirty[kind]++] = name;
}

/* Takes in one event: what changed, and whether a watch died. */
static void note_event(struct kilo_file_store *fs, const struct inotify_event *ev)
{
	size_t i;

	if (ev->mask & IN_Q_OVERFLOW) {
		fs->pending = true;
		all_dirty(fs);
		return;
	}
	for (i = 0; i < KILO_FILE_WATCH_MAX && fs->watches[i] != ev->wd; i++)
		;
	/* A watch removed earlier still delivers its last events. */
	if (i == KILO_FILE_WATCH_MAX)
		return;
	if (ev->mask & (IN_IGNORED | SELF_EVENTS)) {
		fs->lost = fs->pending = true;
		all_dirty(fs);
		return;
	}
	if (!ev->len)
		return;
	if (i == KILO_FILE_WATCH_DIR) {
		for (size_t w = 1; w < KILO_FILE_WATCH_MAX; w++) {
			if (strcmp(ev->name, folder(w)))
				continue;
			fs->pending = true;
			if (named_watch(w))
				all_dirty(fs);
		}
	} else if (kilo_file_store_is_object(ev->name)) {
		fs->pending = true;
		if (named_watch(i))
			mark_dirty(fs, (enum kilo_store_kind)(i - 1), ev->name);
	}
}

/* Reads every queued event into fs. */
static int drain(struct kilo_file_store *fs, struct kilo_error *err)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	uint64_t woken;
	ssize_t n;

	/* Its wake-up is fs->pending already. */
	if (fs->wake_fd >= 0 && read(fs->wake_fd, &woken, sizeof(woken)) < 0 && errno != EAGAIN)
		return kilo_error_set(err, errno, "store: cannot read its eventfd: %s", strerror(errno));
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
			note_event(fs, ev);
		}
	}
}

/*
 * Watches what is not watched yet, starting again from DIR after a watch
 * died (a folder may have been replaced by another one of the same name).
 * What is in a folder watched only now is not what was loaded before:
 * *added then, and every object is dirty.
 */
static int watch_again(struct kilo_file_store *fs, bool *added, struct kilo_error *err)
{
	bool named_added;
	struct stat st;
	int r;

	*added = false;
	if (!fs->lost && watching(fs, KILO_FILE_WATCH_MAX))
		return 0;
	if (fs->lost || fs->watches[KILO_FILE_WATCH_DIR] < 0)
		remove_watches(fs);
	fs->lost = false;
	if (stat(fs->dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return kilo_error_set(err, ENOENT, "store: directory %.400s has disappeared; watching for it to come back",
				      fs->dir);
	r = add_watches(fs, added, &named_added, err);
	if (r == 0 && named_added)
		all_dirty(fs);
	return r;
}

int kilo_file_watch_changed(kilo_store *store, bool *changed, struct kilo_error *err)
{
	struct kilo_file_store *fs = (struct kilo_file_store *)store;
	bool added;
	int r;

	r = watch_begin(fs, err);
	if (r == 0)
		r = drain(fs, err);
	if (r < 0)
		return r;
	*changed = fs->pending;
	fs->pending = false;
	r = watch_again(fs, &added, err);
	if (r < 0) {
		*changed = false;
		return r;
	}
	*changed |= added;
	return 0;
}

int kilo_file_watch_changes(kilo_store *store, enum kilo_store_kind kind, char ***names, size_t *n, bool *all,
			    struct kilo_error *err)
{
	struct kilo_file_store *fs = (struct kilo_file_store *)store;
	bool added;
	int r;

	*names = NULL;
	*n = 0;
	*all = true;
	if (kind >= KILO_STORE_CHANGED_KINDS)
		return 0;
	/* A kind's first load reads everything anyway; loaded again, it is worth watching. */
	if (fs->inotify_fd < 0 && !fs->loaded[kind]) {
		fs->loaded[kind] = true;
		return 0;
	}
	r = watch_begin(fs, err);
	/* Events still queued belong to this load; kilo_store_changed reports them later all the same. */
	if (r == 0)
		r = drain(fs, err);
	/*
	 * A folder made since the last watch showed on DIR's watch, whose
	 * event this load took in: the folder is watched now, or no event
	 * would ever wake the caller for what is written in it.
	 */
	if (r == 0)
		r = watch_again(fs, &added, err);
	if (r < 0)
		return r;
	*all = fs->all_dirty[kind] || fs->lost || !watching(fs, kind_watch(kind));
	*names = fs->dirty[kind];
	*n = fs->n_dirty[kind];
	fs->dirty[kind] = NULL;
	fs->n_dirty[kind] = fs->cap_dirty[kind] = 0;
	/* Without watches nothing tells what changed until the next load: every load reads everything. */
	fs->all_dirty[kind] = fs->lost || !watching(fs, kind_watch(kind));
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Whole reads and writes on file descriptors, through EINTR and short counts. */
#ifndef KILO_LIB_CORE_IO_H
#define KILO_LIB_CORE_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all len bytes of buf; -errno. */
int kilo_write_all(int fd, const void *buf, size_t len);
/*
 * Reads fd to its end into a new NUL-terminated buffer (free with free);
 * -EFBIG when it holds more than limit bytes, -errno, -ENOMEM.
 */
int kilo_read_all(int fd, size_t limit, char **out, size_t *len);

/*
 * Writes the len bytes of data to a new file, named by template whose
 * trailing XXXXXX it replaces (mkostemp's rule), with mode and synced to
 * disk. -errno, with no file left behind.
 */
int kilo_file_write_new(char *template, const void *data, size_t len, mode_t mode);
/*
 * Replaces path with a file of data and mode through a new file beside it
 * and a rename: a reader sees the old file or the whole new one, never a
 * part. -errno, with path as it was.
 */
int kilo_file_replace(const char *path, const void *data, size_t len, mode_t mode);

#endif

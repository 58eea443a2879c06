/* SPDX-License-Identifier: Apache-2.0 */
/* Whole reads and writes on file descriptors, through EINTR and short counts. */
#ifndef KILO_LIB_CORE_IO_H
#define KILO_LIB_CORE_IO_H

#include <stddef.h>

/* Writes all len bytes of buf; -errno. */
int kilo_write_all(int fd, const void *buf, size_t len);
/*
 * Reads fd to its end into a new NUL-terminated buffer (free with free);
 * -EFBIG when it holds more than limit bytes, -errno, -ENOMEM.
 */
int kilo_read_all(int fd, size_t limit, char **out, size_t *len);

#endif

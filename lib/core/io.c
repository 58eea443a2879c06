/* SPDX-License-Identifier: Apache-2.0 */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kilo_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int kilo_read_all(int fd, size_t limit, char **out, size_t *len)
{
	size_t size = 0, cap = 16384;
	char *buf = malloc(cap + 1), *grown;
	ssize_t n;

	for (;;) {
		if (!buf)
			return -ENOMEM;
		if (size == cap) {
			if (cap > limit)
				break;
			grown = realloc(buf, 2 * cap + 1);
			if (!grown) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
			cap *= 2;
		}
		n = read(fd, buf + size, cap - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	if (size > limit) {
		free(buf);
		return -EFBIG;
	}
	buf[size] = '\0';
	*out = buf;
	*len = size;
	return 0;
}

int kilo_file_write_new(char *template, const void *data, size_t len, mode_t mode)
{
	/* mkostemp makes the file 0600: nobody reads it before fchmod says they may. */
	int fd = mkostemp(template, O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0)
		r = kilo_write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(template);
	return r;
}

int kilo_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	size_t size = strlen(path) + sizeof(".XXXXXX");
	char *tmp = malloc(size);
	int r;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, size, "%s.XXXXXX", path);
	r = kilo_file_write_new(tmp, data, len, mode);
	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
	}
	free(tmp);
	return r;
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "io.h"

#include <errno.h>
#include <stdlib.h>
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

/* SPDX-License-Identifier: Apache-2.0 */
/* Private key files: read with their permissions checked, written 0600. */
#include <kilo/core.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "io.h"

/* A key and some whitespace; anything longer is not a key. */
#define KEY_TEXT_MAX 128

int kilo_key_read_fd(int fd, struct kilo_key *key, struct kilo_error *err)
{
	char text[KEY_TEXT_MAX + 1];
	size_t len = 0;
	ssize_t n;
	int r = 0;

	do {
		n = read(fd, text + len, sizeof(text) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = kilo_error_set(err, errno, "reading the key: %s", strerror(errno));
			goto out;
		}
		len += (size_t)n;
	} while (n > 0 && len < sizeof(text));
	if (len == sizeof(text)) {
		r = kilo_error_set(err, EINVAL, "the key is longer than %d characters", KEY_TEXT_MAX);
		goto out;
	}
	/* Whitespace may follow, as `wg` allows; any other byte after the key (a NUL too) is refused. */
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	text[len] = '\0';
	/* Never echo the text: it is meant to be a secret. */
	if (len != KILO_KEY_B64_LEN || kilo_key_parse(text, key, NULL) < 0)
		r = kilo_error_set(err, EINVAL, "the key is not 44 characters of base64 (and whitespace)");
out:
	sodium_memzero(text, sizeof(text));
	return r;
}

int kilo_key_read_file(const char *path, struct kilo_key *key, struct kilo_error *err)
{
	struct stat st;
	/*
	 * O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer;
	 * what is opened is refused below unless it is a regular file. Symbolic
	 * links are followed: Kubernetes mounts secrets through them.
	 */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), r;

	if (fd < 0)
		return kilo_error_set(err, errno, "private key %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = kilo_error_set(err, errno, "private key %s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		r = kilo_error_set(err, EINVAL, "private key %s: not a regular file", path);
	} else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = kilo_error_set(err, EPERM, "private key %s: mode %04o lets others read it; chmod 600 it",
				   path, (unsigned)(st.st_mode & 07777));
	} else {
		r = kilo_key_read_fd(fd, key, err);
		kilo_error_prefix(err, "private key %s", path);
	}
	close(fd);
	return r;
}

int kilo_key_write_file(const char *path, const struct kilo_key *key, struct kilo_error *err)
{
	char text[KILO_KEY_B64_LEN + 2];
	int r;

	kilo_key_format(key, text);
	text[KILO_KEY_B64_LEN] = '\n';
	r = kilo_file_replace(path, text, KILO_KEY_B64_LEN + 1, 0600);
	sodium_memzero(text, sizeof(text));
	return r < 0 ? kilo_error_set(err, -r, "private key %s: %s", path, strerror(-r)) : 0;
}

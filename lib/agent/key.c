// SPDX-License-Identifier: Apache-2.0
/* The private key of an agent or a VPN peer: read, or made on first use. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/error.h"

/* The private key, made (0600, in a 0700 folder) when there is none yet. */
int kilo_agent_key_load(const char *path, struct kilo_key *key, struct kilo_error *err)
{
	struct kilo_error local = { 0 };
	char *dir, *slash;
	int r;

	r = kilo_key_read_file(path, key, &local);
	if (r != -ENOENT) {
		if (r < 0)
			*err = local;
		return r;
	}
	dir = strdup(path);
	if (!dir)
		return kilo_error_set(err, ENOMEM, "private key %s: out of memory", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			r = kilo_error_set(err, errno, "private key %s: creating %s: %s", path, dir, strerror(errno));
	}
	free(dir);
	if (r == -ENOENT)
		r = kilo_key_generate(key, NULL);
	if (r == 0)
		r = kilo_key_write_file(path, key, err);
	return r;
}

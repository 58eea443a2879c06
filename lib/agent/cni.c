/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kilo's CNI configuration list: its bridge network, with host-local IPAM
 * ranges replaced by the node's pod CIDR (kilo-reference.md §4.3 step 1).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/io.h"

int kilo_agent_cni_config(const struct kilo_cidr *pod_cidr, uint32_t mtu, char **out)
{
	char subnet[KILO_CIDR_STRLEN], *text;
	struct kilo_cidr masked = kilo_cidr_masked(pod_cidr);
	json_t *root;

	*out = NULL;
	kilo_cidr_format(&masked, subnet);
	root = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:b, s:b, s:I, s:{s:s, s:[[{s:s}]]}}]}",
			 "cniVersion", "0.3.1", "name", "kilo", "plugins",
			 "name", "kubernetes", "type", "bridge", "bridge", KILO_AGENT_CNI_BRIDGE, "isDefaultGateway", 1,
			 "forceAddress", 1, "mtu", (json_int_t)(mtu ? mtu : KILO_DEFAULT_MTU),
			 "ipam", "type", "host-local", "ranges", "subnet", subnet);
	if (!root)
		return -ENOMEM;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	/* Callers free with kilo_free, which is free. */
	*out = text;
	return 0;
}

int kilo_agent_cni_write(const char *path, const struct kilo_cidr *pod_cidr, uint32_t mtu, struct kilo_error *err)
{
	size_t len = strlen(path) + sizeof(".XXXXXX");
	char *text = NULL, *tmp = malloc(len);
	int fd = -1, r;

	if (!tmp)
		return kilo_error_set(err, ENOMEM, "CNI configuration %s: out of memory", path);
	snprintf(tmp, len, "%s.XXXXXX", path);
	r = kilo_agent_cni_config(pod_cidr, mtu, &text);
	if (r == 0) {
		fd = mkostemp(tmp, O_CLOEXEC);
		r = fd < 0 ? -errno : 0;
	}
	if (r == 0)
		r = kilo_write_all(fd, text, strlen(text));
	if (r == 0)
		r = kilo_write_all(fd, "\n", 1);
	/* The runtime may read the file at any moment: it sees the old one or the whole new one. */
	if (r == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0))
		r = -errno;
	if (r < 0) {
		kilo_error_set(err, -r, "CNI configuration %s: %s", path, strerror(-r));
		if (fd >= 0)
			unlink(tmp);
	}
	if (fd >= 0)
		close(fd);
	free(text);
	free(tmp);
	return r;
}

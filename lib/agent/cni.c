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

/* host-local's range set of one subnet: [{"subnet": CIDR}]. */
static int append_range(json_t *ranges, const struct kilo_cidr *cidr)
{
	char subnet[KILO_CIDR_STRLEN];
	struct kilo_cidr masked = kilo_cidr_masked(cidr);

	kilo_cidr_format(&masked, subnet);
	return json_array_append_new(ranges, json_pack("[{s:s}]", "subnet", subnet));
}

int kilo_agent_cni_config(const struct kilo_cidr *pod_cidr, const struct kilo_cidr *secondary_pod_cidr, uint32_t mtu,
			  char **out)
{
	json_t *root, *ranges = json_array();
	char *text;

	*out = NULL;
	/* One range set per family: host-local then gives every pod an address of each. */
	if (!ranges || append_range(ranges, pod_cidr) < 0 ||
	    (secondary_pod_cidr->addr.family && append_range(ranges, secondary_pod_cidr) < 0)) {
		json_decref(ranges);
		return -ENOMEM;
	}
	root = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:b, s:b, s:I, s:{s:s, s:o}}]}",
			 "cniVersion", "0.3.1", "name", "kilo", "plugins",
			 "name", "kubernetes", "type", "bridge", "bridge", KILO_AGENT_CNI_BRIDGE, "isDefaultGateway", 1,
			 "forceAddress", 1, "mtu", (json_int_t)(mtu ? mtu : KILO_DEFAULT_MTU),
			 "ipam", "type", "host-local", "ranges", ranges);
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

int kilo_agent_cni_write(const char *path, const struct kilo_cidr *pod_cidr, const struct kilo_cidr *secondary_pod_cidr,
			 uint32_t mtu, struct kilo_error *err)
{
	char *text = NULL, *line = NULL;
	int r;

	r = kilo_agent_cni_config(pod_cidr, secondary_pod_cidr, mtu, &text);
	if (r == 0 && asprintf(&line, "%s\n", text) < 0)
		r = -ENOMEM;
	/* The runtime may read the file at any moment: it sees the old one or the whole new one. */
	if (r == 0)
		r = kilo_file_replace(path, line, strlen(line), 0644);
	free(line);
	free(text);
	return r < 0 ? kilo_error_set(err, -r, "CNI configuration %s: %s", path, strerror(-r)) : 0;
}

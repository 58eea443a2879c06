/* SPDX-License-Identifier: Apache-2.0 */
#include "model.h"

#include <errno.h>
#include <string.h>

#include <kilo/topology.h>

static const char *const granularity_names[] = {
	[KILO_GRANULARITY_LOCATION] = "location",
	[KILO_GRANULARITY_FULL] = "full",
	[KILO_GRANULARITY_CROSS] = "cross",
};

int kilo_granularity_parse(const char *text, enum kilo_granularity *out)
{
	for (size_t i = 0; i < sizeof(granularity_names) / sizeof(granularity_names[0]); i++) {
		if (text && strcmp(text, granularity_names[i]) == 0) {
			*out = (enum kilo_granularity)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *kilo_granularity_name(enum kilo_granularity granularity)
{
	if ((size_t)granularity >= sizeof(granularity_names) / sizeof(granularity_names[0]))
		return "unknown";
	return granularity_names[granularity];
}

void kilo_settings_init(struct kilo_settings *settings)
{
	memset(settings, 0, sizeof(*settings));
	settings->granularity = KILO_GRANULARITY_LOCATION;
	kilo_cidr_parse("10.4.0.0/16", &settings->subnet);
	settings->port = KILO_DEFAULT_PORT;
}

bool kilo_node_ready(const struct kilo_node *node, int64_t now)
{
	if (!kilo_endpoint_ready(&node->endpoint) || kilo_key_is_zero(&node->public_key) ||
	    node->pod_cidr.addr.family == 0)
		return false;
	return now == 0 || now - node->last_seen < KILO_READY_WINDOW_SECONDS;
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "model.h"

#include <errno.h>
#include <stddef.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include <kilo/topology.h>

#include "../core/error.h"

static const char *const granularity_names[] = {
	[KILO_GRANULARITY_LOCATION] = "location",
	[KILO_GRANULARITY_FULL] = "full",
	[KILO_GRANULARITY_CROSS] = "cross",
};

int kilo_granularity_parse(const char *text, enum kilo_granularity *out, struct kilo_error *err)
{
	int i = kilo_name_lookup(granularity_names, sizeof(granularity_names) / sizeof(granularity_names[0]),
				 "granularity", text, err);

	if (i < 0)
		return i;
	*out = (enum kilo_granularity)i;
	return 0;
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
	kilo_cidr_parse("10.4.0.0/16", &settings->subnet, NULL);
	settings->port = KILO_DEFAULT_PORT;
}

bool kilo_peer_ready(const struct kilo_peer *peer)
{
	return peer->n_allowed_ips > 0 && !kilo_key_is_zero(&peer->public_key);
}

bool kilo_node_ready(const struct kilo_node *node, int64_t now, uint32_t window)
{
	if (!kilo_endpoint_ready(&node->endpoint) || kilo_key_is_zero(&node->public_key) ||
	    node->pod_cidr.addr.family == 0)
		return false;
	return now == 0 || now - node->last_seen < (window ? window : KILO_READY_WINDOW_SECONDS);
}

uint32_t kilo_node_window(const struct kilo_node *node, const struct kilo_node *viewer, uint32_t window,
			  uint32_t remote_grace)
{
	if (!window)
		window = KILO_READY_WINDOW_SECONDS;
	if (!viewer || strcmp(node->location, viewer->location) == 0)
		return window;
	return window + remote_grace;
}

struct kilo_mesh *kilo_mesh_new(void)
{
	struct kilo_mesh *mesh = calloc(1, sizeof(*mesh));

	if (mesh)
		kilo_settings_init(&mesh->settings);
	return mesh;
}

void kilo_mesh_free(kilo_mesh *mesh)
{
	if (!mesh)
		return;
	for (size_t i = 0; i < mesh->n_peers; i++)
		sodium_memzero(&mesh->peers[i].preshared_key, sizeof(mesh->peers[i].preshared_key));
	kilo_arena_release(&mesh->arena);
	free(mesh);
}

size_t kilo_mesh_node_count(const kilo_mesh *mesh)
{
	return mesh->n_nodes;
}

size_t kilo_mesh_peer_count(const kilo_mesh *mesh)
{
	return mesh->n_peers;
}

const char *kilo_mesh_node_name(const kilo_mesh *mesh, size_t i)
{
	return i < mesh->n_nodes ? mesh->nodes[i].name : NULL;
}

const char *kilo_mesh_peer_name(const kilo_mesh *mesh, size_t i)
{
	return i < mesh->n_peers ? mesh->peers[i].name : NULL;
}

enum kilo_granularity kilo_mesh_granularity(const kilo_mesh *mesh)
{
	return mesh->settings.granularity;
}

bool kilo_mesh_node_ready(const kilo_mesh *mesh, size_t i, int64_t now)
{
	return kilo_mesh_node_ready_within(mesh, i, now, 0);
}

bool kilo_mesh_node_ready_within(const kilo_mesh *mesh, size_t i, int64_t now, uint32_t window)
{
	if (now == 0 && mesh->live_at) {
		now = mesh->live_at;
		window = window ? window : mesh->live_window;
	}
	return i < mesh->n_nodes && kilo_node_ready(&mesh->nodes[i], now, window);
}

/* A copy of the n items of size at items in arena; NULL for none, or out of memory (*r). */
static void *copy_array(struct kilo_arena *arena, const void *items, size_t n, size_t size, int *r)
{
	void *copy;

	if (!n)
		return NULL;
	copy = kilo_arena_array_raw(arena, n, size);
	if (!copy)
		*r = -ENOMEM;
	else
		memcpy(copy, items, n * size);
	return copy;
}

int kilo_node_copy(struct kilo_arena *arena, const struct kilo_node *src, struct kilo_node *dst)
{
	const size_t name_at = offsetof(struct kilo_node, endpoint.dns);
	const size_t after = offsetof(struct kilo_node, endpoint) + sizeof(src->endpoint);
	int r = 0;

	/*
	 * The endpoint's name only up to its end: its unused bytes are most of
	 * a node, and a load copies every node. dst may be raw memory: what
	 * follows the name stays unset, and nodes are compared field by field.
	 */
	memcpy(dst, src, name_at);
	strcpy(dst->endpoint.dns, src->endpoint.dns);
	memcpy((char *)dst + after, (const char *)src + after, sizeof(*dst) - after);
	dst->name = kilo_arena_strdup(arena, src->name);
	dst->location = kilo_arena_strdup(arena, src->location);
	dst->allowed_location_ips = copy_array(arena, src->allowed_location_ips, src->n_allowed_location_ips,
					       sizeof(*src->allowed_location_ips), &r);
	dst->discovered_endpoints = copy_array(arena, src->discovered_endpoints, src->n_discovered_endpoints,
					       sizeof(*src->discovered_endpoints), &r);
	return dst->name && dst->location ? r : -ENOMEM;
}

int kilo_peer_copy(struct kilo_arena *arena, const struct kilo_peer *src, struct kilo_peer *dst)
{
	int r = 0;

	*dst = *src;
	dst->name = kilo_arena_strdup(arena, src->name);
	dst->allowed_ips = copy_array(arena, src->allowed_ips, src->n_allowed_ips, sizeof(*src->allowed_ips), &r);
	return dst->name ? r : -ENOMEM;
}

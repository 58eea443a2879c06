/* SPDX-License-Identifier: Apache-2.0 */
/* A WireGuard configuration as JSON, for bindings and `kgctl` output. */
#include <errno.h>
#include <string.h>

#include "../core/error.h"
#include "../core/wgconf.h"
#include "jsonval.h"
#include "mesh_json.h"

static json_t *interface_json(const struct kilo_wg_config *config, bool with_secrets)
{
	json_t *object = json_object();

	if (object && config->has_listen_port &&
	    json_object_set_new(object, "listenPort", json_integer(config->listen_port)) < 0)
		goto fail;
	if (object && with_secrets && config->has_private_key &&
	    json_object_set_new(object, "privateKey", kilo_json_key(&config->private_key)) < 0)
		goto fail;
	return object;
fail:
	json_decref(object);
	return NULL;
}

static json_t *peer_json(const struct kilo_wg_peer *peer, bool with_secrets)
{
	json_t *object = json_object();

	if (!object || kilo_jsonval_set(object, "publicKey", kilo_jsonval_key(&peer->public_key)) < 0 ||
	    (kilo_endpoint_is_set(&peer->endpoint) &&
	     kilo_jsonval_set(object, "endpoint", kilo_jsonval_endpoint(&peer->endpoint)) < 0) ||
	    kilo_jsonval_set(object, "allowedIPs", kilo_jsonval_cidrs(peer->allowed_ips, peer->n_allowed_ips)) < 0 ||
	    kilo_jsonval_set(object, "persistentKeepalive", json_integer(peer->persistent_keepalive)) < 0 ||
	    (with_secrets && peer->has_preshared_key &&
	     kilo_jsonval_set(object, "presharedKey", kilo_json_key(&peer->preshared_key)) < 0)) {
		json_decref(object);
		return NULL;
	}
	return object;
}

static void wipe_secrets(json_t *root)
{
	json_t *peer;
	size_t i;

	kilo_json_wipe_string(json_object_get(json_object_get(root, "interface"), "privateKey"));
	json_array_foreach(json_object_get(root, "peers"), i, peer)
		kilo_json_wipe_string(json_object_get(peer, "presharedKey"));
}

int kilo_wg_config_to_json(const kilo_wg_config *config, bool with_secrets, char **out, struct kilo_error *err)
{
	json_t *root, *peers;
	int r = -ENOMEM;

	if (!config || !out)
		return kilo_error_set(err, EINVAL, "configuration JSON: %s is NULL", config ? "out" : "config");
	root = json_object();
	peers = json_array();
	*out = NULL;
	if (!root || !peers)
		goto out;
	if (config->has_interface && json_object_set_new(root, "interface", interface_json(config, with_secrets)) < 0)
		goto out;
	for (size_t i = 0; i < config->n_peers; i++) {
		if (json_array_append_new(peers, peer_json(&config->peers[i], with_secrets)) < 0)
			goto out;
	}
	if (json_object_set(root, "peers", peers) < 0)
		goto out;
	r = kilo_json_dump(root, out);
out:
	if (r < 0)
		kilo_error_set(err, -r, "configuration JSON of %zu peers: %s", config->n_peers, strerror(-r));
	wipe_secrets(root);
	json_decref(peers);
	json_decref(root);
	return r;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A peer of a WireGuard configuration as a Kilo Peer object
 * (kilo.squat.ai/v1alpha1), printed as `kgctl showconf --as-peer -o
 * yaml|json` prints it. Two Kilo bugs are not reproduced: the keepalive is
 * in seconds (Kilo writes nanoseconds) and a DNS endpoint carries its name
 * (Kilo writes the port there); a peer without endpoint has no endpoint
 * field (Kilo writes the address "<nil>").
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include <kilo/serial.h>

#include "../core/error.h"
#include "../core/strbuf.h"
#include "../core/wgconf.h"
#include "jsonval.h"
#include "mesh_json.h"
#include "yaml.h"

static json_t *endpoint_object(const struct kilo_endpoint *ep)
{
	json_t *endpoint = json_object(), *dns_or_ip = json_object();

	if (!endpoint || !dns_or_ip)
		goto fail;
	if (kilo_jsonval_set(dns_or_ip, ep->dns[0] ? "dns" : "ip",
			     ep->dns[0] ? json_string(ep->dns) : kilo_jsonval_addr(&ep->addr)) < 0 ||
	    kilo_jsonval_set(endpoint, "dnsOrIP", json_incref(dns_or_ip)) < 0 ||
	    kilo_jsonval_set(endpoint, "port", json_integer(ep->port)) < 0)
		goto fail;
	json_decref(dns_or_ip);
	return endpoint;
fail:
	json_decref(dns_or_ip);
	json_decref(endpoint);
	return NULL;
}

/* Kubernetes' field order: spec fields are alphabetical, as Kilo declares them. */
static json_t *peer_spec(const struct kilo_wg_peer *peer)
{
	json_t *spec = json_object(), *allowed_ips = json_null();
	char psk[KILO_KEY_B64_LEN + 1];
	int r;

	if (!spec)
		return NULL;
	/* Kilo leaves the list nil, printed as null, when there is no allowed IP. */
	if (peer->n_allowed_ips)
		allowed_ips = kilo_jsonval_cidrs(peer->allowed_ips, peer->n_allowed_ips);
	if (kilo_jsonval_set(spec, "allowedIPs", allowed_ips) < 0)
		goto fail;
	if (kilo_endpoint_is_set(&peer->endpoint) &&
	    kilo_jsonval_set(spec, "endpoint", endpoint_object(&peer->endpoint)) < 0)
		goto fail;
	if (peer->persistent_keepalive &&
	    kilo_jsonval_set(spec, "persistentKeepalive", json_integer(peer->persistent_keepalive)) < 0)
		goto fail;
	if (peer->has_preshared_key) {
		kilo_key_format(&peer->preshared_key, psk);
		r = kilo_jsonval_set(spec, "presharedKey", json_string(psk));
		sodium_memzero(psk, sizeof(psk));
		if (r < 0)
			goto fail;
	}
	if (kilo_jsonval_set(spec, "publicKey",
			     kilo_key_is_zero(&peer->public_key) ? json_string("") : kilo_jsonval_key(&peer->public_key)) < 0)
		goto fail;
	return spec;
fail:
	json_decref(spec);
	return NULL;
}

static json_t *peer_object(const struct kilo_wg_peer *peer, const char *name)
{
	json_t *root = json_object(), *metadata = json_object();

	if (!root || !metadata)
		goto fail;
	if (name && name[0] && kilo_jsonval_set(metadata, "name", json_string(name)) < 0)
		goto fail;
	if (kilo_jsonval_set(root, "kind", json_string("Peer")) < 0 ||
	    kilo_jsonval_set(root, "apiVersion", json_string("kilo.squat.ai/v1alpha1")) < 0 ||
	    kilo_jsonval_set(root, "metadata", json_incref(metadata)) < 0 ||
	    kilo_jsonval_set(root, "spec", peer_spec(peer)) < 0)
		goto fail;
	json_decref(metadata);
	return root;
fail:
	json_decref(metadata);
	json_decref(root);
	return NULL;
}

/*
 * Go's encoder escapes <, > and & (and U+2028, U+2029) even inside
 * strings, where alone they can appear; its indentation and the absence of
 * a final newline are otherwise jansson's pretty form.
 */
static int go_json(json_t *root, char **out)
{
	static const struct {
		const char *raw, *escaped;
	} escapes[] = {
		{ "<", "\\u003c" }, { ">", "\\u003e" }, { "&", "\\u0026" },
		{ "\xe2\x80\xa8", "\\u2028" }, { "\xe2\x80\xa9", "\\u2029" },
	};
	struct kilo_strbuf sb = { 0 };
	char *text;
	size_t len, i, k, n;
	int r;

	r = kilo_json_dump(root, &text);
	if (r < 0)
		return r;
	len = strlen(text);
	if (len && text[len - 1] == '\n')
		len--;
	for (i = 0; i < len; i += n) {
		n = 1;
		for (k = 0; k < sizeof(escapes) / sizeof(escapes[0]); k++) {
			size_t raw = strlen(escapes[k].raw);

			if (i + raw <= len && !memcmp(text + i, escapes[k].raw, raw)) {
				kilo_strbuf_append(&sb, escapes[k].escaped);
				n = raw;
				break;
			}
		}
		if (k == sizeof(escapes) / sizeof(escapes[0]))
			kilo_strbuf_append_len(&sb, text + i, 1);
	}
	sodium_memzero(text, len);
	kilo_free(text);
	return kilo_strbuf_finish(&sb, out);
}

int kilo_peer_object_format(const kilo_wg_config *config, size_t i, const char *name, enum kilo_peer_format format,
			    char **out, struct kilo_error *err)
{
	struct kilo_strbuf sb = { 0 };
	json_t *root;
	int r;

	if (!config || !out)
		return kilo_error_set(err, EINVAL, "peer object: %s is NULL", config ? "out" : "config");
	if (format != KILO_PEER_YAML && format != KILO_PEER_JSON)
		return kilo_error_set(err, EINVAL, "peer object \"%s\": format %d is neither YAML nor JSON",
				      name ? name : "", (int)format);
	*out = NULL;
	if (i >= config->n_peers)
		return kilo_error_set(err, ERANGE, "peer %zu: out of range, the configuration has %zu peers", i,
				      config->n_peers);
	root = peer_object(&config->peers[i], name);
	if (!root)
		return kilo_error_set(err, ENOMEM, "peer object \"%s\": out of memory", name ? name : "");
	if (format == KILO_PEER_JSON) {
		r = go_json(root, out);
	} else {
		kilo_yaml_append(&sb, root);
		r = kilo_strbuf_finish(&sb, out);
	}
	if (r < 0)
		kilo_error_set(err, -r, "peer object \"%s\": %s", name ? name : "", strerror(-r));
	/* The preshared key must not outlive the call in freed memory. */
	kilo_json_wipe_string(json_object_get(json_object_get(root, "spec"), "presharedKey"));
	json_decref(root);
	return r;
}

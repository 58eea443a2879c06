/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's metrics in the Prometheus text exposition format (version 0.0.4). */
#include "internal.h"

#include <inttypes.h>

#include "../core/strbuf.h"
#include "policy.h"

static void family(struct kilo_strbuf *sb, const char *name, const char *type, const char *help)
{
	kilo_strbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One of the load balancer's counters, a sample per reason. */
static void lb_family(struct kilo_strbuf *sb, const char *name, const char *help, const uint64_t *values)
{
	family(sb, name, "counter", help);
	for (unsigned i = 0; i < KILO_LB_COUNTER_MAX; i++)
		kilo_strbuf_printf(sb, "%s{reason=\"%s\"} %" PRIu64 "\n", name, kilo_bpf_counter_name(i), values[i]);
}

enum peer_value { RX_BYTES, TX_BYTES, HANDSHAKE_TIME, HANDSHAKE_AGE };

static void peer_family(struct kilo_strbuf *sb, const struct kilo_wg_config *device, const char *name,
			const char *type, const char *help, enum peer_value which, int64_t now)
{
	char key[KILO_KEY_B64_LEN + 1];

	family(sb, name, type, help);
	for (size_t i = 0; device && i < device->n_peers; i++) {
		const struct kilo_wg_peer *p = &device->peers[i];
		uint64_t v;

		switch (which) {
		case RX_BYTES:
			v = p->rx_bytes;
			break;
		case TX_BYTES:
			v = p->tx_bytes;
			break;
		case HANDSHAKE_TIME:
			v = (uint64_t)p->last_handshake_sec;
			break;
		case HANDSHAKE_AGE:
		default:
			/* A peer never shaken hands with has no age. */
			if (p->last_handshake_sec == 0)
				continue;
			v = now > p->last_handshake_sec ? (uint64_t)(now - p->last_handshake_sec) : 0;
			break;
		}
		kilo_key_format(&p->public_key, key);
		kilo_strbuf_printf(sb, "%s{public_key=\"%s\"} %" PRIu64 "\n", name, key, v);
	}
}

int kilo_agent_metrics_format(const struct kilo_agent_counts *c, const struct kilo_wg_config *device, int64_t now,
			      char **out)
{
	struct kilo_strbuf sb = { 0 };

	family(&sb, "kilo_nodes", "gauge", "Number of nodes in the mesh.");
	kilo_strbuf_printf(&sb, "kilo_nodes %zu\n", c->nodes);
	family(&sb, "kilo_peers", "gauge", "Number of peers in the mesh.");
	kilo_strbuf_printf(&sb, "kilo_peers %zu\n", c->peers);
	family(&sb, "kilo_leader", "gauge", "Leadership status of the node.");
	kilo_strbuf_printf(&sb, "kilo_leader %d\n", c->leader ? 1 : 0);
	family(&sb, "kilo_reconciles_total", "counter", "Number of reconciliation attempts.");
	kilo_strbuf_printf(&sb, "kilo_reconciles_total %" PRIu64 "\n", c->reconciles);
	family(&sb, "kilo_errors_total", "counter", "Number of errors that occurred while administering the mesh.");
	kilo_strbuf_printf(&sb, "kilo_errors_total %" PRIu64 "\n", c->errors);
	family(&sb, "kilo_unresolved_endpoints", "gauge",
	       "Number of nodes and peers whose endpoint name does not resolve; they have no endpoint until it does.");
	kilo_strbuf_printf(&sb, "kilo_unresolved_endpoints %zu\n", c->unresolved);
	family(&sb, "kilo_store_up", "gauge", "Whether the store answered the agent's last request (0: the last mesh is kept).");
	kilo_strbuf_printf(&sb, "kilo_store_up %d\n", c->store_up ? 1 : 0);
	family(&sb, "kilo_store_revision", "gauge", "The store's revision of the mesh the agent sees (etcd's; 0 for a file store).");
	kilo_strbuf_printf(&sb, "kilo_store_revision %" PRId64 "\n", c->store_revision);
	if (c->lb) {
		lb_family(&sb, "kilo_lb_packets_total", "Packets the load balancer's programs handled, by reason.",
			  c->lb->packets);
		lb_family(&sb, "kilo_lb_bytes_total", "Bytes the load balancer's programs handled, by reason.",
			  c->lb->bytes);
	}
	if (c->policy)
		kilo_agent_policy_metrics(c->policy, &sb);
	peer_family(&sb, device, "kilo_peer_receive_bytes", "counter", "Bytes received from the WireGuard peer.", RX_BYTES,
		    now);
	peer_family(&sb, device, "kilo_peer_transmit_bytes", "counter", "Bytes sent to the WireGuard peer.", TX_BYTES, now);
	peer_family(&sb, device, "kilo_peer_last_handshake_seconds", "gauge",
		    "Unix time of the last handshake with the WireGuard peer (0: never).", HANDSHAKE_TIME, now);
	peer_family(&sb, device, "kilo_peer_handshake_age_seconds", "gauge",
		    "Seconds since the last handshake with the WireGuard peer.", HANDSHAKE_AGE, now);
	return kilo_strbuf_finish(&sb, out);
}

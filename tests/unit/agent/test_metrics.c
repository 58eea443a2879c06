/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's metrics in Prometheus text format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/internal.h"

#define KEY_A "GKzkKhYMUBmUgLGSMu7mGbAkWX8mGZvVtDBUh6+Y1UY="

static void test_counts_and_types(void **state)
{
	struct kilo_agent_counts counts = { .nodes = 3, .peers = 1, .leader = true, .reconciles = 7, .errors = 2,
					    .unresolved = 1, .store_revision = 42 };
	char *text;

	(void)state;
	assert_int_equal(kilo_agent_metrics_format(&counts, NULL, 0, &text), 0);
	assert_non_null(strstr(text, "# TYPE kilo_nodes gauge\nkilo_nodes 3\n"));
	assert_non_null(strstr(text, "\nkilo_peers 1\n"));
	assert_non_null(strstr(text, "\nkilo_leader 1\n"));
	assert_non_null(strstr(text, "# TYPE kilo_reconciles_total counter\nkilo_reconciles_total 7\n"));
	assert_non_null(strstr(text, "\nkilo_errors_total 2\n"));
	assert_non_null(strstr(text, "# TYPE kilo_unresolved_endpoints gauge\nkilo_unresolved_endpoints 1\n"));
	/* A store that stopped answering: the agent keeps its mesh and says so. */
	assert_non_null(strstr(text, "# TYPE kilo_store_up gauge\nkilo_store_up 0\n"));
	assert_non_null(strstr(text, "# TYPE kilo_store_revision gauge\nkilo_store_revision 42\n"));
	/* Every sample line follows its HELP and TYPE lines; the text ends with a newline. */
	assert_int_equal(text[strlen(text) - 1], '\n');
	kilo_free(text);
}

static void test_load_balancer_counters_by_reason(void **state)
{
	struct kilo_bpf_counters lb = { 0 };
	struct kilo_agent_counts counts = { .lb = &lb };
	char *text;

	(void)state;
	lb.packets[KILO_LB_FORWARD_NEW] = 12;
	lb.bytes[KILO_LB_FORWARD_NEW] = 840;
	lb.packets[KILO_LB_DROP_NO_BACKEND] = 3;
	assert_int_equal(kilo_agent_metrics_format(&counts, NULL, 0, &text), 0);
	assert_non_null(strstr(text, "# TYPE kilo_lb_packets_total counter\nkilo_lb_packets_total{reason=\"forward_new\"} 12\n"));
	assert_non_null(strstr(text, "\nkilo_lb_packets_total{reason=\"drop_no_backend\"} 3\n"));
	assert_non_null(strstr(text, "\nkilo_lb_bytes_total{reason=\"forward_new\"} 840\n"));
	assert_non_null(strstr(text, "\nkilo_lb_packets_total{reason=\"pass\"} 0\n"));
	kilo_free(text);
	/* Without --bpf, no such family. */
	counts.lb = NULL;
	assert_int_equal(kilo_agent_metrics_format(&counts, NULL, 0, &text), 0);
	assert_null(strstr(text, "kilo_lb_"));
	kilo_free(text);
}

static void test_per_peer_bytes_and_handshake_age(void **state)
{
	struct kilo_agent_counts counts = { 0 };
	struct kilo_wg_config *device = kilo_wg_config_new(2);
	struct kilo_wg_peer *p;
	char *text;

	(void)state;
	assert_non_null(device);
	p = kilo_wg_config_add_peer(device);
	assert_int_equal(kilo_key_parse(KEY_A, &p->public_key, NULL), 0);
	p->rx_bytes = 1234;
	p->tx_bytes = 5678;
	p->last_handshake_sec = 1000;
	p = kilo_wg_config_add_peer(device);
	p->public_key.bytes[0] = 1;
	assert_int_equal(kilo_agent_metrics_format(&counts, device, 1042, &text), 0);
	assert_non_null(strstr(text, "\nkilo_peer_receive_bytes{public_key=\"" KEY_A "\"} 1234\n"));
	assert_non_null(strstr(text, "\nkilo_peer_transmit_bytes{public_key=\"" KEY_A "\"} 5678\n"));
	assert_non_null(strstr(text, "\nkilo_peer_last_handshake_seconds{public_key=\"" KEY_A "\"} 1000\n"));
	assert_non_null(strstr(text, "\nkilo_peer_handshake_age_seconds{public_key=\"" KEY_A "\"} 42\n"));
	/* A peer never shaken hands with has a handshake time of 0 and no age. */
	assert_non_null(strstr(text, "\nkilo_peer_last_handshake_seconds{public_key=\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"} 0\n"));
	assert_null(strstr(text, "kilo_peer_handshake_age_seconds{public_key=\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}"));
	kilo_free(text);
	kilo_wg_config_free(device);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_types),
		cmocka_unit_test(test_per_peer_bytes_and_handshake_age),
		cmocka_unit_test(test_load_balancer_counters_by_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* kg: the agent that runs on every node. Flags and HTTP only; the work is libkilo's. */
#ifndef KG_H
#define KG_H

#include <pthread.h>

#include <kilo/kilo.h>

#include "flags.h"

/* Kilo's --log-level, kgctl connect's too. */
enum kg_log_level {
	KG_LOG_ALL = CLI_LOG_ALL,
	KG_LOG_DEBUG = CLI_LOG_DEBUG,
	KG_LOG_INFO = CLI_LOG_INFO,
	KG_LOG_WARN = CLI_LOG_WARN,
	KG_LOG_ERROR = CLI_LOG_ERROR,
	KG_LOG_NONE = CLI_LOG_NONE,
};

/* One line on stderr, "kg: " first, when level passes --log-level. Safe from any thread. */
__attribute__((format(printf, 2, 3))) void kg_log(enum kg_log_level level, const char *fmt, ...);

struct kg_http;

/* The agent, shared by the main loop and the HTTP threads under lock. */
struct kg_shared {
	pthread_mutex_t lock;
	kilo_agent *agent;
};

/* What one client may hold of the HTTP server (kg's --http-* flags). */
struct kg_http_limits {
	unsigned max_connections;        /* in all */
	unsigned max_connections_per_ip;
	uint32_t timeout;                /* seconds a connection may sit idle */
};

/*
 * Serves /health, /metrics, /graph and /flows on listen ("HOST:PORT", ":PORT" or
 * "[IPV6]:PORT") from threads of its own. Prints its error and returns
 * NULL when it cannot listen.
 */
struct kg_http *kg_http_start(const char *listen, const struct kg_http_limits *limits, struct kg_shared *shared);
void kg_http_stop(struct kg_http *http);

#endif

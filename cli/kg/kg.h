/* SPDX-License-Identifier: Apache-2.0 */
/* kg: the agent that runs on every node. Flags and HTTP only; the work is libkilo's. */
#ifndef KG_H
#define KG_H

#include <pthread.h>

#include <kilo/kilo.h>

struct kg_http;

/* The agent, shared by the main loop and the HTTP thread under lock. */
struct kg_shared {
	pthread_mutex_t lock;
	kilo_agent *agent;
};

/*
 * Serves /health, /metrics and /graph on listen ("HOST:PORT", ":PORT" or
 * "[IPV6]:PORT") from a thread of its own. Prints its error and returns
 * NULL when it cannot listen.
 */
struct kg_http *kg_http_start(const char *listen, struct kg_shared *shared);
void kg_http_stop(struct kg_http *http);

#endif

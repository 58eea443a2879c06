// SPDX-License-Identifier: Apache-2.0
/* kg's HTTP endpoints (Kilo's --listen): /health, /metrics and /graph, served by libmicrohttpd. */
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kg.h"

struct kg_http {
	struct MHD_Daemon *daemon;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len)
{
	struct MHD_Response *response;
	enum MHD_Result r;

	/* MHD frees body with free() once it is sent. */
	response = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!response) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	r = MHD_queue_response(c, status, response);
	MHD_destroy_response(response);
	return r;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	char *body = strdup(text);

	return body ? reply(c, status, "text/plain; charset=utf-8", body, strlen(body)) : MHD_NO;
}

static enum MHD_Result graph(struct MHD_Connection *c, struct kg_shared *shared)
{
	const char *format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
	char *dot = NULL, *svg = NULL;
	size_t len = 0;
	int r;

	if (format && strcmp(format, "dot") && strcmp(format, "svg"))
		return reply_text(c, MHD_HTTP_BAD_REQUEST, "format must be dot or svg\n");
	pthread_mutex_lock(&shared->lock);
	r = kilo_agent_graph(shared->agent, &dot);
	pthread_mutex_unlock(&shared->lock);
	if (r < 0)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the mesh has not been solved yet\n");
	if (!format || !strcmp(format, "dot"))
		return reply(c, MHD_HTTP_OK, "text/vnd.graphviz", dot, strlen(dot));
	r = kilo_graph_render(dot, "svg", &svg, &len, NULL);
	kilo_free(dot);
	if (r < 0)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering the graph with dot failed\n");
	return reply(c, MHD_HTTP_OK, "image/svg+xml", svg, len);
}

/*
 * 200 when the last reconcile applied the mesh; a node or peer whose
 * endpoint name does not resolve leaves only itself without endpoint, so
 * it does not make the node unhealthy: it is named in the body.
 */
static enum MHD_Result health(struct MHD_Connection *c, struct kg_shared *shared)
{
	char *unresolved = NULL, *body;
	bool healthy;
	int r;

	pthread_mutex_lock(&shared->lock);
	healthy = kilo_agent_healthy(shared->agent);
	r = kilo_agent_unresolved(shared->agent, &unresolved);
	pthread_mutex_unlock(&shared->lock);
	if (r < 0 || asprintf(&body, "%s%s", healthy ? "ok\n" : "not reconciled\n", unresolved) < 0) {
		kilo_free(unresolved);
		return MHD_NO;
	}
	kilo_free(unresolved);
	return reply(c, healthy ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", body,
		     strlen(body));
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct kg_shared *shared = cls;
	char *text = NULL;
	int r;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
	if (!strcmp(url, "/health"))
		return health(c, shared);
	if (!strcmp(url, "/metrics")) {
		pthread_mutex_lock(&shared->lock);
		r = kilo_agent_metrics(shared->agent, &text);
		pthread_mutex_unlock(&shared->lock);
		if (r < 0)
			return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
	}
	if (!strcmp(url, "/graph"))
		return graph(c, shared);
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* "HOST:PORT", ":PORT" or "[IPV6]:PORT" -> an address to bind. */
static int resolve(const char *listen, struct addrinfo **out)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
	const char *colon = strrchr(listen, ':');
	char host[64];
	size_t n;

	if (!colon || !colon[1])
		return EAI_NONAME;
	n = (size_t)(colon - listen);
	if (n >= 2 && listen[0] == '[' && listen[n - 1] == ']') {
		listen++;
		n -= 2;
		hints.ai_family = AF_INET6;
	}
	if (n >= sizeof(host))
		return EAI_NONAME;
	memcpy(host, listen, n);
	host[n] = '\0';
	/* Go's ":1107" listens on every address, IPv4 and IPv6. */
	if (n == 0)
		hints.ai_family = AF_INET6;
	return getaddrinfo(n ? host : NULL, colon + 1, &hints, out);
}

struct kg_http *kg_http_start(const char *listen, struct kg_shared *shared)
{
	struct addrinfo *ai = NULL;
	struct kg_http *http;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int r = resolve(listen, &ai);

	if (r != 0) {
		fprintf(stderr, "kg: --listen \"%s\": %s\n", listen, gai_strerror(r));
		return NULL;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6 | (strrchr(listen, ':') == listen ? MHD_USE_DUAL_STACK : 0);
	http = calloc(1, sizeof(*http));
	if (http)
		http->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, shared, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
						MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!http || !http->daemon) {
		fprintf(stderr, "kg: cannot listen on %s\n", listen);
		free(http);
		return NULL;
	}
	return http;
}

void kg_http_stop(struct kg_http *http)
{
	if (!http)
		return;
	MHD_stop_daemon(http->daemon);
	free(http);
}

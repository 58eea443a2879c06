// SPDX-License-Identifier: Apache-2.0
/*
 * kg's HTTP endpoints (Kilo's --listen): /health, /metrics, /graph and /flows,
 * served by libmicrohttpd with epoll, so that no descriptor number
 * (select's FD_SETSIZE) locks clients out, and with limits on what idle
 * or hostile clients can hold.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "kg.h"

/*
 * Two threads: while one waits for a slow dot(1), the other serves
 * /health. Only one graph is rendered at a time, so that clients cannot
 * tie up both.
 */
#define HTTP_THREADS 2
/* Descriptors kept for the agent (netlink, the store, the device, dot's pipes) beside the connections. */
#define FDS_RESERVED 64
/* At most this many of libmicrohttpd's lines a second: a flood of clients must not flood the log. */
#define LOG_BURST 10

struct kg_http {
	struct MHD_Daemon *daemon;
	struct kg_shared *shared;
	pthread_mutex_t render_lock;
	pthread_mutex_t log_lock;
	time_t log_second;
	unsigned logged, left_out;
};

/* header (NULL: none) is one more header's name, value its value. */
static enum MHD_Result reply_with(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len,
				  const char *header, const char *value)
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
	if (header)
		MHD_add_response_header(response, header, value);
	r = MHD_queue_response(c, status, response);
	MHD_destroy_response(response);
	return r;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len)
{
	return reply_with(c, status, type, body, len, NULL, NULL);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	char *body = strdup(text);

	return body ? reply(c, status, "text/plain; charset=utf-8", body, strlen(body)) : MHD_NO;
}

/* The agent's topology as DOT, written without the agent's lock: the agent goes on meanwhile. */
static int graph_dot(struct kg_shared *shared, char **dot, struct kilo_error *err)
{
	const kilo_topology *t;
	int r;

	pthread_mutex_lock(&shared->lock);
	r = kilo_agent_topology_hold(shared->agent, &t, err);
	pthread_mutex_unlock(&shared->lock);
	if (r < 0)
		return r;
	r = kilo_topology_dot(t, dot, err);
	pthread_mutex_lock(&shared->lock);
	kilo_agent_topology_release(shared->agent);
	pthread_mutex_unlock(&shared->lock);
	return r;
}

/* The library's message as the body of a reply with status. */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const struct kilo_error *err)
{
	char *body;

	if (asprintf(&body, "%s\n", err->message) < 0)
		return MHD_NO;
	return reply(c, status, "text/plain; charset=utf-8", body, strlen(body));
}

static enum MHD_Result graph(struct MHD_Connection *c, struct kg_http *http)
{
	const char *format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
	struct kilo_error err = { 0 };
	char *dot = NULL, *svg = NULL;
	size_t len = 0;
	int r;

	if (format && strcmp(format, "dot") && strcmp(format, "svg"))
		return reply_text(c, MHD_HTTP_BAD_REQUEST, "format must be dot or svg\n");
	r = graph_dot(http->shared, &dot, &err);
	if (r < 0)
		return reply_error(c, r == -ENODATA ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_INTERNAL_SERVER_ERROR, &err);
	if (!format || !strcmp(format, "dot"))
		return reply(c, MHD_HTTP_OK, "text/vnd.graphviz", dot, strlen(dot));
	if (pthread_mutex_trylock(&http->render_lock)) {
		kilo_free(dot);
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "another graph is being rendered; try again\n");
	}
	r = kilo_graph_render(dot, "svg", &svg, &len, &err);
	pthread_mutex_unlock(&http->render_lock);
	kilo_free(dot);
	if (r < 0)
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, &err);
	return reply(c, MHD_HTTP_OK, "image/svg+xml", svg, len);
}

/*
 * 200 when the last reconcile applied the mesh; a node or peer whose
 * endpoint name does not resolve leaves only itself without endpoint, so
 * it does not make the node unhealthy: it is named in the body. Nor does
 * a store that does not answer: the node keeps forwarding on its last
 * plan, and a restart would not bring the store back.
 */
static enum MHD_Result health(struct MHD_Connection *c, struct kg_shared *shared)
{
	char *unresolved = NULL, *store = NULL, *body;
	bool healthy;
	int r, s;

	pthread_mutex_lock(&shared->lock);
	healthy = kilo_agent_healthy(shared->agent);
	r = kilo_agent_unresolved(shared->agent, &unresolved, NULL);
	s = kilo_agent_store_problem(shared->agent, &store, NULL);
	pthread_mutex_unlock(&shared->lock);
	if (r < 0 || s < 0 ||
	    asprintf(&body, "%s%s%s", healthy ? "ok\n" : "not reconciled\n", store, unresolved) < 0) {
		kilo_free(unresolved);
		kilo_free(store);
		return MHD_NO;
	}
	kilo_free(unresolved);
	kilo_free(store);
	return reply(c, healthy ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", body,
		     strlen(body));
}

/*
 * /flows?after=SEQ&verdict=forwarded|dropped&pod=NS/NAME: one page of the
 * recent flows after SEQ as JSON lines, and in the Kilo-Flows-Next header
 * the after of the next page. No connection is held open to follow: a
 * follower asks again (kgctl observe --follow), so /flows has the limits
 * of every other endpoint and a slow reader holds nothing of the agent's.
 */
static enum MHD_Result flows(struct MHD_Connection *c, struct kg_shared *shared)
{
	const char *after_text = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
	const char *verdict = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "verdict");
	struct kilo_flow_filter filter = { .sz = sizeof(filter),
					   .pod = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pod") };
	struct kilo_error err = { 0 };
	unsigned long long after = 0;
	uint64_t next = 0;
	char *text = NULL, *end, header[24];
	int r;

	if (after_text) {
		errno = 0;
		after = strtoull(after_text, &end, 10);
		if (errno || end == after_text || *end || after_text[0] == '-')
			return reply_text(c, MHD_HTTP_BAD_REQUEST, "after must be a flow's sequence number\n");
	}
	if (verdict && !strcmp(verdict, "forwarded"))
		filter.verdict = KILO_FLOW_FILTER_FORWARDED;
	else if (verdict && !strcmp(verdict, "dropped"))
		filter.verdict = KILO_FLOW_FILTER_DROPPED;
	else if (verdict)
		return reply_text(c, MHD_HTTP_BAD_REQUEST, "verdict must be forwarded or dropped\n");
	if (filter.pod && !strchr(filter.pod, '/'))
		return reply_text(c, MHD_HTTP_BAD_REQUEST, "pod must be NAMESPACE/NAME\n");
	pthread_mutex_lock(&shared->lock);
	r = kilo_agent_flows(shared->agent, after, &filter, &text, &next, &err);
	pthread_mutex_unlock(&shared->lock);
	if (r < 0)
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, &err);
	snprintf(header, sizeof(header), "%llu", (unsigned long long)next);
	return reply_with(c, MHD_HTTP_OK, "application/x-ndjson", text, strlen(text), "Kilo-Flows-Next", header);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct kg_http *http = cls;
	struct kg_shared *shared = http->shared;
	struct kilo_error err = { 0 };
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
		r = kilo_agent_metrics(shared->agent, &text, &err);
		pthread_mutex_unlock(&shared->lock);
		if (r < 0)
			return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, &err);
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
	}
	if (!strcmp(url, "/graph"))
		return graph(c, http);
	if (!strcmp(url, "/flows"))
		return flows(c, shared);
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

/* libmicrohttpd's messages (its own format strings), as kg's warnings. */
__attribute__((format(printf, 2, 0))) static void http_log(void *cls, const char *fmt, va_list ap)
{
	struct kg_http *http = cls;
	unsigned left_out = 0;
	time_t now = time(NULL);
	char line[256];
	size_t len;
	bool print;

	pthread_mutex_lock(&http->log_lock);
	if (now != http->log_second) {
		left_out = http->left_out;
		http->log_second = now;
		http->logged = http->left_out = 0;
	}
	print = http->logged < LOG_BURST;
	if (print)
		http->logged++;
	else
		http->left_out++;
	pthread_mutex_unlock(&http->log_lock);
	if (left_out)
		kg_log(KG_LOG_WARN, "http: %u more messages of the HTTP server left out", left_out);
	if (!print)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	kg_log(KG_LOG_WARN, "http: %s", line);
}

/*
 * Every connection is a descriptor: the soft limit goes up to the hard
 * one (epoll, unlike select, takes any number), and the connection limit
 * down to what is left when even that is short.
 */
static unsigned fit_descriptors(unsigned max_connections)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) < 0)
		return max_connections;
	if (lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
			getrlimit(RLIMIT_NOFILE, &lim);
	}
	if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= (rlim_t)max_connections + FDS_RESERVED)
		return max_connections;
	max_connections = lim.rlim_cur > 2 * FDS_RESERVED ? (unsigned)(lim.rlim_cur - FDS_RESERVED) : FDS_RESERVED;
	kg_log(KG_LOG_WARN, "http: at most %u connections: the limit of open files is %llu", max_connections,
	       (unsigned long long)lim.rlim_cur);
	return max_connections;
}

struct kg_http *kg_http_start(const char *listen, const struct kg_http_limits *limits, struct kg_shared *shared)
{
	struct addrinfo *ai = NULL;
	struct kg_http *http;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	int r = resolve(listen, &ai);

	if (r != 0) {
		fprintf(stderr, "kg: --listen \"%s\": %s\n", listen, gai_strerror(r));
		return NULL;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6 | (strrchr(listen, ':') == listen ? MHD_USE_DUAL_STACK : 0);
	http = calloc(1, sizeof(*http));
	if (http) {
		http->shared = shared;
		pthread_mutex_init(&http->render_lock, NULL);
		pthread_mutex_init(&http->log_lock, NULL);
		/* The logger first, or libmicrohttpd's own prints what comes before it. */
		http->daemon = MHD_start_daemon(
			flags, 0, NULL, NULL, handle, http, MHD_OPTION_EXTERNAL_LOGGER, http_log, http,
			MHD_OPTION_CONNECTION_LIMIT, fit_descriptors(limits->max_connections),
			MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits->max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
			limits->timeout, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS, MHD_OPTION_SOCK_ADDR,
			ai->ai_addr, MHD_OPTION_END);
	}
	freeaddrinfo(ai);
	if (!http || !http->daemon) {
		fprintf(stderr, "kg: cannot listen on %s\n", listen);
		kg_http_stop(http);
		return NULL;
	}
	return http;
}

void kg_http_stop(struct kg_http *http)
{
	if (!http)
		return;
	if (http->daemon)
		MHD_stop_daemon(http->daemon);
	pthread_mutex_destroy(&http->render_lock);
	pthread_mutex_destroy(&http->log_lock);
	free(http);
}

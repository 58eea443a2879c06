// SPDX-License-Identifier: Apache-2.0
/*
 * bench-etcd-scale: what a mesh of N agents costs an etcd cluster, in one of
 * two models:
 *   leases  libkilo's: each node's record on a lease of the ready window,
 *           kept alive every third of it, written only when it changes;
 *   kilo    Kilo's: no lease, every node's record rewritten every period
 *           (its heartbeat, 30 s).
 * One process plays every agent (it grants, keeps alive and writes all the
 * leases and records) and W watchers (W watch streams on the nodes' prefix,
 * standing for the agents that watch), through the library's etcd client
 * (lib/store/etcd/client.h); the node whose record changes writes through a
 * client of its own, as its agent would, not in line behind every other
 * agent's keep-alives. It measures, from etcd's own /metrics, the
 * puts/s, lease keep-alives/s and watch events/s at steady state; the time
 * one changed record takes to reach every watcher (p50/p99 of K changes);
 * etcd's RSS (all members) and DB size. One table row a run;
 * bench/etcd-scale.sh starts a fresh 3-member cluster on loopback for each
 * row and prints the header and the command.
 *
 *	bench-etcd-scale --store etcd://H:P,H:P,H:P/CLUSTER [--model leases|kilo]
 *	                 [--nodes N] [--watchers W] [--ttl S] [--period S]
 *	                 [--steady S] [--changes K]
 *	bench-etcd-scale --header
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kilo/kilo.h>

#include "generate.h"
#include "store/etcd/client.h"

#define MAX_IN_FLIGHT 64       /* asynchronous writes and grants outstanding at once */
#define CHANGE_TIMEOUT_MS 5000 /* a change not seen by every watcher by then counts as lost */
#define SETTLE_MS 2000         /* after the set-up, before the steady state is measured */
#define NODE_KEY_MAX 160

struct options {
	const char *store;
	bool kilo;
	unsigned nodes, watchers, ttl_s, period_s, steady_s, changes;
};

struct bench;

struct agent {
	struct bench *b;
	int64_t lease;
	struct kilo_etcd_keepalive *keepalive;
};

struct watcher {
	struct bench *b;
	struct kilo_etcd_watch *watch;
	unsigned seen_change; /* the last change (its id) this watcher saw */
};

/* The one changed record in flight: its key and exact value. */
struct change {
	unsigned id;
	char key[NODE_KEY_MAX];
	char *value;
	size_t len;
	unsigned seen; /* watchers that saw it */
};

struct bench {
	struct options opt;
	struct kilo_etcd_config config;
	kilo_etcd *writer;   /* the agents' leases and writes */
	kilo_etcd *changer;  /* the one changing node's write: not in line behind the others' keep-alives */
	kilo_etcd *watching; /* the watch streams */
	char prefix[128];    /* /kilo/CLUSTER/nodes/ */
	struct agent *agents;
	struct watcher *watchers;
	unsigned in_flight;
	unsigned keepalive_next; /* agents before it keep their lease alive */
	int64_t last_revision;
	struct change change;
	/* Kilo's model: the next node to rewrite, and when. */
	bool rewriting;
	unsigned rewrite_next;
	double rewrite_due_ms;
	int64_t clock; /* lastSeen of the rewrites */
	/* What went wrong in callbacks: the first error, and counts. */
	char failure[KILO_ERROR_MESSAGE_MAX + 64];
	unsigned leases_lost, keepalive_failures, watch_breaks;
};

/* What etcd's /metrics say, over every member. */
struct metrics {
	double puts;       /* etcd_mvcc_put_total, the highest member's (every member applies every put) */
	double renewals;   /* etcd_debugging_lease_renewed_total, summed (the leader renews) */
	double events;     /* etcd_debugging_mvcc_events_total, summed (each member serves its watchers) */
	double rss_bytes;  /* process_resident_memory_bytes, summed */
	double db_bytes;   /* etcd_mvcc_db_total_size_in_bytes, the highest member's */
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void fail_once(struct bench *b, const char *what, int result, const struct kilo_error *err)
{
	if (!b->failure[0])
		snprintf(b->failure, sizeof(b->failure), "%.60s: %s", what,
			 err && err->message[0] ? err->message : strerror(-result));
}

/* ---- etcd's /metrics ------------------------------------------------------- */

static size_t append(char *data, size_t size, size_t n, void *ctx)
{
	FILE *f = ctx;

	return fwrite(data, size, n, f) * size;
}

static double metric(const char *text, const char *name)
{
	size_t len = strlen(name);
	const char *p;

	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, len) && p[len] == ' ')
			return strtod(p + len + 1, NULL);
	return 0;
}

static int metrics_read(const struct bench *b, struct metrics *out)
{
	char url[512], *text = NULL;
	size_t i, size = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < b->config.n_endpoints && !ret; i++) {
		CURL *curl = curl_easy_init();
		FILE *f = open_memstream(&text, &size);

		snprintf(url, sizeof(url), "%s/metrics", b->config.endpoints[i]);
		if (!curl || !f) {
			ret = -ENOMEM;
		} else {
			curl_easy_setopt(curl, CURLOPT_URL, url);
			curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append);
			curl_easy_setopt(curl, CURLOPT_WRITEDATA, f);
			curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
			curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
			if (curl_easy_perform(curl) != CURLE_OK)
				ret = -EIO;
		}
		if (f)
			fclose(f);
		if (curl)
			curl_easy_cleanup(curl);
		if (!ret) {
			out->puts = fmax(out->puts, metric(text, "etcd_mvcc_put_total"));
			out->renewals += metric(text, "etcd_debugging_lease_renewed_total");
			out->events += metric(text, "etcd_debugging_mvcc_events_total");
			out->rss_bytes += metric(text, "process_resident_memory_bytes");
			out->db_bytes = fmax(out->db_bytes, metric(text, "etcd_mvcc_db_total_size_in_bytes"));
		}
		free(text);
		text = NULL;
	}
	if (ret)
		fprintf(stderr, "bench-etcd-scale: cannot read %s: %s\n", url, strerror(-ret));
	return ret;
}

/* ---- the loop --------------------------------------------------------------- */

static char *node_value(const struct bench *b, unsigned i, unsigned variant, int64_t last_seen, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	bench_node_json(f, i, b->opt.nodes / 10 + 1, variant, last_seen);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static void node_key(const struct bench *b, unsigned i, char out[NODE_KEY_MAX])
{
	snprintf(out, NODE_KEY_MAX, "%.128snode-%05u", b->prefix, i);
}

static void write_done(void *ctx, int result, const struct kilo_etcd_reply *reply, const struct kilo_error *err)
{
	struct bench *b = ctx;

	b->in_flight--;
	if (result)
		fail_once(b, "put", result, err);
	else if (reply->revision > b->last_revision)
		b->last_revision = reply->revision;
}

/* put node I (variant, last_seen) with its lease (0: none), without waiting. */
static int put_node(struct bench *b, unsigned i, unsigned variant, int64_t last_seen, int64_t lease)
{
	struct kilo_error err = { 0 };
	char key[NODE_KEY_MAX], *value;
	size_t len;
	int ret;

	node_key(b, i, key);
	value = node_value(b, i, variant, last_seen, &len);
	if (!value)
		return -ENOMEM;
	ret = kilo_etcd_put_async(b->writer, key, value, len, lease, write_done, b, &err);
	free(value);
	if (ret) {
		fail_once(b, "put", ret, &err);
		return ret;
	}
	b->in_flight++;
	return 0;
}

/* Kilo's heartbeats: every node rewritten once a period, spread evenly over it. */
static void rewrite_due(struct bench *b)
{
	double step = b->opt.period_s * 1e3 / b->opt.nodes, now = now_ms();

	while (b->rewriting && b->rewrite_due_ms <= now && b->in_flight < MAX_IN_FLIGHT) {
		if (put_node(b, b->rewrite_next, 0, ++b->clock, 0))
			return;
		b->rewrite_next = (b->rewrite_next + 1) % b->opt.nodes;
		b->rewrite_due_ms += step;
	}
}

static void lease_trouble(void *ctx, int64_t lease, int result, const struct kilo_error *err)
{
	struct agent *a = ctx;

	(void)lease;
	(void)err;
	if (result == -ENOENT)
		a->b->leases_lost++;
	else
		a->b->keepalive_failures++;
}

/*
 * Each lease is kept alive from its grant on, as an agent does: granting
 * N leases may take longer than their TTL.
 */
static void keepalives_due(struct bench *b)
{
	struct kilo_error err = { 0 };
	int ret;

	while (!b->opt.kilo && b->keepalive_next < b->opt.nodes && b->agents[b->keepalive_next].lease) {
		struct agent *a = &b->agents[b->keepalive_next++];

		ret = kilo_etcd_keepalive_start(b->writer, a->lease, b->opt.ttl_s * 1000 / 3, lease_trouble, a,
						&a->keepalive, &err);
		if (ret)
			fail_once(b, "keep-alive", ret, &err);
	}
}

/* One turn of the loop: waits at most max_ms for either client, then runs what is ready. */
static int pump(struct bench *b, int max_ms)
{
	kilo_etcd *clients[] = { b->writer, b->changer, b->watching };
	struct kilo_error err = { 0 };
	struct pollfd fds[3];
	int i, wait = max_ms, ret = 0;

	rewrite_due(b);
	if (b->rewriting) {
		double until = b->rewrite_due_ms - now_ms();

		if (until < wait)
			wait = until < 0 ? 0 : (int)until;
	}
	for (i = 0; i < 3; i++) {
		int timeout = kilo_etcd_timeout_ms(clients[i]);

		fds[i] = (struct pollfd){ .fd = kilo_etcd_fd(clients[i]), .events = POLLIN };
		if (timeout >= 0 && timeout < wait)
			wait = timeout;
	}
	if (poll(fds, 3, wait) < 0 && errno != EINTR)
		return -errno;
	for (i = 0; i < 3 && !ret; i++)
		ret = kilo_etcd_process(clients[i], &err);
	if (ret)
		fail_once(b, "client", ret, &err);
	keepalives_due(b);
	return b->failure[0] ? -EIO : 0;
}

static int pump_for(struct bench *b, double ms)
{
	double end = now_ms() + ms;
	int ret = 0;

	while (!ret && now_ms() < end)
		ret = pump(b, (int)(end - now_ms()) + 1);
	return ret;
}

/* Waits (at most 60 s) for the asynchronous requests outstanding. */
static int drain(struct bench *b)
{
	double end = now_ms() + 60e3;
	int ret = 0;

	while (!ret && b->in_flight && now_ms() < end)
		ret = pump(b, 100);
	return ret ? ret : b->in_flight ? -ETIMEDOUT : 0;
}

/* ---- the agents --------------------------------------------------------------- */

static void granted(void *ctx, int result, const struct kilo_etcd_reply *reply, const struct kilo_error *err)
{
	struct agent *a = ctx;

	a->b->in_flight--;
	if (result)
		fail_once(a->b, "lease grant", result, err);
	else
		a->lease = reply->lease;
}

/* Every node's record: on a lease kept alive every third of the TTL from its grant on (leases), or bare (kilo). */
static int agents_start(struct bench *b)
{
	struct kilo_error err = { 0 };
	unsigned i;
	int ret;

	for (i = 0; i < b->opt.nodes && !b->opt.kilo; i++) {
		struct agent *a = &b->agents[i];

		while (b->in_flight >= MAX_IN_FLIGHT)
			if ((ret = pump(b, 100)))
				return ret;
		ret = kilo_etcd_lease_grant_async(b->writer, b->opt.ttl_s, granted, a, &err);
		if (ret) {
			fail_once(b, "lease grant", ret, &err);
			return ret;
		}
		b->in_flight++;
	}
	if ((ret = drain(b)))
		return ret;
	for (i = 0; i < b->opt.nodes; i++) {
		while (b->in_flight >= MAX_IN_FLIGHT)
			if ((ret = pump(b, 100)))
				return ret;
		if ((ret = put_node(b, i, 0, b->opt.kilo ? ++b->clock : 0, b->agents[i].lease)))
			return ret;
	}
	return drain(b);
}

/* ---- the watchers ---------------------------------------------------------------- */

static void watched(void *ctx, const struct kilo_etcd_watch_update *u)
{
	struct watcher *w = ctx;
	struct change *c = &w->b->change;
	size_t i;

	if (u->status == KILO_ETCD_WATCH_BROKEN) {
		w->b->watch_breaks++;
		return;
	}
	if (u->status == KILO_ETCD_WATCH_COMPACTED) {
		fail_once(w->b, "watch", -ERANGE, NULL);
		return;
	}
	for (i = 0; i < u->n_events && c->value && w->seen_change != c->id; i++) {
		const struct kilo_etcd_kv *kv = &u->events[i].kv;

		if (u->events[i].type == KILO_ETCD_EVENT_PUT && !strcmp(kv->key, c->key) && kv->value_len == c->len &&
		    !memcmp(kv->value, c->value, c->len)) {
			w->seen_change = c->id;
			c->seen++;
		}
	}
}

static int watchers_start(struct bench *b)
{
	struct kilo_error err = { 0 };
	unsigned i;
	int ret;

	for (i = 0; i < b->opt.watchers; i++) {
		b->watchers[i].b = b;
		ret = kilo_etcd_watch_start(b->watching, b->prefix, b->last_revision + 1, watched, &b->watchers[i],
					    &b->watchers[i].watch, &err);
		if (ret) {
			fail_once(b, "watch", ret, &err);
			return ret;
		}
	}
	return 0;
}

/* One node's endpoint changes; *ms: until every watcher saw it (INFINITY: not within the timeout). */
static int one_change(struct bench *b, unsigned k, double *ms)
{
	struct change *c = &b->change;
	unsigned i = (unsigned)(((uint64_t)k * 7919) % b->opt.nodes);
	struct kilo_error err = { 0 };
	double start, end;
	int ret;

	free(c->value);
	c->id = k + 1;
	c->seen = 0;
	node_key(b, i, c->key);
	/* A lastSeen no rewrite uses: the value is this change's alone. */
	c->value = node_value(b, i, 1 + k % 200, (int64_t)4e9 + k, &c->len);
	if (!c->value)
		return -ENOMEM;
	start = now_ms();
	end = start + CHANGE_TIMEOUT_MS;
	ret = kilo_etcd_put_async(b->changer, c->key, c->value, c->len, b->agents[i].lease, write_done, b, &err);
	if (ret) {
		fail_once(b, "put", ret, &err);
		return ret;
	}
	b->in_flight++;
	while (!ret && c->seen < b->opt.watchers && now_ms() < end)
		ret = pump(b, 50);
	*ms = c->seen == b->opt.watchers ? now_ms() - start : INFINITY;
	return ret;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void print_ms(double ms)
{
	if (isinf(ms))
		printf(" %9s", ">5000");
	else
		printf(" %9.0f", ms);
}

/* ---- main ---------------------------------------------------------------------------- */

static void header(void)
{
	printf("%-30s %9s %12s %12s %14s %9s %9s %9s %8s\n", "model", "puts/s", "keepalives/s", "events/s",
	       "events/s all N", "p50 (ms)", "p99 (ms)", "RSS (MiB)", "DB (MiB)");
	printf("%-30s %9s %12s %12s %14s %9s %9s %9s %8s\n", "", "", "", "(W watching)", "(computed)", "", "",
	       "(members)", "");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option options[] = {
		{ "store", required_argument, NULL, 's' },   { "model", required_argument, NULL, 'm' },
		{ "nodes", required_argument, NULL, 'n' },   { "watchers", required_argument, NULL, 'w' },
		{ "ttl", required_argument, NULL, 't' },     { "period", required_argument, NULL, 'p' },
		{ "steady", required_argument, NULL, 'd' },  { "changes", required_argument, NULL, 'k' },
		{ "header", no_argument, NULL, 'h' },        { 0 },
	};
	int c;

	*o = (struct options){ .nodes = 5000, .watchers = 100, .ttl_s = 6, .period_s = 30, .steady_s = 30, .changes = 100 };
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		unsigned long v = optarg ? strtoul(optarg, NULL, 10) : 0;

		switch (c) {
		case 's': o->store = optarg; break;
		case 'm':
			if (strcmp(optarg, "leases") && strcmp(optarg, "kilo")) {
				fprintf(stderr, "bench-etcd-scale: --model \"%s\" is not leases or kilo\n", optarg);
				return -1;
			}
			o->kilo = !strcmp(optarg, "kilo");
			break;
		case 'n': o->nodes = v; break;
		case 'w': o->watchers = v; break;
		case 't': o->ttl_s = v; break;
		case 'p': o->period_s = v; break;
		case 'd': o->steady_s = v; break;
		case 'k': o->changes = v; break;
		case 'h': header(); exit(0);
		default: return -1;
		}
	}
	if (!o->store || !o->nodes || !o->watchers || o->ttl_s < 3 || !o->period_s || !o->steady_s || !o->changes) {
		fprintf(stderr, "usage: bench-etcd-scale --store etcd://H:P,.../CLUSTER [--model leases|kilo] [--nodes N]\n"
				"       [--watchers W] [--ttl S (>= 3)] [--period S] [--steady S] [--changes K] | --header\n");
		return -1;
	}
	return 0;
}

static int run(struct bench *b)
{
	struct metrics before, after;
	double *lat, dt, start;
	unsigned k;
	int ret;

	if ((ret = agents_start(b)) || (ret = watchers_start(b)))
		return ret;
	b->rewriting = b->opt.kilo;
	b->rewrite_due_ms = now_ms();
	if ((ret = pump_for(b, SETTLE_MS)) || (ret = metrics_read(b, &before)))
		return ret;
	start = now_ms();
	if ((ret = pump_for(b, b->opt.steady_s * 1e3)) || (ret = metrics_read(b, &after)))
		return ret;
	dt = (now_ms() - start) / 1e3;
	lat = calloc(b->opt.changes, sizeof(*lat));
	if (!lat)
		return -ENOMEM;
	for (k = 0; k < b->opt.changes && !ret; k++)
		if (!(ret = one_change(b, k, &lat[k])))
			ret = pump_for(b, 20); /* the next change is not the same burst */
	if (!ret) {
		double puts = (after.puts - before.puts) / dt;
		char label[64];

		qsort(lat, b->opt.changes, sizeof(*lat), compare_double);
		if (b->opt.kilo)
			snprintf(label, sizeof(label), "Kilo: rewrite every %u s", b->opt.period_s);
		else
			snprintf(label, sizeof(label), "libkilo: leases, ttl %u s", b->opt.ttl_s);
		printf("%-30s %9.1f %12.1f %12.0f %14.0f", label, puts, (after.renewals - before.renewals) / dt,
		       (after.events - before.events) / dt, puts * b->opt.nodes);
		print_ms(lat[(b->opt.changes - 1) / 2]);
		print_ms(lat[(unsigned)ceil(0.99 * b->opt.changes) - 1]);
		printf(" %9.0f %8.1f\n", after.rss_bytes / 1048576, after.db_bytes / 1048576);
	}
	free(lat);
	return ret;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	struct kilo_error err = { 0 };
	unsigned i;
	int ret;

	if (parse(argc, argv, &b.opt))
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	b.agents = calloc(b.opt.nodes, sizeof(*b.agents));
	b.watchers = calloc(b.opt.watchers, sizeof(*b.watchers));
	ret = !b.agents || !b.watchers ? -ENOMEM : 0;
	if (!ret)
		ret = kilo_etcd_config_parse(b.opt.store, NULL, &b.config, &err);
	if (!ret)
		ret = kilo_etcd_new(&b.config, &b.writer, &err);
	if (!ret)
		ret = kilo_etcd_new(&b.config, &b.changer, &err);
	if (!ret)
		ret = kilo_etcd_new(&b.config, &b.watching, &err);
	if (!ret) {
		snprintf(b.prefix, sizeof(b.prefix), "/kilo/%s/nodes/", b.config.cluster);
		for (i = 0; i < b.opt.nodes; i++)
			b.agents[i].b = &b;
		ret = run(&b);
	} else {
		fail_once(&b, "set-up", ret, &err);
	}
	if (ret)
		fprintf(stderr, "bench-etcd-scale: %s\n", b.failure[0] ? b.failure : strerror(-ret));
	if (b.leases_lost || b.keepalive_failures || b.watch_breaks)
		fprintf(stderr,
			"bench-etcd-scale: %u leases lost, %u keep-alives failed, %u watch streams broke "
			"(%u leases of %u s: %.0f keep-alives/s to send)\n",
			b.leases_lost, b.keepalive_failures, b.watch_breaks, b.opt.nodes, b.opt.ttl_s,
			b.opt.nodes * 3.0 / b.opt.ttl_s);
	for (i = 0; b.agents && i < b.opt.nodes; i++)
		kilo_etcd_keepalive_stop(b.agents[i].keepalive);
	for (i = 0; b.watchers && i < b.opt.watchers; i++)
		kilo_etcd_watch_stop(b.watchers[i].watch);
	kilo_etcd_free(b.writer);
	kilo_etcd_free(b.changer);
	kilo_etcd_free(b.watching);
	kilo_etcd_config_clear(&b.config);
	free(b.change.value);
	free(b.agents);
	free(b.watchers);
	curl_global_cleanup();
	return ret ? 1 : 0;
}

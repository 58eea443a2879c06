// SPDX-License-Identifier: Apache-2.0
/*
 * kgctl observe: the flows network policy forwarded and dropped, read from
 * each kg's /flows (kg --listen). A kg keeps a ring of its recent flows;
 * observe reads every page of it, and with --follow asks again for what
 * came after the last flow it saw, so that kg holds no connection open.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kgctl.h"

enum {
	OPT_ENDPOINT = 256,
	OPT_NODE,
	OPT_ALL,
	OPT_VERDICT,
	OPT_POD,
	OPT_FOLLOW,
	OPT_PORT,
};

/* At most this many kg to read from; each is a --endpoint. */
#define MAX_ENDPOINTS 256
/* A page of /flows is bounded by kg (2048 flows of a few hundred bytes); more is not a kg. */
#define MAX_PAGE_BYTES (16U << 20)
/* --follow asks every kg again this often. */
#define FOLLOW_INTERVAL_MS 250
/* Seconds to connect to a kg and to read one page. */
#define CONNECT_TIMEOUT 5
#define PAGE_TIMEOUT 30

static const char usage_text[] =
	"Usage: kgctl observe (--endpoint [NODE=]URL... | --store URI) [flags]\n"
	"\n"
	"Print the flows that network policy (kg's --bpf) forwarded and dropped, as\n"
	"each kg reports them on its --listen address (/flows): one line per flow,\n"
	"like Hubble's: time, node, source pod (identity) -> destination pod, port,\n"
	"protocol, direction, verdict, drop reason, the rule that decided (or the\n"
	"default deny) and the service the flow was balanced from.\n"
	"\n"
	"Flags:\n"
	"      --endpoint [NODE=]URL       a kg's --listen address, e.g.\n"
	"                                  n1=http://10.0.0.1:1107; repeat for each node\n"
	KGCTL_MESH_SOURCE_USAGE
	"                                  instead of --endpoint: every ready node's kg,\n"
	"                                  at its internal IP and --port\n"
	"      --port PORT                 the port of kg's --listen with --store\n"
	"                                  (default 1107)\n"
	"      --node NAME                 only the kg of this node\n"
	"      --all                       every node's kg (the default)\n"
	"      --verdict VERDICT           only forwarded or dropped flows\n"
	"      --pod NAMESPACE/NAME        only flows from or to this pod\n"
	"  -f, --follow                    keep printing flows as they come\n"
	"  -o, --output FORMAT             text (the default) or json (kg's lines)\n"
	"  -h, --help                      print this help\n";

struct endpoint {
	const char *node; /* NULL: not named */
	const char *url;
	uint64_t next;    /* the after of the next page */
	bool failing;     /* its last read failed: --follow says so once, not every round */
};

struct page {
	char *data;
	size_t len;
	bool too_big;
	uint64_t next;
	bool has_next;
};

static size_t page_write(char *data, size_t size, size_t n, void *ctx)
{
	struct page *p = ctx;
	size_t len = size * n;
	char *grown;

	if (p->len + len > MAX_PAGE_BYTES) {
		p->too_big = true;
		return 0;
	}
	grown = realloc(p->data, p->len + len + 1);
	if (!grown)
		return 0;
	memcpy(grown + p->len, data, len);
	p->len += len;
	grown[p->len] = '\0';
	p->data = grown;
	return len;
}

static size_t page_header(char *data, size_t size, size_t n, void *ctx)
{
	static const char name[] = "kilo-flows-next:";
	struct page *p = ctx;
	size_t len = size * n;
	char value[32], *end;

	if (len > sizeof(name) - 1 && len - (sizeof(name) - 1) < sizeof(value) &&
	    !strncasecmp(data, name, sizeof(name) - 1)) {
		memcpy(value, data + sizeof(name) - 1, len - (sizeof(name) - 1));
		value[len - (sizeof(name) - 1)] = '\0';
		p->next = strtoull(value, &end, 10);
		p->has_next = end != value;
	}
	return len;
}

/* GET url's /flows after e->next into *page; prints its own error. */
static int fetch_page(CURL *curl, const struct endpoint *e, const struct kilo_flow_filter *filter, struct page *page)
{
	char *url = NULL, *pod = NULL;
	long status = 0;
	CURLcode c;
	int r;

	*page = (struct page){ 0 };
	if (filter->pod && !(pod = curl_easy_escape(curl, filter->pod, 0)))
		return kgctl_fail("out of memory");
	r = asprintf(&url, "%s/flows?after=%llu%s%s%s", e->url, (unsigned long long)e->next,
		     filter->verdict == KILO_FLOW_FILTER_FORWARDED ? "&verdict=forwarded"
		     : filter->verdict == KILO_FLOW_FILTER_DROPPED ? "&verdict=dropped"
								    : "",
		     pod ? "&pod=" : "", pod ? pod : "");
	curl_free(pod);
	if (r < 0)
		return kgctl_fail("out of memory");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, page_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, page);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, page_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, page);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)PAGE_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	c = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	free(url);
	if (c != CURLE_OK)
		r = e->failing ? KGCTL_EXIT_FAILURE
			       : kgctl_fail("%s: %s", e->url,
					    page->too_big ? "a page of flows larger than 16 MiB" : curl_easy_strerror(c));
	else if (status != 200)
		r = e->failing ? KGCTL_EXIT_FAILURE
			       : kgctl_fail("%s: HTTP %ld: %s", e->url, status, page->data ? page->data : "");
	else if (!page->has_next)
		r = e->failing ? KGCTL_EXIT_FAILURE : kgctl_fail("%s: not kg's /flows (no Kilo-Flows-Next header)", e->url);
	else
		r = 0;
	if (r != 0)
		free(page->data);
	return r;
}

/* Prints each line of page that filter lets through; returns how many lines it held. */
static int print_page(const struct endpoint *e, char *data, const struct kilo_flow_filter *filter,
		      enum kilo_flow_output format)
{
	struct kilo_error err = { 0 };
	char *line, *save = NULL, *out;
	int n = 0;

	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (kilo_flow_line(line, filter, format, &out, NULL, &err) < 0) {
			fprintf(stderr, "kgctl: %s: %s\n", e->url, err.message);
			continue;
		}
		n++;
		if (out && fputs(out, stdout) == EOF) {
			kilo_free(out);
			return -1;
		}
		kilo_free(out);
	}
	return n;
}

/* Every page e has now; 0 or KGCTL_EXIT_FAILURE. */
static int read_endpoint(CURL *curl, struct endpoint *e, const struct kilo_flow_filter *filter,
			 enum kilo_flow_output format)
{
	struct page page;

	/* Bounded: every page moves e->next on, and kg's ring holds a few pages at most. */
	for (unsigned pages = 0; pages < 64; pages++) {
		int n;

		e->failing = fetch_page(curl, e, filter, &page) != 0;
		if (e->failing)
			return KGCTL_EXIT_FAILURE;
		n = page.data ? print_page(e, page.data, filter, format) : 0;
		free(page.data);
		if (n < 0 || fflush(stdout) == EOF)
			return kgctl_fail("writing: %s", strerror(errno));
		if (page.next == e->next)
			return 0;
		e->next = page.next;
	}
	return 0;
}

static int parse_endpoint(char *arg, struct endpoint *e)
{
	char *eq = strchr(arg, '=');
	char *scheme = strstr(arg, "://");

	/* NODE=URL: the node's name comes before the URL's scheme. */
	if (eq && (!scheme || eq < scheme)) {
		*eq = '\0';
		e->node = arg;
		arg = eq + 1;
	}
	if (strncmp(arg, "http://", 7) && strncmp(arg, "https://", 8))
		return kgctl_usage_fail("observe", "--endpoint: \"%s\" is not an http:// or https:// URL", arg);
	/* A trailing slash would make "//flows". */
	for (size_t n = strlen(arg); n > 0 && arg[n - 1] == '/'; n--)
		arg[n - 1] = '\0';
	e->url = arg;
	return 0;
}

/*
 * Every ready node of the mesh as an endpoint: its internal IP (the store
 * does not hold kg's --listen address; kg listens on every address by
 * default) at port. The strings live in *doc (free with json_decref).
 */
static int store_endpoints(const kilo_mesh *mesh, unsigned port, struct endpoint *endpoints, size_t *n,
			   json_t **doc)
{
	char *text = NULL, *ip, *slash;
	json_t *nodes, *node, *urls;
	struct kilo_error err = { 0 };
	size_t i;

	if (kilo_mesh_to_json(mesh, &text, &err) < 0)
		return kgctl_fail("%s", err.message);
	*doc = json_loads(text, 0, NULL);
	kilo_free(text);
	nodes = json_object_get(*doc, "nodes");
	if (!(urls = json_array()) || json_object_set_new(*doc, "urls", urls) < 0)
		return kgctl_fail("out of memory");
	json_array_foreach(nodes, i, node) {
		const char *name = json_string_value(json_object_get(node, "name"));
		const char *cidr = json_string_value(json_object_get(node, "internalIP"));
		char *url = NULL;

		if (!name || !cidr || !kilo_mesh_node_ready(mesh, i, 0) || *n == MAX_ENDPOINTS)
			continue;
		if (!(ip = strdup(cidr)))
			return kgctl_fail("out of memory");
		if ((slash = strchr(ip, '/')))
			*slash = '\0';
		if (asprintf(&url, strchr(ip, ':') ? "http://[%s]:%u" : "http://%s:%u", ip, port) < 0 ||
		    json_array_append_new(urls, json_string(url)) < 0) {
			free(ip);
			free(url);
			return kgctl_fail("out of memory");
		}
		free(ip);
		free(url);
		endpoints[(*n)++] = (struct endpoint){ .node = name,
						       .url = json_string_value(json_array_get(urls, json_array_size(urls) - 1)) };
	}
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int kgctl_observe(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "verdict", required_argument, NULL, OPT_VERDICT },
		{ "pod", required_argument, NULL, OPT_POD },
		{ "follow", no_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "help", no_argument, NULL, 'h' },
		KGCTL_MESH_SOURCE_OPTIONS,
		{ 0 },
	};
	struct kgctl_mesh_source source = { 0 };
	struct kilo_flow_filter filter = { .sz = sizeof(filter) };
	kilo_mesh *mesh = NULL;
	json_t *doc = NULL;
	unsigned long port = 1107;
	char *end;
	enum kilo_flow_output format = KILO_FLOW_OUTPUT_TEXT;
	bool json;
	struct endpoint endpoints[MAX_ENDPOINTS];
	size_t n = 0, kept = 0;
	const char *node = NULL;
	bool follow = false, all = false;
	CURL *curl = NULL;
	int c, r = 0;

	while ((c = kgctl_getopt("observe", argc, argv, ":hfo:", options)) != -1) {
		switch (c) {
		case OPT_ENDPOINT:
			if (n == MAX_ENDPOINTS)
				return kgctl_usage_fail("observe", "--endpoint: at most %d", MAX_ENDPOINTS);
			endpoints[n] = (struct endpoint){ 0 };
			if (parse_endpoint(optarg, &endpoints[n]) != 0)
				return KGCTL_EXIT_USAGE;
			n++;
			break;
		case OPT_NODE:
			node = optarg;
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_VERDICT:
			if (!strcmp(optarg, "forwarded"))
				filter.verdict = KILO_FLOW_FILTER_FORWARDED;
			else if (!strcmp(optarg, "dropped"))
				filter.verdict = KILO_FLOW_FILTER_DROPPED;
			else
				return kgctl_usage_fail("observe", "--verdict: \"%s\" is not forwarded or dropped", optarg);
			break;
		case OPT_POD:
			if (!strchr(optarg, '/') || optarg[0] == '/' || strchr(optarg, '/')[1] == '\0')
				return kgctl_usage_fail("observe", "--pod: \"%s\" is not NAMESPACE/NAME", optarg);
			filter.pod = optarg;
			break;
		case 'f':
			follow = true;
			break;
		case 'o':
			if (kgctl_parse_text_or_json("observe", optarg, &json))
				return KGCTL_EXIT_USAGE;
			format = json ? KILO_FLOW_OUTPUT_JSON : KILO_FLOW_OUTPUT_TEXT;
			break;
		case OPT_PORT:
			errno = 0;
			port = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || port == 0 || port > 65535)
				return kgctl_usage_fail("observe", "--port: \"%s\" is not a port (1-65535)", optarg);
			break;
		case 'h':
			return kgctl_print(usage_text);
		default:
			r = kgctl_mesh_source_option(c, optarg, &source);
			if (r <= 0)
				return KGCTL_EXIT_USAGE;
			r = 0;
		}
	}
	if (optind != argc)
		return kgctl_usage_fail("observe", "unexpected argument \"%s\"", argv[optind]);
	if (node && all)
		return kgctl_usage_fail("observe", "--node and --all cannot be used together");
	if (n && (source.store || source.mesh_path))
		return kgctl_usage_fail("observe", "--endpoint and --store cannot be used together");
	if (source.mesh_path)
		return kgctl_usage_fail("observe", "--mesh holds no kg to ask: --store or --endpoint");
	if (source.store) {
		r = kgctl_load_mesh_from("observe", &source, &mesh);
		if (r == 0)
			r = store_endpoints(mesh, (unsigned)port, endpoints, &n, &doc);
		if (r != 0)
			goto out;
		if (n == 0) {
			r = kgctl_fail("the store has no ready node");
			goto out;
		}
	}
	if (n == 0)
		return kgctl_usage_fail("observe", "--endpoint or --store is required (where each kg listens)");
	for (size_t i = 0; i < n; i++)
		if (!node || (endpoints[i].node && !strcmp(endpoints[i].node, node)))
			endpoints[kept++] = endpoints[i];
	if (kept == 0) {
		r = source.store ? kgctl_fail("--node %s: no ready node of that name in the store", node)
				 : kgctl_usage_fail("observe", "--node %s: no --endpoint %s=URL", node, node);
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(curl = curl_easy_init())) {
		r = kgctl_fail("cannot start libcurl");
		goto out;
	}
	for (size_t i = 0; i < kept; i++)
		if (read_endpoint(curl, &endpoints[i], &filter, format) != 0)
			r = KGCTL_EXIT_FAILURE;
	/* Until interrupted: a kg that does not answer is reported and asked again. */
	while (follow) {
		sleep_ms(FOLLOW_INTERVAL_MS);
		for (size_t i = 0; i < kept; i++)
			read_endpoint(curl, &endpoints[i], &filter, format);
	}
	curl_easy_cleanup(curl);
	curl_global_cleanup();
out:
	json_decref(doc);
	kilo_mesh_free(mesh);
	return r;
}

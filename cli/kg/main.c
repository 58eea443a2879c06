// SPDX-License-Identifier: Apache-2.0
/* kg: Kilo's flags (kilo-reference.md §4.1) where they apply, the main loop and signals. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "flags.h"
#include "kg.h"

#define KG_MAX_CIDRS 16 /* of --internal-cidr and of --service-cidr */

enum {
	OPT_ALLOWED_LOCATION_IPS = 256,
	OPT_BPF,
	OPT_BPF_CGROUP,
	OPT_BPF_MAGLEV_SIZE,
	OPT_BPF_MAGLEV_TABLES,
	OPT_BPF_PIN_DIR,
	OPT_CHECK_IN_PERIOD,
	OPT_CLEAN_UP,
	OPT_CLEAN_UP_INTERFACE,
	OPT_CNI,
	OPT_CNI_PATH,
	OPT_COMPATIBILITY,
	OPT_CREATE_INTERFACE,
	OPT_ENCAPSULATE,
	OPT_ETCD_CACERT,
	OPT_ETCD_CERT,
	OPT_ETCD_KEY,
	OPT_ETCD_PASSWORD_FILE,
	OPT_ETCD_USER,
	OPT_FLOW_EVENTS,
	OPT_FORCE_ENDPOINT,
	OPT_FORCE_INTERNAL_IP,
	OPT_FORWARD_RULES,
	OPT_HOSTNAME,
	OPT_HTTP_MAX_CONNECTIONS,
	OPT_HTTP_MAX_CONNECTIONS_PER_IP,
	OPT_HTTP_TIMEOUT,
	OPT_INTERFACE,
	OPT_INTERNAL_CIDR,
	OPT_LEADER,
	OPT_LISTEN,
	OPT_LOCAL,
	OPT_LOCATION,
	OPT_LOG_LEVEL,
	OPT_MESH_GRANULARITY,
	OPT_MTU,
	OPT_PERSISTENT_KEEPALIVE,
	OPT_POD_CIDR,
	OPT_PORT,
	OPT_PRIORITISE_PRIVATE,
	OPT_PRIVATE_KEY,
	OPT_READY_WINDOW,
	OPT_RESYNC_PERIOD,
	OPT_SERVICE_CIDR,
	OPT_STORE,
	OPT_SUBNET,
	OPT_USERSPACE_WIREGUARD,
	OPT_WG_BACKEND,
	OPT_VERSION,
	OPT_NO = 512, /* --no-X: OPT_NO + the option of X */
};

/* Every boolean flag takes Go's forms: --x, --x=true|false, and --no-x. */
#define BOOL_FLAG(name, id) { name, optional_argument, NULL, id }, { "no-" name, no_argument, NULL, OPT_NO + id }

static const struct option options[] = {
	{ "allowed-location-ips", required_argument, NULL, OPT_ALLOWED_LOCATION_IPS },
	{ "bpf", required_argument, NULL, OPT_BPF },
	{ "bpf-cgroup", required_argument, NULL, OPT_BPF_CGROUP },
	{ "bpf-maglev-size", required_argument, NULL, OPT_BPF_MAGLEV_SIZE },
	{ "bpf-maglev-tables", required_argument, NULL, OPT_BPF_MAGLEV_TABLES },
	{ "bpf-pin-dir", required_argument, NULL, OPT_BPF_PIN_DIR },
	{ "check-in-period", required_argument, NULL, OPT_CHECK_IN_PERIOD },
	BOOL_FLAG("clean-up", OPT_CLEAN_UP),
	BOOL_FLAG("clean-up-interface", OPT_CLEAN_UP_INTERFACE),
	BOOL_FLAG("cni", OPT_CNI),
	{ "cni-path", required_argument, NULL, OPT_CNI_PATH },
	{ "compatibility", required_argument, NULL, OPT_COMPATIBILITY },
	BOOL_FLAG("create-interface", OPT_CREATE_INTERFACE),
	{ "encapsulate", required_argument, NULL, OPT_ENCAPSULATE },
	{ "etcd-cacert", required_argument, NULL, OPT_ETCD_CACERT },
	{ "etcd-cert", required_argument, NULL, OPT_ETCD_CERT },
	{ "etcd-key", required_argument, NULL, OPT_ETCD_KEY },
	{ "etcd-password-file", required_argument, NULL, OPT_ETCD_PASSWORD_FILE },
	{ "etcd-user", required_argument, NULL, OPT_ETCD_USER },
	{ "flow-events", required_argument, NULL, OPT_FLOW_EVENTS },
	{ "force-endpoint", required_argument, NULL, OPT_FORCE_ENDPOINT },
	{ "force-internal-ip", required_argument, NULL, OPT_FORCE_INTERNAL_IP },
	{ "help", no_argument, NULL, 'h' },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "http-max-connections", required_argument, NULL, OPT_HTTP_MAX_CONNECTIONS },
	{ "http-max-connections-per-ip", required_argument, NULL, OPT_HTTP_MAX_CONNECTIONS_PER_IP },
	{ "http-timeout", required_argument, NULL, OPT_HTTP_TIMEOUT },
	{ "interface", required_argument, NULL, OPT_INTERFACE },
	{ "internal-cidr", required_argument, NULL, OPT_INTERNAL_CIDR },
	BOOL_FLAG("iptables-forward-rules", OPT_FORWARD_RULES),
	BOOL_FLAG("leader", OPT_LEADER),
	{ "listen", required_argument, NULL, OPT_LISTEN },
	BOOL_FLAG("local", OPT_LOCAL),
	{ "location", required_argument, NULL, OPT_LOCATION },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "mesh-granularity", required_argument, NULL, OPT_MESH_GRANULARITY },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "persistent-keepalive", required_argument, NULL, OPT_PERSISTENT_KEEPALIVE },
	{ "pod-cidr", required_argument, NULL, OPT_POD_CIDR },
	{ "port", required_argument, NULL, OPT_PORT },
	BOOL_FLAG("prioritise-private-addresses", OPT_PRIORITISE_PRIVATE),
	{ "private-key", required_argument, NULL, OPT_PRIVATE_KEY },
	{ "ready-window", required_argument, NULL, OPT_READY_WINDOW },
	{ "resync-period", required_argument, NULL, OPT_RESYNC_PERIOD },
	{ "service-cidr", required_argument, NULL, OPT_SERVICE_CIDR },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "subnet", required_argument, NULL, OPT_SUBNET },
	{ "userspace-wireguard", required_argument, NULL, OPT_USERSPACE_WIREGUARD },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "wg-backend", required_argument, NULL, OPT_WG_BACKEND },
	{ 0 },
};

static void usage(FILE *out)
{
	fputs("Usage: kg [flags]\n"
	      "\n"
	      "Keeps this node's WireGuard mesh up to date with the nodes and peers of a store.\n"
	      "\n"
	      "  --store URI                        the store shared by every node (required): file:DIR, or\n"
	      "                                     etcd://HOST:PORT[,HOST:PORT...][/CLUSTER] (etcds:// for TLS)\n"
	      "  --etcd-cacert FILE                 the CA of the etcd cluster's certificates\n"
	      "  --etcd-cert FILE, --etcd-key FILE  this client's certificate and key for etcd\n"
	      "  --etcd-user NAME                   the etcd user\n"
	      "  --etcd-password-file FILE          the etcd user's password, from this file\n"
	      "  --hostname NAME                    this node's name (default: the host name)\n"
	      "  --pod-cidr CIDR[,CIDR]             this node's pod CIDR (required); two, one per family, for dual stack\n"
	      "  --location NAME                    this node's location\n"
	      "  --leader[=BOOL]                    prefer this node as its location's leader\n"
	      "  --force-endpoint HOST:PORT         the endpoint to advertise instead of the discovered one\n"
	      "  --force-internal-ip CIDR[,CIDR]    the internal IP(s) instead of the discovered ones (\"\": none)\n"
	      "  --persistent-keepalive DURATION    keepalive others use towards this node (default 0: off)\n"
	      "  --allowed-location-ips CIDR,...    extra IPs routed to this node's location\n"
	      "  --internal-cidr CIDR               only private IPs in it are discovered (repeatable)\n"
	      "  --prioritise-private-addresses     advertise the private IP as the endpoint\n"
	      "  --interface NAME                   the WireGuard link (default kilo0)\n"
	      "  --create-interface[=BOOL]          create the link if missing; false: it must exist (default true)\n"
	      "  --wg-backend auto|kernel|userspace which WireGuard to use (default auto)\n"
	      "  --userspace-wireguard PATH         the userspace implementation to start (e.g. wireguard-go)\n"
	      "  --private-key PATH                 the private key, made if missing (default /var/lib/kilo/key)\n"
	      "  --mesh-granularity location|full|cross  (default location)\n"
	      "  --subnet CIDR                      the WireGuard IP pool (default 10.4.0.0/16)\n"
	      "  --port PORT                        the WireGuard listen port (default 51820)\n"
	      "  --encapsulate always|crosssubnet|never  (default always)\n"
	      "  --compatibility flannel|cilium     (default none)\n"
	      "  --local[=BOOL]                     manage routes inside the location (default true)\n"
	      "  --cni[=BOOL]                       write the CNI configuration and NAT pod traffic (default true)\n"
	      "  --cni-path PATH                    (default /etc/cni/net.d/10-kilo.conflist)\n"
	      "  --iptables-forward-rules[=BOOL]    accept forwarded pod traffic (default false)\n"
	      "  --service-cidr CIDR,...            service CIDRs whose traffic is not masqueraded (repeatable)\n"
	      "  --mtu auto|BYTES                   of the WireGuard link; auto: the default route's link's less 80\n"
	      "                                     (default 1420)\n"
	      "  --check-in-period DURATION         between heartbeats (default 2s)\n"
	      "  --ready-window DURATION            a node silent this long drops out (default 6s)\n"
	      "  --resync-period DURATION           between full reconciles (default 30s)\n"
	      "  --clean-up[=BOOL]                  on SIGTERM remove this node and what kg made (default true)\n"
	      "  --clean-up-interface[=BOOL]        with --clean-up, delete the WireGuard link too (default false)\n"
	      "  --bpf off|auto|on                  service load balancing in eBPF (kube-proxy's job); auto: on\n"
	      "                                     when the kernel loads the programs (default off)\n"
	      "  --bpf-pin-dir DIR                  where its maps and links are pinned (default /sys/fs/bpf/kilo)\n"
	      "  --bpf-maglev-size 16381|65521      Maglev table size per service (default 16381)\n"
	      "  --bpf-maglev-tables N              the most services with a Maglev table, 4 * M bytes each;\n"
	      "                                     the others pick a backend by flow hash (default 1024)\n"
	      "  --bpf-cgroup DIR                   cgroup v2 whose processes reach services by socket-level\n"
	      "                                     balancing (default: cgroup v2's root; \"\": none)\n"
	      "  --flow-events policed|all          the new flows /flows reports besides drops: those policy\n"
	      "                                     judges, or every local pod's (default policed)\n"
	      "  --listen ADDR:PORT                 /health, /metrics, /graph, /flows (default :1107)\n"
	      "  --http-max-connections N           open HTTP connections in all (default 4096)\n"
	      "  --http-max-connections-per-ip N    from one client address; 0: no limit (default 32)\n"
	      "  --http-timeout DURATION            an idle HTTP connection is closed after it (default 10s)\n"
	      "  --log-level all|debug|info|warn|error|none  what kg logs (default info)\n"
	      "\n"
	      "Booleans also take --no-FLAG. Durations take Go's form (30s, 1m30s, 2h) or a number of seconds.\n"
	      "Exit status: 0 after a clean stop, 1 on any error, 2 when the command line cannot be parsed.\n",
	      out);
}

/* Set while the flags are read, before any thread starts; read-only after. */
static enum cli_log_level log_level = CLI_LOG_INFO;

void kg_log(enum kg_log_level level, const char *fmt, ...)
{
	char text[1024], escaped[KILO_ESCAPED_SIZE(sizeof(text))];
	va_list ap;

	if ((int)level < (int)log_level)
		return;
	/* Lines quote names and file names from the store: control characters are escaped. */
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* One write a line: the HTTP threads log too. */
	fprintf(stderr, "kg: %s\n", kilo_escape(text, escaped, sizeof(escaped)));
}

/* The agent's messages, filtered by the same --log-level. */
static void agent_log(void *ctx, enum kilo_log_level level, const char *message)
{
	enum kg_log_level ours = level <= KILO_LOG_ERROR     ? KG_LOG_ERROR
				 : level == KILO_LOG_WARNING ? KG_LOG_WARN
				 : level == KILO_LOG_INFO    ? KG_LOG_INFO
							     : KG_LOG_DEBUG;

	(void)ctx;
	kg_log(ours, "%s", message);
}

struct config {
	struct kilo_agent_opts agent;
	struct kilo_apply_opts apply;
	struct kilo_wg_opts wg;
	struct kilo_store_opts store;
	const char *internal_cidrs[KG_MAX_CIDRS];
	const char *service_cidrs[KG_MAX_CIDRS];
	const char *listen;
	struct kg_http_limits http;
	const char *cni_path;
	const char *mtu; /* NULL: the library's default */
	char hostname[HOST_NAME_MAX + 1];
};

static int parse_bool_option(const struct option *o, int c, const char *arg, struct config *cfg)
{
	bool value = c < OPT_NO;
	int id = c < OPT_NO ? c : c - OPT_NO, r = 0;
	const char *name = NULL;

	for (; o->name && !name; o++)
		if (o->val == id)
			name = o->name;
	if (arg && c < OPT_NO)
		r = cli_parse_bool(NULL, name, arg, &value);
	if (r)
		return r;
	switch (id) {
	case OPT_CLEAN_UP:
		cfg->agent.no_clean_up = !value;
		break;
	case OPT_CLEAN_UP_INTERFACE:
		cfg->apply.clean_up_interface = value;
		break;
	case OPT_CREATE_INTERFACE:
		cfg->apply.no_create_interface = !value;
		break;
	case OPT_CNI:
		cfg->apply.no_cni = !value;
		break;
	case OPT_FORWARD_RULES:
		cfg->apply.forward_rules = value;
		break;
	case OPT_LEADER:
		cfg->agent.leader = value;
		break;
	case OPT_LOCAL:
		cfg->apply.no_local = !value;
		break;
	case OPT_PRIORITISE_PRIVATE:
		cfg->agent.prioritise_private_addresses = value;
		break;
	}
	return 0;
}

/* Like Kilo's (pflag's string slice): repeatable, and each value a comma-separated list. */
static int add_service_cidrs(char *list, struct config *cfg)
{
	struct kilo_agent_opts *a = &cfg->agent;
	struct kilo_cidr cidr;
	char *item;

	while ((item = strsep(&list, ","))) {
		int r = kilo_cidr_parse(item, &cidr, NULL);

		if (r < 0)
			return cli_usage_fail(NULL, "--service-cidr: \"%s\" is %s", item, kilo_addr_refusal(r, "not a CIDR"));
		if (a->n_service_cidrs == KG_MAX_CIDRS)
			return cli_usage_fail(NULL, "--service-cidr may name at most %d CIDRs", KG_MAX_CIDRS);
		cfg->service_cidrs[a->n_service_cidrs++] = item;
	}
	return 0;
}

/* arg may be cut up in place: argv's strings are the program's to change. */
static int parse_option(int c, char *arg, struct config *cfg)
{
	struct kilo_agent_opts *a = &cfg->agent;
	struct kilo_apply_opts *ap = &cfg->apply;
	unsigned long v;
	int r = 0;

	switch (c) {
	case OPT_ALLOWED_LOCATION_IPS:
		a->allowed_location_ips = arg;
		break;
	case OPT_BPF:
		if (kilo_bpf_mode_parse(arg, &a->bpf, NULL) < 0)
			return cli_usage_fail(NULL, "--bpf: \"%s\" is not off, auto or on", arg);
		break;
	case OPT_BPF_CGROUP:
		a->bpf_cgroup = arg;
		break;
	case OPT_BPF_MAGLEV_SIZE:
		if (!(r = cli_parse_number(NULL, "bpf-maglev-size", arg, 0, UINT32_MAX, &v)) && v != 16381 && v != 65521)
			return cli_usage_fail(NULL, "--bpf-maglev-size: \"%s\" is not 16381 or 65521", arg);
		if (r == 0)
			a->bpf_maglev_size = (uint32_t)v;
		break;
	case OPT_BPF_MAGLEV_TABLES:
		if (!(r = cli_parse_number(NULL, "bpf-maglev-tables", arg, 1, UINT32_MAX, &v)))
			a->bpf_maglev_tables = (uint32_t)v;
		break;
	case OPT_BPF_PIN_DIR:
		a->bpf_pin_dir = arg;
		break;
	case OPT_CHECK_IN_PERIOD:
		return cli_parse_seconds(NULL, "check-in-period", arg, 1, UINT32_MAX, &a->check_in_period);
	case OPT_READY_WINDOW:
		return cli_parse_seconds(NULL, "ready-window", arg, 1, UINT32_MAX, &a->ready_window);
	case OPT_RESYNC_PERIOD:
		return cli_parse_seconds(NULL, "resync-period", arg, 1, UINT32_MAX, &a->resync_period);
	case OPT_CNI_PATH:
		cfg->cni_path = arg;
		break;
	case OPT_COMPATIBILITY:
		if (kilo_compatibility_parse(arg, &ap->compatibility, NULL) < 0)
			return cli_usage_fail(NULL, "--compatibility: \"%s\" is not flannel or cilium", arg);
		break;
	case OPT_ENCAPSULATE:
		if (kilo_encapsulate_parse(arg, &ap->encapsulate, NULL) < 0)
			return cli_usage_fail(NULL, "--encapsulate: \"%s\" is not always, crosssubnet or never", arg);
		break;
	case OPT_FLOW_EVENTS:
		if (strcmp(arg, "policed") != 0 && strcmp(arg, "all") != 0)
			return cli_usage_fail(NULL, "--flow-events: \"%s\" is not policed or all", arg);
		a->bpf_all_flow_events = strcmp(arg, "all") == 0;
		break;
	case OPT_FORCE_ENDPOINT:
		a->force_endpoint = arg;
		break;
	case OPT_FORCE_INTERNAL_IP:
		a->force_internal_ip = arg;
		break;
	case OPT_HOSTNAME:
		a->hostname = arg;
		break;
	case OPT_INTERFACE:
		ap->interface = arg;
		break;
	case OPT_INTERNAL_CIDR:
		if (a->n_internal_cidrs == KG_MAX_CIDRS)
			return cli_usage_fail(NULL, "--internal-cidr may be given at most %d times", KG_MAX_CIDRS);
		cfg->internal_cidrs[a->n_internal_cidrs++] = arg;
		break;
	case OPT_LISTEN:
		cfg->listen = arg;
		break;
	case OPT_HTTP_MAX_CONNECTIONS:
		if (!(r = cli_parse_number(NULL, "http-max-connections", arg, 1, 1000000, &v)))
			cfg->http.max_connections = (unsigned)v;
		break;
	case OPT_HTTP_MAX_CONNECTIONS_PER_IP:
		if (!(r = cli_parse_number(NULL, "http-max-connections-per-ip", arg, 0, 1000000, &v)))
			cfg->http.max_connections_per_ip = (unsigned)v;
		break;
	case OPT_HTTP_TIMEOUT:
		return cli_parse_seconds(NULL, "http-timeout", arg, 1, UINT32_MAX, &cfg->http.timeout);
	case OPT_LOCATION:
		a->location = arg;
		break;
	case OPT_LOG_LEVEL:
		return cli_parse_log_level(NULL, arg, &log_level);
	case OPT_MESH_GRANULARITY:
		if (kilo_granularity_parse(arg, &a->granularity, NULL) < 0)
			return cli_usage_fail(NULL, "--mesh-granularity: \"%s\" is not location, full or cross", arg);
		break;
	case OPT_MTU:
		cfg->mtu = arg; /* measured once the flags are read: auto may measure --force-internal-ip's link */
		break;
	case OPT_PERSISTENT_KEEPALIVE:
		return cli_parse_seconds(NULL, "persistent-keepalive", arg, 0, 65535, &a->persistent_keepalive);
	case OPT_POD_CIDR:
		a->pod_cidr = arg;
		break;
	case OPT_PORT:
		if (!(r = cli_parse_number(NULL, "port", arg, 0, 65535, &v)))
			a->port = (uint16_t)v;
		break;
	case OPT_PRIVATE_KEY:
		a->key_path = arg;
		break;
	case OPT_SERVICE_CIDR:
		return add_service_cidrs(arg, cfg);
	case OPT_STORE:
		a->store = arg;
		break;
	case OPT_ETCD_CACERT:
		cfg->store.etcd_cacert = arg;
		break;
	case OPT_ETCD_CERT:
		cfg->store.etcd_cert = arg;
		break;
	case OPT_ETCD_KEY:
		cfg->store.etcd_key = arg;
		break;
	case OPT_ETCD_PASSWORD_FILE:
		cfg->store.etcd_password_file = arg;
		break;
	case OPT_ETCD_USER:
		cfg->store.etcd_user = arg;
		break;
	case OPT_SUBNET:
		a->subnet = arg;
		break;
	case OPT_USERSPACE_WIREGUARD:
		cfg->wg.userspace_program = arg;
		break;
	case OPT_WG_BACKEND:
		if (kilo_wg_backend_parse(arg, &cfg->wg.backend, NULL) < 0)
			return cli_usage_fail(NULL, "--wg-backend: \"%s\" is not auto, kernel or userspace", arg);
		break;
	default:
		return parse_bool_option(options, c, arg, cfg);
	}
	return r;
}

/* Returns -1 to go on, else the exit status. */
static int parse_flags(int argc, char *argv[], struct config *cfg)
{
	int c, r;

	cfg->agent = (struct kilo_agent_opts){
		.sz = sizeof(cfg->agent),
		.key_path = "/var/lib/kilo/key",
		.internal_cidrs = cfg->internal_cidrs,
		.service_cidrs = cfg->service_cidrs,
		.log = agent_log,
		.store_opts = &cfg->store,
		.apply = &cfg->apply,
	};
	cfg->apply = (struct kilo_apply_opts){ .sz = sizeof(cfg->apply), .wg = &cfg->wg };
	cfg->wg = (struct kilo_wg_opts){ .sz = sizeof(cfg->wg) };
	cfg->store = (struct kilo_store_opts){ .sz = sizeof(cfg->store) };
	cfg->listen = ":1107";
	cfg->http = (struct kg_http_limits){ .max_connections = 4096, .max_connections_per_ip = 32, .timeout = 10 };
	cfg->cni_path = "/etc/cni/net.d/10-kilo.conflist";
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == OPT_VERSION) {
			printf("kg %s\n", kilo_version());
			return 0;
		}
		if (c == '?' || c == ':')
			return cli_usage_fail(NULL, c == ':' ? "option %s needs a value" : "unknown option %s", argv[optind - 1]);
		r = parse_option(c, optarg, cfg);
		if (r)
			return r;
	}
	if (optind < argc)
		return cli_usage_fail(NULL, "unexpected argument \"%s\"", argv[optind]);
	if (cfg->mtu) {
		struct kilo_cidr private_ip = { 0 };
		char first[KILO_CIDR_STRLEN] = "";

		/* The first of --force-internal-ip's CIDRs; a bad one is the agent's to report. */
		if (cfg->agent.force_internal_ip)
			snprintf(first, sizeof(first), "%.*s", (int)strcspn(cfg->agent.force_internal_ip, ","),
				 cfg->agent.force_internal_ip);
		if (kilo_cidr_parse(first, &private_ip, NULL) < 0)
			private_ip = (struct kilo_cidr){ 0 };
		r = cli_parse_mtu(NULL, cfg->mtu, &private_ip.addr, &cfg->apply.mtu);
		if (r)
			return r;
	}
	if (!cfg->agent.store)
		return cli_usage_fail(NULL, "--store is required (file:DIR or etcd://HOST:PORT)");
	if (!cfg->agent.hostname) {
		if (gethostname(cfg->hostname, sizeof(cfg->hostname) - 1) < 0)
			return cli_usage_fail(NULL, "--hostname is required: %s", strerror(errno));
		cfg->agent.hostname = cfg->hostname;
	}
	cfg->agent.cni_path = cfg->apply.no_cni ? NULL : cfg->cni_path;
	return -1;
}

/* Steps the agent until SIGTERM or SIGINT arrives on sigfd. */
static void run(struct kg_shared *shared, int sigfd)
{
	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = kilo_agent_fd(shared->agent), .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
		};
		struct kilo_error err = { 0 };
		int r;

		pthread_mutex_lock(&shared->lock);
		r = kilo_agent_timeout_ms(shared->agent);
		pthread_mutex_unlock(&shared->lock);
		if (poll(fds, 2, r) < 0 && errno != EINTR) {
			kg_log(KG_LOG_ERROR, "poll: %s", strerror(errno));
			return;
		}
		if (fds[1].revents & POLLIN)
			return;
		pthread_mutex_lock(&shared->lock);
		r = kilo_agent_step(shared->agent, &err);
		pthread_mutex_unlock(&shared->lock);
		if (r < 0)
			kg_log(KG_LOG_ERROR, "%s", err.code ? err.message : strerror(-r));
	}
}

/*
 * Every load and solve of a large mesh allocates and frees megabytes, and
 * glibc would give them back to the kernel and fault them in again each
 * time (a tenth of one change's CPU at 10,000 nodes): kg keeps them for
 * the next load instead, up to 128 MiB. None is mapped on its own: the
 * nodes of a mesh of 100,000 are one block of 48 MB, over the largest
 * threshold for that glibc takes.
 */
static void keep_freed_memory(void)
{
#if defined(M_MMAP_MAX) && defined(M_TRIM_THRESHOLD)
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

const char cli_program[] = "kg";

int main(int argc, char *argv[])
{
	struct kg_shared shared = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct kilo_error err = { 0 };
	struct kg_http *http;
	struct config cfg;
	sigset_t mask;
	int r, sigfd;

	r = parse_flags(argc, argv, &cfg);
	if (r >= 0)
		return r;
	/* Blocked before any thread starts, so that only the signalfd sees them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sigfd < 0) {
		fprintf(stderr, "kg: signalfd: %s\n", strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	keep_freed_memory();
	r = kilo_agent_new(&cfg.agent, &shared.agent, &err);
	if (r < 0) {
		fprintf(stderr, "kg: %s\n", err.code ? err.message : strerror(-r));
		close(sigfd);
		return CLI_EXIT_FAILURE;
	}
	/* A first step that failed but may heal, such as a clash in the store. */
	if (err.code)
		kg_log(KG_LOG_WARN, "%s", err.message);
	kg_log(KG_LOG_INFO, "node %s joined the mesh in %s", cfg.agent.hostname, cfg.agent.store);
	http = kg_http_start(cfg.listen, &cfg.http, &shared);
	if (http)
		run(&shared, sigfd);
	kg_http_stop(http);
	kilo_agent_free(shared.agent);
	close(sigfd);
	kg_log(KG_LOG_INFO, "node %s left the mesh", cfg.agent.hostname);
	return http ? 0 : CLI_EXIT_FAILURE;
}

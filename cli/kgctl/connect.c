// SPDX-License-Identifier: Apache-2.0
/* kgctl connect [PEER-NAME]: make this machine a VPN peer of the mesh until SIGINT or SIGTERM. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "kgctl.h"

#define MAX_ALLOWED_IPS 64
/*
 * Where the peer's key is kept when --private-key is not given: systemd's
 * StateDirectory= of a unit ($STATE_DIRECTORY), else kg's folder; a file per
 * peer, so that the peer keeps its key, and its entry in the store, across runs.
 */
#define KEY_FOLDER "/var/lib/kilo"

static const char usage_text[] =
	"Usage: kgctl connect [PEER-NAME] --store URI [flags]\n"
	"\n"
	"Make this machine a VPN peer of the mesh: add the peer to the store if it is\n"
	"not there, run a WireGuard device with the peer's configuration and route the\n"
	"mesh's networks into it, kept up to date until SIGINT or SIGTERM.\n"
	"PEER-NAME defaults to the host name.\n"
	"\n"
	"Flags:\n"
	"      --store URI                   the store the agents share: file:DIR or\n"
	"                                    etcd://HOST:PORT[,...][/CLUSTER]\n"
	KGCTL_STORE_USAGE
	"      --private-key FILE            the peer's private key; created (0600) if missing\n"
	"                                    (default $STATE_DIRECTORY or " KEY_FOLDER "/connect-PEER-NAME.key)\n"
	"  -a, --allowed-ip CIDR             the peer's allowed IP and address (10.10.10.10/32)\n"
	"      --allowed-ips CIDR,...        more cluster networks to route into the mesh\n"
	"  -i, --interface NAME              the WireGuard device (kilo0)\n"
	"      --persistent-keepalive DURATION  keepalive of a peer this creates (10s)\n"
	"      --port PORT                   listen port (51820)\n"
	"      --mtu auto|BYTES              of the device; auto: the default route's link's less 80 (1420)\n"
	"      --resync-period DURATION      resync at least this often (30s)\n"
	"      --ready-window DURATION       a node silent this long is out, as the agents judge it (6s)\n"
	"      --clean-up[=BOOL], --no-clean-up\n"
	"                                    on exit remove the peer, device and routes (true)\n"
	"      --wg-backend auto|kernel|userspace\n"
	"      --userspace-wireguard PATH    userspace WireGuard to start (e.g. wireguard-go)\n"
	"      --log-level all|debug|info|warn|error|none\n"
	"                                    what connect prints (info)\n"
	"  -h, --help                        print this help\n";

enum {
	OPT_ALLOWED_IPS = 256,
	OPT_CLEAN_UP,
	OPT_NO_CLEAN_UP,
	OPT_KEEPALIVE,
	OPT_LOG_LEVEL,
	OPT_MTU,
	OPT_PORT,
	OPT_PRIVATE_KEY,
	OPT_READY_WINDOW,
	OPT_RESYNC_PERIOD,
	OPT_STORE,
	OPT_USERSPACE,
	OPT_WG_BACKEND,
};

/* Comma-separated CIDRs, appended to list. */
static int parse_cidrs(const char *text, struct kilo_cidr *list, size_t *n)
{
	char *copy = strdup(text), *save = NULL;
	int r = 0;

	if (!copy)
		return kgctl_fail("out of memory");
	for (char *tok = strtok_r(copy, ",", &save); tok && r == 0; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= MAX_ALLOWED_IPS)
			r = kgctl_usage_fail("connect", "--allowed-ips: more than %d CIDRs", MAX_ALLOWED_IPS);
		else if ((r = kilo_cidr_parse(tok, &list[*n], NULL)) < 0)
			r = kgctl_usage_fail("connect", "--allowed-ips: \"%s\" is %s", tok, kilo_addr_refusal(r, "not a CIDR"));
		else
			(*n)++;
	}
	free(copy);
	return r;
}

struct connect_flags {
	struct kilo_connect_opts opts;
	struct kilo_wg_opts wg;
	struct kilo_cidr extra[MAX_ALLOWED_IPS];
	struct kilo_store_opts store_opts;
	char hostname[HOST_NAME_MAX + 1];
	char key_path[PATH_MAX];
	const char *mtu;
	enum cli_log_level log_level;
};

/* FOLDER/connect-PEER-NAME.key, for a name that is one plain file name. */
static int default_key_path(struct connect_flags *f)
{
	const char *name = f->opts.peer_name, *folder = getenv("STATE_DIRECTORY");
	int folder_len;

	if (name[0] == '.' || strchr(name, '/'))
		return kgctl_usage_fail("connect", "PEER-NAME \"%s\" cannot name a key file: give --private-key FILE",
					name);
	if (!folder || !folder[0])
		folder = KEY_FOLDER;
	/* systemd lists one folder per StateDirectory= entry, separated by colons. */
	folder_len = (int)strcspn(folder, ":");
	if (snprintf(f->key_path, sizeof(f->key_path), "%.*s/connect-%s.key", folder_len, folder, name) >=
	    (int)sizeof(f->key_path))
		return kgctl_usage_fail("connect", "the key file's path is too long: give --private-key FILE");
	f->opts.key_path = f->key_path;
	return 0;
}

static int parse_flags(int argc, char *argv[], struct connect_flags *f)
{
	static const struct option options[] = {
		{ "allowed-ip", required_argument, NULL, 'a' },
		{ "allowed-ips", required_argument, NULL, OPT_ALLOWED_IPS },
		{ "clean-up", optional_argument, NULL, OPT_CLEAN_UP },
		{ "no-clean-up", no_argument, NULL, OPT_NO_CLEAN_UP },
		{ "help", no_argument, NULL, 'h' },
		{ "interface", required_argument, NULL, 'i' },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "mtu", required_argument, NULL, OPT_MTU },
		{ "persistent-keepalive", required_argument, NULL, OPT_KEEPALIVE },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "private-key", required_argument, NULL, OPT_PRIVATE_KEY },
		{ "ready-window", required_argument, NULL, OPT_READY_WINDOW },
		{ "resync-period", required_argument, NULL, OPT_RESYNC_PERIOD },
		{ "store", required_argument, NULL, OPT_STORE },
		{ "userspace-wireguard", required_argument, NULL, OPT_USERSPACE },
		{ "wg-backend", required_argument, NULL, OPT_WG_BACKEND },
		KGCTL_STORE_OPTIONS,
		{ 0 },
	};
	struct kilo_connect_opts *o = &f->opts;
	bool clean_up = true;
	unsigned long v;
	int c, r = 0;

	while (r == 0 && (c = kgctl_getopt("connect", argc, argv, ":a:hi:", options)) != -1) {
		switch (c) {
		case 'a':
			o->allowed_ip = optarg;
			break;
		case OPT_ALLOWED_IPS:
			r = parse_cidrs(optarg, f->extra, &o->n_allowed_ips);
			break;
		case OPT_CLEAN_UP:
			r = cli_parse_bool("connect", "clean-up", optarg, &clean_up);
			o->no_clean_up = !clean_up;
			break;
		case OPT_NO_CLEAN_UP:
			o->no_clean_up = true;
			break;
		case 'i':
			o->interface = optarg;
			break;
		case OPT_LOG_LEVEL:
			r = cli_parse_log_level("connect", optarg, &f->log_level);
			break;
		case OPT_MTU:
			f->mtu = optarg; /* measured once the flags are read */
			break;
		case OPT_KEEPALIVE:
			r = cli_parse_seconds("connect", "persistent-keepalive", optarg, 0, 65535, &o->persistent_keepalive);
			o->no_keepalive = o->persistent_keepalive == 0;
			break;
		case OPT_PORT:
			r = cli_parse_number("connect", "port", optarg, 0, 65535, &v);
			o->port = (uint16_t)v;
			break;
		case OPT_RESYNC_PERIOD:
			r = cli_parse_seconds("connect", "resync-period", optarg, 1, 86400, &o->resync_period);
			break;
		case OPT_READY_WINDOW:
			r = cli_parse_seconds("connect", "ready-window", optarg, 1, 86400, &o->ready_window);
			break;
		case OPT_PRIVATE_KEY:
			o->key_path = optarg;
			break;
		case OPT_STORE:
			o->store = optarg;
			break;
		case OPT_USERSPACE:
			f->wg.userspace_program = optarg;
			break;
		case OPT_WG_BACKEND:
			if (kilo_wg_backend_parse(optarg, &f->wg.backend, NULL) < 0)
				r = kgctl_usage_fail("connect", "--wg-backend: \"%s\" is not auto, kernel or userspace", optarg);
			break;
		case 'h':
			kgctl_print(usage_text);
			return -1;
		default:
			if (!kgctl_store_option(c, optarg, &f->store_opts))
				return KGCTL_EXIT_USAGE;
		}
	}
	if (r)
		return r;
	if (argc - optind > 1)
		return kgctl_usage_fail("connect", "expected at most one PEER-NAME");
	if (!o->store)
		return kgctl_usage_fail("connect", "missing --store URI");
	if (optind < argc) {
		o->peer_name = argv[optind];
	} else {
		if (gethostname(f->hostname, sizeof(f->hostname) - 1) < 0)
			return kgctl_fail("cannot read the host name: %s", strerror(errno));
		o->peer_name = f->hostname;
	}
	if (!o->key_path && (r = default_key_path(f)))
		return r;
	if (f->mtu && (r = cli_parse_mtu("connect", f->mtu, NULL, &o->mtu)))
		return r;
	o->allowed_ips = f->extra;
	o->store_opts = &f->store_opts;
	o->wg = &f->wg;
	return 0;
}

/* Steps until SIGINT or SIGTERM; a failed step is reported and tried again at the next. */
static int run(kilo_connect *conn, int sigfd, enum cli_log_level log_level)
{
	struct kilo_error err = { 0 };
	struct pollfd fds[2] = { { .fd = kilo_connect_fd(conn), .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };

	for (;;) {
		if (kilo_connect_step(conn, &err) < 0) {
			if (log_level <= CLI_LOG_ERROR)
				cli_fail("%s", err.message);
			memset(&err, 0, sizeof(err));
		}
		if (poll(fds, 2, kilo_connect_timeout_ms(conn)) < 0 && errno != EINTR)
			return kgctl_fail("poll: %s", strerror(errno));
		if (fds[1].revents & POLLIN)
			return 0;
	}
}

int kgctl_connect(int argc, char *argv[])
{
	struct connect_flags f = {
		.opts = { .sz = sizeof(f.opts) },
		.wg = { .sz = sizeof(f.wg) },
		.store_opts = { .sz = sizeof(f.store_opts) },
		.log_level = CLI_LOG_INFO,
	};
	struct kilo_error err = { 0 };
	kilo_connect *conn = NULL;
	sigset_t mask;
	int sigfd, r;

	r = parse_flags(argc, argv, &f);
	if (r)
		return r < 0 ? 0 : r;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sigfd < 0)
		return kgctl_fail("signalfd: %s", strerror(errno));
	if (kilo_connect_new(&f.opts, &conn, &err) < 0) {
		close(sigfd);
		return kgctl_fail("%s", err.message);
	}
	if (f.log_level <= CLI_LOG_INFO)
		fprintf(stderr, "kgctl: peer %s connected through %s with the key %s\n", f.opts.peer_name,
			f.opts.interface ? f.opts.interface : KILO_DEFAULT_INTERFACE, f.opts.key_path);
	r = run(conn, sigfd, f.log_level);
	kilo_connect_free(conn);
	close(sigfd);
	return r;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* This host's private and public IPs, chosen as Kilo's getIP chooses them (kilo-reference.md §4.2). */
#include "internal.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/error.h"

/* How long the hostname may take to resolve. */
#define RESOLVE_TIMEOUT_MS 300

/* ---- the choice ---------------------------------------------------------- */

/* Loopback and link-local addresses never identify a host to others. */
static bool is_local(const struct kilo_addr *a)
{
	if (a->family == 4)
		return a->bytes[0] == 127 || (a->bytes[0] == 169 && a->bytes[1] == 254);
	if (a->family == 6) {
		static const uint8_t loopback[16] = { [15] = 1 };

		return !memcmp(a->bytes, loopback, 16) || (a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80) ||
		       /* link-local multicast, which Kilo drops as well */
		       (a->bytes[0] == 0xff && (a->bytes[1] & 0x0f) == 0x02);
	}
	return true;
}

static bool in_internal(const struct kilo_cidr *c, const struct kilo_cidr *internal, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (kilo_cidr_contains(&internal[i], &c->addr))
			return true;
	return false;
}

/* Kilo splits and sorts each source on its own, then takes the sources in order. */
static void split_source(const struct kilo_cidr *src, size_t n, struct kilo_cidr *priv, size_t *n_priv,
			 struct kilo_cidr *pub, size_t *n_pub)
{
	size_t p0 = *n_priv, q0 = *n_pub;

	for (size_t i = 0; i < n; i++) {
		if (is_local(&src[i].addr))
			continue;
		if (kilo_addr_is_public(&src[i].addr))
			pub[(*n_pub)++] = src[i];
		else
			priv[(*n_priv)++] = src[i];
	}
	kilo_cidr_sort(priv + p0, *n_priv - p0);
	kilo_cidr_sort(pub + q0, *n_pub - q0);
}

int kilo_agent_select_ips(const struct kilo_ip_candidates *c, const struct kilo_cidr *internal_cidrs,
			  size_t n_internal, struct kilo_host_ips *out)
{
	size_t total = c->n_hostname + c->n_default_route + c->n_all, n_priv = 0, n_pub = 0;
	struct kilo_cidr *priv, *pub;
	const struct kilo_cidr *chosen_priv = NULL;
	int r = 0;

	memset(out, 0, sizeof(*out));
	priv = calloc(total ? total : 1, sizeof(*priv));
	pub = calloc(total ? total : 1, sizeof(*pub));
	if (!priv || !pub) {
		r = -ENOMEM;
		goto out;
	}
	split_source(c->hostname, c->n_hostname, priv, &n_priv, pub, &n_pub);
	split_source(c->default_route, c->n_default_route, priv, &n_priv, pub, &n_pub);
	split_source(c->all, c->n_all, priv, &n_priv, pub, &n_pub);
	if (n_priv == 0 && n_pub == 0) {
		r = -EADDRNOTAVAIL;
		goto out;
	}
	for (size_t i = 0; i < n_priv && !chosen_priv; i++)
		if (in_internal(&priv[i], internal_cidrs, n_internal))
			chosen_priv = &priv[i];
	if (chosen_priv)
		out->private_ip = *chosen_priv;
	for (size_t i = 0; i < n_priv && chosen_priv && !out->secondary_private_ip.addr.family; i++)
		if (priv[i].addr.family != chosen_priv->addr.family && in_internal(&priv[i], internal_cidrs, n_internal))
			out->secondary_private_ip = priv[i];
	/* A host without a public IP advertises its private one. */
	if (n_pub)
		out->public_ip = pub[0];
	else if (chosen_priv)
		out->public_ip = *chosen_priv;
	else
		r = -EADDRNOTAVAIL;
out:
	free(priv);
	free(pub);
	return r;
}

/* ---- reading the host ---------------------------------------------------- */

struct cidr_list {
	struct kilo_cidr *items;
	size_t n, cap;
};

static int list_push(struct cidr_list *l, const struct kilo_cidr *c)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct kilo_cidr *grown = realloc(l->items, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		l->items = grown;
		l->cap = cap;
	}
	l->items[l->n++] = *c;
	return 0;
}

static unsigned prefix_of(const uint8_t *mask, size_t len)
{
	unsigned p = 0;

	for (size_t i = 0; i < len; i++)
		p += (unsigned)__builtin_popcount(mask[i]);
	return p;
}

/* The address of an ifaddrs entry with its interface's prefix; false for other families. */
static bool entry_cidr(const struct ifaddrs *ifa, struct kilo_cidr *out)
{
	memset(out, 0, sizeof(*out));
	if (!ifa->ifa_addr || !ifa->ifa_netmask)
		return false;
	if (ifa->ifa_addr->sa_family == AF_INET) {
		out->addr.family = 4;
		memcpy(out->addr.bytes, &((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr, 4);
		out->prefix = (uint8_t)prefix_of((const uint8_t *)&((const struct sockaddr_in *)ifa->ifa_netmask)->sin_addr, 4);
		return true;
	}
	if (ifa->ifa_addr->sa_family == AF_INET6) {
		out->addr.family = 6;
		memcpy(out->addr.bytes, &((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr, 16);
		out->prefix =
			(uint8_t)prefix_of((const uint8_t *)&((const struct sockaddr_in6 *)ifa->ifa_netmask)->sin6_addr, 16);
		return true;
	}
	return false;
}

static bool ignored(const char *name, const char *const *ignore)
{
	for (; ignore && *ignore; ignore++)
		if (!strcmp(name, *ignore))
			return true;
	return false;
}

/*
 * The interface of the default route, from the kernel's route tables in
 * /proc/net (of the caller's network namespace), IPv4 first as Kilo lists
 * routes: "" when there is none.
 */
static void default_interface(char out[IF_NAMESIZE])
{
	char line[512], ifname[IF_NAMESIZE], dest[64], mask[64];
	unsigned prefix;
	FILE *f;

	out[0] = '\0';
	f = fopen("/proc/net/route", "re");
	if (f) {
		/* Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
		while (!out[0] && fgets(line, sizeof(line), f))
			if (sscanf(line, "%15s %63s %*s %*s %*s %*s %*s %63s", ifname, dest, mask) == 3 &&
			    !strcmp(dest, "00000000") && !strcmp(mask, "00000000"))
				memcpy(out, ifname, IF_NAMESIZE);
		fclose(f);
	}
	f = out[0] ? NULL : fopen("/proc/net/ipv6_route", "re");
	if (f) {
		/* dest prefix src src-prefix gateway metric refcnt use flags ifname */
		while (!out[0] && fgets(line, sizeof(line), f))
			if (sscanf(line, "%63s %x %*s %*s %*s %*s %*s %*s %*s %15s", dest, &prefix, ifname) == 3 &&
			    prefix == 0 && strspn(dest, "0") == 32 && strcmp(ifname, "lo"))
				memcpy(out, ifname, IF_NAMESIZE);
		fclose(f);
	}
}

/* Whether a (not ignored) local interface holds addr; its prefix in *out. */
static bool assigned(const struct ifaddrs *list, const char *const *ignore, const struct kilo_addr *addr,
		     struct kilo_cidr *out)
{
	for (const struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next)
		if (!ignored(ifa->ifa_name, ignore) && entry_cidr(ifa, out) && kilo_addr_equal(&out->addr, addr))
			return true;
	return false;
}

/*
 * An asynchronous lookup of the hostname. Whoever lets go of it last, the
 * caller or the resolver's completion, frees it: a namespace or host
 * without a reachable DNS server must not hold up the start for the
 * resolver's whole timeout, and a lookup still running cannot be freed.
 */
struct lookup {
	struct gaicb request;
	struct addrinfo hints;
	atomic_int owners;
	char name[];
};

static void lookup_release(struct lookup *l)
{
	if (atomic_fetch_sub(&l->owners, 1) != 1)
		return;
	if (l->request.ar_result)
		freeaddrinfo(l->request.ar_result);
	free(l);
}

static void lookup_done(union sigval value)
{
	lookup_release(value.sival_ptr);
}

/* Starts the lookup of hostname; NULL if it could not start. */
static struct lookup *lookup_start(const char *hostname)
{
	struct lookup *l = calloc(1, sizeof(*l) + strlen(hostname) + 1);
	struct gaicb *list[1];
	struct sigevent done = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = lookup_done };

	if (!l)
		return NULL;
	strcpy(l->name, hostname);
	l->hints.ai_socktype = SOCK_DGRAM;
	l->request.ar_name = l->name;
	l->request.ar_request = &l->hints;
	atomic_init(&l->owners, 2);
	done.sigev_value.sival_ptr = l;
	list[0] = &l->request;
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, &done) != 0) {
		free(l);
		return NULL;
	}
	return l;
}

/* The addresses found within RESOLVE_TIMEOUT_MS, or NULL; valid until lookup_release. */
static const struct addrinfo *lookup_wait(struct lookup *l)
{
	const struct gaicb *list[1] = { &l->request };
	struct timespec timeout = { .tv_nsec = RESOLVE_TIMEOUT_MS * 1000000L };

	gai_suspend(list, 1, &timeout);
	return gai_error(&l->request) == 0 ? l->request.ar_result : NULL;
}

static int hostname_candidates(const char *hostname, const struct ifaddrs *list, const char *const *ignore,
			       struct cidr_list *out)
{
	struct lookup *l = hostname ? lookup_start(hostname) : NULL;
	const struct addrinfo *res = l ? lookup_wait(l) : NULL;
	struct kilo_cidr c;
	int r = 0;

	/* A hostname that does not resolve simply adds no candidate, as in Kilo. */
	for (const struct addrinfo *ai = res; ai && r == 0; ai = ai->ai_next) {
		struct kilo_addr a = { 0 };

		if (ai->ai_family == AF_INET) {
			a.family = 4;
			memcpy(a.bytes, &((const struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			a.family = 6;
			memcpy(a.bytes, &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		if (assigned(list, ignore, &a, &c))
			r = list_push(out, &c);
	}
	if (l)
		lookup_release(l);
	return r;
}

int kilo_agent_discover_ips(const char *hostname, const char *const *ignore, const struct kilo_cidr *internal_cidrs,
			    size_t n_internal, struct kilo_host_ips *out, struct kilo_error *err)
{
	struct cidr_list by_name = { 0 }, by_route = { 0 }, all = { 0 };
	char route_if[IF_NAMESIZE];
	struct ifaddrs *list = NULL;
	struct kilo_cidr c;
	int r;

	if (getifaddrs(&list) < 0)
		return kilo_error_set(err, errno, "listing this host's addresses: %s", strerror(errno));
	default_interface(route_if);
	r = hostname_candidates(hostname, list, ignore, &by_name);
	for (const struct ifaddrs *ifa = list; ifa && r == 0; ifa = ifa->ifa_next) {
		if (ignored(ifa->ifa_name, ignore) || !entry_cidr(ifa, &c))
			continue;
		if (!strcmp(ifa->ifa_name, route_if))
			r = list_push(&by_route, &c);
		if (r == 0)
			r = list_push(&all, &c);
	}
	if (r == 0) {
		struct kilo_ip_candidates cand = {
			.hostname = by_name.items, .n_hostname = by_name.n,
			.default_route = by_route.items, .n_default_route = by_route.n,
			.all = all.items, .n_all = all.n,
		};

		r = kilo_agent_select_ips(&cand, internal_cidrs, n_internal, out);
	}
	if (r == -EADDRNOTAVAIL)
		kilo_error_set(err, EADDRNOTAVAIL, "no IP of this host is usable as its private or public IP");
	else if (r < 0)
		kilo_error_set(err, -r, "discovering this host's IPs: %s", strerror(-r));
	freeifaddrs(list);
	free(by_name.items);
	free(by_route.items);
	free(all.items);
	return r;
}

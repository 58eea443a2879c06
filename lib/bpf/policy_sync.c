// SPDX-License-Identifier: Apache-2.0
/*
 * Network policy's desired state (lib/policy/np_desired.h) written into its
 * maps by difference, as sync.c does the load balancer's: against what the
 * last policy sync wrote, or the maps read back (first sync, after a
 * failure, resync). LPM tries are tables like the hashes: their keys carry
 * the prefix length, and bits past it must be zero so that a key read back
 * equals the one written. The ipcache's full-length prefixes go to a hash
 * instead of the trie (policy_maps.h, kilo_policy_ipcache_hosts), and each
 * endpoint is written with the lookups its rules and regions do not need
 * (enum kilo_policy_skip).
 */
#include "internal.h"
#include "table.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include "../core/array.h"
#include "../core/error.h"
#include "../policy/np_desired.h"

_Static_assert(sizeof(struct kilo_np_desired_ipcache) ==
		       sizeof(struct kilo_ipcache_key) + sizeof(struct kilo_ipcache_value), "ipcache record");
_Static_assert(sizeof(struct kilo_np_desired_endpoint) ==
		       sizeof(struct kilo_policy_endpoint_key) + sizeof(struct kilo_policy_endpoint), "endpoint record");
_Static_assert(sizeof(struct kilo_np_desired_rule) == sizeof(struct kilo_policy_key) + sizeof(struct kilo_policy_value),
	       "rule record");
_Static_assert(sizeof(struct kilo_np_desired_cidr) ==
		       sizeof(struct kilo_policy_cidr_key) + sizeof(struct kilo_policy_cidr_value), "cidr record");

enum { IPCACHE, HOSTS, ENDPOINTS, RULES, CIDRS, N_TABLES };

static const char *const map_names[N_TABLES] = {
	[IPCACHE] = "kilo_policy_ipcache",
	[HOSTS] = "kilo_policy_ipcache_hosts",
	[ENDPOINTS] = "kilo_policy_endpoints",
	[RULES] = "kilo_policy_rules",
	[CIDRS] = "kilo_policy_cidrs",
};

static const char *const array_names[N_TABLES] = {
	[IPCACHE] = "ipcache", [HOSTS] = "ipcache", [ENDPOINTS] = "endpoints", [RULES] = "rules", [CIDRS] = "cidrs"
};

#define STATE_MAP "kilo_policy_state"

struct kilo_bpf_policy_last {
	struct kilo_bpf_table tables[N_TABLES];
	uint64_t serial; /* of the compile that made the state written (struct kilo_np_desired_changes); 0: none */
};

static void state_free(struct kilo_bpf_policy_last *s)
{
	for (int i = 0; i < N_TABLES; i++)
		kilo_bpf_table_free(&s->tables[i]);
}

void kilo__bpf_policy_last_free(kilo_bpf *bpf)
{
	if (!bpf->policy_last)
		return;
	state_free(bpf->policy_last);
	free(bpf->policy_last);
	bpf->policy_last = NULL;
}

/* The desired state's arrays seen as tables, borrowed; the ipcache whole (split_ipcache divides it), no hosts. */
static void desired_tables(const struct kilo_np_desired *d, struct kilo_bpf_table t[N_TABLES])
{
	t[IPCACHE] = (struct kilo_bpf_table){ d->n_ipcache, sizeof(struct kilo_ipcache_key),
					      sizeof(struct kilo_ipcache_value), (unsigned char *)d->ipcache, false };
	t[HOSTS] = (struct kilo_bpf_table){ 0, sizeof(struct kilo_policy_endpoint_key), sizeof(struct kilo_ipcache_value),
					    NULL, false };
	t[ENDPOINTS] = (struct kilo_bpf_table){ d->n_endpoints, sizeof(struct kilo_policy_endpoint_key),
						sizeof(struct kilo_policy_endpoint), (unsigned char *)d->endpoints, false };
	t[RULES] = (struct kilo_bpf_table){ d->n_rules, sizeof(struct kilo_policy_key), sizeof(struct kilo_policy_value),
					    (unsigned char *)d->rules, false };
	t[CIDRS] = (struct kilo_bpf_table){ d->n_cidrs, sizeof(struct kilo_policy_cidr_key),
					    sizeof(struct kilo_policy_cidr_value), (unsigned char *)d->cidrs, false };
}

static unsigned address_bits(__u8 family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

/*
 * An LPM key (its prefixlen first, then data_size bytes) whose prefix is
 * between min and max bits and whose bits past it are zero: else the trie
 * would hold it under another key than the one a read gives back.
 */
static bool lpm_key_valid(const void *key, size_t data_size, unsigned min, unsigned max)
{
	const unsigned char *data = (const unsigned char *)key + sizeof(__u32);
	__u32 prefixlen;

	memcpy(&prefixlen, key, sizeof(prefixlen));
	if (prefixlen < min || prefixlen > max || prefixlen > data_size * 8)
		return false;
	/* By bytes, not bits: 165,000 rules of 10,000 pods are checked at every sync. */
	if (prefixlen % 8 && data[prefixlen / 8] & (0xff >> (prefixlen % 8)))
		return false;
	for (size_t i = (prefixlen + 7) / 8; i < data_size; i++)
		if (data[i])
			return false;
	return true;
}

static int check_ipcache(const struct kilo_np_desired *d, struct kilo_error *err)
{
	for (size_t i = 0; i < d->n_ipcache; i++) {
		const struct kilo_ipcache_key *k = &d->ipcache[i].key;
		unsigned bits = address_bits(k->family);

		if (!bits)
			return kilo_error_set(err, EINVAL, "bpf: desired ipcache[%zu]: family %u is not AF_INET or AF_INET6",
					      i, k->family);
		if (!lpm_key_valid(k, sizeof(*k) - sizeof(__u32), 32, 32 + bits))
			return kilo_error_set(err, EINVAL, "bpf: desired ipcache[%zu]: prefixlen %u is not 32 + 0..%u, or "
					      "the address has bits set past it", i, k->prefixlen, bits);
	}
	return 0;
}

static int check_endpoints(const struct kilo_np_desired *d, struct kilo_error *err)
{
	for (size_t i = 0; i < d->n_endpoints; i++) {
		const struct kilo_np_desired_endpoint *e = &d->endpoints[i];

		if (!address_bits(e->key.family))
			return kilo_error_set(err, EINVAL, "bpf: desired endpoints[%zu]: family %u is not AF_INET or "
					      "AF_INET6", i, e->key.family);
		if (e->value.id == 0)
			return kilo_error_set(err, EINVAL, "bpf: desired endpoints[%zu]: id 0 (ids start at 1)", i);
		for (int direction = KILO_POLICY_INGRESS; direction <= KILO_POLICY_EGRESS; direction++)
			if (e->value.deny_rule[direction] >= KILO_POLICY_MAX_RULE_IDS)
				return kilo_error_set(err, EINVAL, "bpf: desired endpoints[%zu]: deny rule id %u is "
						      "not 0..%u", i, e->value.deny_rule[direction],
						      KILO_POLICY_MAX_RULE_IDS - 1);
	}
	return 0;
}

/* Rules lo to hi: the others are those the last sync checked and wrote. */
static int check_rules(const struct kilo_np_desired *d, size_t lo, size_t hi, struct kilo_error *err)
{
	for (size_t i = lo; i < hi; i++) {
		const struct kilo_np_desired_rule *r = &d->rules[i];

		if (!lpm_key_valid(&r->key, sizeof(r->key) - sizeof(__u32), KILO_POLICY_KEY_FIXED_BITS,
				   KILO_POLICY_KEY_FIXED_BITS + 8 + 16))
			return kilo_error_set(err, EINVAL, "bpf: desired rules[%zu]: prefixlen %u is not %u..%u, or the "
					      "key has bits set past it", i, r->key.prefixlen, KILO_POLICY_KEY_FIXED_BITS,
					      KILO_POLICY_KEY_FIXED_BITS + 8 + 16);
		if (r->key.direction > KILO_POLICY_EGRESS)
			return kilo_error_set(err, EINVAL, "bpf: desired rules[%zu]: direction %u is not ingress (0) or "
					      "egress (1)", i, r->key.direction);
		if (r->value.rule_id == 0 || r->value.rule_id >= KILO_POLICY_MAX_RULE_IDS)
			return kilo_error_set(err, EINVAL, "bpf: desired rules[%zu]: rule id %u is not 1..%u", i,
					      r->value.rule_id, KILO_POLICY_MAX_RULE_IDS - 1);
	}
	return 0;
}

static int check_cidrs(const struct kilo_np_desired *d, size_t lo, size_t hi, struct kilo_error *err)
{
	for (size_t i = lo; i < hi; i++) {
		const struct kilo_policy_cidr_key *k = &d->cidrs[i].key;
		unsigned bits = address_bits(k->family);

		if (!bits)
			return kilo_error_set(err, EINVAL, "bpf: desired cidrs[%zu]: family %u is not AF_INET or AF_INET6",
					      i, k->family);
		if (k->direction > KILO_POLICY_EGRESS)
			return kilo_error_set(err, EINVAL, "bpf: desired cidrs[%zu]: direction %u is not ingress (0) or "
					      "egress (1)", i, k->direction);
		if (!lpm_key_valid(k, sizeof(*k) - sizeof(__u32), KILO_POLICY_CIDR_KEY_FIXED_BITS,
				   KILO_POLICY_CIDR_KEY_FIXED_BITS + bits))
			return kilo_error_set(err, EINVAL, "bpf: desired cidrs[%zu]: prefixlen %u is not %u + 0..%u, or the "
					      "address has bits set past it", i, k->prefixlen, KILO_POLICY_CIDR_KEY_FIXED_BITS,
					      bits);
	}
	return 0;
}

/* Records lo to hi of t in order, after the one before lo and before the one at hi: the index of one that is not, or t->n. */
static size_t unsorted_between(const struct kilo_bpf_table *t, size_t lo, size_t hi)
{
	struct kilo_bpf_table part = *t;
	size_t from = lo ? lo - 1 : 0, to = hi < t->n ? hi + 1 : t->n, bad;

	part.data = (unsigned char *)kilo_bpf_record(t, from);
	part.n = to - from;
	bad = kilo_bpf_table_unsorted(&part);
	return bad < part.n ? from + bad : t->n;
}

/* The bytes of a rule's or region's key that make its run: its prefix length and endpoint. */
#define RUN_PREFIX (2 * sizeof(__u32))
_Static_assert(offsetof(struct kilo_policy_key, identity) == RUN_PREFIX, "a rule's run: prefix length, endpoint");
_Static_assert(offsetof(struct kilo_policy_cidr_key, direction) == RUN_PREFIX, "a region's run: prefix length, endpoint");
_Static_assert(offsetof(struct kilo_policy_key, endpoint) == sizeof(__u32) &&
		       offsetof(struct kilo_policy_cidr_key, endpoint) == sizeof(__u32), "a run's endpoint after its length");

/* The records of the rules and regions to check: ranges [at[2k], at[2k + 1]), in order. */
struct spans {
	size_t *at;
	size_t n;      /* 2 per range */
	size_t all[2]; /* at, when every record is */
};

/* Every record of t. */
static void span_all(const struct kilo_bpf_table *t, struct spans *s)
{
	*s = (struct spans){ .at = s->all, .n = 2, .all = { 0, t->n } };
}

static void spans_free(struct spans *s)
{
	if (s->at != s->all)
		free(s->at);
	s->at = NULL;
	s->n = 0;
}

/*
 * Every array sorted and every entry one the maps take: or nothing is
 * written. The rules and regions (165,000 for 10,000 pods) only in the
 * spans given: the runs that differ from what the last sync wrote
 * (kilo_bpf_table_diff_runs), the others checked then. Each span is
 * compared with the records before and after it for the order.
 */
static int check_desired(const struct kilo_np_desired *d, const struct kilo_bpf_table t[N_TABLES],
			 const struct spans spans[N_TABLES], struct kilo_error *err)
{
	int r;

	for (int i = 0; i < N_TABLES; i++) {
		for (size_t k = 0; k < spans[i].n; k += 2) {
			size_t bad = unsorted_between(&t[i], spans[i].at[k], spans[i].at[k + 1]);

			if (bad < t[i].n)
				return kilo_error_set(err, EINVAL, "bpf: desired %s[%zu]: not sorted after the entry "
						      "before it (or the same key twice)", array_names[i], bad);
		}
	}
	if ((r = check_ipcache(d, err)) < 0 || (r = check_endpoints(d, err)) < 0)
		return r;
	for (size_t k = 0; k < spans[RULES].n; k += 2)
		if ((r = check_rules(d, spans[RULES].at[k], spans[RULES].at[k + 1], err)) < 0)
			return r;
	for (size_t k = 0; k < spans[CIDRS].n; k += 2)
		if ((r = check_cidrs(d, spans[CIDRS].at[k], spans[CIDRS].at[k + 1], err)) < 0)
			return r;
	return 0;
}

/* The desired ipcache as two owned tables: full-length prefixes (hosts, sorted by address), the rest (a trie's). */
static int split_ipcache(const struct kilo_np_desired *d, struct kilo_bpf_table *prefixes, struct kilo_bpf_table *hosts)
{
	size_t record = sizeof(struct kilo_ipcache_key) + sizeof(struct kilo_ipcache_value);
	size_t host_record = hosts->key_size + hosts->value_size;

	prefixes->data = malloc(d->n_ipcache * record + 1);
	hosts->data = malloc(d->n_ipcache * host_record + 1);
	prefixes->owned = hosts->owned = true;
	prefixes->n = 0;
	if (!prefixes->data || !hosts->data)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_ipcache; i++) {
		const struct kilo_np_desired_ipcache *e = &d->ipcache[i];
		struct kilo_policy_endpoint_key key = { .addr = e->key.addr, .family = e->key.family };
		unsigned char *rec;

		if (e->key.prefixlen < 32 + address_bits(e->key.family)) {
			memcpy(prefixes->data + prefixes->n++ * record, e, record);
			continue;
		}
		rec = hosts->data + hosts->n++ * host_record;
		memcpy(rec, &key, sizeof(key));
		memcpy(rec + sizeof(key), &e->value, sizeof(e->value));
	}
	/* Mostly already in order (the ipcache's, when there are IPv4 hosts only): checked, cheaper than a sort. */
	if (kilo_bpf_table_unsorted(hosts) < hosts->n)
		kilo_bpf_table_sort(hosts);
	return 0;
}

/* Every lookup (enum kilo_policy_skip) of both directions. */
#define SKIP_BOTH (KILO_POLICY_SKIP_ALL | KILO_POLICY_SKIP_ALL << KILO_POLICY_SKIP_SHIFT(KILO_POLICY_EGRESS))

/* An endpoint id and the lookups (enum kilo_policy_skip, both directions) some entry of its needs. */
struct endpoint_needs {
	__u32 id;
	__u32 needs;
	bool known; /* needs as the last sync wrote them */
};

static int needs_cmp(const void *a, const void *b)
{
	__u32 x = ((const struct endpoint_needs *)a)->id, y = ((const struct endpoint_needs *)b)->id;

	return (x > y) - (x < y);
}

struct needs_table {
	struct endpoint_needs *ids; /* sorted, one per id */
	size_t n;
	struct endpoint_needs *last; /* the last found: the rules and regions come in runs of one endpoint */
};

static struct endpoint_needs *needs_of(struct needs_table *t, __u32 id)
{
	struct endpoint_needs key = { .id = id };

	if (!t->last || t->last->id != id)
		t->last = bsearch(&key, t->ids, t->n, sizeof(*t->ids), needs_cmp);
	return t->last;
}

/* Entries of endpoint id (none of this node's: ignored) answer lookups (shifted by direction). */
static void need(struct needs_table *t, __u32 id, __u32 lookups)
{
	struct endpoint_needs *e = needs_of(t, id);

	if (e)
		e->needs |= lookups;
}

static __u32 rule_lookup(__u32 identity)
{
	if (identity == KILO_IDENTITY_ANY)
		return KILO_POLICY_SKIP_ANY;
	return identity & KILO_POLICY_REGION_FLAG ? KILO_POLICY_SKIP_REGIONS : KILO_POLICY_SKIP_IDENTITIES;
}

/* The lookups the rules lo to hi (of one endpoint) answer. */
static __u32 rules_need(const struct kilo_np_desired_rule *rules, size_t lo, size_t hi)
{
	__u32 lookups = 0;

	for (size_t i = lo; i < hi; i++)
		lookups |= rule_lookup(rules[i].key.identity) << KILO_POLICY_SKIP_SHIFT(rules[i].key.direction);
	return lookups;
}

static __u32 cidrs_need(const struct kilo_np_desired_cidr *cidrs, size_t lo, size_t hi)
{
	__u32 lookups = 0;

	for (size_t i = lo; i < hi; i++)
		lookups |= KILO_POLICY_SKIP_REGIONS << KILO_POLICY_SKIP_SHIFT(cidrs[i].key.direction);
	return lookups;
}

/* Every endpoint's needs, from every rule and region. */
static void need_all(const struct kilo_np_desired *d, struct needs_table *t)
{
	/* By runs of one endpoint (its entries of a prefix length), each found once: 165,000 rules for 10,000 pods. */
	for (size_t i = 0, end; i < d->n_rules; i = end) {
		for (end = i + 1; end < d->n_rules && d->rules[end].key.endpoint == d->rules[i].key.endpoint; end++)
			;
		need(t, d->rules[i].key.endpoint, rules_need(d->rules, i, end));
	}
	for (size_t i = 0; i < d->n_cidrs; i++)
		need(t, d->cidrs[i].key.endpoint, cidrs_need(d->cidrs, i, i + 1));
}

/* The needs of endpoint id from its runs in want's rules and regions, found by halving at each prefix length. */
static __u32 runs_need(const struct kilo_bpf_table want[N_TABLES], __u32 id)
{
	static const int runs[] = { RULES, CIDRS };
	__u32 lookups = 0;

	for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
		const struct kilo_bpf_table *t = &want[runs[k]];

		for (size_t i = 0; i < t->n; i = kilo_bpf_table_run_end(t, i, sizeof(__u32))) {
			unsigned char key[RUN_PREFIX];
			size_t lo = i, hi;

			memcpy(key, kilo_bpf_record(t, i), sizeof(__u32));
			memcpy(key + sizeof(__u32), &id, sizeof(id));
			hi = kilo_bpf_table_find_run(t, &lo, key, RUN_PREFIX);
			lookups |= runs[k] == RULES ? rules_need((const void *)t->data, lo, hi)
						    : cidrs_need((const void *)t->data, lo, hi);
		}
	}
	return lookups;
}

static int id_cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

/*
 * The needs of the endpoints changes does not list as the last sync wrote
 * them (their rules and regions are the same); of the others, and of those
 * it did not write, from their runs.
 */
static void need_changed(const struct kilo_bpf_table want[N_TABLES], const struct kilo_np_desired_changes *changes,
			 const struct kilo_bpf_policy_last *last, struct needs_table *t)
{
	const struct kilo_bpf_table *written = &last->tables[ENDPOINTS];

	for (size_t i = 0; i < written->n; i++) {
		const struct kilo_np_desired_endpoint *e = kilo_bpf_record(written, i);
		struct endpoint_needs *n = needs_of(t, e->value.id);

		if (n && !(changes->n_endpoints &&
			   bsearch(&e->value.id, changes->endpoints, changes->n_endpoints, sizeof(__u32), id_cmp)))
			*n = (struct endpoint_needs){ e->value.id, SKIP_BOTH & ~e->value.skip, true };
	}
	for (size_t i = 0; i < t->n; i++)
		if (!t->ids[i].known)
			t->ids[i].needs = runs_need(want, t->ids[i].id);
}

/*
 * The desired endpoints as an owned table, each skipping the lookups none
 * of its rules and regions answers; from the changes listed, after the
 * sync of the computation they are changes from (last), else from all.
 */
static int skip_lookups(const struct kilo_np_desired *d, const struct kilo_bpf_table want[N_TABLES],
			const struct kilo_bpf_policy_last *last, struct kilo_bpf_table *endpoints)
{
	struct needs_table t = { malloc((d->n_endpoints + 1) * sizeof(*t.ids)), 0, NULL };
	struct kilo_bpf_table borrowed = *endpoints;

	if (!t.ids || kilo_bpf_table_copy(&borrowed, endpoints) < 0) {
		free(t.ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->n_endpoints; i++)
		t.ids[i] = (struct endpoint_needs){ d->endpoints[i].value.id, 0, false };
	qsort(t.ids, d->n_endpoints, sizeof(*t.ids), needs_cmp);
	/* One per id (a pod of two addresses is two records), for bsearch to find the one that counts. */
	for (size_t i = 0; i < d->n_endpoints; i++)
		if (t.n == 0 || t.ids[t.n - 1].id != t.ids[i].id)
			t.ids[t.n++] = t.ids[i];
	if (last)
		need_changed(want, &d->changes, last, &t);
	else
		need_all(d, &t);
	for (size_t i = 0; i < endpoints->n; i++) {
		struct kilo_np_desired_endpoint *e = (void *)(endpoints->data + i * sizeof(*e));

		e->value.skip = SKIP_BOTH & ~needs_of(&t, e->value.id)->needs;
	}
	free(t.ids);
	return 0;
}

static __u32 enforce_flags(const struct kilo_bpf_table *endpoints)
{
	__u32 flags = 0;

	for (size_t i = 0; i < endpoints->n; i++) {
		const struct kilo_policy_endpoint *e = (const void *)((const unsigned char *)kilo_bpf_record(endpoints, i) +
								     endpoints->key_size);

		flags |= e->flags;
	}
	return flags & (KILO_POLICY_ENFORCE_INGRESS | KILO_POLICY_ENFORCE_EGRESS);
}

/*
 * The state's flags: the endpoints' (enforce_flags), and whether every flow
 * is an event; and the next generation, which ends the programs' copies of
 * endpoints.
 */
static int write_enforce(const kilo_bpf *bpf, int fd, __u32 flags, struct kilo_error *err)
{
	struct kilo_policy_state state = { 0 };
	__u32 key = 0;

	if (bpf_map_lookup_elem(fd, &key, &state) < 0)
		return kilo_error_set(err, errno, "bpf: reading map %s: %s", STATE_MAP, strerror(errno));
	state.enforce = flags | (bpf->all_flow_events ? KILO_POLICY_ALL_FLOWS : 0);
	state.generation++;
	if (bpf_map_update_elem(fd, &key, &state, BPF_ANY) < 0)
		return kilo_error_set(err, errno, "bpf: writing map %s: %s", STATE_MAP, strerror(errno));
	return 0;
}

/*
 * The order that never lets a packet see an endpoint policed without its
 * rules: identities, rules and regions in first, then the endpoints (the
 * state's flags as the union of before and after meanwhile); endpoints out
 * first, the rest after.
 */
static int write_all(const kilo_bpf *bpf, const int fds[N_TABLES], int state_fd,
		     const struct kilo_bpf_table want[N_TABLES], const struct kilo_bpf_policy_last *have,
		     const struct kilo_bpf_diff diffs[N_TABLES], struct kilo_error *err)
{
	static const int writes[] = { HOSTS, IPCACHE, CIDRS, RULES, ENDPOINTS };
	static const int removes[] = { ENDPOINTS, RULES, CIDRS, IPCACHE, HOSTS };
	__u32 before = enforce_flags(&have->tables[ENDPOINTS]), after = enforce_flags(&want[ENDPOINTS]);
	struct kilo_error ignored = { 0 };
	bool endpoints_begun = false;
	int r;

	for (size_t k = 0; k < N_TABLES; k++) {
		int t = writes[k];

		if (t == ENDPOINTS) {
			if ((r = write_enforce(bpf, state_fd, before | after, err)) < 0)
				return r;
			endpoints_begun = true;
		}
		r = kilo_bpf_table_write(fds[t], &want[t], diffs[t].write, diffs[t].n_write);
		if (r < 0) {
			r = kilo_error_set(err, -r, "bpf: writing map %s: %s", map_names[t], strerror(-r));
			goto fail;
		}
	}
	for (size_t k = 0; k < N_TABLES; k++) {
		int t = removes[k];

		r = kilo_bpf_table_delete(fds[t], &have->tables[t], diffs[t].remove, diffs[t].n_remove);
		if (r < 0) {
			r = kilo_error_set(err, -r, "bpf: deleting from map %s: %s", map_names[t], strerror(-r));
			goto fail;
		}
		if (t == ENDPOINTS && (r = write_enforce(bpf, state_fd, after, err)) < 0)
			goto fail;
	}
	return 0;
fail:
	/* The programs' copies of endpoints made while they were half written must not outlive the failure. */
	if (endpoints_begun)
		write_enforce(bpf, state_fd, before | after, &ignored);
	return r;
}

static int read_state(const int fds[N_TABLES], struct kilo_bpf_policy_last *s, struct kilo_error *err)
{
	int r;

	desired_tables(&(struct kilo_np_desired){ 0 }, s->tables);
	for (int i = 0; i < N_TABLES; i++) {
		r = kilo_bpf_table_read(fds[i], &s->tables[i]);
		if (r < 0)
			return kilo_error_set(err, -r, "bpf: reading map %s: %s", map_names[i], strerror(-r));
	}
	return 0;
}

/* What was written, for the next sync: copies, but the rules and regions taken (the desired state's, whole) if take. */
static int keep_state(const struct kilo_bpf_table want[N_TABLES], uint64_t serial, bool take,
		      struct kilo_bpf_policy_last **out)
{
	struct kilo_bpf_policy_last *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->serial = serial;
	for (int i = 0; i < N_TABLES; i++)
		if (!(take && (i == RULES || i == CIDRS)) && kilo_bpf_table_copy(&want[i], &s->tables[i]) < 0) {
			state_free(s);
			free(s);
			return -ENOMEM;
		}
	/* Taken once nothing can fail: after an error the desired state still owns them. */
	for (int i = RULES; take && i <= CIDRS; i++)
		s->tables[i] = (struct kilo_bpf_table){ want[i].n, want[i].key_size, want[i].value_size, want[i].data, true };
	*out = s;
	return 0;
}

static int run_cmp(const void *a, const void *b)
{
	return memcmp(a, b, RUN_PREFIX);
}

/* Whether changes are from the computation the last sync wrote: then the endpoints not listed are as written. */
static bool changes_follow(const struct kilo_np_desired_changes *changes, const struct kilo_bpf_policy_last *last)
{
	return last && changes->base && changes->base == last->serial;
}

/*
 * The runs of the endpoints changes lists: each endpoint's at every prefix
 * length want or have has (found by halving: a handful), in memcmp order. -ENOMEM.
 */
static int listed_runs(const struct kilo_np_desired_changes *changes, const struct kilo_bpf_table *want,
		       const struct kilo_bpf_table *have, unsigned char **runs, size_t *n)
{
	const struct kilo_bpf_table *tables[] = { want, have };
	size_t cap = 0, kept = 0;

	*runs = NULL;
	*n = 0;
	for (size_t t = 0; t < 2; t++) {
		for (size_t i = 0; i < tables[t]->n; i = kilo_bpf_table_run_end(tables[t], i, sizeof(__u32))) {
			if (kilo_array_reserve((void **)runs, &cap, *n + changes->n_endpoints, RUN_PREFIX) < 0)
				return -ENOMEM;
			for (size_t e = 0; e < changes->n_endpoints; e++, (*n)++) {
				memcpy(*runs + *n * RUN_PREFIX, kilo_bpf_record(tables[t], i), sizeof(__u32));
				memcpy(*runs + *n * RUN_PREFIX + sizeof(__u32), &changes->endpoints[e], sizeof(__u32));
			}
		}
	}
	if (*n)
		qsort(*runs, *n, RUN_PREFIX, run_cmp);
	/* A length both tables have, once. */
	for (size_t i = 0; i < *n; i++)
		if (!kept || run_cmp(*runs + (kept - 1) * RUN_PREFIX, *runs + i * RUN_PREFIX))
			memmove(*runs + kept++ * RUN_PREFIX, *runs + i * RUN_PREFIX, RUN_PREFIX);
	*n = kept;
	return 0;
}

/*
 * The rules and regions diffed with what the last sync wrote, run by run:
 * the runs that differ, to check, in spans; without a last sync, every
 * record is checked and diffed later with the maps read back. When the
 * last sync wrote the computation the desired state was compared with,
 * the runs of the endpoints it lists only: the others are what was written.
 */
static int diff_runs(const struct kilo_bpf_table want[N_TABLES], const struct kilo_bpf_policy_last *last,
		     const struct kilo_np_desired_changes *changes, struct kilo_bpf_diff diffs[N_TABLES],
		     struct spans spans[N_TABLES])
{
	static const int runs[] = { RULES, CIDRS };
	bool listed = changes_follow(changes, last);
	int r = 0;

	for (int i = 0; i < N_TABLES; i++)
		span_all(&want[i], &spans[i]);
	for (size_t k = 0; last && r == 0 && k < sizeof(runs) / sizeof(runs[0]); k++) {
		int t = runs[k];
		unsigned char *which = NULL;
		size_t n = 0;

		if (!listed)
			r = kilo_bpf_table_diff_runs(&want[t], &last->tables[t], RUN_PREFIX, &diffs[t], &spans[t].at,
						     &spans[t].n);
		else if ((r = listed_runs(changes, &want[t], &last->tables[t], &which, &n)) == 0)
			r = kilo_bpf_table_diff_listed(&want[t], &last->tables[t], RUN_PREFIX, which, n, &diffs[t],
						       &spans[t].at, &spans[t].n);
		free(which);
	}
	return r;
}

/* A sync; taking: desired, whose rules and regions the state kept for the next sync takes, else NULL (copied). */
static int sync_policy(kilo_bpf *bpf, const struct kilo_np_desired *desired, struct kilo_np_desired *taking,
		       bool read_maps, struct kilo_bpf_policy_sync_report *report, struct kilo_error *err)
{
	struct kilo_bpf_table want[N_TABLES];
	struct kilo_bpf_diff diffs[N_TABLES] = { 0 };
	struct kilo_bpf_policy_last read = { 0 };
	const struct kilo_bpf_policy_last *have, *last = read_maps ? NULL : bpf->policy_last;
	struct spans spans[N_TABLES] = { 0 };
	int fds[N_TABLES], state_fd, r = 0;

	*report = (struct kilo_bpf_policy_sync_report){ 0 };
	desired_tables(desired, want);
	/* What the last sync wrote was checked then: read back, the maps' entries were not. */
	if (diff_runs(want, last, &desired->changes, diffs, spans) < 0) {
		r = kilo_error_set(err, ENOMEM, "bpf: policy sync: out of memory");
		goto out;
	}
	r = check_desired(desired, want, spans, err);
	if (r < 0)
		goto out;
	if (split_ipcache(desired, &want[IPCACHE], &want[HOSTS]) < 0 ||
	    skip_lookups(desired, want, changes_follow(&desired->changes, last) ? last : NULL, &want[ENDPOINTS]) < 0) {
		r = kilo_error_set(err, ENOMEM, "bpf: policy sync: out of memory");
		goto out;
	}
	for (int i = 0; r == 0 && i < N_TABLES; i++)
		if ((fds[i] = kilo__bpf_map_fd(bpf, map_names[i])) < 0)
			r = kilo_error_set(err, ENOENT, "bpf: no map %s in the programs", map_names[i]);
	state_fd = kilo__bpf_map_fd(bpf, STATE_MAP);
	if (r == 0 && state_fd < 0)
		r = kilo_error_set(err, ENOENT, "bpf: no map %s in the programs", STATE_MAP);
	if (r < 0)
		goto out;
	if (read_maps || !bpf->policy_last) {
		r = read_state(fds, &read, err);
		have = &read;
	} else {
		have = bpf->policy_last;
	}
	for (int i = 0; r == 0 && i < N_TABLES; i++) {
		/* The rules and regions were diffed with the last sync's already, for the check. */
		if ((i == RULES || i == CIDRS) && have == last)
			continue;
		r = kilo_bpf_table_diff(&want[i], &have->tables[i], &diffs[i]);
		if (r == -ENOMEM)
			kilo_error_set(err, ENOMEM, "bpf: policy sync: out of memory");
	}
	if (r == 0)
		r = write_all(bpf, fds, state_fd, want, have, diffs, err);
	/* After a failure the maps are between two states: the next sync reads them. */
	kilo__bpf_policy_last_free(bpf);
	if (r == 0) {
		struct kilo_bpf_changes hosts;

		/* Without it (out of memory), the next sync reads the maps. */
		if (keep_state(want, desired->changes.serial, taking != NULL, &bpf->policy_last) == 0 && taking) {
			taking->rules = NULL;
			taking->n_rules = 0;
			taking->cidrs = NULL;
			taking->n_cidrs = 0;
		}
		kilo__bpf_changes(&report->ipcache, &diffs[IPCACHE]);
		kilo__bpf_changes(&hosts, &diffs[HOSTS]);
		report->ipcache.added += hosts.added;
		report->ipcache.changed += hosts.changed;
		report->ipcache.removed += hosts.removed;
		kilo__bpf_changes(&report->endpoints, &diffs[ENDPOINTS]);
		kilo__bpf_changes(&report->rules, &diffs[RULES]);
		kilo__bpf_changes(&report->cidrs, &diffs[CIDRS]);
	}
	state_free(&read);
out:
	for (int i = 0; i < N_TABLES; i++) {
		kilo_bpf_diff_free(&diffs[i]);
		spans_free(&spans[i]);
	}
	kilo_bpf_table_free(&want[IPCACHE]);
	kilo_bpf_table_free(&want[HOSTS]);
	kilo_bpf_table_free(&want[ENDPOINTS]);
	return r;
}

int kilo_bpf_policy_sync(kilo_bpf *bpf, const struct kilo_np_desired *desired, bool read_maps,
			 struct kilo_bpf_policy_sync_report *report, struct kilo_error *err)
{
	return sync_policy(bpf, desired, NULL, read_maps, report, err);
}

int kilo_bpf_policy_sync_taking(kilo_bpf *bpf, struct kilo_np_desired *desired, bool read_maps,
				struct kilo_bpf_policy_sync_report *report, struct kilo_error *err)
{
	return sync_policy(bpf, desired, desired, read_maps, report, err);
}

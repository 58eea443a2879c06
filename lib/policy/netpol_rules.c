// SPDX-License-Identifier: Apache-2.0
/*
 * This node's endpoints and their rules: for each pod of the node, the
 * policies that select it per direction, each rule's peers as identities
 * (or ANY) and its ports as prefixes of the port, and its ipBlocks as
 * disjoint regions of their own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/array.h"
#include "netpol_compile.h"

struct target {
	uint32_t endpoint;
	int direction;
	uint32_t rule_id;
};

static int add_rule(struct np_build *b, const struct target *t, uint32_t identity, uint8_t proto, unsigned bits,
		    uint16_t port)
{
	struct kilo_np_desired_rule *e;
	uint16_t mask = bits ? (uint16_t)(0xffffu << (16 - bits)) : 0;

	if (kilo_array_reserve((void **)&b->rules->items, &b->rules->cap, b->rules->n + 1, sizeof(*e)) < 0)
		return -ENOMEM;
	e = &b->rules->items[b->rules->n++];
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = KILO_POLICY_KEY_FIXED_BITS + (proto ? 8 + bits : 0);
	e->key.endpoint = t->endpoint;
	e->key.identity = identity;
	e->key.direction = (__u8)t->direction;
	e->key.proto = proto;
	e->key.port = htons(port & mask);
	e->value.rule_id = t->rule_id;
	return 0;
}

/* lo..hi of proto as the fewest prefixes of the port; proto 0: every protocol; lo 0: every port. */
static int add_range(struct np_build *b, const struct target *t, uint32_t identity, uint8_t proto, uint16_t lo,
		     uint16_t hi)
{
	uint32_t port = lo;
	int r;

	if (!proto || !lo)
		return add_rule(b, t, identity, proto, 0, 0);
	while (port <= hi) {
		unsigned size = 0; /* the block is 2^size ports, aligned at port */

		while (size < 16 && (port & ((1u << (size + 1)) - 1)) == 0 && port + (1u << (size + 1)) - 1 <= hi)
			size++;
		if ((r = add_rule(b, t, identity, proto, 16 - size, (uint16_t)port)) < 0)
			return r;
		port += 1u << size;
	}
	return 0;
}

/* port as pod resolves it (named ports; NULL: numeric ports only). */
static int add_port(struct np_build *b, const struct target *t, uint32_t identity, const struct kilo_np_port *port,
		    const struct kilo_np_pod *pod)
{
	int r;

	if (!port->name)
		return add_range(b, t, identity, port->proto, port->port, port->end_port);
	for (size_t i = 0; pod && i < pod->n_ports; i++)
		if (pod->ports[i].proto == port->proto && strcmp(pod->ports[i].name, port->name) == 0 &&
		    (r = add_range(b, t, identity, port->proto, pod->ports[i].port, pod->ports[i].port)) < 0)
			return r;
	return 0;
}

static int add_ports(struct np_build *b, const struct target *t, uint32_t identity, const struct kilo_np_rule *rule,
		     const struct kilo_np_pod *pod)
{
	int r;

	if (rule->n_ports == 0)
		return add_range(b, t, identity, 0, 0, 0);
	for (size_t i = 0; i < rule->n_ports; i++)
		if ((r = add_port(b, t, identity, &rule->ports[i], pod)) < 0)
			return r;
	return 0;
}

static bool has_named_port(const struct kilo_np_rule *rule)
{
	for (size_t i = 0; i < rule->n_ports; i++)
		if (rule->ports[i].name)
			return true;
	return false;
}

/* The pods of each identity, for egress's named ports (resolved at each destination pod). */
int kilo_np_index_pods(struct np_build *b)
{
	const struct kilo_np_model *model = b->model;
	size_t *fill;

	if (b->first)
		return 0;
	b->first = calloc(model->n_identities + 2, sizeof(*b->first));
	b->pods_of = malloc((model->n_pods + 1) * sizeof(*b->pods_of));
	fill = calloc(model->n_identities + 1, sizeof(*fill));
	if (!b->first || !b->pods_of || !fill) {
		free(fill);
		return -ENOMEM;
	}
	for (size_t i = 0; i < model->n_pods; i++)
		if (model->pods[i].identity != KILO_NP_NO_IDENTITY)
			b->first[model->pods[i].identity + 1]++;
	for (size_t i = 0; i < model->n_identities; i++)
		b->first[i + 1] += b->first[i];
	for (size_t i = 0; i < model->n_pods; i++) {
		size_t id = model->pods[i].identity;

		if (id != KILO_NP_NO_IDENTITY)
			b->pods_of[b->first[id] + fill[id]++] = i;
	}
	free(fill);
	return 0;
}

/* A rule's ports towards identity: egress's named ports resolved at each of its pods, ingress's at pod. */
static int add_identity(struct np_build *b, const struct target *t, size_t identity, const struct kilo_np_rule *rule,
			const struct kilo_np_pod *pod)
{
	int r;

	if (!b->numbers[identity])
		return 0;
	if (t->direction == KILO_POLICY_INGRESS || !has_named_port(rule))
		return add_ports(b, t, b->numbers[identity], rule, pod);
	for (size_t i = b->first[identity]; i < b->first[identity + 1]; i++)
		if ((r = add_ports(b, t, b->numbers[identity], rule, &b->model->pods[b->pods_of[i]])) < 0)
			return r;
	return 0;
}

/* Every destination: numeric ports to ANY; egress's named ports to each pod that has them. */
static int add_any(struct np_build *b, const struct target *t, const struct kilo_np_rule *rule,
		   const struct kilo_np_pod *pod)
{
	const struct kilo_np_model *model = b->model;
	int r;

	if (t->direction == KILO_POLICY_INGRESS)
		return add_ports(b, t, KILO_IDENTITY_ANY, rule, pod);
	if ((r = add_ports(b, t, KILO_IDENTITY_ANY, rule, NULL)) < 0 || !has_named_port(rule))
		return r;
	for (size_t i = 0; i < model->n_pods; i++) {
		const struct kilo_np_pod *q = &model->pods[i];

		if (q->identity == KILO_NP_NO_IDENTITY || !b->numbers[q->identity])
			continue;
		for (size_t j = 0; j < rule->n_ports; j++)
			if (rule->ports[j].name && (r = add_port(b, t, b->numbers[q->identity], &rule->ports[j], q)) < 0)
				return r;
	}
	return 0;
}

/* A rule name listed in the computation's output (the map of rule ids to names); -ENOMEM. */
static int list_rule_name(struct np_build *b, uint32_t rule_id, const char *text)
{
	struct kilo_np_rule_name *name;

	if (kilo_array_reserve((void **)&b->out->rule_names, &b->cap_rule_names, b->out->n_rule_names + 1,
			       sizeof(*name)) < 0)
		return -ENOMEM;
	name = &b->out->rule_names[b->out->n_rule_names];
	name->rule_id = rule_id;
	if (!(name->name = strdup(text)))
		return -ENOMEM;
	b->out->n_rule_names++;
	return 0;
}

/* The rule ids of policy's rules of direction, asked once per computation. */
static const uint32_t *rule_ids(struct np_build *b, size_t policy, int direction)
{
	const struct kilo_np_policy *p = &b->model->policies[policy];
	uint32_t **slot = &b->rule_ids[policy * 2 + direction];

	if (*slot)
		return *slot;
	*slot = calloc(p->n_rules[direction] + 1, sizeof(**slot));
	if (!*slot)
		return NULL;
	for (size_t i = 0; i < p->n_rules[direction]; i++) {
		(*slot)[i] = kilo_np_names_get(&b->state->rules, p->rules[direction][i].name);
		if (!(*slot)[i] || list_rule_name(b, (*slot)[i], p->rules[direction][i].name) < 0)
			return NULL;
	}
	return *slot;
}

/* How many of the policies that isolate an endpoint its deny rule's name lists; the rest are counted. */
#define DENY_NAMED_POLICIES 3

/*
 * The name of the rule a default deny of the endpoint being made counts in
 * direction: the policies that isolate it there (b->selected), so that a
 * drop says what to change. Endpoints isolated by the same policies share
 * the rule. NULL when out of memory.
 */
static char *deny_name(const struct np_build *b, int direction)
{
	static const char *const directions[] = { "ingress", "egress" };
	size_t n = b->n_selected[direction], at;
	char name[1024];

	/* Kubernetes caps a namespace at 63 characters and a name at 253: the buffer holds the longest. */
	at = (size_t)snprintf(name, sizeof(name), "default deny %s (", directions[direction]);
	for (size_t i = 0; i < n && i < DENY_NAMED_POLICIES; i++) {
		const struct kilo_np_policy *p = &b->model->policies[b->selected[direction][i]];

		at += (size_t)snprintf(name + at, sizeof(name) - at, "%s%.63s/%.253s", i ? ", " : "", p->namespace,
				       p->name);
	}
	if (n > DENY_NAMED_POLICIES)
		at += (size_t)snprintf(name + at, sizeof(name) - at, " and %zu more", n - DENY_NAMED_POLICIES);
	snprintf(name + at, sizeof(name) - at, ")");
	return strdup(name);
}

static bool deny_asked(const struct np_build *b, uint32_t id)
{
	return id < KILO_POLICY_MAX_RULE_IDS && (b->denies_asked[id / 8] & (1u << (id % 8)));
}

/* Asks for the endpoint's deny rule of direction, and lists its name, once per computation for each rule. */
static int ask_deny_rule(struct np_build *b, struct np_endpoint *e, int direction)
{
	uint32_t id = e->deny[direction];

	/* A cached id is its name's as long as every computation asked for the name. */
	if (id && deny_asked(b, id))
		return 0;
	if (!(id = kilo_np_names_get(&b->state->rules, e->deny_names[direction])))
		return -ENOMEM;
	e->deny[direction] = id;
	if (deny_asked(b, id) || id >= KILO_POLICY_MAX_RULE_IDS)
		return 0;
	b->denies_asked[id / 8] |= (uint8_t)(1u << (id % 8));
	return list_rule_name(b, id, e->deny_names[direction]);
}

/* The identities peer k of rule i of policy's direction matches, found once per computation. */
static const struct np_peer_match *peer_match(struct np_build *b, size_t policy, int direction, size_t rule, size_t k)
{
	const struct kilo_np_policy *p = &b->model->policies[policy];
	struct np_peer_match **slot = &b->matches[policy * 2 + direction], *m;
	size_t offset = 0, total = 0;

	for (size_t i = 0; i < p->n_rules[direction]; i++) {
		if (i < rule)
			offset += p->rules[direction][i].n_peers;
		total += p->rules[direction][i].n_peers;
	}
	if (!*slot && !(*slot = calloc(total + 1, sizeof(**slot))))
		return NULL;
	m = &(*slot)[offset + k];
	if (m->done)
		return m;
	m->identities = malloc((b->model->n_identities + 1) * sizeof(*m->identities));
	if (!m->identities)
		return NULL;
	for (size_t i = 0; i < b->model->n_identities; i++)
		if (kilo_np_peer_matches(&p->rules[direction][rule].peers[k], p, &b->model->identities[i]))
			m->identities[m->n++] = i;
	m->done = true;
	return m;
}

/* An ipBlock of a rule of the endpoint's direction, for its regions. */
struct block {
	const struct kilo_np_peer *peer;
	const struct kilo_np_rule *rule;
	uint32_t rule_id;
};

struct blocks {
	struct block *items;
	size_t n, cap;
};

static int add_rules(struct np_build *b, const struct kilo_np_pod *pod, uint32_t endpoint, size_t policy,
		     int direction, struct blocks *blocks)
{
	const struct kilo_np_policy *p = &b->model->policies[policy];
	const uint32_t *ids = rule_ids(b, policy, direction);
	int r;

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_rules[direction]; i++) {
		const struct kilo_np_rule *rule = &p->rules[direction][i];
		struct target t = { endpoint, direction, ids[i] };

		if (rule->n_peers == 0 && (r = add_any(b, &t, rule, pod)) < 0)
			return r;
		for (size_t k = 0; k < rule->n_peers; k++) {
			const struct np_peer_match *m;

			if (rule->peers[k].kind == KILO_NP_PEER_IPBLOCK) {
				if (kilo_array_reserve((void **)&blocks->items, &blocks->cap, blocks->n + 1,
						       sizeof(*blocks->items)) < 0)
					return -ENOMEM;
				blocks->items[blocks->n++] = (struct block){ &rule->peers[k], rule, ids[i] };
				continue;
			}
			if (!(m = peer_match(b, policy, direction, i, k)))
				return -ENOMEM;
			for (size_t j = 0; j < m->n; j++)
				if ((r = add_identity(b, &t, m->identities[j], rule, pod)) < 0)
					return r;
		}
	}
	return 0;
}

/* The prefixes that bound the ipBlocks' regions: every cidr and except. */
struct bound {
	struct kilo_cidr cidr;
	size_t region;
};

static bool inside(const struct kilo_cidr *inner, const struct kilo_cidr *outer)
{
	return inner->addr.family == outer->addr.family && inner->prefix >= outer->prefix &&
	       kilo_cidr_contains(outer, &inner->addr);
}

/* Whether the addresses whose longest bound is bound are in block (its cidr, none of its excepts). */
static bool covers(const struct block *block, const struct kilo_cidr *bound)
{
	if (!inside(bound, &block->peer->cidr))
		return false;
	for (size_t i = 0; i < block->peer->n_except; i++)
		if (inside(bound, &block->peer->except[i]))
			return false;
	return true;
}

static int add_cidr(struct np_build *b, uint32_t endpoint, int direction, const struct kilo_cidr *cidr, uint32_t region)
{
	struct kilo_np_desired_cidr *e;

	if (kilo_array_reserve((void **)&b->cidrs->items, &b->cidrs->cap, b->cidrs->n + 1, sizeof(*e)) < 0)
		return -ENOMEM;
	e = &b->cidrs->items[b->cidrs->n++];
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = KILO_POLICY_CIDR_KEY_FIXED_BITS + cidr->prefix;
	e->key.endpoint = endpoint;
	e->key.direction = (__u8)direction;
	memcpy(e->key.addr.bytes, cidr->addr.bytes, cidr->addr.family == 4 ? 4 : 16);
	e->key.family = cidr->addr.family == 4 ? AF_INET : AF_INET6;
	e->value.region = region;
	return 0;
}

/*
 * The ipBlocks of one endpoint and direction flattened: each bound is an
 * entry of kilo_policy_cidrs, and bounds covered by the same ipBlocks
 * share a region, whose rules are those ipBlocks' rules' ports.
 */
static int add_regions(struct np_build *b, const struct kilo_np_pod *pod, uint32_t endpoint, int direction,
		       const struct blocks *blocks)
{
	size_t n_bounds = 0, n_regions = 0;
	struct bound *bounds;
	bool *cover;
	int r = -ENOMEM;

	if (!blocks->n)
		return 0;
	for (size_t i = 0; i < blocks->n; i++)
		n_bounds += 1 + blocks->items[i].peer->n_except;
	bounds = calloc(n_bounds, sizeof(*bounds));
	cover = calloc(n_bounds * blocks->n, sizeof(*cover));
	if (!bounds || !cover)
		goto out;
	n_bounds = 0;
	for (size_t i = 0; i < blocks->n; i++) {
		bounds[n_bounds++].cidr = blocks->items[i].peer->cidr;
		for (size_t j = 0; j < blocks->items[i].peer->n_except; j++)
			bounds[n_bounds++].cidr = blocks->items[i].peer->except[j];
	}
	for (size_t i = 0; i < n_bounds; i++) {
		bool *row = &cover[i * blocks->n], any = false;

		for (size_t j = 0; j < blocks->n; j++)
			any |= row[j] = covers(&blocks->items[j], &bounds[i].cidr);
		/* The same ipBlocks as an earlier bound: its region. */
		bounds[i].region = 0;
		for (size_t k = 0; any && k < i && !bounds[i].region; k++)
			if (bounds[k].region && memcmp(&cover[k * blocks->n], row, blocks->n * sizeof(*row)) == 0)
				bounds[i].region = bounds[k].region;
		if (any && !bounds[i].region) {
			bounds[i].region = ++n_regions;
			for (size_t j = 0; j < blocks->n; j++) {
				struct target t = { endpoint, direction, blocks->items[j].rule_id };

				if (row[j] && (r = add_ports(b, &t, (uint32_t)bounds[i].region | KILO_POLICY_REGION_FLAG,
							      blocks->items[j].rule,
							      direction == KILO_POLICY_INGRESS ? pod : NULL)) < 0)
					goto out;
			}
		}
		if ((r = add_cidr(b, endpoint, direction, &bounds[i].cidr, (uint32_t)bounds[i].region)) < 0)
			goto out;
	}
	r = 0;
out:
	free(bounds);
	free(cover);
	return r;
}

/* The policies of namespace: a range of the model's, which are sorted by namespace. */
static void namespace_policies(const struct kilo_np_model *model, const char *ns, size_t *lo, size_t *hi)
{
	size_t a = 0, z = model->n_policies;

	while (a < z) {
		size_t mid = a + (z - a) / 2;

		if (strcmp(model->policies[mid].namespace, ns) < 0)
			a = mid + 1;
		else
			z = mid;
	}
	*lo = a;
	for (z = a; z < model->n_policies && strcmp(model->policies[z].namespace, ns) == 0; z++)
		;
	*hi = z;
}

/* The pod's part of what its entries depend on: its label set and number, addresses and ports. */
static uint64_t pod_hash(const struct np_build *b, const struct kilo_np_pod *pod)
{
	/* The label set by its hash, made with the model: 10,000 pods' sets are not hashed again. */
	uint64_t h = kilo_np_hash(KILO_NP_HASH_INIT, &b->model->identities[pod->identity].hash, sizeof(uint64_t));

	h = kilo_np_hash(h, &b->numbers[pod->identity], sizeof(b->numbers[0]));
	h = kilo_np_hash(h, pod->addrs, pod->n_addrs * sizeof(pod->addrs[0]));
	return kilo_np_hash(h, &pod->ports_hash, sizeof(pod->ports_hash));
}

/* The policies of the pod's namespace (b->ns), found once for a run of pods of one namespace, as the model's come. */
static void pod_policies(struct np_build *b, const struct kilo_np_pod *pod)
{
	const struct kilo_np_model *model = b->model;

	if (b->ns.name && strcmp(b->ns.name, pod->namespace) == 0)
		return;
	b->ns.name = pod->namespace;
	namespace_policies(model, pod->namespace, &b->ns.lo, &b->ns.hi);
	b->ns.hash = KILO_NP_HASH_INIT;
	for (size_t i = b->ns.lo; i < b->ns.hi; i++)
		b->ns.hash = kilo_np_hash(b->ns.hash, &model->policies[i].hash, sizeof(model->policies[i].hash));
}

/*
 * What the endpoint's entries depend on but the other identities: the
 * pod's (pod_hash, h) and the texts of the policies that select it per
 * direction. Its flags too; the policies of its namespace that select it
 * go to b->selected, for its entries, matched once.
 */
static uint64_t fingerprint(struct np_build *b, const struct kilo_np_pod *pod, uint64_t h, uint32_t *flags)
{
	*flags = 0;
	for (int direction = KILO_POLICY_INGRESS; direction <= KILO_POLICY_EGRESS; direction++) {
		h = kilo_np_hash(h, &direction, sizeof(direction));
		b->n_selected[direction] = 0;
		for (size_t i = b->ns.lo; i < b->ns.hi; i++) {
			const struct kilo_np_policy *p = &b->model->policies[i];

			if (!p->types[direction] || !kilo_np_policy_selects(p, pod, b->model))
				continue;
			*flags |= direction == KILO_POLICY_INGRESS ? KILO_POLICY_ENFORCE_INGRESS : KILO_POLICY_ENFORCE_EGRESS;
			h = kilo_np_hash(h, &p->hash, sizeof(p->hash));
			b->selected[direction][b->n_selected[direction]++] = i;
		}
	}
	return h;
}

/* The endpoint's entries made from scratch into e, from the policies that select it (b->selected). */
static int make_endpoint(struct np_build *b, const struct kilo_np_pod *pod, struct np_endpoint *e)
{
	int r = 0;

	b->rules = &e->rules;
	b->cidrs = &e->cidrs;
	for (int direction = KILO_POLICY_INGRESS; direction <= KILO_POLICY_EGRESS; direction++)
		if (b->n_selected[direction] && !(e->deny_names[direction] = deny_name(b, direction)))
			return -ENOMEM;
	for (int direction = KILO_POLICY_INGRESS; direction <= KILO_POLICY_EGRESS && r == 0; direction++) {
		struct blocks blocks = { 0 };

		for (size_t k = 0; k < b->n_selected[direction] && r == 0; k++)
			r = add_rules(b, pod, e->id, b->selected[direction][k], direction, &blocks);
		if (r == 0)
			r = add_regions(b, pod, e->id, direction, &blocks);
		free(blocks.items);
	}
	kilo_np_rules_settle(&e->rules);
	kilo_np_cidrs_settle(&e->cidrs);
	return r;
}

/* What the identities new since the last computation add to a rule of the endpoint. */
static int add_new_identities(struct np_build *b, const struct kilo_np_pod *pod, const struct kilo_np_policy *p,
			      const struct kilo_np_rule *rule, const struct target *t)
{
	int r;

	for (size_t a = 0; a < b->n_added; a++) {
		size_t identity = b->added[a];

		if (rule->n_peers == 0 && t->direction == KILO_POLICY_EGRESS && has_named_port(rule)) {
			for (size_t i = b->first[identity]; i < b->first[identity + 1]; i++)
				for (size_t j = 0; j < rule->n_ports; j++)
					if (rule->ports[j].name &&
					    (r = add_port(b, t, b->numbers[identity], &rule->ports[j],
							  &b->model->pods[b->pods_of[i]])) < 0)
						return r;
		}
		for (size_t k = 0; k < rule->n_peers; k++)
			if (rule->peers[k].kind != KILO_NP_PEER_IPBLOCK &&
			    kilo_np_peer_matches(&rule->peers[k], p, &b->model->identities[identity]) &&
			    (r = add_identity(b, t, identity, rule, pod)) < 0)
				return r;
	}
	return 0;
}

/* The endpoint's cached entries brought up to date with the identities that came and went (b->selected's). */
static int update_endpoint(struct np_build *b, const struct kilo_np_pod *pod, struct np_endpoint *e)
{
	struct np_rules changes = { 0 };
	int r = 0;

	b->rules = &changes;
	for (int direction = KILO_POLICY_INGRESS; direction <= KILO_POLICY_EGRESS && r == 0; direction++) {
		for (size_t s = 0; s < b->n_selected[direction] && r == 0; s++) {
			size_t i = b->selected[direction][s];
			const struct kilo_np_policy *p = &b->model->policies[i];
			const uint32_t *ids;

			/* Asked for even when nothing changes: the rules keep their ids, and their names are listed. */
			if (!(ids = rule_ids(b, i, direction)))
				r = -ENOMEM;
			for (size_t k = 0; r == 0 && k < p->n_rules[direction]; k++) {
				struct target t = { e->id, direction, ids[k] };

				r = add_new_identities(b, pod, p, &p->rules[direction][k], &t);
			}
		}
	}
	if (r == 0 && (r = kilo_np_rules_update(&e->rules, b->removed, b->n_removed, &changes)) >= 0) {
		e->changed = r > 0;
		r = 0;
	}
	free(changes.items);
	return r;
}

/* The policies that select the endpoint (b->selected) as the last computation found them. */
static void recall_selected(struct np_build *b, const struct np_endpoint *e)
{
	const uint32_t *at = e->selected;

	for (int direction = KILO_POLICY_INGRESS; direction <= KILO_POLICY_EGRESS; direction++) {
		b->n_selected[direction] = e->n_selected[direction];
		for (size_t k = 0; k < e->n_selected[direction]; k++)
			b->selected[direction][k] = b->ns.lo + *at++;
	}
}

/* Keeps the policies that select the endpoint (b->selected) with what they were found from, inputs. -ENOMEM. */
static int remember_selected(const struct np_build *b, struct np_endpoint *e, uint64_t inputs)
{
	uint32_t *at = realloc(e->selected, (b->n_selected[0] + b->n_selected[1] + 1) * sizeof(*at));

	if (!at)
		return -ENOMEM;
	e->selected = at;
	for (int direction = KILO_POLICY_INGRESS; direction <= KILO_POLICY_EGRESS; direction++) {
		e->n_selected[direction] = (uint32_t)b->n_selected[direction];
		for (size_t k = 0; k < b->n_selected[direction]; k++)
			*at++ = (uint32_t)(b->selected[direction][k] - b->ns.lo);
	}
	e->inputs = inputs;
	e->has_inputs = true;
	return 0;
}

static int add_endpoint(struct np_build *b, const struct kilo_np_pod *pod)
{
	struct kilo_np_state *state = b->state;
	struct np_endpoint *e;
	char name[600];
	uint32_t endpoint, flags;
	uint64_t print, h, inputs;
	bool recalled;
	int r;

	snprintf(name, sizeof(name), "%s/%s", pod->namespace, pod->name);
	if (!(endpoint = kilo_np_names_get(&state->endpoints, name)))
		return -ENOMEM;
	pod_policies(b, pod);
	h = pod_hash(b, pod);
	inputs = kilo_np_hash(h, &b->ns.hash, sizeof(b->ns.hash));
	e = kilo_np_cache_find(state, endpoint);
	/* The pod and its namespace's policies as last time: so are the policies that select it, and its fingerprint. */
	recalled = e && e->has_inputs && e->inputs == inputs;
	if (recalled) {
		recall_selected(b, e);
		flags = e->flags;
		print = e->fingerprint;
	} else {
		print = fingerprint(b, pod, h, &flags);
	}
	if (e && e->fingerprint == print) {
		e->generation = state->generation;
		r = update_endpoint(b, pod, e);
	} else {
		if (e) {
			kilo_np_endpoint_release(e);
			*e = (struct np_endpoint){ .id = endpoint, .generation = state->generation };
		} else if (!(e = kilo_np_cache_add(state, endpoint))) {
			return -ENOMEM;
		}
		e->fingerprint = print;
		e->changed = true;
		r = make_endpoint(b, pod, e);
	}
	if (r < 0 || (!recalled && (r = remember_selected(b, e, inputs)) < 0))
		return r;
	e->flags = flags;
	for (int direction = KILO_POLICY_INGRESS; direction <= KILO_POLICY_EGRESS; direction++)
		if (e->deny_names[direction] && (r = ask_deny_rule(b, e, direction)) < 0)
			return r;
	for (size_t i = 0; i < pod->n_addrs; i++) {
		struct kilo_np_desired_endpoint *entry;

		if (kilo_array_reserve((void **)&b->out->endpoints, &b->cap_endpoints, b->out->n_endpoints + 1,
				       sizeof(*entry)) < 0)
			return -ENOMEM;
		entry = &b->out->endpoints[b->out->n_endpoints++];
		memset(entry, 0, sizeof(*entry));
		memcpy(entry->key.addr.bytes, pod->addrs[i].bytes, pod->addrs[i].family == 4 ? 4 : 16);
		entry->key.family = pod->addrs[i].family == 4 ? AF_INET : AF_INET6;
		entry->value.id = endpoint;
		entry->value.identity = b->numbers[pod->identity];
		entry->value.flags = flags;
		memcpy(entry->value.deny_rule, e->deny, sizeof(e->deny));
	}
	return 0;
}

int kilo_np_build_endpoints(struct np_build *b)
{
	const struct kilo_np_model *model = b->model;
	int r;

	b->rule_ids = calloc(model->n_policies * 2 + 1, sizeof(*b->rule_ids));
	b->matches = calloc(model->n_policies * 2 + 1, sizeof(*b->matches));
	b->selected[KILO_POLICY_INGRESS] = malloc((model->n_policies + 1) * sizeof(*b->selected[0]));
	b->selected[KILO_POLICY_EGRESS] = malloc((model->n_policies + 1) * sizeof(*b->selected[0]));
	b->denies_asked = calloc(KILO_POLICY_MAX_RULE_IDS / 8, 1);
	if (!b->rule_ids || !b->matches || !b->selected[KILO_POLICY_INGRESS] || !b->selected[KILO_POLICY_EGRESS] ||
	    !b->denies_asked)
		return -ENOMEM;
	for (size_t i = 0; i < model->n_pods; i++) {
		const struct kilo_np_pod *pod = &model->pods[i];

		if (strcmp(pod->node, b->self) != 0 || pod->identity == KILO_NP_NO_IDENTITY || !b->numbers[pod->identity])
			continue;
		if ((r = add_endpoint(b, pod)) < 0)
			return r;
	}
	return 0;
}

void kilo_np_build_release(struct np_build *b)
{
	const struct kilo_np_model *model = b->model;

	for (size_t i = 0; b->matches && i < model->n_policies * 2; i++) {
		const struct kilo_np_policy *p = &model->policies[i / 2];
		size_t total = 0;

		for (size_t j = 0; j < p->n_rules[i % 2]; j++)
			total += p->rules[i % 2][j].n_peers;
		for (size_t j = 0; b->matches[i] && j < total; j++)
			free(b->matches[i][j].identities);
		free(b->matches[i]);
	}
	for (size_t i = 0; b->rule_ids && i < model->n_policies * 2; i++)
		free(b->rule_ids[i]);
	free(b->matches);
	free(b->rule_ids);
	free(b->denies_asked);
	free(b->selected[KILO_POLICY_INGRESS]);
	free(b->selected[KILO_POLICY_EGRESS]);
	free(b->numbers);
	free(b->ports_hashes);
	free(b->removed);
	free(b->added);
	free(b->pods_of);
	free(b->first);
}

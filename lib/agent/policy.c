// SPDX-License-Identifier: Apache-2.0
/*
 * Network policy's part of the agent: on with --bpf, it names the flows
 * the programs report and keeps them for /flows and /metrics.
 */
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/error.h"
#include "../policy/netpol.h"
#include "../store/store.h"

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int on_event(void *ctx, const struct kilo_flow_event *event)
{
	kilo_agent_policy_event(ctx, event);
	return 0;
}

int kilo_agent_policy_start(struct kilo_agent_policy *p, const struct kilo_agent_lb *lb, const char *node,
			    const struct kilo_logger *log, struct kilo_error *err)
{
	struct kilo_error why = { 0 };

	*p = (struct kilo_agent_policy){ .node = node, .bpf = lb->bpf };
	if (!lb->bpf)
		return 0;
	if (kilo_flow_ring_init(&p->flows, 0) < 0)
		return kilo_error_set(err, ENOMEM, "flows: out of memory");
	p->on = true;
	/* Policy is enforced without them: flows are what an operator looks at, not what forwards. */
	if (kilo_bpf_events_open(lb->bpf, on_event, p, &p->events, &why) < 0)
		kilo_log(log, KILO_LOG_WARNING, "bpf: no flows: %s", why.message);
	return 0;
}

int kilo_agent_policy_fd(const struct kilo_agent_policy *p)
{
	return p->events ? kilo_bpf_events_fd(p->events) : -1;
}

int kilo_agent_policy_step(struct kilo_agent_policy *p, struct kilo_error *err)
{
	int r = p->events ? kilo_bpf_events_consume(p->events, err) : 0;

	return r < 0 ? r : 0;
}

void kilo_agent_policy_event(struct kilo_agent_policy *p, const struct kilo_flow_event *event)
{
	/* Read once per event rather than once at start: the wall clock may be stepped meanwhile. */
	int64_t now_mono = clock_ns(CLOCK_MONOTONIC), now_real = clock_ns(CLOCK_REALTIME);

	if (!p->on)
		return;
	p->mono_to_real_ns = now_real - now_mono;
	/* Out of memory: counted, not kept; the next event tries again. */
	kilo_flow_ring_add(&p->flows, event, (int64_t)event->time_ns + p->mono_to_real_ns, p->node, p->names);
}

/* What a sync computes from, but the store's listings' texts and identities (kept whole): the mesh's nodes and peers. */
static void inputs_digest(const struct kilo_agent_policy_inputs *in, const char *self,
			  unsigned char out[KILO_AGENT_LB_DIGEST])
{
	const struct kilo_mesh *mesh = in->mesh;
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, KILO_AGENT_LB_DIGEST);
	kilo_agent_hash_text(&st, self);
	for (size_t i = 0; mesh && i < mesh->n_nodes; i++) {
		const struct kilo_node *n = &mesh->nodes[i];

		kilo_agent_hash_text(&st, n->name);
		kilo_agent_hash_text(&st, n->location);
		kilo_agent_hash_cidr(&st, &n->internal_ip);
		kilo_agent_hash_cidr(&st, &n->secondary_internal_ip);
		kilo_agent_hash_cidr(&st, &n->wireguard_ip);
		kilo_agent_hash_cidr(&st, &n->pod_cidr);
		kilo_agent_hash_cidr(&st, &n->secondary_pod_cidr);
	}
	for (size_t i = 0; mesh && i < mesh->n_peers; i++) {
		kilo_agent_hash_text(&st, mesh->peers[i].name);
		for (size_t j = 0; j < mesh->peers[i].n_allowed_ips; j++)
			kilo_agent_hash_cidr(&st, &mesh->peers[i].allowed_ips[j]);
	}
	crypto_generichash_final(&st, out, KILO_AGENT_LB_DIGEST);
}

#define N_TEXTS (sizeof(((struct kilo_agent_policy *)0)->texts) / sizeof(((struct kilo_agent_policy *)0)->texts[0]))

/* The store's listings a sync reads, in p->texts' order. */
static const char *const listed_kinds[] = { "Pod", "Namespace", "NetworkPolicy", "Peer", "Service" };
enum { PODS, NAMESPACES, POLICIES, PEERS, SERVICES };

_Static_assert(sizeof(listed_kinds) / sizeof(listed_kinds[0]) == N_TEXTS, "a kept text per listing");

/*
 * The store's listings as texts[i] (NULL: the kept one, which the store's
 * stamp says is the same), listed[i] saying what each shares with it.
 */
static int list_texts(struct kilo_agent_policy *p, kilo_store *store, char *texts[N_TEXTS],
		      struct kilo_store_since listed[N_TEXTS], struct kilo_error *err)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < N_TEXTS; i++) {
		listed[i] = (struct kilo_store_since){ .stamp = p->texts[i].text ? p->texts[i].stamp : 0 };
		r = kilo_store_list_objects_since(store, listed_kinds[i], &listed[i], &texts[i], err);
		r = r == 1 ? 0 : r;
	}
	return r;
}

/* The text of listing i this sync reads: listed, or kept. */
static const char *text_of(const struct kilo_agent_policy *p, char *const texts[N_TEXTS], size_t i)
{
	return texts[i] ? texts[i] : p->texts[i].text;
}

/* The store's stamp of the text of listing i this sync reads. */
static uint64_t stamp_of(const struct kilo_agent_policy *p, char *const texts[N_TEXTS],
			 const struct kilo_store_since listed[N_TEXTS], size_t i)
{
	return texts[i] ? listed[i].stamp : p->texts[i].stamp;
}

/*
 * The text of listing i for the model, with its length, its stamp and what
 * it shares with the text the last sync read (the kept one: all of it).
 */
static struct kilo_np_text model_text_of(const struct kilo_agent_policy *p, char *const texts[N_TEXTS],
					 const struct kilo_store_since listed[N_TEXTS], size_t i)
{
	const struct kilo_agent_policy_text *kept = &p->texts[i];
	uint64_t stamp = stamp_of(p, texts, listed, i);

	if (!texts[i])
		return (struct kilo_np_text){ kept->text, kept->len, stamp, stamp, kept->len, 0 };
	return (struct kilo_np_text){ texts[i], listed[i].len, stamp, kept->text ? kept->stamp : 0, listed[i].prefix,
				      listed[i].suffix };
}

/*
 * Whether the texts listed are those the last sync computed from: only the
 * part the store does not say is the same is compared.
 */
static bool same_texts(const struct kilo_agent_policy *p, char *const texts[N_TEXTS],
		       const struct kilo_store_since listed[N_TEXTS])
{
	for (size_t i = 0; i < N_TEXTS; i++) {
		const struct kilo_agent_policy_text *kept = &p->texts[i];
		size_t from = listed[i].prefix, to;

		if (!texts[i])
			continue;
		if (!kept->text || listed[i].len != kept->len)
			return false;
		to = kept->len - listed[i].suffix;
		if (from < to && memcmp(texts[i] + from, kept->text + from, to - from) != 0)
			return false;
	}
	return true;
}

/*
 * Takes the texts listed for the next sync to compare with (megabytes of
 * pods: kept, not copied), or only their stamps when they are the same;
 * leaves texts NULL.
 */
static void keep_texts(struct kilo_agent_policy *p, char *texts[N_TEXTS], const struct kilo_store_since listed[N_TEXTS],
		       bool same)
{
	for (size_t i = 0; i < N_TEXTS; i++) {
		if (!texts[i])
			continue;
		if (!same) {
			kilo_free(p->texts[i].text);
			p->texts[i].text = texts[i];
			p->texts[i].len = listed[i].len;
			texts[i] = NULL;
		}
		p->texts[i].stamp = listed[i].stamp;
	}
}

/*
 * The names of flows after this sync: the store's objects, identities and
 * rules; the Services' (their text's stamp services_stamp, 0: not known)
 * taken from the last names when those were built from the same text.
 */
static int rename_flows(struct kilo_agent_policy *p, const struct kilo_agent_policy_inputs *in, const char *services,
			uint64_t services_stamp, const struct kilo_np_model *model, const struct kilo_np_desired *desired,
			struct kilo_error *err)
{
	const struct kilo_agent_policy_identities *stored = in->identities;
	struct kilo_flow_identity *identities = NULL;
	struct kilo_flow_names *names = NULL;

	if (stored->n && !(identities = calloc(stored->n, sizeof(*identities))))
		return kilo_error_set(err, ENOMEM, "flows: out of memory");
	for (size_t i = 0; i < stored->n; i++)
		identities[i] = (struct kilo_flow_identity){ .identity = stored->items[i].id,
							     .labels = stored->items[i].labels };
	if (kilo_flow_names_build(&(struct kilo_flow_names_inputs){ .model = model,
								    .pods = in->texts.pods.text,
								    .services = services,
								    .mesh = in->mesh,
								    .policy = desired,
								    .identities = identities,
								    .n_identities = stored->n,
								    .last = p->names,
								    .services_as_last = services_stamp &&
											services_stamp == p->names_services },
				  &names) < 0) {
		free(identities);
		return kilo_error_set(err, ENOMEM, "flows: out of memory naming them");
	}
	free(identities);
	kilo_flow_names_free(p->names);
	p->names = names;
	p->names_services = services_stamp;
	return 0;
}

int kilo_agent_policy_sync(struct kilo_agent_policy *p, kilo_store *store, const struct kilo_mesh *mesh, bool resync,
			   const struct kilo_logger *log, struct kilo_error *err)
{
	struct kilo_agent_policy_inputs in = { .store = store, .mesh = mesh, .resync = resync, .identities = &p->identities };
	struct kilo_store_identity *stored = NULL;
	uint64_t stamp = p->identities.stamp;
	size_t n_stored = 0;
	bool identities_changed = false;
	struct kilo_np_desired desired = { 0 };
	struct kilo_np_model model = { 0 };
	unsigned char d[KILO_AGENT_LB_DIGEST];
	char *texts[N_TEXTS] = { 0 };
	struct kilo_store_since listed[N_TEXTS];
	int r, named;

	if (!p->on)
		return 0;
	r = list_texts(p, store, texts, listed, err);
	if (r == 0)
		r = kilo_store_identity_list_since(store, &stamp, &stored, &n_stored, err);
	/* 1: the store's identities are those kept, unchanged since they were listed. */
	if (r == 1)
		r = 0;
	else if (r == 0 && kilo_agent_policy_identities_take(&p->identities, stored, n_stored, &identities_changed) < 0)
		r = kilo_error_set(err, ENOMEM, "policy: out of memory");
	else if (r == 0)
		p->identities.stamp = stamp;
	if (r < 0)
		goto out;
	in.texts = (struct kilo_np_texts){ model_text_of(p, texts, listed, PODS), model_text_of(p, texts, listed, NAMESPACES),
					   model_text_of(p, texts, listed, POLICIES), model_text_of(p, texts, listed, PEERS) };
	inputs_digest(&in, p->node, d);
	/* Nothing the maps or the names depend on changed, and no resync asks to compare them with the kernel's. */
	if (!resync && p->synced && !identities_changed && memcmp(d, p->inputs, sizeof(d)) == 0 &&
	    same_texts(p, texts, listed)) {
		keep_texts(p, texts, listed, true);
		goto out;
	}
	r = kilo_agent_policy_enforce(p, &in, log, &model, &desired, err);
	/* Flows are named also when the maps could not be written: they still come (pods from the text if unread). */
	named = rename_flows(p, &in, text_of(p, texts, SERVICES), stamp_of(p, texts, listed, SERVICES),
			     model.pods || !in.texts.pods.text ? &model : NULL, &desired, r == 0 ? err : NULL);
	if (r == 0) {
		memcpy(p->inputs, d, sizeof(d));
		keep_texts(p, texts, listed, false);
	}
	if (named < 0 && r == 0)
		r = -ENOMEM;
	kilo_np_desired_release(&desired);
	kilo_np_model_release(&model);
out:
	for (size_t i = 0; i < N_TEXTS; i++)
		kilo_free(texts[i]);
	return r;
}

int kilo_agent_bpf_sync(struct kilo_agent_lb *lb, struct kilo_agent_policy *p, kilo_store *store,
			const struct kilo_mesh *mesh, bool resync, const struct kilo_logger *log, struct kilo_error *err)
{
	int r = kilo_agent_lb_sync(lb, store, mesh, p->node, resync, log, err);
	int s = kilo_agent_policy_sync(p, store, mesh, resync, log, r < 0 ? NULL : err);

	return r < 0 ? r : s;
}

int kilo_agent_bpf_step(struct kilo_agent_lb *lb, struct kilo_agent_policy *p, struct kilo_error *err)
{
	int r = kilo_agent_lb_step(lb, err);
	int s = kilo_agent_policy_step(p, r < 0 ? NULL : err);

	return r < 0 ? r : s;
}

int kilo_agent_policy_flows(const struct kilo_agent_policy *p, uint64_t after, const struct kilo_flow_filter *filter,
			    char **out, uint64_t *next, struct kilo_error *err)
{
	struct kilo_strbuf sb = { 0 };
	uint64_t lost = 0;

	*next = after;
	kilo_strbuf_append(&sb, "");
	if (p->on) {
		struct kilo_strbuf page = { 0 };

		kilo_flow_ring_read(&p->flows, after, filter, KILO_FLOW_PAGE_MAX, &page, next, &lost);
		if (lost)
			kilo_strbuf_printf(&sb, "{\"lost\":%llu}\n", (unsigned long long)lost);
		if (page.len)
			kilo_strbuf_append_len(&sb, page.data, page.len);
		sb.failed |= page.failed;
		kilo_strbuf_reset(&page);
	}
	return kilo_strbuf_finish_named(&sb, out, "flows", err);
}

/*
 * The datapath's own per-rule counters: every packet a rule let in or out
 * (of new flows; established ones pass by conntrack) and every packet a
 * default deny dropped, where the flow events are rate-limited.
 */
static void rule_counters(const struct kilo_agent_policy *p, struct kilo_strbuf *sb)
{
	size_t n = kilo_flow_names_n_rules(p->names) + 1;
	struct kilo_lb_counter_value *values = calloc(n, sizeof(*values));
	uint32_t *ids = calloc(n, sizeof(*ids));

	for (size_t i = 1; ids && i < n; i++)
		ids[i] = kilo_flow_names_rule_id(p->names, i - 1);
	if (values && ids && kilo_bpf_policy_rule_counters(p->bpf, ids, n, values, NULL) == 0) {
		kilo_strbuf_append(sb, "# HELP kilo_policy_rule_packets_total Packets of new flows each rule allowed, "
				       "or each pod's default deny dropped (rule_id 0: one an older kg wrote).\n"
				       "# TYPE kilo_policy_rule_packets_total counter\n");
		for (size_t i = 0; i < n; i++) {
			kilo_strbuf_append(sb, "kilo_policy_rule_packets_total{");
			kilo_flow_rule_labels(sb, ids[i], kilo_flow_names_rule(p->names, ids[i]));
			kilo_strbuf_printf(sb, "} %llu\n", (unsigned long long)values[i].packets);
		}
	}
	free(values);
	free(ids);
}

void kilo_agent_policy_metrics(const struct kilo_agent_policy *p, struct kilo_strbuf *sb)
{
	if (!p->on)
		return;
	kilo_flow_ring_metrics(&p->flows, p->names, sb);
	rule_counters(p, sb);
}

void kilo_agent_policy_stop(struct kilo_agent_policy *p)
{
	kilo_bpf_events_close(p->events);
	if (p->on)
		kilo_flow_ring_release(&p->flows);
	kilo_flow_names_free(p->names);
	kilo_np_state_free(p->state);
	kilo_agent_policy_identities_release(&p->identities);
	for (size_t i = 0; i < N_TEXTS; i++)
		kilo_free(p->texts[i].text);
	*p = (struct kilo_agent_policy){ 0 };
}

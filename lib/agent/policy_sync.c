// SPDX-License-Identifier: Apache-2.0
/*
 * Network policy enforced: at each store change, the store's Pods,
 * Namespaces, NetworkPolicies and Peers with the mesh become the policy
 * layer's model; every label set in it gets the store's number (allocated
 * when new, the same on every node); the model compiles for this node and
 * the loader writes the maps by difference. As the load balancer's sync,
 * it is computed only when what it reads changed, or at a resync, which
 * also reads the maps back and frees the identities no pod or peer uses.
 */
#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../policy/netpol.h"

/*
 * An identity no label set uses is freed only this old: another node may
 * have allocated it for a pod this node's view of the store lacks yet.
 */
#define IDENTITY_MIN_AGE_S 300

static int cmp_stored_labels(const void *a, const void *b)
{
	return strcmp((*(const struct kilo_store_identity *const *)a)->labels,
		      (*(const struct kilo_store_identity *const *)b)->labels);
}

void kilo_agent_policy_identities_release(struct kilo_agent_policy_identities *kept)
{
	kilo_store_identities_free(kept->items, kept->n);
	free(kept->by_labels);
	*kept = (struct kilo_agent_policy_identities){ 0 };
}

static bool same_identities(const struct kilo_agent_policy_identities *kept, const struct kilo_store_identity *listed,
			    size_t n)
{
	if (!kept->items || n != kept->n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (listed[i].id != kept->items[i].id || listed[i].created != kept->items[i].created ||
		    strcmp(listed[i].labels, kept->items[i].labels) != 0)
			return false;
	return true;
}

int kilo_agent_policy_identities_take(struct kilo_agent_policy_identities *kept, struct kilo_store_identity *listed,
				      size_t n, bool *changed)
{
	const struct kilo_store_identity **by_labels = NULL;

	*changed = !same_identities(kept, listed, n);
	if (!*changed) {
		kilo_store_identities_free(listed, n);
		return 0;
	}
	kilo_agent_policy_identities_release(kept);
	if (!(by_labels = malloc((n + 1) * sizeof(*by_labels)))) {
		kilo_store_identities_free(listed, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		by_labels[i] = &listed[i];
	if (n)
		qsort(by_labels, n, sizeof(*by_labels), cmp_stored_labels);
	*kept = (struct kilo_agent_policy_identities){ .items = listed, .n = n, .by_labels = by_labels };
	return 0;
}

/*
 * The number of every label set of model, in its order (by label set):
 * from the store's list, else allocated now. ids[i].label_set points into
 * model.
 */
static int number_identities(kilo_store *store, const struct kilo_np_model *model,
			     const struct kilo_agent_policy_identities *stored, struct kilo_np_identity_number *ids,
			     size_t *allocated, struct kilo_error *err)
{
	const struct kilo_store_identity *const *by_labels = stored->by_labels;
	size_t n_stored = stored->n;
	int r = 0;

	*allocated = 0;
	for (size_t i = 0, j = 0; r == 0 && i < model->n_identities; i++) {
		const char *labels = model->identities[i].label_set;
		int c = 1;

		/* Both sorted by label set: one merge pass. */
		while (j < n_stored && (c = strcmp(by_labels[j]->labels, labels)) < 0)
			j++;
		ids[i].label_set = labels;
		if (j < n_stored && c == 0) {
			ids[i].identity = by_labels[j]->id;
			continue;
		}
		r = kilo_store_identity_allocate(store, labels, &ids[i].identity, err);
		*allocated += r == 0;
	}
	return r;
}

static void log_policy_sync(const struct kilo_logger *log, const struct kilo_bpf_policy_sync_report *s,
			    size_t allocated)
{
	const struct kilo_bpf_changes *all[] = { &s->ipcache, &s->endpoints, &s->rules, &s->cidrs };
	unsigned changes = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		changes += all[i]->added + all[i]->changed + all[i]->removed;
	if (allocated)
		kilo_log(log, KILO_LOG_DEBUG, "bpf: %zu new identit%s allocated", allocated, allocated == 1 ? "y" : "ies");
	if (changes == 0)
		return;
	kilo_log(log, KILO_LOG_DEBUG,
		 "bpf: policy maps synced (added/changed/removed): ipcache %u/%u/%u, endpoints %u/%u/%u, "
		 "rules %u/%u/%u, ipBlock regions %u/%u/%u",
		 s->ipcache.added, s->ipcache.changed, s->ipcache.removed, s->endpoints.added, s->endpoints.changed,
		 s->endpoints.removed, s->rules.added, s->rules.changed, s->rules.removed, s->cidrs.added,
		 s->cidrs.changed, s->cidrs.removed);
}

/* Frees the identities that no label set of model uses (and that are old enough); at resyncs only. */
static int release_unused(kilo_store *store, const struct kilo_np_model *model, const struct kilo_logger *log,
			  struct kilo_error *err)
{
	const char **in_use = model->n_identities ? malloc(model->n_identities * sizeof(*in_use)) : NULL;
	size_t released = 0;
	int r;

	if (model->n_identities && !in_use)
		return kilo_error_set(err, ENOMEM, "policy: out of memory");
	for (size_t i = 0; i < model->n_identities; i++)
		in_use[i] = model->identities[i].label_set;
	r = kilo_store_identities_release_unused(store, in_use, model->n_identities, IDENTITY_MIN_AGE_S, &released,
						 err);
	free(in_use);
	if (r == 0 && released)
		kilo_log(log, KILO_LOG_DEBUG, "bpf: %zu unused identit%s released", released, released == 1 ? "y" : "ies");
	return r;
}

int kilo_agent_policy_enforce(struct kilo_agent_policy *p, const struct kilo_agent_policy_inputs *in,
			      const struct kilo_logger *log, struct kilo_np_model *model, struct kilo_np_desired *out,
			      struct kilo_error *err)
{
	struct kilo_np_identity_number *ids = NULL;
	struct kilo_bpf_policy_sync_report synced;
	struct kilo_lb_report report = { 0 };
	size_t allocated = 0;
	int r;

	*out = (struct kilo_np_desired){ 0 };
	*model = (struct kilo_np_model){ 0 };
	if (!p->state && !(p->state = kilo_np_state_new()))
		return kilo_error_set(err, ENOMEM, "policy: out of memory");
	/* Through the state's cache: the objects whose text did not change are not parsed again. */
	r = kilo_np_model_update_texts(p->state, &in->texts, in->mesh, model, &report, err);
	if (r == 0 && model->n_identities && !(ids = calloc(model->n_identities, sizeof(*ids))))
		r = kilo_error_set(err, ENOMEM, "policy: out of memory");
	if (r == 0)
		r = number_identities(in->store, model, in->identities, ids, &allocated, err);
	if (r == 0)
		r = kilo_np_compile(p->state, model, p->node, ids, model->n_identities, out, &report, err);
	if (r == 0)
		r = kilo_bpf_policy_sync_taking(p->bpf, out, in->resync || !p->synced, &synced, err);
	p->synced = r == 0;
	if (r == 0) {
		log_policy_sync(log, &synced, allocated);
		kilo_agent_log_problems(p->problems, "network policy", log, &report);
	}
	/* Not fatal: the maps are as they were; the next resync tries again. */
	if (r == 0 && in->resync)
		r = release_unused(in->store, model, log, err);
	free(ids);
	return r;
}

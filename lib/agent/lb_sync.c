// SPDX-License-Identifier: Apache-2.0
/*
 * The maps kept equal to the store's Services and EndpointSlices: computed
 * by lib/policy for this node, written by lib/bpf by difference. Computed
 * only when what it reads changed (the objects' text, the nodes' names,
 * locations and internal IPs) or at a resync, which also reads the maps
 * back. Between them a sync lists nothing while the store's stamps of both
 * kinds are those of the texts last computed from (10,000 Services and
 * their slices are megabytes to put together and hash at every change of
 * a pod).
 */
#include "lb.h"

#include <errno.h>
#include <string.h>

#include "../core/error.h"
#include "../mesh/model.h"
#include "../policy/services.h"
#include "../store/store.h"

void kilo_agent_hash_text(crypto_generichash_state *st, const char *text)
{
	/* The NUL separates one item from the next. */
	crypto_generichash_update(st, (const unsigned char *)(text ? text : ""), strlen(text ? text : "") + 1);
}

void kilo_agent_hash_cidr(crypto_generichash_state *st, const struct kilo_cidr *cidr)
{
	char text[KILO_CIDR_STRLEN] = "";

	if (cidr->addr.family)
		kilo_cidr_format(cidr, text);
	kilo_agent_hash_text(st, text);
}

/* What the computation reads of the mesh: this node, and every node's location and internal IPs. */
static void mesh_digest(const struct kilo_mesh *mesh, const char *self, unsigned char out[KILO_AGENT_LB_DIGEST])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, KILO_AGENT_LB_DIGEST);
	kilo_agent_hash_text(&st, self);
	for (size_t i = 0; mesh && i < mesh->n_nodes; i++) {
		kilo_agent_hash_text(&st, mesh->nodes[i].name);
		kilo_agent_hash_text(&st, mesh->nodes[i].location);
		kilo_agent_hash_cidr(&st, &mesh->nodes[i].internal_ip);
		kilo_agent_hash_cidr(&st, &mesh->nodes[i].secondary_internal_ip);
	}
	crypto_generichash_final(&st, out, KILO_AGENT_LB_DIGEST);
}

/* All the computation reads: the objects' texts and the mesh's digest. */
static void inputs_digest(const char *services, const char *slices, const unsigned char mesh[KILO_AGENT_LB_DIGEST],
			  unsigned char out[KILO_AGENT_LB_DIGEST])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, KILO_AGENT_LB_DIGEST);
	kilo_agent_hash_text(&st, services);
	kilo_agent_hash_text(&st, slices);
	crypto_generichash_update(&st, mesh, KILO_AGENT_LB_DIGEST);
	crypto_generichash_final(&st, out, KILO_AGENT_LB_DIGEST);
}

/*
 * The Services' and EndpointSlices' texts, or 1 when unchanged may be
 * told and both are those of lb's stamps (nothing listed); stamps gets
 * theirs (0: the store keeps no stamp).
 */
static int list_inputs(const struct kilo_agent_lb *lb, kilo_store *store, bool unchanged_told, char **services,
		       char **slices, uint64_t stamps[2], struct kilo_error *err)
{
	struct kilo_store_since since[2] = { { .stamp = lb->stamps[0] }, { .stamp = lb->stamps[1] } };
	int r = kilo_store_list_objects_since(store, "Service", &since[0], services, err), q;

	if (r < 0 || (q = kilo_store_list_objects_since(store, "EndpointSlice", &since[1], slices, err)) < 0)
		return r < 0 ? r : q;
	stamps[0] = since[0].stamp;
	stamps[1] = since[1].stamp;
	if (r == 1 && q == 1 && unchanged_told)
		return 1;
	/* The computation needs both: one unchanged is read whole. */
	if (r == 1 && (r = kilo_store_list_objects(store, "Service", services, err)) < 0)
		return r;
	if (q == 1 && (q = kilo_store_list_objects(store, "EndpointSlice", slices, err)) < 0)
		return q;
	return 0;
}

static unsigned changes(const struct kilo_bpf_changes *c)
{
	return c->added + c->changed + c->removed;
}

static void log_sync(const struct kilo_logger *log, const struct kilo_bpf_sync_report *s)
{
	if (changes(&s->services) + changes(&s->backends) + changes(&s->slots) + changes(&s->revnat) +
		    changes(&s->maglev) == 0)
		return;
	kilo_log(log, KILO_LOG_DEBUG,
		 "bpf: maps synced (added/changed/removed): services %u/%u/%u, backends %u/%u/%u, slots %u/%u/%u, "
		 "reverse NAT %u/%u/%u, Maglev tables %u/%u/%u",
		 s->services.added, s->services.changed, s->services.removed, s->backends.added, s->backends.changed,
		 s->backends.removed, s->slots.added, s->slots.changed, s->slots.removed, s->revnat.added,
		 s->revnat.changed, s->revnat.removed, s->maglev.added, s->maglev.changed, s->maglev.removed);
}

void kilo_agent_log_problems(unsigned char last[KILO_AGENT_LB_DIGEST], const char *what, const struct kilo_logger *log,
			     const struct kilo_lb_report *report)
{
	unsigned char d[KILO_AGENT_LB_DIGEST];
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof(d));
	for (size_t i = 0; i < report->n_problems && i < sizeof(report->problems) / sizeof(report->problems[0]); i++)
		kilo_agent_hash_text(&st, report->problems[i]);
	crypto_generichash_final(&st, d, sizeof(d));
	if (memcmp(d, last, sizeof(d)) == 0)
		return;
	memcpy(last, d, sizeof(d));
	if (report->n_problems)
		kilo_log(log, KILO_LOG_WARNING, "bpf: %zu %s problem%s, first: %s", report->n_problems, what,
			 report->n_problems == 1 ? "" : "s", report->problems[0]);
}

int kilo_agent_lb_sync(struct kilo_agent_lb *lb, kilo_store *store, const struct kilo_mesh *mesh, const char *self,
		       bool resync, const struct kilo_logger *log, struct kilo_error *err)
{
	unsigned char d[KILO_AGENT_LB_DIGEST], m[KILO_AGENT_LB_DIGEST];
	struct kilo_lb_desired desired = { 0 };
	uint64_t stamps[2];
	struct kilo_lb_report report = { 0 };
	struct kilo_bpf_sync_report synced;
	char *services = NULL, *slices = NULL;
	int r;

	if (!lb->bpf)
		return 0;
	if (!lb->ids) {
		if (!(lb->ids = kilo_lb_ids_new()))
			return kilo_error_set(err, ENOMEM, "bpf: out of memory");
		/* The maps may be a kg's before this one: its flows name their backends by its ids. */
		r = kilo_bpf_adopt_ids(lb->bpf, lb->ids, err);
		if (r < 0) {
			kilo_lb_ids_free(lb->ids);
			lb->ids = NULL;
			return r;
		}
	}
	mesh_digest(mesh, self, m);
	/* Nothing the maps depend on changed, and no resync asks to compare them with the kernel's. */
	r = list_inputs(lb, store, !resync && lb->synced && memcmp(m, lb->mesh, sizeof(m)) == 0, &services, &slices,
			stamps, err);
	if (r != 0) {
		r = r < 0 ? r : 0;
		goto out;
	}
	inputs_digest(services, slices, m, d);
	if (!resync && lb->synced && memcmp(d, lb->inputs, sizeof(d)) == 0) {
		memcpy(lb->stamps, stamps, sizeof(stamps));
		goto out;
	}
	r = kilo_lb_compute(&(struct kilo_lb_inputs){ .services = services, .slices = slices, .mesh = mesh, .self = self,
						      .maglev_m = kilo_bpf_maglev_m(lb->bpf),
						      .maglev_max_tables = lb->maglev_tables },
			    lb->ids, &desired, &report, err);
	if (r == 0)
		r = kilo_bpf_sync(lb->bpf, &desired, resync || !lb->synced, &synced, err);
	lb->synced = r == 0;
	if (r == 0) {
		memcpy(lb->inputs, d, sizeof(d));
		memcpy(lb->mesh, m, sizeof(m));
		memcpy(lb->stamps, stamps, sizeof(stamps));
		log_sync(log, &synced);
		kilo_agent_log_problems(lb->problems, "service", log, &report);
	}
	kilo_lb_desired_release(&desired);
out:
	kilo_free(services);
	kilo_free(slices);
	return r;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The endpoint names of a mesh and what they resolve to. Kilo resolves
 * them before every solve and gives up the whole round when one fails;
 * here a name that does not resolve leaves its node or peer without an
 * endpoint, is reported, and everything else is applied.
 */
#include "resolve.h"

#include <kilo/agent.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/error.h"

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static struct kilo_name *find(const struct kilo_names *t, const char *name)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, t->items[mid].name);

		if (c == 0)
			return &t->items[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The endpoint of node or peer i of mesh (nodes first). */
static struct kilo_endpoint *endpoint_of(const struct kilo_mesh *mesh, size_t i)
{
	return i < mesh->n_nodes ? &mesh->nodes[i].endpoint : &mesh->peers[i - mesh->n_nodes].endpoint;
}

/* The names in use, sorted and unique, pointing into mesh. */
static int used_names(const struct kilo_mesh *mesh, const char ***out, size_t *n)
{
	size_t total = mesh->n_nodes + mesh->n_peers, k = 0;
	const char **names = malloc((total ? total : 1) * sizeof(*names));

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < total && !mesh->known_without_names; i++)
		if (endpoint_of(mesh, i)->dns[0])
			names[k++] = endpoint_of(mesh, i)->dns;
	qsort(names, k, sizeof(*names), compare_names);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (*n == 0 || strcmp(names[*n - 1], names[i]))
			names[(*n)++] = names[i];
	*out = names;
	return 0;
}

int kilo_names_track(struct kilo_names *t, const struct kilo_mesh *mesh)
{
	struct kilo_names next = { 0 };
	const char **names = NULL;
	size_t n = 0, old = 0;
	int r;

	r = used_names(mesh, &names, &n);
	if (r == 0 && n)
		r = kilo_array_reserve((void **)&next.items, &next.cap, n, sizeof(*next.items));
	/* A merge of two sorted lists: what stays keeps its state. */
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct kilo_name *item = &next.items[next.n];

		while (old < t->n && strcmp(t->items[old].name, names[i]) < 0)
			free(t->items[old++].name);
		if (old < t->n && !strcmp(t->items[old].name, names[i])) {
			*item = t->items[old++];
		} else {
			*item = (struct kilo_name){ .name = strdup(names[i]), .state = KILO_NAME_PENDING };
			if (!item->name)
				r = -ENOMEM;
		}
		next.n += r == 0;
	}
	free(names);
	if (r < 0) {
		/* The names taken over from t are still t's: free only the new ones. */
		for (size_t i = 0; i < next.n; i++)
			if (!find(t, next.items[i].name))
				free(next.items[i].name);
		free(next.items);
		return r;
	}
	while (old < t->n)
		free(t->items[old++].name);
	free(t->items);
	*t = next;
	return 0;
}

enum kilo_name_change kilo_names_answer(struct kilo_names *t, const struct kilo_resolve_answer *answer)
{
	struct kilo_name *e = find(t, answer->name);
	enum kilo_name_change change = KILO_NAME_SAME;

	if (!e)
		return KILO_NAME_SAME;
	e->asked = false;
	if (answer->r < 0) {
		if (e->state != KILO_NAME_FAILED)
			change = KILO_NAME_BROKE;
		e->state = KILO_NAME_FAILED;
		memcpy(e->reason, answer->reason, sizeof(e->reason));
		return change;
	}
	if (e->state == KILO_NAME_PENDING)
		change = KILO_NAME_FIRST;
	else if (e->state == KILO_NAME_FAILED)
		change = KILO_NAME_RECOVERED;
	else if (!kilo_addr_equal(&e->addr, &answer->addr))
		change = KILO_NAME_MOVED;
	e->state = KILO_NAME_RESOLVED;
	e->addr = answer->addr;
	return change;
}

void kilo_names_fill(const struct kilo_names *t, struct kilo_mesh *mesh)
{
	for (size_t i = 0; i < mesh->n_nodes + mesh->n_peers && !mesh->known_without_names; i++) {
		struct kilo_endpoint *ep = endpoint_of(mesh, i);
		const struct kilo_name *e;

		if (!ep->dns[0])
			continue;
		e = find(t, ep->dns);
		ep->addr = e && e->state == KILO_NAME_RESOLVED ? e->addr : (struct kilo_addr){ 0 };
	}
}

static const char *owner_name(const struct kilo_mesh *mesh, size_t i)
{
	return i < mesh->n_nodes ? mesh->nodes[i].name : mesh->peers[i - mesh->n_nodes].name;
}

static const char *owner_kind(const struct kilo_mesh *mesh, size_t i)
{
	return i < mesh->n_nodes ? "node" : "peer";
}

size_t kilo_names_unresolved(const struct kilo_names *t, const struct kilo_mesh *mesh, struct kilo_strbuf *text)
{
	char ep[KILO_ENDPOINT_STRLEN];
	size_t count = 0;

	for (size_t i = 0; mesh && !mesh->known_without_names && i < mesh->n_nodes + mesh->n_peers; i++) {
		const struct kilo_endpoint *endpoint = endpoint_of(mesh, i);
		const struct kilo_name *e = endpoint->dns[0] ? find(t, endpoint->dns) : NULL;

		if (!e || e->state != KILO_NAME_FAILED)
			continue;
		count++;
		if (!text)
			continue;
		kilo_endpoint_format(endpoint, ep);
		kilo_strbuf_printf(text, "%s %s: endpoint %s does not resolve (%s)\n", owner_kind(mesh, i),
				   owner_name(mesh, i), ep, e->reason);
	}
	return count;
}

/* "node a, peer b": who uses name in mesh. */
static void users(const struct kilo_mesh *mesh, const char *name, struct kilo_strbuf *sb)
{
	for (size_t i = 0; i < mesh->n_nodes + mesh->n_peers; i++)
		if (!strcmp(endpoint_of(mesh, i)->dns, name))
			kilo_strbuf_printf(sb, "%s%s %s", sb->len ? ", " : "", owner_kind(mesh, i), owner_name(mesh, i));
}

void kilo_names_log(const struct kilo_logger *log, const struct kilo_mesh *mesh, const struct kilo_name *name,
		    enum kilo_name_change change, const struct kilo_addr *before)
{
	char addr[KILO_ADDR_STRLEN], was[KILO_ADDR_STRLEN];
	struct kilo_strbuf who = { 0 };

	if (change == KILO_NAME_SAME)
		return;
	users(mesh, name->name, &who);
	kilo_addr_format(&name->addr, addr);
	switch (change) {
	case KILO_NAME_BROKE:
		kilo_log(log, KILO_LOG_WARNING, "endpoint name %s does not resolve (%s): %s without endpoint until it does",
			 name->name, name->reason, who.data ? who.data : "no one");
		break;
	case KILO_NAME_RECOVERED:
		kilo_log(log, KILO_LOG_INFO, "endpoint name %s resolves now, to %s: %s", name->name, addr,
			 who.data ? who.data : "no one");
		break;
	case KILO_NAME_MOVED:
		kilo_addr_format(before, was);
		kilo_log(log, KILO_LOG_INFO, "endpoint name %s now resolves to %s (was %s): %s", name->name, addr, was,
			 who.data ? who.data : "no one");
		break;
	default:
		kilo_log(log, KILO_LOG_DEBUG, "endpoint name %s resolves to %s", name->name, addr);
		break;
	}
	kilo_strbuf_reset(&who);
}

void kilo_names_free(struct kilo_names *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->items[i].name);
	free(t->items);
	*t = (struct kilo_names){ 0 };
}

int kilo_names_ask(struct kilo_names *t, struct kilo_resolver *r, bool all)
{
	for (size_t i = 0; i < t->n; i++) {
		struct kilo_name *e = &t->items[i];
		int err;

		/* A name still being looked up is not asked twice. */
		if (e->asked || (!all && e->state != KILO_NAME_PENDING))
			continue;
		err = kilo_resolver_ask(r, e->name);
		if (err < 0)
			return err;
		e->asked = true;
	}
	return 0;
}

/* Records answer and logs what it changed; true when the address in use changed. */
static bool take(struct kilo_names *t, const struct kilo_resolve_answer *answer, const struct kilo_mesh *mesh,
		 const struct kilo_logger *log)
{
	const struct kilo_name *e = find(t, answer->name);
	struct kilo_addr before = e ? e->addr : (struct kilo_addr){ 0 };
	enum kilo_name_change change = kilo_names_answer(t, answer);

	if (change != KILO_NAME_SAME)
		kilo_names_log(log, mesh, e, change, &before);
	/* A name that fails again, or for the first time, had no address before either. */
	return change != KILO_NAME_SAME && !(change == KILO_NAME_BROKE && before.family == 0);
}

bool kilo_names_collect(struct kilo_names *t, struct kilo_resolver *r, const struct kilo_mesh *mesh,
			const struct kilo_logger *log)
{
	struct kilo_resolve_answer *answers;
	bool changed = false;
	size_t n;

	kilo_resolver_take(r, &answers, &n);
	for (size_t i = 0; i < n; i++)
		changed |= take(t, &answers[i], mesh, log);
	free(answers);
	return changed;
}

int kilo_mesh_resolve(kilo_mesh *mesh, kilo_log_fn log_fn, void *log_ctx, struct kilo_error *err)
{
	struct kilo_logger log = { .fn = log_fn, .ctx = log_ctx };
	struct kilo_names t = { 0 };
	size_t unresolved;
	int r;

	if (!mesh)
		return kilo_error_set(err, EINVAL, "resolving endpoint names: mesh is NULL");
	r = kilo_names_track(&t, mesh);
	for (size_t i = 0; r == 0 && i < t.n; i++) {
		struct kilo_resolve_answer answer = { 0 };

		memcpy(answer.name, t.items[i].name, strlen(t.items[i].name) + 1);
		answer.r = kilo_resolve_name(answer.name, &answer.addr, answer.reason);
		kilo_names_log(&log, mesh, &t.items[i], kilo_names_answer(&t, &answer), &(struct kilo_addr){ 0 });
	}
	if (r < 0) {
		kilo_names_free(&t);
		return kilo_error_set(err, -r, "resolving the endpoint names of the mesh: %s", strerror(-r));
	}
	kilo_names_fill(&t, mesh);
	unresolved = kilo_names_unresolved(&t, mesh, NULL);
	kilo_names_free(&t);
	return unresolved > INT_MAX ? INT_MAX : (int)unresolved;
}

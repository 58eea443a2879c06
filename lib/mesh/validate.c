/* SPDX-License-Identifier: Apache-2.0 */
/* Rules that span the whole mesh: names and node keys are unique, pod CIDRs do not overlap. */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/dnsname.h"
#include "../core/error.h"
#include "pod_cidrs.h"

bool kilo_mesh_name_valid(const char *name)
{
	return kilo_dns_subdomain_valid(name, strlen(name));
}

/* An entry of a sorted view: the thing compared and where it sits in the document. */
struct entry {
	const void *value;
	size_t index;
};

static int compare_names(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int r = strcmp(x->value, y->value);

	return r ? r : (x->index > y->index) - (x->index < y->index);
}

static int compare_keys(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int r = memcmp(x->value, y->value, KILO_KEY_LEN);

	return r ? r : (x->index > y->index) - (x->index < y->index);
}

static bool same_value(int (*compare)(const void *, const void *), struct entry a, struct entry b)
{
	a.index = b.index = 0;
	return compare(&a, &b) == 0;
}

/*
 * Sorts entries and finds the smallest document index that repeats an
 * earlier entry (*dup, with the earliest equal one in *first). Sorting
 * keeps this O(n log n) for meshes of thousands of nodes.
 */
static bool find_duplicate(struct entry *entries, size_t n, int (*compare)(const void *, const void *), size_t *dup,
			   size_t *first)
{
	bool found = false;

	qsort(entries, n, sizeof(*entries), compare);
	for (size_t run = 0, i = 1; i < n; i++) {
		if (!same_value(compare, entries[run], entries[i])) {
			run = i;
			continue;
		}
		/* Within a run, index order holds: only its second entry can be the smallest repeat. */
		if (i == run + 1 && (!found || entries[i].index < *dup)) {
			*dup = entries[i].index;
			*first = entries[run].index;
			found = true;
		}
	}
	return found;
}

static int check_names(const char *kind, const char *array, const char *const *names, size_t n,
		       struct kilo_error *err)
{
	struct entry *entries;
	size_t dup = 0, first = 0;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		if (!kilo_mesh_name_valid(names[i]))
			return kilo_error_set(err, EINVAL,
					      "%s[%zu].name: \"%.253s\" is not a valid %s name (a lower-case RFC 1123 subdomain)",
					      array, i, names[i], kind);
	}
	if (n < 2)
		return 0;
	entries = calloc(n, sizeof(*entries));
	if (!entries)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		entries[i] = (struct entry){ .value = names[i], .index = i };
	if (find_duplicate(entries, n, compare_names, &dup, &first))
		r = kilo_error_set(err, EINVAL, "%s[%zu].name: duplicate %s name \"%s\" (also %s[%zu])", array, dup, kind,
				   names[dup], array, first);
	free(entries);
	return r;
}

static int check_node_keys(const struct kilo_mesh *mesh, struct kilo_error *err)
{
	struct entry *entries;
	size_t n = 0, dup = 0, first = 0;
	char text[KILO_KEY_B64_LEN + 1];
	int r = 0;

	if (mesh->n_nodes < 2)
		return 0;
	entries = calloc(mesh->n_nodes, sizeof(*entries));
	if (!entries)
		return -ENOMEM;
	/* A zero key means "not published yet"; many nodes may share it. */
	for (size_t i = 0; i < mesh->n_nodes; i++) {
		if (!kilo_key_is_zero(&mesh->nodes[i].public_key))
			entries[n++] = (struct entry){ .value = mesh->nodes[i].public_key.bytes, .index = i };
	}
	if (find_duplicate(entries, n, compare_keys, &dup, &first)) {
		kilo_key_format(&mesh->nodes[dup].public_key, text);
		r = kilo_error_set(err, EINVAL, "nodes[%zu].publicKey: duplicate public key \"%s\" (also nodes[%zu])", dup,
				   text, first);
	}
	free(entries);
	return r;
}

/* The store leaves such a node out (by name); a document that holds one is refused whole. */
static int check_pod_cidrs(const struct kilo_mesh *mesh, struct kilo_error *err)
{
	struct kilo_pod_cidr_index index;
	struct kilo_pod_cidr_overlap overlap;
	char mine[KILO_CIDR_STRLEN], theirs[KILO_CIDR_STRLEN];
	int r = 0;

	if (mesh->n_nodes < 2)
		return 0;
	r = kilo_pod_cidr_index_init(&index, mesh->nodes, mesh->n_nodes);
	if (r < 0)
		return r;
	for (size_t i = 0; i < mesh->n_nodes; i++) {
		const struct kilo_node *node = &mesh->nodes[i], *other;

		if (kilo_pod_cidr_index_overlap(&index, i, &overlap)) {
			other = &mesh->nodes[overlap.other];
			kilo_cidr_format(overlap.mine, mine);
			kilo_cidr_format(overlap.theirs, theirs);
			r = kilo_error_set(err, EINVAL,
					   "nodes[%zu].%s: \"%s\" of node \"%s\" overlaps %s \"%s\" of node \"%s\" (nodes[%zu])",
					   i, kilo_pod_cidr_field(node, overlap.mine), mine, node->name,
					   kilo_pod_cidr_field(other, overlap.theirs), theirs, other->name, overlap.other);
			break;
		}
		kilo_pod_cidr_index_accept(&index, i);
	}
	kilo_pod_cidr_index_free(&index);
	return r;
}

static int collect_names(const struct kilo_mesh *mesh, bool nodes, const char ***out)
{
	size_t n = nodes ? mesh->n_nodes : mesh->n_peers;
	const char **names = calloc(n ? n : 1, sizeof(*names));

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		names[i] = nodes ? mesh->nodes[i].name : mesh->peers[i].name;
	*out = names;
	return 0;
}

int kilo_mesh_validate(const struct kilo_mesh *mesh, struct kilo_error *err)
{
	const char **names = NULL;
	int r;

	r = collect_names(mesh, true, &names);
	if (r < 0)
		return r;
	r = check_names("node", "nodes", names, mesh->n_nodes, err);
	free(names);
	if (r < 0)
		return r;
	r = collect_names(mesh, false, &names);
	if (r < 0)
		return r;
	r = check_names("peer", "peers", names, mesh->n_peers, err);
	free(names);
	if (r < 0)
		return r;
	r = check_node_keys(mesh, err);
	if (r < 0)
		return r;
	return check_pod_cidrs(mesh, err);
}

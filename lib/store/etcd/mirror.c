// SPDX-License-Identifier: Apache-2.0
/* The etcd store's copy of one kind's objects, sorted by name. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/array.h"
#include "mirror.h"

static const char *item_name(const void *items, size_t i)
{
	return ((const struct kilo_etcd_mirror_item *)items)[i].name;
}

/* Where name is, or where it would go (*found false). */
static size_t position(const struct kilo_etcd_mirror *m, const char *name, bool *found)
{
	/* A list fills in key order: appending is the common case. */
	if (m->n && strcmp(m->items[m->n - 1].name, name) < 0) {
		*found = false;
		return m->n;
	}
	return kilo_array_find_name(m->items, m->n, item_name, name, found);
}

const struct kilo_etcd_mirror_item *kilo_etcd_mirror_find(const struct kilo_etcd_mirror *m, const char *name)
{
	bool found;
	size_t at = position(m, name, &found);

	return found ? &m->items[at] : NULL;
}

static void item_free(struct kilo_etcd_mirror_item *item)
{
	if (item->value)
		sodium_memzero(item->value, item->len);
	free(item->value);
	free(item->name);
}

int kilo_etcd_mirror_set(struct kilo_etcd_mirror *m, const char *name, const char *value, size_t len,
			 int64_t mod_revision, int64_t lease)
{
	struct kilo_etcd_mirror_item item = { .len = len, .mod_revision = mod_revision, .lease = lease };
	bool found;
	size_t at = position(m, name, &found);

	if (found && m->items[at].mod_revision > mod_revision)
		return 0;
	if (value) {
		item.value = malloc(len + 1);
		if (!item.value)
			return -ENOMEM;
		memcpy(item.value, value, len);
		item.value[len] = '\0';
	}
	if (found) {
		item.name = m->items[at].name;
		m->items[at].name = NULL;
		item_free(&m->items[at]);
		m->items[at] = item;
		return 0;
	}
	item.name = strdup(name);
	if (!item.name || kilo_array_reserve((void **)&m->items, &m->cap, m->n + 1, sizeof(*m->items)) < 0) {
		item_free(&item);
		return -ENOMEM;
	}
	memmove(&m->items[at + 1], &m->items[at], (m->n - at) * sizeof(*m->items));
	m->items[at] = item;
	m->n++;
	return 0;
}

void kilo_etcd_mirror_remove(struct kilo_etcd_mirror *m, const char *name, int64_t revision)
{
	bool found;
	size_t at = position(m, name, &found);

	if (!found || m->items[at].mod_revision > revision)
		return;
	item_free(&m->items[at]);
	memmove(&m->items[at], &m->items[at + 1], (m->n - at - 1) * sizeof(*m->items));
	m->n--;
}

void kilo_etcd_mirror_clear(struct kilo_etcd_mirror *m)
{
	for (size_t i = 0; i < m->n; i++)
		item_free(&m->items[i]);
	free(m->items);
	memset(m, 0, sizeof(*m));
}

int kilo_etcd_mirror_diff(const struct kilo_etcd_mirror *old, const struct kilo_etcd_mirror *new,
			  int (*changed)(void *ctx, const char *name), void *ctx)
{
	size_t i = 0, j = 0;
	int r = 0;

	/* Both are sorted by name: one merge pass. */
	while (r == 0 && (i < old->n || j < new->n)) {
		int c = i == old->n ? 1 : j == new->n ? -1 : strcmp(old->items[i].name, new->items[j].name);

		if (c < 0) {
			r = changed(ctx, old->items[i++].name);
		} else if (c > 0) {
			r = changed(ctx, new->items[j++].name);
		} else {
			if (old->items[i].mod_revision != new->items[j].mod_revision)
				r = changed(ctx, new->items[j].name);
			i++;
			j++;
		}
	}
	return r;
}

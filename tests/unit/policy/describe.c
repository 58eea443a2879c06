// SPDX-License-Identifier: Apache-2.0
#include "describe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int compare_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add(struct lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct lines *l, const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	assert_true(vasprintf(&line, fmt, ap) >= 0);
	va_end(ap);
	l->items = realloc(l->items, (l->n + 1) * sizeof(*l->items));
	assert_non_null(l->items);
	l->items[l->n++] = line;
}

static void addr_port(char *out, size_t size, const union kilo_lb_addr *addr, __u8 family, __be16 port)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, addr->bytes, text, sizeof(text));
	snprintf(out, size, family == AF_INET6 ? "[%s]:%u" : "%s:%u", text, ntohs(port));
}

static const char *proto_name(__u8 proto)
{
	return proto == IPPROTO_TCP ? "TCP" : proto == IPPROTO_UDP ? "UDP" : "?";
}

static const struct kilo_lb_desired_service *service_of(const struct kilo_lb_desired *d, __u32 id)
{
	for (size_t i = 0; i < d->n_services; i++)
		if (d->services[i].value.id == id)
			return &d->services[i];
	fail_msg("no frontend has id %u", id);
	return NULL;
}

static const struct kilo_lb_desired_backend *backend_of(const struct kilo_lb_desired *d, __u32 id)
{
	for (size_t i = 0; i < d->n_backends; i++)
		if (d->backends[i].id == id)
			return &d->backends[i];
	fail_msg("no backend has id %u", id);
	return NULL;
}

static void frontend_name(char *out, size_t size, const struct kilo_lb_desired_service *s)
{
	char text[64];

	addr_port(text, sizeof(text), &s->key.addr, s->key.family, s->key.port);
	snprintf(out, size, "%s/%s", text, proto_name(s->key.proto));
}

static void check_sorted(const void *items, size_t n, size_t size, size_t key_size)
{
	for (size_t i = 1; i < n; i++)
		assert_true(memcmp((const char *)items + (i - 1) * size, (const char *)items + i * size, key_size) < 0);
}

/* A slot's backend for the frontend, 0 if slot is not one of its slots. */
static __u32 slot_backend(const struct kilo_lb_desired *d, __u32 service_id, __u32 slot)
{
	for (size_t i = 0; i < d->n_slots; i++)
		if (d->slots[i].key.service_id == service_id && d->slots[i].key.slot == slot)
			return d->slots[i].backend_id;
	return 0;
}

static bool has_slot(const struct kilo_lb_desired *d, __u32 backend_id)
{
	for (size_t i = 0; i < d->n_slots; i++)
		if (d->slots[i].backend_id == backend_id)
			return true;
	return false;
}

static void check_maglev(const struct kilo_lb_desired *d, const struct kilo_lb_desired_service *s)
{
	const struct kilo_lb_desired_maglev *table = NULL;

	for (size_t i = 0; i < d->n_maglev; i++)
		if (d->maglev[i].service_id == s->value.id)
			table = &d->maglev[i];
	assert_int_equal(table != NULL, (s->value.flags & KILO_LB_SERVICE_MAGLEV) != 0);
	if (!table)
		return;
	assert_true(s->value.backend_count >= 2);
	for (__u32 slot = 1; slot <= s->value.backend_count; slot++) {
		__u32 id = slot_backend(d, s->value.id, slot);
		size_t share = 0;

		for (__u32 c = 0; c < table->m; c++)
			share += table->table[c] == id;
		assert_true(share >= table->m / s->value.backend_count);
		assert_true(share <= table->m / s->value.backend_count + 1);
	}
}

/*
 * Every backend has its frontends record, keyed by its address, and every
 * frontend with a slot on it is listed there, unless the backend keeps
 * REPLY entries instead (then its record lists none).
 */
static void check_backend_frontends(const struct kilo_lb_desired *d)
{
	assert_int_equal(d->n_backend_frontends, d->n_backends);
	check_sorted(d->backend_frontends, d->n_backend_frontends, sizeof(*d->backend_frontends),
		     sizeof(d->backend_frontends[0].key));
	for (size_t i = 0; i < d->n_backend_frontends; i++) {
		const struct kilo_lb_desired_backend_frontends *f = &d->backend_frontends[i];
		const struct kilo_lb_desired_backend *b = backend_of(d, f->value.backend_id);

		assert_memory_equal(&f->key.addr, &b->value.addr, sizeof(f->key.addr));
		assert_int_equal(f->key.port, b->value.port);
		assert_int_equal(f->key.proto, b->value.proto);
		assert_int_equal(f->key.family, b->value.family);
		if (b->value.flags & KILO_LB_BACKEND_REPLY_ENTRIES)
			assert_int_equal(f->value.n_services, 0);
		else
			assert_in_range(f->value.n_services, 1, KILO_LB_BACKEND_FRONTENDS);
		for (__u32 k = 0; k < f->value.n_services; k++)
			service_of(d, f->value.service_ids[k]);
	}
	for (size_t i = 0; i < d->n_slots; i++) {
		const struct kilo_lb_desired_backend *b = backend_of(d, d->slots[i].backend_id);
		bool listed = false;

		for (size_t k = 0; k < d->n_backend_frontends; k++) {
			const struct kilo_lb_backend_frontends *f = &d->backend_frontends[k].value;

			if (f->backend_id != b->id)
				continue;
			for (__u32 j = 0; j < f->n_services; j++)
				listed |= f->service_ids[j] == d->slots[i].key.service_id;
		}
		assert_true(listed || (b->value.flags & KILO_LB_BACKEND_REPLY_ENTRIES));
	}
}

void describe(const struct kilo_lb_desired *d, struct lines *out)
{
	memset(out, 0, sizeof(*out));
	check_sorted(d->services, d->n_services, sizeof(*d->services), sizeof(d->services[0].key));
	check_sorted(d->backends, d->n_backends, sizeof(*d->backends), sizeof(d->backends[0].id));
	check_sorted(d->slots, d->n_slots, sizeof(*d->slots), sizeof(d->slots[0].key));
	check_sorted(d->revnat, d->n_revnat, sizeof(*d->revnat), sizeof(d->revnat[0].service_id));
	check_sorted(d->maglev, d->n_maglev, sizeof(*d->maglev), sizeof(d->maglev[0].service_id));
	assert_int_equal(d->n_revnat, d->n_services);
	check_backend_frontends(d);
	for (size_t i = 0; i < d->n_services; i++) {
		const struct kilo_lb_desired_service *s = &d->services[i];
		const struct kilo_lb_service *v = &s->value;
		char name[96], flags[96] = "";
		size_t slots = 0;

		frontend_name(name, sizeof(name), s);
		for (size_t r = 0; r < d->n_revnat; r++) {
			if (d->revnat[r].service_id != v->id)
				continue;
			assert_memory_equal(&d->revnat[r].value.addr, &s->key.addr, sizeof(s->key.addr));
			assert_int_equal(d->revnat[r].value.port, s->key.port);
			assert_int_equal(d->revnat[r].value.family, s->key.family);
			slots++;
		}
		assert_int_equal(slots, 1);
		slots = 0;
		for (size_t k = 0; k < d->n_slots; k++)
			slots += d->slots[k].key.service_id == v->id;
		assert_int_equal(slots, v->backend_count);
		check_maglev(d, s);
		if (v->flags & KILO_LB_SERVICE_MAGLEV)
			strcat(flags, " maglev");
		if (v->flags & KILO_LB_SERVICE_AFFINITY)
			snprintf(flags + strlen(flags), sizeof(flags) - strlen(flags), " affinity=%u", v->affinity_timeout);
		else
			assert_int_equal(v->affinity_timeout, 0);
		if (v->flags & KILO_LB_SERVICE_SNAT)
			strcat(flags, " snat");
		if (v->flags & KILO_LB_SERVICE_ICMP_REJECT)
			strcat(flags, " reject");
		add(out, "frontend %s %s backends=%u%s", name, s->key.scope == KILO_LB_SCOPE_NODEPORT ? "nodeport" : "cluster",
		    v->backend_count, flags);
	}
	for (size_t i = 0; i < d->n_slots; i++) {
		const struct kilo_lb_desired_backend *b = backend_of(d, d->slots[i].backend_id);
		char name[96], backend[64];

		assert_true(d->slots[i].key.slot >= 1);
		frontend_name(name, sizeof(name), service_of(d, d->slots[i].key.service_id));
		addr_port(backend, sizeof(backend), &b->value.addr, b->value.family, b->value.port);
		add(out, "slot %s %u %s", name, d->slots[i].key.slot, backend);
	}
	for (size_t i = 0; i < d->n_backends; i++) {
		const struct kilo_lb_backend *b = &d->backends[i].value;
		char name[64];

		assert_int_not_equal(d->backends[i].id, 0);
		/* The datapath refuses a flagged backend new flows: every backend in a slot must take them. */
		assert_int_equal(!(b->flags & KILO_LB_BACKEND_NO_NEW_FLOWS), has_slot(d, d->backends[i].id));
		addr_port(name, sizeof(name), &b->addr, b->family, b->port);
		add(out, "backend %s/%s%s%s", name, proto_name(b->proto),
		    b->flags & KILO_LB_BACKEND_NO_NEW_FLOWS ? " no-new-flows" : "",
		    b->flags & KILO_LB_BACKEND_REPLY_ENTRIES ? " reply-entries" : "");
	}
	if (out->n)
		qsort(out->items, out->n, sizeof(*out->items), compare_lines);
}

void lines_free(struct lines *lines)
{
	for (size_t i = 0; i < lines->n; i++)
		free(lines->items[i]);
	free(lines->items);
	memset(lines, 0, sizeof(*lines));
}

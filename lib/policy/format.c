/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kgctl services`: the frontends a node serves and the endpoints behind
 * each, from the same choice (frontends.c) that fills its maps.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <kilo/services.h>

#include "../core/error.h"
#include "../core/strbuf.h"
#include "../core/table.h"
#include "frontends.h"

#define COLUMNS 8

static const char *const header[COLUMNS] = {
	"SERVICE", "FRONTEND", "SCOPE", "ENDPOINT", "NODE", "LOCATION", "STATE", "NEW-FLOWS",
};

static const char *state(const struct kilo_lb_endpoint *ep)
{
	if (ep->ready)
		return "ready";
	if (ep->terminating)
		return ep->serving ? "terminating" : "not serving";
	return "not ready";
}

/* What happens to a new flow to a frontend without a backend for it. */
static const char *no_backend(const struct kilo_lb_frontend *f)
{
	return f->flags & KILO_LB_SERVICE_ICMP_REJECT ? "reject" : "drop";
}

/* "cluster" or "nodeport", with what the frontend does beyond plain balancing. */
static void scope(const struct kilo_lb_frontend *f, char *out, size_t size)
{
	int n = snprintf(out, size, "%s", f->key.scope == KILO_LB_SCOPE_NODEPORT ? "nodeport" : "cluster");

	if (f->flags & KILO_LB_SERVICE_AFFINITY)
		n += snprintf(out + n, size - (size_t)n, ",affinity=%us", f->svc->affinity_timeout);
	if (f->flags & KILO_LB_SERVICE_SNAT)
		snprintf(out + n, size - (size_t)n, ",snat");
}

static const char *location(const struct kilo_lb_choice *c)
{
	if (!c->node)
		return "?";
	return c->node->location;
}

static int text_rows(const struct kilo_lb_frontends *fronts, struct kilo_arena *arena, struct kilo_table *t)
{
	for (size_t i = 0; i < fronts->n; i++) {
		const struct kilo_lb_frontend *f = &fronts->items[i];
		char service[512], frontend[KILO_LB_FRONTEND_NAME_MAX], flags[64];

		snprintf(service, sizeof(service), "%s/%s", f->svc->namespace, f->svc->name);
		kilo_lb_frontend_name(f, frontend);
		scope(f, flags, sizeof(flags));
		for (size_t b = 0; b < (f->n_backends ? f->n_backends : 1); b++) {
			const struct kilo_lb_choice *c = f->n_backends ? &f->backends[b] : NULL;
			const char **row = &t->cells[t->n_rows++ * t->columns];

			row[0] = b ? "" : kilo_table_text(arena, service);
			row[1] = b ? "" : kilo_table_text(arena, frontend);
			row[2] = b ? "" : kilo_table_text(arena, flags);
			row[3] = c ? kilo_table_text(arena, c->name) : "-";
			row[4] = c ? kilo_table_text(arena, c->endpoint->node ? c->endpoint->node : "") : "-";
			row[5] = c ? kilo_table_text(arena, location(c)) : "-";
			row[6] = c ? state(c->endpoint) : "no endpoints";
			row[7] = c ? (c->slot ? "yes" : "no") : no_backend(f);
			for (size_t k = 0; k < COLUMNS; k++)
				if (!row[k])
					return -ENOMEM;
		}
	}
	return 0;
}

static int format_text(const struct kilo_lb_frontends *fronts, const struct kilo_lb_report *report, char **out,
		       struct kilo_error *err)
{
	struct kilo_arena arena = {0};
	struct kilo_strbuf sb = {0};
	struct kilo_table t;
	size_t rows = 0;
	int r;

	for (size_t i = 0; i < fronts->n; i++)
		rows += fronts->items[i].n_backends ? fronts->items[i].n_backends : 1;
	r = kilo_table_init(&t, &arena, header, COLUMNS, rows);
	if (r == 0)
		r = text_rows(fronts, &arena, &t);
	if (r < 0) {
		kilo_error_set(err, ENOMEM, "services: out of memory");
		goto out;
	}
	kilo_table_print(&t, &sb);
	if (report->n_problems)
		kilo_strbuf_printf(&sb, "\n%zu left out:\n", report->n_problems);
	for (size_t i = 0; i < report->n_problems && i < sizeof(report->problems) / sizeof(report->problems[0]); i++)
		kilo_strbuf_printf(&sb, "  %s\n", report->problems[i]);
	r = kilo_strbuf_finish_named(&sb, out, "services", err);
out:
	kilo_arena_release(&arena);
	return r;
}

static json_t *backend_json(const struct kilo_lb_choice *c)
{
	char address[KILO_ADDR_STRLEN];

	kilo_addr_format(&c->endpoint->addr, address);
	return json_pack("{s:s, s:i, s:s?, s:s?, s:s, s:b}", "address", address, "port", (int)ntohs(c->key.port),
			 "node", c->endpoint->node, "location", c->node ? c->node->location : NULL, "state",
			 state(c->endpoint), "newFlows", c->slot);
}

static json_t *frontend_json(const struct kilo_lb_frontend *f)
{
	char service[512], frontend[KILO_LB_FRONTEND_NAME_MAX];
	json_t *backends = json_array(), *o;

	snprintf(service, sizeof(service), "%s/%s", f->svc->namespace, f->svc->name);
	kilo_lb_frontend_name(f, frontend);
	for (size_t i = 0; backends && i < f->n_backends; i++)
		if (json_array_append_new(backends, backend_json(&f->backends[i])) < 0) {
			json_decref(backends);
			return NULL;
		}
	o = json_pack("{s:s, s:s, s:s, s:o}", "service", service, "frontend", frontend, "scope",
		      f->key.scope == KILO_LB_SCOPE_NODEPORT ? "nodeport" : "cluster", "backends", backends);
	if (!o)
		return NULL;
	if ((f->flags & KILO_LB_SERVICE_AFFINITY) &&
	    json_object_set_new(o, "affinityTimeout", json_integer(f->svc->affinity_timeout)) < 0)
		goto fail;
	if ((f->flags & KILO_LB_SERVICE_SNAT) && json_object_set_new(o, "snat", json_true()) < 0)
		goto fail;
	if (!f->n_slots && json_object_set_new(o, "noBackend", json_string(no_backend(f))) < 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static int format_json(const struct kilo_lb_frontends *fronts, const struct kilo_lb_report *report, char **out,
		       struct kilo_error *err)
{
	json_t *frontends = json_array(), *problems = json_array(), *root;
	int r = -ENOMEM;

	for (size_t i = 0; frontends && i < fronts->n; i++)
		if (json_array_append_new(frontends, frontend_json(&fronts->items[i])) < 0)
			goto out;
	for (size_t i = 0; problems && i < report->n_problems && i < sizeof(report->problems) / sizeof(report->problems[0]); i++)
		if (json_array_append_new(problems, json_string(report->problems[i])) < 0)
			goto out;
	root = json_pack("{s:O, s:O}", "frontends", frontends, "problems", problems);
	*out = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
	json_decref(root);
	if (*out)
		r = 0;
out:
	json_decref(frontends);
	json_decref(problems);
	if (r < 0)
		kilo_error_set(err, ENOMEM, "services: out of memory");
	return r;
}

int kilo_lb_services_format(const char *services, const char *slices, const kilo_mesh *mesh, const char *self,
			    enum kilo_services_format format, char **out, struct kilo_error *err)
{
	struct kilo_lb_objects objects = {0};
	struct kilo_lb_frontends fronts = {0};
	struct kilo_lb_report report = {0};
	int r;

	if (!out)
		return kilo_error_set(err, EINVAL, "services: out is NULL");
	*out = NULL;
	if (format != KILO_SERVICES_FORMAT_TEXT && format != KILO_SERVICES_FORMAT_JSON)
		return kilo_error_set(err, EINVAL, "format: %d is not KILO_SERVICES_FORMAT_TEXT or KILO_SERVICES_FORMAT_JSON",
				      (int)format);
	r = kilo_lb_objects_read(services, slices, NULL, &objects, &report, err);
	if (r < 0)
		goto out;
	r = kilo_lb_frontends_build(&objects, mesh, self, &fronts, err);
	if (r < 0)
		goto out;
	r = format == KILO_SERVICES_FORMAT_JSON ? format_json(&fronts, &report, out, err)
						: format_text(&fronts, &report, out, err);
out:
	kilo_lb_frontends_release(&fronts);
	kilo_lb_objects_release(&objects);
	return r;
}

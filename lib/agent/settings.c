// SPDX-License-Identifier: Apache-2.0
/* The mesh settings every agent must agree on, from the agent's options. */
#include "internal.h"

#include <errno.h>

#include "../core/error.h"

/* Kilo's --service-cidr values, masked as Go's ParseCIDR masks them, as a JSON array. */
static int service_cidrs(const struct kilo_agent_opts *o, json_t **out, struct kilo_error *err)
{
	char text[KILO_CIDR_STRLEN];
	struct kilo_cidr cidr;
	int r;

	*out = json_array();
	for (size_t i = 0; *out && i < o->n_service_cidrs; i++) {
		r = kilo_cidr_parse(o->service_cidrs[i], &cidr, NULL);
		if (r < 0) {
			json_decref(*out);
			*out = NULL;
			return kilo_error_set(err, EINVAL, "service-cidr: \"%s\" is %s", o->service_cidrs[i],
					      kilo_addr_refusal(r, "not a CIDR"));
		}
		cidr = kilo_cidr_masked(&cidr);
		kilo_cidr_format(&cidr, text);
		if (json_array_append_new(*out, json_string(text)) < 0) {
			json_decref(*out);
			*out = NULL;
		}
	}
	return *out ? 0 : kilo_error_set(err, ENOMEM, "agent: out of memory");
}

/* The mesh settings every agent must agree on, as the settings document of every load. */
int kilo_agent_settings_document(const struct kilo_agent_opts *o, char **out, struct kilo_error *err)
{
	char subnet[KILO_CIDR_STRLEN];
	json_t *settings, *services;
	struct kilo_cidr pool;
	int r;

	*out = NULL;
	r = kilo_cidr_parse(o->subnet ? o->subnet : "10.4.0.0/16", &pool, NULL);
	if (r < 0)
		return kilo_error_set(err, EINVAL, "subnet: \"%s\" is %s", o->subnet, kilo_addr_refusal(r, "not a CIDR"));
	r = service_cidrs(o, &services, err);
	if (r < 0)
		return r;
	pool = kilo_cidr_masked(&pool);
	kilo_cidr_format(&pool, subnet);
	settings = json_pack("{s:i, s:{s:s, s:s, s:i, s:o}}", "version", 1, "settings", "granularity",
			     kilo_granularity_name(o->granularity), "subnet", subnet, "port",
			     (int)(o->port ? o->port : KILO_DEFAULT_PORT), "serviceCIDRs", services);
	*out = settings ? json_dumps(settings, JSON_COMPACT) : NULL;
	json_decref(settings);
	return *out ? 0 : kilo_error_set(err, ENOMEM, "agent: out of memory");
}

// SPDX-License-Identifier: Apache-2.0
/* Label selectors: read (as strictly as apply checks them) and matched against label sets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/error.h"
#include "../serial/manifest_check.h"
#include "../serial/mesh_json.h"
#include "netpol.h"

const char *kilo_np_labels_get(const struct kilo_np_labels *labels, const char *key)
{
	size_t lo = 0, hi = labels->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(labels->items[mid].key, key);

		if (c == 0)
			return labels->items[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool requirement_matches(const struct kilo_np_requirement *req, const struct kilo_np_labels *labels)
{
	const char *value = kilo_np_labels_get(labels, req->key);
	bool listed = false;

	for (size_t i = 0; value && i < req->n_values; i++)
		listed |= strcmp(req->values[i], value) == 0;
	switch (req->op) {
	case KILO_NP_IN:
		return listed;
	case KILO_NP_NOT_IN:
		return !listed;
	case KILO_NP_EXISTS:
		return value != NULL;
	case KILO_NP_DOES_NOT_EXIST:
		return value == NULL;
	}
	return false;
}

bool kilo_np_selector_matches(const struct kilo_np_selector *selector, const struct kilo_np_labels *labels)
{
	for (size_t i = 0; i < selector->n_requirements; i++)
		if (!requirement_matches(&selector->requirements[i], labels))
			return false;
	return true;
}

int kilo_np_field_bad(struct kilo_error *err, const char *path, json_t *value, const char *what)
{
	char text[KILO_JSON_VALUE_MAX];

	kilo_json_value_text(value ? value : json_null(), text);
	return kilo_error_set(err, EINVAL, "%s: %s is not %s", path, text, what);
}

static int read_match_labels(struct kilo_arena *arena, json_t *map, const char *path,
			     struct kilo_np_requirement *out, size_t *n, struct kilo_error *err)
{
	char item[KILO_NP_PATH_MAX];
	const char *key;
	json_t *value;

	json_object_foreach(map, key, value) {
		struct kilo_np_requirement *req = &out[(*n)++];
		const char **values;

		snprintf(item, sizeof(item), "%.150s.matchLabels[\"%.80s\"]", path, key);
		if (!kilo_label_key_valid(key))
			return kilo_error_set(err, EINVAL, "%s: \"%.80s\" is not a label key ([DNS subdomain/]name of 63)",
					      item, key);
		if (!json_is_string(value) || !kilo_label_value_valid(json_string_value(value)))
			return kilo_np_field_bad(err, item, value, "a label value (63 of A-Z, a-z, 0-9, '-', '_', '.')");
		values = kilo_arena_array(arena, 1, sizeof(*values));
		req->key = kilo_arena_strdup(arena, key);
		if (!values || !req->key || !(values[0] = kilo_arena_strdup(arena, json_string_value(value))))
			return kilo_error_set(err, ENOMEM, "out of memory");
		req->op = KILO_NP_IN;
		req->values = values;
		req->n_values = 1;
	}
	return 0;
}

static int read_expression(struct kilo_arena *arena, json_t *expr, const char *path, struct kilo_np_requirement *req,
			   struct kilo_error *err)
{
	static const char *const operators[] = { "In", "NotIn", "Exists", "DoesNotExist" };
	json_t *key = json_object_get(expr, "key"), *op = json_object_get(expr, "operator");
	json_t *values = json_object_get(expr, "values"), *v;
	char item[KILO_NP_PATH_MAX];
	const char **copy;
	size_t i;

	if (!json_is_object(expr))
		return kilo_np_field_bad(err, path, expr, "an object (key, operator, values)");
	snprintf(item, sizeof(item), "%.180s.key", path);
	if (!json_is_string(key) || !kilo_label_key_valid(json_string_value(key)))
		return kilo_np_field_bad(err, item, key, "a label key ([DNS subdomain/]name of 63)");
	snprintf(item, sizeof(item), "%.180s.operator", path);
	for (i = 0; i < 4 && !(json_is_string(op) && strcmp(json_string_value(op), operators[i]) == 0); i++)
		;
	if (i == 4)
		return kilo_np_field_bad(err, item, op, "In, NotIn, Exists or DoesNotExist");
	req->op = (enum kilo_np_operator)i;
	snprintf(item, sizeof(item), "%.180s.values", path);
	if (values && !json_is_null(values) && !json_is_array(values))
		return kilo_np_field_bad(err, item, values, "an array of label values");
	if ((req->op == KILO_NP_IN || req->op == KILO_NP_NOT_IN) && json_array_size(values) == 0)
		return kilo_error_set(err, EINVAL, "%s: required (at least one value) with operator %s", item,
				      operators[req->op]);
	if ((req->op == KILO_NP_EXISTS || req->op == KILO_NP_DOES_NOT_EXIST) && json_array_size(values) > 0)
		return kilo_error_set(err, EINVAL, "%s: must be empty with operator %s", item, operators[req->op]);
	req->key = kilo_arena_strdup(arena, json_string_value(key));
	copy = kilo_arena_array(arena, json_array_size(values) + 1, sizeof(*copy));
	if (!req->key || !copy)
		return kilo_error_set(err, ENOMEM, "out of memory");
	json_array_foreach(values, i, v) {
		snprintf(item, sizeof(item), "%.180s.values[%zu]", path, i);
		if (!json_is_string(v) || !kilo_label_value_valid(json_string_value(v)))
			return kilo_np_field_bad(err, item, v, "a label value (63 of A-Z, a-z, 0-9, '-', '_', '.')");
		if (!(copy[i] = kilo_arena_strdup(arena, json_string_value(v))))
			return kilo_error_set(err, ENOMEM, "out of memory");
	}
	req->values = copy;
	req->n_values = json_array_size(values);
	return 0;
}

int kilo_np_selector_read(struct kilo_arena *arena, json_t *value, const char *path, struct kilo_np_selector *out,
			  struct kilo_error *err)
{
	json_t *labels = json_object_get(value, "matchLabels"), *exprs = json_object_get(value, "matchExpressions"), *e;
	struct kilo_np_requirement *reqs;
	char item[KILO_NP_PATH_MAX];
	size_t n = 0, i;
	int r;

	*out = (struct kilo_np_selector){ 0 };
	if (!json_is_object(value))
		return kilo_np_field_bad(err, path, value, "a label selector (an object)");
	snprintf(item, sizeof(item), "%.180s.matchLabels", path);
	if (labels && !json_is_null(labels) && !json_is_object(labels))
		return kilo_np_field_bad(err, item, labels, "an object of labels");
	snprintf(item, sizeof(item), "%.180s.matchExpressions", path);
	if (exprs && !json_is_null(exprs) && !json_is_array(exprs))
		return kilo_np_field_bad(err, item, exprs, "an array of expressions");
	reqs = kilo_arena_array(arena, json_object_size(labels) + json_array_size(exprs) + 1, sizeof(*reqs));
	if (!reqs)
		return kilo_error_set(err, ENOMEM, "out of memory");
	if ((r = read_match_labels(arena, labels, path, reqs, &n, err)) < 0)
		return r;
	json_array_foreach(exprs, i, e) {
		snprintf(item, sizeof(item), "%.180s.matchExpressions[%zu]", path, i);
		if ((r = read_expression(arena, e, item, &reqs[n++], err)) < 0)
			return r;
	}
	out->requirements = reqs;
	out->n_requirements = n;
	return 0;
}

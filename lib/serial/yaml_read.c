// SPDX-License-Identifier: Apache-2.0
/*
 * A YAML reader over libyaml's events: each document becomes a jansson
 * value. Kubernetes turns YAML into JSON before it reads an object
 * (sigs.k8s.io/yaml over go-yaml v2), so scalars are typed by go-yaml's
 * YAML 1.1 rules, which the writer (yaml.c) quotes against.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../core/error.h"
#include "../core/strbuf.h"
#include "yaml.h"
#include "yaml_read.h"

/* A container being filled, and where it sits in its parent (for error paths). */
struct frame {
	json_t *container;
	char *key;         /* a mapping's key whose value comes next; NULL when a key comes next */
	char *name;        /* its key in the parent mapping, or NULL ... */
	size_t index;      /* ... its index in the parent sequence */
};

struct reader {
	struct frame stack[KILO_YAML_MAX_DEPTH];
	size_t depth;
	json_t *root;
	size_t document, line;
	struct kilo_error *err;
};

/* The field the reader is at: spec.ports[1].name. */
static void field_path(const struct reader *rd, struct kilo_strbuf *sb)
{
	for (size_t i = 1; i < rd->depth; i++) {
		if (rd->stack[i].name)
			kilo_strbuf_printf(sb, "%s%.80s", sb->len ? "." : "", rd->stack[i].name);
		else
			kilo_strbuf_printf(sb, "[%zu]", rd->stack[i].index);
	}
	if (!rd->depth)
		return;
	if (json_is_array(rd->stack[rd->depth - 1].container))
		kilo_strbuf_printf(sb, "[%zu]", json_array_size(rd->stack[rd->depth - 1].container));
	else if (rd->stack[rd->depth - 1].key)
		kilo_strbuf_printf(sb, "%s%.80s", sb->len ? "." : "", rd->stack[rd->depth - 1].key);
}

static int __attribute__((format(printf, 3, 4))) fail(struct reader *rd, const yaml_mark_t *mark, const char *fmt, ...)
{
	struct kilo_strbuf path = { 0 };
	char message[KILO_ERROR_MESSAGE_MAX];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	kilo_strbuf_append(&path, "");
	field_path(rd, &path);
	r = kilo_error_set(rd->err, EINVAL, "document %zu, line %zu: %s%s%s", rd->document, (size_t)mark->line + 1,
			   path.data && path.len ? path.data : "", path.data && path.len ? ": " : "", message);
	kilo_strbuf_reset(&path);
	return r;
}

/* Go's strconv.ParseInt(s, 0, 64) with go-yaml's underscores dropped; false when it does not fit. */
static bool parse_integer(const char *text, json_int_t *out)
{
	char digits[64], *end;
	size_t n = 0;
	int base = 10;
	const char *p;
	bool negative;

	for (p = text; *p && n + 1 < sizeof(digits); p++)
		if (*p != '_')
			digits[n++] = *p;
	if (*p)
		return false;
	digits[n] = '\0';
	p = digits;
	negative = *p == '-';
	if (*p == '+' || *p == '-')
		p++;
	if (p[0] == '0' && p[1] && strchr("xX", p[1]))
		base = 16, p += 2;
	else if (p[0] == '0' && p[1] && strchr("oO", p[1]))
		base = 8, p += 2;
	else if (p[0] == '0' && p[1] && strchr("bB", p[1]))
		base = 2, p += 2;
	else if (p[0] == '0' && p[1])
		base = 8, p += 1;
	if (!*p || *p == '-' || *p == '+')
		return false;
	errno = 0;
	uint64_t v = strtoull(p, &end, base);
	if (errno || *end || v > (uint64_t)INT64_MAX + negative)
		return false;
	*out = negative ? (json_int_t)(0 - v) : (json_int_t)v;
	return true;
}

static bool parse_float(const char *text, double *out)
{
	char digits[64], *end;
	size_t n = 0;
	const char *p;

	for (p = text; *p && n + 1 < sizeof(digits); p++)
		if (*p != '_')
			digits[n++] = *p;
	digits[n] = '\0';
	/* Go's ParseFloat takes no hexadecimal without an exponent, which YAML's floats never have. */
	if (strpbrk(digits, "xX"))
		return false;
	errno = 0;
	*out = strtod(digits, &end);
	return !*p && !*end && errno == 0 && isfinite(*out);
}

/* A scalar's value: plain ones typed as go-yaml types them, the others strings. */
static int scalar_value(struct reader *rd, const yaml_event_t *ev, json_t **out)
{
	const char *text = (const char *)ev->data.scalar.value, *tag = (const char *)ev->data.scalar.tag;
	size_t len = ev->data.scalar.length;
	json_int_t integer;
	double real;

	*out = NULL;
	if (strlen(text) != len)
		return fail(rd, &ev->start_mark, "a NUL character is not allowed in a string");
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || (tag && !strcmp(tag, YAML_STR_TAG))) {
		*out = json_stringn(text, len);
		if (!*out)
			return fail(rd, &ev->start_mark, "not valid UTF-8");
		return 0;
	}
	switch (kilo_yaml_resolve_plain(text)) {
	case KILO_YAML_NULL:
		*out = json_null();
		break;
	case KILO_YAML_TRUE:
		*out = json_true();
		break;
	case KILO_YAML_FALSE:
		*out = json_false();
		break;
	case KILO_YAML_INT:
		if (parse_integer(text, &integer)) {
			*out = json_integer(integer);
			break;
		}
		/* Like go-yaml: an integer that fails as one may still be a float (019 is 19). */
		if (!parse_float(text, &real))
			return fail(rd, &ev->start_mark, "%.40s: out of range of a 64-bit integer", text);
		*out = json_real(real);
		break;
	case KILO_YAML_FLOAT:
		if (!parse_float(text, &real))
			return fail(rd, &ev->start_mark, "%.40s: not a finite number (JSON has no other)", text);
		*out = json_real(real);
		break;
	default:
		*out = json_stringn(text, len);
		if (!*out)
			return fail(rd, &ev->start_mark, "not valid UTF-8");
	}
	return *out ? 0 : kilo_error_set(rd->err, ENOMEM, "out of memory");
}

/* Puts value (a new reference, taken) where the reader is: the root, a sequence's end, or a mapping's key. */
static int place(struct reader *rd, json_t *value)
{
	struct frame *top;
	int r;

	if (!rd->depth) {
		rd->root = value;
		return 0;
	}
	top = &rd->stack[rd->depth - 1];
	if (json_is_array(top->container))
		r = json_array_append_new(top->container, value);
	else
		r = json_object_set_new(top->container, top->key, value);
	if (!json_is_array(top->container)) {
		free(top->key);
		top->key = NULL;
	}
	return r < 0 ? kilo_error_set(rd->err, ENOMEM, "out of memory") : 0;
}

static int take_key(struct reader *rd, const yaml_event_t *ev)
{
	struct frame *top = &rd->stack[rd->depth - 1];
	const char *key = (const char *)ev->data.scalar.value;

	if (strlen(key) != ev->data.scalar.length)
		return fail(rd, &ev->start_mark, "a NUL character is not allowed in a key");
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !strcmp(key, "<<"))
		return fail(rd, &ev->start_mark, "merge keys (<<) are not supported");
	if (json_object_get(top->container, key))
		return fail(rd, &ev->start_mark, "key \"%.80s\" appears twice", key);
	top->key = strdup(key);
	return top->key ? 0 : kilo_error_set(rd->err, ENOMEM, "out of memory");
}

static bool expects_key(const struct reader *rd)
{
	return rd->depth && json_is_object(rd->stack[rd->depth - 1].container) && !rd->stack[rd->depth - 1].key;
}

static int open_container(struct reader *rd, const yaml_event_t *ev, json_t *container)
{
	struct frame *parent = rd->depth ? &rd->stack[rd->depth - 1] : NULL, frame = { .container = container };
	int r;

	if (!container)
		return kilo_error_set(rd->err, ENOMEM, "out of memory");
	if (rd->depth == KILO_YAML_MAX_DEPTH) {
		json_decref(container);
		return fail(rd, &ev->start_mark, "nested deeper than %d levels", KILO_YAML_MAX_DEPTH);
	}
	if (parent && json_is_array(parent->container)) {
		frame.index = json_array_size(parent->container);
	} else if (parent && !(frame.name = strdup(parent->key))) {
		json_decref(container);
		return kilo_error_set(rd->err, ENOMEM, "out of memory");
	}
	r = place(rd, json_incref(container));
	json_decref(container);
	if (r < 0) {
		free(frame.name);
		return r;
	}
	rd->stack[rd->depth++] = frame;
	return 0;
}

static void close_container(struct reader *rd)
{
	struct frame *top = &rd->stack[--rd->depth];

	free(top->key);
	free(top->name);
}

static int on_event(struct reader *rd, const yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL;
	json_t *value;
	int r;

	if (ev->type == YAML_SCALAR_EVENT)
		anchor = ev->data.scalar.anchor;
	else if (ev->type == YAML_MAPPING_START_EVENT)
		anchor = ev->data.mapping_start.anchor;
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		anchor = ev->data.sequence_start.anchor;
	if (anchor)
		return fail(rd, &ev->start_mark, "an anchor (&%.40s) is not supported", (const char *)anchor);
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail(rd, &ev->start_mark, "an alias (*%.40s) is not supported", (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		if (expects_key(rd))
			return take_key(rd, ev);
		r = scalar_value(rd, ev, &value);
		return r < 0 ? r : place(rd, value);
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (expects_key(rd))
			return fail(rd, &ev->start_mark, "a key must be a scalar");
		return open_container(rd, ev, ev->type == YAML_MAPPING_START_EVENT ? json_object() : json_array());
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		close_container(rd);
		return 0;
	default:
		return 0;
	}
}

int kilo_yaml_read(const char *text, size_t len, kilo_yaml_document_fn on_document, void *ctx,
		   struct kilo_error *err)
{
	struct reader rd = { .err = err };
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;
	int r = 0;

	if (!yaml_parser_initialize(&parser))
		return kilo_error_set(err, ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			r = kilo_error_set(err, EINVAL, "document %zu, line %zu: %s%s%s", rd.document ? rd.document : 1,
					   (size_t)parser.problem_mark.line + 1, parser.problem ? parser.problem : "not YAML",
					   parser.context ? " " : "", parser.context ? parser.context : "");
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++rd.document > KILO_YAML_MAX_DOCUMENTS)
				r = fail(&rd, &ev.start_mark, "more than %d documents", KILO_YAML_MAX_DOCUMENTS);
			rd.line = (size_t)ev.start_mark.line + 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			r = on_document(ctx, rd.root ? rd.root : json_null(), rd.document, rd.line, err);
			rd.root = NULL;
			break;
		default:
			r = on_event(&rd, &ev);
		}
		yaml_event_delete(&ev);
	}
	while (rd.depth)
		close_container(&rd);
	json_decref(rd.root);
	yaml_parser_delete(&parser);
	return r;
}

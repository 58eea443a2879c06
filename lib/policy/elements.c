/* SPDX-License-Identifier: Apache-2.0 */
#include "elements.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "../core/error.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_space(struct kilo_json_elements *r)
{
	while (r->pos < r->len && is_space(r->text[r->pos]))
		r->pos++;
}

/* Where the value at pos ends: after its closing bracket or quote, or, for another scalar, at a separator. */
static size_t value_end(const char *t, size_t pos, size_t len)
{
	size_t depth = 0;
	bool in_string = false;

	for (size_t i = pos; i < len; i++) {
		char c = t[i];

		if (in_string) {
			if (c == '\\') {
				i++;
			} else if (c == '"') {
				in_string = false;
				if (depth == 0)
					return i + 1;
			}
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',' || is_space(c))) {
			return i;
		}
	}
	return len;
}

int kilo_json_elements_open(struct kilo_json_elements *r, const char *text, size_t len, const char *what,
			    struct kilo_error *err)
{
	*r = (struct kilo_json_elements){ .text = text ? text : "[]", .len = text ? len : 2, .what = what };
	skip_space(r);
	if (r->pos == r->len || r->text[r->pos] != '[')
		return kilo_error_set(err, EINVAL, "%s: not a JSON array of objects", what);
	r->pos++;
	skip_space(r);
	return 0;
}

int kilo_json_elements_next(struct kilo_json_elements *r, const char **start, size_t *len, struct kilo_error *err)
{
	size_t end;

	if (r->pos < r->len && r->text[r->pos] == ']') {
		r->pos++;
		skip_space(r);
		if (r->pos != r->len)
			return kilo_error_set(err, EINVAL, "%s: not JSON: text after the array's end", r->what);
		return 0;
	}
	if (r->index > 0) {
		if (r->pos == r->len || r->text[r->pos] != ',')
			return kilo_error_set(err, EINVAL, "%s: not JSON: no ',' or ']' after element %zu", r->what,
					      r->index - 1);
		r->pos++;
		skip_space(r);
	}
	end = value_end(r->text, r->pos, r->len);
	/* An empty element ("[x,]") would also let a reader that skips known elements stand still. */
	if (end == r->pos)
		return kilo_error_set(err, EINVAL, "%s[%zu]: not JSON: no value", r->what, r->index);
	*start = r->text + r->pos;
	*len = end - r->pos;
	r->pos = end;
	r->index++;
	skip_space(r);
	return 1;
}

size_t kilo_json_elements_at(const struct kilo_json_elements *r)
{
	size_t pos = r->pos + (r->index > 0 && r->pos < r->len && r->text[r->pos] == ',');

	while (pos < r->len && is_space(r->text[pos]))
		pos++;
	return pos;
}

void kilo_json_elements_skip(struct kilo_json_elements *r, size_t len)
{
	kilo_json_elements_skip_to(r, kilo_json_elements_at(r) + len, 1);
}

void kilo_json_elements_skip_to(struct kilo_json_elements *r, size_t end, size_t count)
{
	r->pos = end;
	r->index += count;
	skip_space(r);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A YAML writer for the few documents libkilo prints as Kubernetes would.
 * The quoting follows go-yaml v2, which Kubernetes tools use: a string is
 * double-quoted when a plain scalar would resolve to another type (null,
 * booleans of YAML 1.1, numbers, timestamps), single-quoted when the YAML
 * syntax forbids it as a plain scalar (indicators, ": ", " #", leading or
 * trailing spaces), and double-quoted with escapes when it holds
 * characters that only that style can carry. Multi-line strings are
 * double-quoted rather than written as literal blocks, and long lines are
 * not folded.
 */
#include "yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Plain scalars that YAML 1.1 (as go-yaml v2 resolves them) reads as null, a boolean or a float. */
static const struct {
	const char *word;
	enum kilo_yaml_plain type;
} reserved_words[] = {
	{ "~", KILO_YAML_NULL },      { "null", KILO_YAML_NULL },   { "Null", KILO_YAML_NULL },
	{ "NULL", KILO_YAML_NULL },   { "y", KILO_YAML_TRUE },      { "Y", KILO_YAML_TRUE },
	{ "yes", KILO_YAML_TRUE },    { "Yes", KILO_YAML_TRUE },    { "YES", KILO_YAML_TRUE },
	{ "n", KILO_YAML_FALSE },     { "N", KILO_YAML_FALSE },     { "no", KILO_YAML_FALSE },
	{ "No", KILO_YAML_FALSE },    { "NO", KILO_YAML_FALSE },    { "true", KILO_YAML_TRUE },
	{ "True", KILO_YAML_TRUE },   { "TRUE", KILO_YAML_TRUE },   { "false", KILO_YAML_FALSE },
	{ "False", KILO_YAML_FALSE }, { "FALSE", KILO_YAML_FALSE }, { "on", KILO_YAML_TRUE },
	{ "On", KILO_YAML_TRUE },     { "ON", KILO_YAML_TRUE },     { "off", KILO_YAML_FALSE },
	{ "Off", KILO_YAML_FALSE },   { "OFF", KILO_YAML_FALSE },   { ".inf", KILO_YAML_FLOAT },
	{ ".Inf", KILO_YAML_FLOAT },  { ".INF", KILO_YAML_FLOAT },  { "+.inf", KILO_YAML_FLOAT },
	{ "+.Inf", KILO_YAML_FLOAT }, { "+.INF", KILO_YAML_FLOAT }, { "-.inf", KILO_YAML_FLOAT },
	{ "-.Inf", KILO_YAML_FLOAT }, { "-.INF", KILO_YAML_FLOAT }, { ".nan", KILO_YAML_FLOAT },
	{ ".NaN", KILO_YAML_FLOAT },  { ".NAN", KILO_YAML_FLOAT },
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t span_digits(const char *s, const char *set)
{
	return strspn(s, set);
}

/* [eE][-+]?[0-9]+ or nothing, up to the end. */
static bool exponent_to_end(const char *s)
{
	if (!*s)
		return true;
	if (*s != 'e' && *s != 'E')
		return false;
	s++;
	if (*s == '+' || *s == '-')
		s++;
	return is_digit(*s) && !s[span_digits(s, "0123456789")];
}

/* Go's strconv.ParseInt(s, 0, 64) syntax, or go-yaml's float pattern. */
static bool is_number(const char *s)
{
	size_t n;

	if (*s == '+' || *s == '-')
		s++;
	if (s[0] == '0' && s[1] && strchr("xXoObB", s[1])) {
		const char *digits = strchr("xX", s[1]) ? "0123456789abcdefABCDEF" : strchr("oO", s[1]) ? "01234567" : "01";

		n = span_digits(s + 2, digits);
		return n > 0 && !s[2 + n];
	}
	if (*s == '.')
		return is_digit(s[1]) && exponent_to_end(s + 1 + span_digits(s + 1, "0123456789"));
	n = span_digits(s, "0123456789");
	if (!n)
		return false;
	s += n;
	if (*s == '.')
		s += 1 + span_digits(s + 1, "0123456789");
	return exponent_to_end(s);
}

/* go-yaml's timestamps start with a date: YYYY-M-D, then the end or a time. */
static bool is_timestamp(const char *s)
{
	size_t n;

	if (span_digits(s, "0123456789") != 4 || s[4] != '-')
		return false;
	s += 5;
	for (int part = 0; part < 2; part++) {
		n = span_digits(s, "0123456789");
		if (n < 1 || n > 2)
			return false;
		s += n;
		if (part == 0 && *s++ != '-')
			return false;
	}
	return !*s || *s == 'T' || *s == 't' || *s == ' ';
}

/* YAML 1.1 sexagesimal floats such as 190:20:30.15. */
static bool is_base60_float(const char *s)
{
	size_t n;
	bool colon = false;

	if (*s == '+' || *s == '-')
		s++;
	if (!is_digit(*s))
		return false;
	s += span_digits(s, "0123456789_");
	while (*s == ':') {
		s++;
		n = span_digits(s, "0123456789");
		if (n < 1 || n > 2 || (n == 2 && s[0] > '5'))
			return false;
		s += n;
		colon = true;
	}
	if (*s == '.')
		s += 1 + span_digits(s + 1, "0123456789_");
	return colon && !*s;
}

enum kilo_yaml_plain kilo_yaml_resolve_plain(const char *s)
{
	char plain[64];
	size_t n = 0;

	if (!*s)
		return KILO_YAML_NULL;
	for (size_t i = 0; i < sizeof(reserved_words) / sizeof(reserved_words[0]); i++)
		if (!strcmp(s, reserved_words[i].word))
			return reserved_words[i].type;
	if (is_base60_float(s))
		return KILO_YAML_OTHER;
	if (*s == '.')
		return is_number(s) ? KILO_YAML_FLOAT : KILO_YAML_STRING;
	if (!is_digit(*s) && *s != '+' && *s != '-')
		return KILO_YAML_STRING;
	if (is_timestamp(s))
		return KILO_YAML_OTHER;
	/* Underscores separate digits in YAML 1.1 numbers. */
	for (const char *p = s; *p; p++) {
		if (*p == '_')
			continue;
		if (n + 1 >= sizeof(plain))
			return KILO_YAML_STRING;
		plain[n++] = *p;
	}
	plain[n] = '\0';
	if (!is_number(plain))
		return KILO_YAML_STRING;
	return strpbrk(plain, ".eE") && !strpbrk(plain, "xX") ? KILO_YAML_FLOAT : KILO_YAML_INT;
}

static size_t utf8_width(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 1;
}

/* go-yaml's notion of a printable character (4-byte sequences are not). */
static bool is_printable(const unsigned char *b)
{
	return b[0] == 0x0a || (b[0] >= 0x20 && b[0] <= 0x7e) || (b[0] == 0xc2 && b[1] >= 0xa0) ||
	       (b[0] > 0xc2 && b[0] < 0xed) || (b[0] == 0xed && b[1] < 0xa0) || b[0] == 0xee ||
	       (b[0] == 0xef && !(b[1] == 0xbb && b[2] == 0xbf) && !(b[1] == 0xbf && (b[2] == 0xbe || b[2] == 0xbf)));
}

static bool is_break(const unsigned char *b)
{
	return b[0] == '\r' || b[0] == '\n' || (b[0] == 0xc2 && b[1] == 0x85) ||
	       (b[0] == 0xe2 && b[1] == 0x80 && (b[2] == 0xa8 || b[2] == 0xa9));
}

static bool is_blank(const unsigned char *b)
{
	return b[0] == ' ' || b[0] == '\t';
}

enum kilo_yaml_style kilo_yaml_string_style(const char *s)
{
	const unsigned char *b = (const unsigned char *)s;
	size_t len = strlen(s), i, w;
	bool block_indicators = false, special = false, leading_space = false, trailing_space = false;
	bool line_breaks = false, space_break = false, break_space = false, previous_space = false;
	bool previous_break = false, preceded_by_whitespace = true, followed_by_whitespace;

	if (kilo_yaml_resolve_plain(s) != KILO_YAML_STRING)
		return KILO_YAML_DOUBLE_QUOTED;
	if (len >= 3 && (!strncmp(s, "---", 3) || !strncmp(s, "...", 3)))
		block_indicators = true;
	for (i = 0; i < len; i += w) {
		w = utf8_width(b[i]);
		followed_by_whitespace = i + w >= len || is_blank(b + i + w);
		if (i == 0 && strchr("#,[]{}&*!|>'\"%@`", b[i]))
			block_indicators = true;
		else if (i == 0 && (b[i] == '?' || b[i] == ':' || b[i] == '-') && followed_by_whitespace)
			block_indicators = true;
		else if (i > 0 && b[i] == ':' && followed_by_whitespace)
			block_indicators = true;
		else if (i > 0 && b[i] == '#' && preceded_by_whitespace)
			block_indicators = true;
		if (!is_printable(b + i))
			special = true;
		if (b[i] == ' ') {
			leading_space |= i == 0;
			trailing_space |= i + w >= len;
			break_space |= previous_break;
			previous_space = true;
			previous_break = false;
		} else if (is_break(b + i)) {
			line_breaks = true;
			space_break |= previous_space;
			previous_break = true;
			previous_space = false;
		} else {
			previous_space = previous_break = false;
		}
		preceded_by_whitespace = is_blank(b + i) || is_break(b + i);
	}
	/* go-yaml writes these as literal blocks; a double-quoted string reads back the same. */
	if (special || line_breaks || space_break || break_space)
		return KILO_YAML_DOUBLE_QUOTED;
	if (block_indicators || leading_space || trailing_space)
		return KILO_YAML_SINGLE_QUOTED;
	return KILO_YAML_PLAIN;
}

static unsigned int decode_utf8(const unsigned char *b, size_t w)
{
	static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned int c = b[0] & lead_mask[w];

	for (size_t k = 1; k < w; k++)
		c = (c << 6) | (b[k] & 0x3f);
	return c;
}

static void append_double_quoted(struct kilo_strbuf *sb, const char *s)
{
	static const char *const short_escapes[] = {
		['\0'] = "\\0", ['\a'] = "\\a", ['\b'] = "\\b", ['\t'] = "\\t", ['\n'] = "\\n",
		['\v'] = "\\v", ['\f'] = "\\f", ['\r'] = "\\r", [0x1b] = "\\e",
	};
	const unsigned char *b = (const unsigned char *)s;
	size_t w;

	kilo_strbuf_append(sb, "\"");
	for (size_t i = 0; b[i]; i += w) {
		unsigned int c;

		w = utf8_width(b[i]);
		if (is_printable(b + i) && b[i] != '\n' && b[i] != '"' && b[i] != '\\' && !is_break(b + i)) {
			kilo_strbuf_append_len(sb, s + i, w);
			continue;
		}
		c = decode_utf8(b + i, w);
		if (c < sizeof(short_escapes) / sizeof(short_escapes[0]) && short_escapes[c])
			kilo_strbuf_append(sb, short_escapes[c]);
		else if (c == '"' || c == '\\')
			kilo_strbuf_printf(sb, "\\%c", (char)c);
		else if (c == 0x85)
			kilo_strbuf_append(sb, "\\N");
		else if (c == 0x2028)
			kilo_strbuf_append(sb, "\\L");
		else if (c == 0x2029)
			kilo_strbuf_append(sb, "\\P");
		else if (c <= 0xff)
			kilo_strbuf_printf(sb, "\\x%02X", c);
		else if (c <= 0xffff)
			kilo_strbuf_printf(sb, "\\u%04X", c);
		else
			kilo_strbuf_printf(sb, "\\U%08X", c);
	}
	kilo_strbuf_append(sb, "\"");
}

static void append_string(struct kilo_strbuf *sb, const char *s)
{
	switch (kilo_yaml_string_style(s)) {
	case KILO_YAML_PLAIN:
		kilo_strbuf_append(sb, s);
		break;
	case KILO_YAML_SINGLE_QUOTED:
		kilo_strbuf_append(sb, "'");
		for (const char *p = s; *p; p++) {
			if (*p == '\'')
				kilo_strbuf_append(sb, "'");
			kilo_strbuf_append_len(sb, p, 1);
		}
		kilo_strbuf_append(sb, "'");
		break;
	case KILO_YAML_DOUBLE_QUOTED:
		append_double_quoted(sb, s);
		break;
	}
}

static void append_scalar(struct kilo_strbuf *sb, const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_STRING:
		append_string(sb, json_string_value(value));
		break;
	case JSON_INTEGER:
		kilo_strbuf_printf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
		break;
	case JSON_REAL:
		kilo_strbuf_printf(sb, "%.17g", json_real_value(value));
		break;
	case JSON_TRUE:
		kilo_strbuf_append(sb, "true");
		break;
	case JSON_FALSE:
		kilo_strbuf_append(sb, "false");
		break;
	default:
		kilo_strbuf_append(sb, "null");
		break;
	}
}

static void append_indent(struct kilo_strbuf *sb, size_t indent)
{
	for (size_t i = 0; i < indent; i++)
		kilo_strbuf_append(sb, " ");
}

static void append_node(struct kilo_strbuf *sb, const json_t *value, size_t indent, bool inline_first);

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A mapping at indent; with inline_first, the caller already wrote the
 * first line's indentation (a sequence item's "- ").
 */
static void append_mapping(struct kilo_strbuf *sb, const json_t *object, size_t indent, bool inline_first)
{
	size_t n = json_object_size(object), i = 0;
	const char **keys = calloc(n, sizeof(*keys));
	const char *key;
	json_t *value;

	if (!keys) {
		sb->failed = true;
		return;
	}
	json_object_foreach((json_t *)object, key, value)
		keys[i++] = key;
	qsort(keys, n, sizeof(keys[0]), by_key);
	for (i = 0; i < n; i++) {
		value = json_object_get(object, keys[i]);
		if (i > 0 || !inline_first)
			append_indent(sb, indent);
		append_string(sb, keys[i]);
		kilo_strbuf_append(sb, ":");
		if (json_is_object(value) && json_object_size(value)) {
			kilo_strbuf_append(sb, "\n");
			append_node(sb, value, indent + 2, false);
		} else if (json_is_array(value) && json_array_size(value)) {
			/* Sequences sit at their key's indentation. */
			kilo_strbuf_append(sb, "\n");
			append_node(sb, value, indent, false);
		} else {
			kilo_strbuf_append(sb, " ");
			append_node(sb, value, indent, true);
		}
	}
	free(keys);
}

static void append_sequence(struct kilo_strbuf *sb, const json_t *array, size_t indent, bool inline_first)
{
	size_t i;
	json_t *value;

	json_array_foreach(array, i, value) {
		if (i > 0 || !inline_first)
			append_indent(sb, indent);
		kilo_strbuf_append(sb, "- ");
		append_node(sb, value, indent + 2, true);
	}
}

static void append_node(struct kilo_strbuf *sb, const json_t *value, size_t indent, bool inline_first)
{
	if (json_is_object(value) && json_object_size(value)) {
		append_mapping(sb, value, indent, inline_first);
	} else if (json_is_array(value) && json_array_size(value)) {
		append_sequence(sb, value, indent, inline_first);
	} else {
		if (json_is_object(value))
			kilo_strbuf_append(sb, "{}");
		else if (json_is_array(value))
			kilo_strbuf_append(sb, "[]");
		else
			append_scalar(sb, value);
		kilo_strbuf_append(sb, "\n");
	}
}

void kilo_yaml_append(struct kilo_strbuf *sb, const json_t *root)
{
	append_node(sb, root, 0, false);
}

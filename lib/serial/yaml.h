/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML in the form Kubernetes tools print it (sigs.k8s.io/yaml over
 * go-yaml v2): block style, keys sorted, sequences not indented under
 * their key, strings quoted only where a plain scalar would read back as
 * something else.
 */
#ifndef KILO_LIB_SERIAL_YAML_H
#define KILO_LIB_SERIAL_YAML_H

#include <jansson.h>

#include "../core/strbuf.h"

enum kilo_yaml_style {
	KILO_YAML_PLAIN,
	KILO_YAML_SINGLE_QUOTED,
	KILO_YAML_DOUBLE_QUOTED,
};

/* What go-yaml v2 (YAML 1.1) reads a plain scalar as. */
enum kilo_yaml_plain {
	KILO_YAML_STRING,
	KILO_YAML_NULL,
	KILO_YAML_TRUE,
	KILO_YAML_FALSE,
	KILO_YAML_INT,   /* Go's strconv.ParseInt(s, 0, 64) syntax, with '_' between digits */
	KILO_YAML_FLOAT,
	KILO_YAML_OTHER, /* a timestamp or a sexagesimal number */
};
enum kilo_yaml_plain kilo_yaml_resolve_plain(const char *s);

/* How go-yaml writes the string s as a value in block context. */
enum kilo_yaml_style kilo_yaml_string_style(const char *s);

/* Appends the document for a JSON object (strings, integers, booleans, null, arrays, objects). */
void kilo_yaml_append(struct kilo_strbuf *sb, const json_t *root);

#endif

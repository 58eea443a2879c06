/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML documents read into jansson values, with scalars typed as
 * Kubernetes reads them (go-yaml v2, YAML 1.1): a plain 80 is a number,
 * true and yes are booleans, ~ and null are null, and a quoted or block
 * scalar stays a string. Anchors, aliases and merge keys are refused.
 */
#ifndef KILO_LIB_SERIAL_YAML_READ_H
#define KILO_LIB_SERIAL_YAML_READ_H

#include <jansson.h>
#include <stddef.h>

#include <kilo/core.h>

/* Nesting beyond this is refused, so that no document can exhaust the stack of a reader. */
#define KILO_YAML_MAX_DEPTH 64
/* Documents in one text: a manifest of 50,000 Services and their EndpointSlices fits. */
#define KILO_YAML_MAX_DOCUMENTS 100000

/*
 * Called with each document (a new reference the callee takes; json null
 * for an empty document), its number from 1 and the line it starts on.
 */
typedef int (*kilo_yaml_document_fn)(void *ctx, json_t *root, size_t number, size_t line, struct kilo_error *err);

/*
 * Reads every document of text (len bytes; it need not end in NUL).
 * Errors name the document, the line and the field:
 * `document 2, line 7: spec.ports[0]: an alias (*http) is not supported`.
 * Stops at the first error, of the text or of on_document.
 */
int kilo_yaml_read(const char *text, size_t len, kilo_yaml_document_fn on_document, void *ctx,
		   struct kilo_error *err);

#endif

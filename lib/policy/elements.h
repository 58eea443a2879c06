/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The elements of a JSON array, one at a time, as text: the store lists
 * 100,000 Services as one array, and a node that parses each element on
 * its own (or not at all, when it read the same text before) never holds
 * a tree of the whole list. Only the array's brackets, commas and each
 * element's extent are read here; jansson parses the elements, strictly,
 * so a text these functions misread is refused there.
 */
#ifndef KILO_LIB_POLICY_ELEMENTS_H
#define KILO_LIB_POLICY_ELEMENTS_H

#include <stddef.h>

#include <kilo/core.h>

struct kilo_json_elements {
	const char *text, *what;
	size_t len, pos;
	size_t index; /* of the next element */
};

/*
 * Opens text, a JSON array of len bytes named what in errors (NULL: an
 * empty one, len ignored). The caller knows the length: a listing of
 * 10,000 pods is not counted again. -EINVAL.
 */
int kilo_json_elements_open(struct kilo_json_elements *r, const char *text, size_t len, const char *what,
			    struct kilo_error *err);

/* The next element's text, *len bytes at *start: 1, or 0 after the last. -EINVAL when the array is malformed. */
int kilo_json_elements_next(struct kilo_json_elements *r, const char **start, size_t *len, struct kilo_error *err);
/* Where the next element starts (past the comma before it), or the array's end: what next would give. */
size_t kilo_json_elements_at(const struct kilo_json_elements *r);
/*
 * Moves past the next element, known to be len bytes (the same text as an
 * element next gave before): as next does, without reading it.
 */
void kilo_json_elements_skip(struct kilo_json_elements *r, size_t len);
/*
 * Moves past count elements at once, the last of which ends at end (known
 * from a read of the same text before): as count skips would.
 */
void kilo_json_elements_skip_to(struct kilo_json_elements *r, size_t end, size_t count);

#endif

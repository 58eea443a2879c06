/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parts of the mesh document that the Kubernetes translation shares:
 * a node or peer as a JSON object, in both directions, and the dump that
 * every JSON writer of this layer uses.
 */
#ifndef KILO_LIB_SERIAL_MESH_JSON_H
#define KILO_LIB_SERIAL_MESH_JSON_H

#include <jansson.h>

#include "../mesh/model.h"

/* Longest path and value quoted in an error message. */
#define KILO_JSON_PATH_MAX 160
#define KILO_JSON_VALUE_MAX 120

/*
 * Reads the node (or peer, or settings) object at path into *out, whose
 * strings and arrays come from arena. Unknown fields, missing required
 * ones and bad values are errors named by their path.
 */
int kilo_json_read_node(json_t *object, const char *path, struct kilo_arena *arena, struct kilo_node *out,
			struct kilo_error *err);
int kilo_json_read_peer(json_t *object, const char *path, struct kilo_arena *arena, struct kilo_peer *out,
			struct kilo_error *err);
int kilo_json_read_settings(json_t *object, const char *path, struct kilo_arena *arena, struct kilo_settings *out,
			    struct kilo_error *err);

/* The object of a node, peer or settings, without its empty optional fields; NULL when out of memory. */
json_t *kilo_json_write_node(const struct kilo_node *node);
json_t *kilo_json_write_peer(const struct kilo_peer *peer);
json_t *kilo_json_write_settings(const struct kilo_settings *settings);

/* The base64 text of key as a JSON string; the temporary text is wiped. */
json_t *kilo_json_key(const struct kilo_key *key);

/* value as compact JSON, shortened to fit, for error messages. */
void kilo_json_value_text(json_t *value, char out[KILO_JSON_VALUE_MAX]);

/* root pretty-printed with a final newline; free *out with kilo_free. */
int kilo_json_dump(json_t *root, char **out);

/* Overwrites the text of a JSON string that held a secret before it is freed. */
void kilo_json_wipe_string(json_t *string);

#endif

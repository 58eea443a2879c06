// SPDX-License-Identifier: Apache-2.0
/* One stored node or peer: the mesh document's object, named by its file. */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "../core/error.h"
#include "../serial/mesh_json.h"
#include "store.h"

typedef int (*read_object_fn)(json_t *object, const char *path, struct kilo_arena *arena, void *out,
			      struct kilo_error *err);

static int read_node(json_t *object, const char *path, struct kilo_arena *arena, void *out, struct kilo_error *err)
{
	return kilo_json_read_node(object, path, arena, out, err);
}

static int read_peer(json_t *object, const char *path, struct kilo_arena *arena, void *out, struct kilo_error *err)
{
	return kilo_json_read_peer(object, path, arena, out, err);
}

/* object_name points at the name member of *out, where read puts the object's name. */
static int parse(const char *text, size_t len, const char *name, read_object_fn read, struct kilo_arena *arena,
		 void *out, const char *const *object_name, struct kilo_error *err)
{
	json_error_t jerr;
	json_t *root;
	int r;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return kilo_error_set(err, EINVAL, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
	r = read(root, "", arena, out, err);
	json_decref(root);
	if (r < 0)
		return r == -ENOMEM ? kilo_error_set(err, ENOMEM, "out of memory") : r;
	if (!kilo_mesh_name_valid(*object_name))
		return kilo_error_set(err, EINVAL, "name: \"%.253s\" is not a valid name (a lower-case RFC 1123 subdomain)",
				      *object_name);
	if (name && strcmp(*object_name, name) != 0)
		return kilo_error_set(err, EINVAL, "name: \"%.200s\" does not match the name it is stored under (\"%.200s\")",
				      *object_name, name);
	return 0;
}

int kilo_store_parse_node(const char *text, size_t len, const char *name, struct kilo_arena *arena,
			  struct kilo_node *out, struct kilo_error *err)
{
	return parse(text, len, name, read_node, arena, out, &out->name, err);
}

int kilo_store_parse_peer(const char *text, size_t len, const char *name, struct kilo_arena *arena,
			  struct kilo_peer *out, struct kilo_error *err)
{
	return parse(text, len, name, read_peer, arena, out, &out->name, err);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifests (YAML and JSON) and the checks of every kind: never a crash, an
 * error always explained, and a canonical object that the YAML writer
 * prints and the reader reads back equal, as kgctl get -o yaml | kgctl
 * apply -f - relies on.
 */
#include <jansson.h>

#include <kilo/manifest.h>

#include "core/strbuf.h"
#include "fuzz.h"
#include "serial/manifest_check.h"
#include "serial/yaml.h"

/*
 * json_equal, but a number equals a number of the same value: YAML, as
 * go-yaml writes it, prints a float 84.0 as 84, which reads back as an
 * integer; JSON does not tell the two apart either.
 */
static bool same_value(json_t *a, json_t *b)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return false;
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return false;
		json_object_foreach(a, key, v)
			if (!json_object_get(b, key) || !same_value(v, json_object_get(b, key)))
				return false;
		return true;
	}
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		json_array_foreach(a, i, v)
			if (!same_value(v, json_array_get(b, i)))
				return false;
		return true;
	}
	return json_equal(a, b);
}

static void yaml_round_trip(json_t *object)
{
	struct kilo_strbuf sb = { 0 };
	struct kilo_error err = { 0 };
	kilo_manifest *again = NULL;
	json_t *read;
	int r;

	kilo_yaml_append(&sb, object);
	if (sb.failed) {
		kilo_strbuf_reset(&sb);
		return;
	}
	r = kilo_manifest_read(sb.data, sb.len, &again, &err);
	FUZZ_ASSERT(r == 0, "own YAML refused: %s\n%s", err.message, sb.data);
	FUZZ_ASSERT(kilo_manifest_count(again) == 1, "own YAML read as %zu objects:\n%s", kilo_manifest_count(again),
		    sb.data);
	read = json_loads(kilo_manifest_object(again, 0)->json, 0, NULL);
	if (!same_value(read, object)) {
		char *want = json_dumps(object, JSON_SORT_KEYS), *got = json_dumps(read, JSON_SORT_KEYS);

		FUZZ_ASSERT(false, "own YAML read back differently:\n%s\nwant %s\ngot  %s", sb.data, want, got);
	}
	json_decref(read);
	kilo_manifest_free(again);
	kilo_strbuf_reset(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kilo_error err = { 0 };
	kilo_manifest *manifest = NULL;
	int r = kilo_manifest_read((const char *)data, size, &manifest, &err);

	FUZZ_ASSERT_EXPLAINED(r, err, "kilo_manifest_read");
	for (size_t i = 0; i < kilo_manifest_count(manifest); i++) {
		const struct kilo_manifest_object *o = kilo_manifest_object(manifest, i);
		const struct kilo_object_kind *kind;
		json_t *object = json_loads(o->json, 0, NULL), *canonical = NULL;
		char *text = NULL;

		FUZZ_ASSERT(object, "a manifest object is not JSON: %s", o->json);
		memset(&err, 0, sizeof(err));
		r = kilo_object_canonical(object, &kind, &canonical, &err);
		FUZZ_ASSERT_EXPLAINED(r, err, "kilo_object_canonical");
		if (r == 0 && kind->check) {
			char *json = json_dumps(canonical, JSON_COMPACT);

			yaml_round_trip(canonical);
			FUZZ_ASSERT(kilo_objects_format(kind->kind, json, KILO_OBJECT_TABLE, &text, NULL) == 0,
				    "no table of a canonical object: %s", json);
			kilo_free(text);
			free(json);
		}
		json_decref(canonical);
		json_decref(object);
	}
	kilo_manifest_free(manifest);
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* A mesh document that reads must write a document that reads back the same. */
#include <kilo/mesh.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kilo_error err = { 0 };
	kilo_mesh *mesh = NULL, *again = NULL;
	char *text = fuzz_text(data, size), *out = NULL, *out2 = NULL;

	if (kilo_mesh_from_json(text, size, &mesh, &err) == 0) {
		FUZZ_ASSERT(kilo_mesh_to_json(mesh, &out, NULL) == 0, "cannot write the mesh");
		memset(&err, 0, sizeof(err));
		FUZZ_ASSERT(kilo_mesh_from_json(out, strlen(out), &again, &err) == 0, "own output rejected: %s\n%s",
			    err.message, out);
		FUZZ_ASSERT(kilo_mesh_to_json(again, &out2, NULL) == 0, "cannot write the mesh again");
		FUZZ_ASSERT(strcmp(out, out2) == 0, "round trip changed the document:\n%s\n%s", out, out2);
	} else {
		FUZZ_ASSERT(mesh == NULL && err.code != 0 && err.message[0], "failure without a message");
	}
	kilo_free(out);
	kilo_free(out2);
	kilo_mesh_free(mesh);
	kilo_mesh_free(again);
	free(text);
	return 0;
}

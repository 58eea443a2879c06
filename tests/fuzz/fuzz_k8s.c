/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes objects and annotations: never a crash, and output that reads as a mesh node. */
#include <kilo/mesh.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), *node = NULL, *peer = NULL, *annotations = NULL, *more = NULL;

	if (kilo_node_from_kubernetes(text, NULL, &node, NULL) == 0)
		FUZZ_ASSERT(kilo_node_to_annotations(node, &more, NULL) == 0, "own node rejected:\n%s", node);
	kilo_peer_from_kubernetes(text, &peer, NULL);
	kilo_node_to_annotations(text, &annotations, NULL);
	kilo_free(node);
	kilo_free(peer);
	kilo_free(annotations);
	kilo_free(more);
	free(text);
	return 0;
}

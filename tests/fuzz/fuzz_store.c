/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One file of the store, read as a node and as a peer: never a crash, and
 * a refusal always says why (the store puts that message in its report).
 */
#include "store/store.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kilo_arena arena = { 0 };
	struct kilo_error err = { 0 };
	struct kilo_node node;
	struct kilo_peer peer;
	char *text = fuzz_text(data, size);

	if (kilo_store_parse_node(text, size, "a", &arena, &node, &err) == 0)
		FUZZ_ASSERT(!strcmp(node.name, "a"), "node stored as \"a\" named \"%s\"", node.name);
	else
		FUZZ_ASSERT(err.code != 0 && err.message[0], "node refused without a message");
	memset(&err, 0, sizeof(err));
	if (kilo_store_parse_peer(text, size, NULL, &arena, &peer, &err) < 0)
		FUZZ_ASSERT(err.code != 0 && err.message[0], "peer refused without a message");
	kilo_arena_release(&arena);
	free(text);
	return 0;
}

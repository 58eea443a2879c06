/* SPDX-License-Identifier: Apache-2.0 */
/* Tables for people (`kgctl status`, `kgctl services`): columns as wide as their widest cell. */
#ifndef KILO_LIB_CORE_TABLE_H
#define KILO_LIB_CORE_TABLE_H

#include <stddef.h>

#include "arena.h"
#include "strbuf.h"

#define KILO_TABLE_MAX_COLUMNS 8

struct kilo_table {
	size_t columns, n_rows;
	const char **cells; /* n_rows * columns, the header first */
	size_t width[KILO_TABLE_MAX_COLUMNS];
};

/* A table of columns (at most KILO_TABLE_MAX_COLUMNS) under header, with room for n_rows rows more. -ENOMEM. */
int kilo_table_init(struct kilo_table *t, struct kilo_arena *arena, const char *const *header, size_t columns,
		    size_t n_rows);
/* Appends the rows, each cell padded to its column's width, two spaces between columns. */
void kilo_table_print(struct kilo_table *t, struct kilo_strbuf *sb);
/* A cell of user text: "-" when empty, control characters escaped; NULL when out of memory. */
const char *kilo_table_text(struct kilo_arena *arena, const char *s);

#endif

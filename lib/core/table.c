/* SPDX-License-Identifier: Apache-2.0 */
#include "table.h"

#include <errno.h>
#include <string.h>

#include <kilo/core.h>

int kilo_table_init(struct kilo_table *t, struct kilo_arena *arena, const char *const *header, size_t columns,
		    size_t n_rows)
{
	t->columns = columns;
	t->n_rows = 0;
	t->cells = kilo_arena_array(arena, (n_rows + 1) * columns, sizeof(*t->cells));
	if (!t->cells)
		return -ENOMEM;
	memset(t->width, 0, sizeof(t->width));
	for (size_t c = 0; c < columns; c++)
		t->cells[c] = header[c];
	t->n_rows = 1;
	return 0;
}

void kilo_table_print(struct kilo_table *t, struct kilo_strbuf *sb)
{
	const char *cell;

	for (size_t i = 0; i < t->n_rows * t->columns; i++) {
		if (strlen(t->cells[i]) > t->width[i % t->columns])
			t->width[i % t->columns] = strlen(t->cells[i]);
	}
	for (size_t row = 0; row < t->n_rows; row++) {
		for (size_t c = 0; c < t->columns; c++) {
			cell = t->cells[row * t->columns + c];
			if (c + 1 < t->columns)
				kilo_strbuf_printf(sb, "%-*s  ", (int)t->width[c], cell);
			else
				kilo_strbuf_printf(sb, "%s\n", cell);
		}
	}
}

const char *kilo_table_text(struct kilo_arena *arena, const char *s)
{
	size_t size = KILO_ESCAPED_SIZE(strlen(s));
	char *cell;

	if (!s[0])
		return "-";
	cell = kilo_arena_alloc(arena, size);
	return cell ? kilo_escape(s, cell, size) : NULL;
}

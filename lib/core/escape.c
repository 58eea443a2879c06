/* SPDX-License-Identifier: Apache-2.0 */
/* User text made safe to print: no control character reaches a terminal or a log line. */
#include <kilo/core.h>

#include <string.h>

/* C0 controls and DEL; the C1 controls are two bytes in UTF-8 (0xc2 0x80..0x9f). */
static size_t control_length(const unsigned char *p)
{
	if (*p < 0x20 || *p == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

const char *kilo_escape(const char *text, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)text;
	size_t o = 0, n;

	if (!size)
		return out;
	while (*p) {
		n = control_length(p);
		if (!n) {
			if (o + 1 >= size)
				break;
			out[o++] = (char)*p++;
			continue;
		}
		/* Whole escapes only: a cut one would read as another byte. */
		if (o + 4 * n >= size)
			break;
		for (size_t i = 0; i < n; i++, p++) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return out;
}

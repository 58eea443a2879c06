// SPDX-License-Identifier: Apache-2.0
#include "opts.h"

#include <errno.h>
#include <string.h>

#include "error.h"

int kilo_opts_copy(void *out, size_t out_size, const void *in, const char *name, struct kilo_error *err)
{
	const unsigned char *tail;
	size_t in_size;

	memset(out, 0, out_size);
	if (in) {
		memcpy(&in_size, in, sizeof(in_size));
		if (in_size < sizeof(in_size))
			return kilo_error_set(err, EINVAL, "%s: sz is %zu; set it to sizeof(%s)", name, in_size, name);
		/* Options this library does not know are refused unless they are zero, i.e. not asked for. */
		tail = (const unsigned char *)in + out_size;
		for (size_t i = 0; in_size > out_size && i < in_size - out_size; i++)
			if (tail[i])
				return kilo_error_set(err, E2BIG,
						      "%s: sz is %zu, this libkilo knows %zu bytes, and byte %zu past them is "
						      "not zero (an option this libkilo does not have)",
						      name, in_size, out_size, out_size + i);
		memcpy(out, in, in_size < out_size ? in_size : out_size);
	}
	memcpy(out, &out_size, sizeof(out_size));
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
#include "opts.h"

#include <errno.h>
#include <string.h>

#include "error.h"

int kilo_opts_copy(void *out, size_t out_size, const void *in, const char *name, struct kilo_error *err)
{
	const unsigned char *bytes = in;
	size_t in_size;

	memset(out, 0, out_size);
	memcpy(out, &out_size, sizeof(out_size));
	if (!in)
		return 0;
	memcpy(&in_size, in, sizeof(in_size));
	if (in_size < sizeof(in_size))
		return kilo_error_set(err, EINVAL, "%s: sz is %zu; set it to sizeof(%s)", name, in_size, name);
	/* Options this library does not have are refused unless they are zero, i.e. not asked for. */
	for (size_t i = out_size; i < in_size; i++)
		if (bytes[i])
			return kilo_error_set(err, E2BIG,
					      "%s: sz is %zu, but this libkilo knows only its first %zu bytes and byte "
					      "%zu is not zero (an option this libkilo does not have)",
					      name, in_size, out_size, i);
	memcpy(out, in, in_size < out_size ? in_size : out_size);
	memcpy(out, &out_size, sizeof(out_size));
	return 0;
}

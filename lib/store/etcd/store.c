// SPDX-License-Identifier: Apache-2.0
/* The etcd store: "etcd://HOST:PORT[,...][/CLUSTER]". */
#include <errno.h>

#include "../../core/error.h"
#include "../store.h"

int kilo_etcd_store_open(const char *uri, const struct kilo_store_opts *opts, kilo_store **out, struct kilo_error *err)
{
	(void)opts;
	*out = NULL;
	return kilo_error_set(err, ENOTSUP, "store \"%.200s\": the etcd store is not built yet", uri);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The ids in the pinned maps handed to a new process's id allocator, so
 * that a restarted kg numbers frontends and backends as the one before it:
 * its conntrack entries name them by id, and a frontend or backend numbered
 * anew would send an established flow to another backend (a reset).
 */
#include "loader.h"
#include "table.h"

#include <errno.h>
#include <string.h>

#include "../core/error.h"
#include "../policy/ids.h"

/* Reads the hash map name (keys and values of these sizes) into t. */
static int read_map(const kilo_bpf *bpf, const char *name, size_t key_size, size_t value_size,
		    struct kilo_bpf_table *t, struct kilo_error *err)
{
	int fd = kilo__bpf_map_fd(bpf, name), r;

	if (fd < 0)
		return kilo_error_set(err, ENOENT, "bpf: no map %s in the programs", name);
	*t = (struct kilo_bpf_table){ .key_size = key_size, .value_size = value_size };
	r = kilo_bpf_table_read(fd, t);
	if (r < 0)
		return kilo_error_set(err, -r, "bpf: reading map %s: %s", name, strerror(-r));
	return 0;
}

static int adopt_frontends(const kilo_bpf *bpf, struct kilo_lb_ids *ids, struct kilo_error *err)
{
	struct kilo_bpf_table t;
	int r = read_map(bpf, "kilo_lb_services", sizeof(struct kilo_lb_service_key), sizeof(struct kilo_lb_service), &t,
			 err);

	for (size_t i = 0; r == 0 && i < t.n; i++) {
		const unsigned char *record = kilo_bpf_record(&t, i);
		struct kilo_lb_service svc;

		memcpy(&svc, record + t.key_size, sizeof(svc));
		r = kilo_lb_ids_adopt(ids, &ids->frontends, record, svc.id);
	}
	kilo_bpf_table_free(&t);
	return r;
}

static int adopt_backends(const kilo_bpf *bpf, struct kilo_lb_ids *ids, struct kilo_error *err)
{
	struct kilo_bpf_table t;
	int r = read_map(bpf, "kilo_lb_backends", sizeof(__u32), sizeof(struct kilo_lb_backend), &t, err);

	for (size_t i = 0; r == 0 && i < t.n; i++) {
		const unsigned char *record = kilo_bpf_record(&t, i);
		struct kilo_lb_backend_key key;
		struct kilo_lb_backend backend;
		__u32 id;

		memcpy(&id, record, sizeof(id));
		memcpy(&backend, record + t.key_size, sizeof(backend));
		memset(&key, 0, sizeof(key));
		key.addr = backend.addr;
		key.port = backend.port;
		key.proto = backend.proto;
		key.family = backend.family;
		r = kilo_lb_ids_adopt(ids, &ids->backends, &key, id);
	}
	kilo_bpf_table_free(&t);
	return r;
}

int kilo_bpf_adopt_ids(const kilo_bpf *bpf, struct kilo_lb_ids *ids, struct kilo_error *err)
{
	int r = adopt_frontends(bpf, ids, err);

	if (r == 0)
		r = adopt_backends(bpf, ids, err);
	if (r == -ENOMEM)
		kilo_error_set(err, ENOMEM, "bpf: adopting the pinned maps' ids: out of memory");
	return r;
}

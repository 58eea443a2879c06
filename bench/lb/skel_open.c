// SPDX-License-Identifier: Apache-2.0
#include "skel_open.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <bpf/libbpf.h>

void bench_skel_close(struct bench_skel *b)
{
	struct bpf_map *map;

	if (!b->skel)
		return;
	bpf_object__for_each_map(map, b->skel->obj)
		if (bpf_map__pin_path(map))
			bpf_map__unpin(map, NULL);
	kilo_lb_bpf__destroy(b->skel);
	rmdir(b->pin_dir);
	b->skel = NULL;
}

int bench_skel_open(struct bench_skel *b, const char *tag, unsigned n)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);

	snprintf(b->pin_dir, sizeof(b->pin_dir), "/sys/fs/bpf/kilo-bench-%s-%d-%u", tag, (int)getpid(), n);
	opts.pin_root_path = b->pin_dir;
	b->skel = kilo_lb_bpf__open_opts(&opts);
	if (!b->skel)
		return -errno;
	if (kilo_lb_bpf__load(b->skel) < 0) {
		int r = -errno;

		bench_skel_close(b);
		return r;
	}
	return 0;
}

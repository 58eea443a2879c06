// SPDX-License-Identifier: Apache-2.0
#include "skel_open.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <bpf/bpf.h>
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

int bench_empty_prog(void)
{
	const struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0}, /* TC_ACT_OK */
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "kilo_bench_empty", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	return fd < 0 ? -errno : fd;
}

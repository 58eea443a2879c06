// SPDX-License-Identifier: Apache-2.0
#include "skel_open.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "lb_maps.h"

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

#define ST_ZERO(at) {.code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = (at)}
#define FP_PTR(reg, at) \
	{.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = (reg), .src_reg = BPF_REG_10}, \
	{.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = (reg), .imm = (at)}
#define LD_MAP_FD(reg, fd) \
	{.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = (reg), .src_reg = BPF_PSEUDO_MAP_FD, .imm = (fd)}, {0}
#define CALL(helper) {.code = BPF_JMP | BPF_CALL, .imm = (helper)}

int bench_insert_prog(int map_fd)
{
	enum { KEY = -(int)sizeof(struct kilo_lb_ct_key), VALUE = KEY - (int)sizeof(struct kilo_lb_ct) };
	_Static_assert(sizeof(struct kilo_lb_ct_key) == 40 && sizeof(struct kilo_lb_ct) == 40,
		       "the stores below zero five words of each");
	const struct bpf_insn insns[] = {
		ST_ZERO(KEY), ST_ZERO(KEY + 8), ST_ZERO(KEY + 16), ST_ZERO(KEY + 24), ST_ZERO(KEY + 32),
		ST_ZERO(VALUE), ST_ZERO(VALUE + 8), ST_ZERO(VALUE + 16), ST_ZERO(VALUE + 24), ST_ZERO(VALUE + 32),
		CALL(BPF_FUNC_get_prandom_u32),
		{.code = BPF_STX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_0, .off = KEY},
		LD_MAP_FD(BPF_REG_1, map_fd),
		FP_PTR(BPF_REG_2, KEY),
		CALL(BPF_FUNC_map_lookup_elem),
		LD_MAP_FD(BPF_REG_1, map_fd),
		FP_PTR(BPF_REG_2, KEY),
		FP_PTR(BPF_REG_3, VALUE),
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_4, .imm = BPF_ANY},
		CALL(BPF_FUNC_map_update_elem),
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0}, /* TC_ACT_OK */
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "kilo_bench_ins", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	return fd < 0 ? -errno : fd;
}

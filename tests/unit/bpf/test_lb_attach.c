// SPDX-License-Identifier: Apache-2.0
/*
 * Attaching on real links, in a network namespace of the test's own
 * (unshare(2)): a pod veth's hooks, a restarted handle's programs replacing
 * the old ones in place, detach, and a clean-up that leaves no filter and
 * no pin, also of a handle that is gone.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/internal.h"
#include "lb_fixture.h"

static const char *pin_dir;
static bool own_netns;
static char cgroup_path[4200]; /* "" when the test made none */

static void run(const char *command)
{
	if (system(command) != 0)
		fail_msg("%s failed", command);
}

static int setup(void **state)
{
	(void)state;
	/* A fresh pair for every test: kl-pod is the host side of a pod's veth. */
	if (system("ip link del kl-pod 2>/dev/null; ip link add kl-pod type veth peer name kl-peer && "
		   "ip link set kl-pod up && ip link set kl-peer up") != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char command[PATH_MAX + 96];

	(void)state;
	if (cgroup_path[0])
		rmdir(cgroup_path);
	cgroup_path[0] = '\0';
	/* This run's pins only: another run's (another build tree's) may be in use beside it. */
	snprintf(command, sizeof(command), "ip link del kl-pod 2>/dev/null; ip link del kl-tun 2>/dev/null; rm -rf '%s'",
		 pin_dir);
	return system(command) < 0 ? -1 : 0;
}

/* The id of the program in libkilo's filter at point of ifname; 0 when there is none. */
static __u32 filter_program(const char *ifname, enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)if_nametoindex(ifname), .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = KILO_BPF_TC_HANDLE, .priority = KILO_BPF_TC_PRIORITY);
	libbpf_print_fn_t previous = libbpf_set_print(NULL);
	__u32 id = bpf_tc_query(&hook, &tc) == 0 ? tc.prog_id : 0;

	libbpf_set_print(previous);
	return id;
}

static __u32 program_id(const kilo_bpf *bpf, const char *name)
{
	struct bpf_program *prog = kilo__bpf_program(bpf, name);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (!prog)
		return 0;
	assert_int_equal(bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len), 0);
	return info.id;
}

static kilo_bpf *open_bpf(void)
{
	struct kilo_bpf_opts opts = { .pin_dir = pin_dir };
	struct kilo_error err = { 0 };
	kilo_bpf *bpf = NULL;

	if (kilo_bpf_open(&opts, &bpf, &err) < 0)
		fail_msg("%s", err.message);
	return bpf;
}

static void test_a_pod_veth_gets_its_hooks(void **state)
{
	int ifindex = (int)if_nametoindex("kl-pod");
	const struct kilo_bpf_attachment *list;
	struct kilo_error err = { 0 };
	kilo_bpf *bpf;
	size_t n;

	(void)state;
	if (!own_netns)
		skip();
	bpf = open_bpf();
	assert_int_equal(kilo_bpf_attach(bpf, ifindex, KILO_BPF_POD, &err), 0);
	assert_int_equal(filter_program("kl-pod", BPF_TC_INGRESS), program_id(bpf, "kilo_lb_from_pod"));
	assert_int_not_equal(filter_program("kl-pod", BPF_TC_INGRESS), 0);
	/* Egress holds kilo_lb_to_pod once the datapath has it; never anything else. */
	assert_int_equal(filter_program("kl-pod", BPF_TC_EGRESS), program_id(bpf, "kilo_lb_to_pod"));
	/* Again: nothing changes. */
	assert_int_equal(kilo_bpf_attach(bpf, ifindex, KILO_BPF_POD, &err), 0);
	list = kilo_bpf_attachments(bpf, &n);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].ifindex, ifindex);
	assert_int_equal(list[0].role, KILO_BPF_POD);
	assert_int_equal(kilo_bpf_detach(bpf, ifindex, &err), 0);
	assert_int_equal(filter_program("kl-pod", BPF_TC_INGRESS), 0);
	assert_int_equal(filter_program("kl-pod", BPF_TC_EGRESS), 0);
	kilo_bpf_attachments(bpf, &n);
	assert_int_equal(n, 0);
	/* A link that is gone is not an error. */
	assert_int_equal(kilo_bpf_detach(bpf, 99999, &err), 0);
	kilo_bpf_clean_up(bpf, NULL);
	kilo_bpf_close(bpf);
}

static void test_a_node_interface_gets_the_program_for_its_header(void **state)
{
	struct kilo_error err = { 0 };
	kilo_bpf *bpf;

	(void)state;
	if (!own_netns)
		skip();
	/* WireGuard's links (the kernel's and wireguard-go's TUN) carry IP packets without an Ethernet header. */
	run("ip tuntap add dev kl-tun mode tun && ip link set kl-tun up");
	bpf = open_bpf();
	assert_int_equal(kilo_bpf_attach(bpf, (int)if_nametoindex("kl-tun"), KILO_BPF_NETDEV, &err), 0);
	assert_int_equal(kilo_bpf_attach(bpf, (int)if_nametoindex("kl-pod"), KILO_BPF_NETDEV, &err), 0);
	assert_int_not_equal(program_id(bpf, "kilo_lb_from_l3dev"), 0);
	assert_int_equal(filter_program("kl-tun", BPF_TC_INGRESS), program_id(bpf, "kilo_lb_from_l3dev"));
	assert_int_equal(filter_program("kl-pod", BPF_TC_INGRESS), program_id(bpf, "kilo_lb_from_netdev"));
	assert_int_equal(filter_program("kl-tun", BPF_TC_EGRESS), 0);
	kilo_bpf_clean_up(bpf, NULL);
	kilo_bpf_close(bpf);
	run("ip link del kl-tun");
}

static void test_a_restarted_handle_replaces_the_programs_in_place(void **state)
{
	int ifindex = (int)if_nametoindex("kl-pod");
	kilo_bpf *old, *new;
	__u32 old_id, new_id;

	(void)state;
	if (!own_netns)
		skip();
	old = open_bpf();
	assert_int_equal(kilo_bpf_attach(old, ifindex, KILO_BPF_POD, NULL), 0);
	old_id = filter_program("kl-pod", BPF_TC_INGRESS);
	/* The old kg exits without cleaning up: its filter stays, and keeps its program loaded. */
	kilo_bpf_close(old);
	assert_int_equal(filter_program("kl-pod", BPF_TC_INGRESS), old_id);
	new = open_bpf();
	assert_int_equal(kilo_bpf_attach(new, ifindex, KILO_BPF_POD, NULL), 0);
	new_id = filter_program("kl-pod", BPF_TC_INGRESS);
	assert_int_not_equal(new_id, old_id);
	assert_int_equal(new_id, program_id(new, "kilo_lb_from_pod"));
	/* One filter at libkilo's handle: tc lists exactly one of ours. */
	run("test \"$(tc filter show dev kl-pod ingress | grep -c 'handle 0x6b6c')\" = 1");
	kilo_bpf_clean_up(new, NULL);
	kilo_bpf_close(new);
}

static void test_clean_up_leaves_no_filter_and_no_pin(void **state)
{
	int ifindex = (int)if_nametoindex("kl-pod");
	kilo_bpf *gone, *bpf;
	struct stat st;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, other, .handle = 1, .priority = 7);

	(void)state;
	if (!own_netns)
		skip();
	gone = open_bpf();
	assert_int_equal(kilo_bpf_attach(gone, ifindex, KILO_BPF_POD, NULL), 0);
	/* Someone else's filter at another handle and priority: it stays. */
	other.prog_fd = bpf_program__fd(kilo__bpf_program(gone, "kilo_lb_from_pod"));
	assert_int_equal(bpf_tc_attach(&hook, &other), 0);
	kilo_bpf_close(gone);
	bpf = open_bpf();
	assert_int_equal(kilo_bpf_clean_up(bpf, NULL), 0);
	assert_int_equal(filter_program("kl-pod", BPF_TC_INGRESS), 0);
	assert_int_equal(filter_program("kl-pod", BPF_TC_EGRESS), 0);
	assert_int_equal(stat(pin_dir, &st), -1);
	other.prog_fd = 0;
	other.prog_id = 0;
	assert_int_equal(bpf_tc_query(&hook, &other), 0);
	kilo_bpf_close(bpf);
}

static void test_a_bad_link_is_named(void **state)
{
	struct kilo_error err = { 0 };
	kilo_bpf *bpf;

	(void)state;
	if (!own_netns)
		skip();
	bpf = open_bpf();
	assert_int_equal(kilo_bpf_attach(bpf, 0, KILO_BPF_POD, &err), -EINVAL);
	assert_string_equal(err.message, "bpf: ifindex 0: not a link");
	err = (struct kilo_error){ 0 };
	assert_true(kilo_bpf_attach(bpf, 99999, KILO_BPF_POD, &err) < 0);
	assert_non_null(strstr(err.message, "#99999"));
	kilo_bpf_clean_up(bpf, NULL);
	kilo_bpf_close(bpf);
}

/* A cgroup v2 directory of the test's own (teardown removes it); NULL (the test skipped) without cgroup v2. */
static const char *own_cgroup(void)
{
	char *path = cgroup_path;
	size_t size = sizeof(cgroup_path);
	FILE *mounts = fopen("/proc/self/mounts", "re");
	char line[4096], dir[4096], type[64];
	bool found = false;

	while (mounts && !found && fgets(line, sizeof(line), mounts))
		found = sscanf(line, "%*s %4095s %63s", dir, type) == 2 && strcmp(type, "cgroup2") == 0;
	if (mounts)
		fclose(mounts);
	if (!found)
		return NULL;
	snprintf(path, size, "%s/kilo-loader-%d", dir, (int)getpid());
	if (mkdir(path, 0755) == 0)
		return path;
	path[0] = '\0';
	return NULL;
}

/* How many programs are attached to the cgroup, as bpftool lists them. */
static int cgroup_programs(const char *path)
{
	char command[4200], out[64] = "";
	FILE *p;

	snprintf(command, sizeof(command), "bpftool cgroup show '%s' | grep -c kilo_", path);
	p = popen(command, "r");
	assert_non_null(p);
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	pclose(p);
	return atoi(out);
}

static void test_socket_programs_on_a_cgroup_are_taken_over_and_removed(void **state)
{
	struct kilo_error err = { 0 };
	kilo_bpf *old, *new;
	const char *path;
	int n;

	(void)state;
	old = open_bpf();
	path = own_cgroup();
	n = path ? kilo_bpf_attach_cgroup(old, path, &err) : 0;
	if (n == 0) {
		/* No cgroup v2, or no socket programs in this build: nothing to check. */
		kilo_bpf_close(old);
		skip();
	}
	assert_true(n > 0);
	assert_int_equal(cgroup_programs(path), n);
	/* The links are pinned: the programs stay when kg exits without cleaning up. */
	kilo_bpf_close(old);
	assert_int_equal(cgroup_programs(path), n);
	/* A new kg updates the pinned links in place: still n programs, not twice as many. */
	new = open_bpf();
	assert_int_equal(kilo_bpf_attach_cgroup(new, path, &err), n);
	assert_int_equal(cgroup_programs(path), n);
	assert_int_equal(kilo_bpf_clean_up(new, NULL), 0);
	assert_int_equal(cgroup_programs(path), 0);
	kilo_bpf_close(new);
}

static void test_a_missing_cgroup_is_named(void **state)
{
	struct kilo_error err = { 0 };
	kilo_bpf *bpf = open_bpf();

	(void)state;
	assert_int_equal(kilo_bpf_attach_cgroup(bpf, "/nonexistent/kilo-cgroup", &err), -ENOENT);
	assert_string_equal(err.message, "bpf: cgroup /nonexistent/kilo-cgroup: No such file or directory");
	kilo_bpf_clean_up(bpf, NULL);
	kilo_bpf_close(bpf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_pod_veth_gets_its_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_node_interface_gets_the_program_for_its_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_restarted_handle_replaces_the_programs_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_up_leaves_no_filter_and_no_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_bad_link_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_programs_on_a_cgroup_are_taken_over_and_removed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_missing_cgroup_is_named, setup, teardown),
	};

	pin_dir = lb_fixture_pin_dir("attach");
	if (!pin_dir)
		return 77;
	own_netns = unshare(CLONE_NEWNET) == 0;
	if (!own_netns) {
		fprintf(stderr, "no network namespace of its own (%s): skipped\n", strerror(errno));
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}

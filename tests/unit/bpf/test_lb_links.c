// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's link watcher on real links, in a network namespace of the
 * test's own: a veth enslaved to the CNI bridge has the pod programs within
 * a second of its event, loses them when it leaves the bridge, is forgotten
 * when deleted; veths there before the watcher are found at its start; a
 * node interface named before it exists is attached when it appears.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/internal.h"
#include "agent/lb.h"
#include "lb_fixture.h"

static const char *pin_dir;

struct fixture {
	kilo_bpf *bpf;
	struct kilo_lb_links links;
};

static void run(const char *command)
{
	if (system(command) != 0)
		fail_msg("%s failed", command);
}

static int setup(void **state)
{
	struct kilo_bpf_opts opts = { .pin_dir = pin_dir };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || system("ip link add " KILO_AGENT_CNI_BRIDGE " type bridge && ip link set " KILO_AGENT_CNI_BRIDGE
			 " up") != 0 || kilo_bpf_open(&opts, &f->bpf, NULL) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kilo_lb_links_close(&f->links);
	kilo_bpf_clean_up(f->bpf, NULL);
	kilo_bpf_close(f->bpf);
	free(f);
	/* Deleting one side of a veth deletes the pair. */
	return system("for l in " KILO_AGENT_CNI_BRIDGE " kl-v1 kl-v2 kl-wg; do ip link del $l 2>/dev/null; done; true");
}

static int role_of(const kilo_bpf *bpf, const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	const struct kilo_bpf_attachment *list;
	size_t n;

	list = kilo_bpf_attachments(bpf, &n);
	for (size_t i = 0; ifindex && i < n; i++)
		if (list[i].ifindex == ifindex)
			return (int)list[i].role;
	return -1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Reads events as the agent's loop does (poll, then read) until ifname has role (-1: none), at most 1 s. */
static long long wait_for_role(struct fixture *f, const char *ifname, int role)
{
	long long start = now_ms();

	while (role_of(f->bpf, ifname) != role && now_ms() - start < 1000) {
		struct pollfd p = { .fd = kilo_lb_links_fd(&f->links), .events = POLLIN };
		struct kilo_error err = { 0 };

		if (poll(&p, 1, 100) > 0 && kilo_lb_links_read(&f->links, &err) < 0)
			fail_msg("%s", err.message);
	}
	assert_int_equal(role_of(f->bpf, ifname), role);
	return now_ms() - start;
}

static void test_a_veth_on_the_bridge_gets_the_pod_programs_within_a_second(void **state)
{
	struct fixture *f = *state;
	size_t n = 1;

	assert_int_equal(kilo_lb_links_open(&f->links, f->bpf, KILO_AGENT_CNI_BRIDGE, NULL), 0);
	/* As the CNI bridge plugin does: the pair made, then the host side enslaved. */
	run("ip link add kl-v1 type veth peer name kl-v1p && ip link set kl-v1 master " KILO_AGENT_CNI_BRIDGE
	    " && ip link set kl-v1 up");
	assert_true(wait_for_role(f, "kl-v1", KILO_BPF_POD) < 1000);
	run("test \"$(tc filter show dev kl-v1 ingress | grep -c 'handle 0x6b6c')\" = 1");
	/* Released from the bridge: no longer a pod's. */
	run("ip link set kl-v1 nomaster");
	wait_for_role(f, "kl-v1", -1);
	run("test \"$(tc filter show dev kl-v1 ingress | grep -c 'handle 0x6b6c')\" = 0");
	/* Enslaved again, then deleted: forgotten. */
	run("ip link set kl-v1 master " KILO_AGENT_CNI_BRIDGE);
	wait_for_role(f, "kl-v1", KILO_BPF_POD);
	run("ip link del kl-v1");
	for (long long start = now_ms(); n > 0 && now_ms() - start < 1000; usleep(10000)) {
		kilo_lb_links_read(&f->links, NULL);
		kilo_bpf_attachments(f->bpf, &n);
	}
	assert_int_equal(n, 0);
}

static void test_veths_already_there_are_found_at_start(void **state)
{
	struct fixture *f = *state;

	run("ip link add kl-v2 type veth peer name kl-v2p && ip link set kl-v2 master " KILO_AGENT_CNI_BRIDGE);
	/* Not on the bridge: left alone. */
	run("ip link add kl-v1 type veth peer name kl-v1p");
	assert_int_equal(kilo_lb_links_open(&f->links, f->bpf, KILO_AGENT_CNI_BRIDGE, NULL), 0);
	assert_int_equal(role_of(f->bpf, "kl-v2"), KILO_BPF_POD);
	assert_int_equal(role_of(f->bpf, "kl-v1"), -1);
}

static void test_a_node_interface_is_attached_when_it_appears(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(kilo_lb_links_open(&f->links, f->bpf, KILO_AGENT_CNI_BRIDGE, NULL), 0);
	/* The WireGuard device, named before the first apply makes it. */
	assert_int_equal(kilo_lb_links_netdev(&f->links, 0, "kl-wg", NULL), 0);
	assert_int_equal(role_of(f->bpf, "kl-wg"), -1);
	run("ip link add kl-wg type veth peer name kl-wgp");
	wait_for_role(f, "kl-wg", KILO_BPF_NETDEV);
	/* No longer the node's: its program goes. */
	assert_int_equal(kilo_lb_links_netdev(&f->links, 0, "", NULL), 0);
	assert_int_equal(role_of(f->bpf, "kl-wg"), -1);
	assert_int_equal(kilo_lb_links_netdev(&f->links, 2, "kl-wg", NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_veth_on_the_bridge_gets_the_pod_programs_within_a_second, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_veths_already_there_are_found_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_node_interface_is_attached_when_it_appears, setup, teardown),
	};

	pin_dir = lb_fixture_pin_dir("links");
	if (!pin_dir)
		return 77;
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "no network namespace of its own (%s): skipped\n", strerror(errno));
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}

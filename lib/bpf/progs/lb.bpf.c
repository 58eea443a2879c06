// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Service load balancing at a pod's veth (tc): filled in by the datapath work. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "select.bpf.h"

SEC("tc")
int kilo_lb_from_pod(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

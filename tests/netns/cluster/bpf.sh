# shellcheck shell=bash
# `kg --bpf on` on the cluster of lib.sh (source lib.sh first): a bpffs and a
# cgroup2 of the test's own, outside /sys. `ip netns exec` mounts /sys anew,
# so pins under /sys/fs/bpf would not outlive one kg; every node's kg pins
# under $mounts/bpf/nI and balances the sockets of the processes in its own
# cgroup only, never the machine's.

mounts=""

mounts_up() {
	local i
	mounts="$(mktemp -d /tmp/ks-mnt.XXXXXX)"
	mkdir -p "$mounts/bpf" "$mounts/cgroup"
	mount -t bpf bpf "$mounts/bpf" || return 1
	mount -t cgroup2 none "$mounts/cgroup" || return 1
	for i in "${node_ids[@]}"; do
		mkdir -p "$mounts/cgroup/ks$id-n$i" || return 1
	done
}

# mounts_down: after the agents have stopped.
mounts_down() {
	[[ -n "$mounts" ]] || return 0
	umount "$mounts/bpf" 2>/dev/null
	rmdir "$mounts/cgroup/"ks* 2>/dev/null
	umount "$mounts/cgroup" 2>/dev/null
	rmdir "$mounts/bpf" "$mounts/cgroup" "$mounts" 2>/dev/null
}

# bpf_flags I: node I's kg flags for --bpf on, and the test's own for that node (bpf_node_flags[I], words).
declare -A bpf_node_flags=()
bpf_flags() {
	# shellcheck disable=SC2086 # the node's flags are words
	echo --bpf on --bpf-pin-dir "$mounts/bpf/n$1" --bpf-cgroup "$mounts/cgroup/ks$id-n$1" ${bpf_node_flags[$1]:-}
}

agents_start_bpf() {
	local i
	for i in "${node_ids[@]}"; do
		# shellcheck disable=SC2046
		agent_start "$i" $(bpf_flags "$i")
	done
	for i in "${node_ids[@]}"; do
		wait_for 10 healthy "$i" || { echo "    n$i: /health not ok within 10 s"; tail -5 "$tmp/log/kg-n$i.log"; return 1; }
	done
}

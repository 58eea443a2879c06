#!/usr/bin/env bash
# Network policy's truth table, in the style of Kubernetes' network policy
# conformance tests, on the cluster of tests/netns/cluster (three locations
# of two nodes, the third behind a NAT router, a VPN client) with `kg --bpf
# on` on every node: three namespaces (x, y, z) of three pods (a, b, c)
# spread over the locations, each pod serving TCP 80, TCP 81 and UDP 53 and
# answering with its name; the VPN client serves them too. For each case of
# cases/ (NetworkPolicies): apply, wait until it is in force (a probe it
# turns from answered to unanswered stops answering; within 1 s of the
# apply), probe every source (the 9 pods and the VPN client, and each node
# to its own pods) to every target on every port at once, compare with the
# reference model
# (netpol_model.py), ask `kgctl policy explain` for every pod-to-pod and
# peer-to-pod cell and compare it with the probes too, then delete the case:
# within 1 s the first cell it denied answers again.
#
# Usage: test_policy.sh KGCTL KG WHOAMI PROBER [CASE.yaml...] (default: every case)
# Prints ok/FAIL lines and "N passed, N failed"; exits 77 to skip.
set -uo pipefail

here="$(dirname "$(realpath "$0")")"
usage="usage: test_policy.sh KGCTL KG WHOAMI PROBER [CASE.yaml...]"
KGCTL="$(realpath "${1:?$usage}")"
KG="$(realpath "${2:?$usage}")"
WHOAMI="$(realpath "${3:?$usage}")"
PROBER="$(realpath "${4:?$usage}")"
shift 4
CLUSTER_LOCATIONS=3
CLUSTER_PER_LOCATION=2
CLUSTER_NAT_LOCATION=3
CLUSTER_GRANULARITY=location
CLUSTER_DUAL_STACK=0
# shellcheck source=../cluster/lib.sh
source "$here/../cluster/lib.sh"
# shellcheck source=../cluster/bpf.sh
source "$here/../cluster/bpf.sh"
skip_unless_ready wireguard-go wg nft ip jq python3
[[ -x "$WHOAMI" && -x "$PROBER" ]] || { echo "skip: whoami or prober is not built"; exit 77; }

MODEL="$here/netpol_model.py"
# A probe not answered within PROBE_MS is a denied cell; IN_FORCE_MS is the issue's bound.
PROBE_MS=${PROBE_MS:-1000}
# kgctl policy explain runs at a time: each waits for the kernel more than it computes.
EXPLAIN_JOBS=8
POLL_MS=300
IN_FORCE_MS=1000
NAMESPACES=(x y z)
POD_NAMES=(a b c)
PORTS=(80/tcp 81/tcp 53/udp)
declare -A pod_node=() pod_addr=()
declare -a pods=() servers=()
slowest_ms=0
# Every matrix sends its UDP probes from ports of its own, below the kernel's
# ephemeral range: a flow a case allowed is never repeated in a later case
# while the datapath's connection tracking may still remember it.
next_udp_port=10000

# Pod J of namespace I lives in location (I + J) % 3 + 1, on the location's
# second node for y and its first for x and z: every namespace has a pod in
# every location, and n1, n3, n5 hold two pods each (same-node pairs).
place_pods() {
	local i j l
	for i in 0 1 2; do
		for j in 0 1 2; do
			l=$(((i + j) % 3 + 1))
			pods+=("${NAMESPACES[$i]}/${POD_NAMES[$j]}")
			pod_node[${NAMESPACES[$i]}/${POD_NAMES[$j]}]=$(((l - 1) * 2 + (i == 1 ? 2 : 1)))
		done
	done
}

# The network namespace of a pod NS/NAME, of the VPN client (peer/vpn), of a node (host/nI).
netns_of() {
	case "$1" in
	peer/vpn) ns_vpn ;;
	host/n*) ns_node "${1#host/n}" ;;
	*) echo "knp$short-${1/\//}" ;;
	esac
}

policy_down() {
	local pid p
	for pid in "${servers[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for p in "${pods[@]}"; do
		ip netns del "$(netns_of "$p")" 2>/dev/null
	done
	cluster_down
	mounts_down
}

# With KEEP_LOGS, a failed case keeps its matrices (the model's input and
# answer, the probes', explain's) under cases/NAME in the logs.
on_check_failure() {
	[[ -n "${KEEP_LOGS:-}" && -n "${case_name:-}" ]] || return 0
	mkdir -p "$tmp/log/cases" && for f in "$tmp"/case.*; do cp "$f" "$tmp/log/cases/$case_name.${f##*.}"; done
}

# ---- pods, their objects and their servers ------------------------------------

# pod_up NS/NAME: a pod namespace on its node, attached with kg's CNI configuration.
pod_up() {
	local p="$1" i="${pod_node[$1]}" netns result
	netns="$(netns_of "$p")"
	ip netns add "$netns" && ip -n "$netns" link set lo up || return 1
	wait_for 5 test -s "$tmp/cni/n$i.conflist" || { echo "    kg on n$i wrote no CNI configuration"; return 1; }
	pod_netconf "$tmp/cni/n$i.conflist" "$i" >"$tmp/cni/$netns.conf" || return 1
	result="$(cni "$i" ADD eth0 "$tmp/cni/$netns.conf" "$netns")" || { echo "    CNI ADD $p: $result"; return 1; }
	pod_addr[$p]="$(jq -r '[.ips[].address | select(contains("."))][0] | split("/")[0]' <<<"$result")"
	[[ "${pod_addr[$p]}" == 10.2.$i.* ]] || { echo "    $p on n$i got ${pod_addr[$p]}"; return 1; }
}

# serve NAME NETNS: TCP 80, TCP 81 and UDP 53 answering NAME.
serve() {
	local spec
	for spec in "tcp 80" "tcp 81" "udp 53"; do
		# shellcheck disable=SC2086
		ip netns exec "$2" "$WHOAMI" serve ${spec% *} 0.0.0.0 ${spec#* } "$1" &
		servers+=($!)
	done
}

# Pod a names its port 81 "web", b and c their port 80: a named port
# resolves on each destination pod.
pod_yaml() {
	local ns="${1%/*}" name="${1#*/}" web=80 other=81 role=""
	[[ $name == a ]] && web=81 other=80
	[[ $name == a ]] && role=", role: web"
	[[ $name == b ]] && role=", role: db"
	cat <<-YAML
		---
		apiVersion: v1
		kind: Pod
		metadata: {name: $name, namespace: "$ns", labels: {pod: $name$role}}
		spec:
		  nodeName: n${pod_node[$1]}
		  containers:
		    - name: whoami
		      ports:
		        - {name: web, containerPort: $web, protocol: TCP}
		        - {name: serve-$other, containerPort: $other, protocol: TCP}
		        - {name: dns, containerPort: 53, protocol: UDP}
		status: {podIP: ${pod_addr[$1]}}
	YAML
}

# x faces the front; y and z are the back. "y" quoted: a plain y is a
# boolean in YAML 1.1, as Kubernetes reads it.
namespace_yaml() {
	local tier=back
	[[ $1 == x ]] && tier=front
	printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: "%s", labels: {ns: "%s", tier: %s}}\n' "$1" "$1" "$tier"
}

kgctl_store() { "$KGCTL" "$@" --store "file:$store"; }

pods_up() {
	local p ns
	place_pods
	for p in "${pods[@]}"; do
		pod_up "$p" || return 1
		serve "$p" "$(netns_of "$p")"
	done
	serve peer/vpn "$(ns_vpn)"
	{
		for ns in "${NAMESPACES[@]}"; do namespace_yaml "$ns"; done
		for p in "${pods[@]}"; do pod_yaml "$p"; done
	} >"$tmp/objects.yaml"
	kgctl_store apply -f "$tmp/objects.yaml" >>"$tmp/log/apply.log" 2>&1 && matrix_plan
}

# ---- the matrix ---------------------------------------------------------------

targets() { printf '%s\n' "${pods[@]}" peer/vpn; }
# Every target is a source too, and so is every node, to its own pods (as kubelet's probes come).
sources() { targets && printf 'host/n%s\n' "${node_ids[@]}"; }
addr_of() { if [[ "$1" == peer/vpn ]]; then echo "$VPN_ADDR"; else echo "${pod_addr[$1]}"; fi; }

# probe_lines SOURCE: the prober's input for every cell of SOURCE.
probe_lines() {
	local s="$1" t p
	for t in $(targets); do
		[[ $s != host/n* || "${pod_node[$t]:-}" == "${s#host/n}" ]] || continue
		for p in "${PORTS[@]}"; do
			echo "$s>$t:$p $(addr_of "$t") ${p%/*} ${p#*/}"
		done
	done
}

# The matrix is the same for every case: the prober's input of each source
# (in $tmp/probes/SOURCE-NETNS) and the model's input that no object changes
# ($tmp/world.json) are written once.
matrix_plan() {
	local s i
	mkdir -p "$tmp/probes" || return 1
	for s in $(sources); do
		probe_lines "$s" >"$tmp/probes/$(netns_of "$s")" || return 1
	done
	jq -n --argjson nodes "$(for i in "${node_ids[@]}"; do echo "{\"n$i\": \"loc$(loc_of "$i")\"}"; done | jq -s add)" \
		--arg vpn "$VPN_ADDR/32" --argjson targets "$(targets | jq -R . | jq -s .)" \
		--argjson sources "$(sources | jq -R . | jq -s .)" \
		--argjson hosts "$(for i in "${node_ids[@]}"; do echo "{\"n$i\": \"10.2.$i.1\"}"; done | jq -s add)" \
		--argjson ports "$(printf '%s\n' "${PORTS[@]}" | jq -R . | jq -s .)" \
		'{nodes: $nodes, peers: [{name: "vpn", allowedIPs: [$vpn]}], hosts: $hosts, sources: $sources,
		  targets: $targets, ports: $ports}' >"$tmp/world.json"
}

# probe OUT: every source probes every target on every port at once.
probe() {
	local out="$1" f k=0
	local -a pids=()
	for f in "$tmp"/probes/*; do
		ip netns exec "${f##*/}" "$PROBER" -u "$next_udp_port" "$PROBE_MS" <"$f" >"$out.$k" 2>&1 &
		pids+=($!)
		k=$((k + 1))
	done
	wait "${pids[@]}"
	next_udp_port=$((next_udp_port + 16))
	cat "$out".[0-9]* >"$out" && rm -f "$out".[0-9]*
}

# The model's input: the stored objects as kgctl get prints them, the
# nodes' locations, the VPN peer; every source and target.
# world_json DIR: what the model reads, from the file store in DIR.
world_json() {
	local get=("$KGCTL" get --store "file:$1" -o json)
	jq --argjson pods "$("${get[@]}" pods)" --argjson namespaces "$("${get[@]}" ns)" \
		--argjson policies "$("${get[@]}" netpol)" \
		'. + {pods: $pods, namespaces: $namespaces, networkpolicies: $policies}' "$tmp/world.json"
}

# expect FILE DIR: the matrix the model expects of the objects in the file store in DIR.
expect() { world_json "$2" >"$tmp/case.world" && python3 "$MODEL" expect "$tmp/case.world" >"$1"; }

# ---- explain ------------------------------------------------------------------

# explain_cells: kgctl policy explain for each cell read, a line "CELL<TAB>ANSWER" each
# (its JSON on one line; empty when kgctl failed). No shell or jq per cell: they cost more than kgctl.
explain_cells() {
	local cell from rest to port out
	while read -r cell; do
		from="${cell%%>*}" rest="${cell#*>}"
		to="${rest%:*}" port="${rest##*:}"
		out="$("$KGCTL" policy explain --from "${from#peer/}" --to "$to" --port "${port%/*}/${port#*/}" \
			--store "file:$store" -o json 2>>"$tmp/log/explain.err")" || out=""
		printf '%s\t%s\n' "$cell" "${out//$'\n'/ }"
	done
}

# explain CELLS OUT: explain's answer, "CELL 1|0|?", for every cell of the file CELLS, EXPLAIN_JOBS at a time.
explain() {
	local k
	local -a pids=()
	for ((k = 0; k < EXPLAIN_JOBS; k++)); do
		awk -v k=$k -v n="$EXPLAIN_JOBS" 'NR % n == k' "$1" | explain_cells >"$2.$k" &
		pids+=($!)
	done
	wait "${pids[@]}"
	jq -rR 'split("\t") as [$cell, $json] | (try ($json | fromjson | .allowed) catch null) as $a
		| "\($cell) \(if $a == true then 1 elif $a == false then 0 else "?" end)"' "$2".[0-9]* >"$2"
	rm -f "$2".[0-9]*
}

# ---- one case -----------------------------------------------------------------

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# in_force CELLS-FILE DENIED T0: polls the file's first cell until it goes
# unanswered (DENIED=1) or answered (0), for 15 s at most; prints the
# milliseconds from T0 to the start of the probe that saw it.
in_force() {
	local cell netns line start got
	cell="$(head -1 "$1")"
	netns="$(netns_of "${cell%%>*}")"
	line="$(grep -F "$cell " "$tmp/probes/$netns")"
	while (($(now_ms) - $3 < 15000)); do
		start=$(now_ms)
		got="$(ip netns exec "$netns" "$PROBER" "$POLL_MS" <<<"$line" | cut -d' ' -f2)"
		if { [[ "$got" == - ]] && (($2)); } || { [[ "$got" != - ]] && ! (($2)); }; then
			echo $((start - $3))
			return 0
		fi
		sleep 0.02
	done
	return 1
}

# run_case FILE: one row of the truth table.
run_case() {
	local file="$1" name t0 ms=0 bad explaining
	name="$(basename "$file" .yaml)"
	case_name="$name"
	# The model reads a copy of the store's objects with the case applied, before
	# the cluster sees it: the poll for the case's effect starts right after the
	# apply. Only the kinds it reads: no kg writes them, so no file vanishes mid-copy.
	rm -rf "$tmp/model-store" && mkdir "$tmp/model-store" &&
		cp -a "$store/pods" "$store/namespaces" "$tmp/model-store/" &&
		"$KGCTL" apply -f "$file" --store "file:$tmp/model-store" >>"$tmp/log/apply.log" 2>&1 &&
		expect "$tmp/case.expected" "$tmp/model-store" || { check "$name: the model computes the matrix" false; return; }
	awk '$2 == 0 { print $1 }' "$tmp/case.expected" >"$tmp/case.denied"
	t0=$(now_ms)
	kgctl_store apply -f "$file" >>"$tmp/log/apply.log" 2>&1 || { check "$name: kgctl apply -f" false; return; }
	if [[ -s "$tmp/case.denied" ]]; then
		ms="$(in_force "$tmp/case.denied" 1 "$t0")" || ms=15000
		((ms > slowest_ms)) && slowest_ms=$ms
		check "$name: in force ${ms} ms after the apply (a cell it denies stops answering; <= $IN_FORCE_MS ms)" \
			eval '((ms <= IN_FORCE_MS))'
	fi
	# Explain asks for every cell from a pod or the VPN client to a pod, from the
	# store alone: it runs while the matrix waits out its second and is probed
	# (the probes' timeouts leave the CPU idle). After the poll above, which it would slow.
	grep -v '>peer/\|^host/' "$tmp/case.expected" | cut -d' ' -f1 >"$tmp/case.cells"
	rm -f "$tmp/case.explained"
	# Niced: the probes and the datapath come first.
	{ renice -n 10 -p "$BASHPID" >/dev/null && explain "$tmp/case.cells" "$tmp/case.explained"; } &
	explaining=$!
	# Whatever the poll saw, the matrix is probed no sooner than 1 s after the apply.
	ms=$(($(now_ms) - t0))
	((ms < IN_FORCE_MS)) && sleep "$(printf '%d.%03d' $(((IN_FORCE_MS - ms) / 1000)) $(((IN_FORCE_MS - ms) % 1000)))"
	probe "$tmp/case.observed"
	bad="$(python3 "$MODEL" diff "$tmp/case.expected" "$tmp/case.observed")"
	check "$name: the probes agree with the model ($(grep -c ' 1$' "$tmp/case.expected") of $(wc -l <"$tmp/case.expected") cells allowed)" \
		eval '[[ -z "$bad" ]] || { echo "$bad" | head -30; false; }'
	wait "$explaining"
	bad="$(python3 "$MODEL" diff "$tmp/case.explained" "$tmp/case.observed" explain 2>&1)"
	[[ -f "$tmp/case.explained" ]] && (($(wc -l <"$tmp/case.explained") == $(wc -l <"$tmp/case.cells"))) ||
		bad+=$'\n    explain answered fewer cells than asked'
	# On failure, also what kgctl said when it gave no answer (seen once, under load: cause unknown).
	check "$name: kgctl policy explain agrees with the probes on every cell to a pod" \
		eval '[[ -z "$bad" ]] || { echo "$bad" | head -20; tail -5 "$tmp/log/explain.err" | sed "s/^/    kgctl: /"; false; }'
	# Timed as the apply is, from before kgctl runs: a delete must be in force within 1 s too.
	t0=$(now_ms)
	kgctl_store delete -f "$file" >>"$tmp/log/apply.log" 2>&1
	if [[ -s "$tmp/case.denied" ]]; then
		ms="$(in_force "$tmp/case.denied" 0 "$t0")" || ms=15000
		((ms > slowest_ms)) && slowest_ms=$ms
		check "$name: deleted, in force ${ms} ms after (the cell it denied answers again; <= $IN_FORCE_MS ms)" \
			eval '((ms <= IN_FORCE_MS))'
	fi
}

vpn_ready() {
	vpn_configure --store "file:$store" --mesh-granularity location && ! grep -q '^Endpoint = 172\.31\.' "$tmp/vpn.conf.peers"
}

# Before any policy: every cell answers, with the right name.
all_open() {
	local bad
	expect "$tmp/case.expected" "$store" && probe "$tmp/case.observed" || return 1
	bad="$(python3 "$MODEL" diff "$tmp/case.expected" "$tmp/case.observed")"
	[[ -z "$bad" ]] || { echo "$bad" | head -20; return 1; }
}

cases=("$@")
((${#cases[@]})) || cases=("$here"/cases/*.yaml)
cluster_init
trap policy_down EXIT
check "bpffs and cgroup2 mounted for the test" mounts_up
network_up
vpn_up
check "kg starts on every node with --bpf on and serves /health" agents_start_bpf
check "the VPN client is configured from kgctl showconf peer --store" wait_for 10 vpn_ready
check "9 pods in 3 namespaces over the 3 locations, each serving TCP 80, 81 and UDP 53; objects applied" pods_up
# The tunnels come up with the first packets: quiet tries, then one that says what failed.
check "without a policy, every source reaches every target on every port (within 15 s)" \
	eval 'eventually 15 all_open >/dev/null || all_open'
for file in "${cases[@]}"; do
	run_case "$file"
done
log "slowest policy in force ${slowest_ms} ms after its apply or delete (${#cases[@]} cases)"
finish

# shellcheck shell=bash
# What the service tests share (test_services.sh, test_services_dual.sh): the
# cluster of tests/netns/cluster/lib.sh (three locations of two nodes, the
# third behind a NAT router, CNI pods, a VPN client) with `kg --bpf on` on
# every node; the test's own bpffs and cgroup2; backends and clients that name
# who answered (whoami.c); Service and EndpointSlice manifests.
#
# A test sets CLUSTER_DUAL_STACK (0 or 1) and VIP (the address `answers`
# tries by default), then sources this file with its arguments, KGCTL KG
# WHOAMI; it skips (77) when something the cluster needs is missing.

KGCTL="$(realpath "${1:?usage: ${0##*/} KGCTL KG WHOAMI}")"
KG="$(realpath "${2:?usage: ${0##*/} KGCTL KG WHOAMI}")"
WHOAMI="$(realpath "${3:?usage: ${0##*/} KGCTL KG WHOAMI}")"
CLUSTER_LOCATIONS=3
CLUSTER_PER_LOCATION=2
CLUSTER_NAT_LOCATION=3
CLUSTER_GRANULARITY=location
# shellcheck source=../cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"
skip_unless_ready wireguard-go wg nft ip ping jq curl
[[ -x "$WHOAMI" ]] || { echo "skip: whoami is not built ($WHOAMI)"; exit 77; }

on_check_failure() {
	[[ -z "${KEEP_LOGS:-}" ]] || snapshot >"$tmp/log/fail-$failed.txt" 2>&1
}

snapshot() {
	local i
	for i in "${node_ids[@]}"; do
		echo "== n$i"
		"$KGCTL" bpf stats --pin-dir "$mounts/bpf/n$i" 2>&1
		tail -20 "$tmp/log/kg-n$i.log"
	done
}

# A client outside the cluster, on loc1's private network.
ns_out() { echo "kc$id-out"; }

# outside_up: that client's namespace, at 172.31.1.100 (and fd00:31:1::100 in dual stack).
outside_up() {
	local o
	o="$(ns_out)"
	ip netns add "$o"
	ip netns exec "$o" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	bridge_port "$(ns_loc 1)" "$o" "kc${short}o" eth0
	ip -n "$o" addr add 172.31.1.100/24 dev eth0
	addr6 "$o" fd00:31:1::100/64 eth0
	ip -n "$o" link set lo up
}

# The test's own bpffs and cgroup2 (mounts_up, mounts_down, bpf_flags, agents_start_bpf).
# shellcheck source=../cluster/bpf.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/bpf.sh"

declare -a servers=()
services_down() {
	local pid
	for pid in "${servers[@]}"; do
		kill "$pid" 2>/dev/null
	done
	ip netns del "$(ns_out)" 2>/dev/null
	cluster_down
	mounts_down
}

vpn_ready() {
	vpn_configure --store "file:$store" --mesh-granularity location && ! grep -q '^Endpoint = 172\.31\.' "$tmp/vpn.conf.peers"
}

# ---- backends and manifests ---------------------------------------------------

# backends_up ADDR PODS...: a TCP server on port 8080 and a UDP one on 5353 in
# each pod, bound to ADDR (:: takes both families), answering "podI".
backends_up() {
	local addr="$1" i
	shift
	for i; do
		# ip netns exec execs whoami: $! is the server's own pid.
		ip netns exec "$(ns_pod "$i")" "$WHOAMI" serve tcp "$addr" 8080 "pod$i" &
		servers+=($!)
		ip netns exec "$(ns_pod "$i")" "$WHOAMI" serve udp "$addr" 5353 "pod$i" &
		servers+=($!)
	done
}

# endpoint I IPv4|IPv6: pod I's address of the family as an EndpointSlice
# endpoint, ready unless ENDPOINT_CONDITIONS gives its conditions.
endpoint() {
	local addr="${pod_ip[$1]}"
	[[ "$2" == IPv6 ]] && addr="${pod_ip6[$1]}"
	printf '  - addresses: ["%s"]\n    nodeName: n%s\n    conditions: {%s}\n' \
		"$addr" "$1" "${ENDPOINT_CONDITIONS:-ready: true, serving: true, terminating: false}"
}

# service_yaml NAME VIPS [TOPOLOGY [NODEPORT]]: a ClusterIP Service, or a
# NodePort one, on VIPS (one address, or an IPv4 and an IPv6 one, comma
# separated: then RequireDualStack), written as Kubernetes stores it.
service_yaml() {
	local type=ClusterIP policy=SingleStack ip families=() ips=()
	[[ -z "${4:-}" ]] || type=NodePort
	IFS=, read -ra ips <<<"$2"
	for ip in "${ips[@]}"; do
		if [[ "$ip" == *:* ]]; then families+=(IPv6); else families+=(IPv4); fi
	done
	((${#ips[@]} == 1)) || policy=RequireDualStack
	cat <<YAML
---
apiVersion: v1
kind: Service
metadata:
  name: $1
  namespace: default
  annotations: {${3:+kilo.squat.ai/topology: $3}}
spec:
  type: $type
  ipFamilyPolicy: $policy
  ipFamilies: [$(IFS=,; echo "${families[*]}")]
  clusterIP: ${ips[0]}
  clusterIPs: [$(IFS=,; echo "${ips[*]}")]
  ports:
    - {name: http, protocol: TCP, port: 80, targetPort: 8080${4:+, nodePort: $4}}
    - {name: dns, protocol: UDP, port: 53, targetPort: 5353}
YAML
}

# slice_yaml SERVICE IPv4|IPv6 PODS...: the service's EndpointSlice of that address type with those pods.
slice_yaml() {
	local service="$1" family="$2" i
	shift 2
	cat <<YAML
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $service-${family,,}
  namespace: default
  labels: {kubernetes.io/service-name: $service}
addressType: $family
ports:
  - {name: http, protocol: TCP, port: 8080}
  - {name: dns, protocol: UDP, port: 5353}
endpoints:
YAML
	for i; do endpoint "$i" "$family"; done
}

apply() { "$KGCTL" apply -f - --store "file:$store" >>"$tmp/log/apply.log" 2>&1; }

# ---- clients ----------------------------------------------------------------

# count FROM-NS PROTO ADDR PORT N: "NAME COUNT" lines and "failed K" into $tmp/count.
count() {
	ip netns exec "$1" "$WHOAMI" count "$2" "$3" "$4" "$5" >"$tmp/count" 2>&1
}
count_of() { awk -v n="$1" '$1 == n { print $2 }' "$tmp/count"; }

# answered_by N PODS...: $tmp/count holds N answers, every one of PODS answered, none other.
answered_by() {
	local n="$1" i c total=0
	shift
	for i; do
		c="$(count_of "pod$i")"
		[[ -n "$c" && "$c" -gt 0 ]] || { echo "    pod$i got no connection: $(tr '\n' ' ' <"$tmp/count")"; return 1; }
		total=$((total + c))
	done
	((total == n)) || { echo "    answers: $(tr '\n' ' ' <"$tmp/count") (want $n from pods $*)"; return 1; }
}

# every_backend_used FROM-NS PROTO ADDR PORT N PODS...: N answers, from PODS and no other.
every_backend_used() {
	local ns="$1" proto="$2" addr="$3" port="$4" n="$5"
	shift 5
	count "$ns" "$proto" "$addr" "$port" "$n" || { cat "$tmp/count"; return 1; }
	answered_by "$n" "$@"
}

# answers FROM-NS [ADDR [PORT]]: the service answers (kg has programmed it).
answers() {
	count "$1" tcp "${2:-$VIP}" "${3:-80}" 1 && [[ "$(count_of failed)" == 0 ]]
}

# vpn_routes_services CIDR...: the VPN client sends the service ranges to n1, loc1's leader.
vpn_routes_services() {
	local n1 ips cidr
	n1="$(cat "$tmp/n1.pub")"
	ips="$(ip netns exec "$(ns_vpn)" wg show "$(vpn_if)" allowed-ips | awk -v k="$n1" '$1 == k { $1 = ""; print }' | tr -s ' ' ',')"
	ip netns exec "$(ns_vpn)" wg set "$(vpn_if)" peer "$n1" allowed-ips "${ips#,},$(IFS=,; echo "$*")" || return 1
	for cidr; do
		ip -n "$(ns_vpn)" route replace "$cidr" dev "$(vpn_if)" || return 1
	done
}

# in_cgroup I COMMAND...: a host process of node I, in the cgroup its kg balances.
in_cgroup() {
	local i="$1"
	shift
	in_node "$i" bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$mounts/cgroup/ks$id-n$i" "$@"
}

# host_process_reaches PROTO ADDR PORT N PODS...: a host process of n2 reaches ADDR PORT N times, answered by PODS.
host_process_reaches() {
	local proto="$1" addr="$2" port="$3" n="$4"
	shift 4
	in_cgroup 2 "$WHOAMI" count "$proto" "$addr" "$port" "$n" >"$tmp/count" 2>&1 && answered_by "$n" "$@"
}

# kg_log_lines I PATTERN: how many lines of node I's kg log match PATTERN (grep -E).
kg_log_lines() { grep -cE -- "$2" "$tmp/log/kg-n$1.log"; }

# restart_keeps_stream ADDR: kg of n2 restarts (killed: its wireguard-go
# lives on) while pod2's TCP stream to ADDR:80 runs through its conntrack.
# While the stream still runs, the new kg must load its programs and sync
# the maps (a Service applied after the restart is written and answers
# pod2); the stream must survive all of it.
RESTART_PROBE_VIP=10.96.0.99
restart_keeps_stream() {
	local pid loaded synced start=$SECONDS
	# Long enough for a loaded machine's restart and sync; a stream that ends before them fails the check.
	ip netns exec "$(ns_pod 2)" "$WHOAMI" stream "$1" 80 12 >"$tmp/restart-stream" 2>&1 &
	pid=$!
	sleep 1
	agent_stop 2 KILL
	loaded="$(kg_log_lines 2 'bpf: on.*: programs loaded')"
	synced="$(kg_log_lines 2 'bpf: maps synced')"
	# shellcheck disable=SC2046
	agent_start 2 $(bpf_flags 2)
	if ! wait_for 15 eval '(($(kg_log_lines 2 "bpf: on.*: programs loaded") > loaded))' ||
		! wait_for 5 healthy 2; then
		echo "    the new kg did not load its programs and serve /health within 15 s"
		kill "$pid" 2>/dev/null
		return 1
	fi
	apply < <(service_yaml restart-probe "$RESTART_PROBE_VIP"; slice_yaml restart-probe IPv4 1)
	if ! wait_for 5 eval '(($(kg_log_lines 2 "bpf: maps synced") > synced))' ||
		! wait_for 5 answers "$(ns_pod 2)" "$RESTART_PROBE_VIP"; then
		echo "    the new kg did not sync a Service applied after its start within 5 s"
		kill "$pid" 2>/dev/null
		return 1
	fi
	kill -0 "$pid" 2>/dev/null || {
		echo "    the stream ended $((SECONDS - start)) s in, before the new kg had synced: $(tr '\n' ' ' <"$tmp/restart-stream")"
		return 1
	}
	echo "    the new kg loaded and synced $((SECONDS - start)) s into the stream's 12"
	"$KGCTL" delete -f - --store "file:$store" >>"$tmp/log/apply.log" 2>&1 \
		< <(service_yaml restart-probe "$RESTART_PROBE_VIP"; slice_yaml restart-probe IPv4 1)
	wait "$pid" || { sed 's/^/    /' "$tmp/restart-stream"; return 1; }
}

# services_cluster_up: the cluster, its mounts, kg --bpf on every node, the
# pods attached with kg's CNI configuration, the VPN client; every pod and
# the VPN client reach every pod (in both families in dual stack). Checked;
# services_down runs on exit.
services_cluster_up() {
	cluster_init
	trap services_down EXIT
	check "bpffs and cgroup2 mounted for the test" mounts_up
	network_up
	vpn_up
	check "kg starts on every node with --bpf on and serves /health" agents_start_bpf
	check "kg writes each node's CNI configuration; pods attach with it" pods_with_kg_conflist
	check "the VPN client is configured from kgctl showconf peer --store" wait_for 10 vpn_ready
	check "every pod reaches every pod, the VPN client every pod" matrix 15 --vpn
}

#!/usr/bin/env bash
# Network policy's flows, end to end, on a cluster of tests/netns/cluster
# (two locations of one node, CNI pods) with `kg --bpf on` on both nodes:
# pod1 (n1, loc1) connects to pod2 (n2, loc2). A policy that selects pod2
# for ingress drops it, and `kgctl observe --verdict dropped` on n2's kg
# shows the drop with both pods' names and the default deny; a policy that
# allows it takes effect for new connections within 1 s and observe names
# the rule; /metrics counts both. n2's kg runs with --flow-events all, n1's
# with the default: before any policy, n2 shows pod1's connection to pod2
# (forwarded, no rule), n1 does not.
#
# Usage: test_observe.sh KGCTL KG WHOAMI
# Prints ok/FAIL lines and "N passed, N failed"; exits 77 to skip.
set -uo pipefail

here="$(dirname "$(realpath "$0")")"
KGCTL="$(realpath "${1:?usage: test_observe.sh KGCTL KG WHOAMI}")"
KG="$(realpath "${2:?usage: test_observe.sh KGCTL KG WHOAMI}")"
WHOAMI="$(realpath "${3:?usage: test_observe.sh KGCTL KG WHOAMI}")"
CLUSTER_LOCATIONS=2
CLUSTER_PER_LOCATION=1
CLUSTER_NAT_LOCATION=0
CLUSTER_GRANULARITY=location
CLUSTER_DUAL_STACK=0
# shellcheck source=../cluster/lib.sh
source "$here/../cluster/lib.sh"
# shellcheck source=../cluster/bpf.sh
source "$here/../cluster/bpf.sh"
skip_unless_ready wireguard-go wg nft ip ping jq curl
[[ -x "$WHOAMI" ]] || { echo "skip: whoami is not built ($WHOAMI)"; exit 77; }

on_check_failure() {
	local i
	for i in "${node_ids[@]}"; do
		echo "    == n$i"
		"$KGCTL" bpf stats --pin-dir "$mounts/bpf/n$i" 2>&1 | sed 's/^/    /'
		tail -8 "$tmp/log/kg-n$i.log" | sed 's/^/    /'
	done
}

server=""
observe_down() {
	[[ -z "$server" ]] || kill "$server" 2>/dev/null
	cluster_down
	mounts_down
}

apply() { "$KGCTL" apply -f - --store "file:$store" >>"$tmp/log/apply.log" 2>&1; }

# pod_yaml I APP: pod I of node nI with label app=APP and its address.
pod_yaml() {
	cat <<YAML
---
apiVersion: v1
kind: Pod
metadata: {name: pod$1, namespace: default, labels: {app: $2}}
spec:
  nodeName: n$1
  containers: [{name: c, image: registry.example/c:1, ports: [{name: http, containerPort: 8080, protocol: TCP}]}]
status: {podIP: ${pod_ip[$1]}, podIPs: [{ip: ${pod_ip[$1]}}]}
YAML
}

# policy_yaml NAME [FROM-APP]: selects app=server for ingress; allows app=FROM-APP on http if given.
policy_yaml() {
	cat <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: $1, namespace: default}
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
YAML
	[[ -z "${2:-}" ]] || cat <<YAML
  ingress:
    - from: [{podSelector: {matchLabels: {app: $2}}}]
      ports: [{protocol: TCP, port: http}]
YAML
}

# connects: one connection from pod1 to pod2:8080 is answered by pod2 (within whoami's 2 s).
connects() {
	ip netns exec "$(ns_pod 1)" "$WHOAMI" count tcp "${pod_ip[2]}" 8080 1 >"$tmp/count" 2>&1 &&
		grep -q "^pod2 1$" "$tmp/count"
}
refused() { ! connects; }

# observe ARGS...: kgctl observe of n2's kg (it listens on its own loopback; OBSERVE_NODE=1: n1's), into $tmp/observe.
observe() {
	local i="${OBSERVE_NODE:-2}"
	in_node "$i" "$KGCTL" observe --endpoint "n$i=http://127.0.0.1:1107" "$@" >"$tmp/observe" 2>&1
}
# observed PATTERN ARGS...: observe ARGS shows a line matching PATTERN (grep -E).
observed() {
	local pattern="$1"
	shift
	observe "$@" && grep -qE -- "$pattern" "$tmp/observe" && return 0
	sed 's/^/    observe: /' "$tmp/observe" | tail -5
	return 1
}

metric() { agent_get 2 /metrics | grep -E "^$1 [1-9]" >/dev/null; }

cluster_init
trap observe_down EXIT
check "bpffs and cgroup2 mounted for the test" mounts_up
network_up
bpf_node_flags[2]="--flow-events all"
check "kg starts on both nodes with --bpf on (n2 with --flow-events all)" agents_start_bpf
check "kg writes each node's CNI configuration; pods attach with it" pods_with_kg_conflist
ip netns exec "$(ns_pod 2)" "$WHOAMI" serve tcp 0.0.0.0 8080 pod2 &
server=$!
apply < <(pod_yaml 1 client; pod_yaml 2 server)
check "without a policy pod1 (loc1) reaches pod2 (loc2)" wait_for 10 connects
unpoliced="default/pod1:[0-9]+ \(ID:[0-9]+\) -> default/pod2:8080 \(ID:[0-9]+\) TCP ingress FORWARDED$"
# A connection made before kg has synced pod2 (the pods were just applied) is
# no event of a pod it knows: connect again until one is.
unpoliced_seen() { connects && observe --verdict forwarded && grep -qE -- "$unpoliced" "$tmp/observe"; }
check "with --flow-events all, n2's kgctl observe shows the connection no policy judged: forwarded, no rule" \
	wait_for 10 unpoliced_seen
check "with the default --flow-events policed, n1's shows nothing of it" \
	eval 'OBSERVE_NODE=1 observe && ! grep -q "default/pod2:8080" "$tmp/observe"'

apply < <(policy_yaml deny)
sleep 1
check "1 s after a policy selects pod2 for ingress, a new connection from pod1 is dropped" refused
pattern="default/pod1:[0-9]+ \(ID:[0-9]+\) -> default/pod2:8080 \(ID:[0-9]+\) TCP ingress DROPPED policy_denied rule \"default deny ingress \(default/deny\)\""
check "kgctl observe --verdict dropped shows the drop, both pods by name, the default deny of the policy that isolates pod2" \
	observed "$pattern" --verdict dropped
check "kgctl observe --verdict forwarded leaves it out" eval '! observed "DROPPED" --verdict forwarded >/dev/null'
check "kgctl observe --pod default/pod1 -o json: the flow with identities, node and location" \
	observed '"verdict":"dropped".*"source":\{"ip":"[0-9.]+","port":[0-9]+,"identity":[0-9]+,"labels":"[^"]*pod:app=client[^"]*","namespace":"default","pod":"pod1","node":"n1","location":"loc1"\}' \
	--pod default/pod1 -o json
check "/metrics counts the drop by reason" metric 'kilo_policy_flows_total\{verdict="dropped",reason="policy_denied"\}'
check "and by rule (the default deny of default/deny)" \
	metric 'kilo_policy_rule_flows_total\{rule_id="[1-9][0-9]*",rule="default deny ingress \(default/deny\)",verdict="dropped"\}'
check "and the datapath's per-rule counter of that default deny" \
	metric 'kilo_policy_rule_packets_total\{rule_id="[1-9][0-9]*",rule="default deny ingress \(default/deny\)"\}'

apply < <(policy_yaml allow-client client)
sleep 1
check "1 s after a policy allows pod1 on http, a new connection is answered" connects
check "kgctl observe --verdict forwarded names the rule that allowed it" \
	observed 'default/pod1:[0-9]+ .* -> default/pod2:8080 .* TCP ingress FORWARDED rule "default/allow-client ingress\[0\]"' \
	--verdict forwarded
check "/metrics counts it by rule" metric 'kilo_policy_rule_flows_total\{rule_id="[0-9]+",rule="default/allow-client ingress\[0\]",verdict="forwarded"\}'
check "and the datapath's per-rule counter of that rule" metric 'kilo_policy_rule_packets_total\{rule_id="[0-9]+",rule="default/allow-client ingress\[0\]"\}'
echo "$passed passed, $failed failed"
((failed == 0))

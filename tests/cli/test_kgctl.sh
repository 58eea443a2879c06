#!/usr/bin/env bash
# kgctl as a user sees it: exit statuses, error lines, and exact output;
# and, given KG, how kg reads its flags (no agent is started).
#
# Usage: test_kgctl.sh KGCTL [VECTORS.json [KG]]
# Prints one "ok"/"FAIL" line per check and ends with "N passed, N failed";
# exits 1 if any check failed.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kgctl="$(realpath "$1")"
vectors="${2:-$repo/tests/conformance/kilo-vectors.json}"
kg="${3:+$(realpath "$3")}"
example="$repo/examples/meshes/three-clouds.json"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
status=0

pass() {
	passed=$((passed + 1))
	echo "ok - $1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	shift
	printf '    %s\n' "$@"
}

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	local name="$1"
	shift
	if "$@"; then pass "$name"; else fail "$name" "status $status" "stdout: $(head -c 300 "$tmp/out")" "stderr: $(head -c 300 "$tmp/err")"; fi
}

# run ARGS...: runs kgctl with stdin from /dev/null; sets $status, fills $tmp/out and $tmp/err.
run() {
	"$kgctl" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	status=$?
}

# is_error STATUS TEXT: failed with STATUS, nothing on stdout, and stderr is
# exactly one line "kgctl: ..." that contains TEXT.
is_error() {
	[[ $status -eq $1 && ! -s "$tmp/out" && "$(wc -l <"$tmp/err")" -eq 1 ]] &&
		[[ "$(cat "$tmp/err")" == "kgctl: "*"$2"* ]]
}

# expect_error NAME STATUS TEXT ARGS...
expect_error() {
	local name="$1" want="$2" text="$3"
	shift 3
	run "$@"
	check "$name" is_error "$want" "$text"
}

stdout_is() { cmp -s "$tmp/out" "$1"; }
stdout_has() { grep -qF -- "$1" "$tmp/out"; }
stderr_is() { [[ "$(cat "$tmp/err")" == "$1" ]]; }
succeeded() { [[ $status -eq 0 ]]; }

# ---- the command line ------------------------------------------------------

run --version
check "--version prints the library version" eval 'succeeded && grep -qE "^kgctl [0-9]+\.[0-9]+\.[0-9]+$" "$tmp/out"'
run --help
check "--help lists the commands" eval 'succeeded && stdout_has "Usage: kgctl" && stdout_has showconf'
for cmd in solve showconf graph genkey pubkey; do
	run "$cmd" --help
	check "$cmd --help prints its usage" eval 'succeeded && stdout_has "Usage: kgctl $cmd" && [[ ! -s "$tmp/err" ]]'
done
expect_error "no command is a usage error" 2 "missing command"
expect_error "an unknown command is a usage error" 2 'unknown command "frobnicate"' frobnicate
expect_error "an unknown flag is a usage error" 2 "unknown option --frob" showconf node a --mesh "$example" --frob
expect_error "a flag without its value is a usage error" 2 "option --mesh needs a value" graph --mesh
expect_error "showconf without a name is a usage error" 2 "expected" showconf node --mesh "$example"
expect_error "showconf without --mesh is a usage error" 2 "missing --mesh" showconf node aws-eu-1
expect_error "solve without --node is a usage error" 2 "missing --node" solve --mesh "$example"

# ---- bad mesh documents ------------------------------------------------------

cat >"$tmp/good.json" <<'JSON'
{"version": 1,
 "settings": {"granularity": "location", "subnet": "10.4.0.0/16"},
 "nodes": [
  {"name": "a", "location": "l1", "endpoint": "203.0.113.1:51820", "internalIP": "192.168.0.1/24",
   "podCIDR": "10.2.1.0/24", "publicKey": "a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
  {"name": "b", "location": "l2", "endpoint": "203.0.113.2:51820", "internalIP": "192.168.1.1/24",
   "podCIDR": "10.2.2.0/24", "publicKey": "a2V5MgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
  {"name": "c", "location": "l3", "endpoint": "203.0.113.3:51820", "internalIP": "192.168.2.1/24",
   "podCIDR": "10.2.3.0/24", "publicKey": "a2V5MwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
 ],
 "peers": [{"name": "laptop", "publicKey": "a2V5NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "allowedIPs": ["10.5.0.1/32"]}]}
JSON
# variant NAME SED-EXPRESSION: a copy of good.json edited by sed.
variant() { sed -e "$2" "$tmp/good.json" >"$tmp/$1.json"; }
variant bad-cidr 's#10.2.1.0/24#10.2.1.0/33#'
variant bad-key 's#a2V5MQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=#not-a-key#'
variant duplicate 's#"name": "b"#"name": "a"#'
variant unknown-field 's#"podCIDR": "10.2.1.0/24"#"podCidr": "10.2.1.0/24"#'
variant exhausted 's#10.4.0.0/16#10.4.0.0/31#'
variant not-ready 's#"endpoint": "203.0.113.2:51820", ##'
head -c 120 "$tmp/good.json" >"$tmp/truncated.json"
truncate -s 65M "$tmp/huge.json"

run showconf node a --mesh "$tmp/good.json"
check "the fixture mesh is valid" eval 'succeeded && stdout_has "[Interface]"'
expect_error "malformed JSON names the file" 1 "$tmp/truncated.json: " showconf node a --mesh "$tmp/truncated.json"
expect_error "an invalid CIDR names the field and the value" 1 '"10.2.1.0/33"' showconf node a --mesh "$tmp/bad-cidr.json"
check "an invalid CIDR names the field" grep -qF "podCIDR" "$tmp/err"
expect_error "a bad key names the value" 1 '"not-a-key"' showconf node b --mesh "$tmp/bad-key.json"
check "a bad key names the field" grep -qF "publicKey" "$tmp/err"
expect_error "a duplicate node name is an error" 1 'duplicate' graph --mesh "$tmp/duplicate.json"
check "a duplicate node name names the name" grep -qF '"a"' "$tmp/err"
expect_error "an unknown field is named" 1 'podCidr' solve --node a --mesh "$tmp/unknown-field.json"
expect_error "an exhausted WireGuard subnet names the subnet" 1 '"10.4.0.0/31"' showconf node a --mesh "$tmp/exhausted.json"
expect_error "an exhausted WireGuard subnet fails graph too" 1 'settings.subnet' graph --mesh "$tmp/exhausted.json"
expect_error "a missing mesh file names the path" 1 "$tmp/nope.json: No such file or directory" \
	showconf node a --mesh "$tmp/nope.json"
expect_error "a missing node is not found" 1 'did not find any node named "zz" in the cluster' \
	showconf node zz --mesh "$tmp/good.json"
check "a missing node is Kilo's exact message" stderr_is 'kgctl: did not find any node named "zz" in the cluster'
expect_error "a node that is not ready is not found, as in Kilo" 1 'did not find any node named "b" in the cluster' \
	showconf node b --mesh "$tmp/not-ready.json"
expect_error "a mesh document over 64 MiB is refused" 1 "larger than 64 MiB" graph --mesh "$tmp/huge.json"
expect_error "a missing peer is not found" 1 'did not find any peer named "zz" in the cluster' \
	showconf peer zz --mesh "$tmp/good.json"
expect_error "solve for a missing node fails" 1 'did not find any node named "zz" in the cluster' \
	solve --node zz --mesh "$tmp/good.json"

# ---- flag values -------------------------------------------------------------

expect_error "a bad --allowed-ips is Kilo's message" 1 'allowed-ips must contain only valid CIDRs; got "10.0.0.0/33"' \
	showconf node a --mesh "$tmp/good.json" --as-peer --allowed-ips 10.1.0.0/16,10.0.0.0/33
expect_error "a bad --output is refused" 1 'output format' showconf node a --mesh "$tmp/good.json" -o toml
expect_error "a bad --port is refused" 2 '--port: "70000" is not a number from 1 to 65535' showconf node a --mesh "$tmp/good.json" --port 70000
expect_error "a bad --mesh-granularity is refused" 2 '--mesh-granularity: "wide" is not location, full or cross' graph --mesh "$tmp/good.json" --mesh-granularity wide
expect_error "a bad --encapsulate is refused" 2 '--encapsulate: "sometimes" is not always, crosssubnet or never' solve --node a --mesh "$tmp/good.json" --encapsulate sometimes

# ---- the example mesh --------------------------------------------------------

run showconf node edge-berlin-2 --mesh "$example"
check "a non-leader prints Kilo's notice and nothing else" \
	eval 'succeeded && [[ ! -s "$tmp/out" ]] && stderr_is "Node \"edge-berlin-2\" is not a leader node"'
run showconf node aws-eu-1 --mesh "$example" --port 51821
check "showconf node uses --port" eval 'succeeded && head -2 "$tmp/out" | grep -qx "ListenPort = 51821"'
"$kgctl" showconf node aws-eu-1 --mesh - <"$example" >"$tmp/out" 2>"$tmp/err"
status=$?
check "--mesh - reads stdin" eval 'succeeded && stdout_has "[Interface]"'
run showconf peer laptop --mesh "$example"
check "showconf peer prints only peers" eval 'succeeded && [[ "$(head -1 "$tmp/out")" == "[Peer]" ]] && ! stdout_has "[Interface]"'
run showconf peer office-router --mesh "$example" --as-peer --allowed-ips 10.43.0.0/16,172.20.0.0/24
check "showconf peer --as-peer prints the peer with the extra allowed IPs" eval 'succeeded && [[ "$(cat "$tmp/out")" == "[Peer]
AllowedIPs = 10.5.0.2/32, 172.20.0.0/24, 10.43.0.0/16
Endpoint = vpn.office.example.com:51820
PersistentKeepalive = 25
PresharedKey = 5GfZdOPEw2FCUf2Us8vpw6h1c1zUF42rl3AvaTLpS4U=
PublicKey = 52+KtV+uYfsQbCzSkVUcIb2LJ+FR9MjrH4Mh9lu5t30=" ]]'
run showconf peer office-router --mesh "$example" --as-peer -o yaml
check "showconf peer --as-peer -o yaml names the DNS endpoint" eval 'succeeded && stdout_has "dns: vpn.office.example.com" && stdout_has "persistentKeepalive: 25"'
run showconf peer office-router --mesh "$example" --port 40000
check "showconf peer takes --port but prints no interface" eval 'succeeded && ! stdout_has "ListenPort"'
run graph --mesh "$example"
check "graph prints DOT with Println's extra newline" \
	eval 'succeeded && [[ "$(head -1 "$tmp/out")" == "digraph kilo {" ]] && [[ "$(tail -c 3 "$tmp/out" | od -An -c | tr -d " ")" == "}\n\n" ]]'
if command -v dot >/dev/null; then
	run graph --mesh "$example" -o svg
	check "graph -o svg renders with dot" eval 'succeeded && stdout_has "<svg"'
fi
PATH=/nonexistent "$kgctl" graph --mesh "$example" -o svg </dev/null >"$tmp/out" 2>"$tmp/err"
status=$?
check "graph -o svg without Graphviz says so" is_error 1 "not installed"
run solve --mesh "$example" --node gcp-us-1
check "solve prints the plan as JSON" eval 'succeeded && python3 -c "import json, sys
plan = json.load(open(sys.argv[1]))
assert all(k in plan for k in (\"topology\", \"config\", \"routes\", \"rules\", \"natRules\")), list(plan)" "$tmp/out"'

# ---- keys ----------------------------------------------------------------------

# RFC 7748 section 6.1: Alice's private and public keys.
echo "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=" >"$tmp/alice"
"$kgctl" pubkey <"$tmp/alice" >"$tmp/out" 2>"$tmp/err"
status=$?
check "pubkey derives the RFC 7748 public key" eval 'succeeded && [[ "$(cat "$tmp/out")" == "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=" ]]'
printf 'hello\n' | "$kgctl" pubkey >"$tmp/out" 2>"$tmp/err"
status=$?
check "pubkey refuses a bad key" is_error 1 "private key"
check "pubkey does not echo its input" eval '! grep -q hello "$tmp/err"'
"$kgctl" pubkey </dev/null >"$tmp/out" 2>"$tmp/err"
status=$?
check "pubkey refuses empty input" is_error 1 "private key"
run genkey
check "genkey prints a 44-character key" eval 'succeeded && grep -qxE "[A-Za-z0-9+/]{43}=" "$tmp/out"'
cp "$tmp/out" "$tmp/key"
"$kgctl" pubkey <"$tmp/key" >"$tmp/pub" 2>"$tmp/err"
status=$?
check "genkey | pubkey round-trips" eval 'succeeded && grep -qxE "[A-Za-z0-9+/]{43}=" "$tmp/pub"'
if command -v wg >/dev/null; then
	check "kgctl pubkey agrees with wg pubkey" eval '[[ "$(wg pubkey <"$tmp/key")" == "$(cat "$tmp/pub")" ]]'
else
	echo "skip - wg pubkey comparison (wireguard-tools is not installed)"
fi
(umask 022 && "$kgctl" genkey >"$tmp/readable" 2>"$tmp/err")
status=$?
check "genkey warns about a file others can read" eval 'succeeded && grep -q warning "$tmp/err"'
"$kgctl" genkey >/dev/full 2>"$tmp/err"
status=$?
: >"$tmp/out"
check "a failed write to stdout is an error" is_error 1 "cannot write"

# ---- the file store (--store file:DIR, status, node set) ---------------------------

store="$tmp/store"
mkdir -p "$store/nodes" "$store/peers"
node_object() { # NAME LOCATION ENDPOINT KEY POD-CIDR LAST-SEEN
	printf '{"name": "%s", "location": "%s", "endpoint": "%s", "internalIP": "192.168.0.%s/24", "publicKey": "%s", "podCIDR": "%s", "lastSeen": %s}\n' \
		"$1" "$2" "$3" "${#1}" "$4" "$5" "$6"
}
node_object a eu 1.1.1.1:51820 hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo= 10.2.1.0/24 1000 >"$store/nodes/a.json"
node_object bb eu 192.168.0.2:51820 3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08= 10.2.2.0/24 998 >"$store/nodes/bb.json"
node_object c us 2.2.2.2:51820 yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk= 10.2.3.0/24 900 >"$store/nodes/c.json"
printf '{"name": "laptop", "publicKey": "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=", "allowedIPs": ["10.5.0.1/32"]}\n' >"$store/peers/laptop.json"
run status --store "file:$store" --now 1003
check "status lists every node with its leader and liveness" eval 'succeeded && grep -qE "^a +eu +yes +yes +1.1.1.1:51820 +10.4.0.1 +3s ago$" "$tmp/out" &&
	grep -qE "^bb +eu +no +yes " "$tmp/out" && grep -qE "^c +us +- +no .* 103s ago$" "$tmp/out"'
check "status lists the peers" eval 'grep -qE "^laptop +10.5.0.1/32 " "$tmp/out"'
run status --store "file:$store" --now 1003 --ready-window 200
check "status takes the ready window" eval 'succeeded && grep -qE "^c +us +yes +yes " "$tmp/out"'
# The same nodes, alive now: a store is live, so kgctl sees what the agents see.
live="$tmp/live"
mkdir -p "$live/nodes" "$live/peers"
now=$(date +%s)
node_object a eu 1.1.1.1:51820 hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo= 10.2.1.0/24 "$now" >"$live/nodes/a.json"
node_object bb eu 192.168.0.2:51820 3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08= 10.2.2.0/24 "$now" >"$live/nodes/bb.json"
node_object c us 2.2.2.2:51820 yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk= 10.2.3.0/24 "$now" >"$live/nodes/c.json"
cp "$store/peers/laptop.json" "$live/peers/"
run graph --store "file:$live"
check "graph reads the store" eval 'succeeded && grep -q "\"a\"->\"c\"" "$tmp/out"'
run showconf node c --store "file:$live"
check "showconf reads the store" eval 'succeeded && grep -q "^\[Interface\]" "$tmp/out"'
run solve --store "file:$live" --node a
check "solve reads the store" eval 'succeeded && grep -q "natRules" "$tmp/out"'
node_object c us 2.2.2.2:51820 yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk= 10.2.3.0/24 $((now - 600)) >"$live/nodes/c.json"
run graph --store "file:$live"
check "a node its agent no longer keeps alive is out of the graph" eval 'succeeded && ! grep -q "\"c\"" "$tmp/out"'
expect_error "--mesh and --store exclude each other" 2 "cannot be used together" graph --store "file:$store" --mesh "$example"
expect_error "a missing store directory is an error" 1 "$tmp/nostore" status --store "file:$tmp/nostore"
check "a missing store directory is not created" eval '[[ ! -e "$tmp/nostore" ]]'
mkdir "$tmp/empty"
run status --store "file:$tmp/empty"
check "status of an empty store shows no node" eval 'succeeded'
run graph --store "file:$tmp/empty"
check "read-only commands write nothing into the store" eval '[[ -z "$(ls -A "$tmp/empty")" ]]'
echo '{"name": "d", "locaton": "eu"}' >"$store/nodes/d.json"
run status --store "file:$store" --now 1003
check "a corrupt store file is a warning, the rest is shown" eval 'succeeded && grep -q "warning: .*nodes/d.json: locaton: unknown field" "$tmp/err" && grep -qE "^a " "$tmp/out"'
rm "$store/nodes/d.json"
run status --store "file:$store" --now 1003
check "status ends with the store section" eval 'succeeded && [[ "$(tail -n 1 "$tmp/out")" == "Store: file:$store" ]]'
run status --store "file:$store" --now 1003 -o json
check "status -o json has no store section" eval 'succeeded && ! grep -q "Store:" "$tmp/out"'

# ---- the etcd store's flags (every command that takes --store) ---------------------

for cmd in "status" "graph" "solve" "showconf node" "node" "connect"; do
	run $cmd --help
	check "$cmd --help lists --store URI and the --etcd-* flags" eval 'succeeded && stdout_has "--store URI" &&
		stdout_has "--etcd-cacert FILE" && stdout_has "--etcd-cert FILE" && stdout_has "--etcd-key FILE" &&
		stdout_has "--etcd-user NAME" && stdout_has "--etcd-password-file FILE"'
done
expect_error "an --etcd-* flag with a mesh document is a usage error" 2 "--etcd-* flags need --store" \
	graph --mesh "$example" --etcd-cacert /nonexistent/ca.pem
expect_error "an --etcd-* flag needs its value" 2 "option --etcd-user needs a value" status --store "file:$store" --etcd-user
expect_error "a store URI of no known kind names what is expected" 1 'store: "zk://h:1" is not a store URI (expected file:DIR or etcd://HOST:PORT)' \
	status --store zk://h:1
expect_error "an etcd URI's bad port is named" 1 'store "etcd://h:99999": port "99999" is not a port' \
	status --store etcd://h:99999
expect_error "a password in an etcd URI is refused" 1 "a password never goes in the URI: use password-file=FILE" \
	graph --store 'etcd://127.0.0.1:1?password=x'
# Port 1 on loopback: nothing listens there, the connection is refused at once.
expect_error "an etcd that does not answer is an error naming the endpoint" 1 "etcd 127.0.0.1:1: " \
	status --store etcd://127.0.0.1:1/c
expect_error "node set on an etcd that does not answer fails, naming the node and the endpoint" 1 \
	'node "a": etcd 127.0.0.1:1: ' node set a location=eu --store etcd://127.0.0.1:1
run status --store "file:$store" --now 1003 --etcd-user nobody --etcd-cacert /nonexistent/ca.pem
check "the --etcd-* flags do not change a file store" eval 'succeeded && grep -qE "^a +eu " "$tmp/out"'
run node set a location=eu --store "file:$store" --etcd-password-file /nonexistent/password
check "node set takes the --etcd-* flags" eval 'succeeded'

run node set a location=us leader=true force-endpoint=1.1.1.9:51821 allowed-location-ips=10.9.0.0/24 --store "file:$store"
check "node set edits the node in the store" eval 'succeeded && python3 -c "import json, sys
n = json.load(open(sys.argv[1]))
assert (n[\"location\"], n[\"leader\"], n[\"endpoint\"], n[\"allowedLocationIPs\"]) == (\"us\", True, \"1.1.1.9:51821\", [\"10.9.0.0/24\"]), n" "$store/nodes/a.json"'
check "node set leaves no temporary file" eval '[[ "$(ls -A "$store/nodes")" == "$(printf "a.json\nbb.json\nc.json")" ]]'
run node set a force-internal-ip= --store "file:$store"
check "node set with an empty value removes the setting" eval 'succeeded && ! grep -q internalIP "$store/nodes/a.json"'
expect_error "node set refuses an unknown key" 1 'unknown key "colour"' node set a colour=blue --store "file:$store"
expect_error "node set refuses a bad value" 1 "podCIDR" node set a pod-cidr=10.2.1.0/33 --store "file:$store"
run node set a pod-cidr=10.2.1.0/24,fd02:1::/64 --store "file:$store"
check "node set pod-cidr=V4,V6 gives the node a pod CIDR of each family" eval 'succeeded && python3 -c "import json, sys
n = json.load(open(sys.argv[1]))
assert (n[\"podCIDR\"], n[\"secondaryPodCIDR\"]) == (\"10.2.1.0/24\", \"fd02:1::/64\"), n" "$store/nodes/a.json"'
run node set a pod-cidr=10.2.1.0/24 --store "file:$store"
check "node set pod-cidr with one CIDR ends dual stack" eval 'succeeded && ! grep -q secondaryPodCIDR "$store/nodes/a.json"'
expect_error "node set refuses two pod CIDRs of one family" 1 \
	'secondaryPodCIDR: "10.3.1.0/24" is IPv4 like podCIDR; it must be of the other family' \
	node set a pod-cidr=10.2.1.0/24,10.3.1.0/24 --store "file:$store"
expect_error "node set of a missing node fails" 1 "zz" node set zz location=eu --store "file:$store"
expect_error "node set needs an assignment" 2 "KEY=VALUE" node set a --store "file:$store"
expect_error "node set needs --store" 2 "missing --store" node set a location=eu
expect_error "connect refuses a bad --ready-window" 2 '--ready-window: "soon" is not a duration such as 30s, 1m30s or 2h' \
	connect --ready-window soon --store "file:$store"

# ---- --ready-window: the agents' liveness on a live store ----------------------------

win="$tmp/window"
mkdir -p "$win/nodes" "$win/peers"
now=$(date +%s)
node_object a eu 1.1.1.1:51820 hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo= 10.2.1.0/24 "$now" >"$win/nodes/a.json"
node_object c us 2.2.2.2:51820 yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk= 10.2.3.0/24 $((now - 20)) >"$win/nodes/c.json"
run graph --store "file:$win"
check "a node silent for 20 s is out of the graph with kg's default ready window" \
	eval 'succeeded && grep -q "\"a\"" "$tmp/out" && ! grep -q "\"c\"" "$tmp/out"'
run graph --store "file:$win" --ready-window 60
check "graph --ready-window 60 keeps a node silent for 20 s" eval 'succeeded && grep -q "\"a\"->\"c\"" "$tmp/out"'
expect_error "showconf does not find a node silent longer than the ready window" 1 \
	'did not find any node named "c" in the cluster' showconf node c --store "file:$win"
run showconf node c --store "file:$win" --ready-window 60
check "showconf --ready-window 60 finds it" eval 'succeeded && grep -q "^\[Interface\]" "$tmp/out"'
run solve --store "file:$win" --node a
check "solve leaves a node out after the default ready window" eval 'succeeded && ! stdout_has "2.2.2.2:51820"'
run solve --store "file:$win" --node a --ready-window 60
check "solve --ready-window 60 keeps it" eval 'succeeded && stdout_has "2.2.2.2:51820"'
run status --store "file:$win"
check "status marks it not ready with the default ready window" eval 'succeeded && grep -qE "^c +us +- +no " "$tmp/out"'
run status --store "file:$win" --ready-window 60
check "status --ready-window 60 marks it ready" eval 'succeeded && grep -qE "^c +us +yes +yes " "$tmp/out"'
for bad in 0 4294967296 1193046h28m16s; do
	expect_error "--ready-window refuses \"$bad\"" 2 "--ready-window: \"$bad\" is out of range (1s to 1193046h28m15s)" \
		graph --store "file:$win" --ready-window "$bad"
done
for bad in -5 abc 1m30 10q 1.s5; do
	expect_error "--ready-window refuses \"$bad\"" 2 "--ready-window: \"$bad\" is not a duration such as 30s, 1m30s or 2h" \
		graph --store "file:$win" --ready-window "$bad"
done
expect_error "--ready-window refuses a part of a second" 2 '--ready-window: "1500ms" is not a whole number of seconds' \
	graph --store "file:$win" --ready-window 1500ms
run graph --store "file:$win" --ready-window 1m
check "graph --ready-window 1m (Go's form) keeps a node silent for 20 s" eval 'succeeded && grep -q "\"a\"->\"c\"" "$tmp/out"'
run graph --store "file:$win" --ready-window 10s
check "graph --ready-window 10s (Go's form) leaves it out" eval 'succeeded && ! grep -q "\"c\"" "$tmp/out"'

# ---- global flags before the command, as in Kilo -------------------------------------

run --store "file:$win" --ready-window 60 graph
check "global flags before the command: kgctl --store URI --ready-window 60 graph" eval 'succeeded && grep -q "\"a\"->\"c\"" "$tmp/out"'
run --mesh "$example" --mesh-granularity full showconf node aws-eu-1
check "global flags before the command: kgctl --mesh FILE --mesh-granularity full showconf" \
	eval 'succeeded && grep -q "^\[Interface\]" "$tmp/out"'
run --store "file:$win" graph --ready-window 60
check "global flags mix with the command's" eval 'succeeded && grep -q "\"a\"->\"c\"" "$tmp/out"'
expect_error "a global flag the command does not take is refused as the command's" 2 \
	"unknown option --store (see 'kgctl genkey --help')" --store "file:$win" genkey
expect_error "a global flag before the command needs its value" 2 "option --store needs a value (see 'kgctl --help')" --store
expect_error "a bad global value is refused before the command runs" 2 '--ready-window: "soon" is not a duration' \
	--ready-window soon graph --store "file:$win"
expect_error "--ready-window without a value is a usage error" 2 "option --ready-window needs a value" \
	showconf node a --store "file:$win" --ready-window
expect_error "--ready-window with a mesh document is a usage error" 2 "--ready-window needs --store" \
	solve --mesh "$tmp/good.json" --node a --ready-window 60

# ---- hostile input: trailing bytes, FIFOs, control characters, IPv4-mapped addresses --

printf 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\0garbage' | "$kgctl" pubkey >"$tmp/out" 2>"$tmp/err"
status=$?
check "pubkey refuses bytes after the key" is_error 1 "private key"
printf 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo= trailing\n' | "$kgctl" pubkey >"$tmp/out" 2>"$tmp/err"
status=$?
check "pubkey refuses words after the key" is_error 1 "private key"
printf 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n' | "$kgctl" pubkey >"$tmp/out" 2>"$tmp/err"
status=$?
check "pubkey takes the key and one newline" eval 'succeeded && [[ "$(cat "$tmp/out")" == "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=" ]]'

# Opening a FIFO for reading waits for a writer: without O_NONBLOCK these never end.
mkfifo "$tmp/fifo.key"
status=0
timeout -k 2 10 "$kgctl" apply --mesh "$example" --node aws-eu-1 --private-key "$tmp/fifo.key" </dev/null >"$tmp/out" 2>"$tmp/err" ||
	status=$?
check "apply refuses a FIFO as private key at once" is_error 1 "private key $tmp/fifo.key: not a regular file"
status=0
timeout -k 2 10 "$kgctl" connect laptop --store "file:$store" --private-key "$tmp/fifo.key" </dev/null >"$tmp/out" 2>"$tmp/err" ||
	status=$?
check "connect refuses a FIFO as private key at once" is_error 1 "private key $tmp/fifo.key: not a regular file"

# A location with an escape sequence, a node name with one: printed escaped, never raw.
python3 - "$example" "$tmp/esc.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["nodes"][0]["location"] = "aws\x1b[2Jeu"
json.dump(d, open(sys.argv[2], "w"))
PY
run status --mesh "$tmp/esc.json"
check "status escapes control characters in a location" eval 'succeeded && grep -qF "aws\x1b[2Jeu" "$tmp/out" && ! grep -q $'"'"'\x1b'"'"' "$tmp/out"'
run status --mesh "$tmp/esc.json" -o json
check "status -o json escapes them as JSON does" eval 'succeeded && grep -qF "aws\u001B[2Jeu" "$tmp/out"'
expect_error "an error line escapes a name given on the command line" 1 'did not find any node named "x\x1b[31my"' \
	showconf node $'x\e[31my' --mesh "$example"
check "and holds no raw escape" eval '! grep -q $'"'"'\x1b'"'"' "$tmp/err"'
sed 's/"name": "aws-eu-1"/"name": "aws\\u001b[31m"/' "$example" >"$tmp/esc-name.json"
expect_error "a mesh document's bad name is quoted escaped" 1 'nodes[0].name: "aws\x1b[31m" is not a valid node name' \
	status --mesh "$tmp/esc-name.json"
check "and holds no raw escape" eval '! grep -q $'"'"'\x1b'"'"' "$tmp/err"'

for field in endpoint podCIDR internalIP; do
	case "$field" in
	endpoint) value='[::ffff:198.51.100.11]:51820' ;;
	podCIDR) value='::ffff:10.244.0.0/120' ;;
	internalIP) value='::ffff:172.31.16.11/128' ;;
	esac
	python3 - "$example" "$tmp/mapped.json" "$field" "$value" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["nodes"][0][sys.argv[3]] = sys.argv[4]
json.dump(d, open(sys.argv[2], "w"))
PY
	expect_error "an IPv4-mapped $field is refused, and said to be one" 1 \
		"nodes[0].$field: \"$value\" is an IPv4-mapped IPv6 address" showconf node aws-eu-2 --mesh "$tmp/mapped.json"
done
expect_error "connect refuses an IPv4-mapped --allowed-ips" 2 '"::ffff:10.5.0.9/128" is an IPv4-mapped IPv6 address' \
	connect laptop --store "file:$store" --private-key "$tmp/key" --allowed-ips ::ffff:10.5.0.9/128

# ---- status of a snapshot, and as JSON ---------------------------------------------

run status --mesh "$example"
check "status of a mesh document shows every node of the example ready, as showconf does" \
	eval 'succeeded && [[ $(grep -cE "^[a-z0-9-]+ +[a-z-]+ +(yes|no) +yes " "$tmp/out") -eq 10 ]]'
run status --mesh "$example" -o json
check "status -o json has the documented shape and agrees with showconf" eval 'succeeded && python3 -c "
import json, subprocess, sys
s = json.load(open(sys.argv[1]))
assert set(s) == {\"nodes\", \"peers\"}, list(s)
for n in s[\"nodes\"]:
    assert set(n) == {\"name\", \"location\", \"leader\", \"ready\", \"endpoint\", \"wireGuardIP\", \"lastSeen\"}, n
    assert n[\"ready\"], n
    shown = subprocess.run([sys.argv[2], \"showconf\", \"node\", n[\"name\"], \"--mesh\", sys.argv[3]], capture_output=True, text=True)
    assert shown.returncode == 0 and n[\"leader\"] == bool(shown.stdout), (n, shown.stderr)
for p in s[\"peers\"]:
    assert set(p) == {\"name\", \"allowedIPs\", \"endpoint\", \"persistentKeepalive\"}, p
assert [p[\"name\"] for p in s[\"peers\"]] == [\"laptop\", \"office-router\"]
" "$tmp/out" "$kgctl" "$example"'
run status --store "file:$store" --now 1003 -o json
check "status -o json of a store judges liveness" eval 'succeeded && python3 -c "
import json, sys
s = {n[\"name\"]: n for n in json.load(open(sys.argv[1]))[\"nodes\"]}
assert s[\"a\"][\"ready\"] and s[\"a\"][\"lastSeen\"] == 1000, s
assert not s[\"c\"][\"ready\"] and not s[\"c\"][\"leader\"] and s[\"c\"][\"wireGuardIP\"] is None, s
" "$tmp/out"'
expect_error "status refuses an unknown output format" 2 '--output: "yaml" is not text or json' \
	status --mesh "$example" -o yaml
expect_error "status --ready-window with a mesh document is a usage error" 2 "--ready-window needs --store" \
	status --mesh "$example" --ready-window 60

# ---- bpf stats --------------------------------------------------------------------

expect_error "bpf stats names the counters it cannot find, and what may be wrong" 1 \
	"bpf stats: $tmp/no-pins/kilo_lb_counters: No such file or directory (is kg running with --bpf?)" \
	bpf stats --pin-dir "$tmp/no-pins"
expect_error "bpf needs its subcommand" 2 "missing subcommand (stats)" bpf
expect_error "bpf refuses an unknown subcommand" 2 'unknown subcommand "show" (stats)' bpf show

# ---- services --------------------------------------------------------------------

services_store="$tmp/services-store"
mkdir -p "$services_store"
run apply -f "$here/../../examples/services" --store "file:$services_store"
check "the example Services go into a store" succeeded
run services --store "file:$services_store"
check "services prints each frontend with its endpoints, nodes and states" eval 'succeeded &&
	stdout_has "default/web" && grep -qE "10\.96\.0\.10:80/TCP +cluster +10\.2\.1\.10:8080 +n1 .* ready +yes" "$tmp/out"'
run services --store "file:$services_store" -o json
check "services -o json has the frontends" eval 'succeeded && python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert \"10.96.0.10:80/TCP\" in [f[\"frontend\"] for f in d[\"frontends\"]], d
" "$tmp/out"'
expect_error "services needs a store" 2 "--store is required (a mesh document holds no Services)" services --mesh "$example"
expect_error "services refuses an unknown output format" 2 '--output: "yaml" is not text or json' \
	services --store "file:$services_store" -o yaml

# ---- observe -------------------------------------------------------------------

# A kg's /flows as kg serves it, on a loopback port of its own: node NODE's two flows, then
# nothing new; with "grow", a third flow comes once a reader has read the first two (a kg
# seeing a new flow while kgctl observe --follow waits).
# usage: flows.py PORT-FILE NODE [grow]
cat >"$tmp/flows.py" <<'PY'
import http.server, sys, urllib.parse
NODE = sys.argv[2]
GROW = sys.argv[3:] == ["grow"]
LINES = [
    '{"seq":1,"time":"2026-12-05T01:02:03.000000000Z","node":"n2","verdict":"forwarded","reason":"none","direction":"ingress","protocol":"TCP","source":{"ip":"10.1.0.5","port":40000,"identity":256,"namespace":"shop","pod":"web-1"},"destination":{"ip":"10.2.0.7","port":5432,"identity":257,"namespace":"shop","pod":"db-0"},"rule":{"id":7,"name":"shop/db ingress[0]"},"service":{"id":3,"name":"shop/db","ip":"10.43.0.10","port":5432}}',
    '{"seq":2,"time":"2026-12-05T01:02:04.000000000Z","node":"n2","verdict":"dropped","reason":"policy_denied","direction":"ingress","protocol":"UDP","source":{"ip":"10.3.0.9","port":53,"identity":258,"namespace":"other","pod":"x"},"destination":{"ip":"10.2.0.7","port":53,"identity":257,"namespace":"shop","pod":"db-0"},"rule":{"id":0,"name":"default deny"}}',
]
LINES = [l.replace('"node":"n2"', '"node":"%s"' % NODE) for l in LINES]
LATER = '{"seq":3,"time":"2026-12-05T01:02:05.000000000Z","node":"%s","verdict":"dropped","reason":"policy_denied","direction":"egress","protocol":"TCP","source":{"ip":"10.1.0.5","port":40001,"identity":256,"namespace":"shop","pod":"web-1"},"destination":{"ip":"10.3.0.9","port":443,"identity":258,"namespace":"other","pod":"x"},"rule":{"id":0,"name":"default deny"}}' % NODE
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        after = int(urllib.parse.parse_qs(u.query).get("after", ["0"])[0])
        body = "".join(l + "\n" for l in LINES[after:]).encode() if u.path == "/flows" else b""
        self.send_response(200 if u.path == "/flows" else 404)
        self.send_header("Kilo-Flows-Next", str(max(after, len(LINES))))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if GROW and after >= 2 and LATER not in LINES:
            LINES.append(LATER)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_port))
s.serve_forever()
PY
# start_flows NAME NODE [grow]: a fake kg; sets NAME_pid and NAME_url.
start_flows() {
	local name="$1"
	shift
	python3 "$tmp/flows.py" "$tmp/$name.port" "$@" &
	printf -v "${name}_pid" %s $!
	for _ in $(seq 50); do [[ -s "$tmp/$name.port" ]] && break; sleep 0.1; done
	printf -v "${name}_url" %s "http://127.0.0.1:$(cat "$tmp/$name.port" 2>/dev/null)"
}
start_flows flows n2
start_flows flows1 n1
run observe --endpoint "n2=$flows_url"
check "observe prints a line per flow like Hubble's" eval 'succeeded && [[ "$(cat "$tmp/out")" == "2026-12-05T01:02:03.000000000Z n2: shop/web-1:40000 (ID:256) -> shop/db-0:5432 (ID:257) TCP ingress FORWARDED rule \"shop/db ingress[0]\" service shop/db
2026-12-05T01:02:04.000000000Z n2: other/x:53 (ID:258) -> shop/db-0:53 (ID:257) UDP ingress DROPPED policy_denied rule \"default deny\"" ]]'
run observe --endpoint "n2=$flows_url/" --verdict dropped --node n2
check "observe --verdict dropped keeps the drops only" eval 'succeeded && [[ $(wc -l <"$tmp/out") -eq 1 ]] && stdout_has "other/x:53"'
run observe --endpoint "$flows_url" --pod shop/web-1 -o json
check "observe --pod -o json prints kg's lines of that pod" eval 'succeeded && [[ $(wc -l <"$tmp/out") -eq 1 ]] && stdout_has "\"seq\":1,"'
# --store: every ready node's kg at its internal IP (here the fake kg's loopback) and --port.
mkdir -p "$tmp/observe-store/nodes" "$tmp/observe-store/peers"
printf '{"name": "n2", "location": "l", "endpoint": "192.0.2.2:51820", "internalIP": "127.0.0.1/8", "publicKey": "GKzkKhYMUBmUgLGSMu7mGbAkWX8mGZvVtDBUh6+Y1UY=", "podCIDR": "10.2.2.0/24", "lastSeen": %s}\n' \
	"$(date +%s)" >"$tmp/observe-store/nodes/n2.json"
run observe --store "file:$tmp/observe-store" --port "$(cat "$tmp/flows.port")" --verdict dropped
check "observe --store asks every ready node's kg at its internal IP and --port" eval 'succeeded && [[ $(wc -l <"$tmp/out") -eq 1 ]] && stdout_has "other/x:53"'
run observe --store "file:$tmp/observe-store" --port "$(cat "$tmp/flows.port")" --node n9
check "observe --store --node names a node the store does not have" is_error 1 "--node n9: no ready node of that name in the store"
# Two nodes' kg: every one by default and with --all, one with --node; --follow asks each again.
run observe --endpoint "n1=$flows1_url"
cp "$tmp/out" "$tmp/n1.out"
run observe --endpoint "n2=$flows_url"
cat "$tmp/n1.out" "$tmp/out" >"$tmp/all.out"
run observe --endpoint "n1=$flows1_url" --endpoint "n2=$flows_url" --all
check "observe --all prints every node's flows" eval 'succeeded && [[ $(grep -c " n1: " "$tmp/out") -eq 2 ]] && stdout_is "$tmp/all.out"'
run observe --endpoint "n1=$flows1_url" --endpoint "n2=$flows_url"
check "observe reads every node's kg without --all too" eval 'succeeded && stdout_is "$tmp/all.out"'
run observe --endpoint "n1=$flows1_url" --endpoint "n2=$flows_url" --node n1
check "observe --node n1 keeps n1's flows only" eval 'succeeded && [[ -s "$tmp/out" ]] && stdout_is "$tmp/n1.out"'
expect_error "observe takes --node or --all, not both" 2 "--node and --all cannot be used together" \
	observe --endpoint "n1=$flows1_url" --node n1 --all
start_flows grow n1 grow
{
	cat "$tmp/all.out"
	echo '2026-12-05T01:02:05.000000000Z n1: shop/web-1:40001 (ID:256) -> other/x:443 (ID:258) TCP egress DROPPED policy_denied rule "default deny"'
} >"$tmp/follow.out"
timeout 3 "$kgctl" observe --endpoint "n1=$grow_url" --endpoint "n2=$flows_url" --follow </dev/null >"$tmp/out" 2>"$tmp/err"
status=$?
check "observe --follow prints a node's new flow once, and no earlier flow again" eval '[[ $status -eq 124 && ! -s "$tmp/err" ]] && stdout_is "$tmp/follow.out"'
kill "$flows_pid" "$flows1_pid" "$grow_pid" 2>/dev/null
wait "$flows_pid" "$flows1_pid" "$grow_pid" 2>/dev/null
expect_error "observe needs an endpoint" 2 "--endpoint or --store is required" observe
expect_error "observe takes --endpoint or --store, not both" 2 "--endpoint and --store cannot be used together" \
	observe --endpoint http://127.0.0.1:1 --store "file:$tmp/observe-store"
expect_error "observe refuses a port out of range" 2 '--port: "70000" is not a port (1-65535)' \
	observe --store "file:$tmp/observe-store" --port 70000
expect_error "observe refuses a verdict it does not know" 2 '--verdict: "denied" is not forwarded or dropped' \
	observe --endpoint http://127.0.0.1:1 --verdict denied
expect_error "observe refuses a pod without namespace" 2 '--pod: "web" is not NAMESPACE/NAME' \
	observe --endpoint http://127.0.0.1:1 --pod web
expect_error "observe refuses an endpoint that is not a URL" 2 '--endpoint: "10.0.0.1:1107" is not an http:// or https:// URL' \
	observe --endpoint 10.0.0.1:1107
expect_error "observe --node needs that node's endpoint" 2 "--node n9: no --endpoint n9=URL" \
	observe --endpoint n1=http://127.0.0.1:1 --node n9
expect_error "observe names a kg it cannot reach" 1 "http://127.0.0.1:1: " observe --endpoint http://127.0.0.1:1
timeout 1.2 "$kgctl" observe --endpoint http://127.0.0.1:1 --follow </dev/null >"$tmp/out" 2>"$tmp/err"
check "observe --follow says once that a kg does not answer, not at every round" eval '[[ $(wc -l <"$tmp/err") -eq 1 ]]'
# ---- identities ------------------------------------------------------------------

# Two identities as another node's kg left them in a file store, and a number whose
# label set names another one (an allocator that died between its two writes).
identities_store="$tmp/identities-store"
python3 - "$identities_store" <<'PY'
import hashlib, json, os, sys
root = sys.argv[1]
for d in ("identities", "identity-labels"):
    os.makedirs(os.path.join(root, d))
def put(folder, name, record):
    with open(os.path.join(root, folder, name + ".json"), "w") as f:
        json.dump(record, f)
for ident, labels in ((257, "app=db,kubernetes.io/metadata.name=prod"), (256, "kilo.squat.ai/peer=laptop")):
    record = {"id": ident, "labels": labels, "created": 1796000000}
    put("identities", str(ident), record)
    put("identity-labels", hashlib.blake2b(labels.encode(), digest_size=16).hexdigest(), record)
put("identities", "300", {"id": 300, "labels": "kilo.squat.ai/peer=laptop", "created": 1796000000})
PY
run identities --store "file:$identities_store"
cat >"$tmp/want" <<'EOF2'
ID         CREATED              LABELS
256        2026-11-30T00:53:20Z kilo.squat.ai/peer=laptop
257        2026-11-30T00:53:20Z app=db,kubernetes.io/metadata.name=prod
EOF2
check "identities lists each number with its label set, sorted, without the orphan" eval 'succeeded && stdout_is "$tmp/want"'
mkdir -p "$tmp/empty-store"
run identities --store "file:$tmp/empty-store"
check "identities of an empty store is the header alone" eval 'succeeded && [[ "$(cat "$tmp/out")" == "ID "*"LABELS" ]]'
expect_error "identities needs a store" 2 "--store is required (a mesh document holds no identities)" \
	identities --mesh "$example"
expect_error "identities takes no argument" 2 'unexpected argument "all"' identities all --store "file:$identities_store"

# ---- kg's flags ---------------------------------------------------------------------

# run_kg ARGS...: like run, for kg.
run_kg() {
	"$kg" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	status=$?
}
# is_kg_usage_error TEXT: exit 2, nothing on stdout, one line "kg: ...TEXT..." on stderr.
is_kg_usage_error() {
	[[ $status -eq 2 && ! -s "$tmp/out" && "$(wc -l <"$tmp/err")" -eq 1 && "$(cat "$tmp/err")" == "kg: "*"$1"* ]]
}

if [[ -n "$kg" ]]; then
	run_kg --help
	check "kg --help lists Kilo's interface, service and log flags" eval 'succeeded && stdout_has "--create-interface[=BOOL]" &&
		stdout_has "--clean-up-interface[=BOOL]" && stdout_has "--service-cidr CIDR" && stdout_has "--log-level all|debug|info|warn|error|none"'
	run_kg --service-cidr 10.96.0.0/33
	check "kg --service-cidr refuses a bad CIDR" is_kg_usage_error '--service-cidr: "10.96.0.0/33" is not a CIDR'
	run_kg --service-cidr 10.96.0.0/12,nope
	check "kg --service-cidr names the bad item of a list" is_kg_usage_error '--service-cidr: "nope" is not a CIDR'
	status=0
	timeout -k 2 10 "$kg" --store "file:$tmp/kg-store" --hostname n1 --private-key "$tmp/fifo.key" --listen 127.0.0.1:0 \
		</dev/null >"$tmp/out" 2>"$tmp/err" || status=$?
	check "kg refuses a FIFO as private key at once" \
		eval '[[ $status -eq 1 && "$(cat "$tmp/err")" == "kg: private key $tmp/fifo.key: not a regular file" ]]'
	run_kg --service-cidr ::ffff:10.96.0.0/108
	check "kg --service-cidr refuses an IPv4-mapped CIDR" is_kg_usage_error '"::ffff:10.96.0.0/108" is an IPv4-mapped IPv6 address'
	run_kg --log-level loud
	check "kg --log-level refuses an unknown level" is_kg_usage_error '--log-level: "loud" is not all, debug, info, warn, error or none'
	run_kg --create-interface=maybe
	check "kg --create-interface takes Go's booleans" is_kg_usage_error '--create-interface: "maybe" is not true or false'
	run_kg --clean-up-interface=2
	check "kg --clean-up-interface takes Go's booleans" is_kg_usage_error '--clean-up-interface: "2" is not true or false'
	run_kg --help
	check "kg --help lists the HTTP server's limits" eval 'succeeded && stdout_has "--http-max-connections N" &&
		stdout_has "--http-max-connections-per-ip N" && stdout_has "--http-timeout DURATION"'
	run_kg --http-max-connections 0
	check "kg --http-max-connections refuses 0" is_kg_usage_error '--http-max-connections: "0" is not a number from 1 to 1000000'
	run_kg --http-max-connections-per-ip -1
	check "kg --http-max-connections-per-ip refuses a negative number" \
		is_kg_usage_error '--http-max-connections-per-ip: "-1" is not a number from 0 to 1000000'
	run_kg --http-timeout 0
	check "kg --http-timeout refuses 0" is_kg_usage_error '--http-timeout: "0" is out of range (1s to 1193046h28m15s)'
	run_kg --help
	check "kg --help lists --store URI and the --etcd-* flags" eval 'succeeded && stdout_has "--store URI" &&
		stdout_has "etcd://HOST:PORT" && stdout_has "--etcd-cacert FILE" && stdout_has "--etcd-cert FILE" &&
		stdout_has "--etcd-key FILE" && stdout_has "--etcd-user NAME" && stdout_has "--etcd-password-file FILE"'
	run_kg --etcd-cacert ca.pem --etcd-cert c.pem --etcd-key k.pem --etcd-user u --etcd-password-file p
	check "kg takes the --etcd-* flags" is_kg_usage_error "--store is required"
	run_kg --etcd-user
	check "kg's --etcd-user needs a value" is_kg_usage_error "--etcd-user needs a value"
	run_kg --http-max-connections 100 --http-max-connections-per-ip 0 --http-timeout 1m
	check "kg takes the HTTP server's limits" is_kg_usage_error "--store is required"
	run_kg --resync-period 1m30s --check-in-period 2s --ready-window 6s --http-timeout 1m --persistent-keepalive 25s
	check "kg takes Go's durations (1m30s, 2s, 1m, 25s)" is_kg_usage_error "--store is required"
	run_kg --check-in-period 500ms
	check "kg refuses a part of a second, naming the flag" is_kg_usage_error '--check-in-period: "500ms" is not a whole number of seconds'
	run_kg --resync-period 30m0
	check "kg refuses a duration Go refuses, naming the flag" \
		is_kg_usage_error '--resync-period: "30m0" is not a duration such as 30s, 1m30s or 2h'
	run_kg --bpf sometimes
	check "kg --bpf takes off, auto or on" is_kg_usage_error '--bpf: "sometimes" is not off, auto or on'
	run_kg --bpf-maglev-size 1000
	check "kg --bpf-maglev-size takes Maglev's two sizes" is_kg_usage_error '--bpf-maglev-size: "1000" is not 16381 or 65521'
	run_kg --bpf-maglev-tables 0
	check "kg --bpf-maglev-tables takes a count of at least 1" is_kg_usage_error '--bpf-maglev-tables: "0"'
	run_kg --bpf auto --bpf-pin-dir /sys/fs/bpf/x --bpf-maglev-size 65521 --bpf-maglev-tables 64 --bpf-cgroup ""
	check "kg takes the --bpf-* flags" is_kg_usage_error "--store is required"
	run_kg --mtu 9000x
	check "kg --mtu takes auto or a number" is_kg_usage_error '--mtu: "9000x" is not a number from 1280 to 65535'
	# The same bad value, the same words and status from both programs.
	for flag in "--resync-period soon" "--port 70000" "--log-level loud" "--mtu 1" "--persistent-keepalive 1.5s" \
		"--frobnicate" "--interface"; do
		# shellcheck disable=SC2086
		run_kg $flag
		kg_err="$(sed "s/ (see 'kg --help')\$//; s/^kg: //" "$tmp/err")" kg_status=$status
		# shellcheck disable=SC2086
		run connect --store "file:$tmp" $flag
		ctl_err="$(sed "s/ (see 'kgctl connect --help')\$//; s/^kgctl: //" "$tmp/err")"
		check "kg and kgctl connect refuse $flag in the same words, with status 2" \
			eval '[[ $kg_status -eq 2 && $status -eq 2 && -n "$kg_err" && "$kg_err" == "$ctl_err" ]]'
	done
	# Every value below is good: parsing goes on to the missing --store.
	for level in all debug info warn error none; do
		run_kg --log-level "$level" --service-cidr 10.96.0.0/12 --service-cidr fd00:10:96::/108,10.97.0.0/16 \
			--no-create-interface --create-interface=true --clean-up-interface --clean-up-interface=False
		check "kg takes --log-level $level and the interface and service flags" is_kg_usage_error "--store is required"
	done
	run_kg --help
	check "kg --help lists --flow-events policed|all" eval 'succeeded && stdout_has "--flow-events policed|all"'
	run_kg --flow-events every
	check "kg --flow-events takes policed or all" is_kg_usage_error '--flow-events: "every" is not policed or all'
	for mode in policed all; do
		run_kg --flow-events "$mode"
		check "kg takes --flow-events $mode" is_kg_usage_error "--store is required"
	done
else
	echo "skip - kg's flags (no KG given)"
fi

# ---- Kubernetes objects (apply -f, get, delete) ------------------------------------

objects="file:$tmp/objects"
cat >"$tmp/mixed.yaml" <<'EOF_YAML'
apiVersion: v1
kind: Service
metadata: {name: good}
spec:
  clusterIP: 10.96.0.20
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: prod}
spec:
  ports:
  - {name: a, port: 80}
  - {name: b, port: 70000}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: good-a, labels: {kubernetes.io/service-name: good}}
addressType: IPv4
endpoints: [{addresses: [10.2.1.10], nodeName: n1, conditions: {ready: true}}]
ports: [{name: http, port: 8080}]
EOF_YAML
run apply -f "$tmp/mixed.yaml" --store "$objects"
check "apply -f: a bad object fails the run" eval '[[ $status -eq 1 ]]'
check "apply -f: the bad object is named by file, document, kind, name, field and value" stderr_is \
	"kgctl: $tmp/mixed.yaml: document 2 (line 7): Service prod/web: spec.ports[1].port: 70000 is not a port (1-65535)"
check "apply -f: the others go in, as kubectl prints them" eval '[[ "$(cat "$tmp/out")" == "service/good created
endpointslice.discovery.k8s.io/good-a created" ]]'
check "apply -f: the file store keeps NS.NAME.json" test -f "$tmp/objects/services/default.good.json"
run apply -f "$tmp/mixed.yaml" --store "$objects"
check "apply -f again: unchanged" eval 'stdout_has "service/good unchanged" && stdout_has "endpointslice.discovery.k8s.io/good-a unchanged"'
sed 's/port: 80, targetPort: http/port: 81, targetPort: http/' "$tmp/mixed.yaml" | "$kgctl" apply -f - --store "$objects" >"$tmp/out" 2>/dev/null
check "apply -f - with a change: configured" stdout_has "service/good configured"

run get svc --store "$objects"
check "get svc prints kubectl's table" eval 'succeeded && [[ "$(cat "$tmp/out")" == "NAMESPACE   NAME   TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)
default     good   ClusterIP   10.96.0.20   <none>        81/TCP" ]]'
run get services good -o yaml --store "$objects"
cp "$tmp/out" "$tmp/good.yaml"
check "get -o yaml prints the canonical object with Kubernetes' defaults" \
	eval 'succeeded && stdout_has "kind: Service" && stdout_has "sessionAffinity: None" && stdout_has "protocol: TCP"'
run get svc good -o json --store "$objects"
check "get KIND NAME -o json prints that one object, not a List" eval 'succeeded && python3 -c "
import json, sys
o = json.load(open(sys.argv[1]))
assert (o[\"apiVersion\"], o[\"kind\"], o[\"metadata\"][\"namespace\"], o[\"metadata\"][\"name\"]) == (\"v1\", \"Service\", \"default\", \"good\"), o
assert [(p[\"port\"], p[\"protocol\"]) for p in o[\"spec\"][\"ports\"]] == [(81, \"TCP\")], o
" "$tmp/out"'
run get endpointslices -o json --store "$objects"
cp "$tmp/out" "$tmp/slices.json"
check "get -o json of a kind prints a List" eval 'succeeded && stdout_has "\"kind\": \"List\"" && stdout_has "\"name\": \"good-a\""'
run delete -f "$tmp/good.yaml" --store "$objects"
check "delete -f removes what the manifest names" eval 'succeeded && stdout_is <(echo "service \"good\" deleted")'
check "delete -f: the file is gone" test ! -e "$tmp/objects/services/default.good.json"
run apply -f "$tmp/good.yaml" -f "$tmp/slices.json" --store "$objects"
check "get -o yaml and -o json read back with apply -f" eval 'succeeded && stdout_has "service/good created" && stdout_has "good-a unchanged"'
expect_error "delete KIND NAME of what is not there fails, naming it" 1 "Service prod/web: not in the store" \
	delete svc web -n prod --store "$objects"
expect_error "get of what is not there fails, naming it" 1 "Service default/nope: not in the store" \
	get svc nope --store "$objects"
expect_error "get of a kind kgctl does not store is a usage error" 2 '"deployments" is not a kind' \
	get deployments --store "$objects"
expect_error "get -o of an unknown format is a usage error" 2 '"wide" is not json or yaml' \
	get svc -o wide --store "$objects"
expect_error "apply -f without --store is a usage error" 2 "missing --store URI" apply -f "$tmp/good.yaml"
mkdir -p "$tmp/manifests"
cp "$repo/examples/services/"*.yaml "$tmp/manifests/"
echo "not: [a manifest" >"$tmp/manifests/notes.txt"
run apply -f "$tmp/manifests" --store "file:$tmp/examples"
check "apply -f DIR takes its manifests in name order" eval 'succeeded && [[ "$(head -1 "$tmp/out")" == "service/web-nodeport created" ]] && stdout_has "pod/web-3 created" && stdout_has "endpointslice.discovery.k8s.io/web-ipv6 created"'
run get netpol -n prod --store "file:$tmp/examples"
check "get of no objects says so, as kubectl does" eval 'succeeded && [[ ! -s "$tmp/out" ]] && stderr_is "No resources found in namespace prod."'
run get pods --store "file:$tmp/examples"
check "get pods prints each pod's node and IP" eval 'succeeded && grep -qE "^default +web-3 +n3 +10\.2\.3\.10$" "$tmp/out"'

run apply -f "$repo/tests/unit/serial/data/kubectl_nodes.json" --store "file:$tmp/nodes"
check "apply -f of kubectl get nodes -o json makes mesh nodes" eval 'succeeded && stdout_is <(printf "node/n1 created\nnode/n3 created\n")'
run get nodes --store "file:$tmp/nodes"
check "get nodes prints the mesh's nodes, located as Kilo locates them" eval 'succeeded && grep -qE "^n1 +aws-eu +192\.0\.2\.1:51820 " "$tmp/out" && grep -qE "^n3 +gcp-us " "$tmp/out"'
run apply -f "$repo/tests/unit/serial/data/peer.yaml" --store "file:$tmp/nodes"
check "apply -f of a Kilo Peer manifest makes a mesh peer" eval 'succeeded && stdout_is <(echo "peer.kilo.squat.ai/laptop created")'
run get peers -o yaml --store "file:$tmp/nodes"
check "get peers never prints a preshared key" eval 'succeeded && stdout_has "name: laptop" && ! stdout_has presharedKey'
run status --store "file:$tmp/nodes" --now 1764100001
check "the applied nodes and peer are the mesh that status shows" eval 'succeeded && stdout_has "aws-eu" && stdout_has "laptop"'

# ---- NetworkPolicy: checks at apply, policy explain --------------------------------

policies="file:$tmp/policies"
bad_policy() {
	printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: prod}\nspec: %s\n' "$1" \
		>"$tmp/bad-policy.yaml"
}
bad_policy '{podSelector: {matchExpressions: [{key: app, operator: Equals, values: [a]}]}}'
expect_error "apply -f: a selector's unknown operator is named with its field" 1 \
	'NetworkPolicy prod/bad: spec.podSelector.matchExpressions[0].operator: "Equals" is not In, NotIn, Exists or DoesNotExist' \
	apply -f "$tmp/bad-policy.yaml" --store "$policies"
bad_policy '{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}'
expect_error "apply -f: a bad ipBlock CIDR is named with its field" 1 \
	'NetworkPolicy prod/bad: spec.ingress[0].from[0].ipBlock.cidr: "10.0.0.0/33" is not a CIDR' \
	apply -f "$tmp/bad-policy.yaml" --store "$policies"
bad_policy '{podSelector: {}, ingress: [{ports: [{port: 0}]}]}'
expect_error "apply -f: port 0 is named with its field" 1 \
	'NetworkPolicy prod/bad: spec.ingress[0].ports[0].port: 0 is not a port (1-65535)' \
	apply -f "$tmp/bad-policy.yaml" --store "$policies"
bad_policy '{podSelector: {}, egress: [{ports: [{port: 8080, endPort: 80}]}]}'
expect_error "apply -f: endPort below port is named with its field" 1 \
	'NetworkPolicy prod/bad: spec.egress[0].ports[0].endPort: 80 is not a port from port (8080) to 65535' \
	apply -f "$tmp/bad-policy.yaml" --store "$policies"
check "apply -f: a refused policy is not stored" test ! -e "$tmp/policies/networkpolicies/prod.bad.json"
cat >"$tmp/policy.yaml" <<'EOF_YAML'
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {team: a}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: prod, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.2.1.10}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: prod, labels: {app: client}}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIP: 10.2.1.11}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: http}]}]
EOF_YAML
run apply -f "$tmp/policy.yaml" --store "$policies"
check "apply -f: a NetworkPolicy with selectors and named ports is stored" \
	eval 'succeeded && stdout_has "networkpolicy.networking.k8s.io/web created"'
run policy explain --from prod/client --to prod/web --port 8080/TCP --store "$policies"
check "policy explain: allowed, by the rule that allows it" eval 'succeeded && stdout_is <(printf "%s\n" \
	"prod/client -> prod/web 8080/TCP: ALLOWED" \
	"  egress at n1: allowed: no policy selects prod/client for egress" \
	"  ingress at n1: allowed by prod/web ingress[0]")'
run policy explain --from prod/client --to prod/web --port 80 --store "$policies" -o json
check "policy explain -o json: denied, naming the policy that isolates the pod" \
	eval 'succeeded && stdout_has "\"allowed\": false" && stdout_has "\"verdict\": \"denied\"" &&
		tr -d " \n" <"$tmp/out" | grep -qF "\"isolated_by\":[\"prod/web\"]"'
expect_error "policy explain of a pod not in the store names it" 1 'pod "prod/nobody": no such pod' \
	policy explain --from prod/nobody --to prod/web --port 80/TCP --store "$policies"
expect_error "policy explain: a bad --port is a usage error" 2 '--port: "80/ICMP" is not PORT/PROTO' \
	policy explain --from prod/client --to prod/web --port 80/ICMP --store "$policies"
expect_error "policy explain needs --store" 2 "--store is required" \
	policy explain --from prod/client --to prod/web --port 80/TCP

# ---- Kilo's exact output (the conformance vectors) -------------------------------

if [[ -f "$vectors" ]]; then
	while IFS=$'\t' read -r -a fields; do
		name="${fields[0]}" mesh="${fields[1]}" expected="${fields[2]}"
		run "${fields[@]:3}" --mesh "$mesh"
		check "vector: $name" eval 'succeeded && stdout_is "$expected"'
		[[ $status -ne 0 ]] || stdout_is "$expected" || diff "$expected" "$tmp/out" | head -20 | sed 's/^/    /'
	done < <(python3 "$here/vector_cases.py" "$vectors" "$tmp/vectors")
	# The granularity flag overrides the document's.
	sed 's/"granularity": "full"/"granularity": "location"/' "$tmp/vectors/2.json" >"$tmp/vectors/2-location.json"
	run showconf node c --mesh "$tmp/vectors/2-location.json" --mesh-granularity full
	check "--mesh-granularity overrides the mesh's" eval 'succeeded && stdout_is "$tmp/vectors/2.0.out"'
else
	fail "vectors: $vectors not found"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

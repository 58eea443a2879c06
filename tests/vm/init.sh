#!/bin/busybox sh
# /init of the test VM: load the modules, run the checks, print one result line, power off.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /var
/bin/busybox mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
ln -s /run /var/run
# iproute2's ip: busybox prefers its own applet, which lacks netns and veth.
ip() { /usr/sbin/ip "$@"; }

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && echo "KILO-VM-RESULT: rc=0" || echo "KILO-VM-RESULT: rc=1"
	poweroff -f
}

for m in $(cat /modules.order); do
	insmod "/modules/$m.ko" || { bad "insmod $m"; finish; }
done
ip link set lo up
echo "kernel $(uname -r)"

# bench/wg-vm.sh: /vm_test is bench-wg; time it on the kernel module and stop.
case "$(cat /proc/cmdline)" in
*kilo.mode=bench*)
	# bench-wg finds libkilo through a path relative to the build tree; name its copy here.
	libkilo=$(find / -xdev -name 'libkilo.so.0' 2>/dev/null | head -n 1)
	PATH=/usr/bin:$PATH LD_LIBRARY_PATH=${libkilo%/*} /vm_test --interface kbwg0 --backend kernel --runs 3 &&
		ok "bench-wg" || bad "bench-wg"
	finish
	;;
esac

# BPF: /vm_test is a cmocka runner (tests/bpf/test_lb, tests/netns/sock/test_sock); the load
# balancer's programs through this kernel's verifier, test_run and cgroup hooks.
case "$(cat /proc/cmdline)" in
*kilo.mode=bpf*)
	# 6.1 is the oldest kernel the programs must load on; run.sh boots whatever
	# linux-image-amd64 resolves to, and a newer verifier would pass what 6.1 refuses.
	case "$(uname -r)" in
	6.1.*) ok "kernel $(uname -r) is 6.1, Debian 12's" ;;
	*)
		bad "kernel $(uname -r) is not 6.1 (Debian 12's): linux-image-amd64 resolved to another; point apt at Debian 12"
		finish
		;;
	esac
	mount -t bpf bpf /sys/fs/bpf
	/vm_test && ok "the BPF tests above" || bad "the BPF tests above"
	finish
	;;
esac

# The library side: life cycle, 1,000 peers, diffs, IPIP.
/vm_test api | tee /tmp/api.log
counts=$(tail -n 1 /tmp/api.log)
case "$counts" in
*" passed, "*" failed")
	pass=$((pass + ${counts%% *}))
	f=${counts#*, }
	fail=$((fail + ${f%% *}))
	;;
*) bad "vm_test api did not finish" ;;
esac

# Two devices in two namespaces, joined by a veth pair only.
ip netns add kt-vm-a && ip netns add kt-vm-b &&
	ip link add kt-va netns kt-vm-a type veth peer name kt-vb netns kt-vm-b &&
	ip -n kt-vm-a addr add 192.168.77.1/24 dev kt-va && ip -n kt-vm-a link set kt-va up &&
	ip -n kt-vm-b addr add 192.168.77.2/24 dev kt-vb && ip -n kt-vm-b link set kt-vb up &&
	ip -n kt-vm-a link set lo up && ip -n kt-vm-b link set lo up || { bad "namespaces and veth"; finish; }
if ip netns exec kt-vm-a ping -c 1 -W 1 10.77.0.2 >/dev/null 2>&1; then
	bad "10.77.0.2 answers before the tunnel exists"
else
	ok "no path to 10.77.0.2 before the tunnel"
fi
ip netns exec kt-vm-a /vm_test node kt-wga 1 51001 2 192.168.77.2:51002 10.77.0.2/32 &&
	ip netns exec kt-vm-b /vm_test node kt-wgb 2 51002 1 192.168.77.1:51001 10.77.0.1/32 &&
	ok "two kernel WireGuard devices configured by libkilo" || bad "configure the two devices"
ip -n kt-vm-a addr add 10.77.0.1/24 dev kt-wga && ip -n kt-vm-a link set kt-wga up &&
	ip -n kt-vm-b addr add 10.77.0.2/24 dev kt-wgb && ip -n kt-vm-b link set kt-wgb up || bad "tunnel addresses"
if ip netns exec kt-vm-a ping -c 3 -W 2 10.77.0.2; then ok "ping across the tunnel"; else bad "ping across the tunnel"; fi
ip netns exec kt-vm-a /vm_test handshake kt-wga && ok "handshake read back by libkilo" || bad "handshake read back"
finish

#!/bin/sh
# The real-kernel WireGuard test: boots the Debian kernel under qemu (TCG)
# with a busybox initramfs that loads wireguard.ko and runs vm_test.
# usage: run.sh VM_TEST CACHE_DIR [MODE [BINARY...]]
# MODE "bench" runs VM_TEST as bench-wg on the kernel module instead of the
# checks; the BINARYs (e.g. wg) go to /usr/bin in the VM with their libraries.
set -eu

vm_test=$1
cache=$2
mode=${3:-test}
shift $(($# < 3 ? $# : 3))
[ -x "$vm_test" ] || { echo "FAIL: no test program at $vm_test"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
timeout_s=${KILO_VM_TIMEOUT:-150}

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || skip "needs root (apt-get download, mknod)"
for tool in qemu-system-x86_64 busybox cpio gzip dpkg-deb apt-get apt-cache modinfo ldd timeout; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
busybox=$(command -v busybox)
ldd "$busybox" >/dev/null 2>&1 && skip "busybox is not static (install busybox-static)"
ip=$(command -v ip) || skip "ip (iproute2) not found"

work=$(mktemp -d /tmp/kilo-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

# 1. The kernel and the modules, once per kernel package.
package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image/{print $2; exit}')
[ -n "$package" ] || skip "apt-cache knows no linux-image-amd64"
kdir=$cache/$package
if [ ! -f "$kdir/ready" ]; then
	mkdir -p "$work/deb" "$kdir/modules"
	(cd "$work/deb" && apt-get download "$package" >/dev/null 2>&1) || skip "cannot download $package"
	dpkg-deb -x "$work"/deb/*.deb "$work/root"
	cp "$work"/root/boot/vmlinuz-* "$kdir/vmlinuz"
	moddir=$(echo "$work"/root/lib/modules/*)
	: >"$kdir/modules.order"
	# Depth first, dependencies before the modules that need them.
	add_module() {
		local name="$1" file dep
		grep -qx "$name" "$kdir/modules.order" && return 0
		file=$(find "$moddir" -name "$name.ko*" | head -n 1)
		[ -n "$file" ] || file=$(find "$moddir" -name "$(echo "$name" | tr _ -).ko*" | head -n 1)
		[ -n "$file" ] || file=$(find "$moddir" -name "$(echo "$name" | tr - _).ko*" | head -n 1)
		[ -n "$file" ] || { echo "module $name not found in $package" >&2; exit 1; }
		for dep in $(modinfo -F depends "$file" | tr , ' '); do
			add_module "$dep"
		done
		case "$file" in
		*.xz) xz -dc "$file" >"$kdir/modules/$name.ko" ;;
		*.zst) zstd -dqc "$file" >"$kdir/modules/$name.ko" ;;
		*.gz) gzip -dc "$file" >"$kdir/modules/$name.ko" ;;
		*) cp "$file" "$kdir/modules/$name.ko" ;;
		esac
		echo "$name" >>"$kdir/modules.order"
	}
	for m in wireguard veth ipip; do
		add_module "$m"
	done
	rm -rf "$work/root" "$work/deb"
	touch "$kdir/ready"
fi

# 2. The initramfs: busybox, iproute2's ip and vm_test with their libraries.
root=$work/initramfs
mkdir -p "$root/bin" "$root/usr/sbin" "$root/dev" "$root/modules"
cp "$busybox" "$root/bin/busybox"
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init"
cp "$vm_test" "$root/vm_test"
cp "$ip" "$root/usr/sbin/ip"
mkdir -p "$root/usr/bin"
# wg, where it is installed, is the oracle the checks compare the device with.
wg=$(command -v wg || true)
[ -z "$wg" ] || set -- "$@" "$wg"
for bin in "$@"; do
	cp "$bin" "$root/usr/bin/"
done
cp "$kdir"/modules/*.ko "$root/modules/"
cp "$kdir/modules.order" "$root/modules.order"
mknod "$root/dev/console" c 5 1
for bin in "$vm_test" "$ip" "$@"; do
	for lib in $(ldd "$bin" | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd"

# 3. Boot it and read the result line from the console. A boot under TCG
# has been seen to hang once in many runs: a hung boot is tried once more,
# a failed test is not.
for attempt in 1 2; do
	start=$(date +%s)
	status=0
	timeout "$timeout_s" qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$work/initrd" \
		-append "console=ttyS0 panic=-1 quiet kilo.mode=$mode" </dev/null >"$work/console.log" 2>&1 || status=$?
	tr -d '\r' <"$work/console.log" | grep -v '^\s*$' || true
	echo "VM run $attempt: $(($(date +%s) - start)) s, qemu exit $status"
	[ "$status" -eq 124 ] || break
	echo "the VM did not finish within $timeout_s s"
done
if [ "$status" -eq 124 ]; then
	echo "FAIL: the VM did not finish within $timeout_s s, twice"
	exit 1
fi
grep -q 'KILO-VM-RESULT: rc=0' "$work/console.log"

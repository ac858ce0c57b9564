#!/usr/bin/env bash
# `npm run test:vm`: tests kmod/fastnet for real, in a virtual machine, since the development
# machine's kernel cannot load modules.
#
#   1. builds fastnet.ko against Debian's packaged kernel headers (/lib/modules/6.1.*/build), W=1,
#      into a temporary directory (a warning fails the run); builds e1000.ko the same way from
#      linux-source-6.1 with capbench's patch (kmod/e1000/prepare.sh); and the C check program;
#   2. packs a small initramfs: static busybox, guest-init.sh as /init, and that kernel's own
#      virtio, 9p, veth and virtio-net modules;
#   3. boots /boot/vmlinuz-6.1.* in qemu-system-x86_64 under TCG (KVM only when asked), with the
#      host's / shared read-only over 9p and the temporary directory shared writable, and two
#      NICs cabled to each other (LINK below): an e1000 that captures (cap0 in the guest, driven
#      by the patched e1000.ko) and a virtio-net that sends (gen0);
#   4. in the guest (guest-run.sh, chrooted into the host's root): insmod, the module checks,
#      capbench's own fastnet-read/fastnet-ring/fastnet-zc checks with the host's node, rmmod,
#      kernel log;
#   5. streams the serial console here and exits with the guest's status.
# qemu is always stopped (time limit, errors, Ctrl-C) and the temporary directory removed.
#
# Needs root, qemu-system-x86, busybox-static, linux-image-amd64, linux-headers-amd64 and
# linux-source-6.1 (6.1, one release), gcc, make, patch and xz, and capbench built on the host
# (`npm ci`, or `npm run build` plus the addon).
#
# Environment:
#   CAPBENCH_VM_KERNEL        kernel release to boot (default: the newest /boot/vmlinuz-6.1.*)
#   CAPBENCH_VM_ACCEL         tcg (default) or kvm; kvm falls back to tcg if the guest does not
#                             reach init within CAPBENCH_VM_KVM_PROBE_S (20) seconds
#   CAPBENCH_VM_TIMEOUT       seconds for the whole guest run (default 1800)
#   CAPBENCH_VM_SOAK_FRAMES   frames for the DROP-mode soak (default 1000000)
#   CAPBENCH_VM_SOAK_REPEAT   runs of the READ/RING soak in one boot (default 1): a stress check
#   CAPBENCH_VM_SOAK_ONLY=1   run only the READ/RING soak and the ZC soak (CAPBENCH_VM_SOAK_REPEAT
#                             times each): none of the other module checks, no capbench checks
#   CAPBENCH_VM_MEM           guest memory in MiB (default 2048)
#   CAPBENCH_VM_KEEP=1        keep the temporary directory (console log, dmesg) for a look
#   CAPBENCH_VM_GUEST_SCRIPT  a script (path on the host) run in the guest in place of
#                             guest-run.sh, with the same arguments: for debugging, and for
#                             npm run bench:vm (bench/vm/guest-bench.sh)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/test/vm
ACCEL=${CAPBENCH_VM_ACCEL:-tcg}
TIMEOUT=${CAPBENCH_VM_TIMEOUT:-1800}
SOAK=${CAPBENCH_VM_SOAK_FRAMES:-1000000}
SOAK_REPEAT=${CAPBENCH_VM_SOAK_REPEAT:-1}
SOAK_ONLY=${CAPBENCH_VM_SOAK_ONLY:-0}
MEM=${CAPBENCH_VM_MEM:-2048}
GUEST_SCRIPT=${CAPBENCH_VM_GUEST_SCRIPT:-}
KVM_PROBE_S=${CAPBENCH_VM_KVM_PROBE_S:-20}
# Load order that works for Debian's 6.1 kernel (see shared MACHINE-NOTES); virtio_net drives the
# sending NIC. e1000 is not here: the guest loads the patched one built below.
MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache
	9pnet 9pnet_virtio 9p veth failover net_failover virtio_net)
# The guest's two NICs, told apart by MAC: the e1000 that captures, the virtio-net that sends.
CAP_MAC=52:54:00:cb:00:01
GEN_MAC=52:54:00:cb:00:02
# LINK: the two are joined by the two ends of a UNIX datagram socketpair, one qemu socket netdev
# each (fd=), not by a hub. The receiving side reads one frame at a time and no more until the
# e1000 has taken it; the sending side stops its virtio queue while the socket is full (AF_PACKET
# sends then get ENOBUFS and retry). So an e1000 with no free descriptor holds the sender back
# and the link loses nothing. Anything that hands the e1000 more than one frame at once loses
# frames instead: when qemu flushes frames queued at an e1000, the e1000 drops (and counts in
# MPC) every one it has no descriptor for. A hub does that with the sender's whole backlog, a
# stream socket with each chunk it reads. (qemu 7.2's -netdev stream carried no frame here.)
# with_link CMD...: runs CMD with such a pair open, @GEN_FD@ and @CAP_FD@ in its arguments
# replaced by the ends' numbers (exec: the pid stays).
with_link() {
	python3 -c '
import os, socket, sys
gen, cap = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
for end in (gen, cap):
    os.set_inheritable(end.fileno(), True)
args = [a.replace("@GEN_FD@", str(gen.fileno())).replace("@CAP_FD@", str(cap.fileno()))
        for a in sys.argv[1:]]
os.execvp(args[0], args)
' "$@"
}

say() { echo "vm: $*"; }
die() {
	echo "vm: error: $*" >&2
	exit 2
}

# ---- what the host must have ---------------------------------------------------------------

KVER=${CAPBENCH_VM_KERNEL:-}
if [ -z "$KVER" ]; then
	# The newest 6.1 kernel that has its headers too (an upgrade may leave an older image).
	for v in $(find /boot -maxdepth 1 -name 'vmlinuz-6.1.*' -printf '%f\n' 2>/dev/null |
		sed 's/^vmlinuz-//' | sort -rV); do
		if [ -d "/lib/modules/$v/build" ]; then
			KVER=$v
			break
		fi
	done
fi
[ -n "$KVER" ] || die "no /boot/vmlinuz-6.1.* with headers: apt-get install linux-image-amd64 linux-headers-amd64 (Debian 12)"
KERNEL=/boot/vmlinuz-$KVER
KDIR=/lib/modules/$KVER/build
[ -r "$KERNEL" ] || die "cannot read $KERNEL"
[ -d "$KDIR" ] || die "no $KDIR: apt-get install linux-headers-amd64 (headers for $KVER)"
for tool in qemu-system-x86_64 python3 gcc make patch xz ip ethtool sysctl node; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || die "busybox not found: apt-get install busybox-static"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked: apt-get install busybox-static"
fi
[ -f "$ROOT/build/Release/capbench.node" ] || die "the addon is not built: npm ci (or node-gyp rebuild)"
[ -f "$ROOT/dist/test/vm/capbench-vm.test.js" ] || die "dist/ is not built: npm run build"
[[ $SOAK_REPEAT =~ ^[1-9][0-9]*$ ]] || die "CAPBENCH_VM_SOAK_REPEAT must be a positive count, not '$SOAK_REPEAT'"
[[ $SOAK_ONLY =~ ^[01]$ ]] || die "CAPBENCH_VM_SOAK_ONLY must be 0 or 1, not '$SOAK_ONLY'"
[ "$(id -u)" = 0 ] || die "needs root (the guest runs the host's tools as root over 9p)"
case $ROOT in *[[:space:]]*) die "the repository path '$ROOT' has white space: the kernel command line cannot carry it" ;; esac

# ---- temporary directory, and cleanup whatever happens -------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/capbench-vm.XXXXXX")
QEMU_PID=
TAIL_PID=

stop_qemu() {
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -TERM "$QEMU_PID" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$QEMU_PID" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL "$QEMU_PID" 2>/dev/null || true
	fi
	[ -n "$QEMU_PID" ] && wait "$QEMU_PID" 2>/dev/null || true
	QEMU_PID=
	if [ -n "$TAIL_PID" ]; then
		kill "$TAIL_PID" 2>/dev/null || true
		wait "$TAIL_PID" 2>/dev/null || true
	fi
	TAIL_PID=
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_qemu
	if [ "${CAPBENCH_VM_KEEP:-0}" = 1 ]; then
		say "kept $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

# ---- 1. the module and the check program ------------------------------------------------------

SHARE=$WORK/share
mkdir -p "$SHARE/kmod"
cp "$ROOT"/kmod/fastnet/Kbuild "$ROOT"/kmod/fastnet/*.c "$ROOT"/kmod/fastnet/*.h "$SHARE/kmod/"
# kbuild NAME DIR: builds the module in DIR against $KDIR with W=1; any warning fails the run.
kbuild() {
	if ! make -C "$KDIR" M="$2" W=1 modules >"$WORK/$1-kbuild.log" 2>&1; then
		cat "$WORK/$1-kbuild.log"
		die "$1 build failed"
	fi
	if grep -E 'warning:|error:' "$WORK/$1-kbuild.log"; then
		die "$1 build printed warnings"
	fi
}
say "building fastnet.ko against $KDIR (W=1)"
kbuild fastnet "$SHARE/kmod"
say "patching e1000 from linux-source-6.1 (kmod/e1000) and building it against $KDIR (W=1)"
if ! bash "$ROOT/kmod/e1000/prepare.sh" "$SHARE/e1000" "$KDIR" >"$WORK/e1000-prepare.log" 2>&1; then
	cat "$WORK/e1000-prepare.log"
	die "e1000 sources could not be prepared"
fi
kbuild e1000 "$SHARE/e1000"
if [ -n "$GUEST_SCRIPT" ]; then
	cp "$GUEST_SCRIPT" "$SHARE/guest-script.sh" || die "cannot read $GUEST_SCRIPT"
fi
gcc -O2 -Wall -Wextra -Werror -pthread -I"$ROOT/kmod/fastnet" "$HERE/fastnet-check.c" \
	-o "$SHARE/fastnet-check" || die "fastnet-check did not build"

# ---- 2. initramfs ---------------------------------------------------------------------------

INITRD=$WORK/initramfs
mkdir -p "$INITRD"/{bin,dev,proc,sys,mnt/root,lib/modules}
cp "$BUSYBOX" "$INITRD/bin/busybox"
cp "$HERE/guest-init.sh" "$INITRD/init"
chmod 755 "$INITRD/init" "$INITRD/bin/busybox"
mknod -m 600 "$INITRD/dev/console" c 5 1 2>/dev/null || true
: >"$INITRD/modules"
for m in "${MODULES[@]}"; do
	f=$(find "/lib/modules/$KVER/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -n 1)
	[ -n "$f" ] || die "no $m.ko for $KVER"
	case $f in
	*.xz) xz -dc "$f" >"$INITRD/lib/modules/$m.ko" ;;
	*) cp "$f" "$INITRD/lib/modules/$m.ko" ;;
	esac
	echo "$m.ko" >>"$INITRD/modules"
done
(cd "$INITRD" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null) >"$WORK/initramfs.cpio"

# ---- 3. boot --------------------------------------------------------------------------------

CONSOLE=$WORK/console.log

# boot ACCEL INIT_DEADLINE_S: runs the guest; 0 when it finished (exit code in the share), 1 when
# it ran out of time or stopped early, 3 when it never reached init (within INIT_DEADLINE_S).
boot() {
	local accel=$1 init_deadline=$2 cpu=max
	# -cpu max gives TCG every feature node may want; KVM here aborts on it (and on host).
	[ "$accel" = kvm ] && cpu=qemu64
	rm -f "$CONSOLE" "$SHARE/exit-code"
	: >"$CONSOLE"
	say "booting $KERNEL under ${accel^^} (2 CPUs, ${MEM} MiB)"
	with_link qemu-system-x86_64 -name capbench-fastnet -machine pc -accel "$accel" -cpu "$cpu" -smp 2 \
		-m "$MEM" -nodefaults -no-reboot -display none -monitor none \
		-serial "file:$CONSOLE" \
		-netdev socket,id=gen,fd=@GEN_FD@ -netdev socket,id=cap,fd=@CAP_FD@ \
		-device "e1000,netdev=cap,mac=$CAP_MAC,romfile=" \
		-device "virtio-net-pci,netdev=gen,mac=$GEN_MAC,romfile=" \
		-kernel "$KERNEL" -initrd "$WORK/initramfs.cpio" \
		-append "console=ttyS0 loglevel=4 panic=-1 slab_nomerge rdinit=/init cbvm.root=$ROOT cbvm.soak=$SOAK cbvm.soak_repeat=$SOAK_REPEAT cbvm.soak_only=$SOAK_ONLY cbvm.capmac=$CAP_MAC cbvm.genmac=$GEN_MAC" \
		-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$SHARE,mount_tag=cbvm,security_model=none,multidevs=remap" \
		</dev/null >"$WORK/qemu.log" 2>&1 &
	QEMU_PID=$!
	tail -n +1 -F --pid="$QEMU_PID" "$CONSOLE" 2>/dev/null | tr -d '\r' &
	TAIL_PID=$!
	local start=$SECONDS
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		if ((init_deadline > 0 && SECONDS - start > init_deadline)) &&
			! grep -q CAPBENCH-VM-INIT "$CONSOLE"; then
			stop_qemu
			return 3
		fi
		if ((SECONDS - start > TIMEOUT)); then
			say "guest still running after ${TIMEOUT}s: stopping it"
			stop_qemu
			return 1
		fi
		sleep 1
	done
	wait "$QEMU_PID" 2>/dev/null || true
	QEMU_PID=
	# tail follows qemu's pid: it prints the rest of the console and ends by itself.
	wait "$TAIL_PID" 2>/dev/null || true
	TAIL_PID=
	say "guest ran for $((SECONDS - start))s"
	grep -q CAPBENCH-VM-INIT "$CONSOLE" || return 3
	[ -s "$SHARE/exit-code" ] || grep -q CAPBENCH-VM-EXIT "$CONSOLE"
}

status=0
case $ACCEL in
kvm)
	if [ -w /dev/kvm ]; then
		boot kvm "$KVM_PROBE_S" || status=$?
		if [ "$status" = 3 ]; then
			say "the guest did not reach init under KVM within ${KVM_PROBE_S}s: using TCG"
			status=0
			boot tcg 300 || status=$?
		fi
	else
		say "/dev/kvm is not usable: using TCG"
		boot tcg 300 || status=$?
	fi
	;;
tcg) boot tcg 300 || status=$? ;;
*) die "CAPBENCH_VM_ACCEL must be tcg or kvm, not $ACCEL" ;;
esac

# ---- 4. verdict -----------------------------------------------------------------------------

if [ -s "$SHARE/exit-code" ]; then
	guest_rc=$(cat "$SHARE/exit-code")
else
	guest_rc=$(tr -d '\r' <"$CONSOLE" | sed -n 's/^CAPBENCH-VM-EXIT \([0-9]*\).*/\1/p' | tail -n 1)
fi
if [ "$status" = 3 ]; then
	say "the guest never reached init"
	cat "$WORK/qemu.log"
fi
passed=$(tr -d '\r' <"$CONSOLE" | grep -cE '^ok( |$)' || true)
failed=$(tr -d '\r' <"$CONSOLE" | grep -cE '^not ok( |$)' || true)
if tr -d '\r' <"$CONSOLE" | grep -E 'Kernel panic|BUG:|Oops|WARNING:.*(fastnet|e1000)'; then
	say "the kernel complained (above)"
	failed=$((failed + 1))
fi
if [ -z "$guest_rc" ]; then
	say "no exit status from the guest (crashed or timed out)"
	failed=$((failed + 1))
	guest_rc=1
fi
[ "$guest_rc" = 0 ] || [ "$failed" -gt 0 ] || failed=1
# A guest script (npm run bench:vm) prints what it measured, not TAP lines to count.
if [ -n "$GUEST_SCRIPT" ]; then
	echo "vm: $GUEST_SCRIPT exited $guest_rc"
else
	echo "fastnet-vm: $passed passed, $failed failed"
fi
[ "$guest_rc" = 0 ] && [ "$failed" = 0 ]

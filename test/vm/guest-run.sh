#!/bin/bash
# Runs inside the fastnet test VM, chrooted into the host's root (see guest-init.sh):
#   1. loads fastnet.ko and capbench's patched e1000.ko (built by run-vm.sh against this kernel's
#      headers), and names the two NICs (guest-nics.sh): cap0, the e1000 that captures, and gen0,
#      the virtio-net that sends to it over a qemu stream link;
#   2. runs the module's own checks (fastnet-check, C), ZC mode's on cap0;
#   3. runs capbench's fastnet checks (dist/test/vm/capbench-vm.test.js, node's test runner);
#   4. unloads fastnet, checks that cap0 works with the stack, unloads e1000, and looks through
#      the kernel log for warnings.
# Output is TAP lines ("ok ..." / "not ok ...") for run-vm.sh to count. Exit status 0 iff all passed.
# With SOAK_ONLY=1, step 2 is only the READ/RING and ZC soaks and step 3 is skipped.
# Usage: guest-run.sh SHARE REPO [SOAK_FRAMES [SOAK_REPEAT [SOAK_ONLY]]]
set -u
SHARE=$1
REPO=$2
SOAK=${3:-1000000}
SOAK_REPEAT=${4:-1}
SOAK_ONLY=${5:-0}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8
failed=0

say() { echo "== $*"; }
result() { # result OK|FAIL description
	if [ "$1" = OK ]; then echo "ok - $2"; else echo "not ok - $2"; failed=1; fi
}
mem_available() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }

cd "$REPO" || exit 2
ip link set lo up
say "guest kernel $(uname -r), $(nproc) CPUs, $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) kB"
# The EBUSY checks use a bridge port as another rx_handler owner; skipped if it cannot load.
modprobe bridge 2>/dev/null || true

sync; echo 3 >/proc/sys/vm/drop_caches
mem_before=$(mem_available)
dmesg -C
if insmod "$SHARE/kmod/fastnet.ko"; then result OK "insmod fastnet.ko"; else result FAIL "insmod fastnet.ko"; exit 1; fi
for _ in $(seq 50); do [ -c /dev/fastnet ] && break; sleep 0.1; done
if [ -c /dev/fastnet ]; then result OK "/dev/fastnet exists"; else result FAIL "/dev/fastnet exists"; fi

# The e1000 with fastnet's hook, not the kernel's own (nothing loads that here: no udev).
zc_args=()
if insmod "$SHARE/e1000/e1000.ko"; then result OK "insmod e1000.ko (kmod/e1000)"; else result FAIL "insmod e1000.ko (kmod/e1000)"; fi
# Built out of tree, so the kernel marks it O; the packaged e1000 would not be.
if grep -q O /sys/module/e1000/taint 2>/dev/null; then
	result OK "the e1000 loaded is capbench's"
else
	result FAIL "the e1000 loaded is capbench's"
fi
if bash "$REPO/test/vm/guest-nics.sh"; then
	result OK "cap0 (e1000) and gen0 (virtio-net) up and silent"
	zc_args=(--zc-cap cap0 --zc-gen gen0 --zc-driver "$SHARE/e1000/e1000.ko"
		--zc-setup "bash $REPO/test/vm/guest-nics.sh")
	export CAPBENCH_VM_CAP_IF=cap0 CAPBENCH_VM_GEN_IF=gen0
else
	result FAIL "cap0 (e1000) and gen0 (virtio-net) up and silent"
fi

check_args=(--soak-frames "$SOAK" --soak-repeat "$SOAK_REPEAT" "${zc_args[@]}")
[ "$SOAK_ONLY" = 1 ] && check_args+=(--soak-only)
say "module checks"
"$SHARE/fastnet-check" "${check_args[@]}" || failed=1

if [ "$SOAK_ONLY" = 1 ]; then
	say "capbench checks skipped (soak only)"
else
	say "capbench checks"
	node --test --test-reporter=tap --test-concurrency=1 dist/test/vm/capbench-vm.test.js || failed=1
fi

say "unload"
if rmmod fastnet; then result OK "rmmod fastnet"; else result FAIL "rmmod fastnet"; fi
if [ ! -e /sys/module/fastnet ] && [ ! -e /dev/fastnet ]; then
	result OK "module and device gone"
else
	result FAIL "module and device gone"
fi
if [ "${#zc_args[@]}" -gt 0 ]; then
	"$SHARE/fastnet-check" --after-unload "${zc_args[@]}" || failed=1
fi
if rmmod e1000; then result OK "rmmod e1000"; else result FAIL "rmmod e1000"; fi
sync; echo 3 >/proc/sys/vm/drop_caches
mem_after=$(mem_available)
echo "# MemAvailable before insmod ${mem_before} kB, after rmmod ${mem_after} kB ($((mem_after - mem_before)) kB)"

# Anything the kernel complained about while the module was loaded is a failure.
dmesg >"$SHARE/dmesg.txt" 2>&1
if grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace|refcount_t|unregister_netdevice: waiting|leak' "$SHARE/dmesg.txt"; then
	result FAIL "kernel log clean"
else
	result OK "kernel log clean"
fi
exit "$failed"

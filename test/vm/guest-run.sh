#!/bin/bash
# Runs inside the fastnet test VM, chrooted into the host's root (see guest-init.sh):
#   1. loads fastnet.ko (built by run-vm.sh against this kernel's headers),
#   2. runs the module's own checks (fastnet-check, C),
#   3. runs capbench's fastnet checks (dist/test/vm/capbench-vm.test.js, node's test runner),
#   4. unloads the module and looks through the kernel log for warnings.
# Output is TAP lines ("ok ..." / "not ok ...") for run-vm.sh to count. Exit status 0 iff all passed.
# With SOAK_ONLY=1, step 2 is only the READ/RING soak and step 3 is skipped.
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

check_args=(--soak-frames "$SOAK" --soak-repeat "$SOAK_REPEAT")
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

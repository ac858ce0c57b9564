#!/bin/bash
# `npm run bench:vm`, inside the VM (run-vm.sh runs it in place of guest-run.sh, with the same
# arguments): the socket / pcap / fastnet table of the course, in two-port mode on the guest's
# emulated e1000 (cap0, capbench's patched driver, so fastnet-zc can run) fed by its virtio-net
# (gen0), drain and live. Every figure comes from software emulation (qemu TCG): rows compare
# with each other, never with a real machine's. deliver is not measured (--deliver off): in
# two-port mode it is machine-wide busy time, and qemu runs the emulated NIC inside whatever guest
# context touches it, so the table shows read, what the reading thread paid, and no total.
# Usage: guest-bench.sh SHARE REPO [...]
set -u
SHARE=$1
REPO=$2
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8
cd "$REPO" || exit 2
ip link set lo up
insmod "$SHARE/kmod/fastnet.ko" || exit 1
insmod "$SHARE/e1000/e1000.ko" || exit 1
bash test/vm/guest-nics.sh || exit 1

METHODS=none,socket,socket-mmsg,pcap,pcap-native,packet-mmap,fastnet-read,fastnet-ring,fastnet-zc
emulated() {
	echo
	echo "== capbench under qemu software emulation (TCG, $(nproc) vCPUs, kernel $(uname -r)), an emulated"
	echo "== e1000, $1. These figures compare rows with each other, never with real hardware."
	echo "== deliver is not measured (--deliver off): qemu emulates the NIC inside whichever guest"
	echo "== context touches it, so machine-wide busy time does not hold the kernel's delivery."
	echo "== Compare rx pps, read and drops."
}
failed=0
emulated 'drain (each method buffers 20,000 frames, then reads them alone)'
node bin/capbench.js run --iface cap0 --gen-iface gen0 --methods "$METHODS" --mode drain --count 20000 \
	--trials 3 --deliver off --no-color || failed=1
emulated 'live (the generator on gen0 as fast as the emulated link takes frames)'
node bin/capbench.js run --iface cap0 --gen-iface gen0 --methods "$METHODS" --mode live --duration 2 \
	--trials 3 --deliver off --no-color || failed=1
rmmod fastnet
rmmod e1000
exit "$failed"

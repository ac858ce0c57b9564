#!/bin/bash
# `npm run bench:vm`, inside the VM (run-vm.sh runs it in place of guest-run.sh, with the same
# arguments): the socket / pcap / fastnet table of the course, in two-port mode on the guest's
# emulated e1000 (cap0, capbench's patched driver, so fastnet-zc can run) fed by its virtio-net
# (gen0), drain and live. Every figure comes from software emulation (qemu TCG): rows compare
# with each other, never with a real machine's. deliver is not measured (--deliver off): in
# two-port mode it is machine-wide busy time, and qemu runs the emulated NIC inside whatever guest
# context touches it, so the table shows read, what the reading thread paid, and no total.
# Then the send side: `capbench send` in two-port mode with the frame methods and fastnet-inject,
# the virtio-net sending to the e1000 (gen0 -> cap0) and the e1000 sending to the virtio-net
# (cap0 -> gen0: gen0 made promiscuous and without GRO for it, as a capture port must be, and put
# back after). That way round a window is 5,000 frames: what the e1000 sends waits in a qemu
# queue of at most 10,000 frames (net/queue.c) until the virtio-net takes it, and qemu drops what
# does not fit where no counter of the guest sees it (the virtio-net's transmit, the other way
# round, waits for room instead).
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
SENDERS=packet-send,packet-sendmmsg,packet-tx-ring,af-xdp-tx,fastnet-inject
send_emulated() {
	echo
	echo "== capbench send under qemu software emulation (TCG, $(nproc) vCPUs, kernel $(uname -r)),"
	echo "== two-port mode, $1."
	echo "== These figures compare rows with each other, never with real hardware: qemu's NIC models"
	echo "== move every frame in software, inside whichever guest context touches them."
}
# send_two_port CAP GEN COUNT TRIALS: each method and tier.
send_two_port() {
	node bin/capbench.js send --iface "$1" --gen-iface "$2" --methods "$SENDERS" --tier both \
		--count "$3" --trials "$4" || failed=1
}
send_emulated 'the virtio-net (gen0) sending to the e1000 (cap0), 20,000 frames a window'
send_two_port cap0 gen0 20000 3
send_emulated 'the e1000 (cap0) sending to the virtio-net (gen0), 5,000 frames a window'
gro=$(ethtool -k gen0 | sed -n 's/^generic-receive-offload: \(on\|off\).*/\1/p')
if ip link set dev gen0 promisc on && ethtool -K gen0 gro off; then
	send_two_port gen0 cap0 5000 5
else
	failed=1
fi
ip link set dev gen0 promisc off
[ -n "$gro" ] && ethtool -K gen0 gro "$gro"
rmmod fastnet
rmmod e1000
exit "$failed"

#!/bin/bash
# In the fastnet test VM: names the two NICs run-vm.sh gives the guest, found by the MACs on the
# kernel command line, and makes them silent, so that only frames a test sends cross the link:
#   cap0  the e1000 that captures (capbench's patched driver): promiscuous, so that it takes
#         frames for any address, as a capture does;
#   gen0  the virtio-net that sends.
# Both up, no IPv6 (no link-local address, no router solicitations, no MLD), no ARP; cap0 without
# segmentation offloads (libpcap's ring, below). Waits for
# carrier on both. Run again after the e1000 is unbound or reloaded: its interface comes back
# under a kernel name. Exit status 0 when both are up.
set -u
cmdline_arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }

by_mac() {
	local want=$1 dev
	for dev in /sys/class/net/*; do
		if [ "$(cat "$dev/address" 2>/dev/null)" = "$want" ]; then
			basename "$dev"
			return 0
		fi
	done
	return 1
}

# setup MAC NAME [promisc]
setup() {
	local mac=$1 name=$2 promisc=${3:-} dev
	for _ in $(seq 50); do
		dev=$(by_mac "$mac") && break
		sleep 0.1
	done
	if [ -z "${dev:-}" ]; then
		echo "guest-nics: no interface with MAC $mac" >&2
		return 1
	fi
	if [ "$dev" != "$name" ]; then
		ip link set dev "$dev" down && ip link set dev "$dev" name "$name" || return 1
	fi
	sysctl -q -w "net.ipv6.conf.$name.disable_ipv6=1" || return 1
	ip link set dev "$name" addrgenmode none arp off ${promisc:+promisc on} up || return 1
	for _ in $(seq 100); do
		[ "$(cat "/sys/class/net/$name/carrier" 2>/dev/null)" = 1 ] && return 0
		sleep 0.1
	done
	echo "guest-nics: $name has no carrier" >&2
	return 1
}

setup "$(cmdline_arg cbvm.capmac)" cap0 promisc && setup "$(cmdline_arg cbvm.genmac)" gen0 || exit 1
# libpcap sizes its ring's frames by the MTU only when the interface has no segmentation offloads;
# with the e1000's it reserves 64 KiB a frame, and a drain's ring holds almost nothing (the test
# bed turns them off on its veth for the same reason).
ethtool -K cap0 tso off gso off gro off

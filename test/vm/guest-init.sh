#!/bin/busybox sh
# PID 1 of the fastnet test VM (test/vm/run-vm.sh packs this into the initramfs as /init).
# Loads the packaged kernel's virtio/9p/veth modules, mounts the host's root (read-only 9p) and
# the rig's work share (writable 9p), chroots into the host's root with /proc, /sys, /dev, /run
# and /tmp mounted, runs test/vm/guest-run.sh there, reports its exit status and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "CAPBENCH-VM-INIT"

finish() {
	echo "CAPBENCH-VM-EXIT $1"
	sync
	poweroff -f
	sleep 10
}

fail() {
	echo "vm-init: $*"
	finish 3
}

arg() {
	sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline
}

for m in $(cat /modules); do
	insmod "/lib/modules/$m" || fail "insmod $m"
done

R=/mnt/root
repo=$(arg cbvm.root)
[ -n "$repo" ] || fail "no cbvm.root= on the kernel command line"
opts=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$opts,ro,cache=loose" hostroot "$R" || fail "mount the host's root over 9p"
[ -d "$R$repo" ] || fail "no $repo in the host's root"
mount -t proc proc "$R/proc" || fail "mount /proc"
mount -t sysfs sysfs "$R/sys" || fail "mount /sys"
mount -t devtmpfs devtmpfs "$R/dev" || fail "mount /dev"
mount -t tmpfs -o mode=755 tmpfs "$R/run" || fail "mount /run"
mkdir -p "$R/run/cbvm" "$R/run/cbrepo" "$R/run/netns"
mount -t 9p -o "$opts" cbvm "$R/run/cbvm" || fail "mount the work share"
# The repository is reached through /run/cbrepo: a repository under /tmp would be hidden by the
# tmpfs mounted there next.
mount --bind "$R$repo" "$R/run/cbrepo" || fail "bind the repository"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp" || fail "mount /tmp"
mkdir -p "$R/dev/shm" 2>/dev/null && mount -t tmpfs tmpfs "$R/dev/shm"

script=/run/cbrepo/test/vm/guest-run.sh
[ -f "$R/run/cbvm/guest-script.sh" ] && script=/run/cbvm/guest-script.sh
chroot "$R" /bin/bash "$script" /run/cbvm /run/cbrepo "$(arg cbvm.soak)" "$(arg cbvm.soak_repeat)" \
	"$(arg cbvm.soak_only)"
rc=$?
echo "$rc" >"$R/run/cbvm/exit-code"
finish "$rc"

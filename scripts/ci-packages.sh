#!/usr/bin/env bash
# The Debian packages CI installs, listed once. `.ci/run` (a fresh Debian 12 machine, as root) and
# .github/workflows/ci.yml (GitHub's Ubuntu runners, and a Debian 12 container for the VM job)
# both install what this prints, so the two cannot drift apart.
#
#   bash scripts/ci-packages.sh [--ubuntu] GROUP...
#
# prints, on one line, the packages of the groups named:
#   build  compile the addon and run capbench (npm ci, the perf job)
#   test   npm test, npm run lint, test/package/check-package.sh
#   vm     npm run test:vm (boots Debian's 6.1 kernel in qemu to test kmod/fastnet and kmod/e1000)
# --ubuntu leaves out the packages marked debian-only below (Ubuntu has none by that name).
set -euo pipefail

# package              groups  where        why
read -r -d '' TABLE <<'LIST' || true
python3                build   all          node-gyp builds the addon (npm ci, npm install -g)
make                   build   all          node-gyp
g++                    build   all          node-gyp (the addon's C and C++)
libpcap-dev            build   all          the cap package builds against it; pcap-native loads libpcap at run time
libxdp-dev             build   all          the af-xdp method is compiled in when xdp/xsk.h is there
libbpf-dev             build   all          af-xdp (with libxdp-dev)
libdpdk-dev            build   debian-only  the dpdk method is compiled in when pkg-config finds libdpdk; binding.gyp links DPDK 22.11's static libraries by name (Ubuntu 24.04 has 23.11, split differently)
iproute2               build   all          the test bed: ip netns, ip link (veth)
ethtool                build   all          the test bed turns offloads off
procps                 build   all          sysctl, for the test bed
xdp-tools              test    all          af-xdp's tests attach its xdpfilt_alw_all.o: an XDP program not ours
util-linux             test    all          setpriv, for the not-root test
chromium               test    debian-only  the HTML report test draws its charts (GitHub's runners have google-chrome, which it also finds)
clang-format-14        test    all          npm run lint checks src/native's format with clang-format 14 (Debian 12's)
qemu-system-x86        vm      debian-only  npm run test:vm boots a kernel under qemu
busybox-static         vm      debian-only  the VM's initramfs
linux-image-amd64      vm      debian-only  Debian 12's 6.1 kernel, the one kmod/fastnet is tested on
linux-headers-amd64    vm      debian-only  to build kmod/fastnet against that kernel
linux-source-6.1       vm      debian-only  kmod/e1000 patches e1000 from that kernel's source for fastnet's ZC mode (same release as the headers)
xz-utils               vm      all          kmod/e1000/prepare.sh unpacks linux-source-6.1's .tar.xz
patch                  vm      all          kmod/e1000/prepare.sh applies kmod/e1000/fastnet-zc.patch
LIST

ubuntu=0
groups=()
for arg in "$@"; do
	case $arg in
	--ubuntu) ubuntu=1 ;;
	build | test | vm) groups+=("$arg") ;;
	*)
		echo "ci-packages: unknown argument '$arg' (groups: build test vm; option: --ubuntu)" >&2
		exit 2
		;;
	esac
done
if [ "${#groups[@]}" -eq 0 ]; then
	echo 'usage: bash scripts/ci-packages.sh [--ubuntu] GROUP... (groups: build test vm)' >&2
	exit 2
fi

out=()
while read -r name group where _; do
	[ "$ubuntu" -eq 1 ] && [ "$where" = debian-only ] && continue
	for g in "${groups[@]}"; do
		if [ "$g" = "$group" ]; then
			out+=("$name")
			break
		fi
	done
done <<<"$TABLE"
echo "${out[*]}"

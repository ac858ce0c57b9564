#!/usr/bin/env bash
# Puts e1000's sources, patched with fastnet's mode-3 hook (fastnet-zc.patch), into OUT, ready
# to build out of tree:
#
#   bash kmod/e1000/prepare.sh OUT [KDIR]
#   make -C KDIR M=OUT W=1 modules          # -> OUT/e1000.ko
#
# The sources come from Debian's linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz, or
# CAPBENCH_LINUX_SOURCE), which must be the version of the kernel in KDIR (default: the running
# kernel's build tree): a driver from another release would load against the wrong kernel.
# OUT gets the driver's .c and .h files, kmod/fastnet/fastnet_zc.h (the hook's types, shared
# with fastnet) and kmod/e1000/Kbuild. test/vm/run-vm.sh calls this; so does kmod/e1000/Makefile.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-}
KDIR=${2:-/lib/modules/$(uname -r)/build}
TARBALL=${CAPBENCH_LINUX_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
TOP=linux-source-6.1
DRIVER=drivers/net/ethernet/intel/e1000

die() {
	echo "e1000: $*" >&2
	exit 1
}

[ -n "$OUT" ] || die "usage: bash kmod/e1000/prepare.sh OUT [KDIR]"
[ -r "$TARBALL" ] || die "no $TARBALL: apt-get install linux-source-6.1 (Debian 12)"
[ -d "$KDIR" ] || die "no kernel build tree at $KDIR: install that kernel's headers, or name another"
for tool in tar xz patch make; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install tar xz-utils patch make)"
done
want=$(make -s --no-print-directory -C "$KDIR" kernelversion 2>/dev/null) ||
	die "cannot ask $KDIR for its kernel version"

mkdir -p "$OUT"
tmp=$(mktemp -d "$OUT/.src.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$TARBALL" -C "$tmp" "$TOP/Makefile" "$TOP/$DRIVER" ||
	die "$TARBALL has no $TOP/$DRIVER"
have=$(awk -F' *= *' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
	$1 == "SUBLEVEL" { s = $2 } $1 == "EXTRAVERSION" { e = $2 }
	END { printf "%s.%s.%s%s", v, p, s, e }' "$tmp/$TOP/Makefile")
[ "$have" = "$want" ] ||
	die "$TARBALL is Linux $have, the kernel in $KDIR is $want: install the linux-source-6.1 and linux-headers of one release"
(cd "$tmp/$TOP" && patch -p1 --forward --quiet <"$HERE/fastnet-zc.patch") ||
	die "kmod/e1000/fastnet-zc.patch does not apply to Linux $have's e1000"
cp "$tmp/$TOP/$DRIVER"/*.c "$tmp/$TOP/$DRIVER"/*.h "$OUT/"
cp "$ROOT/kmod/fastnet/fastnet_zc.h" "$HERE/Kbuild" "$OUT/"
echo "e1000: Linux $have's e1000 with fastnet's hook in $OUT"

#!/usr/bin/env bash
# The package as a user gets it: `npm pack`, then the tarball installed globally into a temporary
# prefix with the README's own npm 11 command, then the installed `capbench` run from there
# (--version, list, and a tiny socket run, which needs root), and `npx capbench list` from the
# tarball as the README says. Also checks what the tarball holds
# (the compiled CLI and the addon's sources; no tests, benches, TypeScript, source maps or build
# output) and prints its size. `.ci/run` calls it after `npm test`; it needs `npm ci` done first
# (prepack compiles with the dev dependency typescript) and the npm registry for the install.
# The tarball, prefix and npm cache it makes live in one temporary folder, removed on every exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d "${TMPDIR:-/tmp}/capbench-package.XXXXXX")
passed=0
current=''
finish() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "check-package: FAILED at: $current" >&2
    echo "check-package: $passed passed, 1 failed"
  fi
  rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { current=$1; echo "check-package: $1"; }
ok() { passed=$((passed + 1)); }

step 'npm pack (prepack compiles dist/ afresh)'
npm pack --json --pack-destination "$work" > "$work/pack.json"
tarball="$work/$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0].filename' "$work/pack.json")"
node -e '
  const [p] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const kB = (n) => (n / 1000).toFixed(1) + " kB";
  console.log(`check-package: ${p.filename}: ${p.entryCount} files, ${kB(p.size)} packed, ${kB(p.unpackedSize)} unpacked`);
' "$work/pack.json"
ok

step 'the tarball holds what an install needs and nothing of the development tree'
tar -tzf "$tarball" | sed 's|^package/||' | sort > "$work/files.txt"
missing=()
# Every source binding.gyp compiles (all of src/native), and what the installed CLI reads at run time.
mapfile -t native < <(find src/native -name '*.c' -o -name '*.cc' -o -name '*.h')
required=(package.json README.md LICENSE bin/capbench.js binding.gyp dist/src/cli/main.js
  dist/src/native/binding.js fixtures/udp64.pcap kmod/fastnet/Makefile kmod/fastnet/Kbuild
  kmod/fastnet/fastnet_uapi.h "${native[@]}")
for f in "${required[@]}"; do
  grep -qxF "$f" "$work/files.txt" || missing+=("$f")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "check-package: missing from the tarball: ${missing[*]}" >&2
  exit 1
fi
if grep -E '^(test|bench|scripts|build|node_modules|perf|\.ci)/|^dist/(test|bench|scripts)/|\.(ts|map|tgz|node|o|ko)$' \
    "$work/files.txt" > "$work/unwanted.txt"; then
  echo "check-package: the tarball should not hold:" >&2
  sed 's/^/  /' "$work/unwanted.txt" >&2
  exit 1
fi
ok

# The README's command. --strict-allow-scripts turns npm 11's "scripts not covered by
# allowScripts" warning into an error, so this proves the allow list is complete (a tarball is
# matched by its absolute path, a registry package by its name). npm reads the global npmrc from
# the prefix, so the machine's own (CA file, registry) is named explicitly; with
# --strict-allow-scripts npm 11.19 also wants the prefix's lib/ to exist.
step 'npm install -g into a temporary prefix, install scripts allowed by name'
prefix="$work/prefix"
mkdir -p "$prefix/lib"
npm install -g --prefix "$prefix" --globalconfig "$(npm config get globalconfig)" \
  --strict-allow-scripts --allow-scripts="$tarball,cap" "$tarball"
installed="$prefix/lib/node_modules/capbench"
test -f "$installed/build/Release/capbench.node" || { echo "check-package: the addon was not built on install" >&2; exit 1; }
ok

capbench="$prefix/bin/capbench"
cd "$work" # nothing below may lean on the clone

step 'capbench --version'
version=$("$capbench" --version)
expected=$(node -p 'require(process.argv[1]).version' "$installed/package.json")
[ "$version" = "$expected" ] || { echo "check-package: --version said '$version', package.json says $expected" >&2; exit 1; }
echo "$version"
ok

step 'capbench list'
"$capbench" list | tee "$work/list.txt"
grep -Eq '^socket +[a-z,]+ +available' "$work/list.txt" || { echo 'check-package: socket is not available' >&2; exit 1; }
ok

step 'npx capbench list, from the tarball (own npm cache, so nothing is left in ~/.npm/_npx)'
npx --yes --cache "$work/npm-cache" --strict-allow-scripts --allow-scripts="$tarball,cap" \
  --package "$tarball" capbench list > "$work/npx-list.txt"
grep -Eq '^socket +[a-z,]+ +available' "$work/npx-list.txt" || { cat "$work/npx-list.txt"; echo 'check-package: socket is not available through npx' >&2; exit 1; }
ok

step 'capbench run --methods socket --count 2000 --trials 1 (root)'
if [ "$(id -u)" -ne 0 ]; then
  echo 'check-package: needs root (it builds a test bed); run it as root' >&2
  exit 1
fi
"$capbench" run --methods socket --count 2000 --trials 1 --no-color
ok

echo "check-package: $passed passed, 0 failed"

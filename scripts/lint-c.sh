#!/usr/bin/env bash
# `npm run lint:c`: checks that the addon's C and C++ (src/native) are formatted as
# src/native/.clang-format says, with clang-format 14 (Debian 12's: other versions break a few
# lines differently). `--fix` rewrites the files instead.
#
# kmod/ has a .clang-format of its own (kernel style) for editors and new code, but is not
# checked: clang-format cannot keep the tab-aligned fields, macros and comments the kernel style
# uses there, and the kernel itself treats clang-format as a helper, not a gate.
set -euo pipefail
cd "$(dirname "$0")/.."

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
	for c in clang-format-14 clang-format; do
		if command -v "$c" >/dev/null; then
			cf=$c
			break
		fi
	done
fi
if [ -z "$cf" ]; then
	echo 'lint:c: no clang-format on PATH: apt-get install clang-format-14 (Debian 12, Ubuntu)' >&2
	exit 1
fi
version=$("$cf" --version | sed -n 's/.*version \([0-9][0-9]*\)\..*/\1/p')
if [ "$version" != 14 ]; then
	echo "lint:c: note: $cf is version ${version:-unknown}; src/native is formatted with 14, so a" \
		'difference below may be the version'"'"'s' >&2
fi

mapfile -t files < <(find src/native -name '*.c' -o -name '*.cc' -o -name '*.h' | LC_ALL=C sort)
if [ "${1:-}" = --fix ]; then
	"$cf" -i "${files[@]}"
	echo "lint:c: formatted ${#files[@]} files in src/native with $cf"
	exit 0
fi
if ! "$cf" --dry-run --Werror "${files[@]}"; then
	echo "lint:c: src/native is not formatted as src/native/.clang-format says:" \
		'bash scripts/lint-c.sh --fix rewrites it' >&2
	exit 1
fi
echo "lint:c: ${#files[@]} files in src/native formatted ($cf)"

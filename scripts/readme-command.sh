#!/usr/bin/env bash
# Prints a command from the README's quick start, exactly as a user copies it, so that CI runs what
# the README shows rather than a copy of it that could drift:
#
#   bash scripts/readme-command.sh install|main|test
#
#   install  the quick start's first line: install what capbench needs, then run the main job
#   main     that line's last step, the main job (`./bin/capbench.js run`): .ci/run and the GitHub
#            workflow run it after their own install
#   test     the second line's last step, the test command
#
# test/unit/readme.test.ts checks that the quick start has the shape this reads.
set -euo pipefail
cd "$(dirname "$0")/.."

which=${1:-}
# The ```sh blocks of the "## Quick start" section, one line each, in order.
blocks=$(awk '/^## /{ inside = ($0 ~ /^## Quick start/) } inside && /^```sh$/{ code = 1; next } code && /^```$/{ code = 0; next } code && inside' README.md)
last_step() { sed 's/.*&& *//'; }
case $which in
install) line=$(sed -n 1p <<<"$blocks") ;;
main) line=$(sed -n 1p <<<"$blocks" | last_step) ;;
test) line=$(sed -n 2p <<<"$blocks" | last_step) ;;
*)
	echo 'usage: bash scripts/readme-command.sh install|main|test' >&2
	exit 2
	;;
esac
if [ -z "$line" ]; then
	echo "readme-command: README.md's quick start has no $which command (two \`\`\`sh blocks under '## Quick start')" >&2
	exit 1
fi
echo "$line"

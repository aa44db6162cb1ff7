#!/usr/bin/env bash
# fix next to check --staged on the generated 100k queue with 100 stale items, for one or
# more runqlint binaries (default: this tree's release build), in alternating rounds:
#
#   bench/fix.sh                                  # 3 rounds, target/release/runqlint
#   ROUNDS=5 bench/fix.sh old/runqlint target/release/runqlint
#
# Needs the data of bench/run.sh (bench/work/data/100000/fix.json). Each fix commits in a
# throwaway repository under bench/work/repos/fixcmp, which is reset after it (not timed).
# Prints one line per run: wall, CPU (user+sys) and peak RSS from GNU time.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rounds=${ROUNDS:-3}
data="$here/work/data/100000/fix.json"
repo="$here/work/repos/fixcmp"
now=2026-11-25T00:00:00Z
[ -e "$data" ] || { echo "no $data: run bench/run.sh first" >&2; exit 2; }
[ $# -gt 0 ] || set -- "$root/target/release/runqlint"

rm -rf "$repo"
mkdir -p "$repo"
cd "$repo"
git init -q -b main
git config user.name bench
git config user.email bench@example.com
cp "$data" run_queue.json
git add run_queue.json
git commit -q --no-verify -m "queue at HEAD"
head=$(git rev-parse HEAD)

for r in $(seq "$rounds"); do
    for bin in "$@"; do
        /usr/bin/time -f "$bin check --staged: %e s wall, %U+%S s CPU, %M KiB" \
            "$bin" check --staged --now "$now" >/dev/null 2>"$repo.err" || true
        tail -1 "$repo.err"
        /usr/bin/time -f "$bin fix: %e s wall, %U+%S s CPU, %M KiB" \
            "$bin" fix --now "$now" --run-id bench --format json >/dev/null 2>"$repo.err" ||
            { cat "$repo.err" >&2; exit 1; }
        tail -1 "$repo.err"
        [ "$(git rev-parse HEAD)" != "$head" ] || { echo "$bin fix made no commit" >&2; exit 1; }
        git reset -q --hard "$head"
        rm -f run_queue.backup.*
    done
done

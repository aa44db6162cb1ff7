#!/usr/bin/env bash
# The one-line benchmark (issue 23): `check --staged` in every output format and `audit`, on
# the same 100k-item queue with 1,000 stale-running items pretty-printed and on one line
# (`JSON.stringify(queue)`), for one or more runqlint binaries, in alternating rounds:
#
#   bench/oneline.sh                                   # this tree's release build, 3 rounds
#   ROUNDS=5 bench/oneline.sh OLD/runqlint target/release/runqlint
#   ITEMS=10000 STALE=100 COMMITS=3 bench/oneline.sh   # quicker
#
# Builds runqlint --release when no binary is named, generates the queues and repositories
# once (bench/oneline.py, from bench/gen.py's data, under bench/work/oneline/, gitignored),
# checks that every binary reports the same findings in both layouts, then prints a
# Markdown table: command, pretty, one line, ratio (wall time; CPU in brackets).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
if [ $# -eq 0 ]; then
    printf '# building runqlint --release\n' >&2
    (cd "$root" && cargo build --release --quiet)
    set -- "$root/target/release/runqlint"
fi
bins=()
for b in "$@"; do bins+=(--runqlint "$b"); done
exec python3 "$here/oneline.py" --work "$here/work/oneline" --rounds "${ROUNDS:-3}" \
    --items "${ITEMS:-100000}" --stale "${STALE:-1000}" --commits "${COMMITS:-4}" "${bins[@]}"

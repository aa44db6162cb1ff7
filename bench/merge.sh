#!/usr/bin/env bash
# The merge benchmark (issue #12). One command:
#
#   bench/merge.sh                          # 1k, 10k, 100k items, 3 rounds
#   SIZES=1000,10000 ROUNDS=1 bench/merge.sh
#   MERGIRAF_MAX=10000 bench/merge.sh       # mergiraf left out above 10k items
#
# Installs mergiraf (crates.io, pinned, bench/merge-tools.sh) under bench/work/tools
# (gitignored; several minutes the first time), builds runqlint --release, then
# bench/merge.py generates the scenarios, merges each with git's default merge,
# `git merge-file --union`, mergiraf and runqlint, judges every result and prints a
# Markdown table. A peer that cannot be installed is left out with a note, never faked.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
sizes=${SIZES:-1000,10000,100000}
rounds=${ROUNDS:-3}
note() { printf '# %s\n' "$*" >&2; }

peers=()
if "$here/merge-tools.sh"; then
    peers+=(--mergiraf "$here/work/tools/bin/mergiraf")
    note "mergiraf: $("$here/work/tools/bin/mergiraf" --version)"
else
    note "mergiraf could not be installed; left out"
fi
note "git: $(git --version)"
(cd "$root" && cargo build --release --locked --quiet)
if [[ -n ${MERGIRAF_MAX:-} ]]; then
    peers+=(--mergiraf-max "$MERGIRAF_MAX")
fi
exec python3 "$here/merge.py" --runqlint "$root/target/release/runqlint" \
    --sizes "$sizes" --rounds "$rounds" "${peers[@]}"

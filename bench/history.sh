#!/usr/bin/env bash
# The history benchmark (issue #13): `runqlint log ID` and `runqlint audit` on a generated
# repository, against the floor (`git log --format=%H -- run_queue.json`, then
# `git cat-file --batch` on those versions) and against `git-history file` (PyPI, pinned)
# building its item table.
#
#   bench/history.sh                          # 2,000 commits of a 5,000-item queue, 5 rounds
#   COMMITS=200 ROUNDS=3 bench/history.sh     # quicker
#   PEER=0 bench/history.sh                   # without git-history (it takes hours)
#
# Installs git-history into bench/work/venv-history (idempotent), builds runqlint --release,
# generates the repository once per generator version and size (bench/history_gen.py), then
# runs bench/history_measure.py, which checks every tool's answer before timing it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work="$here/work"
commits=${COMMITS:-2000}
items=${ITEMS:-5000}
rounds=${ROUNDS:-5}
peer=${PEER:-1}
peer_timeout=${PEER_TIMEOUT:-7200}
GIT_HISTORY_VERSION=${GIT_HISTORY_VERSION:-0.8}

mkdir -p "$work"
note() { printf '# %s\n' "$*" >&2; }

gh_args=()
if [ "$peer" = 1 ]; then
    gh="$work/venv-history/bin/git-history"
    if [ ! -x "$gh" ] || ! "$gh" --version 2>/dev/null | grep -q "version $GIT_HISTORY_VERSION\$"; then
        note "installing git-history $GIT_HISTORY_VERSION (venv bench/work/venv-history)"
        { [ -x "$work/venv-history/bin/pip" ] || python3 -m venv "$work/venv-history"; } &&
            "$work/venv-history/bin/pip" install --quiet --disable-pip-version-check "git-history==$GIT_HISTORY_VERSION" >&2 ||
            note "git-history could not be installed; left out"
    fi
    [ -x "$gh" ] && gh_args=(--git-history "$gh")
fi

note "building runqlint --release"
(cd "$root" && cargo build --release --quiet)

data="$work/history/$(cksum <"$here/history_gen.py" | cut -d' ' -f1)-$commits-$items"
if [ ! -f "$data/summary.json" ]; then
    note "generating $commits commits of a $items-item queue"
    rm -rf "$data"
    mkdir -p "$data"
    python3 "$here/history_gen.py" "$data/repo" --commits "$commits" --items "$items" >"$data/summary.json.tmp"
    mv "$data/summary.json.tmp" "$data/summary.json"
fi
note "repository: $data/repo ($(du -sh "$data/repo/.git" | cut -f1) of git objects)"
note "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

python3 "$here/history_measure.py" --runqlint "$root/target/release/runqlint" \
    --repo "$data/repo" --summary "$data/summary.json" --rounds "$rounds" \
    --peer-timeout "$peer_timeout" "${gh_args[@]}"

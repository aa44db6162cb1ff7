#!/usr/bin/env bash
# Time from nothing to the first verdict of the pre-commit hook, the wheel hook (`runqlint`,
# language: python) next to the compiling one (`runqlint-src`, language: rust), on this
# machine in one run:
#
#   flock /work/release.lock bench/hook-install.sh     # (any lock that keeps it alone)
#
# First builds the release wheel and checks it (scripts/check-pypi.sh, not timed). Then, for
# each hook: an empty PRE_COMMIT_HOME, a repository whose staged run_queue.json rewrites a
# finished item, and `pre-commit run` timed until it refuses it. Network is left out of both:
# pip reads the wheel and the shim's backend from a local wheelhouse, cargo the crates
# already in its cache (the build itself starts from an empty target directory). Prints
# one line per hook and the wheel's size.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${RUNQLINT_TOOLS_DIR:-$root/.tools}
work=$(mktemp -d "${TMPDIR:-/tmp}/runqlint-hook-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

wheels="$work/wheelhouse"
RUNQLINT_WHEEL_PROFILE=release RUNQLINT_WHEELHOUSE="$wheels" \
    sh "$root/scripts/check-pypi.sh" >"$work/check-pypi.log" 2>&1 || {
    cat "$work/check-pypi.log" >&2
    echo "hook-install: scripts/check-pypi.sh failed" >&2
    exit 1
}
wheel=$(ls "$wheels"/runqlint-*.whl)

# The hook repository: this checkout as it is, committed.
. "$root/scripts/hook-repo.sh"
isolate_git "$work"
hooks="$work/runqlint"
rev=$(hook_repo "$root" "$hooks")

export PIP_NO_INDEX=1 PIP_FIND_LINKS="$wheels" PIP_DISABLE_PIP_VERSION_CHECK=1 PRE_COMMIT_COLOR=never
unset CARGO_TARGET_DIR
for id in runqlint runqlint-src; do
    repo="$work/repo-$id"
    mkdir -p "$repo"
    cd "$repo"
    git init -q
    printf 'repos:\n  - repo: %s\n    rev: %s\n    hooks:\n      - id: %s\n' "$hooks" "$rev" "$id" >.pre-commit-config.yaml
    printf '{"items": [{"id": "a", "status": "done", "run": {"startedAtMs": 1772064000000, "finishedAtMs": 1772064001000}}]}\n' >run_queue.json
    git add -A
    git commit -q -m base
    sed 's/"done"/"running"/' run_queue.json >q.tmp && mv q.tmp run_queue.json
    git add run_queue.json
    start=$(date +%s.%N)
    status=0
    PRE_COMMIT_HOME="$work/home-$id" "$tools/venv/bin/pre-commit" run >"$work/out-$id" 2>&1 || status=$?
    end=$(date +%s.%N)
    if [ "$status" -ne 1 ] || ! grep -q terminal-status-changed "$work/out-$id"; then
        cat "$work/out-$id" >&2
        echo "hook-install: $id gave no verdict (exit $status)" >&2
        exit 1
    fi
    awk -v id="$id" -v s="$start" -v e="$end" 'BEGIN { printf "%-14s first verdict from nothing: %6.1f s\n", id, e - s }'
done
printf 'wheel %s: %s bytes\n' "$(basename "$wheel")" "$(wc -c <"$wheel" | tr -d ' ')"

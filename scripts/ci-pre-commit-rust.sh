#!/bin/sh
# Exercises the `language: rust` hook (`runqlint-src`) of .pre-commit-hooks.yaml with the real pre-commit
# framework: pre-commit builds runqlint from this checkout with `cargo install` and runs it
# on a staged queue that rewrites history (refused) and on an honest one (accepted).
#
# Separate from the test suite because that build takes minutes on a cold cache; the suite
# covers the same manifest through the `runqlint-system` hook. Run it from CI (.ci/run) or by
# hand. The cargo build is cached in target/pre-commit-rust between runs.
set -eu

root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
sh "$root/scripts/test-tools.sh"
pre_commit="${RUNQLINT_TOOLS_DIR:-$root/.tools}/venv/bin/pre-commit"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/runqlint-pre-commit-rust.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Keep the real toolchain and crate cache; isolate everything git and pre-commit read.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export CARGO_TARGET_DIR="$root/target/pre-commit-rust"
export HOME="$tmp/home"
mkdir -p "$HOME"
. "$root/scripts/hook-repo.sh"
isolate_git "$tmp"
export PRE_COMMIT_HOME="$tmp/pre-commit-home" PRE_COMMIT_COLOR=never

hooks="$tmp/runqlint"
rev=$(hook_repo "$root" "$hooks")
queue_repo "$tmp/repo" "$hooks" "$rev" runqlint-src

echo "ci-pre-commit-rust: building the runqlint hook (language: rust) and refusing a rewritten history" >&2
sed 's/"status": "done"/"status": "running"/' run_queue.json >run_queue.tmp && mv run_queue.tmp run_queue.json
git add run_queue.json
status=0
"$pre_commit" run >"$tmp/out" 2>&1 || status=$?
cat "$tmp/out"
if [ "$status" -eq 0 ] || ! grep -q terminal-status-changed "$tmp/out"; then
    echo "ci-pre-commit-rust: FAILED: the rust hook let a rewritten history through (exit $status)" >&2
    exit 1
fi

echo "ci-pre-commit-rust: accepting an honest change" >&2
git checkout -q HEAD -- run_queue.json
sed 's/"status": "queued"/"status": "canceled"/' run_queue.json >run_queue.tmp && mv run_queue.tmp run_queue.json
git add run_queue.json
"$pre_commit" run || {
    echo "ci-pre-commit-rust: FAILED: the rust hook refused an honest change" >&2
    exit 1
}
echo "ci-pre-commit-rust: ok" >&2

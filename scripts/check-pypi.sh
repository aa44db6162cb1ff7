#!/bin/sh
# Builds the `runqlint` wheel (maturin, dist/pypi/pyproject.toml) and checks that it installs
# and runs where no Rust toolchain exists:
#
#   1. installs the wheel into a fresh virtual environment, with neither `cargo` nor `rustc`
#      on PATH, and runs `runqlint --version` and `runqlint check` on the example queue;
#   2. runs the real pre-commit with this checkout's `runqlint` hook (`language: python`,
#      the root pyproject.toml shim) in a scratch repository, pip pointed at a local
#      wheelhouse (the wheel and the shim's build backend, no index), from an empty
#      PRE_COMMIT_HOME and with the same PATH: a bad commit is refused, a good one accepted;
#   3. the same hook through prek (uv), which refuses a bad change.
#
# maturin is pinned and installed into $RUNQLINT_TOOLS_DIR/pypi (default .tools/pypi).
# The wheel is built with the `dev` profile by default, which reuses the test build's
# dependencies: the check is about packaging, and the release workflow builds the optimised
# wheels. RUNQLINT_WHEEL_PROFILE=release builds those here too (slow: minutes).
# RUNQLINT_WHEELHOUSE=DIR keeps the wheel and the shim's build backend in DIR.
set -eu

root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
tools=${RUNQLINT_TOOLS_DIR:-$root/.tools}
profile=${RUNQLINT_WHEEL_PROFILE:-dev}
sh "$root/scripts/test-tools.sh"
pre_commit="$tools/venv/bin/pre-commit"

# Pinned so that every machine builds the same way; bump deliberately (and with the
# maturin-action's maturin-version in .github/workflows/release.yml).
MATURIN_VERSION=1.16.0
# The shim's build backend (pyproject.toml), put into the wheelhouse pre-commit's pip reads.
HATCHLING_VERSION=1.33.0

python=${PYTHON:-python3}
# The interpreter itself, not a shim (pyenv's need their own PATH).
python_abs=$("$python" -c 'import sys; print(sys.executable)') || {
    echo "check-pypi: $python not found; install Python 3.9+ (with venv) first" >&2
    exit 1
}
venv="$tools/pypi"
if [ ! -x "$venv/bin/maturin" ] || [ "$("$venv/bin/maturin" --version)" != "maturin $MATURIN_VERSION" ]; then
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    echo "check-pypi: installing maturin==$MATURIN_VERSION into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary :all: \
        "maturin==$MATURIN_VERSION"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/runqlint-check-pypi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The wheel and the shim's backend; RUNQLINT_WHEELHOUSE keeps them (bench/hook-install.sh).
wheels=${RUNQLINT_WHEELHOUSE:-$tmp/wheelhouse}
mkdir -p "$wheels"
rm -f "$wheels"/runqlint-*.whl

echo "check-pypi: maturin build --profile $profile" >&2
(cd "$root/dist/pypi" && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" \
    "$venv/bin/maturin" build --quiet --locked --profile "$profile" --out "$wheels")
set -- "$wheels"/runqlint-*.whl
[ -f "$1" ] && [ $# -eq 1 ] || {
    echo "check-pypi: FAILED: expected one runqlint wheel in $wheels" >&2
    exit 1
}
wheel=$1
echo "check-pypi: built $(basename "$wheel") ($(wc -c <"$wheel" | tr -d ' ') bytes)" >&2
"$venv/bin/python" -m pip download --quiet --disable-pip-version-check --only-binary :all: \
    --dest "$wheels" "hatchling==$HATCHLING_VERSION"

# PATH without the Rust toolchain: every directory of PATH that holds cargo, rustc or rustup
# is replaced by one holding links to its other programs. Every command below that could
# build something runs under it (`bare`).
nobin="$tmp/path"
mkdir -p "$nobin"
bare_path=""
old_ifs=$IFS
IFS=:
for dir in $PATH; do
    IFS=$old_ifs
    [ -n "$dir" ] && [ -d "$dir" ] || continue
    if [ -e "$dir/cargo" ] || [ -e "$dir/rustc" ] || [ -e "$dir/rustup" ]; then
        for prog in "$dir"/*; do
            case ${prog##*/} in
            cargo* | rust* | clippy* | *.rs) ;;
            *) [ -x "$prog" ] && [ ! -e "$nobin/${prog##*/}" ] && ln -s "$prog" "$nobin/${prog##*/}" ;;
            esac
        done
        dir=$nobin
    fi
    case ":$bare_path:" in
    *":$dir:"*) ;;
    *) bare_path=${bare_path:+$bare_path:}$dir ;;
    esac
done
IFS=$old_ifs
bare() {
    env PATH="$bare_path" CARGO_HOME="$tmp/no-cargo-home" RUSTUP_HOME="$tmp/no-rustup-home" "$@"
}
for cmd in cargo rustc rustup; do
    if bare sh -c "command -v $cmd" >/dev/null 2>&1; then
        echo "check-pypi: FAILED: $cmd is still on PATH" >&2
        exit 1
    fi
done

echo "check-pypi: the wheel in a fresh virtual environment, no cargo on PATH" >&2
bare "$python_abs" -m venv "$tmp/venv"
bare "$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
bare "$tmp/venv/bin/runqlint" --version
status=0
(cd "$root" && bare "$tmp/venv/bin/runqlint" check --now 2026-11-25T00:00:00Z --format json \
    examples/run_queue.json) >"$tmp/check.json" || status=$?
if [ "$status" -ne 1 ] || ! grep -q '"rule": *"stale-running"' "$tmp/check.json"; then
    echo "check-pypi: FAILED: runqlint check examples/run_queue.json exited $status, expected 1 with stale-running" >&2
    cat "$tmp/check.json" >&2
    exit 1
fi

# Isolate everything git and pre-commit read.
export HOME="$tmp/home"
mkdir -p "$HOME"
. "$root/scripts/hook-repo.sh"
isolate_git "$tmp"
unset PIP_REQUIRE_VIRTUALENV || true
export PRE_COMMIT_HOME="$tmp/pre-commit-home" PRE_COMMIT_COLOR=never
export PIP_NO_INDEX=1 PIP_FIND_LINKS="$wheels" PIP_DISABLE_PIP_VERSION_CHECK=1

hooks="$tmp/runqlint"
rev=$(PYTHON="$python" hook_repo "$root" "$hooks")
queue_repo "$tmp/repo" "$hooks" "$rev" runqlint
"$pre_commit" install >/dev/null

echo "check-pypi: pre-commit installs the language: python hook and refuses a rewritten history" >&2
sed 's/"status": "done"/"status": "running"/' run_queue.json >run_queue.tmp && mv run_queue.tmp run_queue.json
git add run_queue.json
before=$(git rev-parse HEAD)
start=$("$python" -c 'import time; print(time.time())')
status=0
bare git commit -q -m "rewrite history" >"$tmp/out" 2>&1 || status=$?
"$python" -c 'import sys, time; print("check-pypi: first verdict from an empty PRE_COMMIT_HOME in %.1fs" % (time.time() - float(sys.argv[1])))' "$start" >&2
cat "$tmp/out"
if [ "$status" -eq 0 ] || [ "$(git rev-parse HEAD)" != "$before" ] || ! grep -q terminal-status-changed "$tmp/out"; then
    echo "check-pypi: FAILED: the python hook let a rewritten history through (exit $status)" >&2
    exit 1
fi
if find "$PRE_COMMIT_HOME" -name 'rustenv*' | grep -q .; then
    echo "check-pypi: FAILED: pre-commit made a rust environment" >&2
    exit 1
fi

echo "check-pypi: accepting an honest change" >&2
git checkout -q HEAD -- run_queue.json
sed 's/"status": "queued"/"status": "canceled"/' run_queue.json >run_queue.tmp && mv run_queue.tmp run_queue.json
git add run_queue.json
bare git commit -q -m "cancel run_b" || {
    echo "check-pypi: FAILED: the python hook refused an honest change" >&2
    exit 1
}
if [ "$(git rev-parse HEAD)" = "$before" ]; then
    echo "check-pypi: FAILED: the honest commit was not made" >&2
    exit 1
fi

# prek installs the same hook with uv (uv itself it fetches from PyPI with pip).
echo "check-pypi: prek installs the language: python hook and refuses a rewritten history" >&2
sed 's/"status": "done"/"status": "running"/' run_queue.json >run_queue.tmp && mv run_queue.tmp run_queue.json
git add run_queue.json
status=0
bare env -u PIP_NO_INDEX PREK_HOME="$tmp/prek-home" UV_NO_INDEX=1 UV_FIND_LINKS="$wheels" \
    "$tools/venv/bin/prek" run >"$tmp/out" 2>&1 || status=$?
cat "$tmp/out"
if [ "$status" -eq 0 ] || ! grep -q terminal-status-changed "$tmp/out"; then
    echo "check-pypi: FAILED: prek's python hook let a rewritten history through (exit $status)" >&2
    exit 1
fi
echo "check-pypi: ok" >&2

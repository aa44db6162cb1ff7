#!/usr/bin/env bash
# The runqlint performance benchmark (issue #5). One command:
#
#   bench/run.sh                       # 1k, 10k, 100k items, 5 rounds
#   ROUNDS=3 SIZES=1000,10000 bench/run.sh
#
# Installs the schema-only peers locally and idempotently under bench/work/ (gitignored):
# jsonschema-cli (crates.io, `cargo install --root`), ajv-cli (npm, `--prefix`) and
# check-jsonschema (PyPI, a venv). Builds runqlint --release, generates the queues
# (bench/gen.py), makes temporary git repositories (HEAD commit + staged version), runs every
# tool in alternation and prints a Markdown table (bench/measure.py). A peer that cannot be
# installed is left out of the table with a note, never faked.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
work="$here/work"
rounds=${ROUNDS:-5}
sizes=${SIZES:-1000,10000,100000}
stale=${STALE:-100}
fix_size=${FIX_SIZE:-100000}
warn=${WARN:-5,100}      # warnW/ pairs of the largest size: W stale-running warnings
hook_size=${HOOK_SIZE:-100}
# Pinned so that runs are comparable; override to try newer peers.
JSONSCHEMA_CLI_VERSION=${JSONSCHEMA_CLI_VERSION:-0.60.2}
AJV_CLI_VERSION=${AJV_CLI_VERSION:-5.0.0}
CHECK_JSONSCHEMA_VERSION=${CHECK_JSONSCHEMA_VERSION:-0.39.0}

mkdir -p "$work"
note() { printf '# %s\n' "$*" >&2; }

peers=()
jsc="$work/cargo/bin/jsonschema-cli"
if [ ! -x "$jsc" ] || ! "$jsc" --version 2>/dev/null | grep -q "$JSONSCHEMA_CLI_VERSION"; then
    note "installing jsonschema-cli $JSONSCHEMA_CLI_VERSION (cargo install --root bench/work/cargo)"
    cargo install --locked --quiet --root "$work/cargo" --version "$JSONSCHEMA_CLI_VERSION" jsonschema-cli >&2 ||
        note "jsonschema-cli could not be installed; left out"
fi
[ -x "$jsc" ] && peers+=(--jsonschema-cli "$jsc")

ajv="$work/npm/node_modules/.bin/ajv"
if [ ! -x "$ajv" ] || ! grep -q "\"version\": \"$AJV_CLI_VERSION\"" "$work/npm/node_modules/ajv-cli/package.json" 2>/dev/null; then
    note "installing ajv-cli $AJV_CLI_VERSION (npm install --prefix bench/work/npm)"
    npm install --silent --no-audit --no-fund --prefix "$work/npm" "ajv-cli@$AJV_CLI_VERSION" >&2 ||
        note "ajv-cli could not be installed; left out"
fi
[ -x "$ajv" ] && peers+=(--ajv "$ajv")

cj="$work/venv/bin/check-jsonschema"
if [ ! -x "$cj" ] || ! "$work/venv/bin/pip" show check-jsonschema 2>/dev/null | grep -q "^Version: $CHECK_JSONSCHEMA_VERSION$"; then
    note "installing check-jsonschema $CHECK_JSONSCHEMA_VERSION (venv bench/work/venv)"
    { [ -x "$work/venv/bin/pip" ] || python3 -m venv "$work/venv"; } &&
        "$work/venv/bin/pip" install --quiet --disable-pip-version-check "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" >&2 ||
        note "check-jsonschema could not be installed; left out"
fi
[ -x "$cj" ] && peers+=(--check-jsonschema "$cj")

note "building runqlint --release"
(cd "$root" && cargo build --release --quiet)

# Regenerate the data only when the generator changed.
stamp="$work/data/.gen-$(cksum <"$here/gen.py" | cut -d' ' -f1)-${sizes//,/_}-$stale-$hook_size-${warn//,/_}"
if [ ! -e "$stamp" ]; then
    note "generating queues ($sizes items, $hook_size for the hook; $warn warnings)"
    rm -rf "$work/data"
    # shellcheck disable=SC2086
    python3 "$here/gen.py" "$work/data" ${sizes//,/ } --stale "$stale" --warn "$warn" >&2
    python3 "$here/gen.py" "$work/data" "$hook_size" >&2
    touch "$stamp"
fi

note "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/^Mem:/{print $2}') GiB"
note "versions: $("$root/target/release/runqlint" --version 2>/dev/null || echo runqlint), $([ -x "$jsc" ] && "$jsc" --version), ajv-cli $AJV_CLI_VERSION, check-jsonschema $CHECK_JSONSCHEMA_VERSION, $(rustc --version)"
exec python3 "$here/measure.py" --work "$work" --runqlint "$root/target/release/runqlint" \
    --schema "$root/schema/run_queue.schema.json" --sizes "$sizes" --rounds "$rounds" \
    --stale "$stale" --fix-size "$fix_size" --warn "$warn" --hook-size "$hook_size" "${peers[@]}"

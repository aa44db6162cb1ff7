#!/usr/bin/env bash
# Installs the merge benchmark's peer, mergiraf (crates.io, pinned), under bench/work/tools
# (gitignored). Idempotent; bench/merge.sh calls it. A bench-only tool: the tests never use it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MERGIRAF_VERSION=${MERGIRAF_VERSION:-0.16.1}
bin="$here/work/tools/bin/mergiraf"
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "$MERGIRAF_VERSION"; then
    exit 0
fi
mkdir -p "$here/work/tools"
printf '# installing mergiraf %s (cargo install --root bench/work/tools; several minutes)\n' "$MERGIRAF_VERSION" >&2
nice cargo install --locked --quiet --jobs 1 --root "$here/work/tools" "mergiraf@$MERGIRAF_VERSION" >&2

#!/bin/sh
# Builds and checks the npm packages and the Action's install step as users get them: the
# integration tests tests/it/npm.rs and tests/it/action_install.rs, which pack the launcher
# and this machine's platform package (`npm pack`), install them with `npm i --ignore-scripts`
# in a fresh folder and globally, compare `npx runqlint` with the binary (output, exit codes,
# signals), and run the Action's install step against a release folder served on 127.0.0.1
# (verified download; a tampered archive refused). Their checks run with no cargo on PATH.
#
#   scripts/check-npm-action.sh [BINARY]
#
# BINARY (an absolute path): package that binary, e.g. a release build about to be
# published, instead of the debug build. CI=true: a missing node, npm, curl or python3 is a
# failure here, not a skipped test.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
if [ "$#" -gt 0 ]; then
    RUNQLINT_DIST_BINARY=$1
    export RUNQLINT_DIST_BINARY
fi
sh "$root/scripts/test-tools.sh"
cd "$root"
CI=true exec cargo test --locked --test it -- npm:: action_install::

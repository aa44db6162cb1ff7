#!/usr/bin/env bash
# The Action's install step: puts runqlint on PATH for the steps after it.
#
# Downloads the release archive for the runner's OS and architecture and verifies it against
# the checksums committed with this Action (action/checksums/VERSION.sum, the release's
# sha256.sum); a mismatch, or an archive the file does not list, is refused in one line and
# nothing is installed. Builds from the Action's own source (cargo install) only where no
# release binary exists for the platform, or when this Action's own version has no
# checksums file yet (a commit between a release's tag and its checksums commit).
#
# Everything comes in through the environment, never pasted into this script:
#   RUNQLINT_VERSION            the `version` input (empty: this Action's own version, from
#                               its Cargo.toml)
#   RUNQLINT_DOWNLOAD_BASE      the `download-base` input (empty: the GitHub releases of
#                               RUNQLINT_ACTION_REPOSITORY, else GITHUB_REPOSITORY); https
#                               only, except http://127.0.0.1[:PORT] (tests, local mirrors)
#   RUNQLINT_ACTION_PATH        where the Action is checked out (github.action_path)
#   RUNQLINT_ACTION_REPOSITORY  OWNER/NAME of the Action (github.action_repository)
#   RUNQLINT_ROOT               install root; the binary goes to ROOT/bin
#   RUNNER_OS, RUNNER_ARCH      set by the runner; GITHUB_PATH gets ROOT/bin when set
set -euo pipefail

die() {
    if [ "${GITHUB_ACTIONS:-}" = true ]; then
        echo "::error title=runqlint install::$1" >&2
    else
        echo "$1" >&2
    fi
    exit 1
}

# A release version: only these characters ever reach a path, a URL or a message.
version_re='^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'

action=${RUNQLINT_ACTION_PATH:?RUNQLINT_ACTION_PATH is not set}
root=${RUNQLINT_ROOT:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/runqlint}

# [package] version of the Action's Cargo.toml.
own=$(awk '/^\[/ { p = ($0 == "[package]") } p && /^version[ \t]*=/ { sub(/^version[ \t]*=[ \t]*"/, ""); sub(/".*$/, ""); print; exit }' "$action/Cargo.toml")
[[ $own =~ $version_re ]] || die "runqlint: no version in $action/Cargo.toml"

requested=${RUNQLINT_VERSION:-}
requested=${requested#v}
if [ -z "$requested" ]; then
    version=$own
else
    [[ $requested =~ $version_re ]] || die "runqlint: the version input is not a release version (like 0.1.0)"
    version=$requested
fi

exe=runqlint
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) target=x86_64-unknown-linux-musl ;;
    Linux/ARM64) target=aarch64-unknown-linux-musl ;;
    macOS/ARM64) target=aarch64-apple-darwin ;;
    macOS/X64) target=x86_64-apple-darwin ;;
    # Windows on Arm runs x64 programs (emulated).
    Windows/X64 | Windows/ARM64) target=x86_64-pc-windows-msvc exe=runqlint.exe ;;
    *) target="" ;;
esac

install_path() {
    if [ -n "${GITHUB_PATH:-}" ]; then
        echo "$root/bin" >>"$GITHUB_PATH"
    fi
}

build_from_source() {
    # $1: why there is no verified download.
    [ "$version" = "$own" ] \
        || die "runqlint: $1, and this Action's source is runqlint $own, not $version"
    command -v cargo >/dev/null 2>&1 \
        || die "runqlint: $1, and there is no cargo to build runqlint $own from source"
    echo "runqlint: $1; building runqlint $own from source with cargo"
    cargo install --locked --quiet --path "$action" --root "$root"
    install_path
}

if [ -z "$target" ]; then
    build_from_source "no release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}"
    exit 0
fi

sums="$action/action/checksums/$version.sum"
if [ ! -f "$sums" ]; then
    if [ -z "$requested" ]; then
        build_from_source "this Action has no checksums for runqlint $version (action/checksums/$version.sum)"
        exit 0
    fi
    die "runqlint: this Action has no checksums for runqlint $version (action/checksums/$version.sum); use a version it has, or a newer Action"
fi

case "$target" in
    *windows*) archive="runqlint-$target.zip" ;;
    *) archive="runqlint-$target.tar.gz" ;;
esac

# The entry for the archive: "<sha256>  <name>" (or "<sha256> *<name>"), exactly one.
expected=""
entries=0
while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    sum=${line%% *}
    name=${line#"$sum"}
    name=${name# }
    name=${name# }
    name=${name#\*}
    if [ "$name" = "$archive" ]; then
        expected=$sum
        entries=$((entries + 1))
    fi
done <"$sums"
[ "$entries" -ne 0 ] \
    || die "runqlint: action/checksums/$version.sum has no entry for $archive; refusing to install"
[ "$entries" -eq 1 ] \
    || die "runqlint: action/checksums/$version.sum has $entries entries for $archive; refusing to install"
expected=$(printf '%s' "$expected" | tr 'A-F' 'a-f')
[[ $expected =~ ^[0-9a-f]{64}$ ]] \
    || die "runqlint: action/checksums/$version.sum's entry for $archive is not a SHA-256; refusing to install"

base=${RUNQLINT_DOWNLOAD_BASE:-}
if [ -z "$base" ]; then
    repo=${RUNQLINT_ACTION_REPOSITORY:-${GITHUB_REPOSITORY:-}}
    [[ $repo =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] \
        || die "runqlint: no repository to download from (github.action_repository and GITHUB_REPOSITORY are empty); set download-base"
    base="https://github.com/$repo/releases/download"
fi
base=${base%/}
# https anywhere; plain http only to this machine's loopback address (a test or local mirror
# server), where nothing crosses a network.
if [[ $base =~ ^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%/-]*)?$ ]]; then
    proto='=https'
elif [[ $base =~ ^http://127\.0\.0\.1(:[0-9]+)?(/[A-Za-z0-9._~%/-]*)?$ ]]; then
    proto='=http'
else
    die "runqlint: download-base must be an https:// URL (or http://127.0.0.1 for a local mirror)"
fi
url="$base/v$version/$archive"

tmp=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/runqlint-download.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

curl --fail --silent --show-error --location --proto "$proto" --proto-redir '=https' \
    --retry 3 --connect-timeout 20 --max-time 300 -o "$tmp/$archive" "$url" \
    || die "runqlint: could not download $url"

if command -v sha256sum >/dev/null 2>&1; then
    actual=$(sha256sum "$tmp/$archive")
elif command -v shasum >/dev/null 2>&1; then
    actual=$(shasum -a 256 "$tmp/$archive")
else
    die "runqlint: neither sha256sum nor shasum is installed to verify $archive"
fi
actual=${actual%% *}
[ "$actual" = "$expected" ] \
    || die "runqlint: $archive from $url does not match action/checksums/$version.sum (sha256 $actual, expected $expected); refusing to install"

mkdir "$tmp/x"
case "$archive" in
    *.zip)
        if command -v unzip >/dev/null 2>&1; then
            unzip -q "$tmp/$archive" -d "$tmp/x"
        else
            7z x -bd -y "-o$tmp/x" "$tmp/$archive" >/dev/null
        fi
        ;;
    *) tar -xzf "$tmp/$archive" -C "$tmp/x" ;;
esac
[ -f "$tmp/x/$exe" ] && [ ! -L "$tmp/x/$exe" ] \
    || die "runqlint: $archive has no $exe at its root"
chmod 755 "$tmp/x/$exe"
said=$("$tmp/x/$exe" --version 2>/dev/null) || said=""
[ "$said" = "runqlint $version" ] \
    || die "runqlint: the $exe in $archive does not answer --version with runqlint $version"

mkdir -p "$root/bin"
mv -f "$tmp/x/$exe" "$root/bin/$exe"
install_path
echo "runqlint: installed runqlint $version ($target) in $root/bin, verified against action/checksums/$version.sum"

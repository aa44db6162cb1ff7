#!/bin/sh
# Fills the platform npm package template (npm/platform/) for one release target with its
# built binary:
#
#   scripts/npm-package.sh TARGET BINARY OUTDIR
#
# TARGET is a release target (aarch64-apple-darwin, x86_64-apple-darwin,
# x86_64-unknown-linux-musl, aarch64-unknown-linux-musl, x86_64-pc-windows-msvc); OUTDIR
# must not exist yet. The package's version is Cargo.toml's, and the launcher package
# (npm/runqlint/package.json) must already name it at that version: a release whose versions
# disagree stops here, before anything is published.
set -eu

usage="usage: scripts/npm-package.sh TARGET BINARY OUTDIR"
[ "$#" -eq 3 ] || { echo "$usage" >&2; exit 2; }
target=$1
binary=$2
out=$3
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)

# Release target -> npm platform (process.platform-process.arch). The Linux binaries are
# static musl executables, so one package per architecture serves glibc and musl alike
# (no `libc` field).
case "$target" in
    aarch64-apple-darwin) platform=darwin-arm64 ;;
    x86_64-apple-darwin) platform=darwin-x64 ;;
    x86_64-unknown-linux-musl) platform=linux-x64 ;;
    aarch64-unknown-linux-musl) platform=linux-arm64 ;;
    x86_64-pc-windows-msvc) platform=win32-x64 ;;
    *)
        echo "npm-package.sh: unknown target '$target' (aarch64-apple-darwin, x86_64-apple-darwin, x86_64-unknown-linux-musl, aarch64-unknown-linux-musl, x86_64-pc-windows-msvc)" >&2
        exit 2
        ;;
esac
os=${platform%-*}
cpu=${platform#*-}
exe=runqlint
[ "$os" = win32 ] && exe=runqlint.exe

# The version in Cargo.toml's [package] table.
version=$(awk '/^\[/ { p = ($0 == "[package]") } p && /^version[ \t]*=/ { sub(/^version[ \t]*=[ \t]*"/, ""); sub(/".*$/, ""); print; exit }' "$root/Cargo.toml")
case "$version" in
    "" | *[!0-9A-Za-z.+-]*)
        echo "npm-package.sh: no usable version in $root/Cargo.toml ('$version')" >&2
        exit 2
        ;;
esac

launcher="$root/npm/runqlint/package.json"
grep -q "^  \"version\": \"$version\",\$" "$launcher" || {
    echo "npm-package.sh: $launcher is not at Cargo.toml's version $version" >&2
    exit 2
}
grep -q "^    \"@runqlint/cli-$platform\": \"$version\",\{0,1\}\$" "$launcher" || {
    echo "npm-package.sh: $launcher has no optional dependency \"@runqlint/cli-$platform\": \"$version\"" >&2
    exit 2
}

[ -f "$binary" ] || { echo "npm-package.sh: $binary is not a file" >&2; exit 2; }
[ ! -e "$out" ] || { echo "npm-package.sh: $out already exists" >&2; exit 2; }

mkdir -p "$out"
for file in package.json README.md; do
    sed -e "s/@PLATFORM@/$platform/g" -e "s/@VERSION@/$version/g" -e "s/@OS@/$os/g" \
        -e "s/@CPU@/$cpu/g" -e "s/@EXE@/$exe/g" -e "s/@TARGET@/$target/g" \
        "$root/npm/platform/$file" >"$out/$file"
done
cp "$binary" "$out/$exe"
chmod 755 "$out/$exe"
echo "$out"

#!/usr/bin/env bash
# Builds synwall's Debian packages (docs/PACKAGE.md) out of a copy of the tree, so that the
# checkout stays as it is, and runs lintian on them.
#
#   bash scripts/package.sh [--out DIR] [--commit REV] [--check] [--force]
#
#   --out DIR     where the packages, the build log and lintian's report go (default
#                 build-deb/). Nothing else is written outside a temporary directory.
#   --commit REV  build the tree of commit REV (git archive) instead of the working tree.
#   --check       run the C unit tests during the build (dh_auto_test; scripts/test.sh runs
#                 them anyway, so by default the build skips them: DEB_BUILD_OPTIONS=nocheck).
#   --force       build even if DIR already holds the packages of this very tree.
#
# What is built, by default: the working tree as it is, committed or not (the tracked files
# that exist and the untracked ones git does not ignore). Idempotent: a second run on the
# same tree finds the packages made from it (DIR/.source-digest) and only reports again.
# Bounded: the build gets 30 minutes, lintian 10.
#
# Exit status: 0 built (or up to date) and lintian reported neither errors nor warnings;
# 1 the build failed or lintian reported some (DIR/lintian.txt); 2 usage.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

out=$repo/build-deb
commit=
check=0
force=0
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case "$1" in
    --out) out=$2; shift 2;;
    --out=*) out=${1#*=}; shift;;
    --commit) commit=$2; shift 2;;
    --commit=*) commit=${1#*=}; shift;;
    --check) check=1; shift;;
    --force) force=1; shift;;
    -h|--help) usage 0;;
    *) echo "package.sh: unknown option $1" >&2; usage 2 >&2;;
    esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

# One build at a time into one output directory (a test and a person may both ask).
exec 9>"$out/.lock"
flock -w 2400 9 || { echo "package.sh: $out is locked by another build" >&2; exit 1; }

# --- what is built -------------------------------------------------------------------------
# tree_files: the working tree's files, NUL-separated, sorted.
tree_files() {
    git -C "$repo" ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do
            if [ -f "$repo/$f" ] || [ -L "$repo/$f" ]; then printf '%s\0' "$f"; fi
        done | sort -zu
}
if [ -n "$commit" ]; then
    tree=$(git -C "$repo" rev-parse --verify "$commit^{tree}")
    digest="tree $tree"
else
    # names, modes and contents (symbolic links as links), not times
    digest=$(cd "$repo" && tree_files | tar --null -T - --mtime=@0 --owner=0 --group=0 \
                 --numeric-owner -cf - | sha256sum | cut -d' ' -f1)
    digest="worktree $digest"
fi

report() {
    local rc
    rc=$(cat "$out/.lintian-rc" 2>/dev/null || echo 1)
    ls -1 "$out"/*.deb
    if [ "$rc" = 0 ]; then
        echo "lintian: no errors, no warnings ($out/lintian.txt)"
    else
        echo "lintian reported errors or warnings ($out/lintian.txt):" >&2
        grep -E '^[EW]: ' "$out/lintian.txt" >&2 || true
    fi
    return "$rc"
}

if [ "$force" = 0 ] && [ "$(cat "$out/.source-digest" 2>/dev/null)" = "$digest" ] &&
        compgen -G "$out/*.deb" >/dev/null && [ -f "$out/lintian.txt" ]; then
    echo "package.sh: $out holds the packages of this tree already ($digest)"
    report
    exit $?
fi

# --- a copy of it ----------------------------------------------------------------------------
version=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)
work=$(mktemp -d "${TMPDIR:-/tmp}/synwall-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$work/synwall-$version
mkdir -p "$src"
if [ -n "$commit" ]; then
    git -C "$repo" archive "$commit" | tar -xf - -C "$src"
else
    (cd "$repo" && tree_files | tar --null -T - -cf -) | tar -xf - -C "$src"
fi

# --- build-dependencies: scripts/setup.sh installs them ------------------------------------
if ! (cd "$src" && dpkg-checkbuilddeps) 2>/dev/null; then
    echo "package.sh: build-dependencies missing; running scripts/setup.sh"
    bash "$repo/scripts/setup.sh"
    if ! (cd "$src" && dpkg-checkbuilddeps); then
        echo "package.sh: debian/control needs packages scripts/setup.sh does not install" >&2
        exit 1
    fi
fi

# --- build ---------------------------------------------------------------------------------
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo "$out/lintian.txt" \
      "$out/.lintian-rc" "$out/.source-digest"
opts="parallel=$(nproc)"
[ "$check" = 1 ] || opts="nocheck $opts"
# pip's downloads (the controller's dependencies) are kept between builds
export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$repo/.cache/pip}
echo "package.sh: building synwall $version ($digest) in $src"
start=$(date +%s)
if ! (cd "$src" && DEB_BUILD_OPTIONS="$opts" timeout 1800 \
        dpkg-buildpackage -b -us -uc) > "$out/build.log" 2>&1; then
    tail -n 40 "$out/build.log" >&2
    echo "package.sh: the build failed ($out/build.log)" >&2
    exit 1
fi
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out/"
echo "package.sh: built in $(( $(date +%s) - start )) s"

# --- lintian -----------------------------------------------------------------------------------
changes=$(ls "$out"/*.changes)
set +e
timeout 600 lintian --fail-on error,warning "$changes" > "$out/lintian.txt" 2>"$work/lintian.err"
rc=$?
set -e
grep -v 'running with root privileges' "$work/lintian.err" >&2 || true
[ "$rc" = 0 ] || rc=1
echo "$rc" > "$out/.lintian-rc"
echo "$digest" > "$out/.source-digest"
report

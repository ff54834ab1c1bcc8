#!/usr/bin/env bash
# Installs synwall as an appliance: the dataplane, the controller (synwalld, synwallctl), the
# hardware tools, the systemd units and a sample boot config. Idempotent: a second run
# changes nothing, and an existing /etc/synwall/synwall.toml or prepare.env is never
# overwritten.
#
#   bash hw/install.sh [--prefix /usr/local] [--root /] [--enable] [--no-controller]
#                      [--dp build/dataplane/synwall-dp] [--python /usr/bin/python3]
#
#   --prefix DIR     where programs go (DIR/bin, DIR/sbin, DIR/lib/synwall); the units and
#                    the sample config name paths under it. Default /usr/local.
#   --root DIR       install into DIR as if it were / (a staging tree; tests use it). The
#                    controller's virtualenv made there works at DIR/PREFIX only.
#   --enable         systemctl enable synwall.service and synwall-prepare.service.
#   --no-controller  skip the controller virtualenv (synwalld must then be at PREFIX/bin).
#   --dp PATH        the synwall-dp binary (default build/dataplane/synwall-dp: build first
#                    with scripts/setup.sh).
#   --python PATH    the Python (3.11+) for the controller's virtualenv and the tools.
#
# Needs (Debian): python3, python3-venv, python3-pyelftools, systemd, the dpdk runtime; the
# controller's virtualenv installs pyctl and its dependencies from PyPI.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

root=/
prefix=/usr/local
enable=0
controller=1
dp="$repo/build/dataplane/synwall-dp"
python=/usr/bin/python3

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case "$1" in
    --root) root=$2; shift 2;;
    --root=*) root=${1#*=}; shift;;
    --prefix) prefix=$2; shift 2;;
    --prefix=*) prefix=${1#*=}; shift;;
    --dp) dp=$2; shift 2;;
    --dp=*) dp=${1#*=}; shift;;
    --python) python=$2; shift 2;;
    --python=*) python=${1#*=}; shift;;
    --enable) enable=1; shift;;
    --no-controller) controller=0; shift;;
    -h|--help) usage 0;;
    *) echo "install.sh: unknown option $1" >&2; usage 2 >&2;;
    esac
done
case "$prefix" in /*) ;; *) echo "install.sh: --prefix must be absolute" >&2; exit 2;; esac
mkdir -p "$root"
root=$(cd "$root" && pwd)
R=${root%/}            # "" for /
P="$R$prefix"
changed=0

say() { printf '%-10s %s\n' "$1" "$2"; }

# install_file SRC DEST MODE: copy unless DEST already has the same bytes and mode.
install_file() {
    local src=$1 dest=$2 mode=$3
    if [ -f "$dest" ] && cmp -s "$src" "$dest" && \
        [ "$(stat -c %a "$dest")" = "$(printf '%o' "0$mode")" ]; then
        say unchanged "$dest"
        return
    fi
    mkdir -p "$(dirname "$dest")"
    install -m "$mode" "$src" "$dest"
    say installed "$dest"
    changed=1
}

# install_subst SRC DEST MODE: install_file of SRC with /usr/local replaced by the prefix.
install_subst() {
    local tmp
    tmp=$(mktemp)
    sed "s|/usr/local|$prefix|g" "$1" > "$tmp"
    install_file "$tmp" "$2" "$3"
    rm -f "$tmp"
}

# install_config SRC DEST MODE: only where there is none (the operator's file stays).
install_config() {
    if [ -e "$2" ]; then
        say kept "$2 (exists; the sample is $1)"
        return
    fi
    install_subst "$1" "$2" "$3"
}

# --- the dataplane -------------------------------------------------------------------------
if [ -x "$dp" ]; then
    install_file "$dp" "$P/bin/synwall-dp" 755
else
    echo "install.sh: $dp not found: build it first (bash scripts/setup.sh) or give --dp" >&2
    exit 1
fi

# --- the hardware tools --------------------------------------------------------------------
for f in "$repo"/hw/*.py "$repo/hw/nics.toml"; do
    install_file "$f" "$P/lib/synwall/hw/$(basename "$f")" 644
done
for f in synwall-hwcheck synwall-prepare-host; do
    tmp=$(mktemp)
    # The installed wrappers run the Python given here.
    sed "s|SYNWALL_PYTHON:-/usr/bin/python3|SYNWALL_PYTHON:-$python|" "$repo/hw/$f" > "$tmp"
    install_file "$tmp" "$P/sbin/$f" 755
    rm -f "$tmp"
done
install_file "$repo/hw/README.md" "$P/share/doc/synwall/README.md" 644
install_file "$repo/hw/SUPPORTED.md" "$P/share/doc/synwall/SUPPORTED.md" 644

# --- the controller: a virtualenv with pyctl -------------------------------------------------
if [ "$controller" = 1 ]; then
    venv="$P/lib/synwall/venv"
    # The virtualenv is redone only when pyctl's sources change.
    stamp=$(cd "$repo" && find pyctl -type f ! -path '*/__pycache__/*' \
                ! -path '*.egg-info*' ! -path 'pyctl/build/*' -print0 |
            sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
    if [ -x "$venv/bin/synwalld" ] &&
        [ "$(cat "$venv/.synwall-pyctl" 2>/dev/null)" = "$stamp" ]; then
        say unchanged "$venv (pyctl $stamp)"
    else
        [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
        # Built from a copy: a build leaves build/ and *.egg-info/ in its source folder.
        src=$(mktemp -d)
        (cd "$repo" && tar -cf - --exclude=__pycache__ --exclude='*.egg-info' \
            --exclude=pyctl/build pyctl) | tar -xf - -C "$src"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "$src/pyctl"
        rm -rf "$src"
        echo "$stamp" > "$venv/.synwall-pyctl"
        say installed "$venv (pyctl $stamp)"
        changed=1
    fi
    for f in synwalld synwallctl; do
        if [ "$(readlink "$P/bin/$f" 2>/dev/null)" = "../lib/synwall/venv/bin/$f" ]; then
            say unchanged "$P/bin/$f"
        else
            mkdir -p "$P/bin"
            ln -sfn "../lib/synwall/venv/bin/$f" "$P/bin/$f"
            say installed "$P/bin/$f"
            changed=1
        fi
    done
elif [ ! -x "$P/bin/synwalld" ]; then
    echo "install.sh: note: --no-controller and no $P/bin/synwalld: synwall.service needs it" >&2
fi

# --- boot: units and config ----------------------------------------------------------------
for u in synwall.service synwall-prepare.service; do
    install_subst "$repo/hw/systemd/$u" "$R/etc/systemd/system/$u" 644
done
install_config "$repo/hw/synwall.toml" "$R/etc/synwall/synwall.toml" 640
install_config "$repo/hw/prepare.env" "$R/etc/synwall/prepare.env" 644

if [ -z "$R" ] && [ -d /run/systemd/system ] && [ "$changed" = 1 ]; then
    systemctl daemon-reload
    say reloaded "systemd units"
fi
if [ "$enable" = 1 ]; then
    if [ -z "$R" ]; then
        systemctl enable synwall.service synwall-prepare.service
    else
        systemctl --root="$R" enable synwall.service synwall-prepare.service
    fi
fi
if [ "$changed" = 0 ]; then
    echo "synwall: everything was already installed"
else
    echo "synwall: installed under $P; units in $R/etc/systemd/system; config in $R/etc/synwall"
fi

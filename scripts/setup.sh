#!/usr/bin/env bash
# Installs what synwall needs on Debian 12 and builds it. Idempotent: a second run only
# checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(dpdk dpdk-dev libdpdk-dev meson ninja-build pkg-config gcc libpcap-dev
              protobuf-c-compiler libprotobuf-c-dev
              python3-venv iproute2 ethtool tcpreplay nftables curl openssl
              python3-pyelftools systemd util-linux linux-perf cppcheck
              clang libclang-rt-14-dev llvm-14
              debhelper dpkg-dev fakeroot lintian mmdebstrap)
# clang builds the libFuzzer harnesses (tests/fuzz, docs/FUZZING.md); Debian 12's clang 14
# finds libFuzzer's runtime (libclang_rt.fuzzer-x86_64.a) and the sanitizers' in
# libclang-rt-14-dev, which it only recommends. llvm-14 has the coverage tools of the same
# version (llvm-profdata-14, llvm-cov-14: scripts/fuzz.sh -c).
# debhelper, dpkg-dev, fakeroot, lintian: building the Debian packages (scripts/package.sh);
# mmdebstrap: the fresh Debian root the package test installs them into.
# The emulated-NIC test's guest (tests/hw): without their recommends, which nothing here uses.
APT_PACKAGES_NO_RECOMMENDS=(qemu-system-x86 busybox-static linux-image-amd64)

apt_missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || echo "$p"
    done
}
missing=($(apt_missing "${APT_PACKAGES[@]}"))
missing_nr=($(apt_missing "${APT_PACKAGES_NO_RECOMMENDS[@]}"))
if [ ${#missing[@]} -gt 0 ] || [ ${#missing_nr[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]} ${missing_nr[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    if [ ${#missing[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
    fi
    if [ ${#missing_nr[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
            "${missing_nr[@]}"
    fi
fi

# Prometheus (promtool and the server the monitoring tests scrape synwalld with): Debian's
# binaries, unpacked into .cache/prometheus rather than installed, as the package would also
# start a Prometheus service on this machine.
PROM_DIR=.cache/prometheus
if [ ! -x "$PROM_DIR/usr/bin/promtool" ]; then
    rm -rf "$PROM_DIR" && mkdir -p "$PROM_DIR"
    (cd "$PROM_DIR" && apt-get download -q prometheus 2>/dev/null \
        || { apt-get update -q && apt-get download -q prometheus; })
    dpkg-deb -x "$PROM_DIR"/prometheus_*.deb "$PROM_DIR"
    rm -f "$PROM_DIR"/prometheus_*.deb
fi

# Python side (tests now, the controller later) in a project virtualenv.
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import pytest, scapy, elftools, matplotlib' 2>/dev/null; then
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -r requirements-test.txt
fi
# The controller (synwalld, synwallctl; pinned dependencies, grpcio-tools for the proto drift
# test), editable: installed again whenever pyctl/pyproject.toml changes.
if ! cmp -s pyctl/pyproject.toml .venv/.pyctl-installed 2>/dev/null \
        || ! .venv/bin/python -c 'import synwall.v1.admin_pb2_grpc, grpc_tools' 2>/dev/null; then
    .venv/bin/pip install -q -e './pyctl[dev]'
    cp pyctl/pyproject.toml .venv/.pyctl-installed
fi

if [ ! -f build/build.ninja ]; then
    meson setup build --buildtype=release
fi
ninja -C build

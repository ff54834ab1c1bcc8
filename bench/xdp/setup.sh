#!/usr/bin/env bash
# Builds what measurement 7 (the peers on one veth path) needs beyond scripts/setup.sh, into
# .cache/xdp/: the SYN generator (xdpgen + gen.bpf.o, BPF_PROG_RUN live frames), the counter
# of the answers (answers.bpf.o, on the client's veth), the timer of an XDP program's own run
# (xdprun), and native
# XDP SYNPROXY, the kernel's own selftest program and its loader, taken from Debian's
# linux-source-6.12 (the 6.1 copy is refused by newer kernels' verifiers) and compiled
# against this kernel's BTF. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=.cache/xdp
SRC_PKG=linux-source-6.12
SEL=tools/testing/selftests/bpf
mkdir -p "$OUT"

missing=()
for p in bpftool clang libbpf-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench/xdp: installing ${missing[*]}"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# libbpf 1.1 (Debian 12) has bpf_obj_get_info_by_fd, not yet its typed successors.
OLD_LIBBPF=(-Dbpf_prog_get_info_by_fd=bpf_obj_get_info_by_fd
            -Dbpf_map_get_info_by_fd=bpf_obj_get_info_by_fd)
INC=(-I/usr/include/x86_64-linux-gnu)

if [ ! -f "$OUT/gen.bpf.o" ] || [ bench/xdp/gen.bpf.c -nt "$OUT/gen.bpf.o" ] \
        || [ bench/xdp/gen.h -nt "$OUT/gen.bpf.o" ]; then
    clang -O2 -g -target bpf "${INC[@]}" -c bench/xdp/gen.bpf.c -o "$OUT/gen.bpf.o"
fi
if [ ! -f "$OUT/answers.bpf.o" ] || [ bench/xdp/answers.bpf.c -nt "$OUT/answers.bpf.o" ]; then
    clang -O2 -g -target bpf "${INC[@]}" -c bench/xdp/answers.bpf.c -o "$OUT/answers.bpf.o"
fi
if [ ! -x "$OUT/xdpgen" ] || [ bench/xdp/xdpgen.c -nt "$OUT/xdpgen" ] \
        || [ bench/xdp/gen.h -nt "$OUT/xdpgen" ]; then
    gcc -O2 -Wall -Wextra -o "$OUT/xdpgen" bench/xdp/xdpgen.c -lbpf
fi

if [ ! -x "$OUT/xdprun" ] || [ bench/xdp/xdprun.c -nt "$OUT/xdprun" ]; then
    gcc -O2 -Wall -Wextra -o "$OUT/xdprun" bench/xdp/xdprun.c -lbpf
fi

if [ ! -f "$OUT/src/$SEL/xdp_synproxy.c" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "bench/xdp: fetching the XDP SYNPROXY selftest from Debian's $SRC_PKG"
    (cd "$tmp" && { apt-get download -q "$SRC_PKG" 2>/dev/null \
        || { apt-get update -q && apt-get download -q "$SRC_PKG"; }; })
    rm -rf "$OUT/src" && mkdir -p "$OUT/src"
    dpkg-deb --fsys-tarfile "$tmp"/"$SRC_PKG"_*.deb \
        | tar -xO "./usr/src/$SRC_PKG.tar.xz" \
        | tar -xJ -C "$OUT/src" --strip-components=1 \
            "$SRC_PKG/$SEL/xdp_synproxy.c" "$SRC_PKG/$SEL/progs/xdp_synproxy_kern.c" \
            "$SRC_PKG/$SEL/progs/bpf_compiler.h"
    rm -rf "$tmp"
    trap - EXIT
fi
if [ ! -f "$OUT/vmlinux.h" ]; then
    bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$OUT/vmlinux.h.tmp"
    mv "$OUT/vmlinux.h.tmp" "$OUT/vmlinux.h"
fi
# The loader opens "<its own path>_kern.bpf.o".
if [ ! -f "$OUT/xdp_synproxy_kern.bpf.o" ]; then
    clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -w -I"$OUT" -I"$OUT/src/$SEL/progs" \
        "${INC[@]}" -c "$OUT/src/$SEL/progs/xdp_synproxy_kern.c" \
        -o "$OUT/xdp_synproxy_kern.bpf.o"
fi
if [ ! -x "$OUT/xdp_synproxy" ]; then
    gcc -O2 -w "${OLD_LIBBPF[@]}" -o "$OUT/xdp_synproxy" "$OUT/src/$SEL/xdp_synproxy.c" -lbpf
fi

"""synwall-dp on emulated Intel NICs, through DPDK's real PCI poll-mode driver.

A QEMU guest (TCG: no KVM) with two emulated 82540EM NICs (e1000, 8086:100e) on two host
taps, in a network namespace this test makes and removes. The guest is the host's Debian
kernel and an initramfs made by hw.guest from the host's files (busybox-static, synwall-dp,
its DPDK libraries and the e1000 PMD, uio_pci_generic). Its /init reserves nothing itself: the
kernel command line reserves 128 hugepages; it binds both NICs to uio_pci_generic and runs
synwall-dp on them by PCI address, so DPDK's net_e1000_em drives them.

From the host: a SYN sent into the outside tap comes back as a SYN-ACK whose sequence number
is the cookie cookie_ref.py computes for --key; the client's ACK produces the server SYN on
the inside tap (once through a syncache entry on a `proxy` port, once through the cookie
alone on a `cookie` port); an ACK with a wrong cookie produces nothing. Then the host asks the
guest to stop synwall-dp (a line on the second serial port), and the counters come back on
the serial console as the --stats-json file.

Needs root, /dev/net/tun, and Debian's qemu-system-x86, busybox-static and linux-image-amd64.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from hw import guest
from tests.hw.hwfixtures import DP_BIN, in_netns, raw_socket, sh
from tests.traffic import cookie_ref
from tests.traffic.dpharness import TEST_KEY
from tests.traffic.expect import check_server_syn, check_synack
from tests.traffic.pktutil import ALL_OPTS, TCP_SYN, ack_for, parse_tcp, syn, ts_option

QEMU = "qemu-system-x86_64"
OUTSIDE_PCI, INSIDE_PCI = "0000:00:03.0", "0000:00:04.0"
# Under TCG here: ~10 s to a running dataplane, ~15 s for a whole case. Every wait below is
# also cut to what is left of DEADLINE, so that both cases together stay under 5 minutes
# whatever happens; QEMU is killed at the end of each case.
BOOT_TIMEOUT = 100      # kernel boot, EAL init and port start
REPLY_TIMEOUT = 20
STOP_TIMEOUT = 40
DEADLINE = 140          # one case, from QEMU's start
GUEST_HUGEPAGES = 128
ACK_TSVAL = 0x01020310
DP_ARGS = ["-l", "0-1", "-n", "1", "--file-prefix", "hwguest",
           "-a", OUTSIDE_PCI, "-a", INSIDE_PCI, "--",
           "--outside", OUTSIDE_PCI, "--inside", INSIDE_PCI,
           "--protect", "80,443:cookie", "--key", TEST_KEY,
           "--mbufs", "4095", "--hashsize", "1024", "--flows", "1024",
           "--stats-json", "/tmp/stats.json"]


def why_qemu_cannot_run():
    if os.geteuid() != 0:
        return "needs root (network namespace and tap devices)"
    if shutil.which(QEMU) is None:
        return "%s not installed (Debian package qemu-system-x86)" % QEMU
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun: tap devices cannot be made here"
    if not Path(guest.BUSYBOX).is_file():
        return "no %s (Debian package busybox-static)" % guest.BUSYBOX
    try:
        guest.find_kernel()
    except FileNotFoundError as e:
        return str(e)
    r = subprocess.run([QEMU, "-accel", "help"], capture_output=True, text=True)
    if "tcg" not in r.stdout:
        return "%s has no TCG accelerator: %s" % (QEMU, r.stdout.strip())
    return None


def test_initramfs_keeps_debian_symlinks_and_only_the_needed_pmds(tmp_path):
    """The image, without booting it: the PMD libraries are symlinks into the PMD folder as on
    the host, that folder holds only the PMDs the guest needs, and the loader, libgcc_s, the
    uio modules and an executable /init are there."""
    if not DP_BIN.exists():
        pytest.fail("%s is not built: run scripts/setup.sh" % DP_BIN)
    kernel, rel = _kernel_or_skip()
    out = tmp_path / "initrd.gz"
    guest.build_initramfs(str(out), str(DP_BIN), DP_ARGS, kernel_release=rel)
    entries = _read_cpio(out)
    libdir, pmddir = "usr/lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0"
    # The library folder's name for a PMD is a symlink into the PMD folder, as on the host:
    # one file behind both names, so the loader and EAL's dlopen see one library.
    for lib in ("librte_net_e1000.so.23", "librte_bus_pci.so.23", "librte_mempool_ring.so.23"):
        kind, target = entries[libdir + "/" + lib]
        assert kind == "link", "%s/%s is a copy, not a symlink" % (libdir, lib)
        assert target == os.readlink("/usr/lib/x86_64-linux-gnu/" + lib)
        assert target.startswith("dpdk/pmds-23.0/")
    assert entries[pmddir + "/librte_net_e1000.so.23.0"][0] == "file"
    # EAL loads every .so in the PMD folder: only the PCI bus, the mempool handler, the e1000
    # PMD and what they need may be there (the host's has ~100 PMDs with absent libraries).
    pmds = sorted(n.rsplit("/", 1)[1].split(".so")[0] for n in entries
                  if n.startswith(pmddir + "/"))
    assert set(pmds) <= {"librte_bus_pci", "librte_bus_vdev", "librte_mempool_ring",
                         "librte_net_e1000"}, pmds
    assert {"librte_bus_pci", "librte_mempool_ring", "librte_net_e1000"} <= set(pmds)
    # The dynamic loader where synwall-dp's PT_INTERP says, libgcc_s for pthread_cancel,
    # the uio modules, an executable /init.
    assert entries["lib64"] == ("link", "usr/lib64")
    assert "usr/lib64/ld-linux-x86-64.so.2" in entries
    assert "usr/lib/x86_64-linux-gnu/libgcc_s.so.1" in entries
    assert entries["modules/uio_pci_generic.ko"][0] == "file"
    assert entries["init"][0] == "file"
    assert entries["usr/bin/synwall-dp"][0] == "file"


def _kernel_or_skip():
    try:
        return guest.find_kernel()
    except FileNotFoundError as e:
        pytest.skip("no guest kernel: %s" % e)


def _read_cpio(path):
    """{name: (kind, link target or None)} of a gzip'ed newc archive."""
    import gzip
    import stat
    data = gzip.decompress(Path(path).read_bytes())
    out, off = {}, 0
    while True:
        assert data[off:off + 6] == b"070701", "bad newc header at %d" % off
        f = [int(data[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        mode, fsize, nsize = f[1], f[6], f[11]
        name = data[off + 110: off + 110 + nsize - 1].decode()
        off += 110 + nsize
        off += -off % 4
        body = data[off: off + fsize]
        off += fsize
        off += -off % 4
        if name == "TRAILER!!!":
            return out
        kind = "link" if stat.S_ISLNK(mode) else "dir" if stat.S_ISDIR(mode) else "file"
        out[name] = (kind, body.decode() if kind == "link" else None)


# --- the run ----------------------------------------------------------------------------------

class Guest:
    def __init__(self, workdir: Path, ns: str):
        self.dir, self.ns = workdir, ns
        self.console = workdir / "console.log"
        self.ctl = workdir / "ctl.sock"
        self.proc = None
        self.start = time.monotonic()

    def boot(self, kernel, initrd, model):
        cmd = ["ip", "netns", "exec", self.ns, QEMU,
               "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2", "-m", "768",
               "-nodefaults", "-no-reboot", "-display", "none",
               "-kernel", kernel, "-initrd", str(initrd),
               "-append", "console=ttyS0 hugepages=%d panic=-1 quiet" % GUEST_HUGEPAGES,
               "-serial", "file:%s" % self.console,
               "-serial", "unix:%s,server=on,wait=off" % self.ctl,
               # vnet_hdr=off: QEMU's e1000e would otherwise hand its TX checksum offload
               # to the host tap (a virtio-net header), and the frames read here would carry
               # an unfinished checksum, as on a veth; a NIC on a wire completes them.
               "-netdev", "tap,id=out,ifname=swhwout,script=no,downscript=no,vnet_hdr=off",
               "-device", model + ",netdev=out,mac=52:54:00:5e:00:01,addr=3",
               "-netdev", "tap,id=in,ifname=swhwin,script=no,downscript=no,vnet_hdr=off",
               "-device", model + ",netdev=in,mac=52:54:00:5e:00:02,addr=4"]
        self.qemu_log = open(self.dir / "qemu.log", "w")
        self.proc = subprocess.Popen(cmd, stdout=self.qemu_log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def text(self):
        try:
            return self.console.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def left(self, timeout):
        return max(0.0, min(timeout, DEADLINE - (time.monotonic() - self.start)))

    def wait_for(self, what, timeout):
        end = time.monotonic() + self.left(timeout)
        while time.monotonic() < end:
            t = self.text()
            if what(t):
                return t
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail("guest: timed out or QEMU ended (rc %s) waiting; console:\n%s\nqemu:\n%s"
                    % (self.proc.poll(), self.text()[-4000:],
                       (self.dir / "qemu.log").read_text()[-2000:]))

    def stop_dataplane(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(self.ctl))
        s.sendall(b"stop\n")
        s.close()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        if self.proc:
            self.qemu_log.close()


@pytest.fixture
def netns():
    reason = why_qemu_cannot_run()
    if reason:
        pytest.skip("QEMU cannot run here: " + reason)
    name = "swhw%d" % os.getpid()
    sh("ip", "netns", "add", name)
    try:
        for tap in ("swhwout", "swhwin"):
            sh("ip", "netns", "exec", name, "ip", "tuntap", "add", "dev", tap, "mode", "tap")
            # No IPv6 on the taps: the host kernel would send router solicitations and MLD
            # reports into them, which synwall would (rightly) bridge.
            sh("ip", "netns", "exec", name, "sysctl", "-qw",
               "net.ipv6.conf.%s.disable_ipv6=1" % tap)
            sh("ip", "netns", "exec", name, "ip", "link", "set", tap, "up")
        yield name
    finally:
        sh("ip", "netns", "del", name, check=False)


def recv_tcp(sock, timeout, want):
    """The first received (not sent) frame for which want(raw) holds, or None."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            raw, addr = sock.recvfrom(65535)
        except TimeoutError:
            return None
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        if want(raw):
            return raw


def is_tcp_to(sport, dport, flags):
    def want(raw):
        try:
            p = parse_tcp(raw)
        except Exception:  # noqa: BLE001 - not TCP over IPv4/IPv6
            return False
        return p.sport == sport and p.dport == dport and p.flags == flags
    return want


# QEMU model -> (PCI id as sysfs shows it, as EAL prints it). Both are net_e1000_em devices.
MODELS = {
    "e1000": ("0x8086:0x100e", "8086:100e"),    # 82540EM
    "e1000e": ("0x8086:0x10d3", "8086:10d3"),   # 82574L
}


@pytest.mark.parametrize("model", list(MODELS))
def test_synwall_dp_on_emulated_intel_nic(netns, model):
    sysfs_id, eal_id = MODELS[model]
    if not DP_BIN.exists():
        pytest.fail("%s is not built: run scripts/setup.sh" % DP_BIN)
    kernel, rel = guest.find_kernel()
    work = Path(tempfile.mkdtemp(prefix="swhw-"))  # short: unix socket paths are limited
    g = Guest(work, netns)
    try:
        initrd = work / "initrd.gz"
        guest.build_initramfs(str(initrd), str(DP_BIN), DP_ARGS, kernel_release=rel,
                              pci_ids=(sysfs_id,))
        out_s, in_s = in_netns(netns, lambda: (raw_socket("swhwout"), raw_socket("swhwin")))
        g.boot(kernel, initrd, model)
        console = g.wait_for(lambda t: guest.READY_MARK.search(t) or "SWG-DP-EXIT" in t,
                             BOOT_TIMEOUT)
        assert guest.READY_MARK.search(console), "synwall-dp did not start:\n" + console
        boot_s = time.monotonic() - g.start

        # The guest kernel reserved the hugepages, both NICs went to uio_pci_generic, and
        # DPDK's e1000 PMD (not a vdev) drives them.
        assert "hugepages %d reserved" % GUEST_HUGEPAGES in console, console
        # -cpu max: Debian's DPDK needs SSE4.2 (QEMU's default model has none: SIGILL).
        assert re.search(r"SWG: cpu flags: .*sse4_2", console), console
        for pci in (OUTSIDE_PCI, INSIDE_PCI):
            assert "bound %s (%s) to uio_pci_generic" % (pci, sysfs_id) in console, console
            assert "Probe PCI driver: net_e1000_em (%s) device: %s" % (eal_id, pci) \
                in console, console
        assert "outside port 0 (net_e1000_em)" in console, console
        assert "inside port 1 (net_e1000_em)" in console, console

        # 1. SYN to the proxy port: a cookie SYN-ACK comes back out of the outside NIC.
        s80 = syn(sport=40080, dport=80, isn=0x12345678, options=ALL_OPTS)
        out_s.send(bytes(s80))
        raw = recv_tcp(out_s, g.left(REPLY_TIMEOUT), is_tcp_to(80, 40080, 0x12))
        assert raw is not None, "no SYN-ACK on the outside tap; console:\n" + g.text()
        sa80 = check_synack(raw, s80)  # every field, and seq == cookie_ref's cookie
        assert cookie_ref.verify(TEST_KEY, s80["IP"].src, s80["IP"].dst, 40080, 80,
                                 0x12345678, sa80.seq)
        assert not cookie_ref.verify("ff" * 16, s80["IP"].src, s80["IP"].dst, 40080, 80,
                                     0x12345678, sa80.seq), "cookie does not depend on key"

        # 2. Its ACK (syncache entry): the server SYN leaves the inside NIC.
        our_tsval, _ = ts_option(sa80)
        a80 = ack_for(s80, sa80.seq, window=400, options=[
            ("NOP", None), ("NOP", None), ("Timestamp", (ACK_TSVAL, our_tsval))])
        out_s.send(bytes(a80))
        raw = recv_tcp(in_s, g.left(REPLY_TIMEOUT), is_tcp_to(40080, 80, TCP_SYN))
        assert raw is not None, "no server SYN on the inside tap; console:\n" + g.text()
        # The syncache kept the client's exact MSS (1400, less 12 for the timestamps an
        # unknown server may not do) and shift 7.
        check_server_syn(raw, a80, isn=0x12345678, mss=1400 - 12, sack=True,
                         ts_val=ACK_TSVAL, wscale=7, window=400 << 7)

        # 3. The cookie port keeps no entry: the ACK opens the server side by its cookie.
        s443 = syn(sport=40443, dport=443, isn=0x0BADF00D, options=[("MSS", 1460)])
        out_s.send(bytes(s443))
        raw = recv_tcp(out_s, g.left(REPLY_TIMEOUT), is_tcp_to(443, 40443, 0x12))
        assert raw is not None, "no SYN-ACK from the cookie port; console:\n" + g.text()
        sa443 = check_synack(raw, s443)
        a443 = ack_for(s443, sa443.seq)
        out_s.send(bytes(a443))
        raw = recv_tcp(in_s, g.left(REPLY_TIMEOUT), is_tcp_to(40443, 443, TCP_SYN))
        assert raw is not None, "the cookie ACK opened nothing; console:\n" + g.text()
        check_server_syn(raw, a443, isn=0x0BADF00D, mss=1460, sack=False, ts_val=None,
                         wscale=None, window=502)

        # 4. An ACK whose cookie is one bit off opens nothing.
        s_bad = syn(sport=40444, dport=443, isn=0x01010101, options=[("MSS", 1460)])
        bad = ack_for(s_bad, cookie_ref.cookie(TEST_KEY, s_bad["IP"].src, s_bad["IP"].dst,
                                               40444, 443, 0x01010101, mss=1460) ^ 0x100)
        out_s.send(bytes(bad))
        assert recv_tcp(in_s, g.left(3), is_tcp_to(40444, 443, TCP_SYN)) is None, \
            "a forged cookie opened the server side"

        # 5. Stop synwall-dp in the guest; its counters come back on the console.
        g.stop_dataplane()
        console = g.wait_for(lambda t: guest.STATS_END in t, STOP_TIMEOUT)
        res = guest.parse_console(console)
        assert res["exit"] == 0, "synwall-dp exit %s:\n%s" % (res["exit"], console[-3000:])
        assert res["stats"] is not None, "no stats JSON on the console:\n" + console[-3000:]
        total = res["stats"]["total"]
        want = {"syncache.added": 1, "syncache.sendcookie": 1, "syncache.completed": 2,
                "syncache.recvcookie": 1, "cookie.failed": 1, "syncache.badack": 0,
                "proxy.opened": 2}
        assert {k: total.get(k) for k in want} == want, total
        assert total["port.outside_rx"] >= 5, total
        assert total["port.inside_tx"] >= 2, total
        assert total["port.outside_tx"] >= 2, total
        assert [lc["lcore"] for lc in res["stats"]["lcores"]] == [1]
        g.wait_for(lambda t: "reboot: Power down" in t or g.proc.poll() is not None, 30)
        elapsed = time.monotonic() - g.start
        print("%s: guest booted to a running dataplane in %.1f s, whole run %.1f s"
              % (model, boot_s, elapsed))
        assert elapsed < DEADLINE
    finally:
        g.kill()
        shutil.rmtree(work, ignore_errors=True)

"""Packet capture of a running dataplane with dpdk-dumpcap (rte_pdump): both ports, RX and
TX, a BPF filter, pcapng read back byte for byte; and the one line that says why capture is
unavailable under --no-huge (no secondary process can attach to anonymous memory)."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from scapy.layers.inet import TCP, UDP
from scapy.utils import rdpcap

from tests.traffic.dpharness import (
    TEST_KEY,
    DpProcess,
    dp_command,
    new_prefix,
    wait_for,
    write_pcap,
)
from tests.traffic.expect import check_synack
from tests.traffic.pktutil import CLIENT4, CLIENT_MAC, IP, SERVER4, SERVER_MAC, Ether, syn

HUGE_SYSFS = Path("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")
PAGES = 160     # 320 MB: the dataplane's -m 256 and the capture's own pool


@pytest.fixture
def hugepages(tmp_path):
    """2 MB pages reserved and a hugetlbfs mounted for one test, given back after."""
    if shutil.which("dpdk-dumpcap") is None:
        pytest.skip("dpdk-dumpcap is not installed (Debian's dpdk package has it)")
    before = int(HUGE_SYSFS.read_text())
    HUGE_SYSFS.write_text(str(before + PAGES))
    mount = tmp_path / "huge"
    mount.mkdir()
    try:
        if int(HUGE_SYSFS.read_text()) - before < PAGES:
            pytest.skip("the kernel gave fewer than %d hugepages" % PAGES)
        subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", str(mount)],
                       check=True)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        HUGE_SYSFS.write_text(str(before))


def capture(prefix, out, *args, count):
    r = subprocess.run(["dpdk-dumpcap", "--file-prefix=" + prefix, *args, "-c", str(count),
                        "-q", "-w", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return rdpcap(str(out))


def test_dumpcap_captures_both_ports_and_filters(hugepages, tmp_path):
    syns = [syn(sport=41000 + i, isn=0x1000 + i, options=[("MSS", 1460)]) for i in range(4)]
    udp = Ether(src=CLIENT_MAC, dst=SERVER_MAC) / IP(src=CLIENT4, dst=SERVER4) / \
        UDP(sport=5353, dport=5353) / b"bridged"
    # (short paths: a secondary process probes the vdevs again from their arguments, which
    # EAL keeps in 64 bytes or less)
    work = Path(tempfile.mkdtemp(prefix="swcap", dir="/tmp"))
    write_pcap(work / "outside_in.pcap", syns + [udp])
    write_pcap(work / "inside_in.pcap", [])
    prefix = new_prefix()
    cmd = dp_command(work, prefix, ["--protect", "80:cookie", "--key", TEST_KEY, "--mbufs",
                                    "8192"], idle_ms=None, outside_devargs=",infinite_rx=1")
    at = cmd.index("--no-huge")
    cmd[at:at + 3] = ["--huge-dir", str(hugepages), "-m", "256"]
    p = DpProcess(work, prefix, cmd)
    try:
        assert wait_for(lambda: "worker(s)" in (work / "stdout.txt").read_text(), 30), \
            p.stderr()
        # the outside port, RX and TX: the SYNs and the UDP frame in, the SYN-ACKs out
        # (dumpcap enables one direction after the other: the first packets may all be of
        # the first)
        got = [bytes(f) for f in capture(prefix, tmp_path / "out.pcapng", "-i", "net_pcap0",
                                         count=3000)]
        seen = {bytes(s) for s in syns} & set(got)
        assert seen == {bytes(s) for s in syns}, "not every SYN captured"
        assert bytes(udp) in got, "the UDP frame not captured coming in"
        synacks = [f for f in got if Ether(f).haslayer(TCP) and Ether(f)[TCP].flags == "SA"]
        assert len(synacks) > 100, "SYN-ACKs not captured"
        for f in synacks[:16]:
            check_synack(f, syns[Ether(f)[TCP].dport - 41000])
        # the inside port: the UDP frame bridged, byte for byte
        got = [bytes(f) for f in capture(prefix, tmp_path / "in.pcapng", "-i", "net_pcap1",
                                         count=50)]
        assert got and set(got) == {bytes(udp)}, got[:3]
        # a BPF filter, compiled by dumpcap and run in the dataplane: only the UDP frame
        got = [bytes(f) for f in capture(prefix, tmp_path / "udp.pcapng", "-i", "net_pcap0",
                                         "-f", "udp", count=40)]
        assert len(got) >= 40 and set(got) == {bytes(udp)}, got[:3]
        assert p.alive(), p.stderr()
    finally:
        p.close()
        shutil.rmtree(work, ignore_errors=True)


def test_no_huge_says_capture_is_unavailable(run_dp):
    r = run_dp(outside=[syn()], args=["--protect", "80", "--key", TEST_KEY])
    assert "synwall-dp: packet capture (dpdk-dumpcap) unavailable: no secondary process " \
           "can attach under --no-huge (it needs hugepages)" in r.stdout, r.stdout

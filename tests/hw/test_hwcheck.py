"""hw.pmdinfo against the real PMD files of the installed DPDK, hw/nics.toml against them, and
synwall-hwcheck (python3 -m hw.check) against fixture sysfs/procfs trees."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hw import nics, pmdinfo
from tests.hw.hwfixtures import PMD_DIR, REPO, FakeHost


@pytest.fixture(scope="module")
def pmds():
    if not PMD_DIR.is_dir():
        pytest.fail("%s missing: Debian's dpdk package is not installed (scripts/setup.sh)"
                    % PMD_DIR)
    return pmdinfo.load()


def names_claiming(pmds, spec):
    v, d = nics.parse_id(spec)
    return sorted(p.name for p in pmdinfo.claimed_by(pmds, v, d))


# --- the PMD files -----------------------------------------------------------------------------

@pytest.mark.parametrize("spec,want", [
    ("8086:10fb", ["net_ixgbe"]),          # 82599ES SFP+ (X520-DA2)
    ("8086:1592", ["net_ice"]),            # E810-C QSFP
    ("8086:100e", ["net_e1000_em"]),       # 82540EM
    ("8086:10d3", ["net_e1000_em"]),       # 82574L
    ("8086:1521", ["net_e1000_igb"]),      # I350
    ("8086:1572", ["net_i40e"]),           # X710 SFP+
    ("8086:10ed", ["net_ixgbe_vf"]),       # 82599 VF: a VF PMD, not net_ixgbe
    ("1af4:1000", ["net_virtio"]),         # virtio-net (legacy)
    ("8086:1015", []),                     # 82540EM LOM: DPDK does not list it
])
def test_installed_pmds_claim(pmds, spec, want):
    assert names_claiming(pmds, spec) == want


def test_pmd_records_carry_kernel_modules_and_paths(pmds):
    ixgbe = [p for p in pmds if p.name == "net_ixgbe"]
    assert len(ixgbe) == 1
    assert Path(ixgbe[0].path).name.startswith("librte_net_ixgbe.so")
    assert "vfio-pci" in ixgbe[0].kmods and "uio_pci_generic" in ixgbe[0].kmods
    assert len(ixgbe[0].pci_ids) > 30
    # Each library is read once (the .so / .so.23 symlinks are skipped): no duplicates.
    names = [p.name for p in pmds]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_pmdinfo_agrees_with_dpdk_pmdinfo_py(pmds):
    """DPDK's own reader (dpdk-dev's dpdk-pmdinfo.py) as the oracle, on the libraries of the
    families synwall supports and on virtio."""
    tool = shutil.which("dpdk-pmdinfo.py")
    if tool is None:
        pytest.skip("dpdk-pmdinfo.py not installed (Debian package dpdk-dev)")
    libs = [PMD_DIR / ("librte_net_%s.so.23.0" % n)
            for n in ("e1000", "ixgbe", "i40e", "ice", "virtio")]
    r = subprocess.run(["/usr/bin/python3", tool] + [str(p) for p in libs],
                       capture_output=True, text=True, check=True)
    oracle = {e["name"]: sorted((int(i["vendor"], 16), int(i["device"], 16))
                                for i in e.get("pci_ids", [])) for e in json.loads(r.stdout)}
    ours = {p.name: sorted(set(i[:2] for i in p.pci_ids)) for p in pmds
            if Path(p.path).name in {lib.name for lib in libs}}
    assert set(ours) == set(oracle)
    for name in oracle:
        assert ours[name] == sorted(set(oracle[name])), name


def test_reader_finds_nothing_in_a_non_pmd_elf(tmp_path):
    assert pmdinfo.read_pmd_strings(sys.executable) == []
    junk = tmp_path / "junk.so"
    junk.write_bytes(b"not an ELF file PMD_INFO_STRING={}")
    assert pmdinfo.read_pmd_strings(str(junk)) == []


# --- nics.toml and SUPPORTED.md ------------------------------------------------------------------

def test_every_listed_device_is_claimed_by_its_familys_pmd(pmds):
    doc = nics.load()
    wrong = []
    for dev in nics.devices(doc):
        got = names_claiming(pmds, dev.id)
        if dev.family["pmd"] not in got:
            wrong.append("%s (%s): listed under %s, claimed by %s"
                         % (dev.id, dev.name, dev.family["pmd"], got or "nothing"))
    assert not wrong, "\n".join(wrong)
    # and the PMD's library is the one named
    for fam in doc["family"]:
        libs = {Path(p.path).name.split(".so")[0] for p in pmds if p.name == fam["pmd"]}
        assert libs == {fam["library"]}, fam["id"]


def test_families_cover_the_supported_devices_and_say_how_they_ran():
    doc = nics.load()
    fams = {f["id"]: f for f in doc["family"]}
    assert set(fams) == {"e1000", "igb", "ixgbe", "i40e", "ice"}
    for want in ("8086:100e", "8086:10d3", "8086:10c9", "8086:1521", "8086:10fb",
                 "8086:1528", "8086:1572", "8086:1583", "8086:158b", "8086:1592"):
        assert nics.lookup(doc, *nics.parse_id(want)) is not None, want
    # The emulated run of tests/hw/test_qemu_e1000.py is the only run so far.
    assert fams["e1000"]["run"] == "emulated"
    assert "test_qemu_e1000.py" in fams["e1000"]["run_detail"]
    assert not fams["e1000"]["rss"] and fams["e1000"]["workers"] == 1
    assert fams["ice"]["rss_key_bytes"] == fams["i40e"]["rss_key_bytes"] == 52
    assert fams["ixgbe"]["rss_key_bytes"] == fams["igb"]["rss_key_bytes"] == 40


def test_supported_md_is_rendered_from_nics_toml(tmp_path):
    assert nics.main(["check"]) == 0, "run: python3 -m hw.nics render"
    md = nics.SUPPORTED_MD.read_text()
    for fam in nics.load()["family"]:
        assert "`%s`" % fam["pmd"] in md
        for d in fam["devices"]:
            assert "`%s`" % d["id"] in md
    # A change in nics.toml shows as a stale SUPPORTED.md.
    doc = nics.load()
    doc["family"][2]["run"] = "real"
    assert nics.splice(md, nics.render(doc)) != md


def test_nics_toml_validation_catches_inconsistent_workers(tmp_path):
    bad = nics.NICS_TOML.read_text().replace("workers = 16", "workers = 12", 1)
    p = tmp_path / "nics.toml"
    p.write_text(bad)
    with pytest.raises(ValueError, match="workers 12"):
        nics.load(p)


# --- the check tool on fixture trees ------------------------------------------------------------

IXGBE, ICE, VIRTIO, BRIDGE = "0000:03:00.0", "0000:81:00.0", "0000:00:03.0", "0000:00:00.0"


@pytest.fixture
def host(tmp_path):
    h = FakeHost(tmp_path / "host")
    h.add_pci(BRIDGE, 0x8086, 0x1237, cls=0x060000)                 # host bridge: not listed
    h.add_pci(VIRTIO, 0x1AF4, 0x1000, driver="virtio-pci", ifname="eth0", subsys=(0x1AF4, 1))
    h.add_pci(IXGBE, 0x8086, 0x10FB, driver="ixgbe", ifname="enp3s0f0", numa=0)
    h.add_pci(ICE, 0x8086, 0x1592, driver="vfio-pci", numa=1, iommu_group=42)
    h.add_default_route("eth0")
    h.set_hugepages(1024, 1000)
    h.add_mount("hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0")
    (tmp_path / "fw").mkdir()
    return h


def run_check(h, *extra, fw=None):
    fw = fw or (h.root.parent / "fw")
    r = subprocess.run([sys.executable, "-m", "hw.check", *h.args(),
                        "--firmware-root", str(fw), *extra],
                       capture_output=True, text=True, cwd=REPO, timeout=60)
    return r


def by_pci(res):
    return {d["pci"]: d for d in res["devices"]}


def test_check_sees_the_default_route_through_a_bridge(host):
    host.add_virtual_netdev("br0", ["enp3s0f0"], master=True)
    host.add_route({"dst": "default", "gateway": "198.18.3.1", "dev": "br0", "table": "50",
                    "flags": []})
    ix = by_pci(json.loads(run_check(host, "--json").stdout))[IXGBE]
    assert ix["default_route"] == ["enp3s0f0"]
    assert "but it carries the default route (enp3s0f0): keep it for the host" in ix["why"]


def test_check_reports_each_network_device(host):
    r = run_check(host, "--json")
    assert r.returncode == 1, r.stdout + r.stderr      # only one port ready
    res = json.loads(r.stdout)
    devs = by_pci(res)
    assert list(devs) == [VIRTIO, IXGBE, ICE], "sorted by address, class 0x02 only"

    ix = devs[IXGBE]
    assert (ix["supported"], ix["status"], ix["pmd"], ix["family"]) == \
        (True, "not-bound", "net_ixgbe", "ixgbe")
    assert (ix["kernel_driver"], ix["dpdk_bound"], ix["numa_node"]) == ("ixgbe", False, 0)
    assert ix["interfaces"] == ["enp3s0f0"] and ix["default_route"] == []
    assert "synwall-prepare-host %s" % IXGBE in ix["why"]

    ice = devs[ICE]
    assert (ice["supported"], ice["status"], ice["pmd"]) == (True, "ready", "net_ice")
    assert (ice["kernel_driver"], ice["dpdk_bound"], ice["numa_node"]) == ("vfio-pci", True, 1)
    assert ice["iommu_group"] == "42"
    assert ice["ddp_package"] is None and "safe mode" in ice["why"]

    vio = devs[VIRTIO]
    assert (vio["supported"], vio["status"], vio["pmd"]) == (False, "unsupported", "net_virtio")
    assert vio["default_route"] == ["eth0"] and vio["kernel_driver"] == "virtio-pci"

    assert res["verdict"] == {"ready": False, "ports": [ICE], "reasons": [
        "1 supported port(s) bound to a DPDK driver, synwall needs 2 (outside and inside)"]}
    assert res["hugepages"]["status"] == "ok" and res["hugepages"]["usable_kb"] == [2048]
    assert res["iommu"]["state"] == "on" and res["iommu"]["driver"] == "vfio-pci"
    assert res["cpu"]["status"] == "ok" and res["cpu"]["missing"] == []
    assert res["dpdk"]["status"] == "ok" and "net_ixgbe" in res["dpdk"]["net_pmds"]
    assert res["kernel_modules"]["vfio-pci"] is True       # its driver folder exists
    assert res["kernel_modules"]["uio_pci_generic"] is False


def test_check_ready_once_two_supported_ports_are_bound(host, tmp_path):
    host.bind(IXGBE, "uio_pci_generic")
    fw = tmp_path / "fw"
    (fw / "intel/ice/ddp").mkdir(parents=True)
    (fw / "intel/ice/ddp/ice.pkg").write_bytes(b"DDP")
    r = run_check(host, "--json", fw=fw)
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads(r.stdout)
    assert res["verdict"] == {"ready": True, "ports": [IXGBE, ICE], "reasons": []}
    assert by_pci(res)[ICE]["ddp_package"] == str(fw / "intel/ice/ddp/ice.pkg")
    assert by_pci(res)[IXGBE]["interfaces"] == []     # the kernel netdev went with ixgbe
    text = run_check(host, fw=fw).stdout
    lines = text.splitlines()
    assert lines[-1] == "verdict: READY: ports %s, %s" % (IXGBE, ICE)
    assert any(ln.lstrip().startswith("[ready]") and IXGBE in ln and "uio_pci_generic" in ln
               for ln in lines), text
    assert any(ln.lstrip().startswith("[unsupported]") and VIRTIO in ln and
               "DEFAULT ROUTE" in ln for ln in lines), text


def test_check_named_ports(host):
    # --ports by interface name and by short PCI address.
    res = json.loads(run_check(host, "--json", "--ports", "enp3s0f0,81:00.0").stdout)
    assert res["verdict"]["ready"] is False
    assert res["verdict"]["reasons"] == [
        "port %s: %s" % (IXGBE, by_pci(res)[IXGBE]["why"])]
    res = json.loads(run_check(host, "--json", "--ports", "81:00.0,eth0").stdout)
    [reason] = res["verdict"]["reasons"]
    assert reason.startswith("port %s: 1af4:1000 is not an Intel NIC synwall supports" % VIRTIO)
    r = run_check(host, "--json", "--ports", "%s,nosuch0" % ICE)
    assert r.returncode == 1
    assert json.loads(r.stdout)["verdict"]["reasons"] == [
        "port nosuch0: no such PCI device or interface"]
    r = run_check(host, "--json", "--ports", ICE)
    assert r.returncode == 0, r.stdout


@pytest.mark.parametrize("case", ["none_reserved", "not_mounted", "wrong_size_mounted"])
def test_check_hugepages(host, case):
    host.bind(IXGBE, "vfio-pci")
    if case == "none_reserved":
        host.set_hugepages(0, 0)
    elif case == "not_mounted":
        host.set_mounts([])
    else:
        host.set_mounts(["hugetlbfs /mnt/huge1g hugetlbfs rw,relatime,pagesize=1024M 0 0"])
    r = run_check(host, "--json")
    res = json.loads(r.stdout)
    assert r.returncode == 1
    assert res["hugepages"]["status"] == "FAIL"
    assert [x for x in res["verdict"]["reasons"] if x.startswith("hugepages:")], res["verdict"]
    text = run_check(host).stdout
    assert "[FAIL] hugepages:" in text and "verdict: NOT READY" in text


def test_check_cpu_baseline_and_iommu(host):
    host.bind(IXGBE, "vfio-pci")
    host.set_cpu_flags("fpu sse sse2 ssse3 sse4_1 popcnt")          # no sse4_2, no avx2
    shutil.rmtree(host.sys / "kernel/iommu_groups")
    res = json.loads(run_check(host, "--json").stdout)
    assert res["cpu"]["status"] == "FAIL" and res["cpu"]["missing"] == ["sse4_2"]
    assert "avx2" in res["cpu"]["optional_absent"]
    assert any("sse4_2" in x for x in res["verdict"]["reasons"])
    assert res["iommu"]["state"] == "off" and res["iommu"]["driver"] == "uio_pci_generic"
    # The 82599 has no IOMMU group and the host none at all: its vfio-pci binding cannot
    # work without no-IOMMU mode.
    ix = by_pci(res)[IXGBE]
    assert ix["status"] == "bound-no-iommu", ix


def test_check_without_dpdk(host, tmp_path):
    empty = tmp_path / "nodpdk"
    empty.mkdir()
    res = json.loads(run_check(host, "--json", "--pmd-dir", str(empty)).stdout)
    assert res["dpdk"]["status"] == "FAIL"
    assert by_pci(res)[IXGBE]["status"] == "no-pmd"
    assert by_pci(res)[VIRTIO]["status"] == "unsupported"
    assert "no installed DPDK PMD claims it" in by_pci(res)[VIRTIO]["why"]


def test_check_on_this_machine_reads_only():
    """The real /sys and /proc: runs, lists every class-0x02 device, says a verdict."""
    r = subprocess.run([sys.executable, "-m", "hw.check", "--json"], capture_output=True,
                       text=True, cwd=REPO, timeout=60)
    assert r.returncode in (0, 1), r.stderr
    res = json.loads(r.stdout)
    real = sorted(p.name for p in Path("/sys/bus/pci/devices").iterdir()
                  if (p / "class").read_text().startswith("0x02"))
    assert [d["pci"] for d in res["devices"]] == real
    assert isinstance(res["verdict"]["ready"], bool)

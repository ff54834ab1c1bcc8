"""9. A bad option or value: one line `synwall-dp: <option>: <reason>` on stderr, exit 2, and
no port ever started (no packet written although both rx pcaps hold traffic)."""

import re
import subprocess

import pytest

from tests.traffic.dpharness import DP_BIN, TEST_KEY
from tests.traffic.expect import check_synack
from tests.traffic.pktutil import CLIENT4, IP, SERVER4, UDP, Ether, syn

OK = ["--key", TEST_KEY]

# name -> (application arguments, the option the error line must name)
BAD = {
    "unknown_option": (["--protect", "80", "--bogus-option", "1"] + OK, "--bogus-option"),
    "hashsize_not_power_of_2": (["--protect", "80", "--hashsize", "1000"] + OK, "--hashsize"),
    "hashsize_0": (["--protect", "80", "--hashsize", "0"] + OK, "--hashsize"),
    "hashsize_too_big": (["--protect", "80", "--hashsize", "2097152"] + OK, "--hashsize"),
    "cachelimit_above_hash_times_bucket": (
        ["--protect", "80", "--hashsize", "64", "--bucketlimit", "4", "--cachelimit", "257"]
        + OK, "--cachelimit"),
    "bucketlimit_256": (["--protect", "80", "--bucketlimit", "256"] + OK, "--bucketlimit"),
    "protect_port_0": (["--protect", "0"] + OK, "--protect"),
    "protect_port_70000": (["--protect", "70000"] + OK, "--protect"),
    "protect_bad_mode": (["--protect", "80:bogus"] + OK, "--protect"),
    "protect_empty_item": (["--protect", "80,,443"] + OK, "--protect"),
    "protect_range_reversed": (["--protect", "90-80"] + OK, "--protect"),
    "key_31_digits": (["--protect", "80", "--key", TEST_KEY[:31]], "--key"),
    "key_33_digits": (["--protect", "80", "--key", TEST_KEY + "0"], "--key"),
    "key_not_hex": (["--protect", "80", "--key", "zz" + TEST_KEY[2:]], "--key"),
    "mss_abc": (["--protect", "80", "--mss", "abc"] + OK, "--mss"),
    "mss_535": (["--protect", "80", "--mss", "535"] + OK, "--mss"),
    "mss_9001": (["--protect", "80", "--mss", "9001"] + OK, "--mss"),
    "mss_trailing_junk": (["--protect", "80", "--mss", "1460x"] + OK, "--mss"),
    "wscale_15": (["--protect", "80", "--wscale", "15"] + OK, "--wscale"),
    "rexmtlimit_11": (["--protect", "80", "--rexmtlimit", "11"] + OK, "--rexmtlimit"),
    "syncookies_2": (["--protect", "80", "--syncookies", "2"] + OK, "--syncookies"),
    "flows_63": (["--protect", "80", "--flows", "63"] + OK, "--flows"),
    "rotate_0": (["--protect", "80", "--rotate", "0"] + OK, "--rotate"),
    "idle_sleep_too_long": (["--protect", "80", "--idle-sleep", "10001"] + OK, "--idle-sleep"),
    "idle_sleep_negative": (["--protect", "80", "--idle-sleep", "-1"] + OK, "--idle-sleep"),
    "master_short": (["--protect", "80", "--master", "abcd"], "--master"),
    "server_retries_11": (["--protect", "80", "--server-retries", "11"] + OK, "--server-retries"),
    "state_empty": (["--protect", "80", "--state", ""] + OK, "--state"),
    "state_in_no_directory": (["--protect", "80", "--state", "/nonexistent/dir/tables"] + OK,
                              "--state"),
    "cookie_check_rate_over": (["--protect", "80", "--cookie-check-rate", "100000001"] + OK,
                               "--cookie-check-rate"),
    "cookie_check_rate_negative": (["--protect", "80", "--cookie-check-rate", "-5"] + OK,
                                   "--cookie-check-rate"),
    "profile_without_at": (["--protect", "80", "--profile", "80"] + OK, "--profile"),
    "profile_mss_100": (["--protect", "80", "--profile", "80@mss=100"] + OK, "--profile"),
    "profile_ws_15": (["--protect", "80", "--profile", "80@ws=15"] + OK, "--profile"),
    "profile_unknown_key": (["--protect", "80", "--profile", "80@colour=red"] + OK,
                            "--profile"),
    "profile_sack_2": (["--protect", "80", "--profile", "80@sack=2"] + OK, "--profile"),
    "profile_port_0": (["--protect", "80", "--profile", "0@ts=1"] + OK, "--profile"),
    "profile_empty_item": (["--protect", "80", "--profile", "80,,81@ts=0"] + OK, "--profile"),
    "profile_no_ports": (["--protect", "80", "--profile", "@ts=0"] + OK, "--profile"),
    "unparsed_bridge": (["--protect", "80", "--unparsed", "bridge"] + OK, "--unparsed"),
    "unparsed_empty": (["--protect", "80", "--unparsed", ""] + OK, "--unparsed"),
    "source_prefix_one_length": (["--protect", "80", "--source-prefix", "32"] + OK,
                                 "--source-prefix"),
    "source_prefix_no_v4": (["--protect", "80", "--source-prefix", ",64"] + OK,
                            "--source-prefix"),
    "source_prefix_v4_7": (["--protect", "80", "--source-prefix", "7,64"] + OK,
                           "--source-prefix"),
    "source_prefix_v4_33": (["--protect", "80", "--source-prefix", "33,64"] + OK,
                            "--source-prefix"),
    "source_prefix_v6_15": (["--protect", "80", "--source-prefix", "24,15"] + OK,
                            "--source-prefix"),
    "source_prefix_v6_129": (["--protect", "80", "--source-prefix", "24,129"] + OK,
                             "--source-prefix"),
    "source_prefix_three": (["--protect", "80", "--source-prefix", "24,48,64"] + OK,
                            "--source-prefix"),
    "source_flows_abc": (["--protect", "80", "--source-flows", "abc"] + OK, "--source-flows"),
    "source_flows_above_flows": (["--protect", "80", "--flows", "1024", "--source-flows",
                                  "1025"] + OK, "--source-flows"),
    "source_halfopen_above_syncache": (
        ["--protect", "80", "--hashsize", "64", "--bucketlimit", "4", "--source-halfopen",
         "257"] + OK, "--source-halfopen"),
    "source_halfopen_negative": (["--protect", "80", "--source-halfopen", "-1"] + OK,
                                 "--source-halfopen"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_option_exits_2_with_one_line(run_dp, case):
    args, option = BAD[case]
    # Traffic on both rx pcaps: had a port started, something would have been written.
    outside = [syn(options=[("MSS", 1460)]), syn(dport=22)]
    inside = [Ether() / IP(src=SERVER4, dst=CLIENT4) / UDP(sport=1, dport=2)]
    r = run_dp(outside=outside, inside=inside, args=args, expect_rc=2, timeout=30)

    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, "want exactly one stderr line, got %d:\n%s" % (len(lines), r.stderr)
    assert lines[0].startswith("synwall-dp: %s: " % option), \
        "want `synwall-dp: %s: <reason>`, got %r" % (option, lines[0])
    assert len(lines[0]) > len("synwall-dp: %s: " % option), "no reason given"
    for name, frames in (("outside", r.outside_raw), ("inside", r.inside_raw)):
        assert not frames, "%s tx pcap holds %d frames: a port was started" % (
            name, len(frames))


def test_good_options_accepted(run_dp):
    # Every documented option with a valid value, at the edges of the ranges.
    args = ["--outside", "0", "--inside", "1", "--protect", "80,443:cookie,1-10:drop,65535",
            "--hashsize", "1024", "--bucketlimit", "255", "--cachelimit", "261120",
            "--rexmtlimit", "10", "--syncookies", "1", "--syncookies-only", "0",
            "--mss", "9000", "--wscale", "14", "--flows", "64", "--key", TEST_KEY.upper(),
            "--rotate", "86400", "--mbufs", "8191", "--source-prefix", "8,128",
            "--source-flows", "64", "--source-halfopen", "0"]
    s = syn(options=[("MSS", 9000)])
    r = run_dp(outside=[s], args=args)
    assert len(r.outside_raw) == 1, r.describe()
    check_synack(r.outside_raw[0], s, mss_cap=9000, wscale=14)


def test_state_layout_is_one_line_without_eal():
    r = subprocess.run([str(DP_BIN), "--state-layout"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r
    assert re.fullmatch(r"synwall-dp state layout \d+ fingerprint [0-9a-f]{8}\n", r.stdout), r
    assert r.stderr == ""

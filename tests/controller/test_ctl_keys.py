"""The key schedule: derivation identical to the C dataplane's, rotation semantics, and
fleet mode tolerating clock skew. (Cookies through a real dataplane: test_ctl_traffic.py.)"""

import os
import stat

import pytest
from scapy.layers.inet import TCP
from scapy.layers.l2 import Ether

from synwall import keys as keysched
from synwall.siphash import derive_key, siphash24
from tests.traffic import cookie_ref
from tests.traffic.pktutil import ALL_OPTS, CLIENT4, SERVER4, syn

MASTER = bytes.fromhex("00112233445566778899aabbccddeeff")


def test_siphash_reference_vector():
    # SipHash paper, appendix A: key 00..0f, message 00..0e.
    assert siphash24(bytes(range(16)), bytes(range(15))) == 0xA129CA6149BE45E5


@pytest.mark.parametrize("epoch", [1, 2, 115_000_001, 2**40 + 7])
def test_derived_keys_are_the_dataplanes(run_dp, epoch):
    """synwall-dp --master M --epoch E signs with the secret synwall.siphash derives."""
    s = syn(dport=443, options=ALL_OPTS, isn=0x01020304 + epoch % 1000)
    r = run_dp(outside=[s], args=["--protect", "443:cookie", "--master", MASTER.hex(),
                                  "--epoch", str(epoch)])
    assert len(r.outside_raw) == 1, r.describe()
    iss = Ether(r.outside_raw[0])[TCP].seq
    mss, ws, sack, _ = 1400, 7, True, None
    want = cookie_ref.cookie(derive_key(MASTER, epoch), CLIENT4, SERVER4, 40000, 443,
                             s[TCP].seq, mss=mss, wscale=ws, sack=sack, key_bit=epoch & 1)
    assert iss == want, "ISS %#x, derived key gives %#x (%s)" % (iss, want,
                                                                  cookie_ref.decode(iss))


def test_random_rotation_keeps_the_previous_secret():
    t = [1000.0]
    ks = keysched.KeySchedule(interval=15, clock=lambda: t[0])
    a = ks.keys()
    assert a.other_epoch == a.epoch - 1 and a.current != a.other
    assert not ks.due() and ks.next_change() == 1015.0
    t[0] = 1015.0
    assert ks.due()
    ks.rotate()
    b = ks.keys()
    assert (b.epoch, b.other_epoch, b.other) == (a.epoch + 1, a.epoch, a.current)
    assert b.current not in (a.current, a.other)
    ks.rotate()
    c = ks.keys()
    assert a.current not in (c.current, c.other), "a secret from two rotations back is gone"


def test_state_file_is_private_and_round_trips(tmp_path):
    ks = keysched.KeySchedule(interval=20)
    ks.rotate()
    p = tmp_path / "keys.json"
    ks.save(p)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    back = keysched.KeySchedule.load(p)
    assert back.keys() == ks.keys() and back.interval == 20


def accepted(ks, t):
    k = ks.keys(t)
    return {k.epoch, k.other_epoch}


@pytest.mark.parametrize("interval,skew", [(15, 2), (9, 2), (30, 7), (15, 0)])
def test_fleet_peers_with_skewed_clocks_accept_each_others_cookies(interval, skew):
    """Peers whose clocks differ by up to 2 x skew: whatever epoch one signs with at any
    moment, the other accepts it, also a second later (the ACK's round trip)."""
    ks = keysched.KeySchedule(interval=interval, master=MASTER, skew=skew)
    t0 = 1_700_000_000.0
    step = interval / 60
    diffs = [d * step for d in range(int(-2 * skew / step), int(2 * skew / step) + 1)]
    for i in range(int(3 * interval / step)):
        t = t0 + i * step
        signed = ks.keys(t).epoch
        for d in diffs:
            for rtt in (0.0, 1.0):
                assert signed in accepted(ks, t + d + rtt), (
                    "sent at %.2f (epoch %d), peer at %+.2f s +%.0f s accepts %s"
                    % (t, signed, d, rtt, accepted(ks, t + d + rtt)))


def test_fleet_cookie_lifetime_and_two_epochs_back():
    ks = keysched.KeySchedule(interval=15, master=MASTER, skew=2)
    t0 = 1_700_000_000.0
    for i in range(200):
        t = t0 + i * 0.25
        k = ks.keys(t)
        assert k.current == derive_key(MASTER, k.epoch)
        assert k.other == derive_key(MASTER, k.other_epoch)
        assert abs(k.other_epoch - k.epoch) == 1
        # a cookie made now validates on this appliance for at least interval - 2 x skew
        assert k.epoch in accepted(ks, t + 15 - 4 - 0.01)
        # and never once two epochs have passed
        assert k.epoch not in accepted(ks, t + 2 * 15 + 0.01)


def test_fleet_interoperates_with_a_plain_dataplane_schedule():
    """synwall-dp --master alone signs floor(t/interval) and accepts e, e-1: a managed peer
    whose clock is within skew of it accepts its cookies and vice versa."""
    interval, skew = 15, 2
    ks = keysched.KeySchedule(interval=interval, master=MASTER, skew=skew)
    for i in range(int(3 * interval / 0.25)):
        t = 1_700_000_000.0 + i * 0.25
        plain_e = int(t // interval)
        for d in (-skew, -1, 0, 1, skew):
            assert plain_e in accepted(ks, t + d), (t, d)
            signed = ks.keys(t + d).epoch
            assert signed in (plain_e, plain_e - 1), (t, d, signed)


def test_fleet_mode_refuses_rotate_now_and_bad_schedules():
    ks = keysched.KeySchedule(interval=15, master=MASTER, skew=2)
    with pytest.raises(keysched.ScheduleError):
        ks.rotate()
    with pytest.raises(keysched.ScheduleError) as ei:
        ks.set_schedule(interval=8)
    assert ei.value.field == "max_clock_skew"
    with pytest.raises(keysched.ScheduleError):
        ks.set_schedule(master=b"short")
    assert ks.interval == 15 and ks.master == MASTER, "a refused change changed nothing"


def test_random_and_master_schedules_are_checked_alike():
    for master in (None, MASTER):
        with pytest.raises(keysched.ScheduleError) as ei:
            keysched.KeySchedule(interval=8, master=master, skew=2)
        assert ei.value.field == "max_clock_skew", master
        with pytest.raises(keysched.ScheduleError):
            keysched.KeySchedule(interval=86400, master=master, skew=3601)
        ks = keysched.KeySchedule(interval=15, master=master, skew=2)
        with pytest.raises(keysched.ScheduleError) as ei:
            ks.set_schedule(skew=4)
        assert ei.value.field == "max_clock_skew" and ks.skew == 2, master
    # a random schedule valid now takes a master secret later
    ks = keysched.KeySchedule(interval=9, skew=2)
    ks.set_schedule(master=MASTER)
    assert ks.master == MASTER
    assert keysched.KeySchedule(interval=1).skew == 0  # the default skew fits the interval


def test_leaving_fleet_mode_keeps_the_last_derived_secret_valid():
    t = [1_700_000_000.0]
    ks = keysched.KeySchedule(interval=15, master=MASTER, skew=2, clock=lambda: t[0])
    before = ks.keys()
    ks.set_schedule(clear_master=True)
    after = ks.keys()
    assert after.other == before.current and after.epoch == before.epoch + 1

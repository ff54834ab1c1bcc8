"""The controller driving a real dataplane while packets flow (net_af_packet ports on veth
pairs; the test sends and captures frames on the far ends with raw sockets; root only).

- a policy change takes effect between two packets, and every packet is accounted for;
- keys: a cookie of the previous epoch validates, one from two epochs back does not; two
  appliances with one master secret accept each other's cookies;
- the dataplane killed: restarted with the same config and the same keys (a cookie handed out
  before still opens a connection); the controller restarted: it re-attaches to the same
  dataplane, which forwarded all along.
"""

import os
import signal
import threading
import time

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether

from synwall import model
from synwall.siphash import derive_key
from tests.controller.ctlharness import af_packet_ports, wait_for
from tests.traffic import cookie_ref
from tests.traffic.pktutil import CLIENT4, SERVER4, ack_for, frame, syn

MASTER = "00112233445566778899aabbccddeeff"


def tcp_frames(frames, flags):
    """(frame bytes, TCP layer) of the IPv4 TCP frames with exactly these flags."""
    out = []
    for f in frames:
        p = Ether(f)
        if IP in p and TCP in p and p[TCP].flags == flags:
            out.append((f, p[TCP]))
    return out


def counter(c, name):
    return c.counters().total[name]


def wait_counter(c, name, value, timeout=5):
    return wait_for(lambda: counter(c, name) >= value, timeout) and counter(c, name) == value


def start_real(env_factory, veth_factory, limits="", policies="", keys=""):
    o, i, to, ti = veth_factory()
    env = env_factory("real", ports=af_packet_ports(o, i), extra=limits + policies, keys=keys)
    env.start()
    return env, to, ti


def test_policy_change_while_traffic_flows(env_factory, veth_factory):
    # rexmtlimit 0: one SYN-ACK per SYN, so that each SYN has exactly one outcome to count
    env, to, ti = start_real(env_factory, veth_factory, limits="[limits]\nrexmtlimit = 0\n")
    c = env.client()
    n, switch_at = 400, 200
    syns = [syn(sport=20000 + k, dport=443, isn=0x10000 + k) for k in range(n)]
    wire = [bytes(s) for s in syns]
    switched = threading.Event()

    def send():
        for k, f in enumerate(wire):
            if k == switch_at:
                switched.set()
            to.send(f)
            time.sleep(0.0025)

    sender = threading.Thread(target=send)
    sender.start()
    switched.wait(10)
    c.set_policy("443", "proxy")  # while SYNs keep coming
    sender.join()

    def outcomes():
        return (tcp_frames(ti.received(), "S"), tcp_frames(to.received(), "SA"))
    wait_for(lambda: sum(map(len, outcomes())) >= n, 5)
    time.sleep(0.3)  # anything extra would show up now
    bridged, answered = outcomes()
    b_idx = [t.sport - 20000 for _, t in bridged]
    a_idx = [t.dport - 20000 for _, t in answered]
    assert sorted(b_idx + a_idx) == list(range(n)), (
        "every SYN bridged or answered exactly once: %d bridged, %d answered, missing %s, "
        "twice %s" % (len(b_idx), len(a_idx), sorted(set(range(n)) - set(b_idx + a_idx))[:10],
                      sorted(k for k in set(b_idx + a_idx) if (b_idx + a_idx).count(k) > 1)))
    k = len(b_idx)
    assert 0 < k < n, "the change did not land mid-stream (%d bridged)" % k
    assert sorted(b_idx) == list(range(k)), "a SYN after the change was still bridged"
    assert sorted(a_idx) == list(range(k, n)), "a SYN before the change was answered"
    for f, t in bridged:
        assert f == wire[t.sport - 20000], "a bridged SYN was modified"
    for _, t in answered:
        assert t.ack == 0x10000 + (t.dport - 20000) + 1
    cnt = c.counters().total
    assert cnt["port.tx_dropped"] == 0 and cnt["port.outside_rx"] >= n, cnt


def cookie_ack(keyset, epoch_secret, epoch, sport, isn=0x2000):
    """An ACK completing a handshake whose SYN-ACK cookie was made with `epoch_secret`."""
    s = syn(sport=sport, dport=443, isn=isn)
    iss = cookie_ref.cookie(epoch_secret, CLIENT4, SERVER4, sport, 443, isn, mss=536,
                            key_bit=epoch & 1)
    return bytes(ack_for(s, iss))


def test_rotation_previous_epoch_validates_two_back_does_not(env_factory, veth_factory):
    env, to, ti = start_real(env_factory, veth_factory,
                             policies='[[policy]]\nports = "443"\nmode = "cookie"\n')
    c = env.client()
    k0 = env.ctl.keys.keys()  # the secrets the controller pushed (its own key schedule)
    e = k0.epoch
    ack_prev = cookie_ack(k0, k0.current, e, 30001)
    ack_two_back = cookie_ack(k0, k0.current, e, 30002)

    assert c.rotate_keys().epoch == e + 1
    k1 = env.ctl.keys.keys()
    assert k1.other == k0.current
    to.send(ack_prev)
    assert wait_counter(c, "syncache.recvcookie", 1), c.counters().total
    # accepted: the ACK became the SYN to the server, with the client's ISN
    assert wait_for(lambda: [t for _, t in tcp_frames(ti.received(), "S")
                             if t.sport == 30001 and t.seq == 0x2000], 3)

    assert c.rotate_keys().epoch == e + 2
    to.send(ack_two_back)
    assert wait_counter(c, "cookie.failed", 1), c.counters().total
    assert counter(c, "syncache.recvcookie") == 1
    to.send(cookie_ack(k1, k1.current, e + 1, 30003))  # e + 1 is now the previous epoch
    assert wait_counter(c, "syncache.recvcookie", 2), c.counters().total
    link = env.dp_link()
    st = link.status()
    link.close()
    assert st.key_epoch == e + 2 and st.keys_managed


def test_two_appliances_with_one_master_accept_each_others_cookies(env_factory, veth_factory):
    pol = '[[policy]]\nports = "443"\nmode = "cookie"\n'
    keys = 'master_secret = "%s"\n' % MASTER
    a, a_out, _ = start_real(env_factory, veth_factory, policies=pol, keys=keys)
    b, b_out, b_in = start_real(env_factory, veth_factory, policies=pol, keys=keys)
    ca, cb = a.client(), b.client()
    assert ca.key_status().current_fingerprint == cb.key_status().current_fingerprint

    s = syn(sport=31000, dport=443, isn=0x31000)
    a_out.send(bytes(s))
    got = wait_for(lambda: tcp_frames(a_out.received(), "SA"), 3)
    assert got, "appliance A sent no SYN-ACK"
    iss = got[0][1].seq
    epoch = a.ctl.keys.keys().epoch
    assert cookie_ref.verify(derive_key(bytes.fromhex(MASTER), epoch), CLIENT4, SERVER4,
                             31000, 443, 0x31000, iss) or cookie_ref.verify(
        derive_key(bytes.fromhex(MASTER), epoch - 1), CLIENT4, SERVER4, 31000, 443, 0x31000,
        iss), "A's cookie is not made with the derived secret"

    b_out.send(bytes(ack_for(s, iss)))  # the ACK reaches the other appliance
    assert wait_counter(cb, "syncache.recvcookie", 1), cb.counters().total
    assert wait_for(lambda: [t for _, t in tcp_frames(b_in.received(), "S")
                             if t.sport == 31000 and t.seq == 0x31000], 3)
    b_out.send(bytes(ack_for(syn(sport=31001, dport=443, isn=0x31000), iss)))  # wrong tuple
    assert wait_counter(cb, "cookie.failed", 1), "a cookie for another tuple was accepted"


def udp_frames(n, tag):
    return [bytes(frame(IP(src=CLIENT4, dst=SERVER4) / UDP(sport=5000 + k, dport=9) /
                        (b"%s %d" % (tag, k)))) for k in range(n)]


def test_dataplane_killed_then_controller_restarted(env_factory, veth_factory):
    env, to, ti = start_real(env_factory, veth_factory,
                             policies='[[policy]]\nports = "443"\nmode = "cookie"\n')
    c = env.client()
    # runtime changes through the API: these, not the boot config, must come back
    c.set_policy("8443", "drop")
    c.set_limits(rexmtlimit=1, cachelimit=777)
    link = env.dp_link()
    config_before = model.canonical_dp_config(link.get_config())
    link.close()
    keys_before = c.key_status()

    s = syn(sport=32000, dport=443, isn=0x32000)
    to.send(bytes(s))
    got = wait_for(lambda: tcp_frames(to.received(), "SA"), 3)
    assert got, "no SYN-ACK before the kill"
    iss = got[0][1].seq  # a cookie handed out by the dataplane about to die

    old_pid = env.dp_pid()
    os.kill(old_pid, signal.SIGKILL)
    st = wait_for(lambda: (lambda s: s if s.dataplane_restarts == 1 and s.dataplane_running
                           else None)(c.status()), 20)
    assert st, "the dataplane was not restarted: %s\n%s" % (c.status(), env.dp_log()[-2000:])
    assert st.dataplane_pid != old_pid and st.dataplane_pid == env.dp_pid()
    link = env.dp_link()
    assert model.canonical_dp_config(link.get_config()) == config_before, \
        "the restarted dataplane does not have the config"
    assert link.status().keys_managed
    link.close()
    keys_after = c.key_status()
    assert (keys_after.epoch, keys_after.current_fingerprint,
            keys_after.previous_fingerprint) == (keys_before.epoch,
                                                 keys_before.current_fingerprint,
                                                 keys_before.previous_fingerprint)
    to.send(bytes(ack_for(s, iss)))
    assert wait_counter(c, "syncache.recvcookie", 1), \
        "a cookie handed out before the crash no longer validates: %s" % c.counters().total

    # --- the controller restarts; the dataplane goes on forwarding meanwhile -------------
    dp_pid = env.dp_pid()
    rx_before = counter(c, "port.outside_rx")
    env.stop_controller()
    ti.clear()
    for f in udp_frames(50, b"while the controller is away"):
        to.send(f)
    assert wait_for(lambda: len([f for f in ti.received() if UDP in Ether(f)]) >= 50, 5), \
        "the dataplane stopped forwarding without its controller"
    env.start()
    assert env.ctl.attached, "the new controller started a dataplane of its own"
    c = env.client()
    st = c.status()
    assert st.dataplane_pid == dp_pid and st.dataplane_running and st.dataplane_restarts == 0
    assert counter(c, "port.outside_rx") >= rx_before + 50, "counters restarted from zero"
    link = env.dp_link()
    assert model.canonical_dp_config(link.get_config()) == config_before
    link.close()
    assert c.key_status().current_fingerprint == keys_before.current_fingerprint
    assert [(p.ports, p.mode) for p in c.policies()] == [("443", "cookie"), ("8443", "drop")]
    assert c.limits().cachelimit == 777
    c.set_policy("443", "pass")  # and it manages it
    assert [(p.ports, p.mode) for p in c.policies()] == [("8443", "drop")]

"""Every frame counted once: the identities the counters of a run must satisfy.

Each frame received moves exactly one counter that says its fate (docs/FUZZING.md, "Every frame
counted once"; tests/fuzz/fuzz_pipeline.c checks the same per burst). Frames forwarded or
answered are sent; synwall's own segments (retransmits, window updates, RSTs) are sent too.
"""

MALFORMED = ["malformed." + n for n in "truncated ip_header ip_length fragment vlan tcp_header "
             "tcp_option flags checksum ipv6_ext ah unparsed".split()]

# The fate of a frame received that is dropped...
DROPPED = MALFORMED + [
    "port.policy_drop", "source.denied", "syncache.unreach", "syncache.reset", "syncache.aborted",
    "syncache.badack", "cookie.failed", "cookie.limited", "proxy.rst_ignored",
    "proxy.ack_no_handshake",
    "proxy.unexpected", "proxy.syn_opening", "proxy.ack_opening", "proxy.outside_synack",
    "proxy.synack_mismatch", "proxy.server_opening", "proxy.server_no_flow",
    "proxy.source_quota", "syncache.source_quota_dropped", "source.syn_limited",
    "source.prefix_limited", "source.reflect_capped",
]
# ... or sent on (bridged, translated, rewritten into synwall's answer).
SENT_ON = [
    "port.bridged", "port.unparsed", "proxy.icmp", "proxy.reset", "proxy.to_server",
    "proxy.adopt_passed", "proxy.opened", "syncache.dupsyn", "syncache.added",
    "syncache.sendcookie", "proxy.server_rst", "proxy.to_client", "proxy.adopt_full",
    "proxy.established", "proxy.ack_resent", "proxy.adopt_source_quota",
]


def originated(c):
    """Segments synwall made in mbufs of its own, when none was refused (port.nombuf 0) and no
    flow was evicted (an evicted flow's RSTs depend on its state): SYN-ACK and server SYN
    retransmits, the client's window update at each establishment, the client's RST when a
    server never answers, both RSTs of an expired flow, the ICMP error to a client whose
    segment its server cannot take."""
    return (c["syncache.retransmitted"] + c["proxy.syn_retransmitted"] +
            c["proxy.established"] + c["proxy.server_timeout"] + 2 * c["proxy.expired"] +
            c["proxy.too_big"])


def check_balance(c):
    """The identities on a run's totals; returns a list of what does not hold."""
    bad = []
    rx = c["port.outside_rx"] + c["port.inside_rx"]
    fates = sum(c[n] for n in DROPPED + SENT_ON)
    if rx != fates:
        bad.append("received %d, fates counted %d (dropped %d + sent on %d)" % (
            rx, fates, sum(c[n] for n in DROPPED), sum(c[n] for n in SENT_ON)))
    if c["port.nombuf"] == 0 and c["proxy.evicted"] == 0:
        tx = c["port.outside_tx"] + c["port.inside_tx"] + c["port.tx_dropped"]
        want = sum(c[n] for n in SENT_ON) + originated(c)
        if tx != want:
            bad.append("sent %d (+ tx_dropped), expected %d sent on + %d originated" % (
                tx, sum(c[n] for n in SENT_ON), originated(c)))
    return bad

"""The controller's side of synwall-dp's control socket (--ctl).

Each message is a 4-byte big-endian length and a serialized synwall.dp.v1.DpRequest; the
dataplane answers each request with one DpResponse, in order (docs/DATAPLANE.md, "Control
socket"). One connection is kept and re-opened when it breaks: the dataplane closes a
connection that stays idle for a few seconds, and one that it has to make room for a newer
client, so the next request finds it closed and is sent again on a fresh one.
"""

from __future__ import annotations

import socket
import struct
import threading

from synwall.dp.v1 import dataplane_pb2 as dp

MAX_MESSAGE = 4 << 20
# load_sources reads, checks and builds the new set and frees the one it replaces while the
# control socket waits: about 5 s and 4 s for a million IPv4 prefixes on a 2-core VM
# (docs/DATAPLANE.md, "Source lists"). Its answer gets this long, plus this much per million
# rules of the two sets, with room for a busy host.
LOAD_SOURCES_TIMEOUT = 60.0
LOAD_SOURCES_TIMEOUT_PER_MILLION = 30.0
# Attempts of one request: the kept connection may have been closed by the dataplane (idle,
# or replaced by a newer client), and a fresh one may be replaced too before its turn.
ATTEMPTS = 3


class DataplaneUnavailable(ConnectionError):
    """The control socket cannot be reached or broke (the dataplane is down or restarting)."""


class DataplaneRefused(Exception):
    """The dataplane answered ok=false: nothing was changed."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message, self.field = message, field


class DpLink:
    def __init__(self, path: str, timeout: float = 5.0) -> None:
        self.path = str(path)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    # --- transport -------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def _connect(self) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.path)
        except OSError as e:
            s.close()
            raise DataplaneUnavailable("dataplane control socket %s: %s"
                                       % (self.path, e.strerror or e)) from None
        return s

    def _recv_exact(self, s: socket.socket, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("the dataplane closed the control connection")
            buf += chunk
        return bytes(buf)

    def _exchange(self, payload: bytes, timeout: float | None) -> bytes:
        if self._sock is None:
            self._sock = self._connect()
        s = self._sock
        s.settimeout(self.timeout if timeout is None else timeout)
        try:
            s.sendall(struct.pack("!I", len(payload)) + payload)
            (n,) = struct.unpack("!I", self._recv_exact(s, 4))
            if n > MAX_MESSAGE:
                raise ConnectionError("a %d-byte answer is over the %d limit" % (n, MAX_MESSAGE))
            return self._recv_exact(s, n)
        finally:
            if self._sock is s:
                s.settimeout(self.timeout)

    def call(self, req: dp.DpRequest, timeout: float | None = None) -> dp.DpResponse:
        """One request, one response (ok or not). DataplaneUnavailable on transport errors;
        DataplaneRefused for a request over the socket's message limit (never sent).

        Every request is idempotent or harmless to repeat (a whole config, the same keys), so
        a connection that breaks is replaced and the request sent again, up to ATTEMPTS
        times; a dataplane that is not listening fails at once.
        """
        payload = req.SerializeToString()
        if len(payload) > MAX_MESSAGE:
            raise DataplaneRefused("a %d-byte request is over the control socket's limit of "
                                   "%d bytes" % (len(payload), MAX_MESSAGE), "request")
        with self._lock:
            for attempt in range(ATTEMPTS):
                try:
                    data = self._exchange(payload, timeout)
                    break
                except DataplaneUnavailable:
                    self._close()
                    raise
                except (OSError, ConnectionError) as e:
                    self._close()
                    # no answer in time: the dataplane is stuck, not the connection
                    if attempt == ATTEMPTS - 1 or isinstance(e, TimeoutError):
                        raise DataplaneUnavailable("dataplane control socket %s: %s"
                                                   % (self.path, e)) from None
        resp = dp.DpResponse()
        resp.ParseFromString(data)
        return resp

    def request(self, req: dp.DpRequest, timeout: float | None = None) -> dp.DpResponse:
        """Send req; DataplaneRefused if the answer is not ok."""
        resp = self.call(req, timeout)
        if not resp.ok:
            raise DataplaneRefused(resp.error or "refused without a reason", resp.error_field)
        return resp

    # --- requests --------------------------------------------------------------------------

    def ping(self) -> None:
        self.request(dp.DpRequest(ping=True))

    def status(self) -> dp.DpStatus:
        return self.request(dp.DpRequest(get_status=True)).status

    def counters(self) -> dp.DpCounters:
        return self.request(dp.DpRequest(get_counters=True)).counters

    def get_config(self) -> dp.DpConfig:
        return self.request(dp.DpRequest(get_config=True)).config

    def apply_config(self, cfg: dp.DpConfig) -> int:
        return self.request(dp.DpRequest(apply_config=cfg)).config_version

    def validate_config(self, cfg: dp.DpConfig) -> None:
        self.request(dp.DpRequest(validate_config=cfg))

    def set_keys(self, epoch: int, current: bytes, previous: bytes) -> int:
        keys = dp.DpKeys(epoch=epoch, current=current, previous=previous)
        return self.request(dp.DpRequest(set_keys=keys)).config_version

    def dump_syncache(self, cursor: int, max_entries: int) -> dp.DpResponse:
        return self.request(dp.DpRequest(dump_syncache=dp.DpRequest.DumpSyncache(
            cursor=cursor, max_entries=max_entries)))

    def flush_syncache(self) -> int:
        return self.request(dp.DpRequest(flush_syncache=True)).flushed

    def load_sources(self, path: str, rules: int = 0) -> int:
        """Replace the source lists with the rules of the file at path ("" : none); the new
        config version. DataplaneRefused (the lists in force stay) names the line or rules.
        rules: how many the old and the new set have together, for the time it may take."""
        timeout = LOAD_SOURCES_TIMEOUT + LOAD_SOURCES_TIMEOUT_PER_MILLION * rules / 1e6
        return self.request(dp.DpRequest(load_sources=dp.DpRequest.LoadSources(path=path)),
                            max(timeout, self.timeout)).config_version

    def top_sources(self, by: dp.DpRequest.TopSources.By, max_sources: int
                    ) -> list[dp.DpSource]:
        """The heaviest source prefixes by one of DpRequest.TopSources.By, heaviest first."""
        return list(self.request(dp.DpRequest(top_sources=dp.DpRequest.TopSources(
            by=by, max=max_sources))).sources)

    def ports(self) -> list[dp.DpPort]:
        """The outside and the inside port, in that order: link state and the NIC's counters
        (rte_eth_link_get_nowait, rte_eth_stats_get on the dataplane's control thread)."""
        return list(self.request(dp.DpRequest(get_ports=True)).ports)

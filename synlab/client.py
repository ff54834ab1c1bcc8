"""HTTP clients for the proxy tests, run inside the client namespace (real Linux TCP)."""
from __future__ import annotations

import hashlib
import http.client
import socket
import threading
import time

from synlab.httpd import CHUNK, blob_chunk


def _conn(addr: str, port: int, timeout: float) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(addr, port, timeout=timeout)


HELLO = b"hello\n"


def _hash_body(r: http.client.HTTPResponse, step: int, pause: float = 0.0) -> tuple[str, int]:
    """Read a response body `step` bytes at a time (sleeping `pause` between reads): its
    SHA-256 and length."""
    h = hashlib.sha256()
    got = 0
    while True:
        data = r.read(step)
        if not data:
            break
        h.update(data)
        got += len(data)
        if pause:
            time.sleep(pause)
    return h.hexdigest(), got


def read_hello(s: socket.socket) -> bytes:
    """What a socket receives up to the end of synlab.httpd's /hello answer (or its close)."""
    got = b""
    while not got.endswith(HELLO):
        data = s.recv(4096)
        if not data:
            break
        got += data
    return got


def download(addr: str, size: int, port: int = 80, timeout: float = 60) -> str:
    """GET /blob/size; the SHA-256 of what arrived."""
    c = _conn(addr, port, timeout)
    c.request("GET", f"/blob/{size}")
    r = c.getresponse()
    digest, got = _hash_body(r, CHUNK)
    c.close()
    if r.status != 200 or got != size:
        raise RuntimeError(f"download: status {r.status}, {got} of {size} bytes")
    return digest


def paced_download(addr: str, size: int, seconds: float, port: int = 80,
                   timeout: float = 60) -> str:
    """GET /blob/size read at a pace that spreads it over about `seconds`: the SHA-256 of
    what arrived. A small receive buffer keeps the server sending as it is read, so that
    segments cross synwall all along (through whatever happens to it meanwhile)."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 10)
    s.settimeout(timeout)
    s.connect((addr, port))
    c = _conn(addr, port, timeout)
    c.sock = s
    c.request("GET", f"/blob/{size}")
    r = c.getresponse()
    step = 16 << 10
    digest, got = _hash_body(r, step, pause=seconds * step / size)
    c.close()
    if r.status != 200 or got != size:
        raise RuntimeError(f"paced download: status {r.status}, {got} of {size} bytes")
    return digest


def idle_then_send(addr: str, idle: float, port: int = 80, timeout: float = 20) -> dict:
    """One request answered, `idle` seconds of silence, then what the connection says: how
    the client's stack sees an idle timeout (an RST while idle shows as a reset at once)."""
    s = socket.create_connection((addr, port), timeout=timeout)
    req = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
    s.sendall(req)
    got = read_hello(s)
    time.sleep(idle)
    t0 = time.monotonic()
    try:
        s.sendall(req)
        data = s.recv(4096)
        outcome = "answered" if data else "closed"
    except ConnectionResetError:
        outcome = "reset"
    except TimeoutError:
        outcome = "stalled"
    finally:
        s.close()
    return {"first": got.endswith(HELLO), "outcome": outcome,
            "seconds": round(time.monotonic() - t0, 3)}


def _blob_body(size: int):
    """The first size bytes of the blob stream, CHUNK at a time (an upload's body)."""
    chunk = blob_chunk()
    left = size
    while left > 0:
        n = min(left, CHUNK)
        yield chunk[:n]
        left -= n


def upload(addr: str, size: int, port: int = 80, timeout: float = 60) -> str:
    """POST size bytes of the blob stream; the SHA-256 the server computed."""
    c = _conn(addr, port, timeout)
    c.request("POST", "/sink", body=_blob_body(size), headers={"Content-Length": str(size)})
    r = c.getresponse()
    text = r.read().decode().strip()
    c.close()
    if r.status != 200:
        raise RuntimeError(f"upload: status {r.status}")
    return text


def download_upload(addr: str, size: int, port: int = 80, timeout: float = 10) -> dict:
    """GET /blob/size, then POST size bytes, on one connection (HTTP/1.1 keep-alive): full-size
    segments both ways on a single flow. The SHA-256 of what arrived, the one the server
    computed, and the seconds both took. `timeout` bounds every socket wait: a stall raises."""
    t0 = time.monotonic()
    c = _conn(addr, port, timeout)
    c.request("GET", f"/blob/{size}")
    r = c.getresponse()
    got_digest, got = _hash_body(r, CHUNK)
    if r.status != 200 or got != size:
        raise RuntimeError(f"download: status {r.status}, {got} of {size} bytes")
    c.request("POST", "/sink", body=_blob_body(size), headers={"Content-Length": str(size)})
    r = c.getresponse()
    sent_digest = r.read().decode().strip()
    c.close()
    if r.status != 200:
        raise RuntimeError(f"upload: status {r.status}")
    return {"get": got_digest, "post": sent_digest, "seconds": round(time.monotonic() - t0, 3)}


def hello(addr: str, port: int = 80, timeout: float = 10) -> bool:
    c = _conn(addr, port, timeout)
    try:
        c.request("GET", "/hello")
        r = c.getresponse()
        return r.status == 200 and r.read() == b"hello\n"
    finally:
        c.close()


def sequential(addr: str, n: int, port: int = 80) -> dict:
    """n short connections one after another: how many succeeded, and the errors seen."""
    ok, errors = 0, []
    for _ in range(n):
        try:
            ok += hello(addr, port)
        except OSError as e:
            errors.append(repr(e))
    return {"ok": ok, "errors": errors[:5]}


def concurrent(addr: str, n: int, port: int = 80) -> dict:
    """n short connections at once (one thread each)."""
    results: list = []
    lock = threading.Lock()
    start = threading.Barrier(n)

    def one():
        start.wait()
        try:
            r = hello(addr, port, timeout=30)
        except OSError as e:
            r = repr(e)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"ok": sum(1 for r in results if r is True),
            "errors": [r for r in results if r is not True][:5]}


def connect_then_wait_reset(addr: str, port: int, wait: float) -> dict:
    """Connect, send a request at once, and report how the connection ended."""
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.settimeout(wait)
    t0 = time.monotonic()
    try:
        s.connect((addr, port))
    except OSError as e:
        return {"connect": repr(e), "after": time.monotonic() - t0}
    try:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(100)
        return {"connect": "ok", "recv": data.decode(errors="replace"),
                "after": time.monotonic() - t0}
    except OSError as e:
        return {"connect": "ok", "recv": repr(e), "after": time.monotonic() - t0}
    finally:
        s.close()


def concurrent_downloads(addr: str, n: int, size: int, port: int = 80) -> dict:
    """n downloads at once; their SHA-256s (or errors) in order."""
    out: list = [None] * n

    def one(i):
        try:
            out[i] = download(addr, size, port)
        except (OSError, RuntimeError) as e:
            out[i] = repr(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"sha256": out}


def load(addr: str, seconds: float, workers: int, size: int, port: int = 80) -> dict:
    """workers threads downloading size bytes again and again for `seconds`, each transfer
    checked by SHA-256: the legitimate traffic of the demo."""
    from synlab.httpd import blob_sha256

    want = blob_sha256(size)
    lock = threading.Lock()
    counts = {"ok": 0, "failed": 0, "bytes": 0, "errors": []}
    end = time.monotonic() + seconds

    def worker():
        while time.monotonic() < end:
            try:
                ok = download(addr, size, port, timeout=10) == want
                err = None if ok else "SHA-256 mismatch"
            except (OSError, RuntimeError) as e:
                ok, err = False, repr(e)
            with lock:
                if ok:
                    counts["ok"] += 1
                    counts["bytes"] += size
                else:
                    counts["failed"] += 1
                    if len(counts["errors"]) < 5:
                        counts["errors"].append(err)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts


def same_port_again(addr: str, sport: int, n: int, port: int = 80) -> dict:
    """n requests in a row from one source port; the server closes each connection first
    (Connection: close), so the next SYN meets a 4-tuple still closing (TIME_WAIT on the
    server, lingering in synwall)."""
    import errno

    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    ok, errors = 0, []
    for _ in range(n):
        # Our own previous socket may still wait for the server's ACK of our FIN (LAST_ACK):
        # the kernel refuses the 4-tuple until then. That is the client's rule, not
        # synwall's: wait for it, briefly.
        for attempt in range(100):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.settimeout(10)
            try:
                s.bind(("", sport))
                s.connect((addr, port))
                break
            except OSError as e:
                s.close()
                if e.errno not in (errno.EADDRNOTAVAIL, errno.EADDRINUSE) or attempt == 99:
                    errors.append(repr(e))
                    s = None
                    break
                time.sleep(0.02)
        if s is None:
            continue
        try:
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            ok += data.startswith(b"HTTP/1.1 200") and data.endswith(b"hello\n")
        except OSError as e:
            errors.append(repr(e))
        finally:
            s.close()
    return {"ok": ok, "errors": errors[:5]}


def hold_connections(addr: str, n: int, source: str, port: int = 80, settle: float = 3.0,
                     hold_max: float = 120.0, every: float = 2.0) -> None:
    """The abusive client of the source quota tests: n connections from `source`, each
    sending GET /hello at once. Prints (one JSON line) how many were answered within
    `settle` seconds of the last connect, then keeps every connection open until stdin
    closes (at most hold_max seconds), the answered ones busy (a request every `every`
    seconds: never idle long enough to be evicted), and closes them."""
    import json
    import select
    import sys

    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    req = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
    socks, got, errors = [], {}, []
    for _ in range(n):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.bind((source, 0))
            # synwall's SYN-ACK completes the connect at once (its window is 0 until the
            # server side is open): the request waits in the send buffer meanwhile
            s.connect((addr, port))
            s.sendall(req)
        except OSError as e:
            errors.append(repr(e))
            s.close()
            continue
        s.setblocking(False)
        socks.append(s)
        got[s] = b""
    end = time.monotonic() + settle
    while time.monotonic() < end:
        ready, _, _ = select.select([s for s in socks if not got[s].endswith(HELLO)], [], [],
                                    max(0.0, end - time.monotonic()))
        for s in ready:
            try:
                got[s] += s.recv(4096)
            except OSError:
                pass
    answered = sum(1 for s in socks if got[s].endswith(HELLO))
    print(json.dumps({"connected": len(socks), "answered": answered, "errors": errors[:5]}),
          flush=True)
    live = [s for s in socks if got[s].endswith(HELLO)]
    end = time.monotonic() + hold_max
    while time.monotonic() < end:
        if select.select([sys.stdin], [], [], every)[0]:
            break
        for s in live:
            try:
                s.sendall(req)
                while True:
                    s.recv(4096)
            except (BlockingIOError, OSError):
                pass
    for s in socks:
        s.close()


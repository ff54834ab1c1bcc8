"""Throwaway certificates for the TLS tests, made with the openssl command (EC P-256, valid one
day): a server certificate for localhost/127.0.0.1, a CA for clients, client certificates
signed by it, and a CA of strangers with a certificate of its own."""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@dataclass
class Cert:
    cert: Path
    key: Path


class Pki:
    """Certificates under d: server (server.pem/.key, self-signed, also the clients' trust
    anchor for it), clientca (clientca.pem/.key), otherca (otherca.pem/.key)."""

    def __init__(self, d: Path):
        if not shutil.which("openssl"):
            pytest.fail("openssl is needed to make the test certificates")
        self.d = d
        openssl("req", "-x509", *EC, "-keyout", "server.key", "-out", "server.pem", "-subj",
                "/CN=synwall-test", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                cwd=d)
        self.server = Cert(d / "server.pem", d / "server.key")
        for ca in ("clientca", "otherca"):
            openssl("req", "-x509", *EC, "-keyout", ca + ".key", "-out", ca + ".pem", "-subj",
                    "/CN=synwall-test-%s" % ca, cwd=d)
        self.client_ca = d / "clientca.pem"

    def client(self, name: str, subject: str, ca: str = "clientca") -> Cert:
        """A client certificate with that subject ("/OU=netops/CN=alice") signed by ca."""
        openssl("req", *EC, "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject,
                cwd=self.d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey",
                ca + ".key", "-CAcreateserial", "-out", name + ".pem", "-days", "1",
                cwd=self.d)
        return Cert(self.d / (name + ".pem"), self.d / (name + ".key"))

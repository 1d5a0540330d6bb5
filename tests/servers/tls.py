"""Throwaway TLS certificates, and an HTTPS server that records what reaches it.

The certificates are made at test time with the ``openssl`` command line into a temporary
folder, so no private key is ever kept in the repository: a CA that nothing trusts unless a
test says so, a server certificate it signs for 127.0.0.1 and localhost, and one it signs
for mail.example.com only (a host-name mismatch when reached at 127.0.0.1).
"""

from __future__ import annotations

import secrets
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

OPENSSL = shutil.which("openssl")
_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True, slots=True)
class Certificates:
    """A test CA and the server certificates it signed, as PEM files."""

    ca: Path  # trust this file to trust the servers below
    cert: Path  # for 127.0.0.1 and localhost
    key: Path
    elsewhere: Path  # for mail.example.com only
    elsewhere_key: Path

    def server_context(self, *, elsewhere: bool = False) -> ssl.SSLContext:
        """What a server presents: the certificate for 127.0.0.1, or the one for another host."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if elsewhere:
            context.load_cert_chain(self.elsewhere, self.elsewhere_key)
        else:
            context.load_cert_chain(self.cert, self.key)
        return context

    def trusting(self) -> ssl.SSLContext:
        """A client context that trusts the test CA (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca))


def _openssl(*args: str) -> None:
    assert OPENSSL is not None
    subprocess.run([OPENSSL, *args], check=True, capture_output=True, timeout=60)


def _signed(folder: Path, name: str, ca: Path, ca_key: Path, *, host: str, alt_names: str) -> tuple[Path, Path]:
    key, request, cert, extensions = (folder / f"{name}{ext}" for ext in (".key", ".csr", ".pem", ".ext"))
    extensions.write_text(
        f"subjectAltName={alt_names}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    _openssl("req", "-new", *_EC, "-subj", f"/CN={host}", "-keyout", str(key), "-out", str(request))
    serial = str(secrets.randbits(63))
    _openssl(
        "x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key), "-set_serial", serial,
        "-days", "1", "-extfile", str(extensions), "-out", str(cert),
    )  # fmt: skip
    return cert, key


def make_certificates(folder: Path) -> Certificates:
    """A fresh CA and two server certificates in ``folder`` (needs the openssl command line)."""
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    _openssl(
        "req", "-x509", "-new", *_EC, "-days", "1", "-subj", "/CN=Herald test CA (not trusted)",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout", str(ca_key), "-out", str(ca),
    )  # fmt: skip
    cert, key = _signed(folder, "server", ca, ca_key, host="127.0.0.1", alt_names="IP:127.0.0.1,DNS:localhost")
    other, other_key = _signed(
        folder, "elsewhere", ca, ca_key, host="mail.example.com", alt_names="DNS:mail.example.com"
    )
    return Certificates(ca=ca, cert=cert, key=key, elsewhere=other, elsewhere_key=other_key)


@dataclass(frozen=True, slots=True)
class Arrived:
    """One HTTP request as the server read it, after TLS."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpsRecorder:
    """Answers every request ``200 {}`` and keeps it; a refused handshake leaves nothing here."""

    port: int = 0
    arrived: list[Arrived] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.arrived.append(Arrived(request.method, request.path, dict(request.headers), body))
        return web.json_response({"ok": True})


@asynccontextmanager
async def https_recorder(context: ssl.SSLContext) -> AsyncIterator[HttpsRecorder]:
    """Serve HTTPS on 127.0.0.1 with ``context``'s certificate until the block ends."""
    recorder = HttpsRecorder()
    application = web.Application()
    application.router.add_route("*", "/{path:.*}", recorder.handle)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    recorder.port = int(runner.addresses[0][1])
    try:
        yield recorder
    finally:
        await runner.cleanup()

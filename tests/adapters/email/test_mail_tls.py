"""SMTP_URL's secure forms against a real server: STARTTLS with a login on 587-style, TLS from the first byte."""

from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest

from adapters.email.runtime import mail_links
from bot.domain.destinations import Kind, Platform
from bot.domain.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.domain.plan import AckPolicy
from bot.service.ports import Messenger, OutgoingMessage
from bot.settings import load_settings
from tests.servers.smtp import smtp_server

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")

MESSAGE = OutgoingMessage(
    delivery_key="2.4|customers|email:ada@example.com",
    version="2.4",
    product="Acme Cloud",
    group_id="customers",
    group_name="Customers",
    target="email:ada@example.com",
    kind=Kind.EMAIL,
    text="Acme Cloud 2.4 is live.",
    ack=AckPolicy.REQUIRED,
    subject="Acme Cloud 2.4 is live",
)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (and the client context that trusts it)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    command += " -addext subjectAltName=IP:127.0.0.1"
    subprocess.run(
        [*command.split(), "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


def _send_with(url: str, cert: str) -> Messenger:
    settings = load_settings({"SMTP_URL": url, "HERALD_MAIL_FROM": "Herald <herald@acme.test>"}, env_file=None)
    trusting = ssl.create_default_context(cafile=cert)
    return mail_links(settings, tls_context=trusting)[Platform.EMAIL].messenger


async def test_starttls_with_a_login_delivers(certificate: tuple[str, str]) -> None:
    """smtp://user:pass@host: STARTTLS first, then AUTH, then the message."""
    async with smtp_server(tls="starttls", certificate=certificate, login=("mailer", "s3cret!")) as smtp:
        messenger = _send_with(f"smtp://mailer:s3cret%21@127.0.0.1:{smtp.port}", certificate[0])
        ref = await messenger.send(MESSAGE)
    assert ref.startswith("mail:")
    assert smtp.logins == ["mailer"]
    assert [r.rcpt_tos for r in smtp.received] == [("ada@example.com",)]


async def test_implicit_tls_with_a_login_delivers(certificate: tuple[str, str]) -> None:
    """smtps://user:pass@host: TLS from the first byte, then AUTH."""
    async with smtp_server(tls="tls", certificate=certificate, login=("mailer", "s3cret")) as smtp:
        messenger = _send_with(f"smtps://mailer:s3cret@127.0.0.1:{smtp.port}", certificate[0])
        await messenger.send(MESSAGE)
    assert smtp.logins == ["mailer"]
    assert len(smtp.received) == 1


async def test_a_wrong_password_is_a_permanent_failure(certificate: tuple[str, str]) -> None:
    """535 to AUTH: no retry will fix a wrong password."""
    async with smtp_server(tls="starttls", certificate=certificate, login=("mailer", "right")) as smtp:
        messenger = _send_with(f"smtp://mailer:wrong@127.0.0.1:{smtp.port}", certificate[0])
        with pytest.raises(PermanentDeliveryError, match="SMTP 535"):
            await messenger.send(MESSAGE)
    assert smtp.received == []


async def test_a_certificate_that_is_not_trusted_is_not_sent_to(certificate: tuple[str, str]) -> None:
    """STARTTLS to a server whose certificate does not verify: nothing is sent, the password never leaves."""
    async with smtp_server(tls="starttls", certificate=certificate, login=("mailer", "s3cret")) as smtp:
        settings = load_settings(
            {"SMTP_URL": f"smtp://mailer:s3cret@127.0.0.1:{smtp.port}", "HERALD_MAIL_FROM": "herald@acme.test"},
            env_file=None,
        )
        messenger = mail_links(settings)[Platform.EMAIL].messenger  # the system's trust store only
        with pytest.raises(RetryableDeliveryError):
            await messenger.send(MESSAGE)
    assert smtp.logins == []
    assert smtp.received == []

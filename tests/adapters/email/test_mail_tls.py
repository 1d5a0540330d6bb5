"""SMTP_URL's secure forms against a real server: STARTTLS or TLS from the first byte, each verifying the server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.email.runtime import mail_links
from bot.app.settings import load_settings
from bot.domain.destinations import Kind, Platform
from bot.domain.errors import ConfigError, PermanentDeliveryError, RetryableDeliveryError
from bot.domain.plan import AckPolicy
from bot.service.ports import Messenger, OutgoingMessage
from tests.servers.smtp import smtp_server
from tests.servers.tls import Certificates

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


def _messenger(url: str, **env: str) -> Messenger:
    settings = load_settings({"SMTP_URL": url, "HERALD_MAIL_FROM": "Herald <herald@acme.test>", **env}, env_file=None)
    return mail_links(settings)[Platform.EMAIL].messenger


def _send_with(url: str, certificates: Certificates) -> Messenger:
    """A messenger that trusts the test CA through HERALD_SMTP_CA_FILE."""
    return _messenger(url, HERALD_SMTP_CA_FILE=str(certificates.ca))


def _served(certificates: Certificates, *, elsewhere: bool = False) -> tuple[str, str]:
    if elsewhere:
        return str(certificates.elsewhere), str(certificates.elsewhere_key)
    return str(certificates.cert), str(certificates.key)


async def test_starttls_with_a_login_delivers(certificates: Certificates) -> None:
    """smtp://user:pass@host: STARTTLS first, then AUTH, then the message."""
    async with smtp_server(tls="starttls", certificate=_served(certificates), login=("mailer", "s3cret!")) as smtp:
        messenger = _send_with(f"smtp://mailer:s3cret%21@127.0.0.1:{smtp.port}", certificates)
        ref = await messenger.send(MESSAGE)
    assert ref.startswith("mail:")
    assert smtp.logins == ["mailer"]
    assert [r.rcpt_tos for r in smtp.received] == [("ada@example.com",)]


async def test_implicit_tls_with_a_login_delivers(certificates: Certificates) -> None:
    """smtps://user:pass@host: TLS from the first byte, then AUTH."""
    async with smtp_server(tls="tls", certificate=_served(certificates), login=("mailer", "s3cret")) as smtp:
        messenger = _send_with(f"smtps://mailer:s3cret@127.0.0.1:{smtp.port}", certificates)
        await messenger.send(MESSAGE)
    assert smtp.logins == ["mailer"]
    assert len(smtp.received) == 1


async def test_a_wrong_password_is_a_permanent_failure(certificates: Certificates) -> None:
    """535 to AUTH: no retry will fix a wrong password."""
    async with smtp_server(tls="starttls", certificate=_served(certificates), login=("mailer", "right")) as smtp:
        messenger = _send_with(f"smtp://mailer:wrong@127.0.0.1:{smtp.port}", certificates)
        with pytest.raises(PermanentDeliveryError, match="SMTP 535"):
            await messenger.send(MESSAGE)
    assert smtp.received == []


@pytest.mark.parametrize(("tls", "scheme"), [("starttls", "smtp"), ("tls", "smtps")])
async def test_a_certificate_that_is_not_trusted_is_not_sent_to(
    certificates: Certificates, tls: str, scheme: str
) -> None:
    """STARTTLS or implicit TLS to a server whose certificate does not verify: nothing is sent, no password leaves."""
    async with smtp_server(tls=tls, certificate=_served(certificates), login=("mailer", "s3cret")) as smtp:
        messenger = _messenger(f"{scheme}://mailer:s3cret@127.0.0.1:{smtp.port}")  # the system's trust store only
        with pytest.raises(RetryableDeliveryError) as refused:
            await messenger.send(MESSAGE)
    assert smtp.logins == []
    assert smtp.received == []
    assert re.fullmatch(
        r"SMTP: the server was not trusted, so nothing was sent to it: its certificate is not trusted \(.+\); "
        r"if the server is yours, trust its CA with HERALD_SMTP_CA_FILE",
        str(refused.value),
    )


async def test_a_certificate_for_another_host_is_not_sent_to(certificates: Certificates) -> None:
    """A trusted CA is not enough: the certificate must name the host in SMTP_URL."""
    served = _served(certificates, elsewhere=True)
    async with smtp_server(tls="starttls", certificate=served, login=("mailer", "s3cret")) as smtp:
        messenger = _send_with(f"smtp://mailer:s3cret@127.0.0.1:{smtp.port}", certificates)
        with pytest.raises(RetryableDeliveryError, match="its certificate is for another host"):
            await messenger.send(MESSAGE)
    assert (smtp.logins, smtp.received) == ([], [])


async def test_a_relay_that_offers_tls_with_an_untrusted_certificate_gets_nothing(certificates: Certificates) -> None:
    """smtp://host:25 uses TLS when offered, and verifies it like any other."""
    async with smtp_server(tls="starttls", certificate=_served(certificates)) as smtp:
        messenger = _messenger(f"smtp://127.0.0.1:{smtp.port}")
        with pytest.raises(RetryableDeliveryError, match="not trusted"):
            await messenger.send(MESSAGE)
    assert smtp.received == []


def test_a_ca_file_that_holds_no_certificate_stops_herald_at_start(tmp_path: Path) -> None:
    """HERALD_SMTP_CA_FILE naming a file that is not PEM is one sentence when the links are built."""
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=r"^HERALD_SMTP_CA_FILE names .*ca\.pem, which holds no PEM certificate"):
        _messenger("smtp://127.0.0.1:2525", HERALD_SMTP_CA_FILE=str(junk))

"""The report mailbox logs in only over TLS whose server verified: a recording IMAP server checks what arrives."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from adapters.email.mailbox import ReportMailbox
from adapters.email.runtime import report_sweeper
from bot.app.settings import load_settings, tls_opt_outs
from bot.domain.errors import ConfigError, InsecureConnection
from bot.service.clock import FixedClock
from bot.service.reports import DeliveryReports
from storage.memory import MemoryStore, MemoryUnitOfWork
from tests.servers.imap import PASSWORD, USER, ImapServer, Mode, imap_server
from tests.servers.tls import Certificates

UNTRUSTED = re.compile(
    r"Herald did not log in to the report mailbox at 127\.0\.0\.1:\d+: its certificate is not trusted \([^)]+\); "
    r"if the server is yours, trust its CA with HERALD_IMAP_CA_FILE\."
)


def _mailbox(url: str, **env: str) -> ReportMailbox:
    settings = load_settings({"HERALD_IMAP_URL": url, **env}, env_file=None)
    assert settings.imap is not None
    store = MemoryStore()
    return ReportMailbox(settings.imap, DeliveryReports(uow=lambda: MemoryUnitOfWork(store), clock=FixedClock()))


def _password_never_arrived(server: ImapServer) -> None:
    assert server.logins == []
    assert "LOGIN" not in server.commands()
    assert not server.heard(PASSWORD)


@pytest.mark.parametrize("mode", ["imaps", "starttls"])
async def test_a_server_whose_certificate_is_not_trusted_never_sees_the_password(
    certificates: Certificates, mode: Mode
) -> None:
    """imaps:// and STARTTLS both check the certificate before LOGIN; the refusal is one sentence."""
    async with imap_server(mode, certificates.server_context()) as server:
        with pytest.raises(InsecureConnection) as refused:
            await _mailbox(server.url()).poll()  # the system's CAs only: the test CA is not among them
    assert UNTRUSTED.fullmatch(str(refused.value))
    _password_never_arrived(server)
    if mode == "starttls":
        assert server.commands() == ["CAPABILITY", "STARTTLS"]  # it did talk to Herald, up to the handshake


@pytest.mark.parametrize("mode", ["imaps", "starttls"])
async def test_with_its_ca_trusted_through_the_setting_herald_logs_in(certificates: Certificates, mode: Mode) -> None:
    """HERALD_IMAP_CA_FILE naming the server's CA: the certificate verifies, and Herald logs in and reads."""
    async with imap_server(mode, certificates.server_context()) as server:
        assert await _mailbox(server.url(), HERALD_IMAP_CA_FILE=str(certificates.ca)).poll() == {}
    assert server.logins == [USER]
    assert server.commands()[-3:] == ["SELECT", "UID", "LOGOUT"]


async def test_a_trusted_certificate_for_another_host_never_sees_the_password(certificates: Certificates) -> None:
    """The host name is checked too: a certificate for mail.example.com does not do for 127.0.0.1."""
    async with imap_server("imaps", certificates.server_context(elsewhere=True)) as server:
        with pytest.raises(InsecureConnection, match=r": its certificate is for another host \(.+\); use a host name"):
            await _mailbox(server.url(), HERALD_IMAP_CA_FILE=str(certificates.ca)).poll()
    _password_never_arrived(server)


async def test_a_server_that_offers_no_starttls_never_sees_the_password() -> None:
    """imap:// to a server without STARTTLS (or with it stripped on the way) is refused before LOGIN."""
    async with imap_server("plain") as server:
        with pytest.raises(InsecureConnection) as refused:
            await _mailbox(server.url()).poll()
    assert re.fullmatch(
        r"Herald did not log in to the report mailbox at 127\.0\.0\.1:\d+: it offers no STARTTLS and the password "
        r"is never sent in the clear \(use imaps://, or set HERALD_IMAP_INSECURE=on for a server on this host\)\.",
        str(refused.value),
    )
    assert server.commands() == ["CAPABILITY"]
    _password_never_arrived(server)


async def test_the_operator_can_allow_a_plain_server_by_name() -> None:
    """HERALD_IMAP_INSECURE=on: a server without STARTTLS is read in the clear, and the opt-out is listed."""
    async with imap_server("plain") as server:
        await _mailbox(server.url(), HERALD_IMAP_INSECURE="on").poll()
        settings = load_settings({"HERALD_IMAP_URL": server.url(), "HERALD_IMAP_INSECURE": "on"}, env_file=None)
    assert server.logins == [USER]
    [opt_out] = tls_opt_outs(settings)
    assert opt_out.startswith(f"HERALD_IMAP_INSECURE=on: the report mailbox at 127.0.0.1:{server.port} is read")
    assert PASSWORD not in opt_out


async def test_the_sweep_logs_the_refusal_as_one_line(
    certificates: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    """What the operator reads in the log is the sentence, without a traceback; the sweep lives on."""
    async with imap_server("imaps", certificates.server_context()) as server:
        settings = load_settings({"HERALD_IMAP_URL": server.url()}, env_file=None)
        store = MemoryStore()
        sweeper = report_sweeper(settings, lambda: MemoryUnitOfWork(store))
        assert sweeper is not None
        with caplog.at_level(logging.WARNING):
            await sweeper._run()
    [record] = caplog.records
    assert record.exc_info is None
    assert UNTRUSTED.search(record.getMessage())
    assert PASSWORD not in caplog.text
    _password_never_arrived(server)


def test_a_ca_file_that_is_not_pem_stops_herald_at_start(tmp_path: Path) -> None:
    """A HERALD_IMAP_CA_FILE OpenSSL cannot read is one sentence when the mailbox is set up, not at the first poll."""
    junk = tmp_path / "ca.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match=r"^HERALD_IMAP_CA_FILE names .*, which holds no PEM certificate"):
        _mailbox("imaps://bounces:pw@127.0.0.1:993/INBOX", HERALD_IMAP_CA_FILE=str(junk))

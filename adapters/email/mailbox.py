"""The mailbox where delivery reports arrive, read over IMAP (stdlib imaplib, in a worker thread).

Each poll looks only at unseen ``multipart/report`` mail, fetched with ``BODY.PEEK`` so
nothing is flagged by reading it. A report about Herald's mail is applied and then
marked \\Seen (it has been consumed); a report whose send is not recorded yet stays
unseen for the next poll. Everything else, other people's reports and ordinary mail
alike, is left exactly as it was: not deleted, not flagged, not marked read.

The password is sent only over TLS whose peer verified (``adapters.tls``): ``imaps://``
from the first byte, ``imap://`` after STARTTLS. A server whose certificate does not
verify, or an ``imap://`` server that offers no STARTTLS (unless ``HERALD_IMAP_INSECURE=on``),
gets no ``LOGIN``: the poll ends with ``InsecureConnection`` and its one sentence.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import re
import ssl
from collections import Counter
from contextlib import suppress

from adapters.email.reports import parse_report
from adapters.tls import verifying_context, why_untrusted
from bot.domain.errors import InsecureConnection
from bot.service.reports import Applied, DeliveryReports
from bot.settings import ImapSettings

log = logging.getLogger(__name__)

_UID = re.compile(rb"UID (\d+)")
_CRITERIA = '(UNSEEN HEADER Content-Type "multipart/report")'


class ReportMailbox:
    """Polls one IMAP mailbox for delivery reports and applies them."""

    def __init__(
        self,
        settings: ImapSettings,
        reports: DeliveryReports,
        *,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        """``tls_context`` defaults to one trusting ``HERALD_IMAP_CA_FILE``, else the system's CAs.

        Raises:
            ConfigError: when the CA file cannot be read.
        """
        self._settings = settings
        self._reports = reports
        self._timeout = timeout
        self._tls = tls_context or verifying_context(settings.ca_file, setting="HERALD_IMAP_CA_FILE")

    def _secured(self) -> imaplib.IMAP4:
        """A connection whose peer has verified, or a plain one the operator allowed; no LOGIN sent yet."""
        settings = self._settings
        try:
            if settings.tls:
                return imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=self._tls, timeout=self._timeout)
            client = imaplib.IMAP4(settings.host, settings.port, timeout=self._timeout)
        except ssl.SSLError as error:
            raise self._refused(error) from None
        try:
            if "STARTTLS" in client.capabilities:
                client.starttls(self._tls)
            elif not settings.insecure:
                raise InsecureConnection(
                    f"Herald did not log in to {self._where}: it offers no STARTTLS and the password is never sent "
                    "in the clear (use imaps://, or set HERALD_IMAP_INSECURE=on for a server on this host)."
                )
        except BaseException as error:
            with suppress(OSError):
                client.shutdown()
            if isinstance(error, (ssl.SSLError, imaplib.IMAP4.error)):
                raise self._refused(error) from None
            raise
        return client

    @property
    def _where(self) -> str:
        return f"the report mailbox at {self._settings.host}:{self._settings.port}"

    def _refused(self, error: Exception) -> InsecureConnection:
        if isinstance(error, ssl.SSLCertVerificationError):
            why = why_untrusted(error, ca_setting="HERALD_IMAP_CA_FILE")
        else:
            why = f"TLS could not be set up ({getattr(error, 'reason', None) or error})"
        return InsecureConnection(f"Herald did not log in to {self._where}: {why}.")

    def _connect(self) -> imaplib.IMAP4:
        settings = self._settings
        client = self._secured()
        try:
            client.login(settings.username, settings.password.reveal())
            status, _ = client.select(_quoted(settings.mailbox))
            if status != "OK":
                raise imaplib.IMAP4.error(f"cannot open the mailbox {settings.mailbox!r}")
        except BaseException:
            with suppress(OSError, imaplib.IMAP4.error):
                client.logout()
            raise
        return client

    def _fetch(self) -> list[tuple[bytes, bytes]]:
        client = self._connect()
        try:
            status, found = client.uid("SEARCH", _CRITERIA)
            uids = found[0].split() if status == "OK" and found and found[0] else []
            fetched: list[tuple[bytes, bytes]] = []
            for uid in uids[:200]:  # a flood of reports is worked through a few hundred at a time
                status, data = client.uid("FETCH", uid.decode(), "(UID BODY.PEEK[])")
                for item in data:
                    if isinstance(item, tuple) and _UID.search(item[0]):
                        fetched.append((uid, item[1]))
            return fetched
        finally:
            client.logout()

    def _mark_seen(self, uids: list[bytes]) -> None:
        client = self._connect()
        try:
            client.uid("STORE", b",".join(uids).decode(), "+FLAGS", "(\\Seen)")
        finally:
            client.logout()

    async def poll(self) -> Counter[Applied]:
        """Read the unseen reports once; apply those about Herald's mail. Returns what became of each."""
        fetched = await asyncio.to_thread(self._fetch)
        outcomes: Counter[Applied] = Counter()
        consumed: list[bytes] = []
        for uid, raw in fetched:
            reports = parse_report(raw)
            applied = [await self._reports.record(report) for report in reports]
            outcomes.update(applied)
            if applied and Applied.NOT_YET not in applied and any(a is not Applied.NOT_OURS for a in applied):
                consumed.append(uid)
        if consumed:
            await asyncio.to_thread(self._mark_seen, consumed)
        if fetched:
            log.info("delivery reports: %s", dict(outcomes))
        return outcomes


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'

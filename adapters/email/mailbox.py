"""The mailbox where bounces, delivery reports, read receipts and auto-replies arrive, over IMAP.

stdlib imaplib, in a worker thread. Each poll reads the mail it has not looked at yet
(a few hundred at a time), with ``BODY.PEEK`` so nothing is flagged by reading it. A
mail about Herald's mail is applied and then moved to ``HERALD_IMAP_PROCESSED``
(``Herald/Processed``, created when missing; marked \\Seen where the server cannot move
mail). One whose send is not recorded yet stays for the next poll. Everything else,
other people's bounces, ordinary mail, forged reports and mail too broken to read,
is left exactly as it was (not moved, flagged or marked read) and not read again by
this process; a broken mail is logged once and never stops the poll.

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

from adapters.email.config import ImapSettings
from adapters.email.inbound.matching import ReportReader
from adapters.email.inbound.model import MailKind
from adapters.email.inbound.reading import read_mail
from adapters.email.refs import MailRefs
from adapters.tls import verifying_context, why_untrusted
from bot.domain.errors import InsecureConnection
from bot.service.reports import Applied, DeliveryReports

log = logging.getLogger(__name__)

_UID = re.compile(rb"UID (\d+)")
_DELIMITER = re.compile(rb'\) "(.)" ')
_BATCH = 200  # a flood of mail is worked through a few hundred at a time


class ReportMailbox:
    """Polls one IMAP mailbox for delivery reports and applies them."""

    def __init__(
        self,
        settings: ImapSettings,
        reports: DeliveryReports,
        reader: ReportReader | None = None,
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
        self._reader = reader or ReportReader(MailRefs())
        self._looked_at: set[bytes] = set()  # mail read once, not to be read again (per UIDVALIDITY)
        self._validity: bytes | None = None
        self._folder: str | None = None  # HERALD_IMAP_PROCESSED as the server names it, once created
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
            _status, validity = client.response("UIDVALIDITY")
            if validity and validity[0] != self._validity:  # the mailbox was rebuilt: its UIDs name other mail now
                self._validity, self._looked_at = validity[0], set()
            status, found = client.uid("SEARCH", "ALL")
            uids = found[0].split() if status == "OK" and found and found[0] else []
            fetched: list[tuple[bytes, bytes]] = []
            for uid in [u for u in uids if u not in self._looked_at][:_BATCH]:
                status, data = client.uid("FETCH", uid.decode(), "(UID BODY.PEEK[])")
                for item in data:
                    if isinstance(item, tuple) and _UID.search(item[0]):
                        fetched.append((uid, item[1]))
            return fetched
        finally:
            client.logout()

    def _processed_folder(self, client: imaplib.IMAP4) -> str:
        """``HERALD_IMAP_PROCESSED`` in the server's hierarchy delimiter, created if missing (once a process)."""
        if self._folder is not None:
            return self._folder
        _status, listed = client.list('""', '""')
        first = listed[0] if listed and isinstance(listed[0], bytes) else b""
        found = _DELIMITER.search(first)
        delimiter = found.group(1).decode() if found else "/"
        folder = _quoted(self._settings.processed.replace("/", delimiter))
        client.create(folder)  # NO [ALREADYEXISTS] when another process made it: fine
        self._folder = folder
        return folder

    def _settle(self, uids: list[bytes]) -> None:
        """Move applied mail out of the way: MOVE where the server can, else copy and expunge just those."""
        client = self._connect()
        try:
            which = b",".join(uids).decode()
            client.uid("STORE", which, "+FLAGS", "(\\Seen)")
            folder = self._processed_folder(client)
            _status, listed = client.capability()  # what it offers once logged in, not in its greeting
            offered = set(listed[0].decode().upper().split()) if listed and isinstance(listed[0], bytes) else set()
            if "MOVE" in offered:
                client.uid("MOVE", which, folder)
            elif "UIDPLUS" in offered:
                status, _ = client.uid("COPY", which, folder)
                if status == "OK":
                    client.uid("STORE", which, "+FLAGS", "(\\Deleted)")
                    client.uid("EXPUNGE", which)
        finally:
            client.logout()

    async def check(self) -> int:
        """Log in and open the mailbox, as a poll does; how many mails it holds. Raises what a poll would."""

        def count() -> int:
            client = self._connect()
            try:
                status, data = client.uid("SEARCH", "ALL")
                return len(data[0].split()) if status == "OK" and data and data[0] else 0
            finally:
                client.logout()

        return await asyncio.to_thread(count)

    async def poll(self) -> Counter[Applied]:
        """Read the new mail once; apply what is about Herald's mail. Returns what became of each report."""
        fetched = await asyncio.to_thread(self._fetch)
        outcomes: Counter[Applied] = Counter()
        handled: list[bytes] = []
        for uid, raw in fetched:
            reading = read_mail(raw)
            if reading.kind is MailKind.OTHER and reading.sign:
                log.warning("mail UID %s in the report mailbox could not be read; left as it is: %s", uid, reading.sign)
            found = self._reader.reports(reading)
            applied = [await self._reports.record(report) for report in found.reports]
            outcomes.update(applied)
            if Applied.NOT_YET in applied:
                continue  # read again at the next poll
            self._looked_at.add(uid)  # applied or not ours: read once (a server that cannot move mail keeps it)
            if any(a is not Applied.NOT_OURS for a in applied):
                handled.append(uid)
            else:
                log.debug("mail UID %s left as it is: %s", uid, found.why or "no report of it is Herald's")
        if handled:
            await asyncio.to_thread(self._settle, handled)
        if fetched:
            log.info("report mailbox: %s", dict(outcomes))
        return outcomes


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'

"""Sending communiqués by SMTP (aiosmtplib), with the server's answers sorted into Herald's errors.

Sessions are reused (``adapters.email.sessions``): at most ``HERALD_SMTP_CONNECTIONS``
at once, each for a number of messages. Where the server offers PIPELINING (RFC 2920) a
message's envelope and DATA go together (``adapters.email.pipelining``): two round trips
a message instead of four. The relay's pace is ``EmailSettings.pace``
(``HERALD_SMTP_RATE``, ``SMTP_MAX_PER_MINUTE``). A 4xx reply or a broken connection is worth
another try (the engine backs off); a 5xx reply never is. A 421 (the server closing on
us) or a 4xx that says the client is going too fast is the server's 429: the whole
server's budget waits and slows down (``RateLimited``), not just that message. Where the
server advertises DSN (RFC 3461) each message asks for a delivery status notification,
success or failure, naming the delivery in ``ENVID`` so the report can be matched; with
a bounce address set, the envelope sender is the delivery's own signed return path
(VERP, ``adapters.email.refs``), so every bounce finds its delivery.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable
from datetime import UTC, datetime

import aiosmtplib

from adapters.email.config import EmailSettings
from adapters.email.message import build_message, message_ref, recipient
from adapters.email.pipelining import send_pipelined
from adapters.email.refs import MailRefs
from adapters.email.sessions import SmtpSessions
from adapters.tls import certificate_failure, verifying_context, why_untrusted
from bot.domain.delivery import Purpose, delivery_key
from bot.domain.destinations import Destination, Kind
from bot.domain.errors import DeliveryError, PermanentDeliveryError, RateLimited, RetryableDeliveryError
from bot.service.limits import Limits, Rate
from bot.service.ports import OutgoingMessage, Resolution, ResolvedTarget

AckLink = Callable[[OutgoingMessage], str | None]
_CA_SETTING = "HERALD_SMTP_CA_FILE"


# An unlimited relay still gets a ceiling, so that its 421 or "too fast" holds every message
# back (a block lives on the ceiling's bucket): HERALD_SMTP_RATE's highest value.
_UNLIMITED = 10_000.0


def mail_limits(settings: EmailSettings) -> Limits:
    """The relay's pace (``EmailSettings.pace``) as one ceiling shared by every Herald process.

    Its burst is one second's worth (at least one message), of which the limiter keeps
    part back for jitter: a relay that counts by the second never sees more than its
    limit, one that counts by the minute at most a second's worth more in any minute.
    """
    pace = settings.pace or _UNLIMITED
    return Limits(name=f"email:{settings.host}", ceiling=Rate(pace, burst=max(1.0, pace)))


# What relays say when the client (not one mailbox) goes too fast: SES "454 Throttling failure:
# Maximum sending rate exceeded", Office 365 "451 4.7.500 Server busy" and "432 4.3.2 ... thread
# limit exceeded", Gmail and Mailgun "421 ... too many connections". A busy *mailbox* (450 4.2.1)
# is that message's trouble only.
_TOO_FAST = re.compile(
    r"throttl|sending rate|rate limit|rate exceeded|limit exceeded|server busy|slow down"
    r"|too many (?:connections|messages|sessions|concurrent|requests)",
    re.IGNORECASE,
)
_QUOTA = re.compile(r"quota exceeded|daily (?:sending |message )?limit", re.IGNORECASE)
THROTTLED_FOR = 60.0  # seconds a server that said "too fast" is left alone (SMTP has no Retry-After)
QUOTA_WAIT = 600.0  # ... and one that said its quota is spent ("wait up to 10 minutes": Amazon SES)


def delivery_error(error: Exception) -> DeliveryError:
    """An SMTP failure as Herald's: 4xx and connection trouble retryable, "too fast" a rate limit, 5xx permanent."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        error = error.recipients[0]
    if isinstance(error, aiosmtplib.SMTPResponseException):
        text = f"SMTP {error.code}: {error.message}"[:300]
        if 500 <= error.code < 600:
            return PermanentDeliveryError(text)
        if _QUOTA.search(error.message):
            return RateLimited(f"{text} (the server's sending quota is spent for now)", retry_after=QUOTA_WAIT)
        if error.code == 421 or _TOO_FAST.search(error.message):
            return RateLimited(f"{text} (the server asks Herald to slow down)", retry_after=THROTTLED_FOR)
        return RetryableDeliveryError(text)
    untrusted = certificate_failure(error)
    if untrusted is not None:  # nothing was sent to that server, the password least of all
        why = why_untrusted(untrusted, ca_setting=_CA_SETTING)
        return RetryableDeliveryError(f"SMTP: the server was not trusted, so nothing was sent to it: {why}")
    if isinstance(error, (OSError, TimeoutError)):  # refused, reset, timed out, TLS failed (SMTP*Error included)
        return RetryableDeliveryError(f"SMTP server unreachable: {type(error).__name__}: {error}"[:300])
    return RetryableDeliveryError(f"SMTP: {error}"[:300])


class MailDirectory:
    """A mailbox is one target, read by its one owner."""

    async def resolve(self, destination: Destination) -> Resolution:
        person = destination.person
        return Resolution(destination, (ResolvedTarget(str(destination), Kind.EMAIL, (person,) if person else ()),))


class SmtpMessenger:
    """Sends each message as one mail transaction on a pooled SMTP session (``sessions``), pipelined where offered.

    TLS, implicit or by STARTTLS, verifies the server (``adapters.tls``): ``tls_context``
    defaults to one trusting ``HERALD_SMTP_CA_FILE``, else the system's CAs. A login and a
    message go only over TLS that verified, or in the clear to a relay that offers no
    STARTTLS and asks for no login (``smtp://host:25``).
    """

    def __init__(
        self,
        settings: EmailSettings,
        *,
        refs: MailRefs | None = None,
        ack_link: AckLink | None = None,
        unsubscribe_link: AckLink | None = None,
        tls_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._settings = settings
        self._refs = refs or MailRefs()
        self._ack_link = ack_link
        self._unsubscribe_link = unsubscribe_link  # a subscriber's mail: its one-click way out (RFC 8058)
        self._tls_context = tls_context or verifying_context(settings.ca_file, setting=_CA_SETTING)
        self._timeout = timeout
        self._now = clock or (lambda: datetime.now(UTC))
        self.sessions = SmtpSessions(self.open_session, connections=settings.connections)

    async def open_session(self) -> aiosmtplib.SMTP:
        """A new session: connected, TLS as configured, logged in, and greeted (its extensions known)."""
        settings = self._settings
        client = self._client()
        await client.connect()
        try:
            if settings.username is not None and settings.password is not None:
                await client.login(settings.username, settings.password.reveal())
            if client.is_ehlo_or_helo_needed:  # implicit TLS without a login has not said EHLO yet
                await _greet(client)
        except BaseException:
            client.close()
            raise
        return client

    def _client(self) -> aiosmtplib.SMTP:
        settings = self._settings
        return aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            use_tls=settings.tls == "tls",
            # A login is never sent in the clear; without one, TLS is used when offered.
            start_tls=True if settings.tls == "starttls" else (False if settings.tls == "tls" else None),
            tls_context=self._tls_context,
            timeout=self._timeout,
        )

    def _corrected_mail(self, message: OutgoingMessage) -> str | None:
        """The envelope id of the mail a correction or a retraction follows up: the communiqué to the same address."""
        if message.purpose not in (Purpose.CORRECTION, Purpose.RETRACTION):
            return None
        # It changes the group's communiqué to that target, whose key is the plain one.
        return self._refs.envelope_id(delivery_key(message.version, message.group_id, message.target))

    async def send(self, message: OutgoingMessage) -> str:
        if message.kind is not Kind.EMAIL:
            raise PermanentDeliveryError(f"e-mail cannot deliver to {message.target}")
        settings = self._settings
        ack_url = self._ack_link(message) if self._ack_link is not None else None
        unsubscribe_url = self._unsubscribe_link(message) if self._unsubscribe_link is not None else None
        envid = self._refs.envelope_id(message.delivery_key)
        return_path = self._refs.return_path(envid)
        mail = build_message(
            message,
            sender=settings.sender,
            now=self._now(),
            envid=envid,
            ack_url=ack_url,
            read_receipt=message.read_receipt,
            return_path=return_path,
            replies_to=self._corrected_mail(message),
            unsubscribe_url=unsubscribe_url,
        )
        try:
            async with self.sessions.session() as client:
                mail_options: list[str] = []
                rcpt_options: list[str] = []
                if client.supports_extension("dsn"):
                    mail_options = ["RET=HDRS", f"ENVID={envid}"]
                    rcpt_options = ["NOTIFY=SUCCESS,FAILURE"]
                sender = return_path or settings.sender.addr_spec
                if client.supports_extension("pipelining"):
                    await send_pipelined(
                        client,
                        mail,
                        sender=sender,
                        recipient=recipient(message.to),
                        mail_options=mail_options,
                        rcpt_options=rcpt_options,
                        reply_within=self._timeout,
                    )
                else:
                    await client.send_message(
                        mail,
                        sender=sender,
                        recipients=[recipient(message.to)],
                        mail_options=mail_options,
                        rcpt_options=rcpt_options,
                    )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise delivery_error(error) from None
        return message_ref(envid)


async def _greet(client: aiosmtplib.SMTP) -> None:
    """EHLO, or HELO from a server that does not know EHLO (as aiosmtplib does before a message)."""
    try:
        await client.ehlo()
    except aiosmtplib.SMTPHeloError:
        if not client.is_connected:
            raise
        await client.helo()

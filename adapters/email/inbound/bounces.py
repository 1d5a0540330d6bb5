"""Non-delivery notices in the formats MTAs used before (and beside) RFC 3464.

qmail, Exchange, GroupWise, Yahoo, SMTP32, Lotus, Sendmail's and Exim's plain-text
bounces, and dozens of one-off formats: flufl.bounce (Mailman's bounce detectors, kept
up as a library) knows them, and tells temporary from permanent failures. Here each
address it finds gets the status code and the line of the notice that mention it.

A notice that names no address may still be a bounce: sent by a mailer daemon, with a
subject such as "Undeliverable" or "failure notice". Sent to a return path that names
the delivery, that is enough to know whose mail bounced.
"""

from __future__ import annotations

import logging
import re
from email.message import Message

from flufl.bounce import all_failures

from adapters.email.inbound.model import RecipientLine
from adapters.email.inbound.parts import header, notice_text, status_code
from bot.service.reports import ReportAction

log = logging.getLogger(__name__)

_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery (?:system|subsystem)|mailer|<>", re.IGNORECASE)
_SUBJECT = re.compile(
    r"undeliver|undelivered|returned mail|delivery (?:status notification|failure|has failed|failed)|"
    r"failure notice|mail delivery failed|non[- ]?delivery|could not be delivered|nondeliverable|bounce|"
    r"mail error|delivery error|not delivered|returned to sender|rejected",
    re.IGNORECASE,
)


def _mentions(text: str, address: str) -> str:
    """The line of the notice that names ``address`` (with the next one when it is short), for people."""
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        if address in line.lower():
            following = lines[index + 1] if index + 1 < len(lines) else ""
            return (line + (" " + following if len(line) < 60 and following else "")).strip()[:300]
    return ""


def read_bounce(mail: Message) -> list[RecipientLine]:
    """The failing recipients a non-DSN bounce names, each with its status where the notice gives one."""
    try:
        temporary, permanent = all_failures(mail)
    except Exception:  # a detector tripping over odd mail must not stop the others
        log.debug("a bounce detector failed on this mail", exc_info=True)
        return []
    text = notice_text(mail)
    lines: list[RecipientLine] = []
    for found, action in ((permanent, ReportAction.FAILED), (temporary - permanent, ReportAction.DELAYED)):
        for raw in sorted(found):
            address = raw.decode("utf-8", errors="replace").strip("<>").lower()
            said = _mentions(text, address)
            status = status_code(said) or ("5.0.0" if action is ReportAction.FAILED else "4.0.0")
            lines.append(RecipientLine(address=address, action=action, status=status, diagnostic=said))
    return lines


def looks_like_bounce(mail: Message) -> bool:
    """Whether a mail that names no address is still a non-delivery notice: a daemon's, with a bounce's subject."""
    sender = header(mail, "From") + " " + header(mail, "Return-Path")
    return bool(_DAEMON.search(sender)) and bool(_SUBJECT.search(header(mail, "Subject")))

"""From a mail, read, to the delivery reports it makes: which of Herald's mails it is about.

A signed return path (VERP, ``adapters.email.refs``) names the delivery outright, so a
bounce that gives no envelope id, no Message-ID and not even the address still finds it.
A return path of Herald's form whose signature does not verify was forged or altered:
the mail is "not ours" and changes nothing, whatever else it claims. Without a return
path, the mail must name Herald's envelope id (``ENVID``, the returned Message-ID, an
MDN's ``Original-Message-ID``, a reply's ``In-Reply-To``), and the service also checks
that it names the address the mail went to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapters.email.inbound.model import MailKind, MailReading, RecipientLine
from adapters.email.message import message_ref
from adapters.email.refs import MailRefs
from bot.service.reports import DeliveryReport, ReportAction

_ENVID = re.compile(r"^[0-9a-f]{32}\Z")


@dataclass(frozen=True, slots=True)
class Reports:
    """The reports a mail makes, or (when it makes none) why."""

    reports: tuple[DeliveryReport, ...]
    why: str = ""


class ReportReader:
    """Turns mails, read, into delivery reports about Herald's own mail."""

    def __init__(self, refs: MailRefs) -> None:
        self._refs = refs

    def reports(self, reading: MailReading) -> Reports:
        """The reports ``reading`` makes."""
        if reading.kind is MailKind.OTHER:
            return Reports((), "it is not a delivery report, bounce, read receipt or auto-reply")
        returned = self._refs.returned(reading.delivered_to)
        if returned is not None and returned.forged:
            return Reports(
                (), f"its return path {returned.address} does not carry Herald's signature (forged or altered)"
            )
        lines = reading.recipients
        if returned is not None and returned.envid is not None:
            envid, by_return_path = returned.envid, True
            if not lines:  # a bounce that names no one: the return path says whose mail it was
                lines = (
                    RecipientLine(address="", action=ReportAction.FAILED, status="5.0.0", diagnostic=reading.subject),
                )
        else:
            envid = next((found for found in reading.message_ids if _ENVID.match(found)), "")
            by_return_path = False
            if not envid:
                return Reports((), "it names no mail of Herald's (no signed return path, envelope id or Message-ID)")
        if not lines:
            return Reports((), "it names no recipient")
        return Reports(
            tuple(
                DeliveryReport(
                    message_ref=message_ref(envid),
                    recipient=line.address,
                    action=line.action,
                    status=line.status,
                    diagnostic=line.diagnostic,
                    reporter=reading.reporter,
                    by_return_path=by_return_path,
                )
                for line in lines
            )
        )

"""The release desk: every command a person can give, handled the same way on every platform.

Each handler runs in one unit of work. A refused step ends in one sentence for the
person and an audit entry; nothing already recorded changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from bot.domain.commands import (
    Acknowledge,
    AnnounceRelease,
    ApproveCommunique,
    ApproveRelease,
    CancelRelease,
    Command,
    ConfirmRelease,
    CorrectCommunique,
    EditCommunique,
    OpenDashboard,
    RemindNow,
    RequestSend,
    RescheduleRelease,
    Resend,
    RetractRelease,
    RetryFailed,
    SendBackCommunique,
    ShowHelp,
    ShowStatus,
    ShowSubscriptions,
    SkipGroup,
    Subscribe,
    Unsubscribe,
)
from bot.domain.errors import HeraldError
from bot.service.desk.core import RETRIES_ON_CONFLICT
from bot.service.desk.corrections import Corrections
from bot.service.desk.reading import Reading
from bot.service.desk.retraction import Retractions
from bot.service.desk.subscriptions import Subscriptions
from bot.service.desk.web import WebPages
from bot.service.ports import ConcurrentUpdate
from bot.service.views import Notice, Reply, Tone

log = logging.getLogger(__name__)

_TROUBLE = (
    "Herald could not finish that because of a problem on its side (is its database reachable?). "
    "Nothing was changed; please try again in a moment."
)


class ReleaseDesk(Corrections, Retractions, Reading, WebPages, Subscriptions):
    """Handles commands; the only way people change a release.

    Its parts share one state (``DeskCore``): ``Corrections`` over ``Review`` (the walkthrough's
    steps, and the corrections they become once sending has begun), ``Retractions`` over
    ``Sending`` (the send, what follows it, and its withdrawal), ``Reading`` (status, the
    thread, receipts), ``WebPages`` (sign-in links, the dashboard) and ``Subscriptions`` (who chose to hear).
    """

    _HANDLERS: ClassVar[dict[type[Command], str]] = {  # each command, and the method that carries it out
        AnnounceRelease: "_announce",
        ConfirmRelease: "_confirm",
        ApproveCommunique: "_approve_or_correct",
        EditCommunique: "_revise",
        CorrectCommunique: "_correct",
        SendBackCommunique: "_send_back_or_withdraw",
        SkipGroup: "_skip",
        RequestSend: "_request_send",
        ApproveRelease: "_approve_release_or_retraction",
        CancelRelease: "_cancel_or_withdraw",
        RetractRelease: "_retract",
        RescheduleRelease: "_reschedule",
        ShowStatus: "_status",
        RetryFailed: "_retry",
        Resend: "_resend",
        RemindNow: "_remind",
        ShowHelp: "_help",
        OpenDashboard: "_dashboard",
        Acknowledge: "_acknowledge",
        Subscribe: "_subscribe",
        Unsubscribe: "_unsubscribe",
        ShowSubscriptions: "_subscriptions",
    }
    _NOT_ABOUT_A_RELEASE = (Acknowledge, ShowStatus, ShowHelp, OpenDashboard, Subscribe, Unsubscribe, ShowSubscriptions)

    async def handle(self, command: Command) -> Reply:
        """Carry out one command and say what happened."""
        handler: Callable[[Any], Awaitable[Reply]] = getattr(self, self._HANDLERS[type(command)])
        walkthrough = not isinstance(command, self._NOT_ABOUT_A_RELEASE)
        for attempt in range(RETRIES_ON_CONFLICT):
            try:
                if walkthrough:
                    # Resolve destinations (platform calls, rate limited) before any transaction
                    # opens, so no database connection is held waiting on a platform's budget.
                    # A resend asks afresh: who was left out (a deactivated account) may be back.
                    await self.resolutions(refresh=isinstance(command, Resend) and attempt == 0)
                    await self._look_up_subscribers(command)
                return await handler(command)
            except ConcurrentUpdate:
                # Someone changed the release between our read and write (a double
                # click, two people at once): read again and re-decide.
                log.info("concurrent update on %s, retrying (%d)", type(command).__name__, attempt + 1)
            except HeraldError as error:
                await self._record_refusal(command, error)
                return Reply([Notice(str(error), Tone.ERROR)])
            except Exception:  # the database went away, a bug: a sentence for the person, details in the log
                if isinstance(command, Acknowledge) and attempt + 1 < RETRIES_ON_CONFLICT:
                    # A receipt is idempotent and the platform has been told it arrived: try again.
                    log.warning("recording a receipt failed; retrying", exc_info=True)
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                log.exception("%s failed", type(command).__name__)
                return Reply([Notice(_TROUBLE, Tone.ERROR)])
        return Reply([Notice("Someone else changed this release at the same moment; please try again.", Tone.ERROR)])

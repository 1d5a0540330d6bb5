"""Faults a test queues on the fake Slack: one failed answer, every answer, or an answer dropped."""

from __future__ import annotations

from collections import deque

from tests.fakes.slack._constants import Json
from tests.fakes.slack._model import Failure
from tests.fakes.slack._state import State


class Faults(State):
    """Failures queued per method, used in order; permanent ones answer every matching call."""

    def fail_next(
        self,
        method: str,
        error: str | None = None,
        status: int | None = None,
        retry_after: int | None = 2,
        channel: str | None = None,
    ) -> None:
        """Queue one failed answer for ``method`` (optionally only for calls on ``channel``).

        With no arguments it is a 429 ``ratelimited`` carrying ``Retry-After``. ``status=500`` gives a
        5xx ``internal_error``; an error code alone (``fail_next("chat.update", "message_not_found")``)
        is an ordinary HTTP 200 Slack error. Queued failures for one method are used in order.
        """
        resolved_status = status if status is not None else (429 if error in (None, "ratelimited") else 200)
        resolved_error = error or ("ratelimited" if resolved_status == 429 else "internal_error")
        after = retry_after if resolved_status == 429 else None
        self._queued.setdefault(method, deque()).append(Failure(resolved_error, resolved_status, after, channel))

    def drop_answer_next(self, method: str) -> None:
        """Carry out the next call of ``method``, then close the connection without answering it."""
        self._drop_answers.add(method)

    def fail_always(self, method: str, error: str, channel: str | None = None, *, user: str | None = None) -> None:
        """Answer every call of ``method`` (on ``channel``, or for ``user`` if given) with this Slack error."""
        self._permanent.setdefault(method, []).append(Failure(error, 200, None, channel, user))

    def _take_failure(self, method: str, params: Json) -> Failure | None:
        queue = self._queued.get(method)
        if queue:
            for failure in queue:
                if failure.matches(params):
                    queue.remove(failure)
                    return failure
        return next((f for f in self._permanent.get(method, ()) if f.matches(params)), None)

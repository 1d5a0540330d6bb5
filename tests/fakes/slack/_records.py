"""What the fake Slack records for tests to read: calls, throttles, posts to response URLs, opened modals."""

from __future__ import annotations

from dataclasses import dataclass

from tests.fakes.slack._constants import Json


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake received: the method, its decoded parameters, when, and any error given."""

    method: str
    params: Json
    at: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Throttle:
    """One 429 the rate limits gave: the method, the bucket that refused it, when, and the Retry-After sent.

    A method's workspace bucket is named after the method (for ``chat.postMessage`` that is the
    workspace message ceiling); a channel's bucket is ``"chat.postMessage:<channel id>"``, where a
    post to a user id counts against the DM channel with that person.
    """

    method: str
    bucket: str
    at: float
    retry_after: int


@dataclass(frozen=True, slots=True)
class ResponsePost:
    """One JSON body POSTed to a ``response_url`` handed out by the fake."""

    name: str
    body: Json
    at: float


@dataclass(frozen=True, slots=True)
class OpenedView:
    """A modal opened with ``views.open``: the trigger that opened it and the view as Slack returned it."""

    trigger_id: str
    view: Json
    at: float

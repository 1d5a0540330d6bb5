"""A fake Slack for tests: a local Web API server, and requests signed exactly as Slack signs them.

``FakeSlack`` is a real aiohttp server on 127.0.0.1. Point ``AsyncWebClient(base_url=slack.api_url)``
at it and it answers like Slack for the methods Herald uses, with Slack's own error codes, while
recording every call. Faults are queued with ``fail_next`` (one answer) or ``fail_always`` (every
answer, optionally for one channel or user). With ``enforce_limits=True`` it also holds every method to
Slack's documented rate limit (the table in ``tests/fakes/slack/limits.py``) and answers 429 as Slack does.

The builders (``slash_command``, ``block_action``, ``view_submission``, ``event_callback``) return a
``SignedRequest`` (a ``(body, headers)`` tuple) to post to the app's front door; ``reaction_added``
and ``reaction_removed`` build the inner event for ``event_callback``.

Shapes follow Slack's documented payloads and the recorded bodies in slackapi/bolt-python's tests;
nothing is sent that Slack does not send.

How it is laid out: ``_fake`` is ``FakeSlack`` itself (seeding and reading), built on ``_server``
(HTTP and the order an answer is decided in) over one layer per concern on the workspace in
``_state``: the methods by family (``_chat``, ``_conversations``, ``_users``, ``_views``), queued
faults (``_faults``), rate limits and storms (``_metering``, with the documented table in
``limits``) and Socket Mode (``_socket_mode``). The requests Slack sends an app are built in
``_signing``, ``_interactivity`` and ``_events``.
"""

from __future__ import annotations

from tests.fakes.slack._constants import (
    APP_ID,
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    VERIFICATION_TOKEN,
    manifest_scopes,
)
from tests.fakes.slack._events import event_callback, reaction_added, reaction_removed
from tests.fakes.slack._fake import FakeSlack
from tests.fakes.slack._interactivity import block_action, slash_command, view_submission
from tests.fakes.slack._records import Call, OpenedView, ResponsePost, Throttle
from tests.fakes.slack._signing import SignedRequest, sign

__all__ = [
    "APP_ID",
    "APP_TOKEN",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "VERIFICATION_TOKEN",
    "Call",
    "FakeSlack",
    "OpenedView",
    "ResponsePost",
    "SignedRequest",
    "Throttle",
    "block_action",
    "event_callback",
    "manifest_scopes",
    "reaction_added",
    "reaction_removed",
    "sign",
    "slash_command",
    "view_submission",
]

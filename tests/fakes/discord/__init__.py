"""A fake Discord for tests: the REST API and the gateway, served to a real discord.py client.

``FakeDiscord`` is a real aiohttp server on 127.0.0.1. ``fake.patched()`` points discord.py's two
hard-coded addresses at it (``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``),
after which an unmodified ``discord.Client`` or ``commands.Bot`` logs in over REST, IDENTIFYs over
the gateway, gets READY and GUILD_CREATE, and talks to a small guild ("Herald Test") that tests seed
with ``add_channel``, ``add_user``, ``add_role`` and ``add_webhook`` (a channel's incoming webhook,
which anyone holding its token executes and edits the posts of, without the bot's token).

Everything the client does is recorded: every REST call (``calls``), the messages it posted or
edited (``messages``, a webhook's posts with its ``webhook_id`` and the name they showed), threads,
DMs, the application commands it synced, and every interaction callback with its follow-ups
(``responses``). Tests drive the client the way Discord would:
``slash_command``, ``click`` and ``submit_modal`` send an INTERACTION_CREATE and wait for the
client's callback; ``react``, ``unreact`` and ``dispatch`` send gateway events. Faults are queued
with ``fail_next`` (a 429 with ``retry_after`` by default, or any status with a JSON error code).

With ``enforce_limits=True`` it holds the client to Discord's rate limits, as tabled in
``tests/fakes/discord/limits.py``: the global 50 requests a second (interaction endpoints aside) and
each route's bucket, kept per channel, guild or webhook. Every answer then carries that bucket's
real state in ``X-RateLimit-Limit``/``-Remaining``/``-Reset``/``-Reset-After``/``-Bucket`` (none for
a route with no limit of its own, as on Discord); a call over a limit gets Discord's 429 and is
recorded in ``throttled``, and one inside a window the client had been told to wait out also in
``early_calls``. A served route with no row answers 501 and is recorded in ``untabled_calls``.

Shapes follow Discord API v10 as discord.py 2.7 parses them (``discord/types/``). Things discord.py
insists on, found while building this: every JSON answer must carry ``Content-Type`` exactly
``application/json`` (no charset), a 429 without a ``Via`` header is taken for a Cloudflare ban and
not retried, and an interaction payload without ``attachment_size_limit`` fails to parse.

It does not model permissions or channel overwrites, Discord's anti-spam limits (queue a 403 with
code 40003, "You are opening direct messages too fast", instead), the 3-second interaction deadline
on the client side (the drivers simply time out), attachments, zlib-compressed gateway frames (plain
text frames are allowed), sharding, or voice.

How it is laid out: ``_fake`` is ``FakeDiscord`` itself (lifecycle, seeding, faults, reading), built
from one layer per concern over the state in ``_state``: ``_shapes`` (the JSON Discord sends),
``_gateway`` (the websocket), ``_router`` (HTTP routing and the rate-limit gate, with ``_throttling``
for the headers and refusals), one ``_rest_*`` module per resource (``_rest_webhooks`` a channel's
webhooks), and the drivers a test uses
(``_drive_interactions``, ``_drive_events``). ``limits`` is the documented rate-limit table, metered
by ``_meter``.
"""

from __future__ import annotations

from tests.fakes.discord._constants import APP_ID, BOT_TOKEN, BOT_USER_ID, GUILD_ID, OWNER_ID
from tests.fakes.discord._fake import FakeDiscord
from tests.fakes.discord._records import Call, FakeMessage, FakeThread, InteractionResponse, Throttle

__all__ = [
    "APP_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "GUILD_ID",
    "OWNER_ID",
    "Call",
    "FakeDiscord",
    "FakeMessage",
    "FakeThread",
    "InteractionResponse",
    "Throttle",
]

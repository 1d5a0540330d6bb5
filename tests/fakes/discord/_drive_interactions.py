"""How a test drives the client through interactions: a slash command, a click, a modal submitted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

from tests.fakes.discord._constants import (
    APP_ID,
    ATTACHMENT_SIZE_LIMIT,
    BOT_PERMISSIONS,
    DM,
    GUILD_ID,
    MEMBER_PERMISSIONS,
    TEXT,
    Json,
)
from tests.fakes.discord._gateway import Gateway
from tests.fakes.discord._model import Channel, Interaction
from tests.fakes.discord._records import FakeMessage, InteractionResponse, walk_components


class InteractionDrivers(Gateway):
    """Send an INTERACTION_CREATE to the newest live session and wait for the client's callback."""

    async def slash_command(
        self,
        user_id: int,
        channel_id: int,
        name: str,
        options: list[Json] | Mapping[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        guild_id: int | None = GUILD_ID,
        timeout: float = 3.0,  # noqa: ASYNC109 - a timeout here fails the test with what it waited for
    ) -> InteractionResponse:
        """Invoke ``/name [subcommand] option:value…`` as ``user_id``; return the client's callback.

        ``options`` is a list of ``{"name", "value"}`` (``"type"`` optional: taken from the synced
        command, else from the value's Python type) or a plain ``{name: value}`` mapping.
        ``subcommand`` may be ``"group sub"``. With ``guild_id=None`` it comes from the user's DM.
        """
        command, scope = self._find_command(name, guild_id)
        definitions: list[Json] = list(command.get("options", [])) if command else []
        leaf_options, path = definitions, (subcommand.split() if subcommand else [])
        for part in path:
            leaf_options = next((o.get("options", []) for o in leaf_options if o.get("name") == part), [])
        built = [typed_option(o, leaf_options) for o in normalise_options(options)]
        for part, kind in reversed(list(zip(path, [2] * (len(path) - 1) + [1], strict=True))):
            built = [{"type": kind, "name": part, "options": built}]
        data: Json = {
            "id": str(command["id"]) if command else str(self._next_id()),
            "name": name,
            "type": 1,
            "options": built,
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        return await self._interact(2, user_id, channel_id, guild_id, data, None, timeout)

    async def click(
        self,
        user_id: int,
        message_id: int,
        custom_id: str,
        *,
        values: list[str] | None = None,
        timeout: float = 3.0,  # noqa: ASYNC109 - a timeout here fails the test with what it waited for
    ) -> InteractionResponse:
        """Press the button (or choose ``values`` in the select) with ``custom_id`` on a stored message."""
        message = self._stored(message_id)
        component = next((c for c in walk_components(message.components) if c.get("custom_id") == custom_id), None)
        if component is None:
            raise AssertionError(f"message {message_id} has no component {custom_id!r}; it has {message.custom_ids()}")
        data: Json = {"custom_id": custom_id, "component_type": component["type"]}
        if "id" in component:
            data["id"] = component["id"]
        if component["type"] != 2:
            data["values"] = list(values or [])
        channel = self._channels[message.channel_id]
        guild_id = self._guild_of(channel)
        return await self._interact(3, user_id, channel.id, guild_id, data, message, timeout)

    async def submit_modal(
        self,
        user_id: int,
        custom_id: str,
        values: Mapping[str, str],
        *,
        channel_id: int,
        message_id: int | None = None,
        timeout: float = 3.0,  # noqa: ASYNC109 - a timeout here fails the test with what it waited for
    ) -> InteractionResponse:
        """Submit the modal ``custom_id`` with these text input values, as ``user_id`` in ``channel_id``.

        The submitted components mirror the modal the client last opened with this ``custom_id``
        (action rows, or labels) and are plain action rows of text inputs otherwise.
        """
        shown = next(
            (r.data for r in reversed(self.responses) if r.type == 9 and r.data.get("custom_id") == custom_id), None
        )
        components = modal_submission(shown, values)
        message = self._stored(message_id) if message_id is not None else None
        if channel_id not in self._channels:
            raise AssertionError(f"no channel {channel_id}; add_channel first")
        guild_id = self._channels[channel_id].guild_id
        data: Json = {"custom_id": custom_id, "components": components}
        return await self._interact(5, user_id, channel_id, guild_id, data, message, timeout)

    async def _interact(
        self,
        kind: int,
        user_id: int,
        channel_id: int,
        guild_id: int | None,
        data: Json,
        message: FakeMessage | None,
        within: float,
    ) -> InteractionResponse:
        if user_id not in self._users:
            raise AssertionError(f"no user {user_id}; add_user first")
        if guild_id is None and self._channels.get(channel_id, Channel(0, TEXT)).type != DM:
            channel_id = self._open_dm(user_id)
        if channel_id not in self._channels:
            raise AssertionError(f"no channel {channel_id}; add_channel first")
        channel = self._channels[channel_id]
        if channel.type == DM:
            guild_id = None
        interaction_id = self._next_id()
        token = f"fake-interaction-{interaction_id}-{uuid.uuid4().hex}"
        loop = asyncio.get_running_loop()
        interaction = Interaction(
            interaction_id, token, kind, user_id, channel_id, guild_id,
            message.id if message else None, loop.create_future(),
        )  # fmt: skip
        self._interactions[interaction_id] = interaction
        self._by_token[token] = interaction
        payload: Json = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": kind,
            "data": data,
            "channel_id": str(channel_id),
            "channel": self._channel_json(channel),
            "token": token,
            "version": 1,
            "app_permissions": BOT_PERMISSIONS,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = {**self._member_json(guild_id, user_id), "permissions": MEMBER_PERMISSIONS}
            payload["authorizing_integration_owners"] = {"0": str(guild_id)}
            payload["context"] = 0
        else:
            payload["user"] = self._users[user_id].to_json()
            payload["authorizing_integration_owners"] = {"0": str(GUILD_ID)}
            payload["context"] = 1
        if message is not None:
            payload["message"] = self._message_json(message)
        session = await self._newest_live_session(within)
        await self._send(session, "INTERACTION_CREATE", payload)
        try:
            return await asyncio.wait_for(asyncio.shield(interaction.answered), within)
        except TimeoutError:
            raise AssertionError(
                f"the client did not answer interaction {interaction_id} (type {kind}, {data}) within {within}s"
            ) from None

    def _find_command(self, name: str, guild_id: int | None) -> tuple[Json | None, int | None]:
        if guild_id is not None:
            for command in self.guild_commands.get(guild_id, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command, guild_id
        for command in self.commands:
            if command["name"] == name and command.get("type", 1) == 1:
                return command, None
        return None, None


def normalise_options(options: list[Json] | Mapping[str, Any] | None) -> list[Json]:
    if options is None:
        return []
    if isinstance(options, Mapping):
        return [{"name": name, "value": value} for name, value in options.items()]
    return [dict(o) for o in options]


def typed_option(given: Json, definitions: list[Json]) -> Json:
    if "type" not in given:
        defined = next((d for d in definitions if d.get("name") == given["name"]), None)
        if defined is not None:
            given["type"] = defined["type"]
        else:
            value = given.get("value")
            given["type"] = (
                5 if isinstance(value, bool) else 4 if isinstance(value, int) else 10 if isinstance(value, float) else 3
            )
    return given


def modal_submission(shown: Json | None, values: Mapping[str, str]) -> list[Json]:
    if shown is None:
        return [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
    submitted: list[Json] = []
    for row in shown.get("components", []):
        if row.get("type") == 18 and isinstance(row.get("component"), dict):
            inner = row["component"]
            if inner.get("custom_id") in values:
                entry = {"type": inner["type"], "custom_id": inner["custom_id"], "value": values[inner["custom_id"]]}
                submitted.append({"type": 18, "component": entry})
        elif row.get("type") == 1:
            inputs = [
                {"type": c["type"], "custom_id": c["custom_id"], "value": values[c["custom_id"]]}
                for c in row.get("components", [])
                if c.get("custom_id") in values
            ]
            if inputs:
                submitted.append({"type": 1, "components": inputs})
    return submitted

"""Discord's widgets as discord.py classes: the /release commands, the buttons, the modal, the client.

Each hands what it receives to the front door (``adapters/discord/app.py``) through the
client's ``front``; buttons and modals are rebuilt from their ``custom_id`` on every
interaction, so they keep working after a restart.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import discord
from discord import app_commands

from adapters.discord import render, translate
from adapters.discord.pace import RestPace

log = logging.getLogger(__name__)

EDIT_LIMIT = 4000  # a text input holds at most 4,000 characters


class Front(Protocol):
    """What the widgets hand their interactions to (``DiscordFrontDoor``)."""

    async def command(self, interaction: discord.Interaction[Any], text: str) -> None: ...

    async def walkthrough_button(self, interaction: discord.Interaction[Any], action: str, version: str) -> None: ...

    async def ack_button(self, interaction: discord.Interaction[Any]) -> None: ...

    async def unsubscribe_button(self, interaction: discord.Interaction[Any], component: str) -> None: ...

    async def modal_submitted(self, interaction: discord.Interaction[Any]) -> None: ...

    async def reaction(self, payload: discord.RawReactionActionEvent) -> None: ...


class TextModal(discord.ui.Modal):
    """One paragraph about one communiqué (its new text, or why it goes back) or, with no ``group``,
    about the release (why it is retracted).

    A submit is handled by ``HeraldClient.on_interaction`` from the interaction alone (kind and
    release in the ``custom_id``, the communiqué from the message the modal was opened from),
    so it counts even when Herald restarted while the modal was open.
    """

    def __init__(
        self,
        title: str,
        kind: str,
        version: str,
        group: str | None,
        input_id: str,
        current: str,
        *,
        limit: int = EDIT_LIMIT,
    ) -> None:
        super().__init__(title=title, custom_id=translate.modal_id(kind, version), timeout=15 * 60)
        self.text: discord.ui.TextInput[TextModal] = discord.ui.TextInput(
            label=render.cut(f"{group} · {version}" if group else f"Release {version}", 45),
            custom_id=input_id,
            style=discord.TextStyle.paragraph,
            default=current[:limit] or None,
            max_length=limit,
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        """Nothing here: the client's ``on_interaction`` handles every submit, before and after a restart."""


def _front(interaction: discord.Interaction[Any]) -> Front:
    front: Front | None = getattr(interaction.client, "front", None)
    if front is None:
        raise RuntimeError("the Discord client has no Herald front door")
    return front


class WalkthroughButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=translate.WALKTHROUGH.pattern):
    """Any walkthrough button, rebuilt from its ``custom_id`` on every click (so restarts do not matter)."""

    def __init__(self, action: str, version: str) -> None:
        super().__init__(discord.ui.Button(custom_id=translate.custom_id(action, version)))
        self.action, self.version = action, version

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> WalkthroughButton:
        return cls(str(match["action"]), str(match["version"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _front(interaction).walkthrough_button(interaction, self.action, self.version)


class AckButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=translate.ACK_TEMPLATE):
    """The Acknowledge button on every delivered copy (marked with its delivery, or bare on older copies)."""

    def __init__(self, custom_id: str = translate.ACK) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> AckButton:
        return cls(match.string)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _front(interaction).ack_button(interaction)


class UnsubscribeButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=translate.UNSUBSCRIBE_TEMPLATE):
    """Unsubscribe, on a copy that reached its reader through a subscription."""

    def __init__(self, component: str) -> None:
        super().__init__(discord.ui.Button(custom_id=f"{translate.UNSUBSCRIBE}:{component}"))
        self.component = component

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> UnsubscribeButton:
        return cls(str(match["component"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _front(interaction).unsubscribe_button(interaction, self.component)


_SUBCOMMANDS = (
    ("announce", "Start the walkthrough: check and approve each communiqué"),
    ("status", "Deliveries and acknowledgements of a release"),
    ("remind", "Remind everyone who has not acknowledged yet, now"),
    ("retry", "Send again whatever failed"),
    ("cancel", "Cancel a release that has not been sent"),
    ("dashboard", "A private sign-in link to the release's live dashboard on the web"),
)


def _versioned(name: str, description: str) -> app_commands.Command[Any, Any, None]:
    @app_commands.describe(version="the release version, e.g. 2.4")
    async def callback(interaction: discord.Interaction[Any], version: str) -> None:
        await _front(interaction).command(interaction, f"{name} {version}")

    return app_commands.Command(name=name, description=description, callback=callback)


def release_commands() -> app_commands.Group:
    """The ``/release`` command group, as synced to Discord and answered by the front door."""
    group = app_commands.Group(name="release", description="Herald: validate, send and track release communications")
    for name, description in _SUBCOMMANDS:
        group.add_command(_versioned(name, description))

    async def show_help(interaction: discord.Interaction[Any]) -> None:
        await _front(interaction).command(interaction, "help")

    group.add_command(app_commands.Command(name="help", description="What Herald can do", callback=show_help))
    group.add_command(_skip())
    for command in _subscription_commands():
        group.add_command(command)
    return group


def _skip() -> app_commands.Command[Any, Any, None]:
    """``/release skip``: leave a group out of this release (its notes have nothing for it), with why."""

    @app_commands.describe(version="the release version, e.g. 2.4", group="the group's id", reason="why")
    async def skip(interaction: discord.Interaction[Any], version: str, group: str, reason: str | None = None) -> None:
        await _front(interaction).command(interaction, f"skip {version} {group} {reason or ''}".strip())

    return app_commands.Command(name="skip", description="Leave a group out of this release", callback=skip)


def _subscription_commands() -> list[app_commands.Command[Any, Any, None]]:
    """``/release subscribe``, ``unsubscribe`` and ``subscriptions``: the same words as typed elsewhere."""

    @app_commands.describe(component="one component (e.g. api); none: every one", level="which releases")
    @app_commands.choices(
        level=[
            app_commands.Choice(name="every release", value="all"),
            app_commands.Choice(name="minor and major", value="minor"),
            app_commands.Choice(name="major only", value="major"),
        ]
    )
    async def subscribe(
        interaction: discord.Interaction[Any], component: str | None = None, level: str | None = None
    ) -> None:
        words = " ".join(w for w in ("subscribe", component or "all", level or "all") if w)
        await _front(interaction).command(interaction, words)

    @app_commands.describe(component="one component (e.g. api); none: every subscription here")
    async def unsubscribe(interaction: discord.Interaction[Any], component: str | None = None) -> None:
        await _front(interaction).command(interaction, f"unsubscribe {component or ''}".strip())

    async def subscriptions(interaction: discord.Interaction[Any]) -> None:
        await _front(interaction).command(interaction, "subscriptions")

    return [
        app_commands.Command(name="subscribe", description="Hear of releases in your DMs", callback=subscribe),
        app_commands.Command(name="unsubscribe", description="Stop hearing of releases", callback=unsubscribe),
        app_commands.Command(name="subscriptions", description="What you hear of", callback=subscriptions),
    ]


class HeraldClient(discord.Client):
    """A discord.py client that hands everything to Herald's front door.

    Its HTTP session goes through ``pace``, which keeps Discord's global limit once bound.
    """

    def __init__(self, *, intents: discord.Intents, **options: Any) -> None:
        self.pace = RestPace()
        super().__init__(
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            http_trace=self.pace.trace,
            **options,
        )
        self.front: Front | None = None
        self.tree: app_commands.CommandTree[HeraldClient] = app_commands.CommandTree(self)
        self.tree.add_command(release_commands())

    async def setup_hook(self) -> None:
        self.add_dynamic_items(WalkthroughButton, AckButton, UnsubscribeButton)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if self.front is not None:
            await self.front.reaction(payload)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is discord.InteractionType.modal_submit and self.front is not None:
            await self.front.modal_submitted(interaction)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        # A receipt is proof the message was read; taking the emoji back does not unread it.
        log.debug("reaction removed by %s; the receipt stands", payload.user_id)


def intents(*, members: bool) -> discord.Intents:
    """Only what Herald needs: servers, reactions (in servers and DMs), members if roles are used."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_reactions = True
    chosen.dm_reactions = True
    chosen.members = members
    return chosen

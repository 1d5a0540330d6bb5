"""Herald's views as Discord messages: content, embeds and buttons. Pure: no calls.

Buttons are built into finished views: discord.py then keeps nothing in memory per
message, and clicks reach Herald through the dynamic items registered on the client,
which read everything they need from the ``custom_id`` and the message clicked.
"""

from __future__ import annotations

from dataclasses import replace

import discord

from adapters.discord import translate
from adapters.emoji import emojize
from adapters.markup import normalized
from bot.domain.checks import CheckResult, Severity
from bot.domain.communique import ReviewState
from bot.domain.people import display_name
from bot.domain.plan import AckPolicy
from bot.domain.release import ReleaseState
from bot.service.actions import Act, ActionView, Style, communique_actions, release_actions
from bot.service.ports import OutgoingMessage
from bot.service.views import CommuniqueView, GroupStatus, ReleaseView, StatusView

CONTENT_LIMIT = 2000
_DESCRIPTION_LIMIT = 4096
_FIELD_LIMIT = 1024


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def who(person: str | None) -> str:
    """A person as Discord shows them: a mention for Discord users (no one is pinged), else a name."""
    if person is None:
        return "?"
    user = translate.user_id(person)
    return f"<@{user}>" if user is not None else discord.utils.escape_markdown(display_name(person))


def mentions(allow_broadcast: bool) -> discord.AllowedMentions:
    """Nobody is pinged, unless the group allows @everyone/@here."""
    return discord.AllowedMentions(everyone=allow_broadcast, users=False, roles=False, replied_user=False)


def _check_line(result: CheckResult) -> str:
    mark = "✅" if result.ok else ("❌" if result.severity is Severity.BLOCKING else "⚠️")
    return f"{mark} **{result.code}**: {discord.utils.escape_markdown(result.message)}"


def _checks(results: tuple[CheckResult, ...]) -> str:
    return cut("\n".join(_check_line(c) for c in results) or "no checks", _FIELD_LIMIT)


def _finished(*buttons: discord.ui.Button[discord.ui.View]) -> discord.ui.View | None:
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(button)
    view.stop()  # rendered only: the dynamic items answer the clicks
    return view


_STYLES = {Style.PRIMARY: discord.ButtonStyle.primary, Style.DANGER: discord.ButtonStyle.danger}


def _button(action: ActionView) -> discord.ui.Button[discord.ui.View]:
    """One of the walkthrough's buttons (``bot.service.actions``) as Discord draws it.

    The ``custom_id`` names the act and the release; a communiqué's group is read from the
    message clicked (``custom_id`` has room for 100 characters only).
    """
    style = _STYLES.get(action.style, discord.ButtonStyle.secondary)
    if action.act is Act.APPROVE:
        style = discord.ButtonStyle.success  # Discord's green for a communiqué's approval
    custom_id = translate.custom_id(action.act.value, action.version)
    return discord.ui.Button(label=cut(action.label, 80), custom_id=custom_id, style=style)


def communique(view: CommuniqueView) -> tuple[str, discord.Embed, discord.ui.View | None]:
    """One communiqué in the walkthrough thread: the exact text, its checks, and the buttons."""
    state = view.review.value.replace("_", " ")
    if view.reviewed_by and view.review is not ReviewState.PENDING:
        state += f" by {who(view.reviewed_by)}"
    embed = discord.Embed(
        title=cut(f"{view.group_name} · revision {view.revision}", 256),
        description=cut(_shown(view.text) or "*(empty)*", _DESCRIPTION_LIMIT),
        colour=_colour(view),
    )
    embed.add_field(name="State", value=cut(state, _FIELD_LIMIT), inline=True)
    embed.add_field(name="Receipt", value=cut(view.receipt or "none asked", _FIELD_LIMIT), inline=True)
    embed.add_field(name="To", value=cut(", ".join(f"`{d}`" for d in view.destinations), _FIELD_LIMIT), inline=False)
    embed.add_field(name="Checks", value=_checks(view.checks), inline=False)
    if view.note:
        embed.add_field(name="Note", value=cut(view.note, _FIELD_LIMIT), inline=False)
    buttons = [_button(action) for action in communique_actions(view)]
    return f"Communiqué for **{discord.utils.escape_markdown(view.group_name)}**", embed, _finished(*buttons)


def _colour(view: CommuniqueView) -> discord.Colour:
    if view.blocking or view.review is ReviewState.SENT_BACK:
        return discord.Colour.red()
    return discord.Colour.green() if view.review is ReviewState.APPROVED else discord.Colour.light_grey()


def release(view: ReleaseView, status: StatusView | None = None) -> tuple[str, discord.Embed, discord.ui.View | None]:
    """The release message the thread hangs from: where it stands, its checks, the next step, the live table."""
    state = view.state.value.replace("_", " ")
    line = f"**{state}** · announced by {who(view.announced_by)}"
    if view.approved_by:
        line += f" · approved by {who(view.approved_by)}"
    if view.retraction is not None:
        line += f"\n{_retraction_line(view)}"
    embed = discord.Embed(
        title=cut(f"{view.product} {view.version}", 256),
        description=cut(f"{line}\n\n{discord.utils.escape_markdown(view.next_step)}", _DESCRIPTION_LIMIT),
    )
    embed.add_field(name="Checks", value=_checks(view.checks), inline=False)
    if view.summary and view.state in (ReleaseState.VALIDATING, ReleaseState.AWAITING_APPROVAL):
        lines = "\n".join(f"• {discord.utils.escape_markdown(s)}" for s in view.summary)
        if view.estimate_seconds:
            lines += f"\nabout {view.estimate_seconds:.0f}s at the platforms' pace"
        embed.add_field(name="A send will go to", value=cut(lines, _FIELD_LIMIT), inline=False)
    if status is not None and view.state in _COUNTED:
        _status_fields(embed, replace(status, retraction=None))  # the retraction is said above, once
    buttons = [_button(action) for action in release_actions(view)]
    content = f"Release communications for **{discord.utils.escape_markdown(f'{view.product} {view.version}')}**"
    return content, embed, _finished(*buttons)


_COUNTED = (ReleaseState.SENDING, ReleaseState.SENT, ReleaseState.RETRACTED)  # states whose message shows the counts


def _retraction_line(view: ReleaseView) -> str:
    """The release's retraction on one line: waiting for an approver, or in effect."""
    reason = discord.utils.escape_markdown(view.retraction or "")
    if view.retraction_waiting:
        return f"⚠️ Retraction proposed: {reason.rstrip('.')}. An approver approves it or drops it."
    return f"⛔ Retracted: {reason}"


def group_line(group: GroupStatus) -> str:
    """One group's figures on one line."""
    return f"**{discord.utils.escape_markdown(group.name)}**: {group.figures()}"


def _status_fields(embed: discord.Embed, view: StatusView) -> None:
    embed.add_field(
        name="Progress", value=cut("\n".join(group_line(g) for g in view.groups), _FIELD_LIMIT), inline=False
    )
    details = view.details(who=who, escape=discord.utils.escape_markdown, verbatim=str, failed="❌")
    if details:
        embed.add_field(name="Details", value=cut("\n".join(details), _FIELD_LIMIT), inline=False)


def status(view: StatusView) -> discord.Embed:
    """The status report on its own (``/release status``)."""
    embed = discord.Embed(title=cut(f"{view.product} {view.version} · {view.state.value.replace('_', ' ')}", 256))
    _status_fields(embed, view)
    return embed


_ASK = "-# Please acknowledge:"


def ack_hint(emoji: str, tally: str | None = None, *, button: bool = True) -> str:
    """The line under a communiqué that asks for a receipt (Discord's small-text markdown); without a button
    (a webhook's post) it asks for the reaction only."""
    hint = f"{_ASK} press the button or react with {emoji}" if button else f"{_ASK} react with {emoji}"
    return f"{hint} · {tally}" if tally else hint


def acknowledged(content: str, note: str) -> str:
    """A delivered copy's content once its reader has acknowledged: the request gives way to ``note`` (Herald's
    own words)."""
    kept = [line for line in content.split("\n") if not line.startswith(_ASK)]
    while kept and not kept[-1].strip():
        kept.pop()
    return cut("\n".join([*kept, "", f"-# ✅ {note}"]), CONTENT_LIMIT)


def _shown(text: str) -> str:
    """A communiqué as Discord shows it: Discord reads Markdown, but shows a bot's ``:rocket:`` as text."""
    return emojize(normalized(text))


def corrected(revision: int) -> str:
    """The line that opens a copy corrected in place, so a reader sees the text changed since they read it."""
    return f"-# ✏️ Corrected (revision {revision})"


def delivered(
    message: OutgoingMessage, ack_emoji: str, tally: str | None = None, *, button: bool = True
) -> tuple[str, discord.ui.View | None]:
    """A communiqué as recipients get it: the text (opened by a line saying so when corrected), and how to
    acknowledge it: the Acknowledge button and a reaction, or (``button=False``: a webhook that cannot carry
    one) the reaction alone."""
    shown = _shown(message.text)
    if message.correction is not None:
        shown = f"{corrected(message.correction)}\n{shown}"
    way_out = _way_out(message) if button else ()
    if message.ack is AckPolicy.NONE:
        return cut(shown, CONTENT_LIMIT), _finished(*way_out)
    hint = ack_hint(ack_emoji, tally, button=button)
    text = cut(shown, CONTENT_LIMIT - len(hint) - 2)
    if not button:
        return f"{text}\n\n{hint}", None
    acknowledge: discord.ui.Button[discord.ui.View] = discord.ui.Button(
        label="Acknowledge", custom_id=translate.ack_id(message.delivery_key), style=discord.ButtonStyle.success
    )
    return f"{text}\n\n{hint}", _finished(acknowledge, *way_out)


def _way_out(message: OutgoingMessage) -> tuple[discord.ui.Button[discord.ui.View], ...]:
    """A subscriber's copy: the Unsubscribe button that ends the subscriptions that brought it."""
    if message.unsubscribe is None:
        return ()
    custom_id = f"{translate.UNSUBSCRIBE}:{message.unsubscribe}"
    return (discord.ui.Button(label="Unsubscribe", custom_id=custom_id, style=discord.ButtonStyle.secondary),)

"""A group's own name and icon on its Slack posts (``slack_username``, ``slack_icon``); the rest post as the app."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.destinations import Kind, Platform
from bot.domain.plan import AckPolicy, Sender
from bot.service.ports import OutgoingMessage
from tests.adapters.slack.conftest import SlackWorld
from tests.adapters.slack.test_scenario import _sent

_MESSAGE = OutgoingMessage(
    delivery_key="9.9|engineering|slack:C0ENG",
    version="9.9",
    product="Acme Cloud",
    group_id="engineering",
    group_name="Engineering",
    target="slack:C0ENG",
    kind=Kind.CHANNEL,
    text="Acme Cloud 9.9 is live.",
    ack=AckPolicy.NONE,
    sender=Sender(username="Release Bot", icon="https://acme.example/release.png"),
)


async def test_a_groups_posts_carry_its_name_and_emoji_and_other_groups_post_as_the_app(
    slack_world: SlackWorld,
) -> None:
    """Engineering's post shows "Release Bot" with :rocket:; support's DMs, which name nobody, show the app."""
    await _sent(slack_world)
    slack = slack_world.slack

    [post] = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "C0ENG"]
    assert (post.params["username"], post.params["icon_emoji"]) == ("Release Bot", ":rocket:")
    assert "icon_url" not in post.params
    [communique] = slack.messages("C0ENG")
    assert (communique["username"], communique["icons"]) == ("Release Bot", {"emoji": ":rocket:"})
    dm = slack.messages(slack.dm_channel("U0SUP2"))[0]
    assert "username" not in dm
    assert "icons" not in dm
    support = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "U0SUP2"]
    assert support
    assert not {"username", "icon_emoji", "icon_url"} & set(support[0].params)


async def test_an_icon_given_as_an_https_url_is_sent_as_icon_url(slack_world: SlackWorld) -> None:
    """``slack_icon = "https://…"`` becomes chat.postMessage's ``icon_url``, and no ``icon_emoji``."""
    messenger = slack_world.herald.desk.links[Platform.SLACK].messenger

    await messenger.send(_MESSAGE)

    [call] = slack_world.slack.calls_to("chat.postMessage")
    assert call.params["icon_url"] == "https://acme.example/release.png"
    assert "icon_emoji" not in call.params
    assert slack_world.slack.messages("C0ENG")[0]["icons"] == {"image_48": "https://acme.example/release.png"}


async def test_without_the_customize_scope_slack_shows_the_apps_own_name(slack_world: SlackWorld) -> None:
    """A workspace that did not grant chat:write.customize still gets the post, under the app's name and icon."""
    slack = slack_world.slack
    slack.scopes = tuple(scope for scope in slack.scopes if scope != "chat:write.customize")
    messenger = slack_world.herald.desk.links[Platform.SLACK].messenger

    await messenger.send(replace(_MESSAGE, sender=Sender(username="Release Bot", icon=":rocket:")))

    [posted] = slack.messages("C0ENG")
    assert posted["text"] == "Acme Cloud 9.9 is live."
    assert "username" not in posted

"""A group's Discord webhook: ``discord_webhook`` (a URL, or ``env:NAME``), ``discord_username``, ``discord_avatar``."""

from __future__ import annotations

import pytest

from bot.domain.errors import PlanError
from bot.service.planfile import parse_plan
from tests.service.test_planfile import group, plan_text, problems_of, reported

TOKEN = "SeCrEt-webhook_token-0123456789abcdefABCDEF"
URL = f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}"
CHANNEL = '["discord:channel:222222222222222222", "discord:user:333333333333333333"]'
WHERE = "group 'engineering'"


def _engineering(*lines: str, to: str = CHANNEL) -> str:
    return plan_text(group("engineering", *lines, to=to))


def test_a_group_names_its_webhook_and_the_name_and_avatar_its_posts_show() -> None:
    """The three keys become the group's sender; the webhook's URL is kept whole, for the Discord adapter."""
    avatar = "https://acme.example/release-bot.png"
    plan = parse_plan(
        _engineering(f'discord_webhook = "{URL}"', 'discord_username = "Release Bot"', f'discord_avatar = "{avatar}"')
    )

    sender = plan.group("engineering").sender
    assert sender is not None
    assert (sender.discord_webhook, sender.discord_username, sender.discord_avatar) == (URL, "Release Bot", avatar)
    assert (sender.username, sender.icon, sender.email_from) == (None, None, None)  # Slack and mail keep theirs


def test_the_webhook_url_is_never_in_the_groups_repr() -> None:
    """The URL holds the webhook's token: a group or plan printed in a log line does not show it."""
    plan = parse_plan(_engineering(f'discord_webhook = "{URL}"'))

    assert TOKEN not in repr(plan.group("engineering"))
    assert TOKEN not in repr(plan.groups)


@pytest.mark.parametrize(
    "url",
    [
        "https://discordapp.com/api/webhooks/123456789012345678/TOKEN",
        "https://discord.com/api/v10/webhooks/123456789012345678/TOKEN",
        "https://canary.discord.com/api/webhooks/123456789012345678/TOKEN",
    ],
)
def test_each_form_discord_gives_a_webhook_url_in_is_accepted(url: str) -> None:
    """The older domain, a versioned path and the canary client's copy are the same webhook."""
    sender = parse_plan(_engineering(f'discord_webhook = "{url}"')).group("engineering").sender
    assert sender is not None
    assert sender.discord_webhook == url


def test_env_name_reads_the_url_from_the_environment_when_the_plan_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """``env:NAME`` keeps the token out of the plan file: the URL is read from ``NAME`` at load time."""
    monkeypatch.setenv("ENG_DISCORD_WEBHOOK", f" {URL}\n")

    plan = parse_plan(_engineering('discord_webhook = "env:ENG_DISCORD_WEBHOOK"'))

    sender = plan.group("engineering").sender
    assert sender is not None
    assert sender.discord_webhook == URL
    assert TOKEN not in (plan.text or "")  # the plan's text, kept with each release, holds only the name


def test_env_name_that_is_not_set_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset variable is one problem on the group, naming the variable."""
    monkeypatch.delenv("ENG_DISCORD_WEBHOOK", raising=False)

    [problem] = problems_of(_engineering('discord_webhook = "env:ENG_DISCORD_WEBHOOK"'))

    assert str(problem) == (
        f"{WHERE}: discord_webhook: the environment variable ENG_DISCORD_WEBHOOK is not set; "
        "it must hold the webhook's URL"
    )


def test_env_name_holding_something_else_is_refused_without_repeating_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A variable holding a URL that is not a webhook's is named, its value is not."""
    monkeypatch.setenv("ENG_DISCORD_WEBHOOK", f"https://example.com/api/webhooks/123456789012345678/{TOKEN}")

    [problem] = problems_of(_engineering('discord_webhook = "env:ENG_DISCORD_WEBHOOK"'))

    assert reported(
        [problem],
        f"{WHERE}: discord_webhook: the environment variable ENG_DISCORD_WEBHOOK does not hold a Discord webhook URL: "
        "its host is example.com, not discord.com",
    ), str(problem)
    assert TOKEN not in str(problem)


BAD = {
    "plain http": (f"http://discord.com/api/webhooks/123456789012345678/{TOKEN}", "it must start with https://"),
    "another host": (
        f"https://discord.example.com/api/webhooks/123456789012345678/{TOKEN}",
        "its host is discord.example.com, not discord.com",
    ),
    "a channel's URL": ("https://discord.com/channels/111111111111111111/222222222222222222", "/api/webhooks/ID/TOKEN"),
    "no token": ("https://discord.com/api/webhooks/123456789012345678", "/api/webhooks/ID/TOKEN"),
    "an id that is no snowflake": (f"https://discord.com/api/webhooks/12ab/{TOKEN}", "/api/webhooks/ID/TOKEN"),
    "a query": (f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}?wait=true", "/api/webhooks/ID/TOKEN"),
    "a user in it": (
        f"https://{TOKEN}@discord.com/api/webhooks/123456789012345678/{TOKEN}",
        "it must name no user and no port",
    ),
}


@pytest.mark.parametrize(("url", "why"), list(BAD.values()), ids=list(BAD))
def test_a_url_that_is_not_a_discord_webhooks_is_one_sentence_that_never_repeats_it(url: str, why: str) -> None:
    """Each malformed URL is one problem on the group and key, saying what is wrong, and never shows the token."""
    problems = problems_of(_engineering(f'discord_webhook = "{url}"'))

    assert reported(problems, f"{WHERE}: discord_webhook: is not a Discord webhook URL such as"), problems
    assert why in problems[0].message
    assert len(problems) == 1
    assert TOKEN not in str(problems[0])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "discord_webhook = 7",
            "must be a Discord webhook URL (https://discord.com/api/webhooks/ID/TOKEN) or env:NAME",
        ),
        ('discord_webhook = "env:eng_hook"', "'env:eng_hook' is not env:NAME (NAME in upper-case letters"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused(line: str, expected: str) -> None:
    """Neither a string nor env:NAME in capitals: one sentence saying what is expected."""
    [problem] = problems_of(_engineering(line))

    assert reported([problem], f"{WHERE}: discord_webhook: {expected}"), str(problem)


def test_a_webhook_on_a_group_with_no_discord_channel_is_refused() -> None:
    """A webhook posts in its own channel: a group that DMs only cannot use one, and is told so in one sentence."""
    problems = problems_of(_engineering(f'discord_webhook = "{URL}"', to='["discord:user:333333333333333333"]'))

    assert [str(p) for p in problems] == [
        f"{WHERE}: discord_webhook: posts in its own Discord channel, but the group has no discord:channel: "
        "destination; add the webhook's channel to its destinations, or remove discord_webhook"
    ]
    assert TOKEN not in str(problems[0])


def test_the_channel_rule_waits_for_destinations_that_can_be_read() -> None:
    """A ``to`` with an unreadable entry is the schema's problem alone: the webhook rule says nothing more."""
    problems = problems_of(_engineering(f'discord_webhook = "{URL}"', to='["discord:chanel:1"]'))

    assert [p.field for p in problems] == ["to"]


@pytest.mark.parametrize("key", ["discord_username", "discord_avatar"])
def test_a_name_or_avatar_without_a_webhook_is_refused(key: str) -> None:
    """Herald's own posts always show the bot: a name or avatar with no webhook would be silently ignored."""
    value = "Release Bot" if key == "discord_username" else "https://acme.example/bot.png"

    [problem] = problems_of(_engineering(f'{key} = "{value}"'))

    assert str(problem) == (
        f"{WHERE}: {key}: has no effect without discord_webhook (Herald's own Discord posts show the bot's name)"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('discord_username = " "', "discord_username: must be a name of 1 to 80 characters"),
        (f'discord_username = "{"x" * 81}"', "discord_username: is 81 characters long; Discord shows at most 80"),
        ('discord_username = "Clyde Releases"', "discord_username: 'Clyde Releases' contains “clyde”, which Discord"),
        ('discord_username = "Discord News"', "discord_username: 'Discord News' contains “discord”, which Discord"),
        ('discord_avatar = "http://acme.example/bot.png"', "discord_avatar: 'http://acme.example/bot.png' is not"),
        ('discord_avatar = ":rocket:"', "discord_avatar: ':rocket:' is not an https:// URL of an image"),
    ],
)
def test_a_bad_name_or_avatar_is_refused_in_a_sentence(line: str, expected: str) -> None:
    """Discord's rules for a webhook's name, and an avatar that is an https URL."""
    [problem] = problems_of(_engineering(f'discord_webhook = "{URL}"', line))

    assert reported([problem], f"{WHERE}: {expected}"), str(problem)


def test_a_webhook_is_a_groups_own_and_not_a_default() -> None:
    """A webhook posts in one channel, so ``[defaults]`` has no such key; the refusal does not repeat the URL."""
    with pytest.raises(PlanError) as caught:
        parse_plan(plan_text(group("engineering", to=CHANNEL), tables=f'\n[defaults]\ndiscord_webhook = "{URL}"\n'))

    [problem] = caught.value.problems
    assert (problem.where, problem.field) == ("[defaults]", "discord_webhook")
    assert problem.message.startswith("unknown field")
    assert TOKEN not in str(caught.value)

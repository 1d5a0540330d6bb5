"""The checks a communiqué must pass before anything leaves."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.domain.checks import (
    CheckResult,
    Severity,
    check_broadcast_mentions,
    check_length,
    check_links,
    check_placeholders,
    check_text,
    check_version,
    find_links,
)
from bot.domain.destinations import Platform
from bot.domain.plan import Group

MakeGroup = Callable[..., Group]  # the make_group fixture of conftest.py

# -- placeholders ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Summary: TODO", "'TODO'"),
        ("Ships on TBD.", "'TBD'"),
        ("See XXX for details", "'XXX'"),
        ("See XXXX for details", "'XXXX'"),
        ("FIXME: add the date", "'FIXME'"),
        ("Hello {{ name }}", "'{{'"),
        ("{% if beta %}beta{% endif %}", "'{%'"),
        ("Download it from <placeholder>.", "'<placeholder>'"),
        ("Live since <insert date>.", "'<insert date>'"),
        ("Read [insert link] first.", "'[insert link]'"),
        ("Read [Placeholder: notes] first.", "'[Placeholder: notes]'"),
    ],
)
def test_leftover_placeholders_block(text: str, found: str) -> None:
    """TODO, TBD, XXX, template syntax and ``<placeholder>`` block, and the message quotes them."""
    result = check_placeholders(text)

    assert result.blocks
    assert found in result.message


@pytest.mark.parametrize(
    "text",
    [
        "Thanks <@U0ANNOUNCE1> for shipping it.",
        "Questions in <#C0123ABCD> or <#C0123ABCD|releases>.",
        "<!channel> 2.4 is live.",
        "<!here|here> 2.4 is live.",
        "<!subteam^S0SUPPORT> please read.",
        "Notes: <https://example.com/releases/2.4|release notes>.",
        "Mail <mailto:support@example.com|support>.",
        "We moved from Todoist to Linear; XX-large plans are unchanged.",
        "Latency < 200 ms and > 99.9% uptime.",
        "Our todo list is empty; tbd means nothing here.",
        "Read <b>this</b> first.<br>",
    ],
)
def test_slack_markup_and_ordinary_prose_are_not_placeholders(text: str) -> None:
    """Slack's ``<@U…>``, ``<#C…>``, ``<!…>`` and ``<url|label>`` forms, HTML tags and plain prose pass."""
    assert check_placeholders(text).ok


def test_the_placeholder_message_lists_at_most_five() -> None:
    """A text full of placeholders is summarised by its first five, not all of them."""
    result = check_placeholders("<a1> <a2> <a3> <a4> <a5> <a6> <a7>")

    assert result.message.count("'<a") == 5


# -- length ------------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "limit"), [(Platform.SLACK, 3000), (Platform.DISCORD, 1900)])
def test_text_at_the_platform_limit_fits(platform: Platform, limit: int) -> None:
    """A text exactly as long as the platform allows passes."""
    assert check_length("x" * limit, [platform]).ok


@pytest.mark.parametrize(("platform", "limit"), [(Platform.SLACK, 3000), (Platform.DISCORD, 1900)])
def test_text_one_past_the_platform_limit_blocks(platform: Platform, limit: int) -> None:
    """One character over the platform's limit blocks, naming the platform and its limit."""
    result = check_length("x" * (limit + 1), [platform])

    assert result.blocks
    assert f"{platform.value} allows {limit:,}" in result.message


def test_the_strictest_platform_of_a_group_decides() -> None:
    """A text Slack accepts but Discord does not fails for a group sent to both."""
    result = check_length("x" * 2500, [Platform.SLACK, Platform.DISCORD])

    assert result.blocks
    assert "discord allows 1,900" in result.message
    assert "slack" not in result.message


@pytest.mark.parametrize("platform", [Platform.EMAIL, Platform.WEBHOOK, Platform.SHELL])
def test_mail_webhooks_and_the_shell_take_long_texts(platform: Platform) -> None:
    """A text too long for chat still fits mail, webhooks and the shell."""
    assert check_length("x" * 5000, [platform]).ok


# -- broadcast mentions ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<!channel> 2.4 is live",
        "<!here> 2.4",
        "<!everyone|everyone> 2.4",
        "@here 2.4",
        "@everyone 2.4",
        "@channel 2.4",
        "&lt;!channel&gt; 2.4",  # an entity Slack decodes into a live mention
        "@Here 2.4",
        "\uff20everyone 2.4",  # a full-width at sign
        "@\u200deveryone 2.4",  # a zero-width joiner inside
        "@every\u00adone 2.4",  # a soft hyphen inside
    ],
)
def test_a_broadcast_mention_blocks_unless_allowed(text: str) -> None:
    """@channel, @here and @everyone, in Slack and plain form, any case or disguise, block unless allowed."""
    result = check_broadcast_mentions(text, allowed=False)

    assert result.blocks
    assert "allow_broadcast_mentions = true" in result.message


@pytest.mark.parametrize("text", ["<!channel> 2.4 is live", "@everyone 2.4 is live"])
def test_an_allowed_broadcast_mention_is_a_passing_warning(text: str) -> None:
    """Where the group allows broadcast mentions the check passes but still says so."""
    result = check_broadcast_mentions(text, allowed=True)

    assert (result.ok, result.severity) == (True, Severity.WARNING)
    assert "broadcast mention allowed" in result.message


@pytest.mark.parametrize("text", ["Thanks <@U0ANNOUNCE1>", "See @channels and @hereford", "No mentions at all"])
def test_text_without_broadcast_mentions_passes(text: str) -> None:
    """Personal mentions and words that merely start like a broadcast mention pass."""
    assert check_broadcast_mentions(text, allowed=False).ok


@pytest.mark.parametrize("text", ["Write to ops@here.com", "Write to help@everyone.example"])
def test_an_email_address_is_not_a_broadcast_mention(text: str) -> None:
    """An email address whose domain starts with here/everyone/channel is not a mention."""
    assert check_broadcast_mentions(text, allowed=False).ok


# -- links -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[https://acme.example/2.4](https://evil.example/login)",
        "[acme.example/releases](https://evil.example)",
        "<https://evil.example|https://acme.example>",
        "[acme.example](https://acme.example.evil.example)",
    ],
)
def test_a_link_showing_one_address_and_going_to_another_fails(text: str) -> None:
    """A link whose text is an address other than its target is refused, naming where it really goes."""
    result = check_links(text)
    assert result.blocks
    assert "shows another address than it goes to" in result.message


@pytest.mark.parametrize(
    "text",
    [
        "[the release notes](https://evil.example)",  # words, not an address: the target is what a reader sees
        "[https://acme.example/2.4](https://acme.example/releases/2.4)",
        "[acme.example](https://www.acme.example/)",
    ],
)
def test_a_link_whose_text_is_words_or_its_own_host_passes(text: str) -> None:
    """Link text in words, or an address on the same host as the target, is fine."""
    assert check_links(text).ok


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("Notes: https://example.com/releases/2.4.", ["https://example.com/releases/2.4"]),
        ("Notes: <https://example.com/releases/2.4|release notes>", ["https://example.com/releases/2.4"]),
        ("Notes: [release notes](https://example.com/releases/2.4)", ["https://example.com/releases/2.4"]),
        ("(see https://example.com/x)", ["https://example.com/x"]),
        ("Mail <mailto:support@example.com|us>", ["mailto:support@example.com"]),
        ("No links here.", []),
    ],
)
def test_links_are_found_in_slack_markdown_and_plain_form(text: str, links: list[str]) -> None:
    """Links are found in every form, without the punctuation that ends a sentence."""
    assert find_links(text) == links


@pytest.mark.parametrize(
    "text",
    [
        "Notes: https://example.com/releases/2.4",
        "Notes: <https://example.com/releases/2.4|release notes>",
        "Notes: [release notes](https://example.com/releases/2.4?tab=fixes#top)",
        "Staging: http://localhost:8080/health",
        "Mail <mailto:support@example.com|us>",
        "No links here.",
    ],
)
def test_well_formed_links_pass(text: str) -> None:
    """http(s) links with a real host, and mailto links with an address, pass."""
    assert check_links(text).ok


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Notes: https://exa mple", "host name is missing or incomplete"),
        ("Notes: http://", "host name is missing or incomplete"),
        ("Notes: https://localhost:99999", "Port out of range"),
        ("Notes: www.example.com", "link has no scheme"),
        ("Notes: ftp://example.com/notes", "scheme 'ftp' is not http or https"),
        ("Notes: [notes](example.com/notes)", "scheme '' is not http or https"),
        ("Notes: <https://exa mple.com|notes>", "host name has characters a URL cannot have"),
        ("Notes: https://example..com", "host name is missing or incomplete"),
        ("Mail <mailto:support|us>", "mailto link has no address"),
    ],
)
def test_malformed_links_block_and_say_why(text: str, problem: str) -> None:
    """A malformed link blocks, and the message names the link and its problem."""
    result = check_links(text)

    assert result.blocks
    assert problem in result.message


def test_the_link_message_counts_the_links() -> None:
    """A passing link check says how many links it looked at."""
    assert check_links("https://example.com/a and https://example.com/b").message == "2 links, all well formed"


# -- version -----------------------------------------------------------------------------


def _by_code(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.code: r for r in results}


@pytest.mark.parametrize(
    "text",
    ["Acme Cloud 2.4 is live.", "Acme Cloud v2.4 is live", "Acme Cloud (2.4) is live", "*2.4*, at last!"],
)
def test_the_release_version_in_the_text_passes(text: str) -> None:
    """The text names the version, however it is punctuated."""
    results = check_version(text, "2.4")

    assert [(r.code, r.ok) for r in results] == [("version", True)]


def test_a_missing_version_blocks() -> None:
    """A text that never names the version blocks."""
    result = _by_code(check_version("Acme Cloud is live.", "2.4"))["version"]

    assert result.blocks
    assert result.message == "the text does not mention version 2.4"


@pytest.mark.parametrize("text", ["Acme Cloud 2.4.1 is live", "Acme Cloud 2.40 is live", "Acme Cloud 12.4 is live"])
def test_a_longer_version_does_not_count_as_the_release_version(text: str) -> None:
    """2.4.1, 2.40 and 12.4 are not 2.4."""
    assert _by_code(check_version(text, "2.4"))["version"].blocks


def test_another_version_is_a_warning() -> None:
    """Naming a different version too is a warning that does not block."""
    result = _by_code(check_version("Acme Cloud 2.4 replaces 2.3.", "2.4"))["other-versions"]

    assert (result.ok, result.severity, result.blocks) == (False, Severity.WARNING, False)
    assert "also mentions 2.3" in result.message


@pytest.mark.parametrize(
    "text", ["Notes: https://example.com/releases/2.4", "Notes: <https://example.com/releases/2.4/fixes|fixes>"]
)
def test_a_version_only_inside_a_url_path_does_not_count(text: str) -> None:
    """A text whose only 2.4 is in a link's path (``…/releases/2.4``) does not name the version."""
    assert _by_code(check_version(text, "2.4"))["version"].blocks


def test_a_version_inside_a_url_path_is_not_another_version() -> None:
    """The 2.3 in ``…/v2.3/`` is part of a link, not a second version to warn about."""
    results = check_version("Acme Cloud 2.4 is live; old notes at https://example.com/v2.3/", "2.4")

    assert [(r.code, r.ok) for r in results] == [("version", True)]


def test_a_prefix_of_the_release_version_is_not_another_version() -> None:
    """For release 2.4.1, a mention of the 2.4 line is not a second version."""
    results = check_version("Acme Cloud 2.4.1, the first fix for 2.4.", "2.4.1")

    assert [(r.code, r.ok) for r in results] == [("version", True)]


def test_a_pre_release_version_is_found() -> None:
    """A pre-release version such as 3.0.0-rc.1 is found whole."""
    assert check_version("Acme Cloud 3.0.0-rc.1 is out.", "3.0.0-rc.1")[0].ok


@pytest.mark.parametrize(
    ("text", "version"), [("Acme Cloud 2.4+build.5 is out.", "2.4+build.5"), ("Acme Cloud 2 is out.", "2")]
)
def test_every_version_parse_version_accepts_can_be_found(text: str, version: str) -> None:
    """Any version a command accepts is found in a text that names it."""
    assert check_version(text, version)[0].ok


# -- all checks together -----------------------------------------------------------------


def test_check_text_runs_every_check_in_order(make_group: MakeGroup) -> None:
    """A communiqué is checked for placeholders, length, mentions, links and version."""
    results = check_text("Acme Cloud 2.4 is live.", make_group(), "2.4")

    assert [r.code for r in results] == ["placeholders", "length", "mentions", "links", "version"]
    assert all(r.ok for r in results)


def test_check_text_measures_against_the_groups_platforms(make_group: MakeGroup) -> None:
    """The length limit is that of the platforms the group is sent to."""
    text = "Acme Cloud 2.4 is live. " + "x" * 2500
    discord = make_group(to=("discord:channel:222222222222222222",))
    shell = make_group(to=("shell:#support",))

    assert _by_code(check_text(text, discord, "2.4"))["length"].blocks
    assert _by_code(check_text(text, shell, "2.4"))["length"].ok


def test_check_text_honours_the_groups_broadcast_setting(make_group: MakeGroup) -> None:
    """A group that allows broadcast mentions lets ``<!channel>`` through."""
    text = "<!channel> Acme Cloud 2.4 is live."

    assert _by_code(check_text(text, make_group(allow_broadcast_mentions=False), "2.4"))["mentions"].blocks
    assert _by_code(check_text(text, make_group(allow_broadcast_mentions=True), "2.4"))["mentions"].ok


def test_only_a_failed_blocking_result_blocks() -> None:
    """A passing result or a failed warning does not stop the send; a failed blocking result does."""
    assert not CheckResult("x", True, Severity.BLOCKING, "fine").blocks
    assert not CheckResult("x", False, Severity.WARNING, "hmm").blocks
    assert CheckResult("x", False, Severity.BLOCKING, "no").blocks

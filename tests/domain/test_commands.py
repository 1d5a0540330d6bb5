"""The ``/release`` command language: every verb, its aliases and its mistakes."""

from __future__ import annotations

import re

import pytest

from bot.domain.commands import (
    USAGE,
    AnnounceRelease,
    ApproveCommunique,
    ApproveRelease,
    CancelRelease,
    Command,
    ConfirmRelease,
    CorrectCommunique,
    EditCommunique,
    OpenDashboard,
    RemindNow,
    RequestSend,
    Resend,
    RetractRelease,
    RetryFailed,
    SendBackCommunique,
    ShowHelp,
    ShowStatus,
    SkipGroup,
    parse_release_command,
)
from bot.domain.errors import CommandError

ACTOR = "shell:deployer"


def parse(text: str) -> Command:
    return parse_release_command(text, ACTOR)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("announce 2.4", AnnounceRelease(actor=ACTOR, version="2.4")),
        ("confirm 2.4", ConfirmRelease(actor=ACTOR, version="2.4")),
        ("approve 2.4 support", ApproveCommunique(actor=ACTOR, version="2.4", group_id="support")),
        ("approve 2.4", ApproveRelease(actor=ACTOR, version="2.4")),
        ("edit 2.4 support New text", EditCommunique(actor=ACTOR, version="2.4", group_id="support", text="New text")),
        (
            "reject 2.4 support too long",
            SendBackCommunique(actor=ACTOR, version="2.4", group_id="support", reason="too long"),
        ),
        (
            "correct 2.4 support Fixed link",
            CorrectCommunique(actor=ACTOR, version="2.4", group_id="support", text="Fixed link"),
        ),
        ("send 2.4", RequestSend(actor=ACTOR, version="2.4")),
        ("resend 2.4 missed", Resend(actor=ACTOR, version="2.4", which="missed")),
        ("resend 2.4 support failed", Resend(actor=ACTOR, version="2.4", which="failed", group_id="support")),
        ("send 2.4 customers", RequestSend(actor=ACTOR, version="2.4", group_id="customers")),
        ("cancel 2.4", CancelRelease(actor=ACTOR, version="2.4")),
        (
            "retract 2.4 rolled back:  the   migration failed",
            RetractRelease(actor=ACTOR, version="2.4", reason="rolled back: the migration failed"),
        ),
        ("status 2.4", ShowStatus(actor=ACTOR, version="2.4")),
        (
            "skip 2.4.1 customers  nothing   customer-facing",
            SkipGroup(actor=ACTOR, version="2.4.1", group_id="customers", reason="nothing customer-facing"),
        ),
        ("skip 2.4.1 customers", SkipGroup(actor=ACTOR, version="2.4.1", group_id="customers", reason="")),
        ("help", ShowHelp(actor=ACTOR)),
        ("dashboard 2.4", OpenDashboard(actor=ACTOR, version="2.4")),
    ],
)
def test_every_verb_parses_to_its_command(text: str, command: Command) -> None:
    """Each verb in the usage list becomes its command, carrying who asked."""
    assert parse(text) == command


def test_the_usage_list_names_every_verb() -> None:
    """The help text covers exactly the verbs the parser knows."""
    assert list(USAGE) == [
        "announce",
        "confirm",
        "approve",
        "edit",
        "reject",
        "skip",
        "correct",
        "send",
        "cancel",
        "retract",
        "reschedule",
        "status",
        "dashboard",
        "remind",
        "retry",
        "resend",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "help",
    ]


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("announcement 2.4", AnnounceRelease(actor=ACTOR, version="2.4")),
        ("sendback 2.4 support", SendBackCommunique(actor=ACTOR, version="2.4", group_id="support", reason="")),
        ("send-back 2.4 support", SendBackCommunique(actor=ACTOR, version="2.4", group_id="support", reason="")),
    ],
)
def test_aliases_parse_like_their_verb(text: str, command: Command) -> None:
    """``announcement``, ``sendback`` and ``send-back`` are other names for announce and reject."""
    assert parse(text) == command


@pytest.mark.parametrize("text", ["", "   ", "/release", "/release  ", "help", "HELP", "/release help"])
def test_nothing_or_help_shows_help(text: str) -> None:
    """An empty command or ``help`` shows the help."""
    assert parse(text) == ShowHelp(actor=ACTOR)


@pytest.mark.parametrize("text", ["/release announce 2.4", "ANNOUNCE 2.4", "Announce v2.4", "  announce   2.4  "])
def test_the_slash_prefix_case_and_spacing_do_not_matter(text: str) -> None:
    """A leading ``/release``, capitals, a ``v`` prefix and extra spaces are forgiven."""
    assert parse(text) == AnnounceRelease(actor=ACTOR, version="2.4")


def test_a_non_breaking_space_separates_words() -> None:
    """Chat clients sometimes type a non-breaking space; it counts as a space."""
    assert parse("announce\u00a02.4") == AnnounceRelease(actor=ACTOR, version="2.4")


@pytest.mark.parametrize("text", ["announce\t2.4", "announce\n2.4"])
def test_any_whitespace_separates_the_verb(text: str) -> None:
    """A tab or line break after the verb separates it like a space."""
    assert parse(text) == AnnounceRelease(actor=ACTOR, version="2.4")


# -- approve -----------------------------------------------------------------------------


def test_approve_with_only_a_version_is_the_final_approval() -> None:
    """``approve 2.4`` is the second person's final approval of the release."""
    assert parse("approve 2.4") == ApproveRelease(actor=ACTOR, version="2.4")


@pytest.mark.parametrize("word", ["all", "ALL", "All"])
def test_approve_all_approves_every_communique(word: str) -> None:
    """``approve 2.4 all`` approves every communiqué, written as group ``*``."""
    assert parse(f"approve 2.4 {word}") == ApproveCommunique(actor=ACTOR, version="2.4", group_id="*")


def test_group_ids_are_read_in_lower_case() -> None:
    """A group typed with capitals names the same lower-case group."""
    assert parse("approve 2.4 Support") == ApproveCommunique(actor=ACTOR, version="2.4", group_id="support")


# -- edit and reject ---------------------------------------------------------------------


def test_edit_text_keeps_its_line_breaks() -> None:
    """A multi-line edit keeps the new text's lines, blank lines included."""
    command = parse("edit 2.4 support\nHi Support team,\n\nAcme Cloud 2.4 is live.\n• Faster dashboards\n")

    assert command == EditCommunique(
        actor=ACTOR,
        version="2.4",
        group_id="support",
        text="Hi Support team,\n\nAcme Cloud 2.4 is live.\n• Faster dashboards",
    )


def test_edit_text_may_start_on_the_same_line() -> None:
    """The new text may follow the group on the same line and continue below."""
    command = parse("edit 2.4 support Acme Cloud 2.4 is live.\nRead the notes.")

    assert isinstance(command, EditCommunique)
    assert command.text == "Acme Cloud 2.4 is live.\nRead the notes."


def test_edit_text_is_kept_verbatim() -> None:
    """Template-looking text in an edit is kept as typed; the checks judge it later."""
    command = parse("edit 2.4 support Hello {{ name }}")

    assert isinstance(command, EditCommunique)
    assert command.text == "Hello {{ name }}"


def test_a_reject_reason_is_folded_onto_one_line() -> None:
    """A reason typed over several lines is kept as one line with single spaces."""
    command = parse("reject 2.4 support  Too long;\n  mention   SSO.")

    assert command == SendBackCommunique(
        actor=ACTOR, version="2.4", group_id="support", reason="Too long; mention SSO."
    )


def test_a_reject_reason_is_optional() -> None:
    """Rejecting without a reason is allowed."""
    assert parse("reject 2.4 support") == SendBackCommunique(actor=ACTOR, version="2.4", group_id="support", reason="")


# -- mistakes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("frobnicate 2.4", "“frobnicate” is not a /release command; try one of: announce, confirm, approve"),
        ("announce", "Missing the version. Usage: /release announce VERSION"),
        ("approve", "Missing the version. Usage: /release approve VERSION GROUP|all"),
        ("announce banana", "“banana” is not a release version; write it like 2.4"),
        ("send 2.4.x", "“2.4.x” is not a release version"),
        ("edit 2.4", "Missing the group. Usage: /release edit VERSION GROUP NEW TEXT"),
        ("reject 2.4", "Missing the group. Usage: /release reject VERSION GROUP [REASON]"),
        ("edit 2.4 support", "Missing the new text. Usage: /release edit VERSION GROUP NEW TEXT"),
        ("edit 2.4 support   \n  ", "Missing the new text."),
        ("edit 2.4 Bad!Group text", "“bad!group” is not a group id. Usage: /release edit"),
        ("approve 2.4 *", "“*” is not a group id. Usage: /release approve"),
        ("announce 2.4 api web", "Too many words after announce. Usage: /release announce VERSION"),
        ("announce 2.4 api,Web!", "“web!” is not a component name"),
        ("confirm 2.4 yes", "Too many words after confirm."),
        ("send 2.4 support now", "Too many words after send."),
        ("cancel 2.4 now", "Too many words after cancel."),
        ("status 2.4 support", "Too many words after status."),
        ("approve 2.4 support extra", "Too many words after approve. Usage: /release approve VERSION GROUP|all"),
    ],
)
def test_mistakes_are_explained_in_a_sentence(text: str, sentence: str) -> None:
    """Each mistake raises a CommandError whose sentence says what is wrong and what to type."""
    with pytest.raises(CommandError) as caught:
        parse(text)

    assert sentence in str(caught.value)


def test_a_long_unknown_verb_is_shortened_in_the_message() -> None:
    """The refusal quotes at most 30 characters of an unknown verb."""
    with pytest.raises(CommandError) as caught:
        parse("x" * 200)

    assert "“" + "x" * 30 + "…”" in str(caught.value)


def test_a_value_that_is_not_text_is_refused() -> None:
    """Something other than text (a broken payload) is refused as a command error."""
    with pytest.raises(CommandError, match=re.escape("Type a command, e.g. /release announce 2.4.")):
        parse_release_command(None, ACTOR)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("remind 2.4", RemindNow(actor=ACTOR, version="2.4")),
        ("retry v2.4", RetryFailed(actor=ACTOR, version="2.4")),
    ],
)
def test_remind_and_retry_name_a_release(text: str, command: object) -> None:
    """/release remind and /release retry take just the version."""
    assert parse_release_command(text, ACTOR) == command

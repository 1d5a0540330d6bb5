"""Release-note values: the plan's source forms, section names, and notes kept with a release."""

from __future__ import annotations

import pytest

from bot.domain.notes import KeptNotes, NotesSource, Sections, SourceKind, either, parse_source, section_name


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("changelog:CHANGELOG.md", NotesSource(SourceKind.CHANGELOG, "CHANGELOG.md")),
        ("github:acme/api", NotesSource(SourceKind.GITHUB, "acme/api")),
        ("gitlab:acme/platform/api", NotesSource(SourceKind.GITLAB, "acme/platform/api")),
        ("file:notes/{version}.md", NotesSource(SourceKind.FILE, "notes/{version}.md")),
    ],
)
def test_each_source_form_is_read(text: str, source: NotesSource) -> None:
    """The four forms of [notes] source."""
    assert parse_source(text) == source


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            "jira:ACME",
            "'jira:ACME' is not a notes source; write changelog:PATH, file:PATH, github:OWNER/REPO or "
            "gitlab:GROUP/PROJECT",
        ),
        ("github:acme", "'acme' is not a GitHub repository; write github:OWNER/REPO, e.g. github:acme/api"),
        ("github:acme/api/x", "'acme/api/x' is not a GitHub repository; write github:OWNER/REPO, e.g. github:acme/api"),
        ("gitlab:api", "'api' is not a GitLab project; write gitlab:GROUP/PROJECT, e.g. gitlab:acme/api"),
        ("file:notes.md", "a file: source must contain {version}, e.g. file:notes/{version}.md"),
        (
            "changelog:",
            "'changelog:' names nothing after changelog:; write changelog:PATH, file:PATH, "
            "github:OWNER/REPO or gitlab:GROUP/PROJECT",
        ),
    ],
)
def test_a_source_herald_cannot_read_is_one_sentence(text: str, sentence: str) -> None:
    """Each wrong source says what is wrong and the forms it takes."""
    with pytest.raises(ValueError, match=r".") as raised:
        parse_source(text)
    assert str(raised.value) == sentence


def test_a_tag_is_the_version_in_the_plans_form() -> None:
    """tag = "api-v{version}" makes api-v2.4.1 of 2.4.1."""
    assert NotesSource(SourceKind.GITHUB, "acme/api", tag="api-v{version}").tag_of("2.4.1") == "api-v2.4.1"


@pytest.mark.parametrize(
    ("heading", "name"),
    [
        ("Features", "Added"),
        ("✨ New Features", "Added"),
        ("🐛 Bug Fixes", "Fixed"),
        ("BUGFIXES", "Fixed"),
        ("What's new", "Added"),
        ("⚠ BREAKING CHANGES", "Breaking"),
        ("💥 Breaking Changes", "Breaking"),
        ("Security", "Security"),
        ("📖 Documentation", "Documentation"),
        ("Miscellaneous Chores", "Miscellaneous Chores"),
    ],
)
def test_section_names_ignore_emoji_and_case(heading: str, name: str) -> None:
    """A heading means a Keep a Changelog section when it says the same; else it keeps its words."""
    assert section_name(heading) == name


def test_sections_are_looked_up_as_headings_are_compared() -> None:
    """["security"], ["🔒 Security"] and .Security find the same entries; a section not there is empty."""
    sections = Sections([("Security", ["Patched"]), ("Package Health", ["Deno"])])
    assert sections["security"] == sections["🔒 Security"] == ("Patched",)
    assert sections["package health"] == ("Deno",)
    assert sections["Removed"] == ()
    assert "Removed" not in sections
    assert list(sections) == ["Security", "Package Health"]


def test_sections_cannot_be_changed() -> None:
    """A template cannot change what the next one sees."""
    sections = Sections([("Added", ["SSO"])])
    with pytest.raises(TypeError):
        sections["Added"] = ("x",)  # type: ignore[index]


def test_either_names_the_sections_as_a_sentence_does() -> None:
    """One, two or three names."""
    assert either(["Added"]) == "Added"
    assert either(["Added", "security"]) == "Added or Security"
    assert either(["Added", "Fixed", "Security"]) == "Added, Fixed or Security"


def test_kept_notes_come_back_from_the_ledger_as_they_went() -> None:
    """What is kept with a release is read back whole, a problem included."""
    kept = KeptNotes(origin="github:acme/api v2.4.1", text="## Fixed\n- x\n", url="https://x.test/r", problem=None)
    assert KeptNotes.from_json(kept.as_json()) == kept
    failed = KeptNotes(origin="github:acme/api v2.4.1", problem="notes: GitHub has no release tagged v2.4.1")
    assert KeptNotes.from_json(failed.as_json()) == failed

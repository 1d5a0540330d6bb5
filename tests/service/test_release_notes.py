"""Real release notes parse into the right sections: Keep a Changelog files, conventional-commit changelogs
(release-please, standard-version, lerna/semantic-release style) and GitHub's generated release bodies.

The samples are excerpts of real projects' notes; tests/service/samples/notes/README.md says
whose, from which commit, under which licence.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.notes import KeptNotes, ReleaseNotes
from bot.service.notes import changelog_section, parse_notes

SAMPLES = Path(__file__).parent / "samples" / "notes"


def from_changelog(sample: str, version: str) -> ReleaseNotes:
    """``version``'s notes as a ``changelog:`` source reads them from the sample file."""
    section = changelog_section((SAMPLES / sample).read_text(encoding="utf-8"), version)
    assert section is not None, f"{sample} has no section for {version}"
    kept = KeptNotes(origin=sample, text=section.text, url=section.url, previous_version=section.previous_version)
    return parse_notes(kept, version)


def from_body(sample: str, version: str = "1.0.0") -> ReleaseNotes:
    """A release body as a ``github:`` source reads it."""
    return parse_notes(KeptNotes(origin=sample, text=(SAMPLES / sample).read_text(encoding="utf-8")), version)


def counts(notes: ReleaseNotes) -> dict[str, int]:
    return {name: len(entries) for name, entries in notes.sections.items()}


# -- Keep a Changelog ---------------------------------------------------------------------


def test_keep_a_changelog_gives_the_versions_sections_with_their_items_as_written() -> None:
    """keep-a-changelog's own 1.1.0: Added and Changed, each item's inline Markdown kept."""
    notes = from_changelog("keep-a-changelog.md", "1.1.0")
    assert counts(notes) == {"Added": 3, "Changed": 2}
    assert notes.sections["Added"][0] == "Danish translation from [@frederikspang](https://github.com/frederikspang)."
    assert notes.sections["Security"] == ()


def test_keep_a_changelog_links_the_version_and_names_the_one_below() -> None:
    """The heading's [1.1.0] link reference is the release's URL; the next older section is the version before."""
    notes = from_changelog("keep-a-changelog.md", "1.1.0")
    assert notes.url == "https://github.com/olivierlacan/keep-a-changelog/compare/v1.0.0...v1.1.0"
    assert notes.previous_version == "1.0.0"


def test_an_item_over_several_lines_is_one_entry() -> None:
    """A wrapped item keeps its second line, dedented."""
    notes = from_changelog("keep-a-changelog.md", "1.0.0")
    assert counts(notes) == {"Added": 8, "Changed": 4, "Removed": 1}
    assert notes.sections["Changed"][1] == (
        "Start versioning based on the current English version at 0.3.0 to help\n"
        "translation authors keep things up-to-date."
    )
    assert notes.contributors == ("tylerfortune8",)  # "New visual identity by [@tylerfortune8](…)"


def test_the_oldest_section_takes_the_version_before_from_its_compare_link() -> None:
    """The oldest section of the excerpt: [Unreleased] is no version, and its link still names the one before."""
    notes = from_changelog("keep-a-changelog.md", "0.3.0")
    assert counts(notes) == {"Added": 3}
    assert notes.previous_version == "0.2.0"  # the excerpt ends there: its compare link says


def test_a_version_is_found_written_shorter_or_longer() -> None:
    """Herald's 1.1 is the changelog's 1.1.0."""
    assert (
        from_changelog("keep-a-changelog.md", "1.1").sections["Added"]
        == (from_changelog("keep-a-changelog.md", "1.1.0").sections["Added"])
    )


def test_a_changelog_variant_with_titles_and_a_trailing_links_heading() -> None:
    """anemoi-inference writes "## [0.1.10] Fix missing constants" and ends with "## Git Diffs:" over its links."""
    assert counts(from_changelog("anemoi-inference.md", "0.2.0")) == {"Added": 6, "Changed": 3, "Removed": 1}
    first = from_changelog("anemoi-inference.md", "0.1.0")
    assert first.sections["Added"] == ("Initial Implementation of anemoi-inference",)  # a paragraph, not a list
    assert first.url == "https://github.com/ecmwf/anemoi-inference/releases/tag/0.1.0"
    assert "[0.1.9]:" not in first.text


def test_a_version_the_changelog_does_not_have_is_none() -> None:
    """Asked for a version it has no section for, the changelog gives nothing (the reader says so in a sentence)."""
    assert changelog_section((SAMPLES / "keep-a-changelog.md").read_text(encoding="utf-8"), "2.4.1") is None


# -- conventional commits -------------------------------------------------------------------


def test_release_please_features_and_bug_fixes_are_added_and_fixed() -> None:
    """release-please's "### Features" is Added, "### Bug Fixes" Fixed; a scope in bold stays in the text."""
    notes = from_changelog("release-please.md", "15.9.0")
    assert counts(notes) == {"Added": 1, "Fixed": 2}
    assert notes.sections["Fixed"][1].startswith("**refactor:** Rename Salesforce to sfdx")
    assert notes.previous_version == "15.0.0"  # the excerpt's next older section
    assert notes.url == "https://github.com/googleapis/release-please/compare/v15.8.2...v15.9.0"


def test_release_please_breaking_changes_are_breaking() -> None:
    """A "### ⚠ BREAKING CHANGES" heading gives notes.breaking and Breaking; "Code Refactoring" keeps its name."""
    notes = from_changelog("release-please.md", "15.0.0")
    assert counts(notes) == {"Added": 1, "Code Refactoring": 1, "Breaking": 2}
    assert notes.breaking[1] == (
        "Parse conventional commits in manifest ([#1772](https://github.com/googleapis/release-please/issues/1772))"
    )
    assert notes.sections["breaking changes"] == notes.breaking


def test_standard_version_writes_patches_one_level_down() -> None:
    """standard-version's patch headings are "### [9.3.2]", at the level of its sections: each is still a version."""
    assert counts(from_changelog("standard-version.md", "9.4.0")) == {"Added": 1, "Fixed": 1}
    patch = from_changelog("standard-version.md", "9.3.2")
    assert counts(patch) == {"Fixed": 1}
    assert patch.previous_version == "9.3.1"
    major = from_changelog("standard-version.md", "9.0.0")
    assert counts(major) == {"Fixed": 1, "Build System": 1, "Breaking": 1}
    assert major.breaking == ("NodeJS@8 is no longer supported. (#612)",)


def test_a_bang_commit_is_breaking_wherever_it_stands() -> None:
    """commitlint's 17.0.0 lists "chore!: minimum node version v14" in its Bug Fixes list: it is breaking too."""
    notes = from_changelog("commitlint.md", "17.0.0")
    assert notes.breaking[0].startswith("chore!: minimum node version v14 (#3128)")
    assert "drop node v12 support" in notes.breaking
    assert notes.previous_version == "16.3.0"


def test_a_version_bump_only_has_no_entries() -> None:
    """A "**Note:** Version bump only" release is prose: no section has an entry, the summary says it."""
    notes = from_changelog("commitlint.md", "16.2.2")
    assert counts(notes) == {}
    assert notes.summary == "**Note:** Version bump only for package @commitlint/root"


def test_major_and_minor_headings_at_level_one_are_versions_too() -> None:
    """commitlint writes "# [17.1.0]" for minors and "## [17.1.1]" for patches."""
    assert counts(from_changelog("commitlint.md", "17.1.0")) == {"Fixed": 1, "Added": 1}
    assert from_changelog("commitlint.md", "17.1.1").previous_version == "17.1.0"


# -- GitHub's generated release notes -----------------------------------------------------


def test_github_generated_notes_give_contributors_and_the_version_before() -> None:
    """MLServer 1.3.3: "by [@name](…) in …" lines, "New Contributors", "**Full Changelog**: …/compare/1.3.2...1.3.3"."""
    notes = from_body("github-mlserver-1.3.3.md", "1.3.3")
    assert counts(notes) == {"Changed": 12}  # "What's Changed" without categories, no conventional prefixes
    assert notes.contributors == ("adriangonz", "edshee", "ascillitoe", "cristiancl25", "krishanbhasin-gc")
    assert notes.new_contributors == ("cristiancl25", "krishanbhasin-gc")
    assert notes.previous_version == "1.3.2"


def test_github_categories_with_emoji_map_onto_keep_a_changelog() -> None:
    """matterviz's release.yml categories: "🛠 Enhancements" is Added, "🐛 Bug Fixes" Fixed."""
    notes = from_body("github-matterviz-0.1.6.md")
    assert counts(notes) == {"Added": 7, "Fixed": 3}
    assert notes.new_contributors == ("ml-evs",)
    assert notes.contributors == ("janosh", "ml-evs")
    assert (
        notes.sections["fixed"][0] == "Fix VSCode PNG export by @janosh in https://github.com/janosh/matterviz/pull/103"
    )


def test_a_breaking_changes_category_is_breaking() -> None:
    """GitHub's "💥 Breaking Changes" category gives notes.breaking."""
    notes = from_body("github-matterviz-0.1.4.md")
    assert notes.breaking == (
        "Structure.svelte rename prop `show_buttons` to `show_controls` for consistency with other components "
        "by @janosh",
    )


def test_an_unknown_category_keeps_its_own_name_and_other_changes_are_changed() -> None:
    """A "🏥 Package Health" category stays Package Health; "🤷‍♂️ Other Changes" holds changes of any kind."""
    notes = from_body("github-matterviz-0.1.0-other.md")
    assert counts(notes) == {"Package Health": 3, "Changed": 3}
    assert notes.sections["package health"] == notes.sections["🏥 Package Health"]


# -- notes written by hand ----------------------------------------------------------------


def body(text: str, version: str = "2.4.1") -> ReleaseNotes:
    return parse_notes(KeptNotes(origin="test", text=text), version)


def test_uncategorized_items_are_sorted_by_their_conventional_type() -> None:
    """Under "What's Changed", feat: is Added, fix: Fixed, docs: Documentation, the rest Changed; feat!: is breaking."""
    notes = body(
        "## What's Changed\n"
        "* feat: SSO on every plan by @dana in https://github.com/acme/api/pull/1\n"
        "* fix(api): a 500 on empty filters by @sam in #2\n"
        "* feat(api)!: drop the v1 endpoints by @dana in #3\n"
        "* docs: a new guide by @dependabot[bot] in #4\n"
        "* Faster dashboards by @kim in #5\n"
    )
    assert counts(notes) == {"Added": 2, "Fixed": 1, "Documentation": 1, "Changed": 1, "Breaking": 1}
    assert notes.breaking == ("feat(api)!: drop the v1 endpoints by @dana in #3",)
    assert notes.contributors == ("dana", "sam", "kim")  # bots are not contributors


def test_a_breaking_prefix_in_bold_marks_an_entry_breaking() -> None:
    """Items starting "**Breaking:** …" or "BREAKING CHANGE: …", in any section, are breaking changes."""
    notes = body(
        "### Changed\n- **Breaking:** tokens expire after 30 days\n- BREAKING CHANGE: the CLI needs Python 3.11\n"
        "- Faster exports\n"
    )
    assert notes.breaking == ("**Breaking:** tokens expire after 30 days", "BREAKING CHANGE: the CLI needs Python 3.11")
    assert len(notes.sections["Changed"]) == 3


def test_a_title_and_prose_before_the_sections_are_the_summary() -> None:
    """A document's title is no section; the paragraph under it is the summary."""
    notes = body("# Acme Cloud 2.4.1\n\nA quieter release.\n\n## Security\n- Patched CVE-2026-1234\n")
    assert notes.summary == "A quieter release."
    assert counts(notes) == {"Security": 1}


@pytest.mark.parametrize(
    ("heading", "section"),
    [
        ("### 🚀 Features", "Added"),
        ("### Bug Fixes", "Fixed"),
        ("### Performance Improvements", "Changed"),
        ("### ⚠ BREAKING CHANGES", "Breaking"),
        ("### Deprecations", "Deprecated"),
        ("### 🔒 Security", "Security"),
        ("### Removed", "Removed"),
        ("### 🧰 Maintenance", "Maintenance"),
    ],
)
def test_headings_map_onto_keep_a_changelog_where_they_mean_the_same(heading: str, section: str) -> None:
    """Emoji and case are ignored; a heading Herald does not know keeps its own name."""
    notes = body(f"{heading}\n- something\n")
    assert notes.sections[section] == ("something",)


def test_pick_gives_the_named_sections_that_have_entries_in_that_order() -> None:
    """notes.pick("Security", "Added") leaves out an empty Added; its names are Keep a Changelog's."""
    notes = body("### Features\n- SSO\n### Security\n- Patched\n")
    assert list(notes.pick("Security", "Deprecated", "features").items()) == [
        ("Security", ("Patched",)),
        ("Added", ("SSO",)),
    ]
    assert notes.entries("Added", "Security") == ("SSO", "Patched")


def test_templates_read_the_notes_in_the_sandbox() -> None:
    """notes.sections["Security"], notes.url, notes.breaking and notes.pick(…) in a sandboxed template."""
    from bot.service.templating import render

    notes = parse_notes(
        KeptNotes(
            origin="t",
            text="### Security\n- Patched\n### Changed\n- **Breaking:** v1 is gone\n",
            url="https://x.test/2.4",
        ),
        "2.4",
    )
    text = render(
        '{{ notes.sections["security"] | join }} · {{ notes.url }} · {{ notes.breaking | length }} · '
        '{{ notes.pick("Changed", "Added") | list | join(",") }}',
        {"notes": notes},
    )
    assert text == "Patched · https://x.test/2.4 · 1 · Changed"


def test_windows_line_endings_from_the_api_read_the_same() -> None:
    """GitHub's API often gives a body with \r\n: entries come out the same, without a \r."""
    text = (SAMPLES / "github-matterviz-0.1.4.md").read_text(encoding="utf-8")
    crlf = parse_notes(KeptNotes(origin="t", text=text.replace("\n", "\r\n")), "0.1.4")
    assert counts(crlf) == counts(from_body("github-matterviz-0.1.4.md"))
    assert crlf.sections["Fixed"] == (
        "Fix vscode extension build by @janosh in https://github.com/janosh/matterviz/pull/95",
        "Housekeeping + Fixes by @janosh in https://github.com/janosh/matterviz/pull/92",
    )

"""The plan's release notes: ``[notes]`` (where each release's notes are) and a group's ``sections``."""

from __future__ import annotations

import pytest

from bot.domain.notes import NotesSource, SourceKind
from bot.service.planfile import parse_plan
from tests.service.test_planfile import group, plan_text, problems_of

GITHUB = '\n[notes]\nsource = "github:acme/api"\ntag = "api-v{version}"\n'
CHANGELOG = '\n[notes]\nsource = "changelog:CHANGELOG.md"\n'


def test_notes_and_a_groups_sections_are_read() -> None:
    """[notes] becomes the plan's source (with its tag form); sections the group's, as written."""
    plan = parse_plan(plan_text(group("customers", 'sections = ["Added", "Security"]'), tables=GITHUB))
    assert plan.notes == NotesSource(SourceKind.GITHUB, "acme/api", tag="api-v{version}")
    assert plan.group("customers").sections == ("Added", "Security")


def test_a_plan_without_notes_reads_none() -> None:
    """No [notes]: the plan has no source and a group no sections."""
    plan = parse_plan(plan_text())
    assert plan.notes is None
    assert plan.group("support").sections == ()


def test_the_tag_defaults_to_v_and_the_version() -> None:
    """GitHub's and GitLab's releases are found as v2.4.1 unless the plan says otherwise."""
    plan = parse_plan(plan_text(tables='\n[notes]\nsource = "gitlab:acme/platform/api"\n'))
    assert plan.notes is not None
    assert plan.notes.tag_of("2.4.1") == "v2.4.1"


def test_sections_without_notes_say_where_notes_come_from() -> None:
    """A group that picks sections in a plan without [notes] is told to add it."""
    [problem] = problems_of(plan_text(group("customers", 'sections = ["Added"]')))
    assert (problem.where, problem.field) == ("group 'customers'", "sections")
    assert problem.message.startswith("only makes sense with a [notes] table saying where each release's notes are")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('sections = "Added"', 'must be a list of section names such as ["Added", "Security"]'),
        ("sections = []", 'must be a list of section names such as ["Added", "Security"]'),
        ('sections = ["Added", ""]', 'each section must be a non-empty string, such as "Added"'),
        ('sections = ["Added", 3]', 'each section must be a non-empty string, such as "Added"'),
        ('sections = ["Features", "Added"]', "names Added twice (Features and Added are both Added)"),
    ],
)
def test_sections_are_names_each_given_once(lines: str, message: str) -> None:
    """Each of a group's sections is a non-empty string, and no two name the same section."""
    [problem] = problems_of(plan_text(group("customers", lines), tables=CHANGELOG))
    assert (problem.where, problem.field, problem.message) == ("group 'customers'", "sections", message)


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        (
            'source = "jira:ACME"',
            "source",
            "'jira:ACME' is not a notes source; write changelog:PATH, file:PATH, "
            "github:OWNER/REPO or gitlab:GROUP/PROJECT",
        ),
        (
            'source = "github:acme"',
            "source",
            "'acme' is not a GitHub repository; write github:OWNER/REPO, e.g. github:acme/api",
        ),
        ('source = "file:NOTES.md"', "source", "a file: source must contain {version}, e.g. file:notes/{version}.md"),
        (
            'source = "github:acme/api"\ntag = "latest"',
            "tag",
            '\'latest\' must contain {version}, e.g. "v{version}" or "api-v{version}"',
        ),
        (
            'source = "changelog:CHANGELOG.md"\ntag = "v{version}"',
            "tag",
            "has no effect with a changelog: source (a tag finds a release on GitHub or GitLab)",
        ),
        ('tag = "v{version}"', "source", "is required"),
        ('source = "github:acme/api"\nbranch = "main"', "branch", "unknown field (allowed: source, tag)"),
    ],
)
def test_a_notes_table_herald_cannot_use_is_one_problem_each(table: str, field: str, message: str) -> None:
    """Each mistake in [notes] names the field and says what it takes."""
    [problem] = problems_of(plan_text(tables=f"\n[notes]\n{table}\n"))
    assert (problem.where, problem.field, problem.message) == ("[notes]", field, message)


def test_vars_may_not_redefine_the_notes() -> None:
    """With [notes], a [vars] entry named notes or group_notes would hide them: refused."""
    problems = problems_of(plan_text(tables=CHANGELOG + '\n[vars]\nnotes = "see the wiki"\n'))
    assert [(p.where, p.field, p.message) for p in problems] == [
        ("[vars]", "notes", "is set by Herald from [notes] and cannot be redefined")
    ]

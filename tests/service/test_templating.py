"""Communiqué templates: sandboxed Jinja2 where every failure becomes a sentence, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.plan import Plan
from bot.service.planfile import load_plan, parse_plan
from bot.service.templating import RenderError, render, syntax_problem
from bot.service.walkthrough import render_communiques

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def make_plan(tmp_path: Path, *messages: str, vars_toml: str = "", release_values: str | None = None) -> Plan:
    """A plan in ``tmp_path`` with one group per message (g1, g2, …) and, if given, values for release 2.4."""
    groups = "".join(
        f'\n[[group]]\nid = "g{i}"\nto = ["shell:#g{i}"]\nmessage = """{m}"""\n' for i, m in enumerate(messages, 1)
    )
    text = (
        'product = "Acme Cloud"\n[access]\nannouncers = ["shell:deployer"]\n'
        + (f"\n[vars]\n{vars_toml}\n" if vars_toml else "")
        + '\n[releases]\nvars_file = "releases/{version}.toml"\n'
        + groups
    )
    if release_values is not None:
        (tmp_path / "releases").mkdir()
        (tmp_path / "releases" / "2.4.toml").write_text(release_values, encoding="utf-8")
    return parse_plan(text, base_dir=tmp_path)


# -- render ------------------------------------------------------------------------------


def test_variables_are_substituted() -> None:
    """A template's variables are filled in from the context."""
    assert render("{{ product }} {{ version }} is live.", {"product": "Acme", "version": "2.4"}) == "Acme 2.4 is live."


def test_an_undefined_variable_is_a_render_error_naming_it() -> None:
    """Using a variable nobody defined fails, naming the template and the variable."""
    with pytest.raises(RenderError, match=r"^comms/support\.md\.j2: 'summary' is undefined$"):
        render("{{ summary }}", {}, name="comms/support.md.j2")


def test_an_undefined_attribute_is_a_render_error() -> None:
    """A missing key of a defined value fails too, rather than rendering as empty."""
    with pytest.raises(RenderError, match="has no attribute 'owner'"):
        render("{{ release.owner }}", {"release": {}})


def test_default_supplies_a_value_for_an_undefined_variable() -> None:
    """``default`` is the documented way to make a value optional."""
    assert render("{{ extra | default('none') }}", {}) == "none"


def test_a_syntax_error_is_a_render_error_with_its_line() -> None:
    """A template that does not parse fails with the line of the mistake."""
    with pytest.raises(RenderError, match=r"g: template does not parse \(line 2\)"):
        render("fine\n{% if %}", {}, name="g")


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ product.__class__ }}",
    ],
)
def test_the_sandbox_refuses_attribute_access(source: str) -> None:
    """Reaching for Python internals through attributes is refused as unsafe."""
    with pytest.raises(RenderError, match="is unsafe"):
        render(source, {"product": "Acme"})


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("{{ 1 / 0 }}", "division by zero"),
        ("{{ range(10 ** 9) | list }}", "Range too big"),
        ("{% include 'other.j2' %}", "no loader for this environment specified"),
        ("{{ 'a' + 1 }}", "can only concatenate str"),
    ],
)
def test_runtime_failures_are_render_errors(source: str, fragment: str) -> None:
    """Arithmetic, type mistakes, sandbox limits and missing loaders end as a RenderError sentence."""
    with pytest.raises(RenderError, match=fragment):
        render(source, {})


def test_text_is_not_html_escaped() -> None:
    """Communiqués are chat text, so ``<`` and ``&`` are kept as written."""
    assert render("{{ v }}", {"v": "<https://example.com|notes> & more"}) == "<https://example.com|notes> & more"


def test_block_tags_leave_no_blank_lines() -> None:
    """A line holding only ``{% … %}`` leaves nothing behind."""
    source = "Changes:\n{% for item in items %}\n• {{ item }}\n{% endfor %}\nDone."

    assert render(source, {"items": ["a", "b"]}) == "Changes:\n• a\n• b\nDone."


def test_syntax_problem_accepts_a_good_template() -> None:
    """A template that parses has no syntax problem."""
    assert syntax_problem("{% for i in items %}{{ i }}{% endfor %}", "g") is None


def test_syntax_problem_describes_a_bad_template() -> None:
    """A template that does not parse is described in a sentence with its line."""
    assert syntax_problem("ok\n{{ product }", "g") == "template does not parse (line 2): unexpected '}'"


# -- render_communiques ------------------------------------------------------------------


def test_the_example_plan_renders_for_its_release() -> None:
    """Release 2.4 of the example renders both groups with the plan's vars and the release's values."""
    communiques = render_communiques(load_plan(EXAMPLES / "release-comms.toml"), "2.4")

    engineering, support = communiques["engineering"], communiques["support"]
    assert (engineering.render_error, support.render_error) == (None, None)
    assert engineering.text == (
        ":rocket: **Acme Cloud 2.4** is live in production.\n"
        "Dashboards are faster, single sign-on comes to every plan, and audit logs can be exported.\n"
        "Release notes: https://example.com/releases/2.4"
    )
    assert "• SAML single sign-on is available on every plan\n" in support.text


def test_an_undefined_variable_ends_as_the_communiques_render_error() -> None:
    """A release without its values file leaves each communiqué empty with a render error, no exception."""
    communiques = render_communiques(load_plan(EXAMPLES / "release-comms.toml"), "2.5")

    assert communiques["engineering"].text == ""
    assert communiques["engineering"].render_error == "group 'engineering' message: 'summary' is undefined"
    assert communiques["support"].render_error == "comms/support.md.j2: 'summary' is undefined"


def test_one_group_failing_to_render_leaves_the_others(tmp_path: Path) -> None:
    """A render error is kept on its own communiqué; the other groups still render."""
    plan = make_plan(tmp_path, "Acme {{ version }} {{ nothing }}", "Acme {{ version }} is live.")

    communiques = render_communiques(plan, "2.4")

    assert communiques["g1"].render_error == "group 'g1' message: 'nothing' is undefined"
    assert (communiques["g2"].text, communiques["g2"].render_error) == ("Acme 2.4 is live.", None)


def test_a_sandbox_refusal_ends_as_the_communiques_render_error(tmp_path: Path) -> None:
    """A template that reaches for ``__class__`` gets a render error, not an exception."""
    plan = make_plan(tmp_path, "{{ ''.__class__.__mro__ }}")

    error = render_communiques(plan, "2.4")["g1"].render_error

    assert error is not None
    assert "access to attribute '__class__' of 'str' object is unsafe" in error


def test_release_values_are_available_to_templates(tmp_path: Path) -> None:
    """Every key of the release's values file is a template variable, of any TOML type."""
    plan = make_plan(
        tmp_path,
        "{{ product }} {{ version }}: {{ summary }} ({{ highlights | join(', ') }}, {{ fixes }} fixes)",
        release_values='summary = "Faster."\nhighlights = ["SSO", "exports"]\nfixes = 12\n',
    )

    assert render_communiques(plan, "2.4")["g1"].text == "Acme Cloud 2.4: Faster. (SSO, exports, 12 fixes)"


def test_release_values_are_not_rendered_as_templates(tmp_path: Path) -> None:
    """A ``{{ version }}`` inside a release value stays literal (and the placeholder check will catch it)."""
    plan = make_plan(tmp_path, "{{ summary }}", release_values='summary = "Out in {{ version }}"\n')

    assert render_communiques(plan, "2.4")["g1"].text == "Out in {{ version }}"


def test_plan_vars_are_rendered_in_file_order(tmp_path: Path) -> None:
    """A [vars] entry may use product, version and the entries above it."""
    plan = make_plan(
        tmp_path,
        "{{ notes }}",
        vars_toml="base = \"https://example.com/{{ product | lower | replace(' ', '-') }}\"\n"
        'notes = "{{ base }}/releases/{{ version }}"',
    )

    assert render_communiques(plan, "2.4")["g1"].text == "https://example.com/acme-cloud/releases/2.4"


def test_a_release_value_wins_over_a_plan_var_of_the_same_name(tmp_path: Path) -> None:
    """The release's own value is more specific than the plan's default, everywhere."""
    plan = make_plan(
        tmp_path,
        "{{ notes_url }}",
        vars_toml='notes_url = "https://example.com/releases/{{ version }}"',
        release_values='notes_url = "https://status.example.com/2.4-hotfix"\n',
    )

    assert render_communiques(plan, "2.4")["g1"].text == "https://status.example.com/2.4-hotfix"


def test_a_plan_var_that_fails_fails_every_communique(tmp_path: Path) -> None:
    """A [vars] entry that cannot render gives every communiqué its error."""
    plan = make_plan(tmp_path, "Acme {{ version }}", "Acme {{ version }} again", vars_toml='notes = "{{ missing }}"')

    communiques = render_communiques(plan, "2.4")

    assert {c.render_error for c in communiques.values()} == {"[vars] notes: 'missing' is undefined"}


def test_only_the_groups_asked_for_are_rendered(tmp_path: Path) -> None:
    """Given a list of groups, only those get communiqués."""
    plan = make_plan(tmp_path, "one {{ version }}", "two {{ version }}")

    assert list(render_communiques(plan, "2.4", [plan.group("g2")])) == ["g2"]


def test_rendered_text_is_stripped(tmp_path: Path) -> None:
    """Leading and trailing whitespace of the rendered message is dropped."""
    plan = make_plan(tmp_path, "\n\n  Acme {{ version }} is live.  \n\n")

    assert render_communiques(plan, "2.4")["g1"].text == "Acme 2.4 is live."


def test_a_runaway_template_ends_as_a_render_error(tmp_path: Path) -> None:
    """A macro that calls itself forever gets a render error rather than crashing the announce."""
    plan = make_plan(tmp_path, "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "Acme {{ version }}")

    communiques = render_communiques(plan, "2.4")

    assert communiques["g1"].render_error is not None
    assert communiques["g2"].text == "Acme 2.4"


def test_a_template_cannot_change_what_another_group_sees(tmp_path: Path) -> None:
    """One group's template cannot modify the release values another group renders."""
    plan = make_plan(
        tmp_path,
        "{{ highlights.append('Free beer') }} Acme {{ version }}",
        "{{ highlights | join(', ') }}",
        release_values='highlights = ["SSO", "exports"]\n',
    )

    assert render_communiques(plan, "2.4")["g2"].text == "SSO, exports"


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("{{ 'x' * 10**8 }}", "is too big for a communiqué"),
        ("{{ 10**8 * 'x' }}", "is too big for a communiqué"),
        ("{{ 2 ** 100000 }}", "that power is too big"),
        ("{% for i in range(100000) %}0123456789{% endfor %}", "longer than 100,000 characters"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "took longer than 2 s to render",
        ),
    ],
)
def test_a_template_that_would_exhaust_the_process_stops_with_a_sentence(source: str, said: str) -> None:
    """Huge values, huge output and endless loops end in a RenderError within the bounds, not in a stuck process."""
    with pytest.raises(RenderError, match=said):
        render(source, {}, name="group 'x'")

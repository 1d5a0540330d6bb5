"""Communiqué templates: Jinja2, sandboxed, with undefined variables as errors."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    # Immutable: one group's template cannot change the values the next one sees.
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class RenderError(Exception):
    """A template could not be rendered; the message says why, for a person."""


def syntax_problem(source: str, name: str) -> str | None:
    """Return a sentence describing a syntax error in the template, or ``None``."""
    try:
        _environment().compile(source, name=name)  # compiling also finds unknown filters and tests
    except TemplateSyntaxError as error:
        return f"template does not parse (line {error.lineno}): {error.message}"
    return None


def render(source: str, context: Mapping[str, Any], *, name: str = "<template>") -> str:
    """Render a template with the given variables.

    Raises:
        RenderError: on an undefined variable, a syntax error or a sandbox refusal.
    """
    try:
        template = _environment().from_string(source)
        return template.render(dict(context))
    except UndefinedError as error:
        raise RenderError(f"{name}: {error.message}") from None
    except TemplateSyntaxError as error:
        raise RenderError(f"{name}: template does not parse (line {error.lineno}): {error.message}") from None
    except TemplateError as error:
        raise RenderError(f"{name}: {error}") from None
    except RecursionError:
        raise RenderError(f"{name}: the template calls itself without end") from None
    except (TypeError, ValueError, ArithmeticError, AttributeError) as error:
        raise RenderError(f"{name}: {error}") from None

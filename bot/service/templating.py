"""Communiqué templates: Jinja2, sandboxed, with undefined variables as errors, and bounded.

A plan file is trusted to say what to send, not to exhaust the process that sends it:
rendering stops with a sentence when the text would pass ``MAX_OUTPUT`` characters, when
one product or power would build a value past that size (``'x' * 10**8`` is refused
before it is built), or when it runs longer than ``MAX_SECONDS`` (nested loops). The
desk renders off the event loop (``asyncio.to_thread``), so a slow template holds up
nobody else's click.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from functools import lru_cache
from types import FrameType
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 100_000  # characters: more than any platform takes in one message
MAX_SECONDS = 2.0


class _Bounded(ImmutableSandboxedEnvironment):
    """The sandbox, with ``*`` and ``**`` refusing to build values past ``MAX_OUTPUT``."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            sizes = [len(v) for v in (left, right) if isinstance(v, str | bytes | list | tuple)]
            counts = [v for v in (left, right) if isinstance(v, int) and not isinstance(v, bool)]
            if sizes and counts and sizes[0] * max(counts[0], 0) > MAX_OUTPUT:
                raise SecurityError(f"a value of {sizes[0] * counts[0]:,} items is too big for a communiqué")
        if operator == "**" and _too_big_a_power(left, right):
            raise SecurityError("that power is too big for a communiqué")
        return super().call_binop(context, operator, left, right)


def _too_big_a_power(base: Any, exponent: Any) -> bool:
    """Whether ``base ** exponent`` would run to more than about 10,000 digits."""
    if not isinstance(base, int | float) or not isinstance(exponent, int | float):
        return False
    digits = len(str(int(abs(base)))) if abs(base) > 1 else 0
    return abs(exponent) > 10_000 or abs(exponent) * digits > 10_000


@lru_cache(maxsize=1)
def _environment() -> _Bounded:
    # Immutable: one group's template cannot change the values the next one sees.
    return _Bounded(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class _TooLong(Exception):
    """Rendering ran past ``MAX_SECONDS``."""


class RenderError(Exception):
    """A template could not be rendered; the message says why, for a person."""


def unavailable(sentence: str) -> Any:
    """A value that fails whichever template uses it, with ``sentence`` as the reason (notes that could not be read):
    templates that do not use it render as usual."""
    return StrictUndefined(hint=sentence)


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
        return _bounded(template.generate(dict(context)), name)
    except _TooLong:
        raise RenderError(f"{name}: the template took longer than {MAX_SECONDS:g} s to render") from None
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


def _bounded(chunks: Any, name: str) -> str:
    """Join the rendered chunks, stopping at ``MAX_OUTPUT`` characters or ``MAX_SECONDS``."""
    deadline = time.monotonic() + MAX_SECONDS
    previous = sys.gettrace()

    def watch(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _TooLong
        return watch  # every line of every frame: a loop cannot outrun the deadline

    parts: list[str] = []
    size = 0
    sys.settrace(watch)
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise RenderError(f"{name}: the text would be longer than {MAX_OUTPUT:,} characters")
            parts.append(chunk)
            if time.monotonic() > deadline:
                raise _TooLong
    finally:
        sys.settrace(previous)
    return "".join(parts)

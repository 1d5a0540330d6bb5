"""Log lines as a person or a log collector reads them: text, or one JSON object a line; never a secret.

``HERALD_LOG_FORMAT=json`` writes, per record::

    {"time": "2026-12-08T09:30:15.123+00:00", "level": "WARNING", "logger": "bot.service.engine",
     "message": "...", "release": "2.4", "group": "support"}

with every field a caller passed in ``extra=`` next to the four fixed ones, and the traceback
under ``exception`` when there is one. Only the standard library is used.

Whatever the format, each secret the settings hold is replaced by ``***`` in the finished
line, so a token that reaches a message by accident (a library's debug output, an error's
text) still never reaches the log. ``Secret`` values print as ``Secret('***')`` anyway.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
_MASK = "***"
_SHORTEST_MASKED = 4  # a shorter secret would mask ordinary words; none of Herald's is that short
_FIXED = ("time", "level", "logger", "message")
# What every LogRecord carries; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _FIXED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class MaskingFormatter(logging.Formatter):
    """Another formatter's line with every secret in it replaced by ``***`` (as written, and as JSON escapes it)."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self._inner = inner
        forms = {form for s in secrets if len(s) >= _SHORTEST_MASKED for form in (s, json.dumps(s)[1:-1])}
        self._secrets = sorted(forms, key=len, reverse=True)  # a secret inside another is masked with it

    def format(self, record: logging.LogRecord) -> str:
        line = self._inner.format(record)
        for secret in self._secrets:
            line = line.replace(secret, _MASK)
        return line


def log_formatter(log_format: str, secrets: Iterable[str] = ()) -> logging.Formatter:
    """The formatter for ``HERALD_LOG_FORMAT`` (``text`` or ``json``), masking ``secrets``."""
    inner = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    return MaskingFormatter(inner, secrets)


def log_handler(log_format: str, secrets: Iterable[str] = (), stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to ``stream`` (stderr by default) in ``log_format``, masking ``secrets``."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log_formatter(log_format, secrets))
    return handler

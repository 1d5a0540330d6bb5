"""The evidence pack as CSV: one row per delivery, with a header, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) would be
read by a spreadsheet as a formula; such a cell gets a leading ``'`` so it stays text
(OWASP's advice on CSV injection). Error messages and auto-replies come from outside
Herald, so any cell may hold one.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from adapters.export.records import delivery_records
from bot.service.evidence import EvidencePack

COLUMNS = (
    "version",
    "key",
    "group",
    "group_name",
    "purpose",
    "target",
    "medium",
    "kind",
    "via",
    "status",
    "attempts",
    "created_at",
    "sent_at",
    "message_ref",
    "error",
    "permanent",
    "report",
    "confirmed_at",
    "read_at",
    "auto_reply",
    "audience",
    "acknowledged_here",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_csv(pack: EvidencePack) -> str:
    """The deliveries of the pack as CSV text (RFC 4180: CRLF line ends, quoted where needed)."""
    names = {g.id: g.name for g in pack.status.groups}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for record in delivery_records(pack):
        row = {"version": pack.version, "group_name": names.get(record["group"], record["group"]), **record}
        writer.writerow({column: safe_cell(row[column]) for column in COLUMNS})
    return out.getvalue()


def safe_cell(value: Any) -> str:
    """A value as a spreadsheet cell that is never taken for a formula; None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text

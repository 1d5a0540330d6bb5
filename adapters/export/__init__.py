"""The evidence pack written out: Markdown for a change ticket, CSV for a spreadsheet, JSON for a program.

``bot.service.evidence`` builds the pack; the formats are presentation and live here.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from adapters.export.markdown import render_markdown
from adapters.export.records import FORMAT, pack_record
from adapters.export.sheet import render_csv
from bot.service.evidence import EvidencePack

__all__ = ["FORMAT", "FORMATS", "file_name", "render"]


def _render_json(pack: EvidencePack) -> str:
    return json.dumps(pack_record(pack), indent=2, ensure_ascii=False) + "\n"


_RENDERERS: dict[str, Callable[[EvidencePack], str]] = {
    "md": render_markdown,
    "csv": render_csv,
    "json": _render_json,
}
FORMATS = tuple(_RENDERERS)
"""The formats, by their file extension: ``md``, ``csv``, ``json``."""


def render(pack: EvidencePack, fmt: str) -> str:
    """The pack as text in format ``fmt`` (one of ``FORMATS``)."""
    return _RENDERERS[fmt](pack)


def file_name(pack: EvidencePack, fmt: str) -> str:
    """Where the pack goes in a folder: ``herald-<product>-<version>.<fmt>``, the product made safe for a file name."""
    product = "".join(c if c.isalnum() or c in "._-" else "-" for c in pack.product.lower()).strip("-.") or "release"
    version = "".join(c if c.isalnum() or c in "._-+" else "-" for c in pack.version)
    return f"herald-{product}-{version}.{fmt}"

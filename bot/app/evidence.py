"""``herald export``: a release's evidence pack, read from the ledger and written in the chosen format."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from adapters.export import FORMATS, file_name, render
from bot.app.bootstrap import open_storage, wire
from bot.app.settings import Settings
from bot.domain.errors import ConfigError
from bot.service.evidence import EvidencePack
from bot.service.planfile import load_plan


def export(settings: Settings, version: str, fmt: str, out: str | None) -> int:
    """Print the pack of ``version`` in ``fmt``, or (with ``out``) write it into that folder and say where.

    ``fmt`` is one of ``adapters.export.FORMATS``, or ``all`` with ``out``: each format, one file each.

    Raises:
        NotFound: the release was never announced.
        ConfigError: the folder cannot be written.
    """
    pack = asyncio.run(_evidence(settings, version))
    if out is None:
        sys.stdout.write(render(pack, fmt))
        return 0
    folder = Path(out)
    for each in FORMATS if fmt == "all" else (fmt,):
        path = folder / file_name(pack, each)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # CSV with a byte-order mark, so that spreadsheets take it for UTF-8; line ends as rendered (CRLF)
            path.write_text(render(pack, each), encoding="utf-8-sig" if each == "csv" else "utf-8", newline="")
        except OSError as error:
            raise ConfigError(f"Cannot write the evidence pack to {path}: {error.strerror or error}") from None
        sys.stdout.write(f"Wrote {path}\n")
    return 0


async def _evidence(settings: Settings, version: str) -> EvidencePack:
    plan = load_plan(settings.plan_path)
    storage = await open_storage(settings, migrate=False)
    try:
        return await wire(plan=plan, storage=storage, links={}).desk.evidence(version)
    finally:
        await storage.close()

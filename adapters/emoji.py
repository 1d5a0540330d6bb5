"""Slack-style emoji codes (``:rocket:``) as the emoji themselves, for media that do not read codes.

Communiqués are written once for every medium, often with Slack's codes. Slack shows them;
Discord shows a bot's ``:rocket:`` as text, and mail clients and pagers know no codes at
all. The common codes of release notes are turned into emoji; any other code is left as
it was written.
"""

from __future__ import annotations

import re

_EMOJI = {
    ":rocket:": "🚀",
    ":tada:": "🎉",
    ":white_check_mark:": "✅",
    ":heavy_check_mark:": "✔️",
    ":warning:": "⚠️",
    ":bell:": "🔔",
    ":mega:": "📣",
    ":loudspeaker:": "📢",
    ":sparkles:": "✨",
    ":memo:": "📝",
    ":rotating_light:": "🚨",
}
_CODE = re.compile(r":[a-z0-9_+-]+:")


def emojize(text: str) -> str:
    """``text`` with the known emoji codes replaced by their emoji."""
    return _CODE.sub(lambda m: _EMOJI.get(m.group(0), m.group(0)), text)

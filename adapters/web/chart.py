"""Acknowledgements over time, as an SVG line per group (drawn on the server: no script, no library)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from bot.service.dashboard import DashboardView

_WIDTH, _HEIGHT, _PAD = 640, 200, 32
_COLOURS = ("#2563eb", "#16a34a", "#d97706", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626")


def acknowledgement_chart(view: DashboardView, now: datetime) -> str:
    """An ``<svg>`` with one cumulative line per group that asks for acknowledgements, and its legend."""
    groups = [g for g in view.status.groups if g.ack != "none"]
    if not view.timeline or not groups:
        return '<p class="quiet" id="chart-empty">No acknowledgements yet.</p>'
    sent = [row.sent_at for row in view.rows if row.sent_at is not None]
    start = min([*sent, view.timeline[0][0]])  # from when the release went out
    span = max((now - start).total_seconds(), 1.0)
    top = max(max((g.expected for g in groups), default=1), max((g.acknowledged for g in groups), default=1), 1)

    def x(at: datetime) -> float:
        return _PAD + (at - start).total_seconds() / span * (_WIDTH - 2 * _PAD)

    def y(count: int) -> float:
        return _HEIGHT - _PAD - count / top * (_HEIGHT - 2 * _PAD)

    parts = [
        f'<svg id="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="Acknowledgements over time">',
        f'<line x1="{_PAD}" y1="{_HEIGHT - _PAD}" x2="{_WIDTH - _PAD}" y2="{_HEIGHT - _PAD}" stroke="#999"/>',
        f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_HEIGHT - _PAD}" stroke="#999"/>',
        f'<text x="{_PAD - 6}" y="{_PAD + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{_PAD - 6}" y="{_HEIGHT - _PAD + 4}" text-anchor="end" font-size="11">0</text>',
        f'<text x="{_PAD}" y="{_HEIGHT - 8}" font-size="11">{start.strftime("%H:%M")}</text>',
        f'<text x="{_WIDTH - _PAD}" y="{_HEIGHT - 8}" text-anchor="end" font-size="11">{now.strftime("%H:%M")}</text>',
    ]
    for index, group in enumerate(groups):
        colour = _COLOURS[index % len(_COLOURS)]
        count, points = 0, [f"{x(start):.1f},{y(0):.1f}"]
        for at, group_id in view.timeline:
            if group_id == group.id:
                points.append(f"{x(at):.1f},{y(count):.1f}")
                count += 1
                points.append(f"{x(at):.1f},{y(count):.1f}")
        points.append(f"{x(now):.1f},{y(count):.1f}")
        parts.append(
            f'<polyline class="line" data-group="{escape(group.id)}" fill="none" stroke="{colour}" '
            f'stroke-width="2" points="{" ".join(points)}"/>'
        )
        parts.append(
            f'<text x="{_PAD + 8}" y="{_PAD + 12 + 14 * index}" font-size="11" fill="{colour}">'
            f"{escape(group.name)}: {count}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)

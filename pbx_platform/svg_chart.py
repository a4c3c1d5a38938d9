"""Small charts drawn on the server as SVG: readable without JavaScript, scaled by the
page (the ``viewBox`` fills the width it is given), with a title and a description for
assistive technology; the page puts a table of the same numbers beside it.

Text is escaped here (``markupsafe``), so labels may hold anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 50, 10, 16, 26  # room for the axis labels


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least ``value`` (an axis' top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop ends at 10


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def line_chart(
    points: Sequence[tuple[date, int | None]],
    *,
    title: str,
    description: str,
    value_label: Callable[[float], str],
    date_label: Callable[[date], str],
    limit: int | None = None,
    limit_label: str = "",
    empty_label: str = "",
) -> Markup:
    """``points`` (a day and a value, ``None`` for an unknown day: a gap in the line) as a
    line over a filled area, the days along the bottom (first, middle, last), three
    values up the side (0, half, top). A ``limit`` within the scale is a dashed line."""
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    known = [v for _, v in points if v is not None]
    top = nice_ceiling(max(known, default=0))
    if limit is not None and max(known, default=0) >= limit * 0.8:
        top = nice_ceiling(max(top, limit))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'class="chart" role="img" aria-labelledby="chart-title chart-desc" '
        'font-size="11" font-family="inherit">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
    ]

    def x_of(index: int) -> float:
        return LEFT + (inner_w * index / (len(points) - 1) if len(points) > 1 else inner_w / 2)

    def y_of(value: float) -> float:
        return TOP + inner_h - inner_h * value / top

    for fraction in (0, 0.5, 1):
        y = y_of(top * fraction)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_number(y)}" y2="{_number(y)}" '
            'class="chart-grid" stroke="currentColor" stroke-opacity="0.15"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{_number(y + 3.5)}" text-anchor="end" '
            f'fill="currentColor">{escape(value_label(top * fraction))}</text>'
        )
    if points:
        last = len(points) - 1
        for index in sorted({0, last // 2, last}):
            anchor = (
                "start" if index == 0 and last else "end" if index == last and last else "middle"
            )
            parts.append(
                f'<text x="{_number(x_of(index))}" y="{HEIGHT - 8}" text-anchor="{anchor}" '
                f'fill="currentColor">{escape(date_label(points[index][0]))}</text>'
            )
    segments: list[list[tuple[float, float]]] = [[]]
    for index, (_, value) in enumerate(points):
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((x_of(index), y_of(value)))
    base = _number(y_of(0))
    for segment in (s for s in segments if s):
        line = " ".join(f"{_number(x)},{_number(y)}" for x, y in segment)
        if len(segment) == 1:
            x, y = segment[0]
            parts.append(
                f'<circle cx="{_number(x)}" cy="{_number(y)}" r="3" class="chart-line" '
                'fill="currentColor"/>'
            )
            continue
        area = f"{_number(segment[0][0])},{base} {line} {_number(segment[-1][0])},{base}"
        parts.append(
            f'<polygon points="{area}" class="chart-area" fill="currentColor" fill-opacity="0.15"/>'
        )
        parts.append(
            f'<polyline points="{line}" class="chart-line" fill="none" stroke="currentColor" '
            'stroke-width="2" '
            'stroke-linejoin="round"/>'
        )
    if limit is not None and limit <= top:
        at = _number(y_of(limit))
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{at}" y2="{at}" class="chart-limit" '
            'stroke="currentColor" stroke-dasharray="4 3" stroke-width="1.5"/>'
        )
        if limit_label:
            parts.append(
                f'<text x="{WIDTH - RIGHT}" y="{_number(y_of(limit) - 4)}" text-anchor="end" '
                f'class="chart-limit-label" fill="currentColor">{escape(limit_label)}</text>'
            )
    if not known and empty_label:
        parts.append(
            f'<text x="{_number(LEFT + inner_w / 2)}" y="{_number(TOP + inner_h / 2)}" '
            f'text-anchor="middle" fill="currentColor">{escape(empty_label)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" '
        'stroke="currentColor" stroke-opacity="0.6"/>'
    )
    parts.append("</svg>")
    # Every piece above is either fixed markup or escaped text: safe to mark as such.
    return Markup("".join(parts))  # noqa: S704

"""Pictures drawn from the data as inline SVG: nothing to maintain but the data itself (issue 5).

The timeline is drawn to scale down the page: a dot on a time axis for each event and its label to the
right, pushed down when events crowd together (a leader line then joins label and dot), so a reader
sees at a glance where events cluster. Years before the busy stretch are shown above a break in the
axis rather than squashing it. Text is measured with the shipped font's own metrics, so wrapping is
exact and the drawing never depends on the machine's fonts.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

# SVG text with ``&``, ``<`` and ``>`` as entities: `xml.sax.saxutils.escape`'s output, from the standard html
# module the build imports anyway (saxutils imports urllib.request, http.client, email and ssl: ~10 ms of every
# build's start; issue 27). Quotes are left alone: this escapes text, not attributes.
_escape = functools.partial(html.escape, quote=False)


log = logging.getLogger(__name__)

FONTS = Path(__file__).resolve().parent.parent.parent / "templates" / "base" / "fonts"
FONT_FAMILY = "Brief Sans"
INK = "#1b365d"
GREY = "#555555"

WIDTH = 468.0  # points: a letter page's 6.5 in measure
AXIS_X = 78.0
LABEL_X = 96.0  # the date column; the titles start after the widest date
LABEL_SIZE = 8.0
DATE_SIZE = 7.0
LINE = 10.0  # line height of a label, points
GAP = 4.0  # between labels
MONTHS_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@functools.cache
def _advances(bold: bool) -> tuple[dict[int, int], int, int]:
    """Advance widths (font units) by code point for the shipped sans face, with its units per em."""
    from fontTools.ttLib import TTFont

    font = TTFont(FONTS / ("LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf"), lazy=True)
    cmap = font.getBestCmap()
    metrics = font["hmtx"].metrics
    widths = {code: metrics[glyph][0] for code, glyph in cmap.items()}
    return widths, int(font["head"].unitsPerEm), metrics[".notdef"][0]


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width in points of ``text`` set in the shipped sans face at ``size``."""
    widths, per_em, fallback = _advances(bold)
    return sum(widths.get(ord(ch), fallback) for ch in text) * size / per_em


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` points (a long word gets a line of its own)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if current and text_width(trial, size, bold) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines or [""]


def approx_day(date: str, qualifier: str | None) -> dt.date:
    """Where a partial date sits on a time axis: '2022-05' + 'mid' is 15 May, '2022' is 1 July."""
    parts = [int(p) for p in date.split("-")]
    if len(parts) == 3:
        return dt.date(parts[0], parts[1], parts[2])
    if len(parts) == 2:
        day = {"early": 5, "mid": 15, "late": 25, "by": 28}.get(qualifier or "", 15)
        return dt.date(parts[0], parts[1], day)
    month = {"early": 2, "mid": 6, "late": 10, "by": 12}.get(qualifier or "", 7)
    return dt.date(parts[0], month, 1)


def date_label(date: str, qualifier: str | None) -> str:
    """A short date for the axis label: '24 Feb', 'mid May', '2020', 'Mar 2019'."""
    parts = [int(p) for p in date.split("-")]
    if len(parts) == 3:
        text = f"{parts[2]} {MONTHS_SHORT[parts[1] - 1]}"
    elif len(parts) == 2:
        text = MONTHS_SHORT[parts[1] - 1]
    else:
        text = str(parts[0])
    return f"{qualifier} {text}" if qualifier else text


def long_date(date: str, qualifier: str | None) -> str:
    """A date written out for the description read aloud: 'mid May 2022'."""
    parts = [int(p) for p in date.split("-")]
    if len(parts) == 3:
        text = f"{parts[2]} {MONTHS[parts[1] - 1]} {parts[0]}"
    elif len(parts) == 2:
        text = f"{MONTHS[parts[1] - 1]} {parts[0]}"
    else:
        text = str(parts[0])
    return f"{qualifier} {text}" if qualifier else text


@dataclass
class _Mark:
    """One event placed on the drawing."""

    day: dt.date
    when: str  # short date shown on the label
    spoken: str  # long date for the description
    lines: list[str]
    major: bool
    earlier: bool  # before the busy stretch: above the axis break
    dot_y: float = 0.0
    label_y: float = 0.0

    @property
    def height(self) -> float:
        return LINE * len(self.lines)


def _focus_start(days: list[dt.date]) -> dt.date:
    """The first of the year the middle event falls in: the axis is to scale from there on."""
    middle = sorted(days)[len(days) // 2]
    return dt.date(middle.year, 1, 1)


def _month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    months = []
    day = dt.date(start.year, start.month, 1)
    while day <= end:
        months.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def _place_labels(marks: list[_Mark], top: float) -> float:
    """Set each label's y as near its dot as it can be without overlapping; return the last label's bottom.

    Labels that would overlap form a block centred on their dots' average (so a crowded week spreads
    both up and down); a block that then overlaps the one above merges with it, until none overlap.
    """
    blocks: list[list[_Mark]] = []
    tops: list[float] = []

    def ideal_top(block: list[_Mark]) -> float:
        offsets, offset = [], 0.0
        for mark in block:
            offsets.append(offset)
            offset += mark.height + GAP
        return max(top, sum(m.dot_y - o for m, o in zip(block, offsets, strict=True)) / len(block))

    def bottom(index: int) -> float:
        return tops[index] + sum(m.height + GAP for m in blocks[index]) - GAP

    for mark in marks:
        blocks.append([mark])
        tops.append(ideal_top([mark]))
        while len(blocks) > 1 and tops[-1] < bottom(-2) + GAP:
            merged = blocks[-2] + blocks[-1]
            del blocks[-1], tops[-1]
            blocks[-1] = merged
            tops[-1] = ideal_top(merged)
    end = top
    for block, block_top in zip(blocks, tops, strict=True):
        y = block_top
        for mark in block:
            mark.label_y = y
            y += mark.height + GAP
        end = y - GAP
    return end


def timeline_svg(items: Sequence[Any], title: str, major_priority: int = 1) -> Markup:
    """The events in ``items`` (with date, qualifier, title, priority) as an accessible inline SVG timeline.

    Events of priority ≤ ``major_priority`` get a filled dot and a bold label.
    """
    if not items:
        return Markup("")
    whens = [date_label(item.date, item.qualifier) for item in items]
    title_x = LABEL_X + max(text_width(w + " 2022", DATE_SIZE) for w in whens) + 6  # room for a year added below
    label_width = WIDTH - title_x
    marks = []
    for item in items:
        major = int(item.priority) <= major_priority
        marks.append(
            _Mark(
                day=approx_day(item.date, item.qualifier),
                when=date_label(item.date, item.qualifier),
                spoken=long_date(item.date, item.qualifier),
                lines=wrap(str(item.title), label_width, LABEL_SIZE, bold=major),
                major=major,
                earlier=False,
            )
        )
    marks.sort(key=lambda m: m.day)  # stable: the selection's order breaks ties
    start = _focus_start([m.day for m in marks])
    for mark in marks:
        mark.earlier = mark.day < start
        if mark.earlier and mark.day.year != start.year and str(mark.day.year) not in mark.when:
            mark.when = f"{mark.when} {mark.day.year}"  # outside the scaled stretch the month alone is ambiguous
    earlier = [m for m in marks if m.earlier]
    focus = [m for m in marks if not m.earlier]
    end = max(m.day for m in focus)
    months = _month_starts(start, end)
    axis_end = dt.date(end.year + end.month // 12, end.month % 12 + 1, 1)

    top = 14.0
    y = top
    # Earlier events: evenly spaced above the axis break, each at its label.
    for mark in earlier:
        mark.dot_y = mark.label_y = y
        y += mark.height + GAP
    break_y = y + 2 if earlier else None
    axis_top = y + (12 if earlier else 0)
    # Scale: the busy stretch gets about as much height as its labels need, so leaders stay short.
    needed = sum(m.height + GAP for m in focus)
    span_days = max((axis_end - start).days, 1)
    per_day = max(needed, 12.0 * len(months)) / span_days
    for mark in focus:
        mark.dot_y = axis_top + (mark.day - start).days * per_day
    previous_bottom = _place_labels(focus, axis_top)
    axis_bottom = axis_top + span_days * per_day
    height = max(axis_bottom, previous_bottom) + 8

    parts: list[str] = []
    add = parts.append
    desc = "; ".join(f"{m.spoken}: {' '.join(m.lines)}" for m in marks)
    add(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline-chart" role="img" '
        f'aria-labelledby="timeline-chart-title timeline-chart-desc" '
        f'width="{WIDTH:g}pt" height="{height:.1f}pt" viewBox="0 0 {WIDTH:g} {height:.1f}" '
        f'font-family="{FONT_FAMILY}">'
    )
    # The span reads as a phrase: "March 2019 to June 2022", not "to by June 2022" (issue 13).
    opening, closing = (re.sub(r"^(early|mid|late|about|by) ", "", m.spoken) for m in (marks[0], marks[-1]))
    span = opening if opening == closing else f"{opening} to {closing}"
    add(f'<title id="timeline-chart-title">{_escape(f"{title}, {span}")}</title>')
    add(f'<desc id="timeline-chart-desc">{_escape(desc)}</desc>')
    # The axis: a thin rule, month ticks with labels, a break mark between the earlier years and the rest.
    if earlier:
        first, last = earlier[0].label_y, earlier[-1].label_y
        add(
            f'<line x1="{AXIS_X}" y1="{first:.1f}" x2="{AXIS_X}" y2="{last:.1f}" '
            'stroke="#999" stroke-width="0.6" stroke-dasharray="1.5 2"/>'
        )
        assert break_y is not None
        zig = f"M{AXIS_X - 5},{break_y + 3:.1f} l10,-3 M{AXIS_X - 5},{break_y + 7:.1f} l10,-3"
        add(f'<path d="{zig}" stroke="{GREY}" stroke-width="0.8" fill="none"/>')
    add(
        f'<line x1="{AXIS_X}" y1="{axis_top:.1f}" x2="{AXIS_X}" y2="{axis_bottom:.1f}" '
        f'stroke="{INK}" stroke-width="1.2"/>'
    )
    for month in months:
        ty = axis_top + (month - start).days * per_day
        add(f'<line x1="{AXIS_X - 4}" y1="{ty:.1f}" x2="{AXIS_X}" y2="{ty:.1f}" stroke="{INK}" stroke-width="0.8"/>')
        label = MONTHS_SHORT[month.month - 1] + (f" {month.year}" if month.month == 1 or month == months[0] else "")
        weight = ' font-weight="bold"' if month.month == 1 else ""
        add(
            f'<text x="{AXIS_X - 7}" y="{ty + 2.5:.1f}" font-size="{DATE_SIZE}" text-anchor="end" '
            f'fill="{INK}"{weight}>{_escape(label)}</text>'
        )
    for mark in marks:
        text_y = mark.label_y + LABEL_SIZE * 0.35
        if abs(mark.label_y - mark.dot_y) > 0.5:
            add(
                f'<path d="M{AXIS_X},{mark.dot_y:.1f} L{LABEL_X - 12},{mark.dot_y:.1f} '
                f'L{LABEL_X - 4},{mark.label_y:.1f}" stroke="#9aa5b5" stroke-width="0.5" fill="none"/>'
            )
        else:
            add(
                f'<line x1="{AXIS_X}" y1="{mark.dot_y:.1f}" x2="{LABEL_X - 4}" y2="{mark.label_y:.1f}" '
                f'stroke="#9aa5b5" stroke-width="0.5"/>'
            )
        radius = 3.2 if mark.major else 2.3
        fill = INK if mark.major else "#ffffff"
        add(f'<circle cx="{AXIS_X}" cy="{mark.dot_y:.1f}" r="{radius}" fill="{fill}" stroke="{INK}" stroke-width="1"/>')
        add(f'<text x="{LABEL_X}" y="{text_y:.1f}" font-size="{DATE_SIZE}" fill="{GREY}">{_escape(mark.when)}</text>')
        weight = ' font-weight="bold"' if mark.major else ""
        for n, line in enumerate(mark.lines):
            add(
                f'<text x="{title_x:.1f}" y="{text_y + n * LINE:.1f}" font-size="{LABEL_SIZE}"{weight} '
                f'fill="#111111">{_escape(line)}</text>'
            )
    add("</svg>")
    return Markup("".join(parts))

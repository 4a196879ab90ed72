"""The SVG timeline (issue 5): well-formed, accessible, escaped, legible (no overlaps, nothing past the edge)."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from briefs.formats.visuals import LABEL_SIZE, WIDTH, approx_day, date_label, text_width, timeline_svg, wrap

SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Ev:
    """The fields of a timeline item the drawing reads."""

    date: str
    title: str
    priority: int = 3
    qualifier: str | None = None


EVENTS = [
    Ev("2019-03", "Tokayev succeeds Nazarbayev as president"),
    Ev("2020", "Lukashenko suppresses protests in Belarus", 5),
    Ev("2022-01", "Protests sweep Kazakhstan", 1),
    Ev("2022-02-24", "Russia invades Ukraine", 1),
    Ev("2022-03-02", "Kazakhstan abstains on the UN General Assembly resolution condemning the invasion"),
    *[
        Ev(f"2022-05-{d:02d}", f"Event number {d} in a crowded week of May, with a title long enough to wrap")
        for d in (9, 10, 11, 12, 13)
    ],
    Ev("2022-05", "A commentator floats counter-sanctions", 3, "mid"),
    Ev("2022-06-05", "Kazakhs approve constitutional amendments in a referendum", 2),
]


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_timeline_is_accessible_svg_with_title_and_desc() -> None:
    root = parse(timeline_svg(EVENTS, "Timeline: 12 dated events"))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert title.text == "Timeline: 12 dated events, March 2019 to 5 June 2022"
    assert set((root.get("aria-labelledby") or "").split()) == {title.get("id"), desc.get("id")}
    # The description reads every event aloud, with its date.
    assert desc.text is not None and "24 February 2022: Russia invades Ukraine" in desc.text
    assert desc.text.count(";") == len(EVENTS) - 1


def test_every_event_is_drawn_with_its_date_and_major_ones_bold() -> None:
    root = parse(timeline_svg(EVENTS, "Timeline"))
    texts = [(t.text or "", t.get("font-weight")) for t in root.iter(f"{SVG}text")]
    drawn = " ".join(t for t, _ in texts)
    for event in EVENTS:
        assert event.title.split()[0] in drawn
    assert ("Russia invades Ukraine", "bold") in texts
    assert ("24 Feb", None) in texts and ("mid May", None) in texts
    assert ("Mar 2019", None) in texts  # before the scaled stretch, the year is spelled out
    assert len(list(root.iter(f"{SVG}circle"))) == len(EVENTS)
    filled = [c for c in root.iter(f"{SVG}circle") if c.get("fill") != "#ffffff"]
    assert len(filled) == 2  # priority 1 only


def test_labels_never_overlap_and_stay_inside_the_drawing() -> None:
    root = parse(timeline_svg(EVENTS, "Timeline"))
    height = float(root.get("viewBox", "").split()[3])
    lines = [t for t in root.iter(f"{SVG}text") if float(t.get("font-size", 0)) == LABEL_SIZE]
    ys = sorted(float(t.get("y", 0)) for t in lines)
    assert all(b - a >= LABEL_SIZE for a, b in itertools.pairwise(ys)), ys
    for t in lines:
        right = float(t.get("x", 0)) + text_width(t.text or "", LABEL_SIZE, t.get("font-weight") == "bold")
        assert right <= WIDTH + 0.01, t.text
        assert 0 < float(t.get("y", 0)) < height


def test_dots_are_to_scale_within_the_busy_stretch() -> None:
    root = parse(timeline_svg(EVENTS, "Timeline"))
    dots = [float(c.get("cy", 0)) for c in root.iter(f"{SVG}circle")]
    # In date order; 24 Feb -> 2 Mar (6 days) is a shorter step than 2 Mar -> 9 May (68 days).
    assert dots == sorted(dots)
    assert dots[4] - dots[3] < dots[5] - dots[4]


def test_text_from_the_data_is_escaped() -> None:
    hostile = [Ev("2022-01-01", '<script>alert(1)</script> & "quotes" ]]>'), Ev("2022-02-01", "plain")]
    markup = str(timeline_svg(hostile, "A <b>title</b>"))
    assert "<script" not in markup and "<b>" not in markup
    root = parse(markup)
    assert any("<script>alert(1)</script>" in (t.text or "") for t in root.iter(f"{SVG}text"))


def test_no_events_draws_nothing() -> None:
    assert str(timeline_svg([], "Timeline")) == ""


def test_helpers() -> None:
    assert date_label("2022-04-24", "by") == "by 24 Apr"
    assert date_label("2020", None) == "2020"
    assert approx_day("2022-05", "mid").day == 15
    assert approx_day("2022-05", "late") > approx_day("2022-05", "mid")
    lines = wrap("word " * 40, 100, 8)
    assert len(lines) > 1 and all(text_width(line, 8) <= 100 for line in lines)
    assert re.fullmatch(r"[\d.]+", f"{text_width('abc', 10):.2f}")

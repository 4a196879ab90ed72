"""Issue 23 §4: a note number or a label never opens a line, away from the sentence it belongs to.

Read from WeasyPrint's own layout of each shipped brief's final HTML (the PDF's): the first piece of
every line box. A note number (`sup.cite`) there is "decisions.⏎27"; a label's opening parenthesis there
is "(Recommended by FPRI)" or "(moderate confidence)" alone below its sentence. A label's own words may
still wrap onto the next line.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHIPPED_TEMPLATES

DATASET = "kazakhstan-2022"
LABELS = ("judgment-label", "origin")


def _line_openings(document: Any) -> list[tuple[str, list[str]]]:
    """Each line box's first text and the classes of the elements it sits in, outermost first."""
    from weasyprint.formatting_structure import boxes

    found = []
    for page in document.pages:
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            if isinstance(box, boxes.LineBox):
                leaf, classes = box, []
                while getattr(leaf, "children", None):
                    leaf = leaf.children[0]
                    element = getattr(leaf, "element", None)
                    tag = getattr(leaf, "element_tag", None) or ""
                    classes.append(f"{tag}.{element.get('class') or ''}" if element is not None else tag)
                found.append((getattr(leaf, "text", "") or "", classes))
                continue
            stack.extend(getattr(box, "children", None) or [])
    return found


@pytest.mark.parametrize("audience", ["principal", "congress", "public", "desk"])
def test_no_line_opens_with_a_note_number_or_a_label(shipped_build: Path, audience: str) -> None:
    import weasyprint

    html = (shipped_build / DATASET / f"{audience}.html").read_text(encoding="utf-8")
    document = weasyprint.HTML(string=html, base_url=SHIPPED_TEMPLATES.resolve().as_uri() + "/").render()
    openings = _line_openings(document)
    assert len(openings) > 50
    numbers = [text for text, classes in openings if any(c.startswith("sup.cite") for c in classes)]
    labels = [
        text
        for text, classes in openings
        if text.lstrip("\u00a0").startswith("(") and any(any(label in c for label in LABELS) for c in classes)
    ]
    assert not numbers, numbers
    assert not labels, labels


def _early_breaks(document: Any) -> list[str]:
    """Lines of a paragraph broken too early: a line that is not its block's last, under half full.

    Seen when a no-break space stood before a label's span: WeasyPrint broke after "consolidate", a
    word early, and set the rest on the next line (issue 23 §4); and in the corrections annex, where a
    correction's text ran straight into its evidence's block span: "→ They⏎(Western leaders) can cite…".
    """
    from weasyprint.formatting_structure import boxes

    def text(box: Any) -> str:
        if hasattr(box, "text"):
            return str(box.text)
        return "".join(text(c) for c in getattr(box, "children", None) or [])

    found = []
    for page in document.pages:
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            children = getattr(box, "children", None) or []
            lines = [c for c in children if isinstance(c, boxes.LineBox)]
            if getattr(box, "element_tag", None) in ("td", "th"):
                lines = []  # a narrow cell breaks where its words allow ("(U)⏎para. 6")
            for line, following in itertools.pairwise(lines):
                used = sum(c.margin_width() for c in line.children)
                goes_on = text(following).strip()[:1]
                if used < 0.5 * box.width and (goes_on.islower() or goes_on == "("):
                    found.append(f"{text(line).strip()!r} | {text(following).strip()[:30]!r}")
            stack.extend(c for c in children if not isinstance(c, boxes.LineBox))
    return found


@pytest.mark.parametrize("audience", ["principal", "congress", "public", "desk"])
def test_no_line_breaks_a_word_early(shipped_build: Path, audience: str) -> None:
    import weasyprint

    html = (shipped_build / DATASET / f"{audience}.html").read_text(encoding="utf-8")
    document = weasyprint.HTML(string=html, base_url=SHIPPED_TEMPLATES.resolve().as_uri() + "/").render()
    assert not _early_breaks(document)

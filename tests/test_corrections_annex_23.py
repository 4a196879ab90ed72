"""Issue 23 §1: the desk memo's corrections as a short methods annex, not four pages of table.

Corrections of fact, date and name come first (what a reader's facts turn on), then the translation's
wording, pronouns, headings and stray lines; each with where it is, what the source says, what is right
and why, with its notes, set compact in two columns.
"""

from __future__ import annotations

import re
from pathlib import Path

import pypdf

from briefs.compose.select import CORRECTIONS_OF_FACT
from briefs.data.load import load_dataset
from tests.conftest import SHIPPED_DATA

DATASET = "kazakhstan-2022"


def _annex(md: str) -> str:
    return md.split("## Annex G: Corrections to the source", 1)[1].split("\n## ", 1)[0]


def test_every_correction_is_shown_once_facts_first_with_ascending_notes(shipped_build: Path) -> None:
    loaded, problems = load_dataset(SHIPPED_DATA / DATASET)
    assert loaded is not None, problems
    corrections = loaded.dataset.corrections
    md = (shipped_build / DATASET / "desk.md").read_text(encoding="utf-8")
    annex = _annex(md)
    facts, text = annex.split("### Facts, dates and names", 1)[1].split("### The translation’s wording", 1)
    entries = re.findall(r"^- \\\(U\) \*\*.+?:\*\* “(.+?)” → ", annex, flags=re.M)
    assert len(entries) == len(corrections)
    for c in corrections:
        said = c.source_says.replace("'", "’").replace('"', "”")[:30]
        part = facts if c.kind in CORRECTIONS_OF_FACT else text
        assert sum(said in e.replace('"', "”") for e in re.findall(r"“(.+?)” → ", part)) >= 1, c.id
    before = {int(n) for n in re.findall(r"\[\^(\d+)\]", md.split("## Annex G", 1)[0])}
    first_here = list(dict.fromkeys(int(n) for n in re.findall(r"\[\^(\d+)\]", annex) if int(n) not in before))
    assert first_here and first_here == sorted(first_here), first_here  # numbered as a reader meets them
    assert min(first_here) > max(before)


def test_the_corrections_annex_is_short(shipped_build: Path) -> None:
    pages = [page.extract_text() for page in pypdf.PdfReader(shipped_build / DATASET / "desk.pdf").pages]
    start = next(k for k, t in enumerate(pages) if "Annex G: Corrections to the source" in t)
    end = next(k for k, t in enumerate(pages) if "Annex H: Notes" in t)
    assert end - start <= 2, (start + 1, end + 1)  # was 18 to 21 as a four-column table

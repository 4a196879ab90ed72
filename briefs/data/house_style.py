"""House style in the data's prose (issue 23): US spelling, US date order, as the office's style says.

What the renderer cannot apply (it cannot respell a word or reorder a date inside a sentence), `check`
finds, with file, line and key for each text. Spelling comes from codespell's maintained British-to-
American dictionary, not a list kept here. Quoted words (inside “…”) are a speaker's or a title's own
and keep their spelling; so do the sources' titles, the quotes and the source's text a correction cites.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel

from briefs.data.model import RECORD_KINDS, Dataset

Loc = tuple[str | int, ...]

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:–\d{{1,2}})? ({_MONTHS})\b(,? \d{{4}})?")
_QUOTED = re.compile(r"“[^”]*”")
_WORD = re.compile(r"[A-Za-z]+")

_NOT_PROSE = frozenset(
    {
        "id", "cites", "url", "date", "about", "judgment", "leans_on", "audiences", "lever", "actors", "speaker",
        "theme", "themes", "signals", "status", "origin", "likelihood", "confidence", "by", "kind", "qualifier",
        "unit", "aliases", "name", "location", "publisher", "source_says", "datasets", "keywords", "office",
        "office_short", "main_source", "language",
    }
)  # fmt: skip
"""Fields that are identifiers, names or another's words, not the office's prose."""


@functools.cache
def british_spellings() -> dict[str, str]:
    """codespell's en-GB to en-US dictionary: 'criticised' -> 'criticized' (its first suggestion)."""
    data = importlib.resources.files("codespell_lib") / "data" / "dictionary_en-GB_to_en-US.txt"
    found: dict[str, str] = {}
    for line in data.read_text(encoding="utf-8").splitlines():
        gb, sep, us = line.partition("->")
        if sep:
            found[gb.strip().lower()] = us.split(",")[0].strip()
    return found


def _prose(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _prose(item, (*loc, i))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name not in _NOT_PROSE:
                yield from _prose(getattr(value, name, None), (*loc, name))


def prose_fields(dataset: Dataset) -> Iterator[tuple[Loc, str]]:
    """Every text of the office's own prose in a dataset, with where it lives."""
    yield from _prose(dataset.info, ("info",))
    for kind in RECORD_KINDS:
        if kind == "sources":  # titles and gists: the publications' words
            continue
        for i, record in enumerate(getattr(dataset, kind, None) or []):
            skip = {"text"} if kind == "quotes" else set()  # a quote is the speaker's words
            for name in type(record).model_fields:
                if name not in _NOT_PROSE and name not in skip:
                    yield from _prose(getattr(record, name, None), (kind, i, name))


def us_style_problems(text: str) -> list[str]:
    """What in one text is not US house style: British spellings and day-month dates, each with its fix."""
    plain = _QUOTED.sub("", text)
    spellings = british_spellings()
    found: list[str] = []
    for word in dict.fromkeys(_WORD.findall(plain)):
        us = spellings.get(word.lower())
        if us:
            fixed = us.capitalize() if word[:1].isupper() else us
            found.append(f"'{word}' (US spelling: '{fixed}')")
    for match in dict.fromkeys(m.group(0) for m in _DAY_MONTH.finditer(plain)):
        parts = _DAY_MONTH.match(match)
        assert parts is not None
        day, month, year = parts.group(1), parts.group(2), (parts.group(3) or "").lstrip(",").strip()
        found.append(f"'{match}' (US date order: '{month} {day}{', ' + year if year else ''}')")
    return found


def check_house_style(dataset: Dataset, problem: Callable[[Loc, str], None]) -> None:
    """US house style unless the dataset says `house_style: gb`: one problem per text, listing each fix."""
    if getattr(dataset.info, "house_style", "us") != "us":
        return
    for loc, text in prose_fields(dataset):
        found = us_style_problems(text)
        if found:
            problem(
                loc,
                f"expected US house style (info.house_style: us), found {'; '.join(found)}; "
                "words inside “…” keep their spelling, and `house_style: gb` keeps British style",
            )

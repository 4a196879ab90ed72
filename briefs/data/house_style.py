"""House style in the data's prose (issue 23): US spelling, US date order, as the office's style says.

What the renderer cannot apply (it cannot respell a word or reorder a date inside a sentence), `check`
finds, with file, line and key for each text. Spelling comes from two maintained British-to-American
word lists, not one kept here: codespell's (535 entries, mostly -ise/-our) and breame's (1,730, with the
inflected forms codespell lacks: 'rumours', 'levelled', 'mobilisation'), less the few words they respell
that are also American (`_AMERICAN_TOO`). A dataset lists the words its house spells its own way in
`info.house_spellings` (a US office may keep 'catalogue', which codespell respells). Quoted words (inside
“…”) are a speaker's or a title's own and keep their spelling; so do the sources' titles, the quotes and the
source's text a correction cites.
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
_COMMA_PAREN = re.compile(r"\S+, \(")
_NO_YEAR_COMMA = re.compile(rf"\b(?:{_MONTHS}) \d{{1,2}} \d{{4}}\b")
_WORD = re.compile(r"[A-Za-z]+")

_NOT_PROSE = frozenset(
    {
        "id", "cites", "url", "date", "about", "judgment", "leans_on", "audiences", "lever", "actors", "speaker",
        "theme", "themes", "signals", "status", "origin", "likelihood", "confidence", "by", "kind", "qualifier",
        "aliases", "name", "location", "publisher", "source_says", "datasets", "keywords", "office",
        "office_short", "main_source", "language", "house_spellings",
    }
)  # fmt: skip
"""Fields that are identifiers, names or another's words, not the office's prose."""

# Of a source, a brief shows the office's own words in `text_note` alone (above the corrections): its title,
# publisher and text are the publication's; `note`, `date_note` and the paragraphs' gists are the analyst's
# working notes, never shown.


_AMERICAN_TOO = frozenset(
    """
    gauge gauged gauges gauging buses busing minibuses gases tonne tonnes disc discs videodisc videodiscs
    sheikh philtre philtres tranquilly pummelled pummelling dialogue dialogues prologue prologues epilogue
    epilogues monologue monologues travelogue travelogues analogue analogues aesthete aesthetes aesthetic
    aesthetics aesthetically archaeology archaeological archaeologically archaeologist archaeologists
    """.split()  # noqa: SIM905 (a word list reads as words)
)
"""Words the lists respell that American usage writes as they are (Merriam-Webster's first spelling), or
that the lists map to another word: 'buses' is not 'busses', a 'tonne' is not a 'ton', 'philtre' is not
'filter'. A brief must not be refused for them."""


@functools.cache
def british_spellings() -> dict[str, str]:
    """British to US spellings, lower case: 'criticised' -> 'criticized'.

    codespell's en-GB to en-US dictionary (its first suggestion) over breame's list; where both have a
    word they agree (checked by a test), so the order only decides which list is read first.
    """
    from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

    found = {gb.lower(): us for gb, us in BRITISH_ENGLISH_SPELLINGS.items() if gb.isalpha()}
    data = importlib.resources.files("codespell_lib") / "data" / "dictionary_en-GB_to_en-US.txt"
    for line in data.read_text(encoding="utf-8").splitlines():
        gb, sep, us = line.partition("->")
        if sep:
            found[gb.strip().lower()] = us.split(",")[0].strip()
    return {gb: us for gb, us in found.items() if gb not in _AMERICAN_TOO}


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
    for i, source in enumerate(dataset.sources):
        yield from _prose(source.text_note, ("sources", i, "text_note"))
    for kind in RECORD_KINDS:
        if kind == "sources":
            continue
        for i, record in enumerate(getattr(dataset, kind, None) or []):
            skip = {"text"} if kind == "quotes" else set()  # a quote is the speaker's words
            for name in type(record).model_fields:
                if name not in _NOT_PROSE and name not in skip:
                    yield from _prose(getattr(record, name, None), (kind, i, name))


def us_style_problems(text: str, kept: frozenset[str] = frozenset()) -> list[str]:
    """What in one text is not US house style: British spellings, day-month dates, a year without its comma
    ('March 23 2019') and a comma before an opening parenthesis ('March 2, 2022, (ES-11/1)', Chicago 6.97),
    each with its fix.

    ``kept``: lower-case words the house spells its own way (`info.house_spellings`).
    """
    plain = _QUOTED.sub("", text)
    spellings = british_spellings()
    found: list[str] = []
    for word in dict.fromkeys(_WORD.findall(plain)):
        us = None if word.lower() in kept else spellings.get(word.lower())
        if us:
            fixed = us.capitalize() if word[:1].isupper() else us
            found.append(f"'{word}' (US spelling: '{fixed}')")
    for match in dict.fromkeys(m.group(0) for m in _DAY_MONTH.finditer(plain)):
        parts = _DAY_MONTH.match(match)
        assert parts is not None
        day, month, year = parts.group(1), parts.group(2), (parts.group(3) or "").lstrip(",").strip()
        found.append(f"'{match}' (US date order: '{month} {day}{', ' + year if year else ''}')")
    for match in dict.fromkeys(_NO_YEAR_COMMA.findall(plain)):
        month_day, _, year = match.rpartition(" ")
        found.append(f"'{match}' (US date: '{month_day}, {year}')")
    for match in dict.fromkeys(_COMMA_PAREN.findall(plain)):  # CMOS 6.97: the comma follows the parenthesis
        found.append(f"'{match}' (no comma before an opening parenthesis: '{match[:-3]} (')")
    return found


def check_house_style(dataset: Dataset, problem: Callable[[Loc, str], None]) -> None:
    """US house style unless the dataset says `house_style: gb`: one problem per text, listing each fix."""
    if getattr(dataset.info, "house_style", "us") != "us":
        return
    kept = frozenset(word.lower() for word in dataset.info.house_spellings)
    for loc, text in prose_fields(dataset):
        found = us_style_problems(text, kept)
        if found:
            problem(
                loc,
                f"expected US house style (info.house_style: us), found {'; '.join(found)}; "
                "words inside “…” keep their spelling, `info.house_spellings` lists words the house spells "
                "its own way, and `house_style: gb` keeps British style",
            )

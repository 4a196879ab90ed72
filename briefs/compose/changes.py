"""What changed between two editions of a brief, in the reader's words (never a text diff).

An `Edition` is a snapshot of the records a brief showed; `diff` compares two snapshots record by
record and says each change as a reader would ("Figure … revised from 232 to 238"). The store that
keeps editions on disk, numbers them and decides when a new one is due is the pipeline's
(`briefs.pipeline.editions`); `select` turns a `Changes` into the brief's "What changed" section.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nh3

from briefs.data.model import SECTION_RECORDS as SECTION_RECORDS  # re-exported: editions read it here
from briefs.formats.render import figure_text, format_date, prose_html

# Which records each section kind shows (SECTION_RECORDS, from the model). Records a brief does not show are
# not part of its edition: a quote added to the data is no news to a reader whose brief has no quotes.


# The order a reader meets the changes in.
KIND_ORDER = (
    "bluf",
    "summary",
    "key_points",
    "events",
    "figures",
    "judgments",
    "recommendations",
    "options",
    "indicators",
    "updates",
    "implications",
    "sections",
    "quotes",
    "actors",
    "corrections",
)


# Fields that steer layout and trimming, not what the brief says: changing them makes no new edition.
_IGNORED_FIELDS = frozenset({"priority", "key", "audiences", "leans_on", "stands_alone"})


Records = dict[str, dict[str, Any]]  # kind -> record key -> record as JSON


@dataclass(frozen=True)
class Edition:
    """One recorded edition of a brief."""

    number: int
    date: dt.date  # the data's: how current the facts are
    input_hash: str
    records: Records
    built: dt.date | None = None  # the clock's, the day this edition was first built (None: an older file)

    def to_json(self) -> dict[str, Any]:
        """The edition as stored."""
        stored: dict[str, Any] = {
            "edition": self.number,
            "date": self.date.isoformat(),
            "input_hash": self.input_hash,
            "records": self.records,
        }
        if self.built is not None:
            stored["built"] = self.built.isoformat()
        return stored

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Edition:
        """An edition read back from its file; ValueError when it is not one (a damaged or planted file)."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a mapping, found {type(data).__name__}")
        records = data.get("records")
        if not (
            isinstance(records, dict)
            and all(isinstance(kind, dict) for kind in records.values())
            and all(isinstance(r, dict) for kind in records.values() for r in kind.values())
        ):
            raise ValueError("its records are not a mapping of kinds to records")
        if not isinstance(data.get("input_hash"), str) or not isinstance(data.get("date"), str):
            raise ValueError("no input_hash or date")
        if data.get("built") is not None and not isinstance(data["built"], str):
            raise ValueError("its built date is not a date")
        built = dt.date.fromisoformat(data["built"]) if data.get("built") else None
        return cls(
            int(data["edition"]), dt.date.fromisoformat(data["date"]), str(data["input_hash"]), data["records"], built
        )

    @property
    def label(self) -> str:
        """'edition 2 (built December 1, 2026)', or for an older file 'edition 2 of June 30, 2022'."""
        if self.built is None:
            return f"edition {self.number} of {format_date(self.date)}"
        return f"edition {self.number} (built {format_date(self.built)})"


@dataclass(frozen=True)
class Change:
    """One line of "What changed": a record added, removed or changed, said as a reader would."""

    action: str  # added | removed | changed
    kind: str
    text: str
    priority: int = 3


@dataclass(frozen=True)
class Changes:
    """What changed between the previous edition and this one; `select` turns it into a section."""

    since: dt.date  # the previous edition's data date
    items: list[Change]
    since_number: int | None = None
    since_built: dt.date | None = None  # None: the previous edition's file predates built dates

    @property
    def title(self) -> str:
        """'What changed since edition 3 (built December 1, 2026)': the previous edition, as stored."""
        if self.since_number is None:
            return f"What changed since the edition of {format_date(self.since)}"
        if self.since_built is None:
            return f"What changed since edition {self.since_number} (information as of {format_date(self.since)})"
        return f"What changed since edition {self.since_number} (built {format_date(self.since_built)})"


def strip_layout(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in _IGNORED_FIELDS}


def records_hash(records: Records) -> str:
    """A stable hash of a snapshot."""
    return hashlib.sha256(json.dumps(records, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


# --- The diff, in the reader's words ----------------------------------------------------------------


def plain(prose: Any) -> str:
    """Prose (inline Markdown) as plain text for a one-line summary."""
    if prose is None:
        return ""
    return html.unescape(nh3.clean(str(prose_html(str(prose))), tags=set())).strip()


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Figure:
    def __init__(self, record: dict[str, Any]) -> None:
        self.value = record.get("value")  # a figure may have no number (then it has a display)
        self.unit = record.get("unit", "")
        self.display = record.get("display")


def _event(r: dict[str, Any]) -> str:
    return f"{format_date(r.get('date'), r.get('qualifier'))} — {r.get('title')}"


def _figure(r: dict[str, Any]) -> str:
    return f"{r.get('label')}: {figure_text(_Figure(r))} ({r.get('period')})"


def _dated(r: dict[str, Any]) -> str:
    return f"{format_date(r.get('date'))} — {_short(plain(r.get('text')))}"


def _text(r: dict[str, Any]) -> str:
    return _short(plain(r.get("text")))


def _judgment(r: dict[str, Any]) -> str:
    return f"{_short(plain(r.get('text')))} ({r.get('confidence')} confidence)"


def _correction(r: dict[str, Any]) -> str:
    return f"“{r.get('source_says')}” should read “{r.get('correct')}”"


def _actor(r: dict[str, Any]) -> str:
    return f"{r.get('name')} ({r.get('role')})"


# kind -> (noun the reader sees, how one record reads)
_DESCRIBE: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "bluf": ("bottom line", _text),
    "summary": ("summary", _text),
    "key_points": ("key point", _text),
    "implications": ("implication", _text),
    "events": ("event", _event),
    "figures": ("figure", _figure),
    "judgments": ("judgment", _judgment),
    "recommendations": ("recommendation", _text),
    "options": ("option", _text),
    "indicators": ("indicator", _text),
    "updates": ("update", _dated),
    "sections": ("analysis", lambda r: str(r.get("title"))),
    "quotes": ("quote", lambda r: f"“{_short(str(r.get('text')))}”"),
    "actors": ("actor", _actor),
    "corrections": ("correction", _correction),
}


def _changed(kind: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    noun, describe = _DESCRIBE[kind]
    if kind in ("bluf", "summary"):
        return f"Revised the {noun}: {describe(new)}"
    if kind == "figures":
        before, after = figure_text(_Figure(old)), figure_text(_Figure(new))
        numbers = old.get("value") is not None and new.get("value") is not None
        if numbers and before == after and (old.get("value"), old.get("unit")) != (new.get("value"), new.get("unit")):
            # The value moved but its `display` text did not: show the numbers, not two equal strings.
            before, after = (figure_text(_Figure({**r, "display": None})) for r in (old, new))
        if before != after:
            return f"Changed figure {new.get('label')}: {before} → {after}"
        return f"Revised figure: {describe(new)}"
    if kind == "judgments" and old.get("confidence") != new.get("confidence"):
        return (
            f"Judgment now {new.get('confidence')} confidence (was {old.get('confidence')}): "
            f"{_short(plain(new.get('text')))}"
        )
    if kind == "indicators" and old.get("status") != new.get("status"):
        status = str(new.get("status")).replace("-", " ")
        was = str(old.get("status")).replace("-", " ")
        return f"Indicator now {status} (was {was}): {describe(new)}"
    if kind == "events" and _event(old) != _event(new):
        return f"Changed event: {_event(old)} → {_event(new)}"
    return f"Revised {noun}: {describe(new)}"


def diff(old: Records, new: Records) -> list[Change]:
    """What changed from one snapshot to the next: records added, removed or changed, kind by kind."""
    out: list[Change] = []
    kinds = [k for k in KIND_ORDER if k in old or k in new]
    for kind in kinds:
        if kind not in new or kind not in old:
            continue  # the audience's sections changed, not the data: nothing to tell the reader
        before, after = old[kind], new[kind]
        noun, describe = _DESCRIBE[kind]
        for key, record in after.items():
            if key not in before:
                out.append(Change("added", kind, f"Added {noun}: {describe(record)}"))
        for key, record in after.items():
            if key in before and before[key] != record:
                out.append(Change("changed", kind, _changed(kind, before[key], record)))
        for key, record in before.items():
            if key not in after:
                out.append(Change("removed", kind, f"Removed {noun}: {describe(record)}"))
    return out

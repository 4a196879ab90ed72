"""Editions: snapshots of what a brief published, and what changed since the last one.

An edition is recorded when the records a brief draws on change — not when only its look does. Each
edition is one JSON file, ``<out>/<dataset>/.editions/<audience>/<NNNN>.json``, beside the outputs it
describes: its number, its date, the hash of its records and the records themselves. The next edition's
"What changed" section is a diff of those records in the reader's words, never a text diff.

An edition carries two dates. Its ``date`` comes from the data (the as-of date, or the latest dated
update): it tells the reader how current the facts are. Its ``built`` date is the clock's on the day
the edition was first built, stored in its file, so "What changed since edition 3 (built December 1,
2026)" is true (issue 14). A brief shows only the previous edition's stored dates, never the clock's:
a rebuild from the same inputs gives the same bytes. Files written before ``built`` existed read as
editions without one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nh3

from briefs.model import Audience, Dataset
from briefs.output import write_atomic
from briefs.render import figure_text, format_date, prose_html
from briefs.select import brief_date, select

log = logging.getLogger(__name__)

EDITIONS_DIR = ".editions"
_FILE = re.compile(r"^(\d{4,})\.json$")

# Which records each section kind shows. Records a brief does not show are not part of its edition:
# a quote added to the data is no news to a reader whose brief has no quotes.
SECTION_RECORDS: dict[str, str] = {
    "bluf": "bluf",
    "summary": "summary",
    "key_points": "key_points",
    "implications": "implications",
    "timeline": "events",
    "key_figures": "figures",
    "figures": "figures",
    "judgments": "judgments",
    "recommendations": "recommendations",
    "indicators": "indicators",
    "updates": "updates",
    "analysis": "sections",
    "quotes": "quotes",
    "actors": "actors",
    "corrections": "corrections",
}
# The order a reader meets the changes in.
KIND_ORDER = (
    "bluf",
    "summary",
    "key_points",
    "events",
    "figures",
    "judgments",
    "recommendations",
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
        """An edition read back from its file."""
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


@dataclass
class EditionPlan:
    """The edition a render will carry: the latest one again, or a new one to record once written."""

    current: Edition
    previous: Edition | None
    new: bool
    folder: Path
    changes: Changes | None = field(default=None)

    def record(self) -> None:
        """Write the new edition's file (atomically); nothing to do when it is the latest already."""
        if self.new:
            data = json.dumps(self.current.to_json(), indent=1, sort_keys=True, ensure_ascii=False)
            write_atomic(self.folder / f"{self.current.number:04d}.json", data.encode("utf-8"))
            log.debug("%s/%s: recorded %s", self.folder.parent.parent.name, self.folder.name, self.current.label)


def editions_folder(out_dir: Path, dataset_id: str, audience_id: str) -> Path:
    """Where a brief's editions are kept."""
    return out_dir / dataset_id / EDITIONS_DIR / audience_id


def _strip(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in _IGNORED_FIELDS}


def snapshot(dataset: Dataset, audience: Audience) -> Records:
    """The records ``audience``'s brief shows (before any overflow trimming), by kind and id, as JSON values.

    What the audience's sections select decides: a record its filters (`max`, `max_priority`, a
    recommendation's `audiences`) leave out is not part of its edition, and one they let in is "added".
    """
    info = dataset.info
    # Every kind the audience lists, even when empty, so a first record of a kind reads as "added".
    out: Records = {SECTION_RECORDS[s.id]: {} for s in audience.sections if s.id in SECTION_RECORDS}
    for section in select(dataset, audience).sections:
        kind = SECTION_RECORDS.get(section.kind)
        if kind is None:
            continue
        found = out.setdefault(kind, {})
        if kind in ("bluf", "summary"):
            found[kind] = {"text": getattr(info, kind)}
            continue
        for item in section.items:
            record = item.record.model_dump(mode="json")
            if "claims" in record:  # a paragraph: read as its sentences joined
                record["text"] = " ".join(c["text"] for c in record["claims"])
            # Paragraphs may have no ids: keyed by their text, so a rewording reads as one removed and one added.
            found[str(record.get("id") or record.get("text"))] = _strip(record)
    return out


def records_hash(records: Records) -> str:
    """A stable hash of a snapshot."""
    return hashlib.sha256(json.dumps(records, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def history(folder: Path) -> list[tuple[int, Path]]:
    """The recorded editions' numbers and files, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        m = _FILE.match(path.name)
        if m:
            found.append((int(m.group(1)), path))
    return sorted(found)


def read_edition(path: Path) -> Edition | None:
    """One edition file, or None (with a warning) when it cannot be read."""
    try:
        return Edition.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s: unreadable edition, ignored (%s)", path, exc)
        return None


def latest_edition(out_dir: Path, dataset_id: str, audience_id: str) -> Edition | None:
    """A brief's current edition, if one was recorded."""
    for _, path in reversed(history(editions_folder(out_dir, dataset_id, audience_id))):
        edition = read_edition(path)
        if edition is not None:
            return edition
    return None


def plan_edition(out_dir: Path, dataset: Dataset, audience: Audience) -> EditionPlan:
    """The edition a render of this brief carries, and what changed since the one before it."""
    folder = editions_folder(out_dir, dataset.id, audience.id)
    records = snapshot(dataset, audience)
    digest = records_hash(records)
    editions: list[Edition] = []
    for _, path in reversed(history(folder)):
        edition = read_edition(path)
        if edition is not None:
            editions.append(edition)
        if len(editions) == 2:
            break
    latest = editions[0] if editions else None
    if latest is not None and latest.input_hash == digest:
        current, previous, new = latest, (editions[1] if len(editions) > 1 else None), False
    else:
        number = latest.number + 1 if latest is not None else 1
        built = dt.date.today()  # the clock, once: stored with the edition and never read again from the clock
        current, previous, new = Edition(number, brief_date(dataset), digest, records, built), latest, True
    plan = EditionPlan(current, previous, new, folder)
    if previous is not None:
        changes = diff(previous.records, current.records)
        plan.changes = Changes(previous.date, changes, previous.number, previous.built)
    return plan


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

"""The edition store: snapshots of what a brief published, numbered and kept beside its outputs.

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
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from briefs.compose.changes import SECTION_RECORDS, Changes, Edition, Records, diff, records_hash, strip_layout
from briefs.compose.select import brief_date, select
from briefs.data.model import Audience, Dataset
from briefs.files import read_record
from briefs.pipeline.output import write_atomic

log = logging.getLogger(__name__)

EDITIONS_DIR = ".editions"
_FILE = re.compile(r"^(\d{4,})\.json$")


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


def snapshot(dataset: Dataset, audience: Audience) -> Records:
    """The records ``audience``'s brief shows (before any overflow trimming), by kind and id, as JSON values.

    What the audience's sections select decides: a record its filters (`max`, `max_priority`, a
    recommendation's `audiences`) leave out is not part of its edition, and one they let in is "added".
    """
    info = dataset.info
    # Every kind the audience lists, even when empty, so a first record of a kind reads as "added".
    out: Records = {SECTION_RECORDS[s.id]: {} for s in audience.sections if s.id in SECTION_RECORDS}
    for section in select(dataset, audience, formatted=False).sections:  # records, not notes: none formatted
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
            found[str(record.get("id") or record.get("text"))] = strip_layout(record)
    return out


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
        return Edition.from_json(json.loads(read_record(path)))
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

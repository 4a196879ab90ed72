"""What one audience sees: the sections it asked for, in its order, at its length, with numbered notes.

Selection is shared by every format of a target: the PDF and the Markdown brief are rendered from the
same `Brief`, so their content and note numbers agree.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from briefs.model import (
    Actor,
    Audience,
    Claim,
    Dataset,
    Event,
    SectionSpec,
    Source,
)

if TYPE_CHECKING:
    from briefs.editions import Changes

log = logging.getLogger(__name__)

DEFAULT_TITLES: dict[str, str] = {
    "bluf": "Bottom line up front",
    "summary": "Summary",
    "key_points": "Key points",
    "key_figures": "Key figures",
    "recommendations": "Recommendations",
    "analysis": "Analysis",
    "implications": "Implications for US policy",
    "judgments": "Judgments",
    "timeline": "Timeline",
    "actors": "Who's who",
    "figures": "Figures",
    "quotes": "In their words",
    "indicators": "Indicators to watch",
    "updates": "Updates since the source",
    "corrections": "Corrections to the source",
    "changes": "What changed",
    "sources": "Notes",
}


UNDROPPABLE = frozenset({"bluf", "summary", "sources", "changes"})
"""Section kinds the overflow policy never trims."""


@dataclass(frozen=True)
class Note:
    """One numbered endnote: a source, optionally a paragraph of it."""

    n: int
    source: Source
    paragraph: int | None

    @property
    def gist(self) -> str | None:
        """The cited paragraph's one-line summary, when known."""
        if self.paragraph is None:
            return None
        for p in self.source.paragraphs:
            if p.n == self.paragraph:
                return p.gist
        return None


@dataclass
class Item:
    """One record as a brief shows it, with its note numbers."""

    key: str
    record: Any
    notes: list[int] = field(default_factory=list)
    priority: int = 3
    children: list[Item] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        # Templates write item.text rather than item.record.text.
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self.extra:
            return self.extra[name]
        return getattr(self.record, name)


@dataclass
class BriefSection:
    """A section of the brief: its kind, heading and items."""

    kind: str
    title: str
    items: list[Item]
    spec: SectionSpec


@dataclass
class Brief:
    """Everything a template needs to render one dataset for one audience."""

    dataset: Dataset
    audience: Audience
    sections: list[BriefSection]
    notes: list[Note]
    actors: dict[str, Actor]
    date: dt.date
    dropped: list[str] = field(default_factory=list)

    @property
    def info(self) -> Any:
        return self.dataset.info

    def section(self, kind: str) -> BriefSection | None:
        """The first section of this kind, if the audience shows it."""
        return next((s for s in self.sections if s.kind == kind), None)

    def droppable(self) -> list[str]:
        """Keys of items the overflow policy may drop, least important first.

        An analysis part offers its claims one by one (the part goes when its last claim does);
        the endnotes and the BLUF/summary paragraphs are never dropped: notes follow what cites them.
        """
        candidates: list[tuple[int, int, str]] = []
        for s in self.sections:
            if not s.spec.trim or s.kind in UNDROPPABLE:
                continue
            for index, item in enumerate(s.items):
                if item.children:
                    candidates += [(c.priority, j, c.key) for j, c in enumerate(item.children)]
                else:
                    candidates.append((item.priority, index, item.key))
        return [key for _, _, key in sorted(candidates, key=lambda c: (-c[0], -c[1]))]


class _Notes:
    """Numbers citations in order of first use."""

    def __init__(self, sources: dict[str, Source]) -> None:
        self.sources = sources
        self.numbers: dict[str, int] = {}
        self.notes: list[Note] = []

    def number(self, cites: list[str]) -> list[int]:
        out = []
        for cite in cites:
            if cite not in self.numbers:
                sid, _, para = cite.partition("#")
                note = Note(len(self.notes) + 1, self.sources[sid], int(para) if para else None)
                self.notes.append(note)
                self.numbers[cite] = note.n
            n = self.numbers[cite]
            if n not in out:
                out.append(n)
        return out


def brief_date(dataset: Dataset) -> dt.date:
    """The date a brief carries: its data's as-of date, or the latest dated update after it."""
    latest = dataset.info.as_of
    for update in dataset.updates:
        day = parse_partial_date(update.date)
        if day > latest:
            latest = day
    return latest


def parse_partial_date(value: str) -> dt.date:
    """The first day a partial date can mean: ``2022-04`` is 1 April 2022."""
    parts = [int(p) for p in value.split("-")]
    while len(parts) < 3:
        parts.append(1)
    return dt.date(parts[0], parts[1], parts[2])


def select(
    dataset: Dataset, audience: Audience, exclude: frozenset[str] = frozenset(), changes: Changes | None = None
) -> Brief:
    """Choose and order what ``audience`` sees of ``dataset``; items whose key is in ``exclude`` are left out.

    ``changes`` (from `briefs.editions.plan_edition`) fills the "What changed" section; without it (a
    first edition) that section is left out.
    """
    notes = _Notes({s.id: s for s in dataset.sources})
    actors = {a.id: a for a in dataset.actors}
    sections: list[BriefSection] = []
    for spec in audience.sections:
        if spec.id == "changes":
            found = changes.items if changes else []
            items = [Item(f"changes:{n}", c, priority=c.priority) for n, c in enumerate(found)]
        else:
            items = _items(dataset, audience, spec, actors)
        if spec.id == "analysis":
            items = _keep_claims(items, spec.max_claim_priority, frozenset())
        if spec.max_priority is not None:
            items = [i for i in items if i.priority <= spec.max_priority]
        if spec.max is not None:
            ranked = sorted(range(len(items)), key=lambda k: (items[k].priority, k))[: spec.max]
            items = [items[k] for k in sorted(ranked)]
        # Trimming takes items out of what the audience would see; it never lets in one `max` left out.
        items = [i for i in items if i.key not in exclude]
        if spec.id == "analysis" and exclude:
            items = _keep_claims(items, None, exclude)
        if spec.id != "sources":
            for item in items:
                item.notes = notes.number(list(getattr(item.record, "cites", []) or []))
                for child in item.children:
                    child.notes = notes.number(list(child.record.cites))
        title = spec.title or (changes.title if spec.id == "changes" and changes else DEFAULT_TITLES[spec.id])
        sections.append(BriefSection(spec.id, title, items, spec))
    # Notes are numbered as sections appear; the sources section lists them all.
    for section in sections:
        if section.kind == "sources":
            section.items = [Item(f"note:{n.n}", n) for n in notes.notes]
    sections = [s for s in sections if s.items or s.kind in ("bluf", "summary")]
    return Brief(dataset, audience, sections, notes.notes, actors, brief_date(dataset), sorted(exclude))


def _keep_claims(parts: list[Item], max_priority: int | None, exclude: frozenset[str]) -> list[Item]:
    """Analysis parts with only the claims kept; a part left with no claims goes too."""
    kept = []
    for part in parts:
        part.children = [
            c for c in part.children if c.key not in exclude and (max_priority is None or c.priority <= max_priority)
        ]
        if part.children:
            part.priority = min(c.priority for c in part.children)
            kept.append(part)
    return kept


def _claim_item(key: str, claim: Claim) -> Item:
    return Item(key, claim, priority=claim.priority)


def _items(dataset: Dataset, audience: Audience, spec: SectionSpec, actors: dict[str, Actor]) -> list[Item]:
    kind = spec.id
    info = dataset.info
    if kind in ("bluf", "summary"):
        return [Item(kind, info)]
    if kind == "key_points":
        return [_claim_item(f"key_points:{i}", c) for i, c in enumerate(info.key_points)]
    if kind == "implications":
        return [_claim_item(f"implications:{i}", c) for i, c in enumerate(info.implications)]
    if kind == "key_figures":
        return [Item(f"figures:{f.id}", f, priority=f.priority) for f in dataset.figures if f.key]
    if kind == "figures":
        return [Item(f"figures:{f.id}", f, priority=f.priority) for f in dataset.figures]
    if kind == "recommendations":
        recs = [r for r in dataset.recommendations if not r.audiences or audience.id in r.audiences]
        if spec.origin is not None:
            recs = [r for r in recs if r.origin in spec.origin]
        recs.sort(key=lambda r: (r.origin != "stated", r.priority))
        return [Item(f"recommendations:{r.id}", r, priority=r.priority) for r in recs]
    if kind == "analysis":
        out = []
        for s in dataset.sections:
            item = Item(f"sections:{s.id}", s, priority=min(c.priority for c in s.claims))
            item.children = [_claim_item(f"sections:{s.id}:{j}", c) for j, c in enumerate(s.claims)]
            out.append(item)
        return out
    if kind == "timeline":
        events = sorted(dataset.events, key=_event_order)
        return [
            Item(f"events:{e.id}", e, priority=e.priority, extra={"people": [actors[a] for a in e.actors]})
            for e in events
        ]
    if kind == "actors":
        return [Item(f"actors:{a.id}", a, priority=3) for a in dataset.actors]
    if kind == "quotes":
        return [Item(f"quotes:{q.id}", q, extra={"speaker_actor": actors[q.speaker]}) for q in dataset.quotes]
    if kind == "judgments":
        return [Item(f"judgments:{j.id}", j, priority=j.priority) for j in dataset.judgments]
    if kind == "indicators":
        return [Item(f"indicators:{x.id}", x, priority=x.priority) for x in dataset.indicators]
    if kind == "updates":
        ups = sorted(dataset.updates, key=lambda u: parse_partial_date(u.date))
        return [Item(f"updates:{u.id}", u, priority=u.priority) for u in ups]
    if kind == "corrections":
        return [Item(f"corrections:{c.id}", c, priority=4) for c in dataset.corrections]
    if kind in ("sources", "changes"):
        return []
    raise AssertionError(f"section kind {kind!r} has no selector")  # the schema admits no other


def _event_order(event: Event) -> tuple[dt.date, int]:
    """Sort key: a month-only date sits where its qualifier puts it ('mid May' after 9 May)."""
    day = parse_partial_date(event.date)
    if event.date.count("-") == 1:  # month precision
        approx = {"early": 5, "mid": 15, "late": 25, "by": 28}.get(event.qualifier or "", 1)
        day = day.replace(day=approx)
    elif event.date.count("-") == 0:  # year precision
        approx_month = {"early": 2, "mid": 6, "late": 10, "by": 12}.get(event.qualifier or "", 1)
        day = day.replace(month=approx_month)
    rank = {"early": 0, None: 1, "about": 1, "by": 2, "mid": 1, "late": 1}
    return day, rank.get(event.qualifier, 1)

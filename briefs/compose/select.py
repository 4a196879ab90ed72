"""What one audience sees: the sections it asked for, in its order, at its length, with numbered notes.

Selection is shared by every format of a target: the PDF and the Markdown brief are rendered from the
same `Brief`, so their content and note numbers agree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from briefs.data.load import about_targets, latest_day, resolve_about
from briefs.data.model import (
    SOURCE_NOUNS,
    Actor,
    Audience,
    Claim,
    Correction,
    Dataset,
    Event,
    Judgment,
    Passage,
    SectionSpec,
    Source,
    Update,
)

if TYPE_CHECKING:
    from briefs.compose.changes import Changes

log = logging.getLogger(__name__)

CORRECTIONS_OF_FACT = frozenset({"fact", "date", "name"})
"""Correction kinds that change what a reader takes as fact; the others (wording, pronoun, heading,
residue) mend the translation."""

DEFAULT_TITLES: dict[str, str] = {
    "bluf": "Bottom line up front",
    "summary": "Summary",
    "key_points": "Key points",
    "key_figures": "Key figures",
    "recommendations": "Recommendations",
    "options": "Options for Congress",
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


STATUS_WORDS: dict[str, str] = {
    "holds": "holds on review",
    "revised": "revised",
    "overtaken": "overtaken by events",
    "borne-out": "borne out",
}
"""A judgment's `status` in a reader's words."""

LEVER_LABELS = {
    "oversight": "Oversight",
    "reporting": "Reporting requirement",
    "appropriations": "Appropriations",
    "legislation": "Legislation",
    "confirmation": "Confirmations",
}
"""Congress's levers (`Option.lever`) as an options list names them."""

UNDROPPABLE = frozenset({"bluf", "summary", "sources", "changes"})
"""Section kinds the overflow policy never trims."""


@dataclass(frozen=True)
class NotePart:
    """One source a note cites, with the paragraphs of it cited at that point (none: the whole source)."""

    source: Source
    paragraphs: tuple[int, ...] = ()


@dataclass(frozen=True)
class Note:
    """One numbered endnote for one citation point, formatted in the house citation style (Chicago notes).

    A point that cites several sources gets one note listing them all, separated by semicolons (CMOS 14.23),
    rather than a run of note numbers; `source` and `paragraph` are its first part.
    """

    n: int
    source: Source
    paragraph: int | None
    html: str = ""
    markdown: str = ""
    parts: tuple[NotePart, ...] = ()

    def __post_init__(self) -> None:
        if not self.parts:
            paragraphs = () if self.paragraph is None else (self.paragraph,)
            object.__setattr__(self, "parts", (NotePart(self.source, paragraphs),))

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
    revisions: list[Item] = field(default_factory=list)
    """Later updates that are `about` this record, oldest first: shown beside it wherever it is shown."""

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
    reviews: list[Item] = field(default_factory=list)
    """Updates section: the key judgments whose reviews it shows (`reviews: updates`), in their order."""


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
    empty: list[tuple[int, SectionSpec, str]] = field(default_factory=list)
    """Sections the audience asks for that show nothing of this data: (place in `sections:`, spec, title)."""
    later: list[Update] = field(default_factory=list)
    """The later developments (updates) the brief shows, in its updates section or beside what they revise."""
    bound: dict[tuple[str, str], list[Update]] = field(default_factory=dict)
    """Every update's `about`, resolved: (kind, id) -> the updates that revise that record, oldest first."""
    source_line: Note | None = None
    """The main source cited in full, once, where the audience cites it so (`cite_main_source: once`)."""

    @property
    def later_through(self) -> str | None:
        """The date of the newest later development the brief shows ('2023-04-24'), or None when it shows none."""
        found = [u.date for u in self.later] + self.later_sources
        return max(found, key=parse_partial_date) if found else None

    @property
    def later_sources(self) -> list[str]:
        """Dates of the sources the brief cites that were published after its data's as-of date: what they
        report is shown, so it dates the brief as a later development does."""
        as_of = self.dataset.info.as_of
        return [
            str(part.source.date)
            for note in self.notes
            for part in note.parts
            if part.source.date and parse_partial_date(str(part.source.date)) > as_of
        ]

    @property
    def abridged(self) -> bool:
        """Whether fitting left anything out of this brief."""
        return bool(self.dropped)

    def location_words(self, location: str, kind: str = "") -> str:
        """Where in a source a correction is, as a reader checks it: 'para. 5' (the original's numbering)."""
        sid, _, para = location.partition("#")
        if not para:
            return location
        source = next((s for s in self.dataset.sources if s.id == sid), None)
        return source.location_words(int(para), kind) if source is not None else f"para.\u00a0{para}"

    def corrections_of_fact(self, items: list[Item]) -> list[Item]:
        """A corrections section's corrections of fact, date and name: the ones a reader's facts turn on."""
        return [i for i in items if getattr(i.record, "kind", None) in CORRECTIONS_OF_FACT]

    def corrections_of_text(self, items: list[Item]) -> list[Item]:
        """The rest: the translation's wording, pronouns, headings and stray lines (a methods note's matter)."""
        return [i for i in items if getattr(i.record, "kind", None) not in CORRECTIONS_OF_FACT]

    def status_words(self, status: str) -> str:
        """A judgment's `status` in a reader's words: 'overtaken by events'."""
        return STATUS_WORDS.get(status, status)

    def judgment_state(self, judgment: Judgment | None) -> JudgmentState | None:
        """What a reader must be told about a judgment's currency, or None when it stands as made.

        A judgment reviewed with a status shows that status and its date. One that a later update is
        `about` (dated after its last review), or a forecast whose horizon the brief's date has passed,
        is never shown as live: it says later developments bear on it and have not been weighed.
        """
        if judgment is None:
            return None
        made = judgment.made or self.dataset.info.as_of
        since = judgment.reviewed or made
        newer = [u for u in self.bound.get(("judgments", judgment.id), []) if latest_day(u.date) > since]
        lapsed = judgment.horizon is not None and latest_day(judgment.horizon) < self.date
        if judgment.status is not None and not newer:
            words = STATUS_WORDS[judgment.status]
            return JudgmentState(judgment.status, words, judgment.reviewed, judgment.status_note, made)
        if newer or lapsed:
            why = "later developments bear on it" if newer else "its horizon has passed"
            return JudgmentState("unreviewed", f"not reviewed since {why}", None, None, made)
        return None

    @property
    def info(self) -> Any:
        return self.dataset.info

    @property
    def source_noun(self) -> str:
        """The main source named by its kind in running text: 'article', 'report', 'document'."""
        return SOURCE_NOUNS.get(self.main_source.kind, "source")

    @property
    def main_source(self) -> Source:
        """The source the brief is built on (`info.main_source`, else the first source)."""
        wanted = self.dataset.info.main_source
        return next((s for s in self.dataset.sources if s.id == wanted), self.dataset.sources[0])

    @property
    def attribution(self) -> str:
        """How the brief names its main source in running text: 'FPRI'."""
        source = self.main_source
        return source.short_name or source.publisher

    @property
    def office(self) -> str | None:
        """The office the brief comes from: the audience's memo FROM line, else the dataset's."""
        memo = self.audience.memo
        return (memo.from_ if memo and memo.from_ else None) or self.dataset.info.office

    def judgment(self, judgment_id: str | None) -> Any:
        """The judgment a claim states (`Claim.judgment`), or None."""
        return next((j for j in self.dataset.judgments if j.id == judgment_id), None) if judgment_id else None

    def lever_label(self, lever: str) -> str:
        """An option's lever in a reader's words: 'Reporting requirement'."""
        return LEVER_LABELS.get(lever, lever.capitalize())

    def signal_label(self, signal_id: str) -> str:
        """An indicator's direction in a reader's words: 'Toward Moscow'."""
        return next((s.label for s in self.dataset.info.signals if s.id == signal_id), signal_id)

    def annex_letter(self, section: BriefSection) -> str | None:
        """'A', 'B', … for the annexes in their order; None for a section of the body."""
        annexes = [s for s in self.sections if s.spec.annex]
        return chr(ord("A") + annexes.index(section)) if section in annexes else None

    def section(self, kind: str) -> BriefSection | None:
        """The first section of this kind, if the audience shows it."""
        return next((s for s in self.sections if s.kind == kind), None)

    def droppable(self) -> list[str]:
        """Keys of items the overflow policy may drop, least important first.

        Whole paragraphs, bullets and records go, never single sentences. A paragraph is as important as
        the most important paragraph that leans on it, so what leans on it goes first (and never stays
        without it: `select` drops dependants with what they lean on). An analysis part goes when its
        last paragraph does; the endnotes and the BLUF/summary are never dropped.
        """
        candidates: list[tuple[int, int, str]] = []  # (priority, place in reading order, key)
        action = self.audience.memo_type == "action"
        for s in self.sections:
            if not s.spec.trim or s.kind in UNDROPPABLE or (action and s.kind == "recommendations"):
                continue  # an action memo's recommendations are the decision it asks for: never dropped
            for item in s.items:
                units = item.children if s.kind == "analysis" else [item]
                candidates += [(unit.priority, len(candidates), unit.key) for unit in units]
        # Least important first; of equal importance, the one the reader meets last (cut from the end).
        return [key for _, _, key in sorted(candidates, key=lambda c: (-c[0], -c[1]))]

    def item_keys(self) -> list[str]:
        """Every unit fitting may drop that the brief shows: paragraphs of the analysis, items elsewhere."""
        keys = []
        for s in self.sections:
            if s.kind in UNDROPPABLE:
                continue
            for item in s.items:
                keys += [p.key for p in item.children] if s.kind == "analysis" else [item.key]
        return keys

    def describe(self, key: str) -> str:
        """An item as a reader would name it: the section's heading and the item's first words."""
        for s in self.sections:
            for item in s.items:
                if s.kind == "analysis":
                    for para in item.children:
                        if para.key == key:
                            return f"{s.title} › {item.title}: “{first_words(para.record.text)}”"
                elif item.key == key:
                    return f"{s.title}: “{first_words(_item_text(item))}”"
        return key


@dataclass(frozen=True)
class JudgmentState:
    """A judgment's currency as a brief shows it (see `Brief.judgment_state`)."""

    status: str  # holds | revised | overtaken | borne-out | unreviewed
    words: str  # 'overtaken by events', 'not reviewed since later developments bear on it'
    reviewed: dt.date | None
    note: str | None
    made: dt.date

    @property
    def live(self) -> bool:
        """Whether the judgment may be read as current: it held (or came true) on its last review."""
        return self.status in ("holds", "borne-out")


def first_words(text: str, count: int = 8) -> str:
    """The opening words of a text, plain, for a one-line mention: 'Russia's intervention raised fears that…'."""
    plain = re.sub(r"[*_`]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", str(text))
    words = plain.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def _item_text(item: Item) -> str:
    record = item.record
    for name in ("text", "title", "label", "name"):
        value = getattr(record, name, None)
        if value:
            return str(value)
    return item.key


class _Notes:
    """Numbers citation points in order of first use: one note per point, listing all its sources.

    A point whose citations are the same as an earlier point's shares that point's note, so a number never
    stands for two different things; a source cited twice at one point (two paragraphs) is one part.
    """

    def __init__(self, sources: dict[str, Source], cited_once: str | None = None) -> None:
        self.sources = sources
        self.cited_once = cited_once
        # A source cited once, in the brief's source line (`Audience.cite_main_source: once`): never a note.
        self.numbers: dict[tuple[tuple[str, tuple[int, ...]], ...], int] = {}
        self.notes: list[Note] = []

    def number(self, cites: list[str]) -> list[int]:
        cites = [c for c in cites if c.partition("#")[0] != self.cited_once]
        if not cites:
            return []
        # The point as its note reads: by source, the paragraphs a reader is shown. A line the original does
        # not number (a heading) adds no paragraph, so [heading, para. 14] and [para. 14] share one note.
        paragraphs: dict[str, list[int]] = {}
        for cite in dict.fromkeys(cites):
            sid, _, para = cite.partition("#")
            paragraphs.setdefault(sid, [])
            if para and self.sources[sid].pinpoint(int(para)) is not None and int(para) not in paragraphs[sid]:
                paragraphs[sid].append(int(para))
        key = tuple((sid, tuple(sorted(paras))) for sid, paras in paragraphs.items())
        if key not in self.numbers:
            parts = tuple(NotePart(self.sources[sid], paras) for sid, paras in key)
            first = parts[0]
            note = Note(
                len(self.notes) + 1,
                first.source,
                first.paragraphs[0] if first.paragraphs else None,
                parts=parts,
            )
            self.notes.append(note)
            self.numbers[key] = note.n
        return [self.numbers[key]]


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
    dataset: Dataset,
    audience: Audience,
    exclude: frozenset[str] = frozenset(),
    changes: Changes | None = None,
    *,
    formatted: bool = True,
) -> Brief:
    """Choose and order what ``audience`` sees of ``dataset``; items whose key is in ``exclude`` are left out.

    A paragraph that leans on another (`leans_on`) is shown only with it: when a filter or ``exclude``
    takes out the one it leans on, it goes too. ``changes`` (from `briefs.pipeline.editions.plan_edition`)
    fills the "What changed" section; without it (a first edition) that section is left out.
    ``formatted=False`` leaves the notes' text unformatted (numbered, with their sources, but no ``html``
    or ``markdown``) and no source line: for a caller that reads which items a brief holds and renders
    nothing. Formatting is most of a selection's cost (citeproc-py, ~0.4 s for the desk memo's notes).
    """
    main = next((s for s in dataset.sources if s.id == dataset.info.main_source), dataset.sources[0])
    once = audience.cite_main_source == "once"
    notes = _Notes({s.id: s for s in dataset.sources}, main.id if once else None)
    actors = {a.id: a for a in dataset.actors}
    noun = SOURCE_NOUNS.get(main.kind, "source")
    bound = revisions_by_target(dataset)
    sections: list[BriefSection] = []
    places: dict[int, int] = {}
    for place, spec in enumerate(audience.sections):
        if spec.id == "changes":
            found = changes.items if changes else []
            items = [Item(f"changes:{n}", c, priority=c.priority) for n, c in enumerate(found)]
        else:
            items = _items(dataset, audience, spec, actors)
            if audience.voice in ("neutral", "authors"):
                # Neither a CRS-style brief nor a think tank's authors speak for the office: its own
                # judgments ("We assess…") are left out, whatever fitting would keep (issue 23 §1).
                items = _without_office_judgments(items, dataset)
        if spec.id == "analysis":
            for part in items:
                part.children = _keep_passages(part.children, spec.max_paragraph_priority, exclude)
            items = [part for part in items if part.children]
            for part in items:
                part.priority = min(p.priority for p in part.children)
        else:
            if spec.max_priority is not None:
                items = [i for i in items if i.priority <= spec.max_priority]
            if spec.max is not None:
                # The most important first; among judgments, the office's own before the source's.
                keys = [(not _office_own(item.record), item.priority, k) for k, item in enumerate(items)]
                ranked = [k for *_, k in sorted(keys)][: spec.max]
                items = [items[k] for k in sorted(ranked)]
            # Trimming takes items out of what the audience would see; it never lets in one `max` left out.
            items = _keep_passages(items, None, exclude)
        if spec.id not in ("judgments", "sources", "changes", "updates"):
            # A sentence stating a key judgment shown above points to it rather than repeating its confidence,
            # status and updates (issue 23 §1: the desk memo's implications restated two judgments in full).
            stated_above = {
                j.record.id: s.title for s in sections if s.kind == "judgments" for j in s.items if j.record.id
            }
            for item in items:
                _mark_restated(item, stated_above)
        if spec.id not in ("sources", "changes", "updates"):
            for item in items:
                _attach_revisions(item, bound)
        if spec.id != "sources":
            for item in items:
                _number(item, notes, reviews=spec.reviews == "under")
        reviewed: list[Item] = []
        if spec.id == "updates":  # the reviews of key judgments shown above with `reviews: updates`
            for earlier in sections:
                if earlier.kind == "judgments" and earlier.spec.reviews == "updates":
                    for judged in earlier.items:
                        if isinstance(judged.record, Judgment) and judged.record.status_note:
                            review = Item(f"review:{judged.key}", judged.record, priority=judged.priority)
                            review.extra["status_notes"] = notes.number(list(judged.record.status_cites))
                            reviewed.append(review)
        title = spec.title or (changes.title if spec.id == "changes" and changes else DEFAULT_TITLES[spec.id])
        title = title.replace("{source}", noun)  # a title names the source by its kind: "Since the {source}"
        places[id(spec)] = place
        sections.append(BriefSection(spec.id, title, items, spec, reviewed))
    # Notes are numbered as sections appear; the sources section lists them all.
    for section in sections:
        if section.kind == "sources":
            section.items = [Item(f"note:{n.n}", n) for n in notes.notes]
    shown = [
        s for s in sections if s.items or s.reviews or s.kind in ("bluf", "summary") or (s.kind == "sources" and once)
    ]
    # A first edition has no "What changed"; every other section that shows nothing is said (issue 24).
    empty = [(places[id(s.spec)], s.spec, s.title) for s in sections if s not in shown and s.kind != "changes"]
    sections = shown
    later = _later_shown(sections)
    brief = Brief(
        dataset, audience, sections, notes.notes, actors, dataset.info.as_of, sorted(exclude), later=later, bound=bound
    )
    brief.empty = empty
    brief.date = shown_date(brief)  # from what is shown and cited, not from the notes' wording
    if not formatted:
        return brief
    # A note never says a source was accessed after the brief's own date (issue 23): such a date is left out.
    written = format_notes(notes.notes, dataset.sources, brief.date)
    if once:  # the main source in full, once: the brief's source line (issue 23 §3)
        (line,) = format_notes([Note(0, main, None)], dataset.sources, brief.date)
        brief.source_line = line
    for section in sections:
        if section.kind == "sources":
            section.items = [Item(f"note:{n.n}", n) for n in written]
    notes.notes[:] = written
    return brief


def shown_date(brief: Brief) -> dt.date:
    """The date a brief carries: the newest information it shows.

    That is the source's as-of date, or the newest later development, judgment review, indicator check or
    later-published source cited the brief shows, whichever is later. A development fitting left out does not
    date the brief.
    """
    latest = brief.dataset.info.as_of
    days = [parse_partial_date(u.date) for u in brief.later]
    days += [parse_partial_date(d) for d in brief.later_sources]

    def walk(items: list[Item]) -> None:
        for item in items:
            record = item.record
            judgment = brief.judgment(record.judgment) if isinstance(record, Claim) else record
            if isinstance(judgment, Judgment) and judgment.reviewed:
                days.append(judgment.reviewed)
            checked = getattr(record, "last_checked", None)
            if isinstance(checked, dt.date):
                days.append(checked)
            walk(item.children)

    for section in brief.sections:
        walk(section.items)
    return max([latest, *days])


def revisions_by_target(dataset: Dataset) -> dict[tuple[str, str], list[Update]]:
    """Every update's `about` resolved to the records it revises: (kind, id) -> updates, oldest first."""
    bound: dict[tuple[str, str], list[Update]] = {}
    targets = about_targets(dataset)
    for update in sorted(dataset.updates, key=lambda u: parse_partial_date(u.date)):
        for ref in update.about:
            target = resolve_about(dataset, ref, targets)
            if target is not None and update not in bound.setdefault(target, []):
                bound[target].append(update)
    return bound


def _target(item: Item) -> tuple[str, str] | None:
    """The (kind, id) an `about` names this item by, or None for an item no update can name."""
    record = item.record
    if isinstance(record, Passage):
        return ("paragraphs", record.id) if record.id else None
    kind, sep, rid = item.key.partition(":")
    return (kind, rid) if sep and getattr(record, "id", None) == rid else None


def _mark_restated(item: Item, judged: dict[str, str]) -> None:
    """Mark each sentence of ``item`` that states a judgment in ``judged`` (id -> the section showing it)."""
    for child in item.children:
        if isinstance(child.record, Claim) and child.record.judgment in judged:
            child.extra["restated_in"] = judged[child.record.judgment]
        elif isinstance(child.record, Passage):
            _mark_restated(child, judged)


def _attach_revisions(item: Item, bound: dict[tuple[str, str], list[Update]]) -> None:
    """Put beside an item the updates that revise it (and, for a paragraph, those about the judgments it states).

    The revision is part of the item: fitting keeps or drops the two together.
    """
    found: list[Update] = []
    target = _target(item)
    if target is not None:
        found += bound.get(target, [])
    if isinstance(item.record, Judgment | Passage) or item.children:
        for child in item.children:
            if isinstance(child.record, Claim) and child.record.judgment and "restated_in" not in child.extra:
                found += [u for u in bound.get(("judgments", child.record.judgment), []) if u not in found]
            elif isinstance(child.record, Passage):
                _attach_revisions(child, bound)
    unique = list({u.id: u for u in found}.values())
    item.revisions = [Item(f"{item.key}~{u.id}", u, priority=u.priority) for u in unique]


def _later_shown(sections: list[BriefSection]) -> list[Update]:
    """The updates a brief shows: listed in its updates section, or beside a record they revise."""
    shown: list[Update] = []

    def walk(items: list[Item]) -> None:
        for item in items:
            if isinstance(item.record, Update) and item.record not in shown:
                shown.append(item.record)
            for rev in item.revisions:
                if rev.record not in shown:
                    shown.append(rev.record)
            walk(item.children)

    for section in sections:
        walk(section.items)
    return shown


_CITATIONS: dict[str, Any] = {}
"""Per process, one formatter per set of sources: each note form is rendered once (citeproc is slow, ~50 ms
a note) and reused by every audience and every trimming pass. Bounded; keyed by the sources' content."""


_CITATIONS_SEEN: dict[tuple[Any, ...], tuple[tuple[Source, ...], str]] = {}
"""The key in `_CITATIONS` of a list of sources already seen (by identity, with the date), and the sources."""


def citations_for(sources: list[Source], until: dt.date | None = None) -> Any:
    """The shared `briefs.compose.citations.Citations` for these sources, as of ``until``.

    An accessed date later than ``until`` (the brief's date) is left out: a brief dated 2023 cannot
    have read its source in 2026, though the analyst who checked the fact did.
    """
    from briefs.compose.citations import Citations

    # Sources are frozen models: the very same ones, as of the same date, have the same key. Asked once per
    # trial cut while a brief is fitted, hashing their dumps each time cost ~4 ms a call (issue 27).
    # An entry holds its sources, so no id in its key can name another object while it is there.
    ident = (until, *map(id, sources))
    seen = _CITATIONS_SEEN.get(ident)
    if seen is not None and seen[1] in _CITATIONS:
        return _CITATIONS[seen[1]]
    originals = tuple(sources)
    if until is not None:
        sources = [s.model_copy(update={"accessed": None}) if s.accessed and s.accessed > until else s for s in sources]
    key = hashlib.sha256(json.dumps([s.model_dump(mode="json") for s in sources]).encode()).hexdigest()
    if key not in _CITATIONS:
        if len(_CITATIONS) >= 16:
            _CITATIONS.clear()
        _CITATIONS[key] = Citations(sources)
    if len(_CITATIONS_SEEN) >= 64:
        _CITATIONS_SEEN.clear()
    _CITATIONS_SEEN[ident] = (originals, key)
    return _CITATIONS[key]


def format_notes(notes: list[Note], sources: list[Source], until: dt.date | None = None) -> list[Note]:
    """The notes with their text in the house style (Chicago notes): a source's first note in full, later ones
    short; a note citing several sources lists them in the order cited, separated by semicolons."""
    # A note's "para." is the original publication's number for the paragraph, when the data gives it (issue 23).
    parts = [part for n in notes for part in n.parts]
    shown = [[k for k in (part.source.pinpoint(p) for p in part.paragraphs) if k is not None] for part in parts]
    flat = [(part.source.id, numbers[0] if numbers else None) for part, numbers in zip(parts, shown, strict=True)]
    formatted = iter(zip(citations_for(sources, until).notes(flat), shown, strict=True))
    out = []
    for note in notes:
        html: list[str] = []
        md: list[str] = []
        for _ in note.parts:
            f, numbers = next(formatted)
            h, m = str(f.html), str(f.markdown)
            if len(numbers) > 1:
                first, listed = numbers[0], ", ".join(str(p) for p in numbers)
                h = h.replace(f"para. {first}", f"paras. {listed}", 1)
                m = m.replace(f"para. {first}", f"paras. {listed}", 1)
            html.append(h)
            md.append(m)
        out.append(dataclasses.replace(note, html=_join_parts(html), markdown=_join_parts(md)))
    return out


def _join_parts(parts: list[str]) -> str:
    """Several citations in one note: each but the last loses its closing period, joined by semicolons."""
    trimmed = []
    for i, part in enumerate(parts):
        if i < len(parts) - 1:
            if part.endswith(".”"):  # a short note ends inside its title's quotation marks
                part = part[:-2] + "”"
            elif part.endswith("."):
                part = part[:-1]
        trimmed.append(part)
    return "; ".join(trimmed)


def _number(item: Item, notes: _Notes, *, reviews: bool = True) -> None:
    """Give an item (and its paragraphs' claims) their note numbers, in reading order.

    ``reviews``: whether a judgment's review is shown here (else the updates section numbers it, later).
    """
    if item.children:
        for child in item.children:
            _number(child, notes)
    else:
        item.notes = notes.number(list(getattr(item.record, "cites", []) or []))
    if reviews and isinstance(item.record, Judgment) and item.record.status_note:
        item.extra["status_notes"] = notes.number(list(item.record.status_cites))
    for revision in item.revisions:
        revision.notes = notes.number(list(revision.record.cites))


def _keep_passages(items: list[Item], max_priority: int | None, exclude: frozenset[str]) -> list[Item]:
    """The items kept by ``max_priority`` and ``exclude``, less every paragraph whose antecedent is not kept.

    Only paragraphs (records with `leans_on`) lean; other items pass through the same filter.
    """
    kept = [i for i in items if i.key not in exclude and (max_priority is None or i.priority <= max_priority)]
    while True:
        ids = {i.record.id for i in kept if isinstance(i.record, Passage) and i.record.id}
        closed = [i for i in kept if not isinstance(i.record, Passage) or all(r in ids for r in i.record.leans_on)]
        if len(closed) == len(kept):
            return closed
        kept = closed


def _passage_items(prefix: str, passages: list[Passage]) -> list[Item]:
    """Paragraph items, each as important as the most important paragraph leaning on it, claims as children."""
    effective = [p.priority for p in passages]
    index = {p.id: j for j, p in enumerate(passages) if p.id}
    for j in reversed(range(len(passages))):  # dependants come later: their priority flows back
        for ref in passages[j].leans_on:
            if ref in index:
                effective[index[ref]] = min(effective[index[ref]], effective[j])
    items = []
    for j, passage in enumerate(passages):
        item = Item(f"{prefix}:{passage.id or j}", passage, priority=effective[j])
        item.children = [Item(f"{prefix}:{passage.id or j}.{c}", claim) for c, claim in enumerate(passage.claims)]
        items.append(item)
    return items


def _without_office_judgments(items: list[Item], dataset: Dataset) -> list[Item]:
    """A neutral (CRS-style) brief takes no position: the office's own judgments are left out, whether as
    judgments or as sentences that state one; a paragraph left with no sentence goes with them."""
    office = {j.id for j in dataset.judgments if _office_own(j)}
    out = []
    for item in items:
        if isinstance(item.record, Judgment) and item.record.id in office:
            continue
        if item.children:
            kept = [c for c in item.children if getattr(c.record, "judgment", None) not in office]
            kept = _without_office_judgments(kept, dataset)
            if not kept:
                continue
            item.children = kept
        out.append(item)
    return out


def _items(dataset: Dataset, audience: Audience, spec: SectionSpec, actors: dict[str, Actor]) -> list[Item]:
    kind = spec.id
    info = dataset.info
    if kind in ("bluf", "summary"):
        return [Item(kind, info)]
    if kind == "key_points":
        return _passage_items("key_points", info.key_points)
    if kind == "implications":
        return _passage_items("implications", info.implications)
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
    if kind == "options":
        return [Item(f"options:{o.id}", o, priority=o.priority) for o in dataset.options]
    if kind == "analysis":
        out = []
        for s in dataset.sections:
            item = Item(f"sections:{s.id}", s)
            item.children = _passage_items(f"sections:{s.id}", s.paragraphs)
            item.priority = min(p.priority for p in item.children)
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
        # The office's own judgments first, then the source's (issue 23: a memo leads with what its office assesses).
        ordered = sorted(dataset.judgments, key=lambda j: not _office_own(j))
        return [Item(f"judgments:{j.id}", j, priority=j.priority) for j in ordered]
    if kind == "indicators":
        return [Item(f"indicators:{x.id}", x, priority=x.priority) for x in dataset.indicators]
    if kind == "updates":
        ups = sorted(dataset.updates, key=lambda u: parse_partial_date(u.date))
        return [Item(f"updates:{u.id}", u, priority=u.priority) for u in ups]
    if kind == "corrections":
        # In the order of the text, so a reader checks them down the article (the data's order among equals).
        order = {src.id: i for i, src in enumerate(dataset.sources)}

        def place(c: Correction) -> tuple[int, int]:
            sid, _, para = c.location.partition("#")
            return (order.get(sid, len(order)), int(para) if para.isdigit() else 0)

        # Corrections of fact first (a table with their evidence), then those of the text (a compact list),
        # so that notes number up the page as a reader meets them.
        ordered_corrections = sorted(dataset.corrections, key=lambda c: (c.kind not in CORRECTIONS_OF_FACT, place(c)))
        return [Item(f"corrections:{c.id}", c, priority=4) for c in ordered_corrections]
    if kind in ("sources", "changes"):
        return []
    raise AssertionError(f"section kind {kind!r} has no selector")  # the schema admits no other


def _office_own(record: object) -> bool:
    """Whether a record is a judgment the office makes itself (not one it reports from its source)."""
    return isinstance(record, Judgment) and record.by != "source"


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

"""What of a dataset one audience's brief can show: the records its stamp covers (issue 27).

A brief is rebuilt when a record it can show changes, not when anything in its data files does: an edit
to a quote only the desk memo lists rebuilds the desk memo alone. "Can show" is taken before fitting
and before `max`, so a record fitting left out today, or one a priority edit would let in, still counts:

- the dataset's `info` (title, dates, BLUF, key points, signals …) and every source (notes are formatted
  from the whole list), always;
- every record of each kind the audience's sections list (`SECTION_RECORDS`); recommendations only where
  their `audiences` let this audience in;
- what those records name and the brief shows beside them: an event's actors, a quote's speaker, a
  record's theme, the judgment a paragraph's sentence states;
- every update when the brief lists updates, else each update `about` one of the records above, which it
  is shown beside.

What is here is decided from the data being built, so a record that moves into or out of a brief (an
`audiences` or `about` edit) changes the set itself, and the brief is rebuilt. `tests/test_reads_27.py`
edits every record a brief does not read and finds its rendered text unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from briefs.data.load import about_targets, passage_lists, resolve_about
from briefs.data.model import RECORD_KINDS, SECTION_RECORDS, Audience, Dataset, Passage


def shown_records(dataset: Dataset, audience: Audience) -> list[tuple[str, str | None, Any]]:
    """(kind, id, record) for everything ``audience``'s brief can show of ``dataset``, in the data's order.

    ``info`` comes as ``("info", None, dataset.info)``; the rest are whole records by their kind and id.
    """
    kinds = {SECTION_RECORDS[s.id] for s in audience.sections if s.id in SECTION_RECORDS}
    wanted: set[tuple[str, str]] = {("sources", s.id) for s in dataset.sources}
    for kind in kinds & set(RECORD_KINDS):
        for record in getattr(dataset, kind):
            if kind == "recommendations" and record.audiences and audience.id not in record.audiences:
                continue
            wanted.add((kind, record.id))
            # What it names, and the brief shows beside it (one step: none of these names more).
            wanted |= set(_names(record))
    wanted |= {("judgments", j) for j in _judgments_stated(dataset.info.key_points + dataset.info.implications)}
    # Updates beside what they revise: the record itself, a paragraph through its section (or `info`), or a
    # judgment a shown sentence states.
    if "updates" not in kinds:
        containers = _paragraph_containers(dataset)
        targets = about_targets(dataset)
        for update in dataset.updates:
            for ref in update.about:
                target = resolve_about(dataset, ref, targets)
                if target is None:
                    continue
                if target[0] == "paragraphs":
                    container = containers.get(target[1])
                    if container is None or container == ("info", "") or container in wanted:
                        wanted.add(("updates", update.id))
                elif target in wanted:
                    wanted.add(("updates", update.id))
    out: list[tuple[str, str | None, Any]] = [("info", None, dataset.info)]
    for kind in RECORD_KINDS:
        out += [(kind, r.id, r) for r in getattr(dataset, kind) if (kind, r.id) in wanted]
    return out


def _names(record: Any) -> Iterator[tuple[str, str]]:
    """The records ``record`` names that a brief shows with it."""
    for actor in getattr(record, "actors", None) or []:
        if isinstance(actor, str):
            yield ("actors", actor)
    speaker = getattr(record, "speaker", None)
    if isinstance(speaker, str):
        yield ("actors", speaker)
    theme = getattr(record, "theme", None)
    if isinstance(theme, str):
        yield ("themes", theme)
    paragraphs = getattr(record, "paragraphs", None)
    if isinstance(paragraphs, list) and all(isinstance(p, Passage) for p in paragraphs):
        yield from (("judgments", j) for j in _judgments_stated(paragraphs))


def _judgments_stated(passages: list[Passage]) -> Iterator[str]:
    for passage in passages:
        for claim in passage.claims:
            if claim.judgment:
                yield claim.judgment


def _paragraph_containers(dataset: Dataset) -> dict[str, tuple[str, str]]:
    """Each paragraph id and the record that holds it: ("sections", id), or ("info", "") for key points."""
    found: dict[str, tuple[str, str]] = {}
    for loc, passages in passage_lists(dataset):
        container = ("sections", dataset.sections[int(loc[1])].id) if loc[0] == "sections" else ("info", "")
        for passage in passages:
            if passage.id is not None:
                found.setdefault(passage.id, container)
    return found

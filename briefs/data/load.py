"""YAML -> model: datasets and audience files, validated, with every error at once.

Each problem names its file, line, column and dotted key, says what was expected and what was found.
Nothing here writes anything.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import difflib
import itertools
import logging
import re
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from briefs.data.house_style import check_house_style
from briefs.data.model import (
    ID_PATTERN,
    LEANING_OPENERS,
    RECORD_KINDS,
    SOURCE_NOUNS,
    Audience,
    Correction,
    Dataset,
    Passage,
    Source,
)
from briefs.data.yamlfile import Loc, YamlDoc, read_yaml
from briefs.errors import InputError, Problem, display_path

log = logging.getLogger(__name__)

_ID_RE = re.compile(ID_PATTERN)


@dataclass(frozen=True)
class LoadedDataset:
    """A validated dataset and the files it was read from."""

    dataset: Dataset
    folder: Path
    files: tuple[Path, ...]
    owners: dict[str, Path] = field(default_factory=dict, hash=False, compare=False)
    """Which file holds each top-level key (`info`, `events`, …): a brief's stamp names a record by its file."""


@dataclass(frozen=True)
class LoadedAudience:
    """A validated audience file."""

    audience: Audience
    path: Path


def dataset_folders(data_dir: Path) -> list[Path]:
    """The dataset folders under ``data_dir``, sorted by id."""
    if not data_dir.is_dir():
        raise InputError(f"{display_path(data_dir)}: data folder not found; expected a folder of datasets (--data)")
    return sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def dataset_files(folder: Path) -> list[Path]:
    """The YAML files of one dataset, sorted."""
    # Hidden files are not data: an editor's lock or backup (`.#events.yaml`) is not a second events file.
    return sorted(
        # Not only regular files: a FIFO or a link to /dev/zero named *.yaml is refused by name, not skipped.
        p
        for p in folder.iterdir()
        if not p.is_dir() and p.suffix in (".yaml", ".yml") and not p.name.startswith(".")
    )


def load_dataset(folder: Path) -> tuple[LoadedDataset | None, list[Problem]]:
    """Read and validate every YAML file of a dataset folder, merged into one Dataset."""
    problems: list[Problem] = []
    files = dataset_files(folder)
    name = folder.name
    if not _ID_RE.match(name):
        problems.append(
            Problem(display_path(folder), None, None, "", f"dataset id {name!r}: expected [a-z0-9][a-z0-9-]*")
        )
    if not files:
        problems.append(Problem(display_path(folder), None, None, "", "no .yaml files in this dataset folder"))
        return None, problems
    merged: dict[str, Any] = {"id": name}
    owner: dict[str, YamlDoc] = {}
    unreadable = False
    for path in files:
        # A file with a duplicate key or a bad tag is still read (the first value wins) and validated,
        # so its other errors are reported in the same pass; only a file that cannot be parsed stops
        # validation, which would otherwise report its sections as missing (issue 14).
        doc, found = read_yaml(path)
        problems += found
        if doc is None:
            unreadable = True
            continue
        if doc.value is None:
            continue
        if not isinstance(doc.value, dict):
            problems.append(doc.problem((), f"expected a mapping of sections, found {_kind(doc.value)}"))
            unreadable = True
            continue
        for key, value in doc.value.items():
            if key in owner:
                first = owner[key]
                line, _ = first.position((key,))
                problems.append(doc.problem((key,), f"section given twice: also in {first.name}:{line}"))
                continue
            if key == "id":
                problems.append(doc.problem((key,), "the dataset id is its folder name; remove this key"))
                continue
            owner[key] = doc
            merged[key] = value

    def doc_for(loc: Loc) -> YamlDoc | None:
        return owner.get(str(loc[0])) if loc else None

    if unreadable:
        # The files that could be read are still checked against the schema, so one syntax error does not
        # hide the others' mistakes (issue 24); what the unreadable file holds is not known, so neither a
        # missing section nor a reference (to a record it may hold) is reported.
        _, found = validate(Dataset, merged, doc_for, folder)
        problems += [p for p in found if not (p.message == "required key missing" and "." not in p.key)]
        return None, problems

    dataset, found = validate(Dataset, merged, doc_for, folder)
    problems += found
    if dataset is not None:
        problems += check_references(dataset, doc_for, folder)
    else:
        # Schema errors do not hide reference errors: check the references of the records that are valid.
        partial, kept, invalid_ids = _valid_records(merged)
        renumbered = {key: _RenumberedDoc.of(doc, kept) for key, doc in owner.items()}
        try:
            found = check_references(partial, lambda loc: renumbered.get(str(loc[0])) if loc else None, folder)
        except (AttributeError, TypeError, ValueError):  # a check that needs a part that did not validate
            log.debug("reference checks of the valid records stopped", exc_info=True)
            found = []
        problems += [p for p in found if not _about_invalid(p, invalid_ids)]
    if problems:
        return None, problems
    assert dataset is not None
    return LoadedDataset(dataset, folder, tuple(files), {key: doc.path for key, doc in owner.items()}), []


_adapters: dict[Any, TypeAdapter[Any]] = {}


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    if annotation not in _adapters:
        _adapters[annotation] = TypeAdapter(annotation)
    return _adapters[annotation]


def _valid_records(merged: dict[str, Any]) -> tuple[Dataset, dict[str, list[int]], set[str]]:
    """A dataset of the records that validate one by one, where each kept record stood, and the invalid ones' ids.

    Built without validating the whole (``model_construct``): an invalid ``info`` becomes an empty one,
    an invalid list an empty list.
    """
    fields: dict[str, Any] = {"id": merged["id"]}
    kept: dict[str, list[int]] = {}
    invalid_ids: set[str] = set()
    for key, spec in Dataset.model_fields.items():
        if key == "id":
            continue
        if key not in merged:
            model = _model_in(spec.annotation)
            if model is not None and key not in RECORD_KINDS:  # a missing `info`: an empty one
                fields[key] = model.model_construct()
            continue
        value = merged[key]
        if key in RECORD_KINDS:
            items: list[Any] = []
            kept[key] = []
            (item_type,) = typing.get_args(spec.annotation)
            for i, raw in enumerate(value if isinstance(value, list) else []):
                try:
                    items.append(_adapter(item_type).validate_python(raw))
                    kept[key].append(i)
                except ValidationError:
                    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                        invalid_ids.add(raw["id"])
            fields[key] = items
            continue
        try:
            fields[key] = _adapter(spec.annotation).validate_python(value)
        except ValidationError:
            model = _model_in(spec.annotation)
            if model is not None:
                fields[key] = model.model_construct()
    return Dataset.model_construct(**fields), kept, invalid_ids


_INDEX_IN_MESSAGE = re.compile(r"\[(\d+)\]")


@dataclass
class _RenumberedDoc(YamlDoc):
    """A file's positions seen through the valid records: record i of a pruned list is the file's ``kept[i]``."""

    kept: dict[str, list[int]] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, doc: YamlDoc, kept: dict[str, list[int]]) -> _RenumberedDoc:
        return cls(doc.path, doc.value, doc.positions, kept)

    def _original(self, kind: str, i: int) -> int:
        indexes = self.kept.get(kind)
        return indexes[i] if indexes is not None and 0 <= i < len(indexes) else i

    def problem(self, loc: Loc, message: str) -> Problem:
        if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
            kind = loc[0]
            loc = (kind, self._original(kind, loc[1]), *loc[2:])
            message = _INDEX_IN_MESSAGE.sub(lambda m: f"[{self._original(kind, int(m.group(1)))}]", message)
        return super().problem(loc, message)


_REFERENCE = re.compile(r"(?:unknown [a-z]+ |cites paragraph \d+ of )'([^']*)'")


def _about_invalid(problem: Problem, invalid_ids: set[str]) -> bool:
    """A reference to a record that is there but invalid: its own error is reported, not this one."""
    found = _REFERENCE.search(problem.message)
    return found is not None and found.group(1) in invalid_ids


M = typing.TypeVar("M", bound=BaseModel)


def validate(
    model: type[M], value: Any, doc_for: typing.Callable[[Loc], YamlDoc | None], where: Path
) -> tuple[M | None, list[Problem]]:
    """Validate ``value`` against ``model``; every schema error becomes a located Problem."""
    try:
        return model.model_validate(value), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc: Loc = tuple(err["loc"])
            doc = doc_for(loc)
            message = _describe(model, err)
            if doc is None:
                problems.append(Problem(display_path(where), None, None, _dotted(loc), message))
            else:
                problems.append(doc.problem(loc, message))
        return None, sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0))


def _dotted(loc: Loc) -> str:
    from briefs.data.yamlfile import dotted

    return dotted(loc)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"{value!r} (a number)"
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _describe(model: type[BaseModel], err: Any) -> str:
    """Pydantic's message as 'expected …, found …'."""
    kind = err["type"]
    loc = tuple(err["loc"])
    found = _kind(err.get("input"))
    if kind == "extra_forbidden":
        allowed = sorted(_fields_at(model, loc[:-1]))
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        guess = f" (did you mean {hint[0]!r}?)" if hint else ""
        return f"unknown key{guess}; expected one of: {', '.join(allowed)}"
    if kind == "missing":
        return "required key missing"
    msg: str = err["msg"]
    msg = re.sub(r"^(Input|Value|String) should (be|have|match) ", "expected ", msg)
    msg = re.sub(r"^Value error, ", "expected ", msg)
    msg = msg.replace("expected pattern", "expected text matching").replace("expected valid", "expected a valid")
    if kind == "value_error" and isinstance(err.get("input"), dict):
        return msg  # a rule about the whole record: "found a mapping" would say nothing (issue 24)
    if kind in ("literal_error", "enum") and isinstance(err.get("input"), str):
        near = difflib.get_close_matches(err["input"], re.findall(r"'([^']*)'", msg), n=1)
        if near:
            return f"{msg}, found {found} (did you mean {near[0]!r}?)"
    return f"{msg}, found {found}"


def _fields_at(model: type[BaseModel], loc: Loc) -> set[str]:
    """The keys allowed at ``loc`` inside ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return set()
        field = current.model_fields.get(str(part))
        if field is None:
            return set()
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return set(current.model_fields)
    return set()


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def check_references(dataset: Dataset, doc_for: typing.Callable[[Loc], YamlDoc | None], folder: Path) -> list[Problem]:
    """Ids unique per kind; every citation, actor, theme and record reference resolves."""
    problems: list[Problem] = []

    def problem(loc: Loc, message: str) -> None:
        doc = doc_for(loc)
        if doc is None:
            problems.append(Problem(display_path(folder), None, None, _dotted(loc), message))
        else:
            problems.append(doc.problem(loc, message))

    kinds = RECORD_KINDS
    for kind in kinds:
        seen: dict[str, int] = {}
        for i, record in enumerate(getattr(dataset, kind)):
            rid = record.id
            if rid in seen:
                problem(
                    (kind, i, "id"), f"duplicate id {rid!r}; expected ids unique among {kind} (first at [{seen[rid]}])"
                )
            else:
                seen[rid] = i

    sources = {s.id: s for s in dataset.sources}
    for i, source in enumerate(dataset.sources):
        numbers = [p.n for p in source.paragraphs]
        if numbers and numbers != list(range(1, len(numbers) + 1)):
            problem(
                ("sources", i, "paragraphs"),
                f"expected paragraphs numbered 1..{len(numbers)} in order, found {numbers}",
            )
        originals = [(j, p.original) for j, p in enumerate(source.paragraphs) if p.original is not None]
        for (_, before), (j, after) in itertools.pairwise(originals):
            if after <= before:
                problem(
                    ("sources", i, "paragraphs", j, "original"),
                    f"expected the original's paragraph numbers to rise through the text, found {after} after {before}",
                )
        if source.text_file is not None:
            text_path = (folder / source.text_file).resolve()
            if not text_path.is_relative_to(folder.resolve()) or not text_path.is_file():
                problem(
                    ("sources", i, "text_file"),
                    f"expected a file inside the dataset folder, found {source.text_file!r}",
                )

    def check_cite(loc: Loc, cite: str) -> None:
        sid, _, para = cite.partition("#")
        source = sources.get(sid)
        if source is None:
            near = difflib.get_close_matches(sid, list(sources), n=1)
            guess = f" (did you mean {near[0]!r}?)" if near else ""
            problem(loc, f"cites unknown source {sid!r}{guess}; expected one of the ids in sources")
        elif para and not any(p.n == int(para) for p in source.paragraphs):
            count = len(source.paragraphs)
            problem(loc, f"cites paragraph {para} of {sid!r}, which has paragraphs 1..{count}")

    themes = {t.id for t in dataset.themes}
    actors = {a.id for a in dataset.actors}

    def check_ref(loc: Loc, ref: str | None, pool: set[str] | dict[str, str], what: str) -> None:
        if ref is not None and ref not in pool:
            near = difflib.get_close_matches(ref, list(pool), n=1)
            guess = f" (did you mean {near[0]!r}?)" if near else ""
            problem(loc, f"unknown {what} {ref!r}{guess}")

    for kind in kinds:
        for i, record in enumerate(getattr(dataset, kind)):
            for j, cite in enumerate(getattr(record, "cites", [])):
                check_cite((kind, i, "cites", j), cite)
            for j, cite in enumerate(getattr(record, "status_cites", [])):
                check_cite((kind, i, "status_cites", j), cite)
            if hasattr(record, "theme"):
                check_ref((kind, i, "theme"), record.theme, themes, "theme")
            for j, actor in enumerate(getattr(record, "actors", [])):
                check_ref((kind, i, "actors", j), actor, actors, "actor")
    judgments = {j.id for j in dataset.judgments}

    def check_passage_refs() -> None:
        for loc, passages in passage_lists(dataset):
            for j, passage in enumerate(passages):
                for c, claim in enumerate(passage.claims):
                    for k, cite in enumerate(claim.cites):
                        check_cite((*loc, j, "claims", c, "cites", k), cite)
                    check_ref((*loc, j, "claims", c, "judgment"), claim.judgment, judgments, "judgment")

    for i, quote in enumerate(dataset.quotes):
        check_ref(("quotes", i, "speaker"), quote.speaker, actors, "actor")
    # Each check runs on its own: on a dataset some of whose parts did not validate (an `info` without
    # its `as_of`), one that needs a missing part stops alone, and the others still report (issue 14).
    checks: list[Callable[[], None]] = [
        check_passage_refs,
        lambda: check_passages(dataset, problem),
        lambda: check_judgments(dataset, problem),
        lambda: check_attribution(dataset, problem),
        lambda: check_signals(dataset, problem, check_ref),
        lambda: check_about(dataset, problem),
        lambda: check_update_dates(dataset, problem),
        lambda: check_paragraph_counts(dataset, folder, problem),
        lambda: check_source_says(dataset, folder, problem),
        lambda: check_corrected_errors(dataset, problem),
        lambda: check_house_style(dataset, problem),
    ]
    for run_check in checks:
        try:
            run_check()
        except (AttributeError, TypeError, KeyError):
            log.debug("a check needs a part of the dataset that did not validate", exc_info=True)
    for i, correction in enumerate(dataset.corrections):
        check_cite(("corrections", i, "location"), correction.location)
    return problems


def passage_lists(dataset: Dataset) -> list[tuple[Loc, list[Passage]]]:
    """Every list of paragraphs in a dataset, with where it lives: analysis parts, key points, implications."""
    found: list[tuple[Loc, list[Passage]]] = [
        (("sections", i, "paragraphs"), section.paragraphs) for i, section in enumerate(dataset.sections)
    ]
    found += [(("info", name), getattr(dataset.info, name)) for name in ("key_points", "implications")]
    return found


def _opener(text: str) -> str | None:
    """The word(s) a paragraph opens with, if they lean on something before it ('Yet', 'These concerns')."""
    words = re.sub(r"[^\w\s'-]", " ", text).lower().split()
    for opener in sorted(LEANING_OPENERS, key=len, reverse=True):
        parts = opener.split()
        if words[: len(parts)] == parts:
            return opener
    return None


def check_passages(dataset: Dataset, problem: Callable[[Loc, str], None]) -> None:
    """Paragraphs: ids unique in their list, dependencies on earlier paragraphs only, no cycles, caveats bound.

    A paragraph opening with a word that leans on another ('Yet', 'These', 'They') must name what it
    leans on, so that fitting a brief to its length never keeps it without its antecedent.
    """
    for loc, passages in passage_lists(dataset):
        position: dict[str, int] = {}
        for j, passage in enumerate(passages):
            if passage.id is None:
                continue
            if passage.id in position:
                problem((*loc, j, "id"), f"duplicate paragraph id {passage.id!r}; first at [{position[passage.id]}]")
            else:
                position[passage.id] = j
        for j, passage in enumerate(passages):
            for k, ref in enumerate(passage.leans_on):
                where = position.get(ref)
                if ref == passage.id:
                    problem((*loc, j, "leans_on", k), f"paragraph {ref!r} leans on itself (a circular dependency)")
                elif where is None:
                    near = difflib.get_close_matches(ref, list(position), n=1)
                    guess = f" (did you mean {near[0]!r}?)" if near else ""
                    known = ", ".join(position) or "none with an id"
                    problem(
                        (*loc, j, "leans_on", k),
                        f"leans on unknown paragraph {ref!r}{guess}; expected the id of an earlier paragraph "
                        f"in the same list ({known})",
                    )
                elif where > j:
                    circular = passage.id is not None and _reaches(passages, position, ref, passage.id)
                    what = f"a circular dependency: {ref!r} leans back on it" if circular else "expected an earlier one"
                    problem((*loc, j, "leans_on", k), f"leans on {ref!r}, which comes after it ({what})")
            opener = _opener(passage.claims[0].text)
            if opener and not passage.leans_on and not passage.stands_alone:
                problem(
                    (*loc, j),
                    f"opens with {opener.capitalize()!r}, which leans on an earlier paragraph; expected `leans_on: "
                    "[id]` naming it (or `stands_alone: true` if it needs nothing before it)",
                )
            if passage.claims[0].caveat:
                problem(
                    (*loc, j, "claims", 0, "caveat"), "a caveat cannot open a paragraph: it qualifies a claim before it"
                )


_NOT_PROSE = frozenset(
    {
        "corrections",
        "sources",
        "aliases",
        "misspellings",
        "source_heading",
        "id",
        "cites",
        "location",
        "leans_on",
        "about",
    }
)
"""Where a corrected error may stand: the corrections, the sources, an actor's other spellings, a source's heading."""


def _plain(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(re.sub(r"[*_`]", "", text).split()).casefold()


def _prose_strings(value: Any, loc: Loc) -> typing.Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in _NOT_PROSE:
                yield from _prose_strings(item, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _prose_strings(item, (*loc, i))


_STOPWORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his i if in into is it its not of on or
    our over she so than that the their them then there these they this those to under up was we were what
    when which who will with would""".split()  # noqa: SIM905 - a word list reads better as words
)
"""Words too common to tell a passage by: a repeat must share words besides these with the wrong phrase."""


def _tokens(text: str) -> list[str]:
    """Words as a reader compares them: case, quotes, emphasis and punctuation ignored (`Nur-Sultan` is two)."""
    return re.findall(r"\w+(?:'\w+)*", _plain(text))


@dataclass(frozen=True)
class _Mistake:
    """A correction's wrong phrase as words, and which of them the correct text replaces or drops."""

    correction: Correction
    words: tuple[str, ...]
    wrong: frozenset[int]  # positions in ``words`` of the content words the correct text does without
    # Worked out once per correction, not once per string of prose it is compared with (issue 27: a
    # dataset has ~700 strings and ~30 corrections):
    starts: dict[str, list[int]] = field(default_factory=dict)  # where each word starts a run
    need: int = 1  # how many of the ``wrong`` words a run must hold
    need_content: int = 2  # how many words besides stopwords
    telling: frozenset[str] = frozenset()  # words any repeat must contain at least one of

    @classmethod
    def of(cls, correction: Correction) -> _Mistake:
        words, right = _tokens(correction.source_says), set(_tokens(correction.correct))
        changed = {i for i, w in enumerate(words) if w not in _STOPWORDS and w not in right}
        starts: dict[str, list[int]] = {}
        for i, word in enumerate(words):
            starts.setdefault(word, []).append(i)
        content = sum(w not in _STOPWORDS for w in words)
        # A part must hold a wrong word; the whole phrase (when nothing is wrong but its order) holds all.
        telling = frozenset(words[i] for i in changed) if changed else frozenset(words)
        return cls(
            correction,
            tuple(words),
            frozenset(changed),
            starts,
            max(1, (len(changed) + 1) // 2),
            max(2, (content + 1) // 2),
            telling,
        )

    def repeated_in(self, text: list[str], present: set[str] | frozenset[str] | None = None) -> str | None:
        """The run of this phrase's words that ``text`` repeats, if it repeats the mistake; else None.

        The whole phrase; or a run of it, word for word, that holds at least half of the words the
        correct text does without and at least half (and two) of the phrase's words that are not
        stopwords: "Berbera in Djibouti" repeats "the port of Berbera in Djibouti" (corrected to
        Somaliland), where "at least 232" does not repeat "At least 232 people have died, the government
        says" — prose that reports what the source said and sets it right shares a few of its words, not
        the part that is wrong.
        """
        if self.telling.isdisjoint(text if present is None else present):
            return None  # no word a repeat must hold: most strings stop here
        n, starts, need, need_content = len(self.words), self.starts, self.need, self.need_content
        for s, word in enumerate(text):
            for i in starts.get(word, ()):
                k = 0
                while i + k < n and s + k < len(text) and text[s + k] == self.words[i + k]:
                    k += 1
                if k == n:
                    return " ".join(self.words)
                run = range(i, i + k)
                if not self.wrong or len(self.wrong.intersection(run)) < need:
                    continue
                if sum(self.words[j] not in _STOPWORDS for j in run) >= need_content:
                    return " ".join(self.words[j] for j in run)
        return None


def check_corrected_errors(dataset: Dataset, problem: Callable[[Loc, str], None]) -> None:
    """The data's own prose never repeats a mistake its corrections record (issue 24).

    "the port of Berbera in Djibouti" next to a correction saying Berbera is in Somaliland prints the
    error beside the annex that calls it wrong; so does "Berbera, in Djibouti". Compared as a reader
    reads: case, quotes, emphasis, punctuation and spacing ignored, and a part of the phrase counts
    when it holds what the correction changes (`_Mistake.repeated_in`). A correction whose wrong words
    are part of the right ones ("Tokayev" → "Tokayev's") or too short to be told from ordinary words (a
    pronoun) is not searched for.
    """
    mistakes = []
    for correction in dataset.corrections:
        says, right = _plain(correction.source_says), _plain(correction.correct)
        if correction.kind == "pronoun" or len(says) < 6 or (" " not in says and len(says) < 10) or says in right:
            continue
        mistakes.append(_Mistake.of(correction))
    if not mistakes:
        return
    data = dataset.model_dump(mode="python", by_alias=False)
    for loc, text in _prose_strings({k: v for k, v in data.items() if k not in _NOT_PROSE}, ()):
        words = _tokens(text)
        present = set(words)
        for mistake in mistakes:
            found = mistake.repeated_in(words, present)
            if found is None:
                continue
            correction = mistake.correction
            part = "" if found == " ".join(mistake.words) else f" ('{found}')"
            problem(
                loc,
                f"repeats {correction.source_says!r}{part}, which correction {correction.id!r} records as wrong "
                f"(the source's {correction.kind}); expected {correction.correct!r}",
            )


def _reaches(passages: list[Passage], position: dict[str, int], start: str, goal: str) -> bool:
    """Whether following `leans_on` from paragraph ``start`` reaches ``goal``."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        current = todo.pop()
        if current == goal:
            return True
        if current in seen or current not in position:
            continue
        seen.add(current)
        todo += passages[position[current]].leans_on
    return False


def check_judgments(dataset: Dataset, problem: Callable[[Loc, str], None]) -> None:
    """High confidence needs several independent sources: one commentary supports at most moderate (ICD 203)."""
    for i, judgment in enumerate(dataset.judgments):
        sources = {cite.partition("#")[0] for cite in judgment.cites}
        if judgment.confidence == "high" and len(sources) < 2:
            problem(
                ("judgments", i, "confidence"),
                f"expected at most `moderate` for a judgment resting on one source ({', '.join(sorted(sources))}); "
                "`high` needs several independent sources that agree",
            )


_ATTRIBUTING_NOUNS = (
    "article",
    "commentary",
    "analysis",
    "report",
    "study",
    "source",
    "author",
    "authors",
    "paper",
    "essay",
)
"""Words that, after 'the', 'this', 'its' or 'our', name the analytic source in running text."""


def attribution_pattern(source: Source) -> re.Pattern[str]:
    """What counts, in a claim's text, as saying that it is the source's: its short name, publisher, authors' names,
    or 'the article' (or the noun its kind is named by), 'its author', 'this commentary'."""
    names = {source.short_name or "", source.publisher}
    names |= {author.split()[-1] for author in source.authors if author.split()}
    names.discard("")
    nouns = {*_ATTRIBUTING_NOUNS, SOURCE_NOUNS.get(source.kind, "source")}
    alternatives = [re.escape(name) for name in sorted(names, key=len, reverse=True)]
    alternatives.append(r"(?:the|this|its|our)\s+(?:" + "|".join(sorted(nouns)) + r")(?:'s|’s)?")
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def check_attribution(dataset: Dataset, problem: Report) -> None:
    """A sentence resting on the analytic source alone says so; the office's own voice needs another source (issue 22).

    "Russia sent thousands of troops to crush the protests", cited to the commentary only, reads as a
    fact the office has checked. Such a sentence must attribute itself ("FPRI argues…", "the article
    reports…"), or be one of a run of such sentences, in the same paragraph, the first of which does;
    a sentence that also cites another source speaks for what that source confirms.
    """
    main_id = dataset.info.main_source or (dataset.sources[0].id if dataset.sources else None)
    main = next((s for s in dataset.sources if s.id == main_id), None)
    if main is None:
        return
    pattern = attribution_pattern(main)
    name = main.short_name or main.publisher
    noun = SOURCE_NOUNS.get(main.kind, "source")
    for loc, passages in passage_lists(dataset):
        for j, passage in enumerate(passages):
            attributed = False
            for c, claim in enumerate(passage.claims):
                if not claim.cites or any(cite.partition("#")[0] != main.id for cite in claim.cites):
                    attributed = False
                    continue
                if pattern.search(claim.text):
                    attributed = True
                    continue
                if attributed:
                    continue
                problem(
                    (*loc, j, "claims", c, "text"),
                    f"rests on {main.id!r} alone but reads as the office's own finding; expected the text to "
                    f"attribute it ('{name} argues…', 'the {noun} reports…') or a citation of another source "
                    "that confirms it",
                )


def check_signals(
    dataset: Dataset, problem: Callable[[Loc, str], None], check_ref: Callable[[Loc, str | None, set[str], str], None]
) -> None:
    """Indicators point one of the dataset's own ways; the main source is one of its sources."""
    signals = {s.id for s in dataset.info.signals}
    if not dataset.info.model_fields_set:  # an `info` that did not validate: its own errors say why
        return
    for i, indicator in enumerate(dataset.indicators):
        if not signals:
            problem(("indicators", i, "signals"), "expected `info.signals` to list the directions indicators can point")
            break
        check_ref(("indicators", i, "signals"), indicator.signals, signals, "signal (from info.signals)")
    if dataset.info.main_source is not None:
        check_ref(("info", "main_source"), dataset.info.main_source, {s.id for s in dataset.sources}, "source")


Report = Callable[[Loc, str], None]
"""Records one problem at a dotted location of the dataset (`check_references`' ``problem``)."""


ABOUT_KINDS = (*RECORD_KINDS, "paragraphs")
"""What an update's `about` can name: a record of any kind, or a paragraph (analysis, key point, implication)."""


def about_targets(dataset: Dataset) -> dict[str, list[str]]:
    """Every id an update's `about` can name, with the kinds that use it (paragraphs: those with an `id`)."""
    kinds_of: dict[str, list[str]] = {}
    for kind in RECORD_KINDS:
        for record in getattr(dataset, kind):
            kinds_of.setdefault(record.id, [])
            if kind not in kinds_of[record.id]:
                kinds_of[record.id].append(kind)
    for _, passages in passage_lists(dataset):
        for passage in passages:
            if passage.id is not None:
                kinds_of.setdefault(passage.id, [])
                if "paragraphs" not in kinds_of[passage.id]:
                    kinds_of[passage.id].append("paragraphs")
    return kinds_of


def resolve_about(dataset: Dataset, ref: str, targets: dict[str, list[str]] | None = None) -> tuple[str, str] | None:
    """The (kind, id) an `about` entry names, or None when it names nothing (or is ambiguous).

    ``targets`` is `about_targets(dataset)`, when the caller resolves many entries and has it already.
    """
    kind, _, rid = ref.rpartition(":")
    found = (targets if targets is not None else about_targets(dataset)).get(rid, [])
    if kind:
        return (kind, rid) if kind in found else None
    return (found[0], rid) if len(found) == 1 else None


def dataset_warnings(loaded: LoadedDataset) -> list[Problem]:
    """What `check` warns about (exit 0) in a valid dataset: a judgment a newer update is `about`, not reviewed since.

    The judgment may still hold, but nobody has said so: a reader of a brief dated after the update is
    shown a judgment that later facts bear on as if they did not exist.
    """
    dataset = loaded.dataset
    docs: dict[str, YamlDoc] = {}
    for path in loaded.files:
        doc, _ = read_yaml(path)
        if doc is not None and isinstance(doc.value, dict):
            for key in doc.value:
                docs.setdefault(str(key), doc)
    warnings: list[Problem] = []
    position = {j.id: i for i, j in enumerate(dataset.judgments)}
    targets = about_targets(dataset)
    for update in dataset.updates:
        for ref in update.about:
            target = resolve_about(dataset, ref, targets)
            if target is None or target[0] != "judgments":
                continue
            i = position[target[1]]
            judgment = dataset.judgments[i]
            since = judgment.reviewed or judgment.made or dataset.info.as_of
            if latest_day(update.date) <= since:
                continue
            loc: Loc = ("judgments", i, "reviewed" if judgment.reviewed else "id")
            message = (
                f"judgment {judgment.id!r} was "
                + (
                    f"last reviewed {judgment.reviewed}"
                    if judgment.reviewed
                    else f"made {judgment.made or dataset.info.as_of}, never reviewed"
                )
                + f", but update {update.id!r} ({update.date}) is about it; review it: set `reviewed:` and `status:`"
            )
            doc = docs.get("judgments")
            warnings.append(
                doc.problem(loc, message) if doc else Problem(display_path(loaded.folder), None, None, "", message)
            )
    return warnings


def check_about(dataset: Dataset, problem: Report) -> None:
    """An update's `about` names one record: `kind:id`, or a plain id used by records of one kind only (issue 19)."""
    kinds_of = about_targets(dataset)
    ids_of: dict[str, list[str]] = {}
    for rid, kinds in kinds_of.items():
        for kind in kinds:
            ids_of.setdefault(kind, []).append(rid)
    for i, update in enumerate(dataset.updates):
        if "about" in update.model_fields_set and not update.about:
            problem(
                ("updates", i, "about"),
                "an empty `about` names nothing; expected the ids of the records this update revises (or no key)",
            )
        for j, ref in enumerate(update.about):
            loc: Loc = ("updates", i, "about", j)
            kind, _, rid = ref.rpartition(":")
            found = kinds_of.get(rid, [])
            if kind and kind not in ABOUT_KINDS:
                problem(loc, f"unknown kind {kind!r} in {ref!r}; expected one of: {', '.join(ABOUT_KINDS)}")
            elif kind and kind not in found:
                near = difflib.get_close_matches(rid, ids_of.get(kind, []), n=1)
                guess = f" (did you mean '{kind}:{near[0]}'?)" if near else ""
                problem(loc, f"unknown record {ref!r}{guess}; expected the id of one of the {kind}")
            elif not kind and not found:
                near = difflib.get_close_matches(rid, list(kinds_of), n=1)
                guess = f" (did you mean {near[0]!r}?)" if near else ""
                problem(loc, f"unknown record {ref!r}{guess}")
            elif not kind and len(found) > 1:
                choices = ", ".join(f"{k}:{rid}" for k in found)
                problem(loc, f"expected kind:id, as records of {len(found)} kinds have the id {rid!r}: {choices}")


def latest_day(partial: str) -> dt.date:
    """The last day a partial date (``2022``, ``2022-06``, ``2022-06-30``) can mean."""
    parts = [int(p) for p in partial.split("-")]
    if len(parts) == 3:
        return dt.date(parts[0], parts[1], parts[2])
    if len(parts) == 2:
        return dt.date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return dt.date(parts[0], 12, 31)


def check_update_dates(dataset: Dataset, problem: Report) -> None:
    """An update is a fact learned after `info.as_of`: one whose whole date lies before it is an error (issue 19)."""
    as_of = dataset.info.as_of
    for i, update in enumerate(dataset.updates):
        if latest_day(update.date) < as_of:
            problem(
                ("updates", i, "date"),
                f"expected a date on or after the dataset's as_of ({as_of.isoformat()}), found {update.date!r}",
            )


def source_paragraphs(folder: Path, text_file: str | None) -> list[str] | None:
    """A source text's paragraphs (its non-blank lines, stripped), or None if it has no readable text file."""
    if text_file is None:
        return None
    path = (folder / text_file).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        return None  # check_references reports it
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return [line.strip() for line in text.splitlines() if line.strip()]


def check_paragraph_counts(dataset: Dataset, folder: Path, problem: Report) -> None:
    """A source's text file has one paragraph per non-blank line, and `paragraphs` lists each (issue 19)."""
    for i, source in enumerate(dataset.sources):
        lines = source_paragraphs(folder, source.text_file)
        if lines is not None and len(lines) != len(source.paragraphs):
            problem(
                ("sources", i, "paragraphs"),
                f"expected one entry per non-blank line of {source.text_file}: "
                f"{len(lines)} paragraphs in the text, {len(source.paragraphs)} listed",
            )


_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)


def _normalised(text: str) -> str:
    """Text compared as a reader would: runs of whitespace as one space, curly quotes as straight ones."""
    return " ".join(text.translate(_QUOTES).split())


def check_source_says(dataset: Dataset, folder: Path, problem: Report) -> None:
    """A correction's `source_says` occurs verbatim in the paragraph its `location` names (issue 19)."""
    sources = {s.id: s for s in dataset.sources}
    for i, correction in enumerate(dataset.corrections):
        sid, _, para = correction.location.partition("#")
        source = sources.get(sid)
        if source is None:
            continue  # check_references reports the unknown source
        lines = source_paragraphs(folder, source.text_file)
        if lines is None:
            continue  # no text to compare with
        if para:
            n = int(para)
            if not 1 <= n <= len(lines):
                continue  # the location's own check reports it
            text, where = lines[n - 1], f"paragraph {n} of {source.text_file}"
        else:
            text, where = " ".join(lines), f"{source.text_file}"
        if _normalised(correction.source_says) not in _normalised(text):
            shown = correction.source_says if len(correction.source_says) <= 60 else correction.source_says[:57] + "..."
            problem(("corrections", i, "source_says"), f"expected words found verbatim in {where}, found {shown!r}")


LoadMap = Callable[..., Iterable[tuple[LoadedDataset | None, list[Problem]]]]
"""Something like the built-in `map` over `load_dataset`: `load_datasets` may be given a process pool's."""


def load_datasets(
    data_dir: Path, only: list[str] | None = None, map_each: LoadMap | None = None
) -> list[LoadedDataset]:
    """Load every dataset (or those in ``only``); raise InputError with all problems at once.

    ``map_each`` loads the folders (in order); a pool's map spreads many datasets over processes.
    """
    folders = dataset_folders(data_dir)
    known = {f.name: f for f in folders}
    problems: list[Problem] = []
    if only:
        for wanted in only:
            if wanted not in known:
                choices = ", ".join(known) or "none"
                near = difflib.get_close_matches(wanted, list(known), n=1)
                guess = f" (did you mean {near[0]!r}?)" if near else ""
                problems.append(
                    Problem(
                        display_path(data_dir),
                        None,
                        None,
                        "--dataset",
                        f"unknown dataset {wanted!r}{guess}; found: {choices}",
                    )
                )
        folders = [known[w] for w in dict.fromkeys(only) if w in known]
    if not folders and not problems:
        problems.append(Problem(display_path(data_dir), None, None, "", "no datasets found; expected data/<id>/*.yaml"))
    loaded = []
    for result, found in (map_each or map)(load_dataset, folders):
        problems += found
        if result is not None:
            loaded.append(result)
    if problems:
        raise InputError(problems)
    return loaded


def load_audience(path: Path) -> tuple[LoadedAudience | None, list[Problem]]:
    """Read and validate one audience file."""
    doc, problems = read_yaml(path)
    if doc is None or problems:
        return None, problems
    value = doc.value
    if not isinstance(value, dict):
        return None, [doc.problem((), f"expected a mapping of audience settings, found {_kind(value)}")]
    audience_id = path.name.removesuffix(".yaml").removesuffix(".yml")
    if not _ID_RE.match(audience_id):
        return None, [doc.problem((), f"audience id {audience_id!r}: expected [a-z0-9][a-z0-9-]*")]
    if "id" in value:
        return None, [doc.problem(("id",), "the audience id is its file name; remove this key")]
    audience, problems = validate(Audience, {"id": audience_id, **value}, lambda loc: doc, path)
    if audience is None:
        return None, [_action_memo_problem(doc, value, p) for p in problems]
    return LoadedAudience(audience, path), []


def _action_memo_problem(doc: YamlDoc, value: dict[str, Any], problem: Problem) -> Problem:
    """Point the whole-file rule "an action memo needs memo and decide_by" at the `memo_type:` line."""
    if not problem.key and "no `recommendations` section in an information memo" in problem.message:
        listed = value.get("sections")
        sections: list[Any] = listed if isinstance(listed, list) else []
        at = next(
            (
                i
                for i, s in enumerate(sections)
                if s == "recommendations" or (isinstance(s, dict) and s.get("id") == "recommendations")
            ),
            None,
        )
        loc: Loc = ("sections", at) if at is not None else ("memo_type",)
        return doc.problem(loc, problem.message.removesuffix(", found a mapping"))
    if problem.key or value.get("memo_type") != "action" or "memo_type: action needs" not in problem.message:
        return problem
    missing = [f"`{key}:`" for key in ("memo", "decide_by") if value.get(key) is None]
    needs = {"`memo:`": "`memo:` (to, from)", "`decide_by:`": "`decide_by:` (the date a decision is wanted by)"}
    return doc.problem(("memo_type",), f"an action memo needs {' and '.join(needs[m] for m in missing)}")

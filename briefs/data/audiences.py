"""Audiences: where their files are found, loading them all with every problem at once, and the checks
that belong to an audience file itself (its distribution list attaches only formats it builds).

`TemplateDirs` is the search path shared by audience files and templates: a user's `--templates`
folder first, the shipped `templates/` last; a user's audience file replaces a shipped one of the
same name.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from briefs.data.load import LoadedAudience, LoadedDataset, load_audience
from briefs.data.model import SECTION_RECORDS
from briefs.data.yamlfile import read_yaml
from briefs.errors import InputError, Problem, display_path


@dataclass(frozen=True)
class TemplateDirs:
    """The ordered template search path: user folder (optional) first, shipped folder last."""

    shipped: Path
    user: Path | None = None

    @property
    def searched(self) -> list[Path]:
        return [p for p in (self.user, self.shipped) if p is not None]


def discover_audiences(dirs: TemplateDirs) -> dict[str, Path]:
    """Audience files by id; a user folder's file replaces a shipped one of the same name."""
    found: dict[str, Path] = {}
    for root in reversed(dirs.searched):  # shipped first, user folder overrides
        folder = root / "audiences"
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                found[path.stem] = path
    return dict(sorted(found.items()))


def load_audiences(dirs: TemplateDirs, only: tuple[str, ...]) -> dict[str, LoadedAudience]:
    """Load and validate every audience file (or those in ``only``); all problems at once."""
    if dirs.user is not None and not dirs.user.is_dir():
        raise InputError(f"{display_path(dirs.user)}: templates folder not found (--templates)")
    files = discover_audiences(dirs)
    problems: list[Problem] = []
    for wanted in only:
        if wanted not in files:
            choices = ", ".join(files) or "none"
            near = difflib.get_close_matches(wanted, list(files), n=1)
            guess = f" (did you mean {near[0]!r}?)" if near else ""
            where = (
                "; an audience of your own is read from your templates folder's audiences/: pass --templates DIR"
                if dirs.user is None and not near
                else ""
            )
            problems.append(
                Problem("--audience", None, None, "", f"unknown audience {wanted!r}{guess}; found: {choices}{where}")
            )
    loaded: dict[str, LoadedAudience] = {}
    for audience_id, path in files.items():
        if only and audience_id not in only:
            continue
        result, found = load_audience(path)
        problems += found
        if result is not None:
            loaded[audience_id] = result
    if not files:
        searched = ", ".join(display_path(d / "audiences") for d in dirs.searched)
        problems.append(Problem(searched, None, None, "", "no audience files found"))
    if problems:
        raise InputError(problems)
    return loaded


def distribution_problems(audiences: dict[str, LoadedAudience]) -> list[Problem]:
    """A format to attach must be one the audience builds (checked with the audience files, exit 2)."""

    problems: list[Problem] = []
    for loaded in audiences.values():
        dist = loaded.audience.distribution
        if dist is None:
            continue
        built = loaded.audience.formats
        for i, fmt in enumerate(dist.attach):
            if fmt not in built:
                message = f"expected one of the audience's formats ({', '.join(built)}), found {fmt!r}"
                doc, _ = read_yaml(loaded.path)
                if doc is not None:
                    problems.append(doc.problem(("distribution", "attach", i), message))
                else:
                    where = display_path(loaded.path)
                    problems.append(Problem(where, None, None, f"distribution.attach[{i}]", message))
    return problems


def record_audience_problems(
    datasets: dict[str, LoadedDataset], audiences: dict[str, LoadedAudience], known: list[str]
) -> list[Problem]:
    """A record limited to `audiences:` must name audiences that exist and show it, or it appears nowhere.

    ``known`` is every audience id found (a build of one audience still knows the others' names);
    whether an audience shows the record is checked for those loaded. Named at the id's file and line.
    """
    problems: list[Problem] = []
    for loaded in datasets.values():
        limited = {r.id: r for r in loaded.dataset.recommendations if r.audiences}
        if not limited:
            continue
        for path, rid, j, k, audience_id in _audience_refs(loaded.files, set(limited)):
            record = limited[rid]
            message = ""
            if audience_id not in known:
                near = difflib.get_close_matches(audience_id, known, n=1)
                guess = f" (did you mean {near[0]!r}?)" if near else ""
                message = f"unknown audience {audience_id!r}{guess}; found: {', '.join(known) or 'none'}"
            elif audience_id in audiences:
                audience = audiences[audience_id].audience
                spec = next((s for s in audience.sections if s.id == "recommendations"), None)
                if spec is None:
                    message = (
                        f"audience {audience_id!r} has no `recommendations` section, so recommendation "
                        f"{record.id!r} appears in no brief of it"
                    )
                elif spec.origin is not None and record.origin not in spec.origin:
                    message = (
                        f"audience {audience_id!r} shows only recommendations of origin {' or '.join(spec.origin)}, "
                        f"so recommendation {record.id!r} ({record.origin}) appears in no brief of it"
                    )
            if message:
                doc, _ = read_yaml(path)
                if doc is not None:
                    problems.append(doc.problem(("recommendations", j, "audiences", k), message))
                else:
                    problems.append(Problem(display_path(path), None, None, f"recommendations[{j}].audiences", message))
    return problems


def _audience_refs(files: tuple[Path, ...], ids: set[str]) -> list[tuple[Path, str, int, int, str]]:
    """(file, record id, its index in the file's list, the entry's index, audience id) for each `audiences:` entry."""
    found = []
    for path in files:
        doc, _ = read_yaml(path)
        value = doc.value if doc is not None else None
        records = value.get("recommendations") if isinstance(value, dict) else None
        if not isinstance(records, list):
            continue
        for j, record in enumerate(records):
            if isinstance(record, dict) and record.get("id") in ids and isinstance(record.get("audiences"), list):
                found += [(path, str(record["id"]), j, k, str(a)) for k, a in enumerate(record["audiences"])]
    return found


def goes_with(dataset: LoadedDataset, audience: LoadedAudience) -> bool:
    """Whether a brief of this dataset is built for this audience: neither limits itself to others."""
    wanted = dataset.dataset.info.audiences
    allowed = audience.audience.datasets
    return (not wanted or audience.audience.id in wanted) and (not allowed or dataset.dataset.id in allowed)


def pairing_problems(
    datasets: dict[str, LoadedDataset],
    audiences: dict[str, LoadedAudience],
    known_datasets: list[str],
    known_audiences: list[str],
) -> list[Problem]:
    """An audience's `datasets:` and a dataset's `info.audiences` name what exists (with a did-you-mean)."""
    problems: list[Problem] = []

    def unknown(what: str, name: str, known: list[str]) -> str:
        near = difflib.get_close_matches(name, known, n=1)
        guess = f" (did you mean {near[0]!r}?)" if near else ""
        return f"unknown {what} {name!r}{guess}; found: {', '.join(known) or 'none'}"

    for loaded in audiences.values():
        for i, name in enumerate(loaded.audience.datasets):
            if name not in known_datasets:
                doc, _ = read_yaml(loaded.path)
                message = unknown("dataset", name, known_datasets)
                if doc is not None:
                    problems.append(doc.problem(("datasets", i), message))
                else:
                    problems.append(Problem(display_path(loaded.path), None, None, f"datasets[{i}]", message))
    for ds in datasets.values():
        for i, name in enumerate(ds.dataset.info.audiences):
            if name not in known_audiences:
                message = unknown("audience", name, known_audiences)
                for path in ds.files:
                    doc, _ = read_yaml(path)
                    if doc is not None and isinstance(doc.value, dict) and "info" in doc.value:
                        problems.append(doc.problem(("info", "audiences", i), message))
                        break
                else:
                    problems.append(Problem(display_path(ds.folder), None, None, f"info.audiences[{i}]", message))
    return problems


_FIRST_PERSON = re.compile(r"\b(?:[Ww]e|[Oo]urs?|[Oo]urselves|us)\b")
"""The office speaking: 'we assess', 'our recommendation', 'for us' ('US' in capitals is the country)."""
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")
_NOT_PROSE = frozenset({"id", "cites", "date", "about", "judgment", "leans_on", "url", "audiences", "lever", "actors"})
_NEUTRAL_KINDS: dict[str, tuple[str, ...]] = {
    "bluf": ("info", "bluf"),
    "summary": ("info", "summary"),
    "key_points": ("info", "key_points"),
    "implications": ("info", "implications"),
}


def neutral_voice_problems(datasets: dict[str, LoadedDataset], audiences: dict[str, LoadedAudience]) -> list[Problem]:
    """A `voice: neutral` (CRS-style) brief speaks in no one's first person (issue 23).

    Every prose field its sections can show is read, outside quotation marks, except the sentences that
    state one of the office's own judgments (a neutral brief leaves those out) and quotes (a speaker's own
    words). Named at the file, line and key of the text, once per text however many audiences show it.
    """
    problems: list[Problem] = []
    seen: set[tuple[str, int | None, str]] = set()
    for loaded in datasets.values():
        office = {j.id for j in loaded.dataset.judgments if j.by == "analyst"}
        for entry in audiences.values():
            audience = entry.audience
            if audience.voice != "neutral" or not goes_with(loaded, entry):
                continue
            wanted: list[tuple[str, ...]] = []
            for spec in audience.sections:
                if spec.id in _NEUTRAL_KINDS:
                    wanted.append(_NEUTRAL_KINDS[spec.id])
                elif spec.id in SECTION_RECORDS and spec.id != "quotes":
                    wanted.append((SECTION_RECORDS[spec.id],))
            for path in loaded.files:
                doc, _ = read_yaml(path)
                if doc is None or not isinstance(doc.value, dict):
                    continue
                for loc in wanted:
                    value: object = doc.value
                    for key in loc:
                        value = value.get(key) if isinstance(value, dict) else None
                    for where, text in _prose(value, loc, office):
                        if not _FIRST_PERSON.search(_QUOTED.sub("", text)):
                            continue
                        problem = doc.problem(where, "")
                        key3 = (problem.file, problem.line, problem.key)
                        if key3 in seen:
                            continue
                        seen.add(key3)
                        word = _FIRST_PERSON.search(_QUOTED.sub("", text))
                        problems.append(
                            doc.problem(
                                where,
                                f"audience {audience.id!r} speaks in a neutral voice (voice: neutral) but this text "
                                f"says {word.group(0) if word else 'we'!r}; expected it attributed or impersonal "
                                "('FPRI judges…', 'no report was found'), not the office's first person",
                            )
                        )
    return problems


def _prose(value: object, loc: tuple[str | int, ...], office: set[str]) -> list[tuple[tuple[str | int, ...], str]]:
    """Every prose string under ``value`` with its location, less office judgments and their sentences."""
    if isinstance(value, str):
        return [(loc, value)]
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            found += _prose(item, (*loc, i), office)
    elif isinstance(value, dict):
        if value.get("judgment") in office or (loc[:1] == ("judgments",) and value.get("by") == "analyst"):
            return []
        for key, item in value.items():
            if key not in _NOT_PROSE:
                found += _prose(item, (*loc, str(key)), office)
    return found

"""Targets (dataset × audience × format), what each one reads, and whether it is stale and why.

An output's stamp is a content hash of exactly what it read: the records of the dataset its audience can
show (issue 27: not whole data files), the audience file, every template in its inheritance and include
chain, the assets PDFs load, the tool's version and the options that change output. Modification times
are never trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from briefs import __version__
from briefs.compose.reads import shown_records
from briefs.data.audiences import TemplateDirs
from briefs.data.load import LoadedAudience, LoadedDataset
from briefs.data.model import Audience
from briefs.data.yamlfile import read_yaml
from briefs.errors import InputError, Problem, display_path
from briefs.files import read_record, sha256_file
from briefs.formats import FORMATS
from briefs.formats.pdf import searched_first
from briefs.formats.render import SHIPPED_PREFIX, TEMPLATE_FACTS, make_loader, template_name
from briefs.pipeline.fastpath import STATE_DIR, STATE_FILE

log = logging.getLogger(__name__)

EXTENSIONS = {"pdf": "pdf", "md": "md", "html": "html", "docx": "docx"}


@dataclass(frozen=True)
class Target:
    """One output file: a dataset rendered for an audience in a format."""

    dataset: str
    audience: str
    fmt: str
    path: Path

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.audience}.{EXTENSIONS[self.fmt]}"


@dataclass
class Stamp:
    """What a target read, each input with its content hash, plus the options that shape it."""

    inputs: dict[str, str]
    options: dict[str, str]
    assets: tuple[str, ...] = ()
    """Which of ``inputs`` are files a layout loads (fonts, stylesheets, images), by their shown path."""
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        h = hashlib.sha256(json.dumps([self.inputs, self.options], sort_keys=True).encode())
        self.digest = h.hexdigest()

    def with_assets(self, assets: list[Path], hasher: FileHasher) -> Stamp:
        """This stamp with ``assets`` (what the build's layouts loaded) in place of the assets it was planned with."""
        inputs = {k: v for k, v in self.inputs.items() if k not in self.assets}
        loaded = {display_path(p): _asset_digest(p, hasher) for p in assets}
        loaded = {k: v for k, v in loaded.items() if k not in inputs}  # a stylesheet also included as a template
        return Stamp({**inputs, **loaded}, self.options, tuple(loaded))


class FileHasher:
    """Hashes each file once per build."""

    def __init__(self) -> None:
        self.cache: dict[Path, str] = {}

    def __call__(self, path: Path) -> str:
        digest = self.cache.get(path)
        if digest is None:
            digest = sha256_file(path)  # a regular file, read in blocks: no FIFO or device is waited on
            self.cache[path] = digest
        return digest


class TemplateGraph:
    """Which template files each template name loads, parsed once per plan and shared by its targets."""

    def __init__(self, dirs: TemplateDirs) -> None:
        self.loader = make_loader(dirs)
        self.env = jinja2.Environment(loader=self.loader)
        self.parsed: dict[str, tuple[Path, list[str]] | None] = {}

    def node(self, name: str) -> tuple[Path, list[str]] | None:
        """The file ``name`` resolves to and the names it references; None when it is not found."""
        if name not in self.parsed:
            try:
                source, filename, _ = self.loader.get_source(self.env, name)
            except jinja2.TemplateNotFound:
                self.parsed[name] = None  # reported when rendering, with the folders searched
                return None

            def parse() -> list[str]:
                try:
                    ast = self.env.parse(source)
                    return [r for r in jinja2.meta.find_referenced_templates(ast) if isinstance(r, str)]
                except (jinja2.TemplateSyntaxError, RecursionError):
                    return []  # reported when rendering, with file and line

            self.parsed[name] = (Path(filename or name), list(TEMPLATE_FACTS.get("references", source, parse)))
        return self.parsed[name]

    def chain(self, entry: str, extra: list[str]) -> list[Path]:
        """Every template file ``entry`` (and the named ``extra`` partials) can load, found statically.

        Names computed at run time cannot be seen by parsing; the section partials are such names, so
        the caller passes them in ``extra``.
        """
        seen: dict[str, Path] = {}
        todo = [entry, *extra]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            node = self.node(name)
            if node is None:
                continue
            seen[name] = node[0]
            todo += node[1]
        return sorted(set(seen.values()))


def template_chain(dirs: TemplateDirs, entry: str, extra: list[str], graph: TemplateGraph | None = None) -> list[Path]:
    """Every template file ``entry`` (and the named ``extra`` partials) can load; see `TemplateGraph.chain`."""
    return (graph or TemplateGraph(dirs)).chain(entry, extra)


def section_partials(kinds: list[str], fmt: str) -> list[str]:
    """The partial templates an audience's sections render with."""
    ext = "html" if fmt in ("html", "pdf") else "md"
    return [f"base/sections/{k}.{ext}.j2" for k in kinds]


def asset_files(dirs: TemplateDirs) -> list[Path]:
    """Files PDFs may load (fonts, images): everything in the template folders but templates and audiences."""
    out = []
    for root in dirs.searched:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix not in (".j2", ".yaml", ".yml", ".md") and "audiences" not in path.parts:
                out.append(path)
    return out


def loaded_assets(dirs: TemplateDirs, names: object) -> list[Path] | None:
    """The files a brief's last build loaded (`Rendered.assets`), found again through the search path.

    Found again, not remembered: a file of the same name added to the user's folder is what the next
    layout would load, so the stamp names it and the brief is stale. None when the record has no list
    (a record from before issue 24): the caller then stamps with every asset, as that record was.
    """
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    roots = tuple(d.resolve() for d in dirs.searched)
    shipped = dirs.shipped.resolve()
    return [searched_first(shipped / n, roots) for n in names if ".." not in Path(n).parts]


def _asset_digest(path: Path, hasher: FileHasher) -> str:
    """A loaded file's hash; one since removed is stamped as missing (its brief is stale, and says why)."""
    try:
        return hasher(path)
    except OSError:
        return "missing"


def record_inputs(
    loaded: LoadedDataset, audience: Audience, digests: dict[tuple[str, str | None], str] | None = None
) -> dict[str, str]:
    """The records ``audience``'s brief can show (`briefs.compose.reads`), each with its content hash.

    Named by file and record, ``data/kazakhstan-2022/quotes.yaml#quotes:suleimenov-abide``, so `--explain`
    says which record changed. Hashed as validated, not as written: a comment, a reordered key or a record
    moved to another file of the dataset changes no record (the move renames one, and rebuilds).
    ``digests`` (one per dataset, shared by its audiences) keeps each record's hash, so a record every
    brief shows (`info`, the sources) is serialised and hashed once per plan, not once per audience.
    """
    folder = display_path(loaded.folder)
    files = {kind: display_path(path) for kind, path in loaded.owners.items()}  # one display path per file
    known = digests if digests is not None else {}
    out: dict[str, str] = {}
    for kind, rid, record in shown_records(loaded.dataset, audience):
        where = files.get(kind, folder)
        key = f"{where}#{kind}" if rid is None else f"{where}#{kind}:{rid}"
        if (kind, rid) not in known:
            known[kind, rid] = hashlib.sha256(record.model_dump_json().encode("utf-8")).hexdigest()
        out[key] = known[kind, rid]
    return out


def input_file(key: str) -> str:
    """The file a stamp's input is in: a record's key names its file before the '#'."""
    return key.partition("#")[0]


def stamp_for(
    target: Target,
    *,
    records: dict[str, str],
    audience_file: Path,
    templates: list[Path],
    assets: list[Path],
    options: dict[str, str],
    hasher: FileHasher,
) -> Stamp:
    """The content stamp of one target: the records it can show (`record_inputs`) and the files it reads."""
    inputs = {**records, **{display_path(p): hasher(p) for p in [audience_file, *templates]}}
    loaded = {display_path(p): _asset_digest(p, hasher) for p in assets}
    loaded = {k: v for k, v in loaded.items() if k not in inputs}  # a stylesheet also included as a template
    return Stamp({**inputs, **loaded}, {"tool": __version__, "format": target.fmt, **options}, tuple(loaded))


def why_stale(target: Target, stamp: Stamp, previous: dict[str, Any] | None) -> list[str]:
    """Reasons the target must be rebuilt; empty when it is up to date."""
    if not target.path.is_file():
        return ["output missing"]
    if previous is None:
        return ["no record of a previous build"]
    if previous.get("digest") == stamp.digest:
        return []
    reasons = []
    old_inputs: dict[str, str] = previous.get("inputs", {})
    for path, digest in stamp.inputs.items():
        if path not in old_inputs:
            reasons.append(f"{path} is new")
        elif old_inputs[path] != digest:
            reasons.append(f"{path} changed")
    for path in old_inputs:
        if path not in stamp.inputs:
            reasons.append(f"{path} no longer read")
    old_options: dict[str, str] = previous.get("options", {})
    for key, value in stamp.options.items():
        if old_options.get(key) != value:
            reasons.append(f"{key} changed ({old_options.get(key)} -> {value})")
    return reasons or ["stamp changed"]


def load_state(out_dir: Path) -> dict[str, Any]:
    """The record of previous builds in ``out_dir``; empty when there is none or it is unreadable."""
    path = out_dir / STATE_DIR / STATE_FILE
    try:
        state = json.loads(read_record(path))
    except (OSError, ValueError):
        return {"targets": {}, "cuts": {}, "seconds": {}}
    if not isinstance(state, dict) or not isinstance(state.get("targets"), dict):
        return {"targets": {}, "cuts": {}, "seconds": {}}
    for optional in ("cuts", "seconds"):  # hints only: a damaged one is dropped, never trusted
        if not isinstance(state.get(optional), dict):
            state[optional] = {}
    damaged = [name for name, entry in state["targets"].items() if not _sound_entry(entry)]
    for name in damaged:  # its target is rebuilt ("no record of a previous build"); the others stand
        del state["targets"][name]
    if damaged:
        log.warning("%s: ignored the damaged record of %s (built again)", display_path(path), ", ".join(damaged))
    return state


def _sound_entry(entry: Any) -> bool:
    """A target's record as a build writes it: a digest, text-to-text inputs and options, the output's hash."""

    def texts(value: Any) -> bool:
        return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())

    return (
        isinstance(entry, dict)
        and isinstance(entry.get("digest"), str)
        and texts(entry.get("inputs", {}))
        and isinstance(entry.get("options", {}), dict)
        and all(isinstance(k, str) for k in entry.get("options", {}))
        and isinstance(entry.get("output", ""), str)
    )


def entry_template(dirs: TemplateDirs, stem: str | None, fmt: str) -> str:
    """The template a target starts from."""
    return template_name(dirs, stem, fmt)


def check_collisions(targets: list[Target]) -> None:
    """Two targets must never write one path (pelican's FileOverwriteFailedError)."""
    seen: dict[Path, Target] = {}
    problems = []
    for t in targets:
        key = t.path.resolve()
        if key in seen:
            problems.append(
                Problem(display_path(t.path), None, None, "", f"written by both {seen[key].name} and {t.name}")
            )
        seen[key] = t
    if problems:
        raise InputError(problems)


__all__ = ["FORMATS", "SHIPPED_PREFIX", "STATE_DIR", "STATE_FILE", "FileHasher", "Stamp", "Target"]


def missing_templates(dirs: TemplateDirs, audiences: dict[str, LoadedAudience]) -> list[Problem]:
    """An audience that names a `template:` must find it; falling back to the base layout would hide a typo."""

    problems = []
    for loaded in audiences.values():
        stem = loaded.audience.template
        if stem is None:
            continue
        exts = sorted({"md" if f in ("md", "docx") else "html" for f in loaded.audience.formats})
        missing = [f"audiences/{stem}.{ext}.j2" for ext in exts if template_name(dirs, stem, ext).startswith("base/")]
        if missing:
            doc, _ = read_yaml(loaded.path)
            searched = ", ".join(display_path(d) for d in dirs.searched)
            message = f"template {' and '.join(missing)} not found; searched: {searched}"
            if doc is not None:
                problems.append(doc.problem(("template",), message))
            else:
                problems.append(Problem(display_path(loaded.path), None, None, "template", message))
    return problems

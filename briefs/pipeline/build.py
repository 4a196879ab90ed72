"""One build, top to bottom: load and validate everything, plan, render, and only then write.

No stage keeps global state: each is a plain function over plain values, so tests, the watch loop
and the scheduler all call the same `build()`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefs import __version__
from briefs.compose.changes import Changes
from briefs.compose.fit import PREVIOUS_CUT, Rendered
from briefs.data.audiences import (
    TemplateDirs,
    discover_audiences,
    distribution_problems,
    goes_with,
    load_audiences,
    neutral_voice_problems,
    pairing_problems,
    record_audience_problems,
)
from briefs.data.load import LoadedAudience, LoadedDataset, LoadMap, dataset_folders, load_datasets
from briefs.data.model import RECORD_KINDS, Audience
from briefs.errors import BuildError, InputError, Problem, display_path
from briefs.formats import FORMATS, SHIPPED_TEMPLATES
from briefs.formats.docx import reference_file
from briefs.formats.docx_layout import libreoffice, libreoffice_version
from briefs.formats.render import template_name
from briefs.pipeline.editions import plan_edition
from briefs.pipeline.executors import EXECUTORS, LocalPool, open_executor, prestart
from briefs.pipeline.fastpath import STATE_DIR, STATE_FILE, fingerprint, forget, record_bytes, record_path, summary_line
from briefs.pipeline.limits import DEFAULT_SECONDS
from briefs.pipeline.output import clean_temporaries, output_lock, refuse_links_out_of, write_atomic
from briefs.pipeline.plan import (
    FileHasher,
    Stamp,
    Target,
    TemplateGraph,
    asset_files,
    check_collisions,
    load_state,
    loaded_assets,
    missing_templates,
    record_inputs,
    section_partials,
    stamp_for,
    template_chain,
    why_stale,
)
from briefs.pipeline.seen_cuts import remember_cut, seen_cut
from briefs.pipeline.shard import in_shard, shard_problems
from briefs.pipeline.task import render_isolated

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Options:
    """What the user asked for (the CLI's options, as plain values)."""

    data_dir: Path = Path("data")
    out_dir: Path = Path("output")
    templates_dir: Path | None = None
    shipped_templates: Path = SHIPPED_TEMPLATES
    datasets: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    extra_formats: tuple[str, ...] = ()  # built besides each audience's own `formats` (serve adds html)
    force: bool = False
    pdf_variant: str | None = None
    jobs: int = 1
    lock_wait: float | None = None  # seconds to wait for another build's lock; None waits as long as it takes
    time_limit: float | None = DEFAULT_SECONDS  # seconds per brief (dataset × audience); None: no limit
    fingerprint: str | None = None  # of every input before planning; recorded for the no-op fast path
    stream: bool = False  # write each brief as soon as it renders (watch); else nothing before all rendered
    executor: str = "local"  # where briefs render: local (--jobs processes) or dask (issue 18)
    scheduler: str | None = None  # the Dask scheduler's address, tcp://HOST:PORT
    shard: tuple[int, int] | None = None  # (I, N): build only the I-th of N stable shares of the briefs

    @property
    def dirs(self) -> TemplateDirs:
        return TemplateDirs(self.shipped_templates, self.templates_dir)


@dataclass
class PlannedTarget:
    """A target with its stamp and why it is (or is not) stale."""

    target: Target
    stamp: Stamp
    reasons: list[str]

    @property
    def stale(self) -> bool:
        return bool(self.reasons)


@dataclass
class Plan:
    """Everything loaded and every target planned; nothing rendered or written yet."""

    options: Options
    datasets: dict[str, LoadedDataset]
    audiences: dict[str, LoadedAudience]
    targets: list[PlannedTarget]
    state: dict[str, Any]
    group_inputs: dict[tuple[str, str], str] = field(default_factory=dict)
    """Per (dataset, audience): a hash of what a brief's trimming depends on, but its edition (`trim_key`)."""

    def counts(self) -> dict[str, int]:
        """How many records of each kind were validated."""
        totals: dict[str, int] = {"datasets": len(self.datasets), "audiences": len(self.audiences)}
        for loaded in self.datasets.values():
            ds = loaded.dataset
            for kind in RECORD_KINDS:
                totals[kind] = totals.get(kind, 0) + len(getattr(ds, kind))
        return totals


@dataclass
class TargetResult:
    """What happened to one target in a build."""

    target: Target
    status: str  # built | up-to-date | failed
    reasons: list[str] = field(default_factory=list)
    error: str | None = None
    pages: int | None = None
    dropped: list[str] = field(default_factory=list)
    note: str | None = None  # what the build says of this output: "2 pages as LibreOffice lays it out"
    also_dropped: list[str] = field(default_factory=list)  # what this format leaves out beyond ``dropped``


@dataclass
class Report:
    """The outcome of a build."""

    results: list[TargetResult]
    seconds: float

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[TargetResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        return summary_line(self.count("built"), self.count("up-to-date"), self.count("failed"), self.seconds)


def dropped_blocks(dirs: TemplateDirs, audiences: dict[str, LoadedAudience]) -> list[Problem]:
    """A block an audience's template overrides that its layout does not define: its content is never shown."""
    from briefs.compose.fit import template_path
    from briefs.formats.render import make_env, unknown_blocks

    problems: list[Problem] = []
    seen: set[str] = set()
    envs = {fmt: make_env(dirs, fmt) for fmt in ("html", "md")}
    for loaded in audiences.values():
        for fmt in ("html", "md"):
            name = template_name(dirs, loaded.audience.template or loaded.audience.id, fmt)
            if name in seen:
                continue
            seen.add(name)
            problems += unknown_blocks(envs[fmt], name, template_path(dirs, name))
    return problems


def decide_by_problems(datasets: dict[str, LoadedDataset], audiences: dict[str, LoadedAudience]) -> list[Problem]:
    """An action memo cannot ask for a decision by a day before the memo's own date (issue 24)."""
    from briefs.compose.select import brief_date
    from briefs.data.yamlfile import read_yaml

    problems: list[Problem] = []
    for entry in audiences.values():
        wanted = entry.audience.decide_by
        if wanted is None:
            continue
        late = [(d.dataset.id, brief_date(d.dataset)) for d in datasets.values() if goes_with(d, entry)]
        late = [(i, day) for i, day in late if wanted < day]
        if not late:
            continue
        doc, _ = read_yaml(entry.path)
        dated = "; ".join(f"{i} is dated {day.isoformat()}" for i, day in late)
        message = f"expected a date on or after the memo's date, found {wanted.isoformat()} ({dated})"
        problems.append(
            doc.problem(("decide_by",), message)
            if doc is not None
            else Problem(display_path(entry.path), None, None, "decide_by", message)
        )
    return problems


def make_plan(options: Options) -> Plan:
    """Load and validate every input, then work out every target's stamp and staleness."""
    problems: list[Problem] = []
    if options.jobs < 1:
        problems.append(Problem("--jobs", None, None, "", f"expected a number of processes ≥ 1, found {options.jobs}"))
    problems += shard_problems(options.shard)
    if options.executor not in EXECUTORS:
        expected = f"expected {' or '.join(EXECUTORS)}, found {options.executor!r}"
        problems.append(Problem("--executor", None, None, "", expected))
    for fmt in options.formats:
        if fmt not in FORMATS:
            problems.append(
                Problem("--format", None, None, "", f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
            )
    datasets: dict[str, LoadedDataset] = {}
    audiences: dict[str, LoadedAudience] = {}
    try:
        only = list(options.datasets) or None
        datasets = {d.dataset.id: d for d in load_datasets(options.data_dir, only, _loader_map(options, only))}
    except InputError as exc:
        problems += exc.problems
    try:
        audiences = load_audiences(options.dirs, options.audiences)
    except InputError as exc:
        problems += exc.problems
    problems += missing_templates(options.dirs, audiences)
    problems += dropped_blocks(options.dirs, audiences)  # as `check`: a misspelt block would vanish in silence
    from briefs.formats.docx import reference_problems  # a broken reference document is named before any render

    problems += reference_problems(options.dirs, [a.audience for a in audiences.values()], options.formats)

    problems += distribution_problems(audiences)
    if datasets and audiences:  # a record limited to audiences that do not exist or do not show it (issue 24)
        known = list(discover_audiences(options.dirs))
        problems += record_audience_problems(datasets, audiences, known)
        problems += pairing_problems(datasets, audiences, [f.name for f in dataset_folders(options.data_dir)], known)
        problems += neutral_voice_problems(datasets, audiences)
        problems += decide_by_problems(datasets, audiences)
    if problems:
        raise InputError(problems)

    dirs = options.dirs
    hasher = FileHasher()
    graph = TemplateGraph(dirs)  # each template parsed once, not once per target
    assets = asset_files(dirs)
    state = load_state(options.out_dir)
    build_options = {"pdf_variant": options.pdf_variant or "default"}
    templates_digest = _templates_digest(dirs, hasher)
    planned: list[PlannedTarget] = []
    measurer: list[str] = []  # LibreOffice's install, looked up once, when a Word brief has a page limit

    def word_layout(audience: Audience) -> dict[str, str]:
        """A Word brief with a page limit is measured by LibreOffice where installed: which one is part of its stamp."""
        if audience.limits.pages is None:
            return {}
        if not measurer:
            measurer.append(libreoffice_version(libreoffice()))
        return {"docx_layout": measurer[0]}

    group_inputs: dict[tuple[str, str], str] = {}
    for dataset_id, loaded in datasets.items():
        digests: dict[tuple[str, str | None], str] = {}  # each record hashed once for all the audiences
        for audience_id, aud in audiences.items():
            if not goes_with(loaded, aud):
                continue  # the audience or the dataset limits itself to others (`datasets:`, `info.audiences`)
            if not in_shard(dataset_id, audience_id, options.shard):
                continue
            # What the brief can show, record by record (issue 27): the stamp's data and the remembered cut's key.
            # Trimming reads the validated records, not the files: a comment or a reordered key changes no cut.
            records = record_inputs(loaded, aud.audience, digests)
            if templates_digest is not None:
                content = sorted(records.items())
                group = [__version__, build_options, content, aud.audience.model_dump_json(), templates_digest]
                group_inputs[dataset_id, audience_id] = hashlib.sha256(json.dumps(group).encode()).hexdigest()
            formats: list[str] = [f for f in aud.audience.formats if not options.formats or f in options.formats]
            formats += [f for f in options.formats if f in ("html", "docx") and f not in formats]
            formats += [f for f in options.extra_formats if f not in formats]
            for fmt in formats:
                target = Target(dataset_id, audience_id, fmt, options.out_dir / dataset_id / f"{audience_id}.{fmt}")
                entry = template_name(dirs, aud.audience.template or audience_id, fmt)
                partials = section_partials([s.id for s in aud.audience.sections], fmt)
                chain = template_chain(dirs, entry, partials, graph)
                if fmt == "docx":  # its house style: editing the reference document rebuilds it (issue 15)
                    chain += [p for p in [reference_file(dirs, aud.audience.template or audience_id)] if p]
                previous = state["targets"].get(target.name)
                # What the brief's layouts loaded last time (issue 24): a stylesheet or font only another
                # audience loads stales nothing here. With no such record, every asset, as before.
                fetched = loaded_assets(dirs, (previous or {}).get("assets"))
                if fetched is None:
                    fetched = assets if fmt in ("pdf", "html") else []
                stamp = stamp_for(
                    target,
                    records=records,
                    audience_file=aud.path,
                    templates=chain,
                    assets=fetched,
                    options=build_options if fmt == "pdf" else word_layout(aud.audience) if fmt == "docx" else {},
                    hasher=hasher,
                )
                reasons = ["--force"] if options.force else why_stale(target, stamp, previous)
                planned.append(PlannedTarget(target, stamp, reasons))
    check_collisions([p.target for p in planned])
    return Plan(options, datasets, audiences, planned, state, group_inputs)


POOL_LOAD_MIN = 8
"""From this many datasets, `--jobs` processes load them (each ~25 ms; starting a pool costs about as much as one)."""


def _loader_map(options: Options, only: list[str] | None) -> LoadMap | None:
    """A pool's map for loading many datasets at once, or None to load them here."""
    try:
        count = len(only or dataset_folders(options.data_dir))
    except InputError:
        return None  # load_datasets reports it
    if options.jobs <= 1 or count < POOL_LOAD_MIN:
        return None
    return LocalPool(options.jobs).map_loads


def _fingerprint(options: Options) -> str | None:
    """The no-op fast path's fingerprint of these options' inputs (`briefs.pipeline.fastpath`)."""
    return fingerprint(
        data_dir=options.data_dir,
        out_dir=options.out_dir,
        templates_dir=options.templates_dir,
        datasets=options.datasets,
        audiences=options.audiences,
        formats=options.formats,
        pdf_variant=options.pdf_variant,
        shipped_templates=options.shipped_templates,
    )


def _templates_digest(dirs: TemplateDirs, hasher: FileHasher) -> str | None:
    """One hash of every file in the template folders (templates, audiences, fonts); None if one cannot be read.

    Through the plan's ``hasher``: the stamps hash the same templates and fonts, each read once.
    """
    h = hashlib.sha256()
    try:
        for i, root in enumerate(dirs.searched):
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                h.update(f"{i}/{path.relative_to(root)}\0{hasher(path)}\0".encode("utf-8", "surrogateescape"))
    except OSError:
        return None
    return h.hexdigest()


def trim_key(group_inputs: str | None, changes: Changes | None) -> str | None:
    """What a brief's trimming is a function of: its inputs and the "What changed" items it shows."""
    if group_inputs is None:
        return None
    return hashlib.sha256(f"{group_inputs}\0{changes!r}".encode()).hexdigest()


def default_jobs() -> int:
    """How many briefs to render at once by default: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def warm(options: Options, briefs: int) -> None:
    """Compile the templates, import WeasyPrint and load the fonts where the next rebuild will render.

    A watcher calls it after its first build, which may have rendered nothing, so the first edit is
    as quick as the next. "Where" is here (one stale brief renders here) and, when a rebuild may
    render two or more of the ``briefs`` (dataset × audience) at once with ``--jobs`` above 1, in
    every worker.
    """
    from briefs.formats.render import precompile

    dirs = options.dirs
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [(precompile, (dirs,))]
    if not options.formats or "pdf" in options.formats:
        from briefs.formats.pdf import warm_up

        css_file = next((d / "base/css/base.css" for d in dirs.searched if (d / "base/css/base.css").is_file()), None)
        css = css_file.read_text(encoding="utf-8") if css_file is not None else ""
        tasks.append((warm_up, (css, dirs.shipped, tuple(dirs.searched))))
    for fn, args in tasks:
        fn(*args)
    if options.executor == "local" and options.jobs > 1 and briefs > 1:
        LocalPool(options.jobs).warm(tasks, briefs)


def _write_refused(path: Path, out_dir: Path, data: bytes) -> str | None:
    """Write one output atomically; say why not instead of raising, so one bad path costs only its target.

    The folder the file lands in must really be inside ``out_dir``: a symlinked ``output/<dataset>``
    pointing elsewhere is refused, so nothing is ever written outside --out (issue 7).
    """
    if not path.parent.resolve().is_relative_to(out_dir.resolve()):
        return f"refused to write {display_path(path)}: its folder leads outside {display_path(out_dir)}"
    try:
        write_atomic(path, data)
    except OSError as exc:
        return f"cannot write {display_path(path)}: {exc.strerror or exc}"
    return None


Progress = Callable[[TargetResult], None]


def refresh_staleness(plan: Plan) -> None:
    """Re-read the state under the lock: another build may have finished while this one planned."""
    plan.state = load_state(plan.options.out_dir)
    for p in plan.targets:
        previous = plan.state["targets"].get(p.target.name)
        p.reasons = ["--force"] if plan.options.force else why_stale(p.target, p.stamp, previous)


def build(
    options: Options, explain: Callable[[PlannedTarget], None] | None = None, progress: Progress | None = None
) -> Report:
    """Rebuild every stale target; write nothing if any input is bad. Raises InputError for bad input."""
    started = time.perf_counter()
    prestart(options.executor, options.scheduler)  # a Dask client connects while the data loads
    plan = make_plan(options)  # bad input stops here, before the output folder is touched
    refuse_links_out_of(options.out_dir)
    # An unreachable scheduler is found here: nothing written.
    executor = open_executor(options.executor, options.scheduler, options.jobs, options.time_limit)
    with output_lock(options.out_dir, options.lock_wait):
        clean_temporaries(options.out_dir)
        refresh_staleness(plan)
        if explain is not None:
            for p in plan.targets:
                explain(p)
        results: list[TargetResult] = []
        groups: dict[tuple[str, str], list[PlannedTarget]] = {}
        for p in plan.targets:
            if p.stale:
                groups.setdefault((p.target.dataset, p.target.audience), []).append(p)
            else:
                results.append(TargetResult(p.target, "up-to-date"))
                if progress:
                    progress(results[-1])

        if groups and options.stream:
            forget(options.out_dir)  # a watcher writes each brief as it is ready: the no-op record no longer holds
        # Each brief's edition is settled before rendering: its "What changed" section depends on it.
        editions = {
            key: plan_edition(options.out_dir, plan.datasets[key[0]].dataset, plan.audiences[key[1]].audience)
            for key in groups
        }
        # The items each trimmed brief dropped, remembered with the inputs they were found for.
        cuts: dict[str, Any] = plan.state["cuts"]
        seconds: dict[str, Any] = plan.state["seconds"]
        cut_keys = {key: trim_key(plan.group_inputs.get(key), editions[key].changes) for key in groups}

        def known_cut(key: tuple[str, str]) -> tuple[str, ...] | None:
            memo = cuts.get("/".join(key))
            if not isinstance(memo, dict):
                # None in this folder: the last cut this machine found for the brief, as a start (issue 27).
                seen = seen_cut(*key)
                return (PREVIOUS_CUT, *seen) if seen else None
            order = memo.get("drop_order")
            if not (isinstance(order, list) and all(isinstance(k, str) for k in order)):
                return None
            if cut_keys[key] is None or memo.get("key") != cut_keys[key]:
                # Found for other inputs (before an edit): where fitting starts its search (issue 27).
                return (PREVIOUS_CUT, *order) if order else None
            # What the layout that found the cut loaded (issue 27): with it, a build without a PDF can
            # take the cut without laying the brief out, and still stamp its files with those assets.
            # And how LibreOffice laid out the Word brief of these inputs, so a rebuild need not convert it again.
            word = memo.get("word_cut")
            word_cut = (
                tuple(w for w in word if isinstance(w, str) and w.startswith("%")) if isinstance(word, list) else ()
            )
            # And how tall the layouts found the dropped items, so confirming the cut needs no layout of
            # the brief with one drop fewer where the cut's own layout leaves too little room for it.
            high = memo.get("heights")
            measured = tuple(f"^{h}" for h in high if isinstance(h, str)) if isinstance(high, list) else ()
            assets = memo.get("assets")
            if isinstance(assets, list) and all(isinstance(a, str) for a in assets):
                return (*order, *(f"@{a}" for a in assets), *word_cut, *measured)
            return (*order, *word_cut, *measured)

        def last_seconds(key: tuple[str, str]) -> float:
            value = seconds.get("/".join(key))
            return float(value) if isinstance(value, (int, float)) else 0.0

        # Which brief starts first never changes a byte. A watcher starts the quickest first, so the
        # brief being edited comes back soonest; a build starts the slowest first, to finish soonest.
        start_order = sorted(groups, key=last_seconds, reverse=not options.stream)
        calls = {
            key: (
                plan.datasets[key[0]],
                plan.audiences[key[1]].audience,
                options.dirs,
                [m.target.fmt for m in groups[key]],
                options.pdf_variant,
                editions[key].changes,
                options.time_limit,
                known_cut(key),
            )
            for key in start_order
        }

        state = plan.state
        hasher = FileHasher()  # each loaded font or stylesheet hashed once for all the briefs that loaded it

        def write_group(key: tuple[str, str], outcome: Rendered | BaseException) -> None:
            """Write one brief's outputs (each format on its own), record them, and report."""
            members = groups[key]
            if isinstance(outcome, Rendered):
                seconds["/".join(key)] = round(outcome.seconds, 3)
                if not outcome.errors and cut_keys[key] is not None:
                    memo: dict[str, Any] = {"key": cut_keys[key], "drop_order": outcome.drop_order}
                    laid_out = [names for names in outcome.assets.values() if names]
                    if laid_out:
                        memo["assets"] = laid_out[0]
                    previous = cuts.get("/".join(key))
                    if not (isinstance(previous, dict) and previous.get("key") == memo["key"]):
                        previous = {}  # found for other inputs: nothing of it holds for these
                    # What this build measured, or else what a build of the same inputs did: a build without
                    # the DOCX keeps LibreOffice's layout, one that laid nothing out the items' heights.
                    for name, measured in (("word_cut", outcome.word_cut), ("heights", outcome.heights)):
                        if measured:
                            memo[name] = measured
                        elif name in previous:
                            memo[name] = previous[name]
                    cuts["/".join(key)] = memo
                    remember_cut(*key, outcome.drop_order)
            for member in members:
                target = member.target
                if isinstance(outcome, BaseException):
                    result = TargetResult(target, "failed", member.reasons, error=str(outcome))
                elif target.fmt in outcome.errors:
                    error = outcome.errors[target.fmt]
                    result = TargetResult(target, "failed", member.reasons, error=error, pages=outcome.pages)
                elif (refusal := _write_refused(target.path, options.out_dir, outcome.files[target.fmt])) is not None:
                    result = TargetResult(target, "failed", member.reasons, error=refusal)
                else:
                    # Stamped with what its layouts loaded, not what was planned: the next plan finds these again.
                    fetched = outcome.assets.get(target.fmt, [])
                    member.stamp = member.stamp.with_assets(loaded_assets(options.dirs, fetched) or [], hasher)
                    state["targets"][target.name] = {
                        "digest": member.stamp.digest,
                        "inputs": member.stamp.inputs,
                        "options": member.stamp.options,
                        "assets": fetched,
                        # How a reader names the brief (the preview's index): recorded with what it read.
                        "titles": {
                            "dataset": plan.datasets[key[0]].dataset.info.title,
                            "audience": plan.audiences[key[1]].audience.title,
                        },
                        # What was written: the preview serves a file only while it holds these bytes.
                        "output": hashlib.sha256(outcome.files[target.fmt]).hexdigest(),
                    }
                    # What fitting left out is said once per brief, not once per format (issue 12).
                    told = any(r.dropped for r in results if (r.target.dataset, r.target.audience) == key)
                    dropped = [] if told else outcome.dropped
                    result = TargetResult(
                        target,
                        "built",
                        member.reasons,
                        pages=outcome.pages,
                        dropped=dropped,
                        note=outcome.notes.get(target.fmt),
                        also_dropped=outcome.extra_dropped.get(target.fmt, []),
                    )
                results.append(result)
                if progress:
                    progress(result)
            if any(r.status == "built" for r in results[-len(members) :]):
                # After the outputs, before the state: a build killed in between records it next time.
                editions[key].record()

        input_problems: list[Problem] = []
        held: dict[tuple[str, str], Rendered | BuildError] = {}
        for key, done in executor.map_groups(render_isolated, calls):
            if isinstance(done, list):
                input_problems += done
            elif options.stream:
                write_group(key, done)  # a watcher shows each brief as soon as it is ready
            else:
                held[key] = done
        if input_problems and not options.stream:
            raise InputError(sorted(set(input_problems), key=str))  # bad input: nothing written
        if groups and not options.stream:
            # Only now, past the last bad input: a build that exits 2 leaves output/ as it was (issue 19).
            forget(options.out_dir)
        for key in groups:
            if key in held:
                write_group(key, held[key])

        if groups:
            state["tool"] = __version__
            write_atomic(
                options.out_dir / STATE_DIR / STATE_FILE,
                json.dumps(state, indent=1, sort_keys=True).encode("utf-8"),
            )
        if input_problems:
            written = sum(1 for r in results if r.status == "built")
            raise InputError(sorted(set(input_problems), key=str), written=written)
        all_good = all(r.status != "failed" for r in results)
        # Fingerprinted again (last, as it costs a few ms): an input saved while this ran may not be what it read.
        if options.fingerprint is not None and all_good and _fingerprint(options) == options.fingerprint:
            outputs = [str(p.target.path) for p in plan.targets]
            write_atomic(record_path(options.out_dir), record_bytes(options.out_dir, options.fingerprint, outputs))
    plan_order = {p.target.name: i for i, p in enumerate(plan.targets)}
    results.sort(key=lambda r: plan_order[r.target.name])
    return Report(results, time.perf_counter() - started)

"""The benchmark suite (issue 8): every measure in fresh subprocesses, median and spread over runs.

Usage: python -m bench [--runs N] [--only NAME,...] [--briefs N] [--json FILE]
Names: import, full, floor (with the forced PDF build), fitted, formats (Word and HTML against pandoc), noop, edit,
watch, many, stages; and, only when asked (--only cluster, needs the [dask] extra), cluster: --jobs 2 against a
2-worker Dask LocalCluster.
See docs/performance.md.
Everything is written under a temporary folder that is removed at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.datasets import SHIPPED, generate

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
BUILD = [PY, str(REPO / "build.py")]
NAMES = ("import", "full", "floor", "fitted", "formats", "noop", "edit", "watch", "many", "stages", "cluster")
DEFAULT = NAMES[:-1]  # the cluster measure takes ~10 minutes and Dask: only when asked

SMALL_AUDIENCE = """\
# A one-page brief (the BLUF alone) for the cluster measure: many briefs in little time.
title: Note
formats: [pdf, md]
sections: [bluf]
"""


@dataclass
class Sample:
    """One run of one command."""

    wall: float  # seconds, start to exit
    cpu: float  # user + system seconds of the process and every child it waited for
    maxrss_mb: float  # the largest single process in the tree (wait4's ru_maxrss)
    tree_mb: float  # the largest sum of PSS over the process tree at any 20 ms sample (shared pages once)
    stdout: str = ""


@dataclass
class Measure:
    """A named measure: its samples and the command that reproduces one run."""

    name: str
    command: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    def stat(self, attr: str) -> tuple[float, float, float]:
        values = [getattr(s, attr) for s in self.samples]
        return statistics.median(values), min(values), max(values)


def _pss_kb(pid: int) -> int:
    """A process's proportional set size: pages shared with its parent (a forked worker) count once in all."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


class TreeSampler(threading.Thread):
    """The peak of the summed PSS of a process and its descendants, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in _tree(self.pid)))
            self.done.wait(0.02)


def run(cmd: Sequence[str], *, check: bool = True, cwd: Path = REPO) -> Sample:
    """Run ``cmd`` to completion in a fresh process; time it and measure its memory."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.done.set()
    sampler.join()
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{out[-3000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Sample(wall, cpu, usage.ru_maxrss / 1024, sampler.peak_kb / 1024, out)


def _edit_record(path: Path, original: str, after: str, n: int) -> None:
    """Write ``original`` with one record changed: a word new each time (``n``) put after ``after``.

    After a key ending a line (``keywords:``) the word is a new first list item; else it opens the text.
    """
    insert = f"    - bench{n}\n" if after.endswith(":\n") else f"Bench{n} "
    assert after in original, (path, after)
    path.write_text(original.replace(after, after + insert, 1), encoding="utf-8")


def shown(cmd: Sequence[str], tmp: Path) -> str:
    """A command as a reader would type it from the repository root."""
    text = " ".join(str(c) for c in cmd).replace(PY, ".venv/bin/python").replace(str(REPO) + "/", "")
    return text.replace(str(tmp), "$TMP")


class Suite:
    """The measures, run one after another in one temporary folder."""

    def __init__(
        self, tmp: Path, runs: int, briefs: int, many_audience: str, jobs: list[int], say: Callable[[str], None]
    ):
        self.tmp, self.runs, self.briefs, self.many_audience, self.jobs, self.say = (
            tmp,
            runs,
            briefs,
            many_audience,
            jobs,
            say,
        )
        self.measures: list[Measure] = []
        self.extra: dict[str, Any] = {}
        self.cluster_briefs, self.cluster_runs = 1000, 1
        self._n = 0

    def fresh(self, stem: str) -> Path:
        self._n += 1
        return self.tmp / f"{stem}-{self._n}"

    def measure(
        self,
        name: str,
        cmd: Sequence[str],
        runs: int | None = None,
        before: Callable[[], Any] | None = None,
        note: str = "",
    ) -> Measure:
        m = Measure(name, shown(cmd, self.tmp), note=note)
        for _ in range(runs or self.runs):
            if before is not None:
                before()
            m.samples.append(run(cmd))
        return self.add(m)

    def add(self, m: Measure) -> Measure:
        """Record a measure whose samples are taken, and say its figures."""
        self.measures.append(m)
        med, lo, hi = m.stat("wall")
        self.say(f"  {m.name}: median {med:.2f} s ({lo:.2f}–{hi:.2f}), peak {m.stat('tree_mb')[2]:.0f} MB")
        return m

    # --- the measures -----------------------------------------------------------------------------

    def bench_import(self) -> None:
        self.say("imports")
        self.measure("python start (nothing imported)", [PY, "-c", "pass"])
        self.measure("import briefs.cli", [PY, "-c", "import briefs.cli"])
        self.measure("import weasyprint", [PY, "-c", "import weasyprint"])
        probe = run([PY, "-X", "importtime", "-c", "import briefs.cli"], check=True)
        self.extra["importtime_briefs_cli"] = _importtime(probe.stdout)

    def bench_full(self) -> None:
        self.say("cold full build (every audience, PDF and Markdown)")
        outs: list[Path] = []

        def new_out() -> None:
            outs.append(self.fresh("full"))
            cmd[-1] = str(outs[-1])

        cmd = [*BUILD, "-q", "--jobs", "1", "--out", "OUT"]
        m = self.measure("cold full build, --jobs 1", cmd, before=new_out)
        m.command = shown(cmd[:-1], self.tmp) + " $(mktemp -d)"
        cmd = [*BUILD, "-q", "--out", "OUT"]
        m = self.measure("cold full build", cmd, before=new_out)
        m.command = shown(cmd[:-1], self.tmp) + " $(mktemp -d)"
        self.full_out = outs[-1]
        self.extra["full_targets"] = _summary_line(m.samples[-1].stdout)

    def bench_floor(self) -> None:
        self.say("forced PDF build against the floor (WeasyPrint alone on the same HTML)")
        html_out = self.fresh("html")
        run([*BUILD, "-q", "--format", "html", "--out", str(html_out)])
        files = sorted(str(p) for p in html_out.rglob("*.html"))
        self.extra["floor_files"] = len(files)
        floor_cmd = [PY, "-m", "bench.floor", str(self.fresh("floor")), *files]
        floor = self.measure("floor: WeasyPrint alone, same HTML", floor_cmd)
        floor.command = shown([PY, "-m", "bench.floor", "$TMP/floor"], self.tmp) + " $TMP/html/*/*.html"
        self.extra["floor_inside"] = [json.loads(s.stdout.strip().splitlines()[-1]) for s in floor.samples]
        fonttools = self.measure("floor with fontTools subsetting", [*floor_cmd[:3], "--fonttools", *floor_cmd[3:]])
        fonttools.command = floor.command.replace("bench.floor", "bench.floor --fonttools")
        self.extra["floor_fonttools_inside"] = [
            json.loads(s.stdout.strip().splitlines()[-1]) for s in fonttools.samples
        ]
        out = self.fresh("forced")
        run([*BUILD, "-q", "--format", "pdf", "--out", str(out)])
        self.measure("forced PDF build", [*BUILD, "-q", "--format", "pdf", "--force", "--out", str(out)])

    def bench_fitted(self) -> None:
        # Issue 27: one brief built cold (a new output folder: no cut of its own; the user's cache folder holds
        # what earlier builds kept, the last cut found for the brief among it, which fitting starts from and
        # confirms) and built as the first on a machine (an empty cache folder: fitting searches), each against
        # WeasyPrint laying out its final HTML once, each a whole process (both import WeasyPrint).
        self.say("a cold brief against one layout of its final HTML")
        html_out = self.fresh("html")
        run([*BUILD, "-q", "--format", "html", "--out", str(html_out)])
        for audience in ("principal", "congress", "public", "desk"):
            html = html_out / SHIPPED.name / f"{audience}.html"
            floor_cmd = [PY, "-m", "bench.floor", str(self.fresh("floor")), str(html)]
            floor = self.measure(f"one layout of {audience}'s final HTML", floor_cmd)
            cmd = [*BUILD, "-q", "--audience", audience, "--format", "pdf", "--jobs", "1", "--out", "OUT"]

            def new_out(cmd: list[str] = cmd) -> None:
                cmd[-1] = str(self.fresh("cold"))

            m = self.measure(f"cold build of {audience} alone (PDF)", cmd, before=new_out)
            m.command = shown(cmd[:-1], self.tmp) + " $(mktemp -d)"
            ratio = m.stat("wall")[0] / floor.stat("wall")[0]
            self.extra[f"cold {audience} / one layout"] = round(ratio, 2)
            self.say(f"  {audience}: {ratio:.2f} x one layout")
            # The first build on a machine: an empty cache folder too, so no kept notes, templates, fonts or
            # cut to start fitting from (a new folder on a machine that has built the brief has them).
            first = ["env", "BRIEFS_CACHE_DIR=CACHE", *cmd]

            def new_machine(first: list[str] = first) -> None:
                first[1] = f"BRIEFS_CACHE_DIR={self.fresh('cache')}"
                first[-1] = str(self.fresh("cold"))

            m = self.measure(f"first build of {audience} on a machine (PDF, empty cache)", first, before=new_machine)
            m.command = "BRIEFS_CACHE_DIR=$(mktemp -d) " + shown(cmd[:-1], self.tmp) + " $(mktemp -d)"
            ratio = m.stat("wall")[0] / floor.stat("wall")[0]
            self.extra[f"first build of {audience} on a machine / one layout"] = round(ratio, 2)
            self.say(f"  {audience}, empty cache: {ratio:.2f} x one layout")

    def bench_formats(self) -> None:
        # Issue 27: Word and HTML from known cuts (and, for Word, LibreOffice's remembered page counts)
        # against pandoc alone turning the same Markdown into the same format, each a whole run, side by side.
        import pypandoc  # type: ignore[import-untyped]

        from briefs.formats.docx import PANDOC_READER

        self.say("forced Word and HTML builds from known cuts against pandoc alone on the same Markdown")
        out = self.fresh("formats")
        run([*BUILD, "-q", "--format", "md", "--format", "html", "--format", "docx", "--out", str(out)])
        pandoc = pypandoc.get_pandoc_path()
        mds = sorted((out / SHIPPED.name).glob("*.md"))
        floor_dir = self.fresh("pandoc")
        floor_dir.mkdir(parents=True)
        for fmt in ("docx", "html"):
            steps = []
            for md in mds:
                args = [pandoc, "-f", PANDOC_READER, "-t", fmt, "-o", str(floor_dir / f"{md.stem}.{fmt}"), str(md)]
                if fmt == "docx":
                    args.insert(5, f"--reference-doc={REPO / 'templates' / 'audiences' / f'{md.stem}.reference.docx'}")
                else:
                    args.insert(5, "--standalone")
                steps.append(" ".join(f"'{a}'" for a in args))
            floor = self.measure(f"pandoc alone, {len(mds)} Markdown briefs to {fmt}", ["sh", "-c", " && ".join(steps)])
            floor.command = f"pandoc -f {PANDOC_READER} -t {fmt} … (each of the {len(mds)} Markdown briefs)"
            m = self.measure(
                f"forced {fmt} build, known cuts", [*BUILD, "-q", "--format", fmt, "--force", "--out", str(out)]
            )
            ratio = m.stat("wall")[0] / floor.stat("wall")[0]
            self.extra[f"forced {fmt} / pandoc alone"] = round(ratio, 2)
            self.say(f"  {fmt}: {ratio:.2f} x pandoc alone")

    def bench_noop(self) -> None:
        self.say("no-op build")
        out = getattr(self, "full_out", None)
        if out is None:
            out = self.fresh("full")
            run([*BUILD, "-q", "--out", str(out)])
        m = self.measure("no-op build", [*BUILD, "-q", "--out", str(out)])
        self.extra["noop_summary"] = _summary_line(m.samples[-1].stdout)
        probe = run(
            [
                PY,
                "-c",
                "import sys; from briefs.cli import main; main(['-q', '--out', sys.argv[1]]); "
                "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                "('weasyprint', 'jinja2', 'markdown', 'nh3', 'rich', 'pydantic', 'yaml', 'watchfiles', 'fontTools')"
                " and '.' not in m))",
                str(out),
            ]
        )
        self.extra["noop_heavy_modules"] = probe.stdout.strip().splitlines()[-1]

    def bench_edit(self) -> None:
        # Issue 27: a brief's stamp covers the records it can show, so a comment rebuilds nothing, a quote's
        # wording (quotes: the desk memo alone) rebuilds desk, and a keyword (info: every brief) all four.
        # Each record edit is timed against WeasyPrint laying out the final HTML of the briefs it rebuilt
        # once (bench.floor, one process), the two interleaved run by run (target: <= 1.3 x).
        for label, file, edit_at in (
            ("build after a comment line in a data file", "indicators.yaml", None),
            ("build after editing one record only desk shows (a quote)", "quotes.yaml", "    context: >-\n      "),
            ("build after editing one record every brief shows (a keyword)", "dataset.yaml", "  keywords:\n"),
        ):
            self.say(label)
            data = self.fresh("data")
            shutil.copytree(SHIPPED, data / SHIPPED.name)
            out = self.fresh("edit")
            cmd = [*BUILD, "-q", "--data", str(data), "--out", str(out)]
            run(cmd)
            edited = data / SHIPPED.name / file
            original = edited.read_text(encoding="utf-8")
            count = iter(range(10**6))

            def edit(
                edited: Path = edited, original: str = original, edit_at: str | None = edit_at, count: Any = count
            ) -> None:
                n = next(count)
                if edit_at is None:
                    with edited.open("a", encoding="utf-8") as f:
                        f.write(f"# bench edit {n}\n")
                else:
                    _edit_record(edited, original, edit_at, n)

            floor: Measure | None = None
            if edit_at is not None:
                # One edit, not timed, says which briefs such an edit rebuilds; their final HTML is the floor's.
                before = {p: p.stat().st_mtime_ns for p in (out / SHIPPED.name).glob("*.pdf")}
                edit()
                run(cmd)
                rebuilt = sorted(p.stem for p, mtime in before.items() if p.stat().st_mtime_ns != mtime)
                html_out = self.fresh("html")
                run([*BUILD, "-q", "--data", str(data), "--format", "html", "--out", str(html_out)])
                files = [str(html_out / SHIPPED.name / f"{stem}.html") for stem in rebuilt]
                floor_cmd = [PY, "-m", "bench.floor", str(self.fresh("floor")), *files]
                floor = Measure(f"one layout of what it rebuilt ({', '.join(rebuilt)})", shown(floor_cmd, self.tmp))
            m = Measure(label, shown(cmd, self.tmp))
            for _ in range(self.runs):
                edit()
                m.samples.append(run(cmd))
                if floor is not None:
                    floor.samples.append(run(floor_cmd))
            for each in (m, floor) if floor is not None else (m,):
                self.add(each)
            self.extra[f"edit_summary: {label}"] = _summary_line(m.samples[-1].stdout)
            if floor is not None:
                ratio = m.stat("wall")[0] / floor.stat("wall")[0]
                cpu = m.stat("cpu")[0] / floor.stat("cpu")[0]  # the build may use two workers; the floor one
                self.extra[f"{label} / one layout of what it rebuilt"] = f"{ratio:.2f} × wall, {cpu:.2f} × CPU"
                self.say(f"  {ratio:.2f} x one layout of what it rebuilt ({cpu:.2f} x in CPU)")

    def bench_watch(self) -> None:
        self.say("watch: saved edit -> new principal.pdf")
        for label, extra in (("every audience", []), ("--audience principal", ["--audience", "principal"])):
            m = self._watch(label, extra)
            if m is not None:
                self.measures.append(m)

    def _watch(self, label: str, extra: list[str]) -> Measure | None:
        data = self.fresh("watchdata")
        shutil.copytree(SHIPPED, data / SHIPPED.name)
        out = self.fresh("watch")
        cmd = [*BUILD, "watch", "--data", str(data), "--out", str(out), *extra]
        target = out / SHIPPED.name / "principal.pdf"
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        summaries = threading.Semaphore(0)

        def reader() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if " built, " in line and " failed in " in line:
                    summaries.release()

        threading.Thread(target=reader, daemon=True).start()
        m = Measure(f"watch: edit -> principal.pdf ({label})", shown(cmd, self.tmp))
        try:
            if not summaries.acquire(timeout=300) or not target.exists():
                self.say(f"  watch ({label}): no first build within 300 s; output:\n{''.join(lines)[-2000:]}")
                return None
            edited = data / SHIPPED.name / "dataset.yaml"
            original = edited.read_text(encoding="utf-8")
            for i in range(self.runs):
                time.sleep(0.5)  # let the watcher settle after its build
                before = target.stat()
                # A record principal shows (a comment would rebuild nothing since issue 27).
                _edit_record(edited, original, "  keywords:\n", i)
                t0 = time.perf_counter()
                while True:
                    now = target.stat() if target.exists() else before
                    if (now.st_ino, now.st_mtime_ns) != (before.st_ino, before.st_mtime_ns):
                        break
                    if time.perf_counter() - t0 > 300:
                        raise RuntimeError("watch did not rebuild principal.pdf within 300 s")
                    time.sleep(0.005)
                wall = time.perf_counter() - t0
                summaries.acquire(timeout=300)  # the whole rebuild is over before the next edit
                m.samples.append(Sample(wall, 0.0, 0.0, max(sum(_pss_kb(p) for p in _tree(proc.pid)) / 1024, 0)))
            med, lo, hi = m.stat("wall")
            self.say(f"  watch ({label}): median {med:.2f} s ({lo:.2f}–{hi:.2f})")
            return m
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    def bench_many(self) -> None:
        self.say(f"{self.briefs} briefs ({self.many_audience}, PDF) with --jobs {', '.join(map(str, self.jobs))}")
        data = self.tmp / "many-data"
        if not data.exists():
            generate(data, self.briefs)
        for jobs in self.jobs:
            outs: list[Path] = []

            def new_out() -> None:
                outs.append(self.fresh("many"))  # noqa: B023
                cmd[-1] = str(outs[-1])  # noqa: B023

            cmd = [
                *BUILD,
                "-q",
                "--data",
                str(data),
                "--audience",
                self.many_audience,
                "--format",
                "pdf",
                "--jobs",
                str(jobs),
                "--out",
                "OUT",
            ]
            m = self.measure(f"{self.briefs} briefs, --jobs {jobs}", cmd, before=new_out)
            m.command = shown(cmd[:-1], self.tmp) + " $(mktemp -d)"
            m.command = f"python -m bench.datasets {self.briefs} $TMP/many-data && " + m.command
            for o in outs[:-1]:
                shutil.rmtree(o, ignore_errors=True)

    def bench_cluster(self) -> None:
        """``cluster_briefs`` small briefs: this machine's --jobs 2 against a 2-worker Dask LocalCluster (issue 18)."""
        from distributed import LocalCluster

        briefs = self.cluster_briefs
        self.say(f"{briefs} small briefs (PDF + Markdown): --jobs 2 against a 2-worker Dask LocalCluster")
        data, templates = self.tmp / "cluster-data", self.tmp / "cluster-templates"
        if not data.exists():
            generate(data, briefs)
        (templates / "audiences").mkdir(parents=True, exist_ok=True)
        (templates / "audiences" / "note.yaml").write_text(SMALL_AUDIENCE, encoding="utf-8")
        base = [*BUILD, "-q", "--data", str(data), "--templates", str(templates), "--audience", "note", "--jobs", "2"]
        outs: list[Path] = []

        def new_out(cmd: list[str]) -> Callable[[], None]:
            def before() -> None:
                outs.append(self.fresh("cluster"))
                cmd[-1] = str(outs[-1])

            return before

        def note_command(m: Measure, cmd: list[str]) -> None:
            m.command = f"python -m bench.datasets {briefs} $TMP/cluster-data && " + shown(cmd[:-1], self.tmp)
            m.command += " $(mktemp -d)"

        local = [*base, "--out", "OUT"]
        m = self.measure(f"{briefs} small briefs, --jobs 2", local, runs=self.cluster_runs, before=new_out(local))
        note_command(m, local)
        cluster = LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        )
        try:
            remote = [*base, "--scheduler", cluster.scheduler_address, "--out", "OUT"]
            m = self.measure(
                f"{briefs} small briefs, 2-worker Dask LocalCluster",
                remote,
                runs=self.cluster_runs,
                before=new_out(remote),
                note="the workers' CPU and memory are not in this row: they are the cluster's processes",
            )
            note_command(m, remote)
            m.command = m.command.replace(cluster.scheduler_address, "tcp://127.0.0.1:PORT")
        finally:
            cluster.close()
        same = all(_same_outputs(outs[0], o) for o in outs[1:])
        self.extra["cluster outputs byte-identical to --jobs 2"] = same
        for o in outs:
            shutil.rmtree(o, ignore_errors=True)

    def bench_stages(self) -> None:
        self.say("stage breakdown of one brief")
        for audience in ("principal", "congress", "desk"):
            s = run([PY, "-m", "bench.stages", "--audience", audience, "--runs", str(max(self.runs, 2))])
            self.extra[f"stages_{audience}"] = json.loads(s.stdout.strip().splitlines()[-1])


def _same_outputs(a: Path, b: Path) -> bool:
    """Whether two output folders hold the same briefs, byte for byte (the build's own records aside)."""

    def briefs(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and p.suffix in (".pdf", ".md") and ".editions" not in p.parts and ".briefs" not in p.parts
        }

    return briefs(a) == briefs(b)


def _summary_line(text: str) -> str:
    lines = [line for line in text.splitlines() if " built, " in line]
    return lines[-1] if lines else text.strip()[-200:]


def _importtime(stderr: str) -> list[tuple[str, float]]:
    """The heaviest top-level imports of an `-X importtime` trace, cumulative milliseconds."""
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line.split("|"))
            if cumulative.isdigit():
                rows.append((name.strip(), int(cumulative) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:25]


def machine() -> dict[str, Any]:
    """Where the figures came from."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    versions = subprocess.run(
        [
            PY,
            "-c",
            "import weasyprint, pydyf, sys; print(sys.version.split()[0], weasyprint.__version__, pydyf.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_mb": mem,
        "python": versions[0],
        "weasyprint": versions[1],
        "pydyf": versions[2],
        "loadavg_start": os.getloadavg(),
    }


def _load(values: Sequence[float]) -> str:
    return " ".join(f"{x:.2f}" for x in values)


def report(suite: Suite, info: dict[str, Any]) -> str:
    """The table of figures, as Markdown."""
    lines = [
        f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram_mb']} MB RAM; Python {info['python']}, "
        f"WeasyPrint {info['weasyprint']}, pydyf {info['pydyf']}; load average at start "
        f"{_load(info['loadavg_start'])}, at end {_load(info['loadavg_end'])}",
        "",
        "| measure | runs | wall median (min–max) | CPU median | peak: largest RSS / tree PSS | command |",
        "|---|---|---|---|---|---|",
    ]
    for m in suite.measures:
        med, lo, hi = m.stat("wall")
        cpu = m.stat("cpu")[0]
        largest, tree = m.stat("maxrss_mb")[2], m.stat("tree_mb")[2]
        rss = f"{f'{largest:.0f}' if largest else '–'} / {f'{tree:.0f}' if tree else '–'} MB"
        lines.append(
            f"| {m.name} | {len(m.samples)} | {med:.2f} s ({lo:.2f}–{hi:.2f}) | "
            f"{f'{cpu:.2f} s' if cpu else '–'} | {rss} | `{m.command}` |"
        )
    by_name = {m.name: m for m in suite.measures}
    lines.append("")
    lines += [f"- {m.name}: {m.note}" for m in suite.measures if m.note]
    cluster = [m for m in suite.measures if m.name.startswith(f"{suite.cluster_briefs} small briefs")]
    if len(cluster) == 2:
        local, dask = (m.stat("wall")[0] / suite.cluster_briefs * 1000 for m in cluster)
        lines.append(
            f"- Dask LocalCluster / --jobs 2: {dask / local:.2f} × the wall time; "
            f"per brief {local:.0f} ms (--jobs 2), {dask:.0f} ms (Dask)"
        )
    if "forced PDF build" in by_name and "floor: WeasyPrint alone, same HTML" in by_name:
        ratio = (
            by_name["forced PDF build"].stat("wall")[0] / by_name["floor: WeasyPrint alone, same HTML"].stat("wall")[0]
        )
        cpu_ratio = (
            by_name["forced PDF build"].stat("cpu")[0] / by_name["floor: WeasyPrint alone, same HTML"].stat("cpu")[0]
        )
        lines.append(f"- forced PDF build / floor: {ratio:.2f} × wall, {cpu_ratio:.2f} × CPU (issue 27 target ≤ 1.0)")
    if "no-op build" in by_name and "cold full build" in by_name:
        noop, full = by_name["no-op build"].stat("wall")[0], by_name["cold full build"].stat("wall")[0]
        lines.append(f"- no-op / full build: {noop / full:.1%} (target < 10%), no-op {noop:.2f} s (target < 0.2 s)")
    jobs = [m for m in suite.measures if m.name.startswith(f"{suite.briefs} briefs, --jobs")]
    if len(jobs) >= 2:
        lines.append(
            f"- {jobs[0].name} / {jobs[1].name}: "
            f"{jobs[0].stat('wall')[0] / jobs[1].stat('wall')[0]:.2f} × faster (target ≥ 1.6)"
        )
    for key, value in suite.extra.items():
        if key.startswith("stages_"):
            lines += [
                "",
                f"stage breakdown, {value['dataset']}/{value['audience']} ({value['pages']} pages, "
                f"{value['layout_passes']} layout passes in the build):",
                "",
                "| stage | cold (first pass) | warm median (min–max) |",
                "|---|---|---|",
            ]
            for stage, cold in value["cold"].items():
                lines.append(
                    f"| {stage} | {cold * 1000:.0f} ms | {value['warm_median'][stage] * 1000:.0f} ms "
                    f"({value['warm_min'][stage] * 1000:.0f}–{value['warm_max'][stage] * 1000:.0f}) |"
                )
        elif key == "importtime_briefs_cli":
            lines += [
                "",
                "heaviest imports of `import briefs.cli` (cumulative ms): "
                + ", ".join(f"{n} {ms:.0f}" for n, ms in value[:12]),
            ]
        else:
            lines.append(f"- {key}: {value}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; print the table (and write JSON with --json)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each measure (default 3)")
    parser.add_argument("--only", default=",".join(DEFAULT), help=f"comma-separated: {','.join(NAMES)}")
    parser.add_argument("--briefs", type=int, default=100, help="datasets for the many-briefs measure (default 100)")
    parser.add_argument("--many-audience", default="principal", help="the audience built for each of them")
    parser.add_argument("--jobs", default="1,2", help="--jobs values for the many-briefs measure (default 1,2)")
    parser.add_argument("--cluster-briefs", type=int, default=1000, help="briefs for the cluster measure (1000)")
    parser.add_argument("--cluster-runs", type=int, default=1, help="runs of each cluster measure (default 1)")
    parser.add_argument("--json", type=Path, help="also write every sample to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    wanted = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in NAMES]
    if unknown:
        parser.error(f"unknown measure(s) {unknown}; expected {NAMES}")

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        # An installed package runs from its compiled modules; with this set, every run compiles the briefs
        # package from source (~40 ms a process), which no user's build pays.
        say("PYTHONDONTWRITEBYTECODE unset for the measured runs: they use compiled modules, as an install does")
    info = machine()
    tmp = Path(tempfile.mkdtemp(prefix="briefs-bench-"))
    suite = Suite(tmp, args.runs, args.briefs, args.many_audience, [int(j) for j in args.jobs.split(",")], say)
    suite.cluster_briefs, suite.cluster_runs = args.cluster_briefs, args.cluster_runs
    try:
        for name in NAMES:
            if name in wanted:
                getattr(suite, f"bench_{name}")()
    finally:
        if args.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    info["loadavg_end"] = os.getloadavg()
    print(report(suite, info))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "measures": [
                        {"name": m.name, "command": m.command, "samples": [vars(s) | {"stdout": ""} for s in m.samples]}
                        for m in suite.measures
                    ],
                    "extra": suite.extra,
                },
                indent=1,
            )
        )
    return 0

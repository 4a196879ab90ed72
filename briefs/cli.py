"""Command line: arguments, logging, exit codes. ``main(argv)`` so tests drive it in-process.

Exit status: 0 done; 2 bad input (data, template, audience file, usage) and nothing written;
1 a build that failed for another reason.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from briefs import __version__
from briefs.errors import BriefsError, InputError
from briefs.fastpath import FORMATS, fingerprint, summary_line, up_to_date
from briefs.limits import DEFAULT_SECONDS
from briefs.pdf import PDF_VARIANTS

if TYPE_CHECKING:  # the build's modules (pydantic, Jinja, YAML) are imported only past the no-op fast path
    from briefs.build import Options, PlannedTarget, Report, TargetResult

log = logging.getLogger("briefs")

COMMANDS = ("build", "check", "list", "watch", "schedule")
EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as input errors (exit 2) in one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"usage: {message} (see {self.prog} --help)")


def _common(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("inputs and outputs")
    g.add_argument("--data", type=Path, default=Path("data"), metavar="DIR", help="folder of datasets (default: data/)")
    g.add_argument(
        "--templates",
        type=Path,
        metavar="DIR",
        help="your own templates folder, laid out like templates/ and searched first; may add audiences",
    )
    g.add_argument("--out", type=Path, default=Path("output"), metavar="DIR", help="output folder (default: output/)")
    s = parser.add_argument_group("selection (each repeatable; default: all)")
    s.add_argument("--dataset", action="append", default=[], metavar="ID", help="only this dataset")
    s.add_argument("--audience", action="append", default=[], metavar="ID", help="only this audience")
    s.add_argument(
        "--format",
        action="append",
        default=[],
        metavar="FMT",
        help=f"only this format: {'|'.join(FORMATS)} (html is the PDF's intermediate, written only when asked)",
    )
    s.add_argument(
        "--shard",
        type=_shard,
        metavar="I/N",
        help="only the I-th of N stable shares of the briefs (by dataset and audience), e.g. for a CI matrix",
    )
    o = parser.add_argument_group("logging")
    o.add_argument("-v", "--verbose", action="store_true", help="say more: every target and why")
    o.add_argument("-q", "--quiet", action="store_true", help="only errors and the summary line")
    o.add_argument("--debug", action="store_true", help="debug logging, and tracebacks on errors")


def _build_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("build")
    g.add_argument("--force", action="store_true", help="rebuild every target, stale or not")
    g.add_argument("--explain", action="store_true", help="say why each target is or is not rebuilt")
    g.add_argument(
        "--pdf-variant", choices=PDF_VARIANTS, metavar="VARIANT", help=f"PDF variant: {', '.join(PDF_VARIANTS)}"
    )
    g.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="render N briefs at once, in worker processes (default: the number of CPUs)",
    )
    _time_limit(g, "stop rendering a brief after this long: it fails, others go on")
    g.add_argument(
        "--executor",
        choices=("local", "dask"),
        default=os.environ.get("BRIEFS_EXECUTOR") or None,
        help="where briefs render: local worker processes (default) or a Dask cluster (env BRIEFS_EXECUTOR)",
    )
    g.add_argument(
        "--scheduler",
        default=os.environ.get("BRIEFS_SCHEDULER") or None,
        metavar="ADDRESS",
        help="the Dask scheduler, tcp://HOST:8786; implies --executor dask (env BRIEFS_SCHEDULER)",
    )


def _shard(text: str) -> tuple[int, int]:
    from briefs.shard import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _time_limit(group: argparse._ArgumentGroup, what: str) -> None:
    group.add_argument(
        "--time-limit",
        type=float,
        default=DEFAULT_SECONDS,
        metavar="SECONDS",
        help=f"{what} (default: {DEFAULT_SECONDS:g}; 0: none)",
    )


def make_parser() -> argparse.ArgumentParser:
    """The argument parser; the README's option list is generated from it."""
    parser = _Parser(
        prog="build.py",
        description="Build policy briefing memos (PDF and Markdown) from sourced YAML data and Jinja templates.",
        epilog="With no command, 'build'. Exit status: 0 done, 2 bad input (nothing written), 1 build failed.",
    )
    parser.add_argument("--version", action="version", version=f"briefs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p = sub.add_parser("build", help="build every stale brief (the default)", description="Build every stale brief.")
    _common(p)
    _build_options(p)
    p = sub.add_parser(
        "check",
        help="validate data, audiences and templates; write nothing",
        description="Validate everything; write nothing.",
    )
    _common(p)
    _time_limit(p.add_argument_group("check"), "stop rendering a brief's templates after this long (exit 1)")
    p = sub.add_parser(
        "list",
        help="show every target, stale or not, and why",
        description="Show every target and whether it is stale, and why.",
    )
    _common(p)
    p.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
    p = sub.add_parser(
        "watch",
        help="build what is stale, then rebuild whenever data or templates change",
        description="Build what is stale, then rebuild on every change to data/, templates/ and --templates. "
        "Bad input is reported and the last good outputs kept; Ctrl-C or SIGTERM stops it (exit 0).",
    )
    _common(p)
    _build_options(p)
    p = sub.add_parser(
        "schedule",
        help="rebuild what is stale on a timetable: --every 30m or --cron '0 7 * * 1-5'",
        description="A long-running process that at each tick builds what is stale and logs one line. "
        "A tick skips when another build holds the output folder. SIGTERM or Ctrl-C stops it (exit 0).",
    )
    _common(p)
    _build_options(p)
    t = p.add_argument_group("timetable (one of)")
    t.add_argument("--every", metavar="DURATION", help="tick now and then every DURATION: 90s, 30m, 2h, 1d, 1h30m")
    t.add_argument("--cron", metavar="LINE", help='tick at the times of a cron line, local time: "0 7 * * 1-5"')
    return parser


def _options(args: argparse.Namespace) -> Options:
    from briefs.build import Options, default_jobs

    return Options(
        data_dir=args.data,
        out_dir=args.out,
        templates_dir=args.templates,
        datasets=tuple(args.dataset),
        audiences=tuple(args.audience),
        formats=tuple(args.format),
        force=getattr(args, "force", False),
        pdf_variant=getattr(args, "pdf_variant", None),
        jobs=default_jobs() if getattr(args, "jobs", None) is None else args.jobs,
        time_limit=getattr(args, "time_limit", DEFAULT_SECONDS) or None,
        executor=_executor(args),
        scheduler=getattr(args, "scheduler", None),
        shard=args.shard,
    )


def _executor(args: argparse.Namespace) -> str:
    """--executor, or dask when only a scheduler is named."""
    chosen: str | None = getattr(args, "executor", None)
    if chosen is None:
        return "dask" if getattr(args, "scheduler", None) else "local"
    if chosen == "dask" and not getattr(args, "scheduler", None):
        raise InputError("usage: --executor dask needs --scheduler tcp://HOST:PORT (or BRIEFS_SCHEDULER)")
    return chosen


def _setup_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if (args.debug or args.verbose) else logging.WARNING if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if args.debug else "%(message)s"))
    root = logging.getLogger("briefs")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, flush=True)


def _explain_line(p: PlannedTarget) -> str:
    why = "; ".join(p.reasons) if p.reasons else "up to date"
    return f"{p.target.name}: {'rebuild' if p.stale else 'skip'} — {why}"


def _result_line(r: TargetResult) -> str:
    if r.status == "failed":
        return f"FAILED {r.target.name}: {r.error}"
    extra = f" ({r.pages} page{'s' if r.pages != 1 else ''})" if r.pages and r.target.fmt == "pdf" else ""
    if r.dropped:
        extra += f"; dropped to fit: {', '.join(r.dropped)}"
    return f"built {r.target.path}{extra}"


def _fingerprint(args: argparse.Namespace) -> str | None:
    """The no-op fast path's fingerprint of a build command's inputs and target-shaping options.

    Taken from the arguments, not from `briefs.build.Options` (whose module imports pydantic and
    Jinja); `briefs.build._fingerprint` takes the same one from the Options to check it at the end.
    """
    if args.force or args.explain or (args.jobs is not None and args.jobs < 1):
        return None  # always plan (an impossible --jobs is the full build's error to report)
    if args.shard is not None:
        return None  # the no-op record holds for every target; a shard's build checks its own (issue 18)
    return fingerprint(
        data_dir=args.data,
        out_dir=args.out,
        templates_dir=args.templates,
        datasets=args.dataset,
        audiences=args.audience,
        formats=args.format,
        pdf_variant=args.pdf_variant,
    )


def _run_build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    digest = _fingerprint(args)
    outputs = up_to_date(args.out, digest)
    if outputs is not None:
        # Every input is byte for byte what the last good build read: nothing to plan (issue 8).
        if args.verbose:
            _say(args, "every input is unchanged since the last good build (--explain plans anyway)")
            for output in outputs:
                _say(args, f"up to date {output}")
        print(summary_line(0, len(outputs), 0, time.perf_counter() - started), flush=True)
        return EXIT_OK
    from dataclasses import replace

    from briefs.build import build

    options = replace(_options(args), fingerprint=digest)
    stream_is_tty = sys.stdout.isatty() and not args.quiet
    progress = None
    if stream_is_tty:
        from rich.progress import Progress

        bar = Progress(transient=True)

    def on_result(r: TargetResult) -> None:
        if r.status == "up-to-date":
            if args.verbose:
                _say(args, f"up to date {r.target.path}")
            return
        if r.status == "failed":
            print(_result_line(r), file=sys.stderr, flush=True)
        else:
            _say(args, _result_line(r))

    explain = (lambda p: _say(args, _explain_line(p))) if args.explain else None
    if stream_is_tty:
        with bar:
            task = bar.add_task("building", total=None)

            def ticking(r: TargetResult) -> None:
                bar.advance(task)
                on_result(r)

            progress = ticking
            report = build(options, explain=explain, progress=progress)
    else:
        report = build(options, explain=explain, progress=on_result)
    print(_summary(report), flush=True)
    return EXIT_FAILED if report.failed else EXIT_OK


def _summary(report: Report) -> str:
    line = report.summary()
    if report.failed:
        line += "; failed: " + ", ".join(r.target.name for r in report.failed)
    return line


def _run_check(args: argparse.Namespace) -> int:
    from briefs.build import check_templates, make_plan

    plan = make_plan(_options(args))

    check_templates(plan)
    counts = plan.counts()
    parts = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    _say(args, f"ok: {parts}; {len(plan.targets)} targets")
    return EXIT_OK


def _run_list(args: argparse.Namespace) -> int:
    from briefs.build import make_plan
    from briefs.editions import latest_edition

    options = _options(args)
    plan = make_plan(options)
    editions: dict[tuple[str, str], str] = {}
    for p in plan.targets:
        status = "stale" if p.stale else "current"
        why = "; ".join(p.reasons) if p.reasons else "up to date"
        key = (p.target.dataset, p.target.audience)
        if key not in editions:
            edition = latest_edition(options.out_dir, *key)
            editions[key] = edition.label if edition else "no edition yet"
        print(f"{p.target.name:40} {status:8} {editions[key]:32} {why}")
    stale = sum(1 for p in plan.targets if p.stale)
    print(f"{len(plan.targets)} targets, {stale} stale")
    return EXIT_OK


def _stop_on_sigterm() -> tuple[threading.Event, Callable[[], None]]:
    """An event SIGTERM sets (a second SIGTERM interrupts at once), and a function that restores the handler."""
    stop = threading.Event()

    def on_term(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C stops the same way. Setting it explicitly also covers a process started with SIGINT
    # ignored (a background job of a non-interactive shell), where Python installs no handler.
    previous_int = signal.signal(signal.SIGINT, on_term)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)

    return stop, restore


def _run_watch(args: argparse.Namespace) -> int:
    from briefs.watch import watch

    options = _options(args)

    def on_result(r: TargetResult) -> None:
        if r.status == "failed":
            print(_result_line(r), file=sys.stderr, flush=True)
        elif r.status == "built":
            _say(args, _result_line(r))

    stop, restore = _stop_on_sigterm()
    try:
        watch(
            options,
            stop,
            progress=on_result,
            on_report=lambda report: print(_summary(report), flush=True),
            explain=(lambda p: _say(args, _explain_line(p))) if args.explain else None,
        )
    except KeyboardInterrupt:
        log.info("stopped watching")
    finally:
        restore()
    return EXIT_OK


def _run_schedule(args: argparse.Namespace) -> int:
    from briefs.watch import Timetable, schedule

    timetable = Timetable.parse(args.every, args.cron)
    options = _options(args)
    stop, restore = _stop_on_sigterm()
    try:
        schedule(options, timetable, stop)
    except KeyboardInterrupt:
        log.info("schedule stopped")
    finally:
        restore()
    return EXIT_OK


def install_hint(module: str | None) -> str:
    """What to say when run by a Python that lacks a dependency (build.py, python -m briefs)."""
    return (
        f"error: {module!r} is not installed for {sys.executable}; install the tool first "
        "(README, Quick start): python3 -m venv .venv && .venv/bin/pip install -e '.[test]', "
        "then run .venv/bin/python build.py"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "build")
    parser = make_parser()
    debug = "--debug" in args_list
    try:
        args = parser.parse_args(args_list)
        if args.command is None:
            args = parser.parse_args(["build", *args_list])
        _setup_logging(args)
        runner = {
            "build": _run_build,
            "check": _run_check,
            "list": _run_list,
            "watch": _run_watch,
            "schedule": _run_schedule,
        }[args.command]
        return runner(args)
    except BriefsError as exc:
        if debug:
            traceback.print_exc()
        problems = getattr(exc, "problems", None)
        lines = [str(p) for p in problems] if problems else [str(exc)]
        for line in lines:
            print(f"error: {line}", file=sys.stderr)
        if isinstance(exc, InputError):
            print(f"{len(lines)} error{'s' if len(lines) != 1 else ''}; nothing written", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] == "briefs" or debug:
            raise
        # A Python without the dependencies: the heavy imports happen only past the no-op fast path.
        print(install_hint(exc.name), file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILED

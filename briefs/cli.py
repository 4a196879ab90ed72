"""Command line: arguments, logging, exit codes. ``main(argv)`` so tests drive it in-process.

Exit status: 0 done; 2 bad input (data, template, audience file, usage) and nothing written;
1 a build that failed for another reason.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from briefs import __version__
from briefs.formats import FORMATS, PDF_VARIANTS
from briefs.pipeline.fastpath import DEFAULT_SECONDS, counted, fingerprint, summary_line, up_to_date

# Imported where used, not here: a no-op build answers before it needs them (issue 14: `python -X
# importtime build.py` is the whole-process cost). The build's modules (pydantic, Jinja, YAML) and
# WeasyPrint come later still; logging, the error classes (dataclasses), difflib, signal, threading and
# traceback only on the paths that use them (typing too: mypy reads any TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    import threading
    from typing import Any, NoReturn

    from briefs.deliver.mail import SmtpSettings
    from briefs.deliver.send import SendReport, SendResult
    from briefs.pipeline.build import Options, PlannedTarget, Report, TargetResult

COMMANDS = ("build", "check", "list", "watch", "schedule", "send", "serve")
EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, measuring the terminal with `os` rather than importing `shutil`.

    argparse makes a formatter for every option it adds, and the default one imports `shutil` (and
    with it bz2, lzma, fnmatch) to ask the terminal's width: a tenth of a no-op build's imports.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        if width is None:
            width = 80
            with contextlib.suppress(ValueError):
                width = int(os.environ["COLUMNS"]) if "COLUMNS" in os.environ else width
            if "COLUMNS" not in os.environ and sys.__stdout__ is not None:
                with contextlib.suppress(ValueError, OSError):
                    width = os.get_terminal_size(sys.__stdout__.fileno()).columns
            width -= 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as input errors (exit 2) in one line, with a "did you mean"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        from briefs.errors import InputError

        raise InputError(f"usage: {message}{_did_you_mean(self, message)} (see {self.prog} --help)")


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every long option of ``parser`` and of its commands' parsers."""
    found: list[str] = []
    for action in parser._actions:
        found += [o for o in action.option_strings if o.startswith("--")]
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _option_strings(sub)
    return list(dict.fromkeys(found))


def _closest(word: str, choices: Sequence[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return match[0] if match else None


def _did_you_mean(parser: argparse.ArgumentParser, message: str) -> str:
    """ "; did you mean 'build'?" for a mistyped command, option or choice; "" when nothing is close.

    argparse on Python 3.11 has no ``suggest_on_error`` (3.14), so the suggestion is read from its message.
    """
    choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
    if choice:
        close = _closest(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)))
        return f"; did you mean {close!r}?" if close else ""
    unknown = re.search(r"unrecognized arguments: (.*)$", message)
    if not unknown:
        return ""
    options = _option_strings(parser)
    words = [w.split("=", 1)[0] for w in unknown.group(1).split() if w.startswith("--")]
    owners = _option_owners(parser)
    elsewhere = [  # a real option, of other commands than the one run
        f"{word} is an option of {', '.join(repr(c) for c in owners[word])} only"
        f" (e.g. {parser.prog} {owners[word][0]} {word})"
        for word in words
        if word in owners
    ]
    mistyped = [w for w in words if w not in owners]
    hints = []
    for word in mistyped:
        close = _closest(word, options)
        if close:
            hints.append(f"{close} for {word}" if len(mistyped) > 1 else close)
    said = [*elsewhere, f"did you mean {', '.join(hints)}?"] if hints else elsewhere
    return "".join(f"; {s}" for s in said)


def _option_owners(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Each long option that only some commands take: the commands that take it."""
    owners: dict[str, list[str]] = {}
    commands: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands = dict(action.choices)
    for name, sub in commands.items():
        for option in _option_strings(sub):
            owners.setdefault(option, []).append(name)
    return {o: c for o, c in owners.items() if len(c) < len(commands)}


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
        help=f"only this format: {'|'.join(FORMATS)} (html, the PDF's intermediate, and docx: only when asked)",
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
    from briefs.pipeline.shard import parse_shard

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


def _smtp_options(parser: argparse.ArgumentParser, flag: bool) -> None:
    """Mail options (issue 16): the password is read from BRIEFS_SMTP_PASSWORD only, never an option."""
    g = parser.add_argument_group("mail (each option falls back to BRIEFS_SMTP_<NAME>; password: BRIEFS_SMTP_PASSWORD)")
    if flag:
        g.add_argument("--send", action="store_true", help="then mail each new edition to its distribution list")
    g.add_argument("--smtp-host", metavar="HOST", help="SMTP server (BRIEFS_SMTP_HOST)")
    g.add_argument("--smtp-port", type=int, metavar="N", help="port (BRIEFS_SMTP_PORT; default 587, 465 ssl, 25 none)")
    g.add_argument("--smtp-user", metavar="USER", help="log in as USER (BRIEFS_SMTP_USER)")
    g.add_argument(
        "--smtp-tls", choices=("none", "starttls", "ssl"), help="none|starttls|ssl (BRIEFS_SMTP_TLS; default starttls)"
    )
    g.add_argument("--smtp-from", metavar="ADDRESS", help="sender address (BRIEFS_SMTP_FROM; default: the user)")


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
    _smtp_options(p, flag=True)
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
    _smtp_options(p, flag=True)
    p = sub.add_parser(
        "send",
        help="mail each brief's new edition to its audience's distribution list",
        description="Mail each brief's current edition to every recipient in its audience's `distribution:` "
        "who has not had it (the delivery log, output/.briefs/deliveries.json, says who has). "
        "Exit 1 names each recipient that failed.",
    )
    _common(p)
    _smtp_options(p, flag=False)
    d = p.add_argument_group("dry run")
    d.add_argument("--dry-run", action="store_true", help="write the messages as .eml files instead of sending")
    d.add_argument("--outbox", type=Path, metavar="DIR", help="where --dry-run writes (default: OUT/.briefs/outbox/)")
    p = sub.add_parser(
        "serve",
        help="preview every brief in a browser, rebuilt and reloaded on every change (needs the [serve] extra)",
        description="Build what is stale, serve an index of every brief and a live preview of each at "
        "http://127.0.0.1:8000/, and rebuild and reload the open pages on every change to data/, templates/ and "
        "--templates (bad input shows on the page). Ctrl-C or SIGTERM stops it (exit 0).",
    )
    _common(p)
    _build_options(p)
    w = p.add_argument_group("server")
    w.add_argument(
        "--port", type=int, default=8000, metavar="N", help="port to listen on (default: 8000; 0: any free one)"
    )
    w.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="HOST",
        help="address to listen on (default: 127.0.0.1, this machine only; any other is warned about)",
    )
    return parser


def _options(args: argparse.Namespace) -> Options:
    from briefs.pipeline.build import Options, default_jobs

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
        from briefs.errors import InputError

        raise InputError("usage: --executor dask needs --scheduler tcp://HOST:PORT (or BRIEFS_SCHEDULER)")
    return chosen


def _setup_logging(args: argparse.Namespace) -> None:
    import logging

    level = logging.DEBUG if (args.debug or args.verbose) else logging.WARNING if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if args.debug else "%(message)s"))
    root = logging.getLogger("briefs")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _log() -> logging.Logger:
    import logging

    return logging.getLogger("briefs")


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
    extra = f" ({r.note})" if r.note else extra
    line = f"built {r.target.path}{extra}"
    brief = f"{r.target.dataset}/{r.target.audience}"
    if r.dropped:
        line += f"\n  to fit its length, {brief} leaves out:" + "".join(f"\n    - {d}" for d in r.dropped)
    if r.also_dropped:
        line += f"\n  to fit its pages as LibreOffice lays it out, the Word brief {brief} also leaves out:"
        line += "".join(f"\n    - {d}" for d in r.also_dropped)
    return line


def _fingerprint(args: argparse.Namespace) -> str | None:
    """The no-op fast path's fingerprint of a build command's inputs and target-shaping options.

    Taken from the arguments, not from `briefs.pipeline.build.Options` (whose module imports pydantic and
    Jinja); `briefs.pipeline.build._fingerprint` takes the same one from the Options to check it at the end.
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
    _setup_logging(args)
    from dataclasses import replace

    from briefs.pipeline.build import build

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
    from briefs.pipeline.build import make_plan
    from briefs.pipeline.check import check_templates, empty_sections

    plan = make_plan(_options(args))
    from briefs.errors import InputError
    from briefs.formats.docx import reference_problems

    # A build reads reference documents only for --format docx; check reads them always.
    broken = reference_problems(plan.options.dirs, [a.audience for a in plan.audiences.values()], (), every=True)
    if broken:
        raise InputError(broken)
    check_templates(plan)
    from briefs.data.load import dataset_warnings

    # Warnings do not fail the check (exit 0) but are printed even with --quiet: each names file and line.
    warnings = [str(w) for loaded in plan.datasets.values() for w in dataset_warnings(loaded)]
    empty = [str(w) for w in empty_sections(plan)]  # not an error: the data may have nothing for it yet
    for warning in [*warnings, *empty]:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    counts = plan.counts()
    parts = ", ".join(counted(n, kind) for kind, n in counts.items())
    more = f"; {counted(len(warnings), 'warnings')}" if warnings else ""
    _say(args, f"ok: {parts}; {counted(len(plan.targets), 'targets')}{more}")
    return EXIT_OK


def _run_list(args: argparse.Namespace) -> int:
    from briefs.pipeline.build import make_plan
    from briefs.pipeline.editions import latest_edition

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
    print(f"{counted(len(plan.targets), 'targets')}, {stale} stale")
    return EXIT_OK


def _stop_on_sigterm() -> tuple[threading.Event, Callable[[], None]]:
    """An event SIGTERM sets (a second SIGTERM interrupts at once), and a function that restores the handler.

    The handler only flips a flag; a small thread sets the event. Setting a `threading.Event` from
    the handler itself could deadlock: the handler runs in the main thread, which may be inside that
    event's own `wait()` holding its lock (a `schedule` that never stopped on SIGTERM, seen in CI).
    """
    import signal
    import threading
    import time

    stop = threading.Event()
    asked = [0]  # signals received; a plain list item, set without taking any lock
    done = threading.Event()

    def on_term(signum: int, frame: object) -> None:
        asked[0] += 1
        if asked[0] > 1:
            raise KeyboardInterrupt

    def relay() -> None:
        while not done.is_set():
            if asked[0]:
                stop.set()
                return
            time.sleep(0.05)

    threading.Thread(target=relay, name="briefs stop signal", daemon=True).start()
    previous = signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C stops the same way. Setting it explicitly also covers a process started with SIGINT
    # ignored (a background job of a non-interactive shell), where Python installs no handler.
    previous_int = signal.signal(signal.SIGINT, on_term)

    def restore() -> None:
        done.set()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)

    return stop, restore


def _print_rebuilt(args: argparse.Namespace) -> Callable[[TargetResult], None]:
    """How `watch` and `serve` report each brief a rebuild wrote (failures on stderr); up-to-date ones say nothing."""

    def on_result(r: TargetResult) -> None:
        if r.status == "failed":
            print(_result_line(r), file=sys.stderr, flush=True)
        elif r.status == "built":
            _say(args, _result_line(r))

    return on_result


def _run_watch(args: argparse.Namespace) -> int:
    from briefs.pipeline.watch import watch

    options = _options(args)
    on_result = _print_rebuilt(args)
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
        _log().info("stopped watching")
    finally:
        restore()
    return EXIT_OK


def _run_schedule(args: argparse.Namespace) -> int:
    from briefs.pipeline.watch import Timetable, schedule

    timetable = Timetable.parse(args.every, args.cron)
    if args.send:
        _smtp_settings(args).check()
    options = _options(args)
    stop, restore = _stop_on_sigterm()
    try:
        schedule(options, timetable, stop, on_tick=_send_after_tick(args) if args.send else None)
    except KeyboardInterrupt:
        _log().info("schedule stopped")
    finally:
        restore()
    return EXIT_OK


def _smtp_settings(args: argparse.Namespace) -> SmtpSettings:
    from briefs.deliver.mail import SmtpSettings

    return SmtpSettings.from_options(args.smtp_host, args.smtp_port, args.smtp_tls, args.smtp_user, args.smtp_from)


def _send(args: argparse.Namespace, lock_wait: float | None = None) -> SendReport:
    """Mail what is due (or write it to the outbox with --dry-run), one line per message."""
    from briefs.deliver.send import OUTBOX, send

    outbox = None
    if getattr(args, "dry_run", False):
        outbox = args.outbox if args.outbox is not None else args.out / OUTBOX

    def on_result(r: SendResult) -> None:
        if r.status == "failed":
            print(r.line(), file=sys.stderr, flush=True)
        elif r.status != "already-sent" or args.verbose:
            _say(args, r.line())

    return send(_options(args), _smtp_settings(args), outbox=outbox, lock_wait=lock_wait, progress=on_result)


def _run_send(args: argparse.Namespace) -> int:
    report = _send(args)
    print(report.summary(), flush=True)
    return EXIT_FAILED if report.failed else EXIT_OK


def _then_send(runner: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """`build --send`: build, then mail what is new; exit 1 when either failed (bad input stops both)."""

    def run(args: argparse.Namespace) -> int:
        if getattr(args, "send", False):
            _smtp_settings(args).check()  # no server, a bad --smtp-* value: exit 2 before anything is built
        code = runner(args)
        if not getattr(args, "send", False):
            return code
        return max(code, _run_send(args))

    return run


def _send_after_tick(args: argparse.Namespace) -> Callable[[str], None]:
    """`schedule --send`: after each tick, mail what is new; a failed send is logged and the schedule goes on."""
    from briefs.errors import BriefsError

    log = _log()

    def after(line: str) -> None:
        try:
            report = _send(args, lock_wait=0)
        except BriefsError as exc:
            for problem in getattr(exc, "problems", None) or [exc]:
                log.error("send: %s", problem)
            return
        except Exception as exc:  # a schedule outlives any one send; the next tick tries again
            log.debug("send failed", exc_info=True)
            log.error("send: %s: %s (the next tick tries again)", type(exc).__name__, exc)
            return
        log.info("%s", report.summary())

    return after


def _run_serve(args: argparse.Namespace) -> int:
    from briefs.preview.server import serve

    options = _options(args)
    on_result = _print_rebuilt(args)
    stop, restore = _stop_on_sigterm()
    try:
        serve(
            options,
            stop,
            host=args.host,
            port=args.port,
            on_ready=lambda url: print(f"serving at {url} (Ctrl-C to stop)", flush=True),
            progress=on_result,
            on_report=lambda report: print(_summary(report), flush=True),
            explain=(lambda p: _say(args, _explain_line(p))) if args.explain else None,
        )
    except KeyboardInterrupt:
        _log().info("stopped serving")
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


def _discard_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a stdout without a file descriptor (tests)
        pass


def exit_process(code: int) -> NoReturn:
    """End the process with ``code`` (build.py, ``python -m briefs``), without the interpreter's teardown.

    Freeing every module and object before exiting took 40–120 ms of each run (issue 27: more than the
    fixed cost of planning a build), and the system frees the memory at once anyway. Everything an exit
    owes is still done, in the order Python does it: the worker pools and the Dask client are stopped
    and their threads joined, the exit handlers run (logging's flush, temporary folders), and the
    standard streams are flushed (if that fails, the status is 120, as Python makes it). A process with
    another thread still running, or run under a tracer or profiler (coverage, ``python -m cProfile``, a
    debugger, which write their results after this), or on a Python without CPython's exit-handler list,
    exits as usual.
    """
    import atexit
    import threading

    executors = sys.modules.get("briefs.pipeline.executors")
    if executors is not None:
        executors.close_kept()
    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if run_handlers is None or others or sys.gettrace() is not None or sys.getprofile() is not None:
        sys.exit(code)
    run_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # what was written is lost (a reader gone): Python exits 120 then, too
            code = 120
        except (ValueError, AttributeError):  # a closed stream or none (pythonw): skipped, as Python does
            pass
    os._exit(code)


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
        if args.command != "build":
            _setup_logging(args)  # the build sets it up once its no-op fast path has not answered
        runner = {
            "build": _then_send(_run_build),
            "check": _run_check,
            "list": _run_list,
            "watch": _run_watch,
            "schedule": _run_schedule,
            "send": _run_send,
            "serve": _run_serve,
        }[args.command]
        code = runner(args)
        sys.stdout.flush()  # a closed pipe (`list | head`) is met here, inside the handler below
        return code
    except BrokenPipeError:
        # The reader went away (`build.py list | head`): not an error. Point stdout at /dev/null so the
        # interpreter's own flush at exit does not complain either.
        _discard_stdout()
        return EXIT_OK
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
        return _report_failure(exc, debug)


def _report_failure(exc: Exception, debug: bool) -> int:
    """One line per problem (the traceback with --debug); the exit status."""
    import traceback

    from briefs.errors import BriefsError, InputError

    if debug:
        traceback.print_exception(exc)
    if not isinstance(exc, BriefsError):
        print(f"error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILED
    problems = getattr(exc, "problems", None)
    lines = [str(p) for p in problems] if problems else [str(exc)]
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    if isinstance(exc, InputError):
        print(f"{counted(len(lines), 'errors')}; nothing written", file=sys.stderr)
    return exc.exit_code

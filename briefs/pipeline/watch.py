"""Watch and schedule loops around the same `build()`.

`watch` rebuilds when data or templates change, once a burst of changes has settled; `schedule` builds
on a timetable (`--every 30m` or `--cron "0 7 * * 1-5"`). Both survive bad input — the error is logged
with its file and line, the last good outputs stay — and both stop when ``stop`` is set (the CLI sets
it on SIGTERM). A build in progress is allowed to finish: its writes are atomic either way, and a clean
finish keeps the state file in step with the outputs.

Overlapping runs: a watch build waits for the output folder's lock like a manual build; a scheduled
tick skips when another build holds it (the next tick catches up), so ticks never pile up.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from briefs.errors import BuildError, InputError, display_path
from briefs.pipeline.build import Options, PlannedTarget, Progress, Report, build, warm
from briefs.pipeline.fastpath import counted

log = logging.getLogger(__name__)

SETTLE_MS = 50  # quiet time after the last change before a rebuild starts (an editor's save is one burst)
MAX_BURST_MS = 1600  # a steady stream of changes still rebuilds this often
IDLE_WAKE_MS = 500  # how often an idle watcher wakes (to notice it is ready, and stop)

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def run_build(
    options: Options,
    progress: Progress | None = None,
    explain: Callable[[PlannedTarget], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> Report | None:
    """One build; bad input or a failed build is logged (file and line) and None returned, never raised.

    ``on_error`` is told too (`serve` shows the problems, each with its file and line, on the page).
    """
    try:
        return build(options, explain=explain, progress=progress)
    except Exception as exc:
        if on_error is not None:
            on_error(exc)
        _log_failure(exc)
        return None


def _log_failure(exc: Exception) -> None:
    if isinstance(exc, InputError):
        for problem in exc.problems:
            log.error("error: %s", problem)
        count = len(exc.problems)
        errors = f"{count} error{'' if count == 1 else 's'}"
        if exc.written:
            log.error(
                "%s; the briefs they affect keep their last good outputs (%d other outputs rebuilt)",
                errors,
                exc.written,
            )
        else:
            log.error("%s; nothing written, the last good outputs are kept", errors)
    elif isinstance(exc, BuildError):
        log.error("error: %s", exc)
    else:  # a watcher outlives any one build; the next change tries again
        log.debug("build failed", exc_info=exc)
        log.error("error: %s: %s (still watching; --debug for the traceback)", type(exc).__name__, exc)


def watched_folders(options: Options) -> list[Path]:
    """The folders whose changes can make a target stale: data, shipped templates, the user's templates."""
    folders = [options.data_dir, options.shipped_templates]
    if options.templates_dir is not None:
        folders.append(options.templates_dir)
    missing = [f for f in folders if not f.is_dir()]
    if missing:
        raise InputError(", ".join(f"{display_path(f)}: folder not found" for f in missing))
    return folders


_SCRATCH = re.compile(
    r"""
      ^sed[A-Za-z0-9]{6}$          # sed -i's temporary copy
    | ^4913$                       # vim's probe that the folder is writable
    | \.sw[a-p]$ | \.sw[x-z]$       # vim's swap files (.swp, .swo, .swx, …)
    | ~$ | ^\.\#  | ^\#.*\#$         # backups (file~), Emacs locks (.#file) and auto-saves (#file#)
    | \.tmp$ | \.part$              # tools' temporaries; our own atomic writes are .<name>.<random>.tmp
    | ^\.DS_Store$ | ^\.~lock\.      # Finder's folder settings; LibreOffice's locks
    | ^\.goutputstream- | \.kate-swp$ | ___jb_(tmp|old)___$   # gedit, Kate, JetBrains safe-writes
    """,
    re.VERBOSE,
)


def is_scratch_file(name: str) -> bool:
    """Whether a file named ``name`` is an editor's or tool's temporary file, never an input (issue 14)."""
    return bool(_SCRATCH.search(name))


def _relevant(out_dir: Path) -> Callable[[object, str], bool]:
    """A watchfiles filter: editor and tool temporaries, VCS folders and the output folder are not changes."""
    import watchfiles

    default = watchfiles.DefaultFilter()
    out = out_dir.resolve()

    def keep(change: object, path: str) -> bool:
        p = Path(path)
        if is_scratch_file(p.name) or p.resolve().is_relative_to(out):
            return False
        return bool(default(change, path))  # type: ignore[arg-type]

    return keep


def watch(
    options: Options,
    stop: threading.Event,
    progress: Progress | None = None,
    on_report: Callable[[Report], None] | None = None,
    explain: Callable[[PlannedTarget], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> None:
    """Build what is stale, then rebuild on every settled burst of changes until ``stop`` is set."""
    import watchfiles

    folders = watched_folders(options)
    # Each brief is written as soon as it renders, quickest first: the brief being edited should not
    # wait for a twenty-page one. A template problem in one brief then holds back only that brief.
    options = replace(options, stream=True)
    started = warmed = False
    # The first build runs on the watcher's first wake-up (a timeout when all is quiet), so the watcher
    # is already listening during it: an edit saved while it builds is picked up, not lost.
    for changes in watchfiles.watch(
        *folders,
        watch_filter=_relevant(options.out_dir),
        step=SETTLE_MS,
        debounce=MAX_BURST_MS,
        stop_event=stop,
        raise_interrupt=False,
        rust_timeout=IDLE_WAKE_MS,
        yield_on_timeout=True,
    ):
        if not started:
            started = True
            log.info("watching %s (Ctrl-C to stop)", ", ".join(display_path(f) for f in folders))
        elif not changes:
            continue  # an idle wake-up
        else:
            changed = sorted({display_path(path) for _, path in changes})
            more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
            log.info("changed: %s%s", ", ".join(changed[:5]), more)
        report = run_build(options, progress, explain, on_error)
        _report(report, on_report)
        if stop.is_set():
            break
        if not warmed:
            warmed = True
            # A first build that rendered nothing (the outputs were current) leaves every process cold:
            # warm them now, so the first edit is as quick as the next. One that rendered has warmed them.
            if report is None or not report.count("built"):
                briefs = len({(r.target.dataset, r.target.audience) for r in report.results}) if report else 2
                warm(options, briefs)
    log.info("stopped watching")


def _report(report: Report | None, on_report: Callable[[Report], None] | None) -> None:
    if report is not None and on_report is not None:
        on_report(report)


# --- schedule ----------------------------------------------------------------------------------------


def parse_every(text: str) -> float:
    """'30m' -> 1800.0; also s, h, d and sums such as '1h30m'."""
    compact = text.replace(" ", "").lower()
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise InputError(f"--every: expected a duration such as 30m, 2h, 90s or 1h30m, found {text!r}")
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds <= 0:
        raise InputError(f"--every: the interval must be more than zero, found {text!r}")
    return seconds


@dataclass(frozen=True)
class Timetable:
    """When a scheduler ticks: every ``seconds`` (first tick at once), or at the times of a cron line."""

    seconds: float | None = None
    cron: str | None = None

    @classmethod
    def parse(cls, every: str | None, cron: str | None) -> Timetable:
        """From the CLI's --every or --cron (exactly one)."""
        if (every is None) == (cron is None):
            raise InputError("schedule: give exactly one of --every or --cron")
        if every is not None:
            return cls(seconds=parse_every(every))
        from croniter import croniter

        assert cron is not None
        if not croniter.is_valid(cron):
            raise InputError(f'--cron: not a cron line (minute hour day month weekday, e.g. "0 7 * * 1-5"): {cron!r}')
        return cls(cron=cron)

    def describe(self) -> str:
        return f"every {self.seconds:g} s" if self.seconds is not None else f"at cron {self.cron!r}"

    def next_after(self, now: dt.datetime) -> dt.datetime:
        """The next tick strictly after ``now`` (cron, in local time)."""
        from croniter import croniter

        if self.seconds is not None:
            return now + dt.timedelta(seconds=self.seconds)
        nxt: dt.datetime = croniter(self.cron, now).get_next(dt.datetime)
        return nxt


def tick_line(report: Report | None, skipped: str | None = None) -> str:
    """The one line a tick logs: what it built, that all was current, or why nothing was done."""
    if skipped:
        return f"tick: skipped — {skipped}"
    if report is None:
        return "tick: bad input or failed build, nothing written (errors above)"
    built = [r.target.name for r in report.results if r.status == "built"]
    failed = [r.target.name for r in report.results if r.status == "failed"]
    if not built and not failed:
        return f"tick: all current ({counted(len(report.results), 'targets')})"
    line = f"tick: built {', '.join(built) or 'nothing'}"
    if failed:
        line += f"; failed {', '.join(failed)}"
    return line + f" ({report.seconds:.1f} s)"


def run_tick(options: Options) -> str:
    """One scheduled build; skipped at once (not queued) when another build holds the output folder."""
    try:
        report = build(replace(options, lock_wait=0))
    except InputError as exc:
        for problem in exc.problems:
            log.error("error: %s", problem)
        return tick_line(None)
    except BuildError as exc:
        if "holds the lock" in str(exc):
            return tick_line(None, skipped="another build holds the output folder's lock")
        log.error("error: %s", exc)
        return tick_line(None)
    except Exception as exc:  # a schedule outlives any one tick; the next one tries again
        log.debug("tick failed", exc_info=True)
        log.error("error: %s: %s (the next tick tries again; --debug for the traceback)", type(exc).__name__, exc)
        return tick_line(None)
    for r in report.failed:
        log.error("FAILED %s: %s", r.target.name, r.error)
    return tick_line(report)


def schedule(
    options: Options,
    timetable: Timetable,
    stop: threading.Event,
    clock: Callable[[], dt.datetime] | None = None,
    on_tick: Callable[[str], None] | None = None,
) -> int:
    """Tick on ``timetable`` until ``stop`` is set; returns the number of ticks run."""
    now = clock or (lambda: dt.datetime.now().astimezone())
    log.info("scheduled %s (SIGTERM or Ctrl-C to stop)", timetable.describe())
    ticks = 0
    due = now() if timetable.seconds is not None else timetable.next_after(now())
    while not stop.is_set():
        if not _sleep_until(due, stop, now):
            break
        line = run_tick(options)
        ticks += 1
        log.info("%s %s", now().strftime("%Y-%m-%d %H:%M:%S"), line)
        if on_tick is not None:
            on_tick(line)
        # The next tick is counted from this one's due time, so a slow build does not drift the
        # timetable; ticks missed while building are skipped, not run back to back.
        nxt = timetable.next_after(due)
        while nxt <= now():
            nxt = timetable.next_after(nxt)
        due = nxt
    log.info("schedule stopped after %d tick%s", ticks, "" if ticks == 1 else "s")
    return ticks


def _sleep_until(due: dt.datetime, stop: threading.Event, now: Callable[[], dt.datetime]) -> bool:
    """Wait until ``due`` by the wall clock, re-read every 30 s (a suspend or clock change is noticed)."""
    while True:
        remaining = (due - now()).total_seconds()
        if remaining <= 0:
            return not stop.is_set()
        if stop.wait(min(remaining, 30.0)):
            return False

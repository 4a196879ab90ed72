"""watch and schedule: real subprocesses, bounded by timeouts, stopped by signals."""

from __future__ import annotations

import datetime as dt
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from briefs.errors import InputError
from briefs.pipeline.build import Options, build
from briefs.pipeline.output import output_lock
from briefs.pipeline.watch import Timetable, parse_every, run_tick
from tests.conftest import REPO, SHIPPED_TEMPLATES, write_tree

AUDIENCE = {
    "audiences/alpha.yaml": """\
        title: Alpha Memo
        formats: [md]
        sections: [bluf, figures, sources]
        """,
}
TIMEOUT = 60.0  # generous bounds: a test fails only if the process never gets there


class Lines:
    """A subprocess's merged output, read line by line in a thread, to wait for what it says."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.seen: list[str] = []
        self.queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.queue.put(line.rstrip("\n"))
        self.queue.put(None)

    def expect(self, text: str) -> str:
        """The next line containing ``text``; fails if the process ends or goes quiet too long first."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                line = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r}; saw:\n" + "\n".join(self.seen)) from None
            if line is None:
                raise AssertionError(f"process ended before {text!r}; saw:\n" + "\n".join(self.seen))
            self.seen.append(line)
            if text in line:
                return line


def start(*args: str | Path) -> tuple[subprocess.Popen[str], Lines]:
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), *(str(a) for a in args)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, Lines(proc)


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def set_rise(data: Path, text: str) -> None:
    records = data / "mini" / "records.yaml"
    lines = records.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("value:"))
    lines[index] = f"    value: {text}\n"
    records.write_text("".join(lines), encoding="utf-8")


def test_watch_picks_up_an_edit_and_survives_a_broken_one(mini_data: Path, tmp_path: Path) -> None:
    tpl = write_tree(tmp_path / "tpl", AUDIENCE)
    out = tmp_path / "out"
    brief = out / "mini" / "alpha.md"
    proc, lines = start(
        "watch", "--data", mini_data, "--templates", tpl, "--out", out, "--audience", "alpha", "--explain"
    )
    try:
        lines.expect("watching")
        lines.expect("1 built, 0 up to date")  # the first build: the watcher was listening before it
        set_rise(mini_data, "5")
        lines.expect("records.yaml")  # what changed
        assert "records.yaml#figures:rise changed" in lines.expect("mini/alpha.md: rebuild — ")  # --explain
        lines.expect("1 built, 0 up to date")
        assert "5 meters" in brief.read_text(encoding="utf-8")

        set_rise(mini_data, "[5")  # a broken edit: the error with file and line, the last good brief kept
        error = lines.expect("error: ")
        assert "records.yaml:" in error and "YAML syntax" in error
        lines.expect("last good outputs are kept")
        assert "5 meters" in brief.read_text(encoding="utf-8")

        set_rise(mini_data, "6")  # still watching
        lines.expect("1 built, 0 up to date")
        assert "6 meters" in brief.read_text(encoding="utf-8")

        # A template edit is watched too (the user's folder).
        write_tree(
            tpl, {"audiences/alpha.md.j2": '{% extends "base/layout.md.j2" %}\n{% block footer %}F2{% endblock %}'}
        )
        lines.expect("1 built, 0 up to date")
        assert brief.read_text(encoding="utf-8").rstrip().endswith("F2")
    finally:
        code = stop(proc)
    assert code == 0
    lines.expect("stopped watching")


def test_watch_stops_cleanly_on_ctrl_c(mini_data: Path, tmp_path: Path) -> None:
    tpl = write_tree(tmp_path / "tpl", AUDIENCE)
    proc, lines = start(
        "watch", "--data", mini_data, "--templates", tpl, "--out", tmp_path / "out", "--audience", "alpha", "-q"
    )
    try:
        lines.expect("up to date")  # -q: only the summary line
    finally:
        code = stop(proc, signal.SIGINT)
    assert code == 0


def test_schedule_ticks_builds_when_stale_and_exits_on_sigterm(mini_data: Path, tmp_path: Path) -> None:
    tpl = write_tree(tmp_path / "tpl", AUDIENCE)
    out = tmp_path / "out"
    proc, lines = start(
        "schedule", "--every", "0.2s", "--data", mini_data, "--templates", tpl, "--out", out, "--audience", "alpha"
    )
    try:
        lines.expect("scheduled every 0.2 s")
        lines.expect("tick: built mini/alpha.md")
        lines.expect("tick: all current (1 target)")
        set_rise(mini_data, "7")
        lines.expect("tick: built mini/alpha.md")
        assert "7 meters" in (out / "mini" / "alpha.md").read_text(encoding="utf-8")
        lines.expect("tick: all current")
    finally:
        code = stop(proc)
    assert code == 0
    lines.expect("schedule stopped after")


def test_a_tick_skips_while_another_build_holds_the_lock(mini_data: Path, tmp_path: Path) -> None:
    tpl = write_tree(tmp_path / "tpl", AUDIENCE)
    out = tmp_path / "out"
    options = Options(data_dir=mini_data, out_dir=out, templates_dir=tpl, audiences=("alpha",))
    with output_lock(out):
        line = run_tick(options)
    assert line.startswith("tick: skipped")
    assert not (out / "mini").exists()
    assert run_tick(options).startswith("tick: built mini/alpha.md")
    assert run_tick(options) == "tick: all current (1 target)"


def test_a_tick_with_bad_input_keeps_going(mini_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (mini_data / "mini" / "records.yaml").write_text("events: [\n", encoding="utf-8")
    options = Options(data_dir=mini_data, out_dir=tmp_path / "out", shipped_templates=SHIPPED_TEMPLATES)
    assert "nothing written" in run_tick(options)
    assert any("records.yaml:" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("stream", [False, True])
def test_a_watcher_writes_the_briefs_a_template_mistake_does_not_touch(
    stream: bool, mini_data: Path, tmp_path: Path
) -> None:
    """A build writes nothing when one brief's template is bad; a watcher (stream) writes the others."""
    tpl = write_tree(
        tmp_path / "tpl",
        {
            **AUDIENCE,
            "audiences/beta.yaml": "title: Beta Memo\nformats: [md]\nsections: [bluf]\n",
            "audiences/beta.md.j2": '{% extends "base/layout.md.j2" %}\n{% block footer %}{{ no_such }}{% endblock %}',
        },
    )
    out = tmp_path / "out"
    options = Options(
        data_dir=mini_data, out_dir=out, templates_dir=tpl, audiences=("alpha", "beta"), stream=stream, jobs=1
    )
    with pytest.raises(InputError) as caught:
        build(options)
    assert any("beta.md.j2:2" in str(p) and "no_such" in str(p) for p in caught.value.problems)
    assert not (out / "mini" / "beta.md").exists()
    assert (out / "mini" / "alpha.md").is_file() == stream
    assert caught.value.written == (1 if stream else 0)
    if stream:  # the state records what was written: alpha is up to date on the next build
        (tpl / "audiences" / "beta.md.j2").unlink()
        report = build(options)
        assert [(r.target.name, r.status) for r in report.results] == [
            ("mini/alpha.md", "up-to-date"),
            ("mini/beta.md", "built"),
        ]


def test_parse_every_and_cron() -> None:
    assert parse_every("30m") == 1800
    assert parse_every("1h30m") == 5400
    assert parse_every("90s") == 90
    assert parse_every("0.5s") == 0.5
    for bad in ("30", "10x", "", "m", "0s"):
        with pytest.raises(InputError):
            parse_every(bad)
    with pytest.raises(InputError):
        Timetable.parse("30m", "0 7 * * 1-5")
    with pytest.raises(InputError):
        Timetable.parse(None, "every morning")
    weekdays = Timetable.parse(None, "0 7 * * 1-5")
    friday_evening = dt.datetime(2026, 11, 27, 18, 0)
    assert weekdays.next_after(friday_evening) == dt.datetime(2026, 11, 30, 7, 0)  # Monday 07:00
    assert Timetable.parse("30m", None).next_after(friday_evening) == dt.datetime(2026, 11, 27, 18, 30)


def test_warm_compiles_every_template_and_loads_weasyprint(mini_data: Path, tmp_path: Path) -> None:
    """A watcher whose first build rendered nothing warms up: templates compiled, WeasyPrint imported."""
    import sys

    from briefs.formats.render import _COMPILED
    from briefs.pipeline.build import warm

    for store in _COMPILED.values():
        store.store.clear()
    templates = sorted(SHIPPED_TEMPLATES.rglob("*.j2"))
    warm(Options(data_dir=mini_data, out_dir=tmp_path / "out", jobs=1), briefs=1)
    assert len(_COMPILED["html"].store) == len(_COMPILED["md"].store) == len(templates)
    assert "weasyprint" in sys.modules

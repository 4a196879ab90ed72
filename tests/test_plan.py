"""Staleness by content: exactly what changed is rebuilt, and a killed or concurrent build loses nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, RunCli, write_tree

AUDIENCES = {
    # alpha has its own Markdown template and shows figures; beta uses the base layout and does not.
    "audiences/alpha.yaml": """\
        title: Alpha Memo
        formats: [md]
        sections: [bluf, timeline, figures, sources]
        """,
    "audiences/alpha.md.j2": '{% extends "base/layout.md.j2" %}\n{% block footer %}Alpha footer{% endblock %}\n',
    "audiences/beta.yaml": """\
        title: Beta Memo
        formats: [md]
        sections: [bluf, recommendations, sources]
        """,
}


ONLY = ("--audience=alpha", "--audience=beta")  # not the shipped audiences


@pytest.fixture
def tpl(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "tpl", AUDIENCES)


def outputs(out: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``out`` (outputs, state, editions) with its bytes and mtime."""
    return {
        str(p.relative_to(out)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "lock"
    }


def built(stdout: str) -> set[str]:
    """The outputs a build said it built, as dataset/file names."""
    return {"/".join(Path(line.split()[1]).parts[-2:]) for line in stdout.splitlines() if line.startswith("built ")}


def test_no_op_build_rewrites_nothing(two_datasets: Path, tpl: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    args = ("--data", two_datasets, "--templates", tpl, *ONLY, "--out", out, "--format", "md", "--format", "html")
    assert run_cli(*args)[0] == 0
    before = outputs(out)
    assert "mini/alpha.md" in before and ".briefs/state.json" in before
    # Touching every input without changing it is not a change: content, not mtimes, decides.
    for path in [*two_datasets.rglob("*.yaml"), *tpl.rglob("*")]:
        if path.is_file():
            os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    code, stdout, _ = run_cli(*args)
    assert code == 0
    assert "0 built, 8 up to date, 0 failed" in stdout
    assert outputs(out) == before  # bytes and mtimes of outputs, state and editions


def test_data_edit_rebuilds_exactly_the_briefs_that_show_the_record(
    two_datasets: Path, tpl: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out"
    args = ("--data", two_datasets, "--templates", tpl, *ONLY, "--out", out)
    assert run_cli(*args)[0] == 0
    records = two_datasets / "mini2" / "records.yaml"
    records.write_text(records.read_text(encoding="utf-8").replace("value: 4", "value: 5"), encoding="utf-8")
    code, stdout, _ = run_cli(*args, "--explain")
    assert code == 0
    # Only alpha shows figures (issue 27): beta, reading the same file, is not rebuilt for it.
    assert built(stdout) == {"mini2/alpha.md"}
    assert "mini2/alpha.md: rebuild — " in stdout and "mini2/records.yaml#figures:rise changed" in stdout  # --explain
    assert "mini2/beta.md: skip — up to date" in stdout and "mini/alpha.md: skip — up to date" in stdout


def test_template_edit_rebuilds_only_audiences_whose_chain_includes_it(
    mini_data: Path, tpl: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out"
    args = ("--data", mini_data, "--templates", tpl, *ONLY, "--out", out)
    assert run_cli(*args)[0] == 0
    (tpl / "audiences" / "alpha.md.j2").write_text(
        '{% extends "base/layout.md.j2" %}\n{% block footer %}Alpha footer, revised{% endblock %}\n', encoding="utf-8"
    )
    code, stdout, _ = run_cli(*args, "--explain")
    assert code == 0 and built(stdout) == {"mini/alpha.md"}
    assert "audiences/alpha.md.j2 changed" in stdout
    # A section partial only alpha shows (figures): overriding it in the user folder rebuilds alpha alone.
    shipped = (REPO / "templates" / "base" / "sections" / "figures.md.j2").read_text(encoding="utf-8")
    write_tree(tpl, {"base/sections/figures.md.j2": shipped + "\n(figures checked)\n"})
    code, stdout, _ = run_cli(*args, "--explain")
    assert code == 0 and built(stdout) == {"mini/alpha.md"}, stdout
    assert "base/sections/figures.md.j2 is new" in stdout
    assert "(figures checked)" in (out / "mini" / "alpha.md").read_text(encoding="utf-8")
    # --force rebuilds everything.
    code, stdout, _ = run_cli(*args, "--force")
    assert code == 0 and built(stdout) == {"mini/alpha.md", "mini/beta.md"}


def cli(*args: str | Path) -> list[str]:
    return [sys.executable, str(REPO / "build.py"), *(str(a) for a in args)]


def full_pipe() -> tuple[int, int]:
    """A pipe whose buffer is already full: a child printing to it stops at its first line.

    The build prints "built <file>" right after writing each output, so a child given this as stdout
    halts after its first write, holding the lock — a fixed point to kill it at or race it against,
    with no sleeps.
    """
    r, w = os.pipe()
    os.set_blocking(w, False)
    for chunk in (65536, 4096, 1):
        try:
            while True:
                os.write(w, b"x" * chunk)
        except BlockingIOError:
            pass
    os.set_blocking(w, True)
    return r, w


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def build_scene(two_datasets: Path, tpl: Path, tmp_path: Path, run_cli: RunCli) -> tuple[list[str], Path, Path]:
    """A built output folder whose every target is then made stale, and a clean build of the new data."""

    def args_for(out: Path) -> list[str]:
        return [f"--data={two_datasets}", f"--templates={tpl}", *ONLY, f"--out={out}", "--format=md", "--format=html"]

    out = tmp_path / "out"
    args = args_for(out)
    assert run_cli(*args)[0] == 0
    for info in two_datasets.rglob("dataset.yaml"):  # the BLUF: every audience shows it
        info.write_text(info.read_text(encoding="utf-8").replace("aid is needed.", "aid is urgent."), "utf-8")
    (tpl / "audiences" / "alpha.md.j2").write_text('{% extends "base/layout.md.j2" %}\n', encoding="utf-8")
    fresh = tmp_path / "fresh"
    assert run_cli(*args_for(fresh))[0] == 0
    return args, out, fresh


def targets(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/*.*")) if p.suffix in (".md", ".html")}


def same_command(cmdline: bytes) -> list[int]:
    """Processes running exactly ``cmdline`` (a build's forked workers share it; its paths are per test)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes() == cmdline:
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_sigkilled_build_loses_nothing(two_datasets: Path, tpl: Path, tmp_path: Path, run_cli: RunCli) -> None:
    args, out, fresh = build_scene(two_datasets, tpl, tmp_path, run_cli)
    old, new = targets(out), targets(fresh)
    old_state = (out / ".briefs" / "state.json").read_bytes()
    assert len(old) == 8 and old.keys() == new.keys() and all(old[k] != new[k] for k in old)

    r, w = full_pipe()
    with (tmp_path / "err.txt").open("wb") as err:
        child = subprocess.Popen(cli(*args), cwd=REPO, stdout=w, stderr=err)
    try:
        wait_for(lambda: targets(out) != old, "the first output to be replaced")
        cmdline = Path(f"/proc/{child.pid}/cmdline").read_bytes()
        child.kill()  # SIGKILL, mid-way through the write phase
    finally:
        child.kill()
        child.wait(timeout=60)
        os.close(r)
        os.close(w)
    # Its worker processes end with it, not wait for work forever (they were forked from it).
    wait_for(lambda: not same_command(cmdline), "the killed build's workers to end", timeout=10)
    after = targets(out)
    assert after.keys() == old.keys()
    assert all(after[k] in (old[k], new[k]) for k in after)  # each output whole: the old one or the new
    assert sum(after[k] == new[k] for k in after) == 1  # killed after exactly one write
    assert (out / ".briefs" / "state.json").read_bytes() == old_state

    code, _, stderr = run_cli(*args)
    assert code == 0, stderr
    assert targets(out) == new  # the next build completes
    assert not list(out.rglob("*.tmp"))


def test_concurrent_builds_never_interleave(two_datasets: Path, tpl: Path, tmp_path: Path, run_cli: RunCli) -> None:
    args, out, fresh = build_scene(two_datasets, tpl, tmp_path, run_cli)
    old, new = targets(out), targets(fresh)
    r, w = full_pipe()
    with (tmp_path / "err.txt").open("wb") as err:
        first = subprocess.Popen(cli(*args), cwd=REPO, stdout=w, stderr=err)
    os.close(w)
    second: subprocess.Popen[str] | None = None
    drained: list[bytes] = []
    try:
        wait_for(lambda: targets(out) != old, "the first build to start writing")
        second = subprocess.Popen(cli(*args), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The first build holds the output folder's lock: the second waits, writing nothing.
        with pytest.raises(subprocess.TimeoutExpired):
            second.wait(timeout=2)
        assert sum(targets(out)[k] == new[k] for k in new) == 1

        def drain() -> None:
            while chunk := os.read(r, 65536):
                drained.append(chunk)

        threading.Thread(target=drain, daemon=True).start()  # let the first build go on
        assert first.wait(timeout=120) == 0
        stdout, stderr = second.communicate(timeout=120)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        os.close(r)
    assert second.returncode == 0, stderr
    # The second build re-read the state under the lock: everything was current, so it wrote nothing.
    assert "0 built, 8 up to date" in stdout
    assert targets(out) == new
    state = json.loads((out / ".briefs" / "state.json").read_text(encoding="utf-8"))
    assert len(state["targets"]) == 8

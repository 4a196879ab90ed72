"""--jobs: a process pool renders the briefs; the outputs never depend on how many processes did (issue 8).

No timings here: speed is measured by `python -m bench` (docs/performance.md).
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest

import briefs.pipeline.seen_cuts as seen_cuts
from briefs.cli import main
from tests.conftest import RunCli, write_tree


def outputs(out: Path) -> dict[str, bytes]:
    """Every brief under ``out`` (not the build's own records), by relative path."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.suffix in (".pdf", ".md", ".html") and not any(part.startswith(".") for part in p.parts)
    }


@pytest.mark.slow
def test_jobs_2_writes_the_same_bytes_as_jobs_1(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    shutil.copytree(mini_data / "mini", mini_data / "mini-two")  # two datasets × every audience: several groups
    built = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}"
        argv = ("--data", mini_data, "--out", out, "--jobs", jobs, "--format", "pdf", "--format", "md")
        code, _, stderr = run_cli(*argv, "--format", "html")
        assert code == 0, stderr
        built[jobs] = outputs(out)
    assert len(built["1"]) >= 2 * 3 * 2, sorted(built["1"])  # every audience of both datasets, each format
    assert built["1"].keys() == built["2"].keys()
    different = [name for name in built["1"] if built["1"][name] != built["2"][name]]
    assert not different


def test_input_error_in_a_worker_exits_2_and_writes_nothing(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    # A template mistake shows only when the brief renders, i.e. inside a worker process.
    templates = write_tree(tmp_path / "tpl", {"audiences/desk.md.j2": "{{ no_such_variable }}\n"})
    out = tmp_path / "out"
    code, _, stderr = run_cli("--data", mini_data, "--templates", templates, "--out", out, "--jobs", "2")
    assert code == 2, stderr
    assert "desk.md.j2:1" in stderr and "'no_such_variable' is not defined" in stderr
    assert "nothing written" in stderr
    assert not (out / "mini").exists()


@pytest.mark.slow
def test_a_failing_brief_in_a_worker_costs_only_itself(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    slow = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    templates = write_tree(
        tmp_path / "tpl",
        {
            "audiences/slow.yaml": "title: Slow\nformats: [md]\nsections: [summary]\n",
            "audiences/slow.md.j2": slow,
        },
    )
    out = tmp_path / "out"
    # 5 s, not less: the other briefs must finish in time on a busy machine; the slow one never does.
    argv = ("--data", mini_data, "--templates", templates, "--out", out, "--format", "md", "--time-limit", "5")
    code, _, stderr = run_cli(*argv, "--jobs", "2")
    assert code == 1, stderr
    assert "FAILED mini/slow.md" in stderr and "time limit" in stderr
    assert not (out / "mini" / "slow.md").exists()
    assert (out / "mini" / "desk.md").read_text(encoding="utf-8").strip()
    assert (out / "mini" / "principal.md").is_file()


def test_jobs_below_1_is_bad_usage(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    code, _, stderr = run_cli("--data", mini_data, "--out", tmp_path / "out", "--jobs", "0")
    assert code == 2
    assert "--jobs" in stderr and "found 0" in stderr
    assert not (tmp_path / "out").exists()


def test_many_datasets_load_in_the_pool_with_the_same_errors(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """From POOL_LOAD_MIN datasets, --jobs processes load them: the same problems, in the same order."""
    from briefs.pipeline.build import POOL_LOAD_MIN

    for i in range(POOL_LOAD_MIN):
        shutil.copytree(mini_data / "mini", mini_data / f"mini-{i}")
    for broken in ("mini-2", "mini-5"):
        (mini_data / broken / "records.yaml").write_text("events: [\n", encoding="utf-8")
    (mini_data / "mini-6" / "dataset.yaml").write_text("info: {title: 3}\n", encoding="utf-8")
    reports = {}
    for jobs in ("1", "2"):
        code, stdout, stderr = run_cli("--data", mini_data, "--out", tmp_path / "out", "--jobs", jobs)
        assert code == 2, stdout
        reports[jobs] = stderr
    assert reports["1"] == reports["2"]
    lines = reports["1"].splitlines()
    assert [line.split("/")[-2] for line in lines if "records.yaml" in line] == ["mini-2", "mini-5"]
    assert any("mini-6" in line and "dataset.yaml" in line for line in lines)


def test_a_dead_worker_does_not_stop_the_next_build(mini_data: Path, tmp_path: Path) -> None:
    """A kept pool whose worker was killed between builds: loading and rendering go on (watch, schedule)."""
    import os
    import signal
    import time
    from dataclasses import replace

    from briefs.pipeline import build as building
    from briefs.pipeline import executors

    for i in range(building.POOL_LOAD_MIN):
        shutil.copytree(mini_data / "mini", mini_data / f"mini-{i}")
    options = building.Options(
        data_dir=mini_data, out_dir=tmp_path / "out", audiences=("principal",), formats=("md",), jobs=2
    )
    assert not building.build(options).failed
    pool = executors._pools[2]
    os.kill(next(iter(pool._processes)), signal.SIGKILL)  # type: ignore[attr-defined]
    time.sleep(0.5)
    report = building.build(replace(options, force=True))
    assert not report.failed and report.count("built") == building.POOL_LOAD_MIN + 1
    (tmp_path / "out" / ".briefs" / "state.json").write_text('{"targets": {}, "seconds": [], "cuts": 3}')
    assert not building.build(options).failed  # a damaged hint in the state is dropped, not trusted


TIGHT = """\
title: Tight
formats: [md]
limits: {words: 60}
overflow: trim
sections: [bluf, key_points, implications, recommendations]
"""


def test_pool_workers_log_through_the_parent(
    two_datasets: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers forked while stderr was another stream (since closed) log whole lines through the parent (issue 18).

    They used to inherit the parent's handler: "--- Logging error --- ValueError: I/O operation on closed file".
    """
    templates = write_tree(tmp_path / "tpl", {"audiences/tight.yaml": TIGHT})
    argv = ["--data", str(two_datasets), "--templates", str(templates), "--audience", "tight", "--jobs", "3", "-v"]
    earlier = io.StringIO()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", earlier)
        assert main([*argv, "--out", str(tmp_path / "out-1")]) == 0  # the pool's workers are forked now
    earlier.close()
    capfd.readouterr()
    # A new folder, and no start from the cut this machine found before: the brief is trimmed again.
    monkeypatch.setattr(seen_cuts, "ENABLED", False)
    assert main([*argv, "--out", str(tmp_path / "out-2")]) == 0
    _, err = capfd.readouterr()
    assert "Logging error" not in err and "closed file" not in err, err
    # The first cut of each brief, logged once through the parent (the brief's "Abridged…" line then costs
    # words of its own, so later cuts may follow).
    dropping = [line for line in err.splitlines() if "dropping recommendations" in line]
    assert sorted(dropping) == [
        "mini/tight: 70 words > 60, dropping recommendations:aid",
        "mini2/tight: 70 words > 60, dropping recommendations:aid",
    ], err

"""A command line that helps (issue 14): "did you mean", quiet pipes, grammatical counts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, RunCli


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["biuld"], "did you mean 'build'?"),
        (["lsit"], "did you mean 'list'?"),
        (["--explian"], "did you mean --explain?"),
        (["build", "--explian"], "did you mean --explain?"),
        (["check", "--tempaltes", "x"], "did you mean --templates?"),
        (["--explian", "--forse"], "did you mean --explain for --explian, --force for --forse?"),
        (["--pdf-variant", "pdf/ua1"], "did you mean 'pdf/ua-1'?"),
    ],
)
def test_a_mistyped_command_or_option_gets_a_suggestion(run_cli: RunCli, argv: list[str], hint: str) -> None:
    code, out, err = run_cli(*argv)
    assert code == 2 and out == ""
    assert hint in err, err
    assert err.count("\n") == 2 and err.endswith("1 error; nothing written\n"), err


def test_nothing_close_suggests_nothing(run_cli: RunCli) -> None:
    code, _, err = run_cli("--zzzzzz")
    assert code == 2 and "did you mean" not in err and "unrecognized arguments: --zzzzzz" in err


def test_list_into_a_closed_pipe_exits_quietly(mini_data: Path, tmp_path: Path) -> None:
    """`build.py list | head`: the reader goes away before the list is written; no traceback, exit 0."""
    argv = [sys.executable, "build.py", "list", "--data", str(mini_data), "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `head` having read what it wanted
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert err == "", err


def test_list_into_head_through_a_shell(mini_data: Path, tmp_path: Path) -> None:
    listing = f"{sys.executable} build.py list --data {mini_data} --out {tmp_path / 'out'}"
    command = f"{listing} | head -1; exit ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.count("\n") == 1


def test_counts_agree_with_their_numbers(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """One dataset, one audience, one target: singular everywhere."""
    common = ["--data", mini_data, "--out", tmp_path / "out", "--audience", "public", "--format", "md"]
    code, out, _ = run_cli("check", *common)
    assert code == 0
    assert "ok: 1 dataset, 1 audience, 1 source, " in out and out.rstrip().endswith("; 1 target"), out
    assert "1 figure," in out and "1 recommendation," in out, out
    code, out, _ = run_cli("list", *common)
    assert code == 0 and out.splitlines()[-1] == "1 target, 1 stale", out
    (mini_data / "mini" / "sources.yaml").write_text("sources: [", encoding="utf-8")
    code, _, err = run_cli("check", *common)
    assert code == 2 and err.endswith("\n1 error; nothing written\n"), err

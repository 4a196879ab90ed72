"""Remembered cuts: a trimmed brief rebuilt from the same inputs is laid out once, and its bytes never change."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SHIPPED_DATA, RunCli


def args_for(out: Path) -> list[str]:
    return ["--data", str(SHIPPED_DATA), "--audience", "congress", "--format", "pdf", "--jobs", "1", "--out", str(out)]


def test_a_forced_rebuild_reuses_the_cut_and_writes_the_same_bytes(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    code, _, stderr = run_cli(*args_for(out))
    assert code == 0, stderr
    scratch = (out / "kazakhstan-2022" / "congress.pdf").read_bytes()
    passes = stderr.count(", dropping ")
    assert passes >= 2, stderr  # the shipped congress brief is trimmed to two pages
    state = json.loads((out / ".briefs" / "state.json").read_text(encoding="utf-8"))
    cut = state["cuts"]["kazakhstan-2022/congress"]
    assert len(cut["dropped"]) == passes

    code, _, stderr = run_cli(*args_for(out), "--force")
    assert code == 0 and ", dropping " not in stderr, stderr  # one layout, no search
    assert (out / "kazakhstan-2022" / "congress.pdf").read_bytes() == scratch

    # A remembered cut that does not fit (here: tampered with) is set aside and the search runs again.
    cut["dropped"] = cut["dropped"][:1]
    (out / ".briefs" / "state.json").write_text(json.dumps(state), encoding="utf-8")
    code, _, stderr = run_cli(*args_for(out), "--force")
    assert code == 0, stderr
    assert "remembered cut no longer fits" in stderr and stderr.count(", dropping ") == passes
    assert (out / "kazakhstan-2022" / "congress.pdf").read_bytes() == scratch


def test_a_changed_input_searches_again(tmp_path: Path, run_cli: RunCli) -> None:
    """The cut is keyed by every input: a different PDF variant is another layout, so no reuse."""
    out = tmp_path / "out"
    assert run_cli(*args_for(out))[0] == 0
    code, _, stderr = run_cli(*args_for(out), "--pdf-variant", "pdf/ua-1")
    assert code == 0 and ", dropping " in stderr, stderr

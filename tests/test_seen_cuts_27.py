"""Issue 27: a brief built into a folder with no cut of its own starts from the last cut this machine found for
it (kept in the user's cache folder) and confirms it: the same bytes as a search from scratch, in fewer layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import briefs.pipeline.seen_cuts as seen_cuts
from tests.conftest import SHIPPED_DATA, RunCli
from tests.test_cuts import _counting_layouts

BRIEF = ("kazakhstan-2022", "congress")
ARGV = ["--data", str(SHIPPED_DATA), "--audience", "congress", "--format", "pdf", "--format", "md"]
ARGV += ["--jobs", "1", "-v"]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("BRIEFS_CACHE_DIR", str(folder))
    monkeypatch.setattr(seen_cuts, "ENABLED", True)
    return folder


def _same(a: Path, b: Path) -> None:
    for fmt in ("pdf", "md"):
        name = f"kazakhstan-2022/congress.{fmt}"
        assert (a / name).read_bytes() == (b / name).read_bytes(), fmt


@pytest.mark.slow
def test_a_new_folder_starts_from_the_cut_this_machine_found(
    cache: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import briefs.compose.fit as fit

    # What the kept cut saves on its own: the layout's proof that one drop fewer runs over (`cannot_fit`)
    # spares congress's search its third layout too, so it is switched off here.
    monkeypatch.setattr(fit, "PROVE_OVER", False)
    layouts = _counting_layouts(monkeypatch)
    code, _, stderr = run_cli(*ARGV, "--out", tmp_path / "first")
    assert code == 0 and "of the previous cut" not in stderr, stderr
    searched = len(layouts)
    kept = seen_cuts.seen_cut(*BRIEF)
    state = json.loads((tmp_path / "first" / ".briefs" / "state.json").read_text(encoding="utf-8"))
    assert kept and kept == state["cuts"]["/".join(BRIEF)]["drop_order"]

    code, _, stderr = run_cli(*ARGV, "--out", tmp_path / "second")
    assert code == 0 and "of the previous cut" in stderr and ", dropping " not in stderr, stderr
    started = len(layouts) - searched
    _same(tmp_path / "first", tmp_path / "second")
    # Confirmed, not trusted: the cut fits, and one drop fewer does not. Two layouts, against three or more.
    assert started == 2 < searched, (started, searched)


@pytest.mark.slow
def test_a_wrong_kept_cut_costs_layouts_never_a_different_brief(cache: Path, tmp_path: Path, run_cli: RunCli) -> None:
    code, _, stderr = run_cli(*ARGV, "--out", tmp_path / "scratch")
    assert code == 0, stderr
    right = seen_cuts.seen_cut(*BRIEF)
    assert right and len(right) >= 2
    greedy = [k for k in right if not k.startswith("+")]
    path = seen_cuts._path(*BRIEF)
    assert path is not None and path.is_file()
    wrong = {
        "too few": greedy[:1],
        "out of order": [greedy[1], greedy[0], *greedy[2:]],
        "too many": [*greedy, "sections:no-such:item", *greedy],
    }
    for why, order in wrong.items():
        path.write_text(json.dumps({"brief": "/".join(BRIEF), "drop_order": order}), encoding="utf-8")
        out = tmp_path / why.replace(" ", "-")
        code, _, stderr = run_cli(*ARGV, "--out", out)
        assert code == 0 and "of the previous cut" in stderr, (why, stderr)
        _same(tmp_path / "scratch", out)
        assert seen_cuts.seen_cut(*BRIEF) == right, why  # the cut found replaces the wrong one
    # Not a record of this brief, or not a record at all: nothing to start from, and a search.
    for i, text in enumerate((json.dumps({"brief": "other/brief", "drop_order": greedy}), "{not json", "[]")):
        path.write_text(text, encoding="utf-8")
        assert seen_cuts.seen_cut(*BRIEF) is None
        code, _, stderr = run_cli(*ARGV, "--out", tmp_path / f"garbled-{i}")
        assert code == 0 and "of the previous cut" not in stderr and ", dropping " in stderr, (text, stderr)
        _same(tmp_path / "scratch", tmp_path / f"garbled-{i}")


@pytest.mark.slow
def test_no_cache_folder_keeps_no_cut(tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFS_CACHE_DIR", "")
    monkeypatch.setattr(seen_cuts, "ENABLED", True)
    for out in ("one", "two"):
        code, _, stderr = run_cli(*ARGV, "--out", tmp_path / out)
        assert code == 0 and "of the previous cut" not in stderr and ", dropping " in stderr, stderr
    assert seen_cuts.seen_cut(*BRIEF) is None
    _same(tmp_path / "one", tmp_path / "two")

"""Remembered cuts: a trimmed brief rebuilt from the same inputs is laid out once, and its bytes never change."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from briefs.cli import main
from briefs.compose.select import select
from briefs.data.load import load_audience, load_dataset
from tests.conftest import SHIPPED_DATA, SHIPPED_TEMPLATES, RunCli


def args_for(out: Path) -> list[str]:
    # -v: the trimming's debug lines (", dropping …") count the layouts a search made.
    audience = ["--audience", "congress", "--format", "pdf"]
    return ["--data", str(SHIPPED_DATA), *audience, "--jobs", "1", "--out", str(out), "-v"]


@pytest.fixture(scope="module", autouse=True)
def no_seen_cuts() -> Iterator[None]:
    """These tests measure the output folder's own cut and the search from scratch: a fresh folder does not
    start from the last cut this machine found (`briefs.pipeline.seen_cuts`, tested on its own below)."""
    import briefs.pipeline.seen_cuts as seen_cuts

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(seen_cuts, "ENABLED", False)
        yield


@pytest.fixture(scope="module")
def scratch_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The shipped congress brief built once from scratch, and what that build said: tests copy the folder."""
    out = tmp_path_factory.mktemp("cuts") / "out"
    err = io.StringIO()  # run_cli's capsys is per test; this build is per module
    with contextlib.redirect_stderr(err):
        code = main(args_for(out))
    assert code == 0, err.getvalue()
    return out, err.getvalue()


def fresh_copy(scratch_build: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "out"
    shutil.copytree(scratch_build[0], out)
    return out, scratch_build[1]


def next_drop(cut: list[str]) -> str:
    """The item trimming would drop after ``cut`` (the shipped congress brief)."""
    loaded, _ = load_dataset(SHIPPED_DATA / "kazakhstan-2022")
    audience, _ = load_audience(SHIPPED_TEMPLATES / "audiences" / "congress.yaml")
    assert loaded is not None and audience is not None
    brief = select(loaded.dataset, audience.audience, frozenset(cut), None)
    return next(k for k in brief.droppable() if k not in cut)


@pytest.mark.slow
def test_a_forced_rebuild_reuses_the_cut_and_writes_the_same_bytes(
    scratch_build: tuple[Path, str], tmp_path: Path, run_cli: RunCli
) -> None:
    out, stderr = fresh_copy(scratch_build, tmp_path)
    scratch = (out / "kazakhstan-2022" / "congress.pdf").read_bytes()
    passes = stderr.count(", dropping ")
    assert passes >= 2, stderr  # the shipped congress brief is trimmed to two pages
    state_file = out / ".briefs" / "state.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    cut = state["cuts"]["kazakhstan-2022/congress"]["drop_order"]
    greedy = [k for k in cut if not k.startswith("+")]  # "+key": put back by the refill (issue 13)
    refill = [k for k in cut if k.startswith("+")]
    assert len(greedy) == passes

    code, _, stderr = run_cli(*args_for(out), "--force")
    assert code == 0 and ", dropping " not in stderr, stderr  # confirmed by two layouts, no search
    assert (out / "kazakhstan-2022" / "congress.pdf").read_bytes() == scratch

    # A remembered cut that is not confirmed (here: tampered with) is set aside and the search runs again.
    tampered = {
        "no longer fits": greedy[:1],
        "fits without its last drop": [*greedy, next_drop(greedy), *refill],
        "is not the priority order": [greedy[1], greedy[0], *greedy[2:], *refill],
    }
    for why, wrong in tampered.items():
        state["cuts"]["kazakhstan-2022/congress"]["drop_order"] = wrong
        state_file.write_text(json.dumps(state), encoding="utf-8")
        code, _, stderr = run_cli(*args_for(out), "--force")
        assert code == 0, stderr
        assert f"the remembered cut {why}" in stderr and stderr.count(", dropping ") == passes, (why, stderr)
        assert (out / "kazakhstan-2022" / "congress.pdf").read_bytes() == scratch, why
        state = json.loads(state_file.read_text(encoding="utf-8"))
        assert state["cuts"]["kazakhstan-2022/congress"]["drop_order"] == cut


def _counting_layouts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count WeasyPrint layouts: the real `render_pdf`, called through."""
    import briefs.formats.pdf as pdf

    layouts: list[int] = []
    real = pdf.render_pdf

    def counted(*args: object, **kwargs: object) -> object:
        layouts.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf, "render_pdf", counted)
    return layouts


# Edits of what congress shows: one that lengthens it, one that shortens it, one that reorders what it drops.
SUMMARY = "    In January 2022 protests swept Kazakhstan and turned violent; "
START_EDITS = {
    "longer": ("dataset.yaml", SUMMARY, SUMMARY + "the unrest was the worst since independence, and "),
    "shorter": ("dataset.yaml", "    guarded strategic sites until mid-January. ", "    guarded strategic sites. "),
    "reordered": ("analysis.yaml", "priority: 4", "priority: 5"),
}


@pytest.mark.slow
@pytest.mark.parametrize("edit", sorted(START_EDITS))
def test_an_edit_starts_from_the_previous_cut(
    scratch_build: tuple[Path, str], tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    """Issue 27: after an edit the cut is found for other inputs, so it is not taken; it is where the search
    starts. The brief is what a search from scratch makes of the edited data, byte for byte, in fewer layouts."""
    out, _ = fresh_copy(scratch_build, tmp_path)
    data = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA, data)
    file, old, new = START_EDITS[edit]
    path = data / "kazakhstan-2022" / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    layouts = _counting_layouts(monkeypatch)
    argv = ["--data", str(data), "--audience", "congress", "--format", "pdf", "--jobs", "1", "-v"]
    code, _, stderr = run_cli(*argv, "--out", out)
    assert code == 0 and "of the previous cut" in stderr, stderr
    started = len(layouts)
    # From scratch: the same folder before the edit (the same editions, so the same "What changed"), its cut forgotten.
    scratch = tmp_path / "scratch"
    shutil.copytree(scratch_build[0], scratch)
    state_file = scratch / ".briefs" / "state.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    state["cuts"] = {}
    state_file.write_text(json.dumps(state), encoding="utf-8")
    code, _, stderr = run_cli(*argv, "--out", scratch)
    assert code == 0 and "of the previous cut" not in stderr, stderr
    searched = len(layouts) - started
    name = "kazakhstan-2022/congress.pdf"
    assert (out / name).read_bytes() == (scratch / name).read_bytes()
    assert started < searched, (started, searched)
    print(f"{edit}: {started} layouts from the previous cut, {searched} from scratch")


@pytest.mark.slow
def test_another_layout_starts_from_the_cut_and_ends_where_a_search_does(
    scratch_build: tuple[Path, str], tmp_path: Path, run_cli: RunCli
) -> None:
    """The cut is keyed by every input: a different PDF variant is another layout, so the cut is only a start."""
    out, _ = fresh_copy(scratch_build, tmp_path)
    code, _, stderr = run_cli(*args_for(out), "--pdf-variant", "pdf/ua-1")
    assert code == 0 and "of the previous cut" in stderr, stderr
    scratch = tmp_path / "scratch"
    code, _, stderr = run_cli(*[a for a in args_for(scratch)], "--pdf-variant", "pdf/ua-1")
    assert code == 0 and ", dropping " in stderr, stderr
    name = "kazakhstan-2022/congress.pdf"
    assert (out / name).read_bytes() == (scratch / name).read_bytes()


@pytest.mark.slow
def test_word_and_html_take_a_known_cut_without_a_layout(
    scratch_build: tuple[Path, str], tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 27: with the cut for the same inputs remembered, a Markdown and HTML build lays nothing out,
    writes what a search from scratch writes, and stamps its files with the fonts and CSS that chose the cut."""
    out, _ = fresh_copy(scratch_build, tmp_path)
    layouts = _counting_layouts(monkeypatch)
    formats = ["--format", "md", "--format", "html"]
    argv = ["--data", str(SHIPPED_DATA), "--audience", "congress", "--jobs", "1", *formats]
    code, _, stderr = run_cli(*argv, "--out", out, "--force")
    assert code == 0, stderr
    assert layouts == []
    # From scratch (no remembered cut), the same bytes, found by a search that lays the brief out.
    code, _, stderr = run_cli(*argv, "--out", tmp_path / "scratch")
    assert code == 0, stderr
    assert len(layouts) >= 2
    for fmt in ("md", "html"):
        name = f"kazakhstan-2022/congress.{fmt}"
        assert (out / name).read_bytes() == (tmp_path / "scratch" / name).read_bytes(), fmt
    state = json.loads((out / ".briefs" / "state.json").read_text(encoding="utf-8"))
    fonts = [a for a in state["targets"]["kazakhstan-2022/congress.md"]["assets"] if a.endswith(".ttf")]
    assert fonts and fonts == [
        a for a in state["targets"]["kazakhstan-2022/congress.pdf"]["assets"] if a.endswith(".ttf")
    ]


@pytest.mark.slow
@pytest.mark.parametrize("audience", ["principal", "congress", "public"])
def test_a_cold_fit_takes_about_two_layouts_and_ends_where_the_search_does(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, audience: str
) -> None:
    """Issue 27: with no cut remembered, the first layout says how far over the brief runs; fitting drops
    that much at once (the search's drops, in its order) and confirms. Same bytes as dropping one item per
    layout, in 3 layouts or 4 rather than one per drop."""
    import briefs.compose.fit as fit

    layouts = _counting_layouts(monkeypatch)
    argv = ["--data", str(SHIPPED_DATA), "--audience", audience, "--format", "pdf", "--format", "md", "--jobs", "1"]
    code, _, stderr = run_cli(*argv, "--out", tmp_path / "estimated")
    assert code == 0, stderr
    estimated = len(layouts)
    monkeypatch.setattr(fit, "ESTIMATE_CUT", False)
    code, _, stderr = run_cli(*argv, "--out", tmp_path / "searched")
    assert code == 0, stderr
    searched = len(layouts) - estimated
    for fmt in ("pdf", "md"):
        name = f"kazakhstan-2022/{audience}.{fmt}"
        assert (tmp_path / "estimated" / name).read_bytes() == (tmp_path / "searched" / name).read_bytes(), fmt
    assert estimated <= 4 < searched, (estimated, searched)

"""Issue 23: the Markdown reads right in pandoc too: a portion mark "(U) " is not taken as a list numbered
from U (pandoc's fancy_lists), so a pandoc user's PDF shows "(U)", not "1."."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefs.formats.pandoc import run_pandoc
from tests.conftest import RunCli

DATASET = "kazakhstan-2022"


@pytest.mark.parametrize("audience", ["principal", "desk"])
def test_pandoc_markdown_reads_portion_marks_as_text(shipped_build: Path, audience: str) -> None:
    md = (shipped_build / DATASET / f"{audience}.md").read_bytes()
    native = run_pandoc(["-f", "markdown", "-t", "native"], md).decode("utf-8")
    assert "UpperAlpha" not in native and "UpperRoman" not in native
    assert 'Str "(U)"' in native


@pytest.mark.parametrize("audience", ["principal", "desk", "congress", "public"])
def test_a_note_listing_several_sources_ends_each_but_the_last_without_a_period(
    shipped_build: Path, audience: str
) -> None:
    """One note per citation point (CMOS 14.23): 'Title,” para. 4; “Next,” …' — no '.;' or '.”;' inside."""
    md = (shipped_build / DATASET / f"{audience}.md").read_text(encoding="utf-8")
    notes = [line for line in md.splitlines() if line.startswith("[^")]
    assert any("; " in n for n in notes)
    assert not [n for n in notes if ".;" in n or ".”;" in n or ".*;" in n]


@pytest.mark.parametrize(("accessed", "shown"), [("2030-01-01", False), ("2022-06-01", True)])
def test_a_note_never_says_a_source_was_accessed_after_the_briefs_date(
    accessed: str, shown: bool, mini_data: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """A brief dated June 2022 printed 'accessed December 4, 2026' (issue 23 §3): a later date is left out."""
    sources = mini_data / "mini" / "sources.yaml"
    text = sources.read_text().replace("    date: 2022-06\n", "")  # Chicago gives an access date for an undated page
    sources.write_text(text.replace("    url: https://", f"    accessed: {accessed}\n    url: https://"))
    out = tmp_path / "out"
    code, _, stderr = run_cli("--data", mini_data, "--out", out, "--format", "md", "--audience", "desk")
    assert code == 0, stderr
    text = (out / "mini" / "desk.md").read_text(encoding="utf-8")
    assert ("accessed June 1, 2022" in text) is shown
    assert "2030" not in text

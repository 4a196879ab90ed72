"""Issue 23: the Markdown reads right in pandoc too: a portion mark "(U) " is not taken as a list numbered
from U (pandoc's fancy_lists), so a pandoc user's PDF shows "(U)", not "1."."""

from __future__ import annotations

import re
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


def test_notes_number_paragraphs_as_the_original_does(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """'para. 2' counted lines of the copy, title included (issue 23 §3): with `original`, notes and the
    corrections table show the original's number, and a line the original lacks is cited without one."""
    sources = mini_data / "mini" / "sources.yaml"
    text = sources.read_text().replace("{n: 2, gist: The river", "{n: 2, original: 1, gist: The river")
    sources.write_text(text)
    out = tmp_path / "out"
    code, _, stderr = run_cli("--data", mini_data, "--out", out, "--format", "md", "--audience", "desk")
    assert code == 0, stderr
    desk = (out / "mini" / "desk.md").read_text(encoding="utf-8")
    assert "para. 1" in desk and "para. 2" not in desk
    # Without `original`, the paragraph of the text as held.
    sources.write_text(text.replace(", original: 1", ""))
    code, _, stderr = run_cli("--data", mini_data, "--out", out, "--format", "md", "--audience", "desk")
    assert code == 0, stderr
    assert "para. 2" in (out / "mini" / "desk.md").read_text(encoding="utf-8")


def test_the_originals_numbers_must_rise(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    sources = mini_data / "mini" / "sources.yaml"
    text = sources.read_text()
    text = text.replace("{n: 1, gist: Title, substantive: false}", "{n: 1, original: 3, gist: Title}")
    sources.write_text(text.replace("{n: 2, gist: The river", "{n: 2, original: 2, gist: The river"))
    code, _, stderr = run_cli("check", "--data", mini_data)
    assert code == 2
    assert "sources.yaml:" in stderr and "original" in stderr and "found 2 after 3" in stderr, stderr


def test_shipped_notes_and_corrections_follow_the_fpri_numbering(shipped_build: Path) -> None:
    """The article at fpri.org has 20 body paragraphs under three headings: no note cites beyond them,
    the referendum (line 23 of the copy) is para. 18, and the garbled heading is placed by paragraph."""
    for audience in ("desk", "congress", "public"):  # principal cites FPRI once, in its source line
        md = (shipped_build / DATASET / f"{audience}.md").read_text(encoding="utf-8")
        cited = [
            int(n)
            for line in md.splitlines()
            if line.startswith("[^") and "Kazakh Politics" in line
            for group in re.findall(r"Kazakh Politics,” paras?\. ([\d, ]+)", line)
            for n in group.split(", ")
        ]
        assert cited and max(cited) <= 20, (audience, cited)
    desk = (shipped_build / DATASET / "desk.md").read_text(encoding="utf-8")
    assert re.search(r"paras?\. [\d, ]*\b18\b[^\n]*Over 6 Mln Voted", desk)
    assert "- \\(U) **heading before para.\u00a014:** “Are you considering alternatives?”" in desk
    assert "- \\(U) **line before para.\u00a01:** “Distributive policy”" in desk
    annex = desk.split("## Annex G: Corrections to the source", 1)[1].split("\n## ", 1)[0]
    for group in annex.split("\n### ")[1:]:  # facts, dates and names; then the translation's wording
        places = re.findall(r"^- \\\(U\) \*\*(?:heading |line )?(?:before |after )?para\.\u00a0(\d+):", group, re.M)
        assert places and [int(p) for p in places] == sorted(int(p) for p in places)  # down the article
    # "para." and its number stay on one line (Word set "(U) para.⏎1" in a narrow column).
    assert not re.search(r"^- \\\(U\) \*\*[^*]*para\. \d", annex, re.M)

"""Issue 23 §3: notes a reader can check, in one form.

- A short memo cites its main source once, in a source line, and notes only what comes from elsewhere
  (`cite_main_source: once`): the principal's two pages spent most of page 2 on twelve identical FPRI notes.
- Titles in Chicago's headline style, done right: minor words lower case wherever the data capitalized
  them, a quoted phrase capitalized, and publications' own names kept ("bne IntelliNews", not "Bne").
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pypdf
import pytest

from briefs.formats.titles import headline_case
from tests.conftest import RunCli

DATASET = "kazakhstan-2022"
FPRI_URL = "https://www.fpri.org/article/2022/06/how-russias-invasion-of-ukraine-has-affected-kazakh-politics/"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Kazakh Officials Give Contradicting Death Tolls From January Unrest", "… Death Tolls from January Unrest"),
        ("Kazakhstan may punish Russian TV host over ‘look at Ukraine’ threat", "… Host over ‘Look at Ukraine’ Threat"),
        ("Sanctioned Russian banks seeking way out of Kazakhstan", "Sanctioned Russian Banks Seeking Way Out of …"),
        ("what is it about: the war between us", "What Is It About: The War between Us"),
        ("US and UN to act on Kazakhstan’s re-exports", "US and UN to Act on Kazakhstan’s Re-Exports"),
        ("IntelliNews reports on the U.S. and eBay", "IntelliNews Reports on the U.S. and eBay"),
        ("Russia steps up pressure", "Russia Steps Up Pressure"),
    ],
)
def test_headline_case(given: str, expected: str) -> None:
    got = headline_case(given)
    if expected.startswith("… "):
        assert got.endswith(expected[2:]), got
    elif expected.endswith(" …"):
        assert got.startswith(expected[:-2]), got
    else:
        assert got == expected


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


@pytest.mark.parametrize("audience", ["principal"])
def test_the_short_memo_cites_its_main_source_once(shipped_build: Path, audience: str) -> None:
    folder = shipped_build / DATASET
    md = (folder / f"{audience}.md").read_text(encoding="utf-8")
    notes = re.findall(r"^\[\^(\d+)\]: (.*)$", md, flags=re.M)
    assert notes, "other sources are still noted"
    # No note cites the main source: the source line does, once, in full, with its link.
    assert not [n for n, text in notes if "Foreign Policy Research Institute" in text or "fpri.org" in text]
    lines = [line for line in md.splitlines() if "fpri.org/article" in line]
    assert len(lines) == 1 and "Main source: " in lines[0] and "The notes cite other sources." in lines[0]
    assert md.index("Main source:") < md.index("[^1]:")
    if audience == "principal":
        assert lines[0].startswith("\\(U) Main source: ") and md.rstrip().endswith("**UNCLASSIFIED**")
    # The PDF and the Word brief say the same.
    text = re.sub(r"\s+", " ", _pdf_text(folder / f"{audience}.pdf"))
    assert text.count("Main source:") == 1 and "Foreign Policy Research Institute" in text
    assert text.count("“How Russia’s Invasion of Ukraine Has Affected Kazakh Politics,”") == 1
    document = docx.Document(io.BytesIO((folder / f"{audience}.docx").read_bytes()))
    cells = [p for table in document.tables for cell in table._cells for p in cell.paragraphs]  # congress's columns
    paragraphs = [p.text for p in [*document.paragraphs, *cells] if "Main source:" in p.text]
    assert len(paragraphs) == 1 and "How Russia’s Invasion of Ukraine Has Affected Kazakh Politics" in paragraphs[0]


@pytest.mark.parametrize("audience", ["congress", "public", "desk"])
def test_longer_briefs_still_note_every_citation_of_the_main_source(shipped_build: Path, audience: str) -> None:
    md = (shipped_build / DATASET / f"{audience}.md").read_text(encoding="utf-8")
    assert "Main source:" not in md
    notes = re.findall(r"^\[\^\d+\]: (.*)$", md, flags=re.M)
    assert sum("Foreign Policy Research Institute" in n or "FPRI" in n for n in notes) >= 3


@pytest.mark.parametrize("audience", ["principal", "congress", "public", "desk"])
def test_titles_are_headline_style_and_names_as_published(shipped_build: Path, audience: str) -> None:
    md = (shipped_build / DATASET / f"{audience}.md").read_text(encoding="utf-8")
    notes = "\n".join(re.findall(r"^\[\^\d+\]: (.*)$", md, flags=re.M))
    assert "Bne IntelliNews" not in notes
    assert "‘look at" not in notes
    assert not re.search(r"“[^”]*\b[A-Za-z]+ (From|Of|To|On|In|For|And|The|With|Over) [^”]*”", notes), notes


def test_check_refuses_a_template_that_leaves_the_source_line_out(tmp_path: Path, run_cli: RunCli) -> None:
    """With `cite_main_source: once` no note cites the main source: a template without the line loses it."""
    from tests.conftest import MINI, SHIPPED_TEMPLATES, write_tree

    data = write_tree(tmp_path / "data", {f"mini/{k}": v for k, v in MINI.items()})
    audience = (SHIPPED_TEMPLATES / "audiences" / "principal.yaml").read_text(encoding="utf-8")
    tpl = write_tree(
        tmp_path / "tpl",
        {
            "audiences/short.yaml": audience,
            # The principal's layout, its sources shown as a bare list of notes.
            "audiences/short.html.j2": (SHIPPED_TEMPLATES / "audiences" / "principal.html.j2")
            .read_text(encoding="utf-8")
            .replace("{{ m.source_line() }}", ""),
        },
    )
    code, _, err = run_cli("check", "--data", data, "--templates", tpl, "--audience", "short")
    assert code == 2 and "does not show the source line" in err and "short.html.j2" in err, err

"""Issue 23: each brief in its house's voice. Congress (CRS-style) is neutral: no first person, no
recommendations, no confidence jargon, and options that are Congress's own levers with pros and cons."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pypdf
import pytest
from docx.oxml.ns import qn

from tests.conftest import RunCli, write_tree

DATASET = "kazakhstan-2022"
FIRST_PERSON = re.compile(r"\b(?:[Ww]e|[Oo]urs?|us)\b")
QUOTED = re.compile(r"“[^”]*”")


def _texts(out: Path, audience: str) -> dict[str, str]:
    folder = out / DATASET
    pdf = "\n".join(page.extract_text() for page in pypdf.PdfReader(folder / f"{audience}.pdf").pages)
    md = (folder / f"{audience}.md").read_text(encoding="utf-8")
    body = docx.Document(str(folder / f"{audience}.docx")).element.body
    word = "\n".join("".join(p.itertext()) for p in body.iter(qn("w:p")))  # boxes (tables) included
    return {"pdf": pdf, "md": md, "docx": word}


@pytest.mark.parametrize("fmt", ["pdf", "md", "docx"])
def test_congress_speaks_in_no_ones_first_person_and_recommends_nothing(shipped_build: Path, fmt: str) -> None:
    text = _texts(shipped_build, "congress")[fmt]
    body = re.sub(r"^\[\^\d+\]:.*$", "", text, flags=re.M)  # Markdown notes: they quote titles
    # and a PDF's notes break URLs across lines: a piece with a slash, or a slug ("us-prohibits-central-…")
    body = QUOTED.sub("", re.sub(r"\S*/\S*|\S*-\S*-\S*", "", body))
    assert not FIRST_PERSON.findall(body), FIRST_PERSON.findall(body)
    for phrase in ("Our recommendation", "Recommended by", "We assess", "confidence"):
        assert phrase.lower() not in body.lower(), phrase
    # Options are Congress's own levers, each with the arguments on both sides.
    assert "Options Congress may consider" in body
    for lever in ("Reporting requirement.", "Oversight.", "Appropriations."):
        assert lever in body, lever
    assert body.count("For:") == body.count("Against:") >= 3
    assert "takes no position" in re.sub(r"\s+", " ", body)


def test_the_office_still_speaks_in_its_own_briefs(shipped_build: Path) -> None:
    """The neutral voice is congress's, not a global rewrite: the desk memo keeps the office's judgments."""
    desk = _texts(shipped_build, "desk")["md"]
    assert "We assess" in desk and "confidence" in desk


NEUTRAL = """\
title: Neutral brief
voice: neutral
sections:
  - summary
  - analysis
  - updates
  - {extra}
"""


def test_check_refuses_first_person_in_a_neutral_brief_at_its_line(
    mini_data: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    write_tree(templates, {"audiences/neutral.yaml": NEUTRAL.format(extra="options")})
    write_tree(
        mini_data / "mini",
        {
            "updates.yaml": """\
                updates:
                  - id: later
                    date: "2022-08"
                    text: The report's figures held; we found no later count.
                    cites: [report]
                """
        },
    )
    code, _, err = run_cli("check", "--data", mini_data, "--templates", templates)
    assert code == 2, err
    path = mini_data / "mini" / "updates.yaml"
    assert f"{path}:4:5: updates[0].text: audience " in err and "speaks in a neutral voice" in err, err
    assert "says 'we'" in err


def test_a_neutral_brief_with_recommendations_is_refused(mini_data: Path, run_cli: RunCli, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    write_tree(templates, {"audiences/neutral.yaml": NEUTRAL.format(extra="recommendations")})
    code, _, err = run_cli("check", "--data", mini_data, "--templates", templates)
    assert code == 2, err
    assert "no `recommendations` section in a brief with `voice: neutral`" in err and "use an `options` section" in err


def test_a_neutral_brief_leaves_out_the_offices_judgments(mini_data: Path, run_cli: RunCli, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    write_tree(
        templates,
        {
            "audiences/neutral.yaml": NEUTRAL.format(extra="options"),
            "audiences/own.yaml": NEUTRAL.replace("voice: neutral\n", "")
            .replace("title: Neutral brief", "title: Own brief")
            .format(extra="options"),
        },
    )
    write_tree(
        mini_data / "mini",
        {
            "analysis.yaml": """\
                sections:
                  - id: part
                    title: Part
                    paragraphs:
                      - claims:
                          - text: The report says the river rose 4 meters.
                            cites: [report#2]
                          - text: The office assesses that floods are likely to recur next spring.
                            judgment: floods-recur
                            cites: [report#2]
                judgments:
                  - id: floods-recur
                    text: Floods are likely to recur next spring.
                    likelihood: likely
                    confidence: moderate
                    by: analyst
                    basis: One report.
                    cites: [report#2]
                options:
                  - id: hearing
                    lever: oversight
                    text: Hold a hearing on flood aid.
                    pros: Aid is needed, the report says.
                    cons: The report gives no costs.
                    cites: [report#2]
                """
        },
    )
    out = tmp_path / "out"
    code, _, err = run_cli("--data", mini_data, "--templates", templates, "--out", out, "-q", "--format", "md")
    assert code == 0, err
    neutral = (out / "mini" / "neutral.md").read_text(encoding="utf-8")
    own = (out / "mini" / "own.md").read_text(encoding="utf-8")
    assert "floods are likely to recur" in own and "confidence" in own
    assert "floods are likely to recur" not in neutral and "confidence" not in neutral
    assert "The report says the river rose" in neutral
    assert "**Oversight.** Hold a hearing on flood aid." in neutral and "*For:* Aid is needed" in neutral


@pytest.mark.parametrize("fmt", ["md", "pdf", "docx"])
def test_the_public_brief_is_no_governments_voice(shipped_build: Path, fmt: str) -> None:
    """Issue 23 §1: a think-tank brief (voice: authors) has no confidence jargon, no "Our recommendation"
    that reads as government policy, and three to five recommendations."""
    text = _texts(shipped_build, "public")[fmt]
    assert "confidence" not in text.lower()
    assert "Our recommendation" not in text and "our assessment" not in text.lower()
    assert "Recommended by FPRI" in text and "Inferred from FPRI’s analysis, not made by FPRI" in text
    if fmt == "md":
        section = text.split("## Recommendations", 1)[1].split("\n## ", 1)[0]
        assert 3 <= len(re.findall(r"^\d+\. \*\*", section, re.M)) <= 5


def test_named_authors_sign_the_public_brief_and_its_metadata(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    dataset = mini_data / "mini" / "dataset.yaml"
    authors = "  authors: [Ada Lovelace, Charles Babbage]\n  about_authors: Both work on *floods*.\n"
    dataset.write_text(dataset.read_text().replace("  as_of: 2022-06-30\n", "  as_of: 2022-06-30\n" + authors))
    records = mini_data / "mini" / "records.yaml"
    records.write_text(records.read_text().replace("origin: stated", "origin: derived"))
    out = tmp_path / "out"
    argv = ("--data", mini_data, "--out", out, "--audience", "public")
    code, _, stderr = run_cli(*argv, "--format", "md", "--format", "pdf", "--format", "docx")
    assert code == 0, stderr
    md = (out / "mini" / "public.md").read_text(encoding="utf-8")
    assert "Policy Brief · June 30, 2022 · Ada Lovelace, Charles Babbage" in md  # the byline
    assert "## About the authors" in md and "Both work on *floods*. The views expressed are the authors’ own." in md
    assert "The authors’ recommendation, inferred from" in md
    assert pypdf.PdfReader(out / "mini" / "public.pdf").metadata.author == "Ada Lovelace, Charles Babbage"
    assert docx.Document(str(out / "mini" / "public.docx")).core_properties.author == "Ada Lovelace, Charles Babbage"
    pdf_text = "".join(p.extract_text() for p in pypdf.PdfReader(out / "mini" / "public.pdf").pages)
    assert "About the authors" in pdf_text and "views expressed are the authors" in pdf_text


def test_a_memo_names_who_sent_drafted_and_cleared_it(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """Issue 23 §1: where the office names its people (the shipped data names none, and none is invented), the
    Information Memo's FROM, Drafted and Cleared lines carry them, each line portion-marked, in every format."""
    from tests.conftest import SHIPPED_TEMPLATES

    spec = (SHIPPED_TEMPLATES / "audiences" / "principal.yaml").read_text(encoding="utf-8")
    named = (
        "memo:\n  to: The Secretary\n  from: SCA – Jane Roe, Acting Assistant Secretary (a fictional name)\n"
        "  prepared_by: 'SCA/CEN: A. Analyst, ext. 7-1234'\n  cleared_by: 'SCA/CEN: B. Director; SCA/RA: C. Officer'\n"
    )
    assert "memo:\n  to: The Secretary\n" in spec
    write_tree(tmp_path / "tpl", {"audiences/principal.yaml": spec.replace("memo:\n  to: The Secretary\n", named)})
    out = tmp_path / "out"
    argv = ("--data", mini_data, "--templates", tmp_path / "tpl", "--out", out, "--audience", "principal")
    code, _, stderr = run_cli(*argv, "--format", "md", "--format", "pdf", "--format", "docx")
    assert code == 0, stderr
    md = (out / "mini" / "principal.md").read_text(encoding="utf-8")
    pdf = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(out / "mini" / "principal.pdf").pages)
    word = [p.text for p in docx.Document(str(out / "mini" / "principal.docx")).paragraphs]
    for shown in (
        "SCA – Jane Roe, Acting Assistant Secretary (a fictional name)",
        "(U) Drafted: SCA/CEN: A. Analyst, ext. 7-1234",
        "(U) Cleared: SCA/CEN: B. Director; SCA/RA: C. Officer",
    ):
        assert shown in md.replace("\\(U)", "(U)"), shown
        assert shown in pdf, shown
        assert any(shown in line for line in word), shown

"""Issue 22: a brief that is true on its date — dated judgments, `about` that names something, reviews."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefs.data.load import dataset_warnings, load_datasets
from briefs.errors import InputError
from tests.conftest import RunCli, write_tree

JUDGMENT = """\
judgments:
  - id: floods-recur
    text: Floods are likely to recur next spring.
    likelihood: likely
    confidence: moderate
    made: 2022-06-30
    basis: One report.
    cites: [report#2]
{extra}"""

UPDATE = """\
updates:
  - id: dry-spring
    date: "2023-05"
    text: The spring of 2023 was dry; the river stayed within its banks.
    about: [{about}]
    cites: [report]
"""


def problems(data: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_datasets(data)
    return [str(p) for p in info.value.problems]


def test_dangling_about_is_refused_with_file_and_line(mini_data: Path) -> None:
    write_tree(mini_data / "mini", {"updates.yaml": UPDATE.format(about="floods-recurr")})
    path = mini_data / "mini" / "updates.yaml"
    assert problems(mini_data) == [f"{path}:5:13: updates[0].about[0]: unknown record 'floods-recurr'"]


def test_empty_about_is_refused(mini_data: Path) -> None:
    write_tree(mini_data / "mini", {"updates.yaml": UPDATE.replace("[{about}]", "[]")})
    path = mini_data / "mini" / "updates.yaml"
    (problem,) = problems(mini_data)
    assert problem.startswith(f"{path}:5:5: updates[0].about: an empty `about` names nothing")


def test_about_may_name_a_paragraph(mini_data: Path) -> None:
    folder = mini_data / "mini"
    text = (folder / "dataset.yaml").read_text()
    (folder / "dataset.yaml").write_text(
        text.replace("    - text: The river rose", "    - id: rise-point\n      text: The river rose")
    )
    write_tree(folder, {"updates.yaml": UPDATE.format(about="paragraphs:rise-point")})
    assert load_datasets(mini_data)
    write_tree(folder, {"updates.yaml": UPDATE.format(about="paragraphs:rise")})  # a figure's id, not a paragraph's
    (problem,) = problems(mini_data)
    assert "unknown record 'paragraphs:rise'" in problem


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    status: holds\n", "judgments[0]: expected a `reviewed:` date with `status:`"),
        ("    horizon: '2023'\n    likelihood: null\n", ""),
        ("    reviewed: 2022-01-01\n", "judgments[0]: expected `reviewed:` (2022-01-01) on or after `made:`"),
        ("    status_note: Still true.\n", "judgments[0]: expected a `status:` with `status_note:`"),
    ],
)
def test_judgment_dates_and_status_are_consistent(mini_data: Path, extra: str, message: str) -> None:
    if "likelihood: null" in extra:  # a horizon on a judgment that is not a forecast
        text = JUDGMENT.format(extra="").replace("    likelihood: likely\n", "").replace("are likely to", "recur")
        text = text.replace("    made:", "    horizon: '2023'\n    made:")
        message = "judgments[0]: expected `horizon:` only on a forecast"
    else:
        text = JUDGMENT.format(extra=extra)
    write_tree(mini_data / "mini", {"judgments.yaml": text})
    (problem,) = problems(mini_data)
    assert message in problem, problem
    assert f"{mini_data / 'mini' / 'judgments.yaml'}:2:5:" in problem


def test_check_warns_about_an_unreviewed_judgment_a_newer_update_is_about(mini_data: Path, run_cli: RunCli) -> None:
    folder = mini_data / "mini"
    write_tree(
        folder, {"judgments.yaml": JUDGMENT.format(extra=""), "updates.yaml": UPDATE.format(about="floods-recur")}
    )
    (loaded,) = load_datasets(mini_data)
    (warning,) = dataset_warnings(loaded)
    assert str(warning).startswith(f"{folder / 'judgments.yaml'}:2:5: judgments[0].id: judgment 'floods-recur' was ")
    assert "never reviewed" in str(warning) and "'dry-spring' (2023-05)" in str(warning)
    code, _, err = run_cli("check", "--data", mini_data)
    assert code == 0, err
    assert f"warning: {warning}" in err

    # Reviewed before the update: still warned, naming the review's line. Reviewed after it: no warning.
    write_tree(folder, {"judgments.yaml": JUDGMENT.format(extra="    reviewed: 2023-01-10\n    status: holds\n")})
    (loaded,) = load_datasets(mini_data)
    (warning,) = dataset_warnings(loaded)
    assert "judgments.yaml:9:5: judgments[0].reviewed: judgment 'floods-recur' was last reviewed 2023-01-10" in str(
        warning
    )
    write_tree(folder, {"judgments.yaml": JUDGMENT.format(extra="    reviewed: 2023-06-02\n    status: overtaken\n")})
    (loaded,) = load_datasets(mini_data)
    assert dataset_warnings(loaded) == []


def test_a_judgment_without_made_is_dated_by_the_dataset(mini_data: Path) -> None:
    """Another office's data written before `made:` existed still loads; its judgments date from `as_of`."""
    folder = mini_data / "mini"
    write_tree(
        folder,
        {
            "judgments.yaml": JUDGMENT.replace("    made: 2022-06-30\n", "").format(extra=""),
            "updates.yaml": UPDATE.format(about="floods-recur"),
        },
    )
    (loaded,) = load_datasets(mini_data)
    assert loaded.dataset.judgments[0].made is None
    (warning,) = dataset_warnings(loaded)
    assert f"made {loaded.dataset.info.as_of}, never reviewed" in str(warning)


# --- A brief is true on its date: revisions travel with what they revise, trimmed or not -------------

REVISING = {
    "judgments.yaml": """\
judgments:
  - id: floods-recur
    text: Floods are likely to recur next spring.
    likelihood: likely
    confidence: moderate
    horizon: "2023-06"
    basis: One report.
    cites: [report#2]
""",
    "updates.yaml": """\
updates:
  - id: rise-revised
    date: "2022-09-12"
    text: A survey by the river authority put the peak rise at 5 meters, not 4.
    revision: since revised to 5 meters.
    about: [figures:rise, events:flood]
    priority: 5
    cites: [report]
  - id: dry-spring
    date: "2023-05"
    text: The spring of 2023 was dry; the river stayed within its banks.
    about: [floods-recur]
    priority: 5
    cites: [report]
""",
}

FULL = """\
title: Full memo
formats: [md, html, pdf]
sections: [summary, key_points, key_figures, figures, timeline, judgments, updates, recommendations]
"""

TIGHT = """\
title: Tight memo
formats: [md, html, pdf]
limits: {words: %d}
overflow: trim
abridged_note: the Full memo has the rest
sections: [bluf, key_figures, timeline, judgments, updates, recommendations]
"""


@pytest.mark.parametrize("words", [400, 130, 95])
def test_no_brief_shows_a_revised_record_without_its_revision(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, words: int
) -> None:
    """Low-priority updates revise a figure, an event and a forecast: every brief, trimmed or not, in every format,
    shows each revised record with its revision, a forecast overtaken as not live, and a date and as-of line that
    match what it shows."""
    write_tree(mini_data / "mini", REVISING)
    templates = write_tree(tmp_path / "tpl", {"audiences/full.yaml": FULL, "audiences/tight.yaml": TIGHT % words})
    out = tmp_path / "out"
    code, _, err = run_cli("--data", mini_data, "--templates", templates, "--out", out, "--time-limit", "0")
    assert code == 0, err
    import pypdf

    for audience in ("full", "tight"):
        md = (out / "mini" / f"{audience}.md").read_text(encoding="utf-8")
        html = (out / "mini" / f"{audience}.html").read_text(encoding="utf-8")
        pdf = " ".join(p.extract_text() for p in pypdf.PdfReader(out / "mini" / f"{audience}.pdf").pages)
        pdf = " ".join(pdf.split())
        for text in (md, html, pdf):
            if "River rise" in text or "4 meters" in text.replace("\xa0", " "):
                assert "since revised to 5 meters" in text, audience
            if "The river Test floods" in text:
                assert "since revised to 5 meters" in text, audience
            if "Floods are likely to recur" in text:
                # a later update bears on the forecast, unreviewed: never shown as live
                assert "not reviewed since later developments bear on it" in text, (audience, text)
        phrases = (("2022-09-12", "5 meters"), ("2023-05", "stayed within its banks"))
        shown = [d for d, phrase in phrases if phrase in md]
        newest = {"2022-09-12": "September 12, 2022", "2023-05": "May 2023"}
        if shown:
            assert f"later developments through {newest[max(shown)]}" in md, (audience, md)
        else:
            assert "later developments" not in md, (audience, md)
        dated = {"2022-09-12": "September 12, 2022", "2023-05": "May 1, 2023"}
        head = md.split("\n## ", 1)[0]
        assert (dated[max(shown)] if shown else "June 30, 2022") in head, (audience, head)
        if audience == "tight" and words < 400:
            assert "Abridged to fit" in md and "the Full memo has the rest" in md, md
        if audience == "full":
            assert "Abridged" not in md


SECOND_SOURCE = """\
  - id: gauge
    title: River gauge readings for May
    publisher: Testland Water Board
    date: 2022-05-20
    url: https://example.org/gauge
"""


def _analysis(*claims: tuple[str, str]) -> dict[str, str]:
    """One analysis paragraph of these (text, cites) claims."""
    body = "".join(f"          - text: {text}\n            cites: [{cites}]\n" for text, cites in claims)
    return {"analysis.yaml": "sections:\n  - id: part\n    title: Part\n    paragraphs:\n      - claims:\n" + body}


def test_a_claim_resting_on_the_main_source_alone_must_say_so(mini_data: Path) -> None:
    """'The river will flood again', cited to the report alone, reads as the office's own finding (issue 22)."""
    write_tree(mini_data / "mini", _analysis(("The river will flood again next spring.", "report#2")))
    path = mini_data / "mini" / "analysis.yaml"
    (problem,) = problems(mini_data)
    assert problem.startswith(f"{path}:6:13: sections[0].paragraphs[0].claims[0].text: rests on 'report' alone")
    assert "expected the text to attribute it ('Test Institute argues…'" in problem


@pytest.mark.parametrize(
    "text",
    [
        "The report expects the river to flood again next spring.",
        "Test Institute warns that the river will flood again next spring.",
        "The river, its authors argue, will flood again next spring.",
    ],
)
def test_an_attributed_claim_passes(mini_data: Path, text: str) -> None:
    write_tree(mini_data / "mini", _analysis((text, "report#2")))
    assert load_datasets(mini_data)


def test_a_claim_another_source_confirms_speaks_in_the_office_voice(mini_data: Path) -> None:
    folder = mini_data / "mini"
    (folder / "sources.yaml").write_text((folder / "sources.yaml").read_text() + SECOND_SOURCE)
    write_tree(folder, _analysis(("The river rose 4 meters in May.", "report#2, gauge")))
    assert load_datasets(mini_data)


def test_attribution_carries_through_a_run_of_the_sources_claims_but_not_past_another_source(
    mini_data: Path,
) -> None:
    folder = mini_data / "mini"
    (folder / "sources.yaml").write_text((folder / "sources.yaml").read_text() + SECOND_SOURCE)
    write_tree(
        folder,
        _analysis(
            ("The report says the river rose 4 meters.", "report#2"),
            ("It expects another flood next spring.", "report#2"),  # same run: attributed by the first
            ("Gauges confirm the rise.", "gauge"),
            ("Aid will be needed for a year.", "report#2"),  # a new run: must attribute itself
        ),
    )
    (problem,) = problems(mini_data)
    assert "claims[3].text: rests on 'report' alone" in problem

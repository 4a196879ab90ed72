"""Issue 24: nothing a user writes is lost in silence."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import RunCli, write_tree

ACTION_ONLY_YAML = """\
    title: Action Memo
    memo_type: action
    decide_by: 2023-05-15
    memo:
      to: The Director
      through: The Deputy Director
      prepared_by: A. Analyst
      cleared_by: B. Chief
    formats: [md, html]
    sections:
      - bluf
      - {id: recommendations, title: What we recommend}
      - sources
    """


def test_an_audience_file_alone_gets_every_memo_part(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """No template of its own: TO/FROM/SUBJECT, DECIDE BY, Approve/Disapprove and sign-off come from the base."""
    user = write_tree(tmp_path / "mine", {"audiences/decision.yaml": ACTION_ONLY_YAML})
    out = tmp_path / "out"
    code, _, err = run_cli("--data", mini_data, "--templates", user, "--out", out, "--audience", "decision")
    assert code == 0, err
    for fmt in ("md", "html"):
        text = (out / "mini" / f"decision.{fmt}").read_text(encoding="utf-8")
        flat = " ".join(re.sub(r"<[^>]+>", " ", text).replace("*", "").split())
        assert "ACTION MEMO FOR THE DIRECTOR" in flat, fmt
        assert "TO: The Director" in flat and "THROUGH: The Deputy Director" in flat, flat
        assert "SUBJECT: Testland after the floods" in flat
        assert "DECIDE BY: May 15, 2023" in flat
        assert "That you send flood aid." in flat
        assert re.search(r"Approve (\\_|_)+ Disapprove", flat), flat
        assert "What we recommend" in flat  # an action memo's section keeps its title
        assert "Drafted: A. Analyst" in flat and "Cleared: B. Chief" in flat


def _flat(text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text).replace("*", "").split())


def test_congress_options_stand_alone_when_no_issues_box(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """The mini data's implication is of priority 3: "Options Congress may consider" (trim: false) still shows."""
    dataset = mini_data / "mini" / "dataset.yaml"
    dataset.write_text(
        dataset.read_text() + "  implications:\n    - text: The report says aid may be needed for a year.\n"
        "      cites: [report#2]\n      priority: 3\n"
    )
    (mini_data / "mini" / "options.yaml").write_text(
        "options:\n  - id: hearing\n    lever: oversight\n    text: Hold a hearing on flood aid.\n"
        "    pros: Aid is needed, the report says.\n    cons: The report gives no costs.\n    cites: [report#2]\n"
    )
    out = tmp_path / "out"
    code, _, err = run_cli(
        "--data", mini_data, "--out", out, "--audience", "congress", "--format", "md", "--format", "html"
    )
    assert code == 0, err
    for fmt in ("md", "html"):
        flat = _flat((out / "mini" / f"congress.{fmt}").read_text(encoding="utf-8"))
        assert "Options Congress may consider" in flat, fmt
        assert "Hold a hearing on flood aid." in flat and "Against:" in flat, flat
        assert "flood aid." in flat and "Send flood aid" not in flat  # congress recommends nothing (voice: neutral)
    code, _, err = run_cli("check", "--data", mini_data, "--audience", "congress")
    assert code == 0, err
    # The empty "Issues for Congress" is said, at its line of the audience file.
    assert re.search(r"warning: \S*congress\.yaml:\d+:\d+: sections\[\d+\]: mini: section 'implications'", err), err
    assert "Issues for Congress" in err and "priority ≤ 2" in err


def test_check_names_a_section_the_template_never_shows(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """A user template whose body skips a section the audience asks for fails `check`, naming the section."""
    user = write_tree(
        tmp_path / "mine",
        {
            "audiences/note.yaml": """\
                title: Note
                formats: [md]
                sections: [summary, {id: timeline, title: What happened}, sources]
                """,
            "audiences/note.md.j2": """\
                {% extends "base/layout.md.j2" %}
                {% block body %}{{ info.summary }}
                {% for s in sections if s.kind == "sources" %}{% for n in s.items %}{{ n.record.markdown }}
                {% endfor %}{% endfor %}{% endblock %}
                """,
        },
    )
    code, _, err = run_cli("check", "--data", mini_data, "--templates", user, "--audience", "note")
    assert code == 2, err
    assert "note.md.j2" in err and "shows nothing of section 'timeline' (“What happened”)" in err, err
    assert "sources" not in err.split("shows nothing of section", 1)[1].split("\n")[0].split("(")[0]


def test_a_report_source_is_never_called_an_article(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """Every shipped audience names a `report` source by its kind: no "Since the article", no "the article's"."""
    sources = mini_data / "mini" / "sources.yaml"
    sources.write_text(sources.read_text().replace("    publisher:", "    kind: report\n    publisher:"))
    records = mini_data / "mini" / "records.yaml"
    records.write_text(
        records.read_text()
        + "updates:\n  - id: later\n    date: 2022-07-02\n    text: The river fell.\n    priority: 1\n"
        + "    cites: [news]\n"
    )
    sources.write_text(
        sources.read_text()
        + "  - id: news\n    kind: news\n    title: River falls\n    publisher: Test News\n    date: 2022-07-02\n"
        + "    url: https://example.org/falls\n"
    )
    out = tmp_path / "out"
    code, _, err = run_cli("--data", mini_data, "--out", out, "--format", "md", "--format", "html")
    assert code == 0, err
    seen_since = False
    for path in sorted((out / "mini").glob("*.*")):
        if path.suffix not in (".md", ".html"):
            continue
        text = path.read_text(encoding="utf-8")
        assert "article" not in text.lower(), (path.name, [ln for ln in text.splitlines() if "rticle" in ln])
        seen_since = seen_since or "Since the report" in text
    assert seen_since  # the updates section is there, named by the source's kind


def test_check_refuses_a_recommendation_for_audiences_that_cannot_show_it(mini_data: Path, run_cli: RunCli) -> None:
    """`audiences: [dsk]` (a typo) and `[principal]` (no recommendations section) would each show it nowhere."""
    records = mini_data / "mini" / "records.yaml"
    records.write_text(
        records.read_text()
        + "  - id: levee\n    text: Raise the levee.\n    origin: derived\n    basis: The river rose.\n"
        + "    cites: [report#2]\n    audiences: [dsk, principal]\n"
    )
    code, _, err = run_cli("check", "--data", mini_data, "--audience", "desk")
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert any(
        re.search(
            r"records\.yaml:\d+:\d+: recommendations\[1\]\.audiences\[0\]: "
            r"unknown audience 'dsk' \(did you mean 'desk'\?\)",
            ln,
        )
        for ln in lines
    ), err
    code, _, err = run_cli("check", "--data", mini_data)
    assert code == 2
    assert "recommendations[1].audiences[1]: audience 'principal' has no `recommendations` section" in err, err


def test_check_refuses_a_block_its_layout_does_not_define(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """`{% block mastehad %}` would be dropped without a word: check names it, with the block meant."""
    user = write_tree(
        tmp_path / "mine",
        {
            "audiences/note.yaml": "title: Note\nformats: [md]\nsections: [summary, sources]\n",
            "audiences/note.md.j2": '{% extends "base/layout.md.j2" %}\n\n{% block mastehad %}# Ours{% endblock %}\n',
        },
    )
    code, _, err = run_cli("check", "--data", mini_data, "--templates", user, "--audience", "note")
    assert code == 2, err
    assert re.search(
        r"note\.md\.j2:3: block 'mastehad' is not one its layout defines \(did you mean 'masthead'\?\)", err
    ), err


def test_check_refuses_a_corrected_error_repeated_in_prose(mini_data: Path, run_cli: RunCli) -> None:
    """A correction says Berbera is in Somaliland: the data's own summary may not say Djibouti."""
    dataset = mini_data / "mini" / "dataset.yaml"
    dataset.write_text(
        dataset.read_text().replace("had *floods* in May.", "had floods near the port of Berbera in Djibouti.")
    )
    records = mini_data / "mini" / "records.yaml"
    records.write_text(
        records.read_text()
        + "corrections:\n  - id: berbera\n    location: report#2\n    kind: fact\n"
        + "    source_says: Berbera in Djibouti\n    correct: Berbera in Somaliland\n"
        + "    evidence: Berbera is a port of Somaliland.\n    cites: [report#2]\n"
    )
    code, _, err = run_cli("check", "--data", mini_data)
    assert code == 2, err
    assert re.search(
        r"dataset\.yaml:\d+:\d+: info\.summary: repeats 'Berbera in Djibouti', "
        r"which correction 'berbera' records as wrong",
        err,
    ), err


@pytest.mark.parametrize(
    ("summary", "repeated"),
    [
        ("Testland had floods near the port of Berbera in Djibouti.", "the port of berbera in djibouti"),
        ("Testland had floods near BERBERA, in “Djibouti”.", "berbera in djibouti"),  # case, quotes, commas
        ("Testland had floods; ships at *Berbera* in Djibouti waited.", "berbera in djibouti"),
        ("Testland had floods; aid came by way of Djibouti.", None),  # the wrong word for itself is no repeat
        ("Testland had floods near the port of Berbera in Somaliland.", None),
        ("Testland had floods near the port of Berbera.", None),  # the words the correction keeps
    ],
)
def test_check_refuses_a_corrected_error_repeated_in_part(
    mini_data: Path, run_cli: RunCli, summary: str, repeated: str | None
) -> None:
    """A repeat in other surrounding words, case or punctuation is a repeat (issue 24): its distinctive part."""
    dataset = mini_data / "mini" / "dataset.yaml"
    dataset.write_text(dataset.read_text().replace("Testland had *floods* in May.", json.dumps(summary)))
    records = mini_data / "mini" / "records.yaml"
    records.write_text(
        records.read_text()
        + "corrections:\n  - id: berbera\n    location: report#2\n    kind: fact\n"
        + "    source_says: the port of Berbera in Djibouti\n    correct: the port of Berbera in Somaliland\n"
        + "    evidence: Berbera is a port of Somaliland.\n    cites: [report#2]\n"
    )
    code, _, err = run_cli("check", "--data", mini_data)
    if repeated is None:
        assert code == 0, err
        return
    assert code == 2, err
    part = "" if repeated == "the port of berbera in djibouti" else f" \\('{repeated}'\\)"
    assert re.search(
        rf"dataset\.yaml:\d+:\d+: info\.summary: repeats 'the port of Berbera in Djibouti'{part}, "
        r"which correction 'berbera' records as wrong \(the source's fact\); expected 'the port of Berbera in",
        err,
    ), err


JUDGMENT = """\
judgments:
  - id: displacement
    text: Displacement is likely to rise.
    likelihood: likely
    basis: The river rose.
    cites: [report#2]
"""


def _errors(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("error:")]


def test_one_mistake_one_error(mini_data: Path, run_cli: RunCli) -> None:
    """A judgment missing `confidence` is one error, not also "unknown judgment" where a claim states it."""
    records = mini_data / "mini" / "records.yaml"
    records.write_text(records.read_text() + JUDGMENT)
    dataset = mini_data / "mini" / "dataset.yaml"
    text = dataset.read_text()
    dataset.write_text(
        text.replace("      cites: [report#2]\n", "      cites: [report#2]\n      judgment: displacement\n", 1)
    )
    code, _, err = run_cli("check", "--data", mini_data)
    assert code == 2
    assert len(_errors(err)) == 1 and "judgments[0].confidence: required key missing" in err, err


def test_a_rule_about_a_whole_record_does_not_say_found_a_mapping(mini_data: Path, run_cli: RunCli) -> None:
    records = mini_data / "mini" / "records.yaml"
    records.write_text(
        records.read_text()
        + JUDGMENT.replace("likelihood: likely", "likelihood: almost certain").replace(
            "    basis:", "    confidence: high\n    basis:"
        )
    )
    code, _, err = run_cli("check", "--data", mini_data)
    assert code == 2
    assert "its likelihood word 'almost certain' (ICD 203)" in err and "found a mapping" not in err, err


def test_a_syntax_error_does_not_hide_the_other_files_mistakes(mini_data: Path, run_cli: RunCli) -> None:
    """One pass shows both: the broken file's syntax and another file's schema error."""
    (mini_data / "mini" / "more.yaml").write_text("themes:\n  - id: water\n    label: [Water\n")
    records = mini_data / "mini" / "records.yaml"
    records.write_text(records.read_text().replace("    unit: meters\n", "    unit: meters\n    colour: blue\n"))
    code, _, err = run_cli("check", "--data", mini_data)
    assert code == 2
    errors = _errors(err)
    assert any("more.yaml:3" in e and "YAML syntax" in e for e in errors), err
    assert any("records.yaml" in e and "figures[0].colour: unknown key" in e for e in errors), err
    assert not any("required key missing" in e for e in errors), err


SCOPED_YAML = """\
    title: Action Memo
    datasets: [mini]
    formats: [md]
    sections: [bluf, recommendations, sources]
    distribution:
      to: [office@example.org]
      attach: [md]
    """


def test_an_audience_scoped_to_one_dataset_builds_and_sends_only_there(
    two_datasets: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """`datasets: [mini]`: no mini2 brief of it, and `send` does not report mini2 skipped."""
    user = write_tree(tmp_path / "mine", {"audiences/office.yaml": SCOPED_YAML})
    out = tmp_path / "out"
    where = ("--data", two_datasets, "--templates", user, "--out", out)
    code, stdout, err = run_cli(*where, "--format", "md")
    assert code == 0, err
    assert (out / "mini" / "office.md").is_file()
    assert not (out / "mini2" / "office.md").exists()
    assert (out / "mini2" / "desk.md").is_file()  # the shipped audiences still go with every dataset
    code, stdout, err = run_cli("send", *where, "--dry-run", "--outbox", tmp_path / "outbox")
    assert code == 0, err
    assert "mini2/office" not in stdout + err, stdout + err
    assert "mini/office" in stdout + err
    code, stdout, _ = run_cli("list", *where)
    assert "mini/office.md" in stdout and "mini2/office" not in stdout


def test_a_dataset_names_its_audiences_and_a_typo_is_caught(
    two_datasets: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    dataset = two_datasets / "mini2" / "dataset.yaml"
    dataset.write_text(dataset.read_text().replace("info:\n", "info:\n  audiences: [desk]\n", 1))
    out = tmp_path / "out"
    code, _, err = run_cli("--data", two_datasets, "--out", out, "--format", "md")
    assert code == 0, err
    assert sorted(p.name for p in (out / "mini2").glob("*.md")) == ["desk.md"]
    assert (out / "mini" / "public.md").is_file()
    dataset.write_text(dataset.read_text().replace("audiences: [desk]", "audiences: [dsek]"))
    user = write_tree(tmp_path / "mine", {"audiences/office.yaml": SCOPED_YAML.replace("[mini]", "[mnii]")})
    code, _, err = run_cli("check", "--data", two_datasets, "--templates", user)
    assert code == 2
    assert re.search(
        r"mini2/dataset\.yaml:2:\d+: info\.audiences\[0\]: unknown audience 'dsek' \(did you mean 'desk'\?\)", err
    ), err
    assert re.search(r"office\.yaml:2:\d+: datasets\[0\]: unknown dataset 'mnii' \(did you mean 'mini'\?\)", err), err


def test_font_sans_on_the_principal_look_sets_headings_too(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """`font: sans` with `template: principal`: no serif headings under sans body text."""
    shipped = (Path(__file__).parent.parent / "templates" / "audiences" / "principal.yaml").read_text()
    text = shipped.replace("font: serif", "font: sans") + "template: principal\n"
    user = write_tree(tmp_path / "mine", {"audiences/sansmemo.yaml": text})
    out = tmp_path / "out"
    code, _, err = run_cli(
        "--data", mini_data, "--templates", user, "--out", out, "--audience", "sansmemo", "--format", "html"
    )
    assert code == 0, err
    html = (out / "mini" / "sansmemo.html").read_text(encoding="utf-8")
    rules = [
        ln
        for ln in html.splitlines()
        if re.match(r"\s*(h2|\.memo-kind|table\.memo-lines th)\s*\{", ln) and '"Brief ' in ln
    ]
    assert rules and all('"Brief Sans"' in ln and "Serif" not in ln for ln in rules), rules

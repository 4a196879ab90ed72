"""Issue 24: nothing a user writes is lost in silence."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import RunCli, write_tree

ACTION_ONLY_YAML = """\
    title: Action Memo
    memo_type: action
    decide_by: 2022-07-15
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
        assert "DECIDE BY: July 15, 2022" in flat
        assert "That you send flood aid." in flat
        assert re.search(r"Approve (\\_|_)+ Disapprove", flat), flat
        assert "What we recommend" in flat  # an action memo's section keeps its title
        assert "Drafted: A. Analyst" in flat and "Cleared: B. Chief" in flat


def _flat(text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text).replace("*", "").split())


def test_congress_options_stand_alone_when_no_issues_box(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """The mini data has no implications: "Options Congress may consider" (trim: false) still shows, with its note."""
    out = tmp_path / "out"
    code, _, err = run_cli(
        "--data", mini_data, "--out", out, "--audience", "congress", "--format", "md", "--format", "html"
    )
    assert code == 0, err
    for fmt in ("md", "html"):
        flat = _flat((out / "mini" / f"congress.{fmt}").read_text(encoding="utf-8"))
        assert "Options Congress may consider" in flat, fmt
        assert "Whether to send flood aid." in flat, flat
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

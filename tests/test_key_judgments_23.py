"""Issue 23 §1: the analytic memo's key judgments on page 1, each with its basis, the office's own first.

A judgment's last review ("Reviewed April 24, 2023 (holds on review): …") ran three lines under each, so
page 1 held three of the six; with `reviews: updates` the reviews move to the updates annex, under "Key
judgments reviewed", and the label under each judgment still says what its review found.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pypdf
import pytest

from briefs.data.load import load_dataset
from tests.conftest import SHIPPED_DATA, RunCli

DATASET = "kazakhstan-2022"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


def _shown_judgments(md: str) -> list[str]:
    """The statements in the Markdown's Key judgments section, without the portion mark and note."""
    part = md.split("## Key judgments", 1)[1].split("\n## ", 1)[0]
    bullets = re.findall(r"^- \\\(U\) (.+?)(?:\[\^\d+\]| \*\()", part, flags=re.M)
    return [_flat(b) for b in bullets]


def test_desk_page_one_holds_four_to_six_key_judgments_each_with_its_basis(shipped_build: Path) -> None:
    folder = shipped_build / DATASET
    statements = _shown_judgments((folder / "desk.md").read_text(encoding="utf-8"))
    assert 4 <= len(statements) <= 6, statements
    page_one = _flat(pypdf.PdfReader(folder / "desk.pdf").pages[0].extract_text())
    on_page_one = [s for s in statements if s[:60] in page_one]
    assert len(on_page_one) >= 4, (len(on_page_one), page_one[-400:])
    assert on_page_one == statements[: len(on_page_one)]  # in order: none skipped
    # Each judgment on page 1 has its basis there too, directly after it.
    assert page_one.count("Basis:") >= len(on_page_one)
    assert "Reviewed" not in page_one


def test_desk_shows_every_review_in_its_updates_annex_with_its_notes(shipped_build: Path) -> None:
    loaded, problems = load_dataset(SHIPPED_DATA / DATASET)
    assert loaded is not None, problems
    md = (shipped_build / DATASET / "desk.md").read_text(encoding="utf-8")
    judgments_part = md.split("## Key judgments", 1)[1].split("\n## ", 1)[0]
    reviewed_part = md.split("### Key judgments reviewed", 1)[1].split("\n## ", 1)[0]
    assert md.split("### Key judgments reviewed", 1)[0].rsplit("\n## ", 1)[1].startswith("Annex F: Updates")
    shown = _shown_judgments(md)
    reviewed = [j for j in loaded.dataset.judgments if j.status_note and _flat(j.text) in shown]
    assert reviewed, "the shipped desk memo shows reviewed judgments"
    for judgment in reviewed:
        opening = _flat(judgment.status_note or "")[:50].replace("'", "’")
        assert opening not in _flat(judgments_part)
        assert opening in _flat(reviewed_part), opening
    # The reviews' notes are numbered where they are read: each one defined among the notes.
    for number in re.findall(r"\[\^(\d+)\]", reviewed_part):
        assert f"\n[^{number}]: " in md
    # The label under each judgment still says what its review found.
    assert "holds on review, April 24, 2023" in judgments_part


def test_reviews_in_updates_need_an_updates_section_after_the_judgments(
    tmp_path: Path, mini_data: Path, run_cli: RunCli
) -> None:
    templates = tmp_path / "templates" / "audiences"
    templates.mkdir(parents=True)
    (templates / "memo.yaml").write_text(
        textwrap.dedent(
            """\
            title: Memo
            sections:
              - {id: judgments, reviews: updates}
              - summary
            """
        ),
        encoding="utf-8",
    )
    code, _, err = run_cli("check", "--data", mini_data, "--templates", tmp_path / "templates")
    assert code == 2, err
    assert "memo.yaml" in err and "`reviews: updates` is for a `judgments` section followed by an `updates`" in err


def test_reviews_in_updates_is_an_option_of_judgments_only() -> None:
    from pydantic import ValidationError

    from briefs.data.model import Audience

    with pytest.raises(ValidationError, match="found it on `summary`"):
        Audience.model_validate({"id": "x", "title": "X", "sections": [{"id": "summary", "reviews": "updates"}]})
    spec = Audience.model_validate({"id": "x", "title": "X", "sections": ["judgments", "updates"]}).sections[0]
    assert spec.reviews == "under"


def test_check_refuses_an_updates_template_that_leaves_the_reviews_out(tmp_path: Path, run_cli: RunCli) -> None:
    """With `reviews: updates` the reviews are shown nowhere else: a template that skips them loses them."""
    sections = tmp_path / "templates" / "base" / "sections"
    sections.mkdir(parents=True)
    (sections / "updates.html.j2").write_text(
        '<section id="updates"><h2>{{ m.heading(section) }}</h2><ul>{% for item in section.items %}'
        "<li>{{ item.text | prose }}{{ cite(item.notes) }}</li>{% endfor %}</ul></section>\n",
        encoding="utf-8",
    )
    (sections / "updates.md.j2").write_text(
        "## {{ m.heading(section) | mdsafe }}\n\n{% for item in section.items %}- {{ item.text | prose }}"
        "{{ cite(item.notes) }}\n{% endfor %}\n",
        encoding="utf-8",
    )
    code, _, err = run_cli("check", "--data", SHIPPED_DATA, "--templates", tmp_path / "templates")
    assert code == 2, err
    assert "kazakhstan-2022/desk: the template shows none of the key judgments' reviews" in err, err
    assert "congress" not in err and "public" not in err  # they keep their reviews under the judgments


def test_reviews_alone_still_open_the_updates_section(mini_data: Path, run_cli: RunCli, tmp_path: Path) -> None:
    """A dataset with no later developments but a reviewed judgment: the updates section shows the review,
    numbered after the judgment's own note, rather than vanishing with the review in it."""
    from tests.conftest import write_tree

    templates = tmp_path / "templates"
    write_tree(
        templates,
        {
            "audiences/memo.yaml": """\
                title: Memo
                sections:
                  - {id: judgments, reviews: updates}
                  - summary
                  - updates
                  - sources
                """
        },
    )
    write_tree(
        mini_data / "mini",
        {
            "judgments.yaml": """\
                judgments:
                  - id: floods-recur
                    made: 2022-06-30
                    text: Floods are likely to recur next spring.
                    likelihood: likely
                    confidence: moderate
                    by: analyst
                    basis: One report.
                    reviewed: 2022-09-01
                    status: holds
                    status_note: The autumn gauge readings are as high as last year's.
                    status_cites: [report#2]
                    cites: [report#1]
                """
        },
    )
    out = tmp_path / "out"
    argv = ("--data", mini_data, "--templates", templates, "--out", out, "-q", "--format", "md", "--audience", "memo")
    code, _, err = run_cli(*argv)
    assert code == 0, err
    md = (out / "mini" / "memo.md").read_text(encoding="utf-8")
    judgments = md.split("## Judgments", 1)[1].split("\n## ", 1)[0]  # the kind's default heading
    assert "Floods are likely to recur next spring." in judgments and "autumn gauge" not in judgments
    assert "holds on review, September 1, 2022" in judgments
    reviewed = md.split("### Key judgments reviewed", 1)[1]
    assert "*Reviewed September 1, 2022 (holds on review):* The autumn gauge readings" in reviewed, reviewed
    assert re.search(r"last year’s\.\[\^2\]", reviewed), reviewed  # its own note, numbered after the first


@pytest.mark.slow
def test_a_long_what_changed_list_does_not_push_the_key_judgments_off_page_one(tmp_path: Path, run_cli: RunCli) -> None:
    """A new edition lists every revision under "What changed"; on the desk memo that list comes after the key
    judgments, so page 1 still holds them however long it grows (it held one of five with eight revisions)."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA / DATASET, data / DATASET)
    out = tmp_path / "out"
    assert run_cli("build", "--data", data, "--out", out, "--audience", "desk", "-q")[0] == 0
    events = data / DATASET / "events.yaml"
    text = events.read_text(encoding="utf-8")
    titles = re.findall(r"^    title: (.+)$", text, flags=re.M)[:8]
    for title in titles:
        text = text.replace(f"    title: {title}\n", f"    title: {title} (as revised)\n", 1)
    events.write_text(text, encoding="utf-8")
    assert run_cli("build", "--data", data, "--out", out, "--audience", "desk", "-q")[0] == 0
    md = (out / DATASET / "desk.md").read_text(encoding="utf-8")
    changes = md.split("## What changed", 1)[1].split("\n## ", 1)[0]
    assert changes.count("(as revised)") >= 6, changes
    statements = _shown_judgments(md)
    page_one = _flat(pypdf.PdfReader(out / DATASET / "desk.pdf").pages[0].extract_text())
    assert len([s for s in statements if s[:60] in page_one]) >= 4, page_one[-400:]


def _section(md: str, heading: str) -> str:
    return md.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_a_sentence_stating_a_key_judgment_shown_above_points_to_it(shipped_build: Path) -> None:
    """Issue 23 §1, less repetition: the desk memo's implications restated two key judgments with their labels
    and their update in full. A sentence that states a judgment shown above now points to it, keeping what has
    become of it (so an overtaken judgment is never read as current); a brief without the judgments shows all."""
    loaded, problems = load_dataset(SHIPPED_DATA / DATASET)
    assert loaded is not None, problems
    desk = (shipped_build / DATASET / "desk.md").read_text(encoding="utf-8")
    judgments, implications = _section(desk, "Key judgments"), _section(desk, "Implications for US policy")
    assert any(j.status == "overtaken" and _flat(j.text)[:50] in _flat(desk) for j in loaded.dataset.judgments)
    assert "overtaken by events" in judgments and "*Update, April 1, 2023:*" in judgments
    pointers = re.findall(r"\*\(see Key judgments(?:: ([^)]*))?\)\*", implications)
    assert len(pointers) >= 2, implications[:600]
    assert any(p.startswith("overtaken by events") for p in pointers), pointers
    assert "*Update, April 1, 2023:*" not in implications  # shown once, with the judgment it revises
    assert "low confidence" not in implications and "moderate confidence" not in implications
    # The principal memo has no judgments section: the same sentence keeps its full label and update.
    principal = (shipped_build / DATASET / "principal.md").read_text(encoding="utf-8")
    assert "see Key judgments" not in principal
    if "first serious test" in principal:
        assert "overtaken by events" in principal

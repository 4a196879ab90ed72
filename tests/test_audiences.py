"""Audiences (issue 4): the four shipped briefs, user folders, limits, template mistakes, and the doc's walk-through."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pypdf
import pytest
import yaml

from tests.conftest import REPO, SHIPPED_DATA, SHIPPED_TEMPLATES, RunCli, write_tree

SHIPPED = ("congress", "desk", "principal", "public")
DOC = REPO / "docs" / "audiences.md"
DATASET = "kazakhstan-2022"


def pdf_text(path: Path) -> tuple[str, int]:
    reader = pypdf.PdfReader(path)
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


@pytest.fixture(scope="module")
def shipped_out(shipped_build: Path) -> Path:
    """Every shipped audience built once from the shipped data (the session's build, conftest.py)."""
    return shipped_build / DATASET


def page_limit(audience: str) -> int | None:
    spec = yaml.safe_load((SHIPPED_TEMPLATES / "audiences" / f"{audience}.yaml").read_text(encoding="utf-8"))
    limit = (spec.get("limits") or {}).get("pages")
    return int(limit) if limit is not None else None


@pytest.mark.parametrize("audience", SHIPPED)
def test_shipped_audience_builds_within_its_page_limit(shipped_out: Path, audience: str) -> None:
    text, pages = pdf_text(shipped_out / f"{audience}.pdf")
    limit = page_limit(audience)
    assert limit is None or pages <= limit, f"{audience}: {pages} pages > {limit}"
    # The title, or (a State memo has no title) the subject line.
    assert "How Russia’s invasion of Ukraine" in text or "SUBJECT: (U) Kazakhstan: balancing Russia" in text
    md = (shipped_out / f"{audience}.md").read_text(encoding="utf-8")
    assert "[^1]:" in md
    # No shipped audience writes front matter (issue 23: pasted into an issue, GitHub shows it as a table);
    # an audience for a static-site pipeline says `front_matter: true`. No blank line on top either.
    assert not md.startswith("---\n") and not md.startswith("\n")


def test_page_limits_are_the_issues(shipped_out: Path) -> None:
    assert {a: page_limit(a) for a in SHIPPED} == {"principal": 2, "congress": 2, "public": 4, "desk": None}


DISTINCTIVE = {
    "principal": ["UNCLASSIFIED", "INFORMATION MEMO FOR THE SECRETARY", "TO:", "FROM:", "SUBJECT:", "(U)", "BLUF:"],
    "desk": ["UNCLASSIFIED", "Key judgments", "Annex A: Timeline", "Indicators to watch", "Corrections to the source"],
    "congress": ["Issues for Congress", "Options Congress may consider", "Oversight.", "Against:", "Prepared by"],
    "public": ["Policy Brief", "Key takeaways", "Recommendations", "Analysis", "By the numbers"],
}


@pytest.mark.parametrize("audience", SHIPPED)
def test_distinctive_parts_in_pdf_and_markdown(shipped_out: Path, audience: str) -> None:
    text, _ = pdf_text(shipped_out / f"{audience}.pdf")
    md = (shipped_out / f"{audience}.md").read_text(encoding="utf-8")
    flat = " ".join(text.split()).lower()  # CSS may set a kicker in capitals
    for phrase in DISTINCTIVE[audience]:
        assert phrase.lower() in flat, f"{audience}.pdf lacks {phrase!r}"
        assert phrase in md, f"{audience}.md lacks {phrase!r}"


@pytest.mark.parametrize("audience", ["desk", "public"])  # congress recommends nothing (voice: neutral)
def test_every_audience_says_where_a_recommendation_comes_from(shipped_out: Path, audience: str) -> None:
    text, _ = pdf_text(shipped_out / f"{audience}.pdf")
    flat = " ".join(text.split()).lower()
    # The article makes one recommendation (stated); the rest are ours (derived), said in the reader's words.
    assert "recommended by fpri" in flat
    # The office's own in its memo; in the public brief (voice: authors), never "ours", which reads as policy.
    derived = (
        "our recommendation, drawn from fpri’s analysis" if audience == "desk" else "inferred from fpri’s analysis"
    )
    assert derived in flat
    if audience == "public":
        assert "our recommendation" not in flat


def test_the_information_memo_asks_for_no_decision(shipped_out: Path) -> None:
    text, _ = pdf_text(shipped_out / "principal.pdf")
    md = (shipped_out / "principal.md").read_text(encoding="utf-8")
    for out in (text, md):
        assert "Recommendation" not in out and "Approve" not in out
        assert "Looking ahead" in out


def test_public_brief_has_no_government_marking(shipped_out: Path) -> None:
    text, _ = pdf_text(shipped_out / "public.pdf")
    md = (shipped_out / "public.md").read_text(encoding="utf-8")
    for out in (text, md):
        assert "UNCLASSIFIED" not in out
        assert "(U)" not in out


def test_principal_marking_and_date_share_the_first_line(shipped_out: Path) -> None:
    reader = pypdf.PdfReader(shipped_out / "principal.pdf")
    first = reader.pages[0].extract_text(extraction_mode="layout").strip().splitlines()[0]
    assert re.search(r"UNCLASSIFIED\s+\w+ \d{1,2}, \d{4}$", first), first


def test_principal_bluf_is_at_most_four_lines(shipped_out: Path) -> None:
    reader = pypdf.PdfReader(shipped_out / "principal.pdf")
    lines = [ln.strip() for ln in reader.pages[0].extract_text(extraction_mode="layout").splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.removeprefix("(U) ").startswith("BLUF:"))
    end = next(i for i, ln in enumerate(lines) if ln.removeprefix("(U) ").startswith("Information as of"))
    assert 1 <= end - start <= 4, lines[start:end]


def test_list_shows_every_dataset_audience_and_format(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    user = write_tree(tmp_path / "mine", {"audiences/extra.yaml": "title: Extra\nsections: [bluf, sources]\n"})
    code, out, err = run_cli("list", "--data", mini_data, "--templates", user, "--out", tmp_path / "out")
    assert code == 0, err
    for audience in (*SHIPPED, "extra"):
        for fmt in ("pdf", "md"):
            assert f"mini/{audience}.{fmt}" in out
    assert "10 targets" in out


def copy_audience(user: Path, shipped_id: str, new_id: str, **changes: object) -> Path:
    """A user-folder copy of a shipped audience file with some top-level keys changed."""
    spec = yaml.safe_load((SHIPPED_TEMPLATES / "audiences" / f"{shipped_id}.yaml").read_text(encoding="utf-8"))
    spec.update(changes)
    if new_id != shipped_id:
        spec.setdefault("template", shipped_id)
    path = user / "audiences" / f"{new_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_action_memo_by_a_setting(tmp_path: Path, run_cli: RunCli) -> None:
    user = tmp_path / "mine"
    spec = yaml.safe_load((SHIPPED_TEMPLATES / "audiences" / "principal.yaml").read_text(encoding="utf-8"))
    sections = [*spec["sections"][:-1], {"id": "recommendations", "max": 2}, spec["sections"][-1]]
    # An action memo's recommendations are its point: fitting to two pages never drops them.
    copy_audience(user, "principal", "principal", memo_type="action", decide_by="2023-05-15", sections=sections)
    out = tmp_path / "out"
    code, _, err = run_cli("--data", SHIPPED_DATA, "--templates", user, "--out", out, "--audience", "principal")
    assert code == 0, err
    text, pages = pdf_text(out / DATASET / "principal.pdf")
    md = (out / DATASET / "principal.md").read_text(encoding="utf-8")
    flat = " ".join(text.split())
    assert pages <= 2
    assert "ACTION MEMO FOR THE SECRETARY" in flat and "INFORMATION MEMO" not in flat
    assert "Recommendation: (U) That you consider steps" in flat
    assert re.search(r"Approve _+ Disapprove _+", flat)
    assert "May 15, 2023" in flat
    assert "**Recommendation:** \\(U) That you consider steps" in md  # escaped: pandoc reads "(U) " as a list
    assert "Approve \\_\\_" in md and "May 15, 2023" in md


def test_action_memo_without_a_date_is_an_input_error(tmp_path: Path, run_cli: RunCli) -> None:
    user = tmp_path / "mine"
    path = copy_audience(user, "principal", "principal", memo_type="action")
    code, _, err = run_cli("check", "--data", SHIPPED_DATA, "--templates", user)
    assert code == 2
    # A rule across keys points at the line that asks for an action memo, and names what is missing.
    line = 1 + path.read_text(encoding="utf-8").splitlines().index("memo_type: action")
    assert f"mine/audiences/principal.yaml:{line}:1: memo_type: an action memo needs `decide_by:`" in err, err
    assert "`memo:`" not in err  # the shipped principal has a memo header


def test_unknown_section_names_file_and_line(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    user = write_tree(tmp_path / "mine", {"audiences/bad.yaml": "title: Bad\nsections:\n  - bluf\n  - sumary\n"})
    code, _, err = run_cli("check", "--data", mini_data, "--templates", user)
    assert code == 2
    assert re.search(r"audiences/bad\.yaml:4:\d+: sections\[1\]\.id: .*found 'sumary'", err), err


@pytest.mark.parametrize(
    ("limits", "formats", "said"),
    [
        ({"pages": 1}, ("md",), r"[2-9] pages; audience 'tiny' allows 1 \(\S+, limits\.pages; "),
        ({"words": 200}, ("pdf",), r"\d{4,} words in the Markdown brief; .* allows 200 \(\S+, limits\.words; "),
    ],
    ids=["pages", "words"],
)
def test_over_a_limit_fails_every_format_of_the_brief_and_keeps_the_last_good_ones(
    tmp_path: Path, run_cli: RunCli, limits: dict[str, int], formats: tuple[str, ...], said: str
) -> None:
    """`overflow: fail` (issue 24): over its page or word limit, no format of the brief is written.

    A Markdown brief written beside a PDF that failed would be a newer edition than the PDF, so the
    two would disagree; each format keeps its last good file, and the message names the audience
    file and the key. Whatever formats are asked for, every limit is measured.
    """
    user, out = tmp_path / "mine", tmp_path / "out"
    copy_audience(user, "public", "tiny", limits={}, overflow="fail")
    args = ("--data", SHIPPED_DATA, "--templates", user, "--out", out, "--audience", "tiny")
    both = ("--format", "pdf", "--format", "md", "--format", "html")
    code, _, err = run_cli(*args, *both)
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in (out / DATASET).glob("tiny.*")}
    assert set(before) == {"tiny.pdf", "tiny.md", "tiny.html"}

    copy_audience(user, "public", "tiny", limits=limits, overflow="fail", title="Tiny Brief")
    code, _, err = run_cli(*args, *both)
    assert code == 1
    for fmt in ("pdf", "md", "html"):
        assert re.search(rf"FAILED kazakhstan-2022/tiny\.{fmt}: {said}", err), err
    assert "no format of the brief is written" in err and "set `overflow: trim`" in err
    assert "mine/audiences/tiny.yaml, limits." in err  # the file and the key that set the limit
    assert {p.name: p.read_bytes() for p in (out / DATASET).glob("tiny.*")} == before

    # One format alone is measured against every limit too (the PDF's pages, the Markdown's words).
    code, _, err = run_cli(*args, *(f for fmt in formats for f in ("--format", fmt)))
    assert code == 1
    assert re.search(rf"FAILED kazakhstan-2022/tiny\.{formats[0]}: {said}", err), err
    assert {p.name: p.read_bytes() for p in (out / DATASET).glob("tiny.*")} == before


def test_overflow_trim_drops_items_until_it_fits_and_says_which(tmp_path: Path, run_cli: RunCli) -> None:
    user = tmp_path / "mine"
    copy_audience(user, "principal", "tiny", limits={"pages": 1}, overflow="trim")
    out = tmp_path / "out"
    code, stdout, err = run_cli("--data", SHIPPED_DATA, "--templates", user, "--out", out, "--audience", "tiny")
    assert code == 0, err
    dropped = re.search(
        r"tiny\.pdf \(1 page\)\n  to fit its length, kazakhstan-2022/tiny leaves out:\n((    - .+\n)+)", stdout
    )
    assert dropped, stdout
    said = [line.removeprefix("    - ") for line in dropped.group(1).splitlines()]
    # Said once per brief, in a reader's words: the section's heading and the item's first words.
    assert stdout.count("leaves out:") == 1
    assert all(re.match(r"(Key points|Looking ahead|Since the source|What changed.*): “.+”$", s) for s in said), said
    text, pages = pdf_text(out / DATASET / "tiny.pdf")
    assert pages == 1
    assert "BLUF:" in text  # never dropped
    # The Markdown brief holds what the PDF holds: the dropped items are gone from both.
    md = (out / DATASET / "tiny.md").read_text(encoding="utf-8")
    assert md.count("(U)") == text.count("(U)")


def test_template_typo_is_exit_2_with_file_and_line(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    user = write_tree(
        tmp_path / "mine",
        {
            "audiences/desk.html.j2": """\
                {% extends "!shipped/audiences/desk.html.j2" %}
                {% block memo_header %}
                <p>{{ info.titel }}</p>
                {% endblock %}
                """
        },
    )
    out = tmp_path / "out"
    code, _, err = run_cli("--data", mini_data, "--templates", user, "--out", out, "--audience", "desk")
    assert code == 2
    assert re.search(r"mine/audiences/desk\.html\.j2:3: .*titel", err), err
    assert not out.exists() or not any(out.rglob("*.pdf"))


def test_missing_template_lists_the_folders_searched(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    user = write_tree(tmp_path / "mine", {"audiences/desk.html.j2": '{% extends "base/layuot.html.j2" %}\n'})
    code, _, err = run_cli("check", "--data", mini_data, "--templates", user)
    assert code == 2
    assert "'base/layuot.html.j2' not found; searched:" in err
    assert str(user.name) in err and "templates" in err


# --- docs/audiences.md, done exactly as it says ------------------------------------------------------


def doc_files() -> dict[str, str]:
    """The files the doc asks the reader to create: fenced blocks whose first line names the file."""
    files = {}
    for block in re.findall(r"```(?:yaml|jinja|css)\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S):
        first = block.splitlines()[0]
        named = re.fullmatch(r"(?:#|\{#|/\*) (my-templates/\S+)(?: #\}| \*/)?", first.strip())
        if named:
            files[named.group(1)] = block
    return files


def doc_commands() -> list[list[str]]:
    """The commands the doc asks the reader to run, as argument lists after `python build.py`."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S):
        for line in block.splitlines():
            if line.startswith("python build.py"):
                commands.append(shlex.split(line)[2:])
    return commands


@pytest.mark.slow
def test_doc_walkthrough_adds_an_audience_and_overrides_a_block(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = doc_files()
    assert set(files) == {
        "my-templates/audiences/astana.yaml",
        "my-templates/audiences/desk.html.j2",
        "my-templates/audiences/desk.md.j2",
        "my-templates/base/sections/judgments.html.j2",  # restyling one section (issue 19)
        "my-templates/css/astana.css",  # a stylesheet of one's own, linked by public's template (issue 24)
        "my-templates/audiences/public.html.j2",
    }
    assert len(doc_commands()) == 6
    # The reader works in a checkout: data/ and templates/ beside their own my-templates/.
    shutil.copytree(SHIPPED_DATA, tmp_path / "data")
    write_tree(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    outputs = []
    for argv in doc_commands():
        code, out, err = run_cli(*argv)
        assert code == 0, (argv, err)
        outputs.append(out)
    check, listing, astana, *_ = outputs
    assert check.startswith("ok:")
    assert "astana.pdf (1 page" in astana
    assert "kazakhstan-2022/astana.pdf" in listing and "kazakhstan-2022/astana.md" in listing
    text, pages = pdf_text(tmp_path / "output" / DATASET / "astana.pdf")
    assert pages == 1
    assert "INFORMATION MEMO FOR AMBASSADOR, US EMBASSY ASTANA" in " ".join(text.split())
    html = (tmp_path / "output" / DATASET / "desk.html").read_text(encoding="utf-8")
    assert "Prepared for the political section, US Embassy Astana." in html
    assert "Prepared for the Central Asia desk" in html  # super() kept the shipped block
    desk_text, _ = pdf_text(tmp_path / "output" / DATASET / "desk.pdf")
    assert "US Embassy Astana" in " ".join(desk_text.split())


# --- Document craft (issue 13) ----------------------------------------------------------------------


def test_the_desk_memo_leads_with_key_judgments_and_keeps_its_body_short(shipped_out: Path) -> None:
    reader = pypdf.PdfReader(shipped_out / "desk.pdf")
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert "Key judgments" in pages[0]
    # The office's own first ("We assess…", so no "our assessment" label), each with its confidence.
    label = r"\(((FPRI’s judgment|our assessment)( of \w+ \d{4})?, )?(low|moderate|high) confidence[;)]"
    assert re.search(label, pages[0]), pages[0]
    assert "We assess" in pages[0]
    first_annex = next(i for i, text in enumerate(pages) if "Annex A:" in text)
    assert first_annex <= 8, f"the body runs to {first_annex} pages before its annexes"
    assert all("Annex" not in text for text in pages[:first_annex])


@pytest.mark.parametrize("audience", SHIPPED)
def test_citation_groups_ascend_and_never_break(shipped_out: Path, audience: str) -> None:
    md = (shipped_out / f"{audience}.md").read_text(encoding="utf-8")
    for group in re.findall(r"\[\^\d+\](?:,\[\^\d+\])+", md):
        numbers = [int(n) for n in re.findall(r"\d+", group)]
        assert numbers == sorted(numbers), group
    html = (
        (shipped_out / f"{audience}.html").read_text(encoding="utf-8")
        if (shipped_out / f"{audience}.html").exists()
        else None
    )
    css = (SHIPPED_TEMPLATES / "base" / "css" / "base.css").read_text(encoding="utf-8")
    assert re.search(r"sup\.cite \{ white-space: nowrap; \}", css)
    if html:
        for group in re.findall(r'<sup class="cite">(.*?)</sup>', html):
            numbers = [int(n) for n in re.findall(r">(\d+)<", group)]
            assert numbers == sorted(numbers), group


@pytest.mark.parametrize("audience", SHIPPED)
def test_one_quotation_mark_style(shipped_out: Path, audience: str) -> None:
    text, _ = pdf_text(shipped_out / f"{audience}.pdf")
    assert '"' not in re.sub(r"https?://\S+", "", text), audience

"""Word briefs (issue 15): structure, house style, page furniture, metadata, determinism and safety, read back."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

docx = pytest.importorskip("docx", reason="python-docx is a dependency: pip install -e .")

from briefs.cli import main  # noqa: E402
from briefs.formats.docx import REFERENCE_SUFFIX, drop_notes_heading, strip_front_matter  # noqa: E402
from briefs.formats.docx_reference import shipped_references  # noqa: E402
from tests import test_security  # noqa: E402
from tests.conftest import SHIPPED_DATA, SHIPPED_TEMPLATES, RunCli, write_tree  # noqa: E402
from tests.test_security import HOSTILE, hostile_audience, hostile_dataset  # noqa: E402

DATASET = "kazakhstan-2022"
SHIPPED = ("congress", "desk", "principal", "public")
MARKED = ("principal", "desk")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WORD_HOSTILE = (
    "`x`{=openxml} <w:fldSimple w:instr=\"INCLUDEPICTURE 'http://evil.example/x.png'\"/> "
    '{ INCLUDEPICTURE "http://evil.example/y" } ```{=openxml}\n<w:p/>\n``` $x^2$ \\[y\\] '
)
"""What might become OOXML, a field or math in pandoc's Markdown: raw attributes, raw XML, field codes, TeX."""


@pytest.fixture(scope="module")
def built(shipped_build: Path) -> Path:
    """Every shipped audience built once from the shipped data, DOCX and Markdown among its formats."""
    return shipped_build


def paragraphs(document: docx.document.Document) -> list[docx.text.paragraph.Paragraph]:
    """Every paragraph of the body in reading order, those in tables (congress's box) too."""
    from docx.text.paragraph import Paragraph

    return [Paragraph(p, document._body) for p in document.element.body.iter(f"{W}p")]


def notes_kind(audience: str) -> str:
    """How the shipped audience's Word brief sets its notes: "foot" or "end" (`word_notes`)."""
    data = yaml.safe_load((SHIPPED_TEMPLATES / "audiences" / f"{audience}.yaml").read_text(encoding="utf-8"))
    return "end" if data.get("word_notes") == "endnotes" else "foot"


def part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode("utf-8")


def test_shipped_reference_documents_are_what_the_script_makes() -> None:
    """The committed .docx files are regenerable: `python -m briefs.formats.docx_reference --write` remakes them."""
    made = shipped_references()
    assert sorted(p.name for p in made) == [f"{a}{REFERENCE_SUFFIX}" for a in SHIPPED]
    for path, data in made.items():
        assert path.read_bytes() == data, f"{path.name}: run python -m briefs.formats.docx_reference --write"


def test_reference_document_styles_follow_the_audience_file() -> None:
    """Serif memo in Liberation Serif 12 pt on letter paper with 1-inch margins; the sans briefs in Liberation Sans."""
    principal = docx.Document(SHIPPED_TEMPLATES / "audiences" / f"principal{REFERENCE_SUFFIX}")
    assert principal.styles["Normal"].font.name == "Liberation Serif"
    assert principal.styles["Normal"].font.size.pt == 12
    section = principal.sections[0]
    assert (section.page_width.inches, section.page_height.inches) == (8.5, 11)
    assert {section.left_margin.inches, section.right_margin.inches, section.top_margin.inches} == {1.0}
    public = docx.Document(SHIPPED_TEMPLATES / "audiences" / f"public{REFERENCE_SUFFIX}")
    assert public.styles["Heading 2"].font.name == "Liberation Sans"
    fonts = part(SHIPPED_TEMPLATES / "audiences" / f"principal{REFERENCE_SUFFIX}", "word/fontTable.xml")
    assert '<w:font w:name="Liberation Serif"><w:altName w:val="Times New Roman"/>' in fonts  # Word without it


@pytest.mark.parametrize("audience", SHIPPED)
def test_word_structure(built: Path, audience: str) -> None:
    """Headings are Word heading styles, bullets are Word lists, and no heading is left without content."""
    document = docx.Document(built / DATASET / f"{audience}.docx")
    styles = [p.style.name for p in document.paragraphs]
    assert "Heading 2" in styles
    assert "Heading 1" in styles  # the memo's title line too: the navigation pane shows the whole outline
    assert styles.index("Heading 1") < styles.index("Heading 2")
    body = part(built / DATASET / f"{audience}.docx", "word/document.xml")
    assert "<w:numPr>" in body  # list paragraphs
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "Sources" not in headings  # the notes heading: its notes are Word footnotes now


def test_tables_are_word_tables_across_the_page(built: Path) -> None:
    document = docx.Document(built / DATASET / "desk.docx")
    assert len(document.tables) >= 3  # timeline, figures, corrections…
    timeline = next(t for t in document.tables if t.rows[0].cells[0].text == "Date")
    widths = [c.width for c in timeline.rows[0].cells]
    assert widths[0] < widths[1]  # the event column gets the room, not half of it
    assert abs(sum(w.inches for w in widths) - 6.5) < 0.05


@pytest.mark.parametrize("audience", SHIPPED)
def test_citations_are_numbered_word_footnotes(built: Path, audience: str) -> None:
    """One footnote per note of the Markdown brief, numbered as there; a repeat refers back to it (NOTEREF)."""
    path = built / DATASET / f"{audience}.docx"
    md = (built / DATASET / f"{audience}.md").read_text(encoding="utf-8")
    notes = re.findall(r"^\[\^(\d+)\]:", md, flags=re.M)
    cited = re.findall(r"\[\^(\d+)\](?!:)", md)
    kind = notes_kind(audience)
    body, footnotes = part(path, "word/document.xml"), part(path, f"word/{kind}notes.xml")
    refs = re.findall(rf'<w:{kind}noteReference w:id="(-?\d+)"', body)
    note_ids = re.findall(rf'<w:{kind}note w:id="(-?\d+)"', footnotes)  # separators carry w:type first
    assert notes and len(refs) == len(set(refs)) == len(notes) == len(set(cited))
    assert sorted(refs) == sorted(note_ids)
    repeats = re.findall(r"NOTEREF (_RefNote\d+) \\f \\h", body)
    assert len(repeats) == len(cited) - len(notes)
    # The first mention's number is its note's number in the Markdown brief (both count in order of first use).
    first_use = list(dict.fromkeys(cited))
    assert first_use == sorted(first_use, key=int) == [str(n) for n in range(1, len(notes) + 1)]
    for name in set(repeats):
        assert f'w:name="{name}"' in body


@pytest.mark.parametrize("audience", SHIPPED)
def test_marking_and_page_numbers_on_every_page(built: Path, audience: str) -> None:
    """Every section's headers and footers (first, odd, even pages): the marking, and Page N of M as fields."""
    document = docx.Document(built / DATASET / f"{audience}.docx")
    spec = yaml.safe_load((SHIPPED_TEMPLATES / "audiences" / f"{audience}.yaml").read_text(encoding="utf-8"))
    marking = spec.get("marking")
    assert (marking is not None) == (audience in MARKED)
    assert document.sections
    for section in document.sections:
        for header in (section.header, section.first_page_header, section.even_page_header):
            assert not header.is_linked_to_previous
            assert [p.text for p in header.paragraphs] == ([marking] if marking else [])
        for footer in (section.footer, section.first_page_footer, section.even_page_footer):
            xml = footer._element.xml
            assert re.search(r"<w:instrText[^>]*> PAGE </w:instrText>", xml)
            assert re.search(r"<w:instrText[^>]*> NUMPAGES </w:instrText>", xml)
            texts = [p.text for p in footer.paragraphs]
            assert texts[0] == "Page 1 of 1"  # the fields' placeholder results; Word shows the real numbers
            assert texts[1:] == ([marking] if marking else [])


def test_government_memo_furniture(built: Path) -> None:
    """Portion marks on every paragraph of the memo's body, and the TO/FROM/SUBJECT lines as in the PDF."""
    document = docx.Document(built / DATASET / "principal.docx")
    text = "\n".join(p.text for p in document.paragraphs)
    for label in ("TO:\t", "FROM:\t", "SUBJECT:\t(U) "):  # one line each, the text aligned after the labels
        assert any(p.text.startswith(label) for p in document.paragraphs), label
    bullets = [p for p in document.paragraphs if p._p.pPr is not None and p._p.pPr.numPr is not None]
    assert bullets and all(p.text.startswith("(U) ") for p in bullets)
    # The header and footer carry the marking: the first line keeps only the date, the closing
    # marking-only paragraph is dropped (issue 26).
    assert text.count("UNCLASSIFIED") == 0
    assert document.paragraphs[0].text == "April 24, 2023"
    assert any(p.text == "(U) Drafted: SCA/CEN" for p in document.paragraphs)  # a line of its own (issue 13)


def test_document_properties_from_the_data(built: Path) -> None:
    info = yaml.safe_load((SHIPPED_DATA / DATASET / "dataset.yaml").read_text(encoding="utf-8"))["info"]
    props = docx.Document(built / DATASET / "principal.docx").core_properties
    assert props.title == info["title"]
    assert props.subject == info["subject"]
    assert props.author == info["office_short"]  # the office, from the data
    assert props.keywords == ", ".join(info["keywords"])
    md = (built / DATASET / "principal.md").read_text(encoding="utf-8")
    day = props.created.date()
    assert day == props.modified.date() and day.year == 2023  # the brief's date, not the clock
    assert f"{day:%B} {day.day}, {day.year}" in md.splitlines()[0]  # the date the memo itself carries
    assert docx.Document(built / DATASET / "public.docx").core_properties.author == info["office_short"]


def test_only_web_links_leave_the_document(built: Path) -> None:
    for audience in SHIPPED:
        with zipfile.ZipFile(built / DATASET / f"{audience}.docx") as z:
            rels = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".rels"))
            assert not any(n.startswith("word/media/") for n in z.namelist())
        for target, mode in re.findall(r'Target="([^"]*)"(?: TargetMode="(\w+)")?', rels):
            if mode == "External":
                assert target.startswith(("http://", "https://")), target


def test_two_builds_give_the_same_bytes(built: Path, tmp_path: Path) -> None:
    """A second build, elsewhere and later, writes byte-identical DOCX files with fixed zip timestamps."""
    out = tmp_path / "again"
    assert main(["--data", str(SHIPPED_DATA), "--out", str(out), "--format", "docx", "--audience", "principal"]) == 0
    first, again = built / DATASET / "principal.docx", out / DATASET / "principal.docx"
    assert first.read_bytes() == again.read_bytes()
    with zipfile.ZipFile(again) as z:
        assert z.namelist()[0] == "[Content_Types].xml"
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_hostile_prose_stays_inert_text(tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Raw OOXML, field codes, raw attributes, math, HTML and bad links in data end up as text, nothing else."""
    monkeypatch.setattr(test_security, "HOSTILE", WORD_HOSTILE + HOSTILE)  # in every field the security test fills
    data = hostile_dataset(tmp_path)
    templates = hostile_audience(tmp_path)
    spec = yaml.safe_load((templates / "audiences" / "evil.yaml").read_text(encoding="utf-8"))
    spec["formats"] = ["docx"]
    (templates / "audiences" / "evil.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    code, _, err = run_cli("--data", data, "--templates", templates, "--out", tmp_path / "out", "--format", "docx")
    assert code == 0, err
    path = tmp_path / "out" / "hostile" / "evil.docx"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        xml = {n: z.read(n).decode("utf-8") for n in names if n.endswith((".xml", ".rels"))}
    assert not [n for n in names if n.startswith("word/media/") or "vba" in n.lower() or n.endswith(".bin")]
    everything = "".join(xml.values())
    markup = re.sub(r">[^<]*<", "><", everything)  # elements and attributes only: the hostile text may be shown
    for bad in ("<w:fldSimple", "altChunk", "<m:oMath", "<w:object", "javascript:", "file:", "evil.example/p.png"):
        assert bad not in markup, bad
    body = xml["word/document.xml"]
    instructions = re.findall(r"<w:instrText[^>]*>([^<]*)</w:instrText>", body)
    assert all(re.fullmatch(r" NOTEREF _RefNote\d+ \\f \\h ", i) for i in instructions), instructions
    for external in re.findall(r'Target="([^"]*)" TargetMode="External"', everything):
        assert external.startswith(("http://", "https://")), external
    document = docx.Document(path)
    shown = "\n".join(p.text for p in document.paragraphs)
    for visible in ("INCLUDEPICTURE", "{=openxml}", "<w:fldSimple", "$x^2$", "<script>alert(1)</script>"):
        assert visible in shown, visible
    assert HOSTILE.split()[0] in document.core_properties.title  # metadata is text too


ACTION = """\
    title: Action Memo
    marking: SENSITIVE BUT UNCLASSIFIED
    portion_mark: (SBU)
    memo_type: action
    decide_by: 2023-05-15
    memo: {to: The Secretary, from: SCA, office: SCA/CEN}
    template: principal
    formats: [docx]
    sections: [bluf, recommendations, sources]
    """


def test_action_memo_and_a_user_reference_document(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """A user's audience gets its marking and decision lines; its reference document in --templates wins and is
    an input of the target: editing it rebuilds the DOCX, and --explain names it."""
    templates = write_tree(tmp_path / "tpl", {"audiences/action.yaml": ACTION})
    out = tmp_path / "out"
    code, _, err = run_cli("--data", mini_data, "--templates", templates, "--out", out)
    assert code == 0, err
    path = out / "mini" / "action.docx"
    document = docx.Document(path)
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Approve" in text and "Disapprove" in text and "ACTION MEMO" in text
    assert all(p.text == "SENSITIVE BUT UNCLASSIFIED" for s in document.sections for p in s.header.paragraphs)
    assert document.styles["Normal"].font.name == "Liberation Serif"  # the shipped principal's reference document

    reference = templates / "audiences" / f"principal{REFERENCE_SUFFIX}"
    shutil.copy(SHIPPED_TEMPLATES / "audiences" / reference.name, reference)
    mine = docx.Document(reference)
    mine.styles["Normal"].font.name = "DejaVu Sans Mono"
    mine.save(reference)
    code, out_text, err = run_cli("--data", mini_data, "--templates", templates, "--out", out, "--explain")
    assert code == 0, err
    assert f"principal{REFERENCE_SUFFIX} is new" in out_text + err
    assert docx.Document(path).styles["Normal"].font.name == "DejaVu Sans Mono"


def test_an_audience_without_a_reference_document_is_styled_from_its_file(
    mini_data: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    templates = write_tree(tmp_path / "tpl", {"audiences/mine.yaml": "title: Mine\nfont: sans\nsections: [summary]\n"})
    code, _, err = run_cli("--data", mini_data, "--templates", templates, "--out", tmp_path / "out", "--format", "docx")
    assert code == 0, err
    document = docx.Document(tmp_path / "out" / "mini" / "mine.docx")
    assert document.styles["Normal"].font.name == "Liberation Sans"


def test_front_matter_and_notes_heading_are_left_to_word() -> None:
    md = '---\ntitle: "x"\n---\n\n# T\n\ntext[^1]\n\n## Sources\n\n[^1]: A note.\n\n## Next\n\nmore\n'
    body = drop_notes_heading(strip_front_matter(md))
    assert body.startswith("\n# T") and "## Sources" not in body and "## Next" in body


def test_links_other_than_web_links_are_dropped() -> None:
    """Even if a template writes them, file:, javascript: and image links leave nothing but their text."""
    from types import SimpleNamespace

    from briefs.data.model import Audience
    from briefs.formats.docx import PANDOC_READER, finish
    from briefs.formats.pandoc import run_pandoc

    md = "Text [a](file:///etc/passwd) [b](javascript:x) [c](https://ok.example/) ![i](http://evil.example/x.png)\n"
    reference = SHIPPED_TEMPLATES / "audiences" / f"public{REFERENCE_SUFFIX}"
    args = ["-f", PANDOC_READER, "-t", "docx", "--sandbox", f"--reference-doc={reference}", "-o", "-"]
    audience = Audience.model_validate({"id": "x", "title": "X", "sections": ["summary"]})
    info = SimpleNamespace(title="T", subject="S", keywords=[], office_short=None, office=None)
    data = finish(run_pandoc(args, md.encode()), audience=audience, info=info, date=dt.date(2022, 1, 1))  # type: ignore[arg-type]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        rels = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".rels"))
        body = z.read("word/document.xml").decode()
        assert not [n for n in z.namelist() if n.startswith("word/media/")]
    assert set(re.findall(r'Target="([^"]*)" TargetMode="External"', rels)) == {"https://ok.example/"}
    assert "file:" not in rels and "javascript:" not in rels and "evil.example" not in rels
    assert docx.Document(io.BytesIO(data)).paragraphs[0].text == "Text a b c i"
    assert body.count("<w:hyperlink") == 1


@pytest.mark.parametrize("audience", SHIPPED)
def test_no_table_column_is_narrower_than_its_longest_word(built: Path, audience: str) -> None:
    """Measured with Pillow in the shipped font (the code measures with fontTools): no word breaks inside itself."""
    from PIL import ImageFont

    document = docx.Document(built / DATASET / f"{audience}.docx")
    normal = document.styles["Normal"].font
    name = normal.name.replace(" ", "")
    fonts = {
        bold: ImageFont.truetype(str(SHIPPED_TEMPLATES / "base" / "fonts" / f"{name}-{kind}.ttf"), 200)
        for bold, kind in ((False, "Regular"), (True, "Bold"))
    }
    cells = document.styles["Compact"].font  # pandoc's style for cell text: the PDF's 9.5 pt
    points = (cells.size or normal.size).pt
    checked = 0
    for table in document.tables:
        grid = [int(c.get(f"{W}w")) for c in table._tbl.tblGrid.iter(f"{W}gridCol")]
        assert sum(grid) <= 9360 + 5  # within the text width (6.5 in of letter)
        for r, row in enumerate(table.rows):
            for width, cell in zip(grid, row.cells, strict=True):
                for word in cell.text.split():
                    twips = fonts[r == 0].getlength(word) / 200 * points * 20
                    assert twips <= width - 2 * 108, (audience, word, twips, width)
                    checked += 1
            assert row._tr.trPr is not None and row._tr.trPr.find(f"{W}cantSplit") is not None
            # No hyphen inside a word either, whatever the house style says of the body (issue 26).
            if table.style is None or table.style.name != "Boxed Section":  # congress's box holds prose
                hyphens = [p._p.pPr.find(f"{W}suppressAutoHyphens") for c in row.cells for p in c.paragraphs]
                assert all(h is not None for h in hyphens), (audience, row.cells[0].text[:40])
        assert all(p._p.pPr.keepNext is not None for c in table.rows[0].cells for p in c.paragraphs)
    assert checked or not document.tables


@pytest.mark.parametrize("audience", SHIPPED)
def test_a_column_of_short_cells_sets_each_on_one_line(built: Path, audience: str) -> None:
    """A paragraph reference, a status, a date: a column whose longest cell needs a sixth of the text width or
    less is as wide as that cell, so "(U) para. 26" is not set in three lines (issue 26, Annex G)."""
    from PIL import ImageFont

    document = docx.Document(built / DATASET / f"{audience}.docx")
    name = document.styles["Normal"].font.name.replace(" ", "")
    fonts = {
        bold: ImageFont.truetype(str(SHIPPED_TEMPLATES / "base" / "fonts" / f"{name}-{kind}.ttf"), 200)
        for bold, kind in ((False, "Regular"), (True, "Bold"))
    }
    points = (document.styles["Compact"].font.size or document.styles["Normal"].font.size).pt
    short = 0
    for table in document.tables:
        grid = [int(c.get(f"{W}w")) for c in table._tbl.tblGrid.iter(f"{W}gridCol")]
        for c, width in enumerate(grid):
            cells = [(r == 0, " ".join(row.cells[c].text.split())) for r, row in enumerate(table.rows)]
            needs = max(fonts[bold].getlength(text) / 200 * points * 20 for bold, text in cells) + 2 * 108
            if needs <= 9360 / 6:
                assert width >= needs, (audience, cells[0][1], width, needs)
                short += 1
    assert short or audience != "desk"  # the desk's annexes: Where, Status, Checked


@pytest.mark.parametrize("audience", MARKED)
def test_the_marking_is_in_header_and_footer_only(built: Path, audience: str) -> None:
    document = docx.Document(built / DATASET / f"{audience}.docx")
    marking = yaml.safe_load((SHIPPED_TEMPLATES / "audiences" / f"{audience}.yaml").read_text(encoding="utf-8"))[
        "marking"
    ]
    assert not [p.text for p in document.paragraphs if marking in p.text]
    for section in document.sections:
        assert [p.text for p in section.header.paragraphs] == [marking]
        assert [p.text for p in section.footer.paragraphs].count(marking) == 1


@pytest.mark.parametrize("audience", SHIPPED)
def test_one_note_mark_per_citation_point(built: Path, audience: str) -> None:
    """One footnote per citation point, listing its sources (issue 23): no run of marks joined by commas."""
    kind = notes_kind(audience)
    body = part(built / DATASET / f"{audience}.docx", "word/document.xml")
    marks = re.findall(rf'<w:{kind}noteReference w:id="\d+"\s*/>', body)
    assert marks
    no_text = r"(?:(?!<w:t[ >]).)*?"  # markup without text: run ends, bookmarks, run properties
    ref = f"<w:{kind}noteReference"
    runs = re.findall(rf"{ref} [^>]*/>{no_text}<w:t[^>]*>,</w:t>{no_text}{ref}", body)
    assert not runs, f"{len(runs)} note marks followed by a comma and another mark"
    notes = part(built / DATASET / f"{audience}.docx", f"word/{kind}notes.xml")
    assert "; " in notes, "no note lists several sources"


def _numbering_kinds(path: Path) -> dict[tuple[str, str], str]:
    """(numId, level): the numbering format the document's numbering part gives it (bullet, decimal, none)."""
    numbering = part(path, "word/numbering.xml")
    abstract = {
        a: {
            lvl: fmt if shown.strip() else "none"  # pandoc's numbering for an item's later paragraphs shows nothing
            for lvl, fmt, shown in re.findall(
                r'<w:lvl w:ilvl="(\d)">.*?<w:numFmt w:val="(\w+)"/><w:lvlText w:val="([^"]*)"', body
            )
        }
        for a, body in re.findall(r'<w:abstractNum w:abstractNumId="(\d+)">(.*?)</w:abstractNum>', numbering, re.S)
    }
    kinds = {}
    for num, ref in re.findall(r'<w:num w:numId="(\d+)">.*?<w:abstractNumId w:val="(\d+)"/>', numbering, re.S):
        for lvl, fmt in abstract.get(ref, {}).items():
            kinds[(num, lvl)] = fmt
    return kinds


@pytest.mark.parametrize("audience", SHIPPED)
def test_lists_are_in_word_list_styles(built: Path, audience: str) -> None:
    """Every list paragraph is List Bullet or List Number as its numbering is; an item's later lines are List
    Continue without a number; the recommendations are a numbered list Word counts (issue 26)."""
    path = built / DATASET / f"{audience}.docx"
    document = docx.Document(path)
    kinds = _numbering_kinds(path)
    listed = 0
    previous: docx.text.paragraph.Paragraph | None = None
    for p in paragraphs(document):
        numbering = p._p.pPr.numPr if p._p.pPr is not None else None
        name = p.style.name
        if numbering is not None:
            key = (numbering.numId.val.__str__(), str(numbering.ilvl.val if numbering.ilvl is not None else 0))
            fmt = kinds[key]
            assert fmt in ("bullet", "decimal"), (audience, p.text[:40], fmt)
            assert name == ("List Bullet" if fmt == "bullet" else "List Number"), (audience, p.text[:40], name)
            listed += 1
        else:
            assert not name.startswith(("List Bullet", "List Number")), (audience, p.text[:40])
            if name.startswith("List Continue"):
                assert previous is not None and previous.style.name.startswith("List"), (audience, p.text[:40])
                assert previous.paragraph_format.keep_with_next, p.text[:40]  # the item stays with its basis
                assert p.paragraph_format.left_indent is not None or p.style.paragraph_format.left_indent
        previous = p
    assert listed
    md = (built / DATASET / f"{audience}.md").read_text(encoding="utf-8")
    numbered = re.findall(r"^\d+\. ", md, flags=re.M)
    assert len([p for p in paragraphs(document) if p.style.name == "List Number"]) == len(numbered)
    if audience in ("public", "desk"):  # recommendations: "1. **Do this.**" in the Markdown
        assert numbered


@pytest.mark.parametrize("audience", SHIPPED)
def test_footnotes_are_set_at_a_readable_size(built: Path, audience: str) -> None:
    """Footnote (or Endnote) Text at 9 pt or more, as the PDF's notes, and no run in the notes set smaller (but
    the marks)."""
    path = built / DATASET / f"{audience}.docx"
    kind = notes_kind(audience)
    style = docx.Document(path).styles["Footnote Text" if kind == "foot" else "endnote text"]
    size = style.font.size
    while size is None and style.base_style is not None:
        style = style.base_style
        size = style.font.size
    assert size is not None and size.pt >= 9, (audience, size)
    notes = part(path, f"word/{kind}notes.xml")
    for props in re.findall(r"<w:rPr>(.*?)</w:rPr>", notes):
        for half_points in re.findall(r'<w:sz w:val="(\d+)"/>', props):
            assert int(half_points) >= 18 or "superscript" in props or "noteReference" in props, props


@pytest.mark.parametrize("audience", SHIPPED)
def test_each_block_is_its_own_paragraph(built: Path, audience: str) -> None:
    """No line break inside a body paragraph: byline and as-of line, a quote and its attribution, an item and
    its basis are separate paragraphs a Word user can move and restyle (issue 26)."""
    path = built / DATASET / f"{audience}.docx"
    body = part(path, "word/document.xml")
    assert not re.findall(r'<w:br(?! w:type="page")[^>]*/>', body)
    document = docx.Document(path)
    texts = [p.text for p in paragraphs(document)]
    if audience in ("public", "principal"):  # the as-of line under the byline or the BLUF
        assert any(t.removeprefix("(U) ").startswith(("Information as of", "*Information as of")) for t in texts)
    quotes = [p.text for p in paragraphs(document) if p.style.name == "Block Text"]
    if audience == "desk":
        assert quotes
    for said, by in zip(quotes[::2], quotes[1::2], strict=True):  # a quote, then its attribution
        assert "“" in said and not said.startswith("—"), said[:60]
        assert by.startswith("— ") and "“" not in by.split(".")[0], by[:60]


def test_each_quote_is_its_own_block_and_keeps_with_its_attribution(built: Path) -> None:
    """Annex E: in the Markdown each quote is a blockquote of its own, the quote then its attribution (they ran
    into each other: an attribution and the next quote were one paragraph); in Word a quote never ends a page
    its attribution does not start (issue 26)."""
    import markdown

    html = markdown.markdown((built / DATASET / "desk.md").read_text(encoding="utf-8"), extensions=["footnotes"])
    quoted = re.findall(r"<p>(.*?)</p>", "".join(re.findall(r"<blockquote>(.*?)</blockquote>", html, re.S)), re.S)
    quotes = quoted[::2]
    assert len(quotes) >= 2 and len(quoted) == 2 * len(quotes)
    for said, by in zip(quoted[::2], quoted[1::2], strict=True):
        assert said.startswith("(U) “") and by.startswith("— ") and "(U) “" not in by, by[:200]
    document = docx.Document(built / DATASET / "desk.docx")
    blocks = [p for p in paragraphs(document) if p.style.name == "Block Text"]
    attributed = [said for said, by in itertools.pairwise(blocks) if by.text.startswith("— ")]
    assert len(attributed) == len(quotes)
    assert all(p.paragraph_format.keep_with_next for p in attributed)
    assert not any(p.paragraph_format.keep_with_next for p in blocks if p.text.startswith("— "))


LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")


def libreoffice_pdf(docx_path: Path, tmp_path: Path) -> Path:
    """``docx_path`` laid out by LibreOffice as a user's would: no font of ours on its path, only the DOCX's own."""
    import subprocess

    profile = tmp_path / "profile"
    subprocess.run(
        [
            str(LIBREOFFICE),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(docx_path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return tmp_path / f"{docx_path.stem}.pdf"


@pytest.fixture(scope="module")
def laid_out(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Each shipped DOCX laid out by LibreOffice once (a conversion takes seconds): audience -> its PDF."""
    if LIBREOFFICE is None:
        pytest.skip("LibreOffice not installed (apt-get install libreoffice-writer-nogui)")
    made: dict[str, Path] = {}

    def pdf(audience: str) -> Path:
        if audience not in made:
            made[audience] = libreoffice_pdf(built / DATASET / f"{audience}.docx", tmp_path_factory.mktemp(audience))
        return made[audience]

    return pdf


def page_limit(audience: str) -> int | None:
    spec = yaml.safe_load((SHIPPED_TEMPLATES / "audiences" / f"{audience}.yaml").read_text(encoding="utf-8"))
    return (spec.get("limits") or {}).get("pages")


@pytest.mark.parametrize("audience", [a for a in SHIPPED if page_limit(a)])
def test_libreoffice_lays_each_docx_out_within_its_page_limit(laid_out: Callable[[str], Path], audience: str) -> None:
    """The Word brief within its audience's page limit as another word processor lays it out (its embedded fonts)."""
    pypdf = pytest.importorskip("pypdf")
    limit = page_limit(audience)
    assert limit is not None
    assert len(pypdf.PdfReader(laid_out(audience)).pages) <= limit


BODY_PAGES = {"desk": 8}
"""The analytic memo's body, before Annex A, at most eight pages (`desk.html.j2`): in the PDF and in Word."""


def _body_pages(pdf: Path) -> int:
    """The pages before the one where Annex A begins (every annex starts a page, in both layouts)."""
    pypdf = pytest.importorskip("pypdf")
    pages = [re.sub(r"\s+", " ", p.extract_text()) for p in pypdf.PdfReader(pdf).pages]
    starts = [i for i, text in enumerate(pages) if "Annex A: " in text]
    assert starts, "no Annex A"
    return starts[0]


@pytest.mark.parametrize("audience", sorted(BODY_PAGES))
def test_the_body_before_the_annexes_keeps_to_its_pages_in_pdf_and_word(
    built: Path, laid_out: Callable[[str], Path], audience: str
) -> None:
    """The desk memo's body within eight pages as WeasyPrint and as LibreOffice lay it out (issue 26: Word's ran
    to page 9)."""
    pdf_body, word_body = _body_pages(built / DATASET / f"{audience}.pdf"), _body_pages(laid_out(audience))
    assert 1 <= pdf_body <= BODY_PAGES[audience], pdf_body
    assert 1 <= word_body <= BODY_PAGES[audience], word_body


@pytest.mark.parametrize("audience", SHIPPED)
def test_each_docx_carries_the_faces_it_names(built: Path, audience: str) -> None:
    """Every Liberation family the styles name is embedded (four faces, obfuscated per ECMA-376), holding a
    glyph for every character of the document, so a machine without the fonts sets it as it was measured."""
    from fontTools.ttLib import TTFont

    from briefs.formats.docx_fonts import obfuscate, read_parts

    path = built / DATASET / f"{audience}.docx"
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    styles = members["word/styles.xml"].decode("utf-8")
    named = {f for f in ("Liberation Serif", "Liberation Sans") if f'w:ascii="{f}"' in styles}
    assert named
    table = etree_of(members["word/fontTable.xml"])
    rels = {r.get("Id"): r.get("Target") for r in etree_of(members["word/_rels/fontTable.xml.rels"])}
    assert b'Extension="odttf"' in members["[Content_Types].xml"]
    assert b"embedTrueTypeFonts" in members["word/settings.xml"]
    text = read_parts(members)[1] - {" ", "\u00a0"}
    for font in table.findall(f"{W}font"):
        faces = [e for e in font if e.tag.startswith(f"{W}embed")]
        if font.get(f"{W}name") not in named:
            continue
        assert {e.tag.removeprefix(W) for e in faces} == {"embedRegular", "embedBold", "embedItalic", "embedBoldItalic"}
        for e in faces:
            data = members[
                "word/" + rels[e.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")]
            ]
            assert data[:4] != b"\x00\x01\x00\x00"  # obfuscated
            face = TTFont(io.BytesIO(obfuscate(data, e.get(f"{W}fontKey"))))
            assert face["name"].getDebugName(1) == font.get(f"{W}name")
            missing = {c for c in text if ord(c) not in face.getBestCmap()}
            assert not missing, missing
        named.discard(font.get(f"{W}name"))
    assert not named, f"not embedded: {named}"


def etree_of(data: bytes):  # type: ignore[no-untyped-def]
    from lxml import etree

    return etree.fromstring(data)


@pytest.mark.parametrize("audience", SHIPPED)
def test_libreoffice_sets_the_embedded_faces(laid_out: Callable[[str], Path], audience: str) -> None:
    """LibreOffice, with no Liberation font installed for it, sets the brief in the faces the DOCX carries."""
    pypdf = pytest.importorskip("pypdf")
    fonts = set()
    for page in pypdf.PdfReader(laid_out(audience)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    text_fonts = {f for f in fonts if f != "OpenSymbol"}
    assert text_fonts and all(f.startswith("Liberation") for f in text_fonts), fonts


def test_libreoffice_lays_the_memo_out_with_its_marking_and_page_numbers(laid_out: Callable[[str], Path]) -> None:
    """Another word processor opens the memo and fills in the fields: the marking and Page N of M on every page."""
    pypdf = pytest.importorskip("pypdf")
    pages = [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(laid_out("principal")).pages]
    for n, text in enumerate(pages, 1):
        assert text.startswith("UNCLASSIFIED") and text.endswith(f"Page {n} of {len(pages)} UNCLASSIFIED"), text[-80:]


def test_congress_has_its_box_and_columns(built: Path) -> None:
    """As the PDF: the masthead and summary across the page, the topics in two columns, "Issues for Congress"
    with its options in a shaded, bordered box, and the disclaimer across the page after the columns."""
    path = built / DATASET / "congress.docx"
    document = docx.Document(path)
    body = document.element.body
    columns = [int(c.get(f"{W}num") or 1) for c in body.iter(f"{W}cols")]
    sections = list(body.iter(f"{W}sectPr"))
    assert len(sections) == 3 and [c for c in columns if c > 1] == [2]
    kinds = [s.find(f"{W}type") for s in sections]
    assert [k.get(f"{W}val") if k is not None else None for k in kinds] == [None, "continuous", "continuous"]
    assert all(
        s.find(f"{W}cols") is None or int(s.find(f"{W}cols").get(f"{W}num") or 1) == 1
        for s in (sections[0], sections[2])
    )
    assert "numRestart" not in part(path, "word/document.xml")  # one numbering of the notes through the sections

    def section_of(element: object) -> int:  # which section a block is in: the next sectPr after it
        ends = [s.getparent().getparent() if s.getparent().tag == f"{W}pPr" else None for s in sections]
        blocks = list(body)
        top = element
        while top.getparent() is not body:
            top = top.getparent()
        at = blocks.index(top)
        return next(n for n, end in enumerate(ends) if end is None or blocks.index(end) >= at)

    all_paragraphs = paragraphs(document)
    summary = next(p for p in all_paragraphs if p.style.name == "Heading 2" and p.text == "Summary")
    first_topic = next(p for p in all_paragraphs if p.style.name == "Heading 2" and p.text != "Summary")
    closing = next(p for p in all_paragraphs if "not legal advice" in p.text)
    assert (section_of(summary._p), section_of(first_topic._p), section_of(closing._p)) == (0, 1, 2)

    boxes = [t for t in document.tables if t.style is not None and t.style.name == "Boxed Section"]
    assert len(boxes) == 1
    box = boxes[0]
    texts = [p.text for c in box._tbl.iter(f"{W}tc") for p in paragraphs_in(c)]
    assert texts[0] == "Issues for Congress" and "Options Congress may consider" in texts
    assert sum(t.startswith(("Reporting requirement.", "Oversight.", "Appropriations.")) for t in texts) == 3
    assert section_of(box._tbl) == 1
    xml = box._tbl.xml
    assert re.search(r'<w:tblBorders>.*<w:top [^>]*w:val="single"', xml, re.S)
    fills = set(re.findall(r'<w:shd [^>]*w:fill="([0-9A-F]{6})"', xml))
    assert fills == {"EEF2F7"}  # every cell shaded, as the PDF's .issues
    assert all(r.find(f"{W}trPr/{W}cantSplit") is not None for r in box._tbl.iter(f"{W}tr"))


def paragraphs_in(element: object) -> list[docx.text.paragraph.Paragraph]:
    from docx.text.paragraph import Paragraph

    return [Paragraph(p, None) for p in element.iter(f"{W}p")]  # type: ignore[attr-defined]


def test_libreoffice_sets_congress_disclaimer_on_the_body_s_last_page(laid_out: Callable[[str], Path]) -> None:
    """The disclaimer closes the body on its last page, after the box: not a page of its own."""
    pypdf = pytest.importorskip("pypdf")
    pages = [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(laid_out("congress")).pages]
    assert sum("it is not legal advice" in t for t in pages) == 1
    last = pages[-1]
    assert "it is not legal advice" in last
    assert "Against:" in last and "Issues for Congress" in " ".join(pages)  # the options, with pros and cons
    before = last.split("it is not legal advice")[0]
    assert len(before.split()) > 100  # the box, or the topics, share the page with it


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x05\x06" + bytes(18)])
def test_a_broken_reference_document_is_bad_input(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, content: bytes
) -> None:
    templates = write_tree(tmp_path / "tpl", {"audiences/mine.yaml": "title: Mine\nsections: [summary]\n"})
    (templates / "audiences" / f"mine{REFERENCE_SUFFIX}").write_bytes(content)
    out = tmp_path / "out"
    code, _, err = run_cli("--data", mini_data, "--templates", templates, "--out", out, "--format", "docx")
    assert code == 2
    assert f"mine{REFERENCE_SUFFIX}: reference document: expected a Word .docx, found" in err
    assert not (out / "mini" / "mine.docx").exists()


def larger_house_style(templates: Path, audience: str, scale: float) -> Path:
    """A user's copy of ``audience``'s reference document with every font size in its styles times ``scale``:
    the office's Word house style sets more pages than the PDF's CSS (issue 26)."""
    source = SHIPPED_TEMPLATES / "audiences" / f"{audience}{REFERENCE_SUFFIX}"
    target = templates / "audiences" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)

    def bigger(m: re.Match[bytes]) -> bytes:
        return b'<w:sz w:val="%d"/>' % round(int(m.group(1)) * scale)

    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w") as made:
        for name in z.namelist():
            data = z.read(name)
            if name == "word/styles.xml":
                data = re.sub(rb'<w:sz w:val="(\d+)"/>', bigger, data)
            made.writestr(name, data)
    return target


def _plain(text: str) -> str:
    """Text with its spacing, emphasis marks and typographic apostrophes evened out, to find words in."""
    return " ".join(text.replace("*", "").replace("’", "'").split())


def _word_text(path: Path) -> str:
    return _plain(" ".join(p.text for p in paragraphs(docx.Document(path))))


def _left_out(stdout: str, heading: str) -> list[str]:
    """The items a build's report lists under the line containing ``heading``, in its words (first words only)."""
    lines = stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if heading in line)
    items = []
    for line in lines[at + 1 :]:
        if not line.startswith("    - "):
            break
        items.append(line.split("“", 1)[1].rstrip("…”").strip())
    return items


def test_a_docx_libreoffice_lays_out_over_its_limit_is_cut_further(
    built: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """The PDF fits its two pages, the Word brief in a larger house style would not: where LibreOffice is
    installed the DOCX loses its least important items until LibreOffice lays it out within the limit,
    the build says what it also left out, and the PDF and Markdown keep their own cut (issue 26)."""
    if LIBREOFFICE is None:
        pytest.skip("LibreOffice not installed (apt-get install libreoffice-writer-nogui)")
    pypdf = pytest.importorskip("pypdf")
    templates = tmp_path / "tpl"
    larger_house_style(templates, "principal", 1.25)
    out = tmp_path / "out"
    argv = ["--data", SHIPPED_DATA, "--templates", templates, "--out", out, "--audience", "principal"]
    code, said, err = run_cli(*argv, "--format", "docx", "--format", "md", "--format", "pdf")
    assert code == 0, err
    word = out / DATASET / "principal.docx"
    pages = len(pypdf.PdfReader(libreoffice_pdf(word, tmp_path)).pages)
    assert pages <= 2
    assert f"principal.docx ({pages} page{'s' if pages != 1 else ''} as LibreOffice lays it out)" in said
    also = _left_out(said, "the Word brief kazakhstan-2022/principal also leaves out:")
    assert also, said
    md = _plain((out / DATASET / "principal.md").read_text(encoding="utf-8"))
    text = _word_text(word)
    for first_words in also:
        assert first_words in md and first_words not in text, first_words
    # The house style of Word does not change the other formats' cut.
    assert (out / DATASET / "principal.md").read_bytes() == (built / DATASET / "principal.md").read_bytes()
    # Measured again, the same cut and the same bytes.
    again = tmp_path / "again"
    code, _, err = run_cli(*argv[:-4], "--out", again, "--audience", "principal", "--format", "docx")
    assert code == 0, err
    assert (again / DATASET / "principal.docx").read_bytes() == word.read_bytes()


def test_a_rebuild_of_the_same_inputs_reuses_the_word_layout_without_libreoffice(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 27: LibreOffice measured the Word brief of these very inputs, so a forced rebuild takes its
    verdict (its pages and the items it also dropped) and converts nothing: the same bytes, the same report.
    Another LibreOffice install measures again."""
    if LIBREOFFICE is None:
        pytest.skip("LibreOffice not installed (apt-get install libreoffice-writer-nogui)")
    import json

    from briefs.formats import docx_layout

    templates = tmp_path / "tpl"
    larger_house_style(templates, "principal", 1.25)  # the Word brief needs drops of its own
    out = tmp_path / "out"
    argv = ["--data", SHIPPED_DATA, "--templates", templates, "--out", out, "--audience", "principal", "--jobs", "1"]
    code, said, err = run_cli(*argv, "--format", "docx")
    assert code == 0, err
    word = (out / DATASET / "principal.docx").read_bytes()
    also = _left_out(said, "the Word brief kazakhstan-2022/principal also leaves out:")
    assert also, said
    state = out / ".briefs" / "state.json"
    memo = json.loads(state.read_text(encoding="utf-8"))["cuts"][f"{DATASET}/principal"]["word_cut"]
    assert memo[0].startswith("%layout=LibreOffice at ") and any(m.startswith("%drop=") for m in memo), memo

    conversions: list[bytes] = []
    measure = docx_layout.docx_pages
    monkeypatch.setattr(
        docx_layout, "docx_pages", lambda data, program: conversions.append(data) or measure(data, program)
    )
    code, again, err = run_cli(*argv, "--format", "docx", "--force")
    assert code == 0, err
    assert conversions == []
    assert (out / DATASET / "principal.docx").read_bytes() == word
    assert _left_out(again, "the Word brief kazakhstan-2022/principal also leaves out:") == also
    assert "principal.docx (" in again and "pages as LibreOffice lays it out)" in again

    # The remembered layout names the LibreOffice that made it: another install measures again.
    saved = json.loads(state.read_text(encoding="utf-8"))
    cut = saved["cuts"][f"{DATASET}/principal"]
    cut["word_cut"] = ["%layout=LibreOffice at /elsewhere (2020-01-01 00:00:00 UTC)", *cut["word_cut"][1:]]
    state.write_text(json.dumps(saved), encoding="utf-8")
    code, _, err = run_cli(*argv, "--format", "docx", "--force")
    assert code == 0, err
    assert conversions, "a layout made by another LibreOffice was trusted"
    assert (out / DATASET / "principal.docx").read_bytes() == word


def test_without_libreoffice_the_docx_takes_the_pdf_s_cut_and_the_build_says_so(
    built: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "tpl"
    larger_house_style(templates, "principal", 1.25)
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))
    out = tmp_path / "out"
    argv = ["--data", SHIPPED_DATA, "--templates", templates, "--out", out, "--audience", "principal"]
    code, said, err = run_cli(*argv, "--format", "docx", "--format", "md")
    assert code == 0, err
    assert "principal.docx (not measured: LibreOffice is not installed, so it holds the PDF's cut)" in said
    assert "also leaves out" not in said
    md = (out / DATASET / "principal.md").read_text(encoding="utf-8")
    assert md.encode() == (built / DATASET / "principal.md").read_bytes()
    word = docx.Document(out / DATASET / "principal.docx")
    shown = [p.text for p in paragraphs(word) if p.style.name.startswith("List")]
    assert shown and all(_plain(t)[:40] in _plain(md) for t in shown)
    assert len(shown) == len(re.findall(r"^[-*] ", md, flags=re.M))
    # The desk has no page limit: nothing to measure, nothing said.
    code, said, err = run_cli("--data", SHIPPED_DATA, "--out", out, "--audience", "desk", "--format", "docx")
    assert code == 0 and "desk.docx\n" in said + "\n" and "measured" not in said, said


def test_a_docx_target_s_stamp_names_the_layout_that_measures_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installing or removing LibreOffice rebuilds the Word briefs it measures (those with a page limit), and
    no-op fast path does not vouch for them across the change."""
    from briefs.pipeline.build import Options, make_plan
    from briefs.pipeline.fastpath import fingerprint

    program = tmp_path / "bin" / "soffice"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    program.chmod(0o755)
    options = Options(data_dir=SHIPPED_DATA, out_dir=tmp_path / "out", formats=("docx",))
    layouts = {}
    prints = {}
    for label, path in (("none", tmp_path / "empty"), ("some", program.parent)):
        monkeypatch.setenv("PATH", str(path))
        plan = make_plan(options)
        layouts[label] = {p.target.audience: p.stamp.options.get("docx_layout") for p in plan.targets}
        prints[label] = fingerprint(
            data_dir=SHIPPED_DATA,
            out_dir=options.out_dir,
            templates_dir=None,
            datasets=(),
            audiences=(),
            formats=("docx",),
            pdf_variant=None,
        )
    assert layouts["none"] == {
        "congress": "no LibreOffice",
        "desk": None,
        "principal": "no LibreOffice",
        "public": "no LibreOffice",
    }
    assert layouts["some"]["desk"] is None
    assert layouts["some"]["principal"].startswith(f"LibreOffice at {program}")
    assert prints["none"] != prints["some"]


def test_overflow_fail_fails_a_docx_libreoffice_lays_out_over_its_limit(tmp_path: Path, run_cli: RunCli) -> None:
    """`overflow: fail`: the PDF that fits is written; the Word brief LibreOffice sets longer fails, saying why."""
    if LIBREOFFICE is None:
        pytest.skip("LibreOffice not installed (apt-get install libreoffice-writer-nogui)")
    templates = tmp_path / "tpl"
    larger_house_style(templates, "principal", 1.25)
    spec = yaml.safe_load((SHIPPED_TEMPLATES / "audiences" / "principal.yaml").read_text(encoding="utf-8"))
    spec.update(overflow="fail", limits={"pages": 3})
    (templates / "audiences" / "principal.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = tmp_path / "out"
    code, said, err = run_cli(
        "--data", SHIPPED_DATA, "--templates", templates, "--out", out, "--audience", "principal",
        "--format", "pdf", "--format", "docx",
    )  # fmt: skip
    assert code == 1, said + err
    assert (out / DATASET / "principal.pdf").exists() and not (out / DATASET / "principal.docx").exists()
    found = re.search(
        r"FAILED kazakhstan-2022/principal\.docx: (\d+) pages as LibreOffice lays the Word brief out", said + err
    )
    assert found and int(found.group(1)) > 3, said + err


def test_word_notes_as_endnotes_are_word_endnotes(tmp_path: Path, run_cli: RunCli) -> None:
    """`word_notes: endnotes`: pandoc's footnotes become Word endnotes, numbered 1, 2, 3 as in the PDF, with
    their links, separators and styles. (No shipped audience uses it: LibreOffice 7.4 sets endnotes on pages
    of their own with no header or footer, so those pages would carry no marking; Word sets them after the
    text, under the section's header.)"""
    spec = (SHIPPED_TEMPLATES / "audiences" / "desk.yaml").read_text(encoding="utf-8")
    write_tree(tmp_path / "tpl", {"audiences/desk.yaml": spec + "word_notes: endnotes\n"})
    argv = ("--data", SHIPPED_DATA, "--templates", tmp_path / "tpl", "--out", tmp_path / "out", "--audience", "desk")
    code, _, err = run_cli(*argv, "--format", "docx")
    assert code == 0, err
    path = tmp_path / "out" / DATASET / "desk.docx"
    with zipfile.ZipFile(path) as zipped:
        names = set(zipped.namelist())
    assert "word/footnotes.xml" not in names and "word/endnotes.xml" in names
    assert "word/_rels/endnotes.xml.rels" in names and "word/_rels/footnotes.xml.rels" not in names
    body, notes = part(path, "word/document.xml"), part(path, "word/endnotes.xml")
    assert "footnote" not in body.replace("footnotePr", "") and "Footnote" not in notes
    settings = part(path, "word/settings.xml")
    props = re.search(r"<w:endnotePr>(.*?)</w:endnotePr>", settings)
    assert props and '<w:numFmt w:val="decimal"/>' in props.group(1) and '<w:pos w:val="docEnd"/>' in props.group(1)
    separators = re.findall(r'<w:endnote w:type="\w+" w:id="(-?\d+)"', notes)
    assert sorted(separators) == sorted(re.findall(r'<w:endnote w:id="(-?\d+)"/>', props.group(1)))
    # Each section numbers them in decimal too (Word's default for endnotes is i, ii, iii).
    sections = re.findall(r"<w:sectPr\b.*?</w:sectPr>", body, re.S)
    assert sections and all('<w:endnotePr><w:numFmt w:val="decimal"/></w:endnotePr>' in s for s in sections)
    links = re.findall(r'r:id="(rId\d+)"', notes)
    rels = part(path, "word/_rels/endnotes.xml.rels")
    assert links and all(f'Id="{r}"' in rels for r in links)
    assert "/word/endnotes.xml" in part(path, "[Content_Types].xml")
    assert 'Target="endnotes.xml"' in part(path, "word/_rels/document.xml.rels")
    document = docx.Document(path)
    text, mark = document.styles["endnote text"], document.styles["endnote reference"]
    assert text.base_style.name == "Footnote Text" and mark.base_style.name == "Footnote Reference"

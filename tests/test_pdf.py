"""Print quality (issue 5), read back with pypdf from real WeasyPrint builds of the shipped briefs.

Metadata from the data (never the clock), bookmarks, every font embedded and subset, the audience's
marking at the top and the bottom of every page of a marked brief, "Page N of M" on every page, live
links to sources, the timeline drawn as a tagged figure, byte-identical rebuilds, and the PDF variants.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest

from briefs.cli import main
from tests.conftest import SHIPPED_DATA, SHIPPED_TEMPLATES, write_tree

DATASET = "kazakhstan-2022"
MARKED = ("principal", "desk")  # government memos: the marking on every page


def shipped_audiences() -> list[str]:
    return sorted(p.stem for p in (SHIPPED_TEMPLATES / "audiences").glob("*.yaml"))


def build(out: Path, *args: str) -> Path:
    """Build into ``out`` (every format, forced) and return the dataset's output folder."""
    code = main(["--data", str(SHIPPED_DATA), "--out", str(out), "--force", "-q", *args])
    assert code == 0
    return out / DATASET


@pytest.fixture(scope="module")
def shipped(shipped_build: Path) -> Path:
    """Every shipped audience built once, as PDF, Markdown and HTML among its formats (conftest.py)."""
    return shipped_build / DATASET


def reader(folder: Path, audience: str) -> pypdf.PdfReader:
    return pypdf.PdfReader(folder / f"{audience}.pdf")


def lines_by_height(page: pypdf.PageObject) -> Iterator[tuple[float, str]]:
    """Each run of text on ``page`` with its baseline's height from the foot of the page, in points."""
    found: list[tuple[float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            # The text matrix's y, mapped through the current transformation matrix.
            y = tm[5] * cm[3] + tm[4] * cm[1] + cm[5]
            found.append((float(y), text.strip()))

    page.extract_text(visitor_text=visit)
    return iter(found)


def marking_heights(page: pypdf.PageObject, marking: str) -> list[float]:
    return [y for y, text in lines_by_height(page) if marking in text]


@pytest.mark.parametrize("audience", shipped_audiences())
def test_metadata_comes_from_the_data(shipped: Path, audience: str) -> None:
    pdf = reader(shipped, audience)
    meta = pdf.metadata
    assert meta is not None
    assert meta.title == "How Russia’s invasion of Ukraine affected Kazakh politics"
    assert meta.subject and meta.subject.startswith("Kazakhstan: balancing Russia and the West")
    assert meta.author
    assert "Tokayev" in (meta.get("/Keywords") or "")
    # The brief's date (the newest information it shows), never the build's clock: the date on its first page.
    stamp = meta.get("/CreationDate")
    assert stamp == meta.get("/ModDate") and re.fullmatch(r"D:2023\d{4}", str(stamp)), stamp
    day = dt.datetime.strptime(str(stamp)[2:10], "%Y%m%d").date()
    assert f"{day:%B} {day.day}, {day.year}".upper() in pdf.pages[0].extract_text().upper()
    root = pdf.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert root["/MarkInfo"]["/Marked"]  # tagged
    assert "/StructTreeRoot" in root


@pytest.mark.parametrize("audience", shipped_audiences())
def test_bookmarks_follow_the_headings(shipped: Path, audience: str) -> None:
    pdf = reader(shipped, audience)

    def titles(items: list[Any]) -> list[str]:
        out: list[str] = []
        for item in items:
            out += titles(item) if isinstance(item, list) else [item.title]
        return out

    found = titles(pdf.outline)
    assert len(found) >= 3, found
    if audience == "desk":
        assert {"Summary", "Key figures", "Key judgments", "Annex A: Timeline"} <= set(found)
        assert any(re.fullmatch(r"Annex [A-Z]: Notes", t) for t in found), found


def fonts_of(pdf: pypdf.PdfReader) -> dict[str, set[str]]:
    """Every font used on any page (forms included): base name -> the keys of its font descriptor."""
    fonts: dict[str, set[str]] = {}

    def walk(resources: Any) -> None:
        resources = resources.get_object() if resources is not None else {}
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            fonts[str(font["/BaseFont"])] = set(descriptor.get_object().keys()) if descriptor else set()
        for ref in (resources.get("/XObject") or {}).values():
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Form":
                walk(xobject.get("/Resources"))

    for page in pdf.pages:
        walk(page.get("/Resources"))
    return fonts


@pytest.mark.parametrize("audience", shipped_audiences())
def test_every_font_is_shipped_embedded_and_subset(shipped: Path, audience: str) -> None:
    fonts = fonts_of(reader(shipped, audience))
    assert fonts
    for name, descriptor in fonts.items():
        assert descriptor & {"/FontFile", "/FontFile2", "/FontFile3"}, f"{name} is not embedded"
        assert re.fullmatch(r"/[A-Z]{6}\+Brief-(Serif|Sans)(-\w+)?", name), f"{name}: not a subset of a shipped face"


@pytest.mark.parametrize("audience", shipped_audiences())
def test_page_n_of_m_on_every_page(shipped: Path, audience: str) -> None:
    pdf = reader(shipped, audience)
    total = len(pdf.pages)
    for n, page in enumerate(pdf.pages, start=1):
        assert f"Page {n} of {total}" in page.extract_text(), f"{audience} page {n}"


def assert_marked_top_and_bottom(pdf: pypdf.PdfReader, marking: str, what: str) -> None:
    for n, page in enumerate(pdf.pages, start=1):
        height = float(page.mediabox.height)
        ys = marking_heights(page, marking)
        assert any(y > height - 72 for y in ys), f"{what} page {n}: no {marking} in the top margin ({ys})"
        assert any(y < 72 for y in ys), f"{what} page {n}: no {marking} in the bottom margin ({ys})"


@pytest.mark.parametrize("audience", MARKED)
def test_marking_at_top_and_bottom_of_every_page(shipped: Path, audience: str) -> None:
    pdf = reader(shipped, audience)
    assert len(pdf.pages) >= 2
    assert_marked_top_and_bottom(pdf, "UNCLASSIFIED", audience)


def test_marking_comes_from_the_audience_file(tmp_path: Path) -> None:
    """A user's audience with its own marking gets that marking on every page; none is hard-coded."""
    templates = write_tree(
        tmp_path / "templates",
        {
            "audiences/marked.yaml": """\
                title: Test Memo
                marking: "OFFICIAL USE ONLY // TEST"
                portion_mark: (OUO)
                sections: [summary, key_points, analysis, sources]
                """
        },
    )
    out = build(tmp_path / "out", "--templates", str(templates), "--audience", "marked", "--format", "pdf")
    pdf = reader(out, "marked")
    assert len(pdf.pages) >= 2
    assert_marked_top_and_bottom(pdf, "OFFICIAL USE ONLY // TEST", "marked")
    assert "UNCLASSIFIED" not in "".join(page.extract_text() for page in pdf.pages)


def test_an_unmarked_brief_has_no_banner(shipped: Path) -> None:
    if "public" not in shipped_audiences():
        pytest.skip("no public audience shipped")
    text = "".join(page.extract_text() for page in reader(shipped, "public").pages)
    assert "UNCLASSIFIED" not in text and "(U)" not in text


def test_sources_are_live_links(shipped: Path) -> None:
    uris = {
        str(annot.get_object()["/A"].get("/URI"))
        for page in reader(shipped, "desk").pages
        for annot in page.get("/Annots") or []
        if annot.get_object().get("/Subtype") == "/Link" and "/URI" in annot.get_object().get("/A", {})
    }
    assert "https://www.fpri.org/article/2022/06/how-russias-invasion-of-ukraine-has-affected-kazakh-politics/" in uris
    assert "https://press.un.org/en/2022/ga12407.doc.htm" in uris


def figures_with_alt(pdf: pypdf.PdfReader) -> list[str]:
    alts: list[str] = []

    def walk(node: Any) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, dict):
            if node.get("/S") == "/Figure":
                alts.append(str(node.get("/Alt", "")))
            kids = node.get("/K")
            if kids is not None:
                walk(kids)
        elif isinstance(node, list):
            for kid in node:
                walk(kid)

    walk(pdf.trailer["/Root"]["/StructTreeRoot"])
    return alts


def test_desk_draws_the_timeline_and_key_figures(shipped: Path) -> None:
    pdf = reader(shipped, "desk")
    assert any(alt.startswith("Timeline") and "March 2019" in alt for alt in figures_with_alt(pdf))
    html = (shipped / "desk.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 1 and "<desc" in html and 'class="figure-panel"' in html
    assert "<img" not in html  # drawn from the data, no image files
    text = "".join(page.extract_text() for page in pdf.pages)
    for value in ("at least 232", "−10.6%", "$21.3 million", "77.18%"):
        assert value in text


@pytest.mark.slow
def test_two_builds_are_byte_identical(shipped: Path, tmp_path: Path) -> None:
    again = build(tmp_path / "again", "--format", "pdf", "--format", "md", "--format", "html")
    names = sorted(p.name for p in shipped.iterdir() if p.is_file() and p.suffix in {".pdf", ".md", ".html"})
    assert len(names) == 3 * len(shipped_audiences())
    for name in names:
        assert (again / name).read_bytes() == (shipped / name).read_bytes(), name


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "claim"), [("pdf/ua-1", 'pdfuaid:part="1"'), ("pdf/a-3b", 'pdfaid:part="3"')])
def test_pdf_variant_builds(tmp_path: Path, variant: str, claim: str) -> None:
    out = build(tmp_path / "out", "--audience", "desk", "--format", "pdf", "--pdf-variant", variant)
    pdf = reader(out, "desk")
    xmp = pdf.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert claim in xmp
    # Dated by the data (its latest dated update), never by the clock.
    assert "<xmp:CreateDate>2023-04-24</xmp:CreateDate>" in xmp
    if variant == "pdf/a-3b":
        assert 'pdfaid:conformance="B"' in xmp and "/OutputIntents" in pdf.trailer["/Root"]
    assert all(fonts_of(pdf).values())
    # A variant build is as reproducible as a plain one.
    first = (out / "desk.pdf").read_bytes()
    shutil.rmtree(tmp_path / "out")
    again = build(tmp_path / "out", "--audience", "desk", "--format", "pdf", "--pdf-variant", variant)
    assert (again / "desk.pdf").read_bytes() == first


def laid_out(html: Path) -> list[Any]:
    """The page boxes WeasyPrint lays ``html`` out into, exactly as a build does (same fonts, same fetcher)."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    from briefs.formats.pdf import make_fetcher

    refused: list[str] = []
    document = weasyprint.HTML(
        string=html.read_text(encoding="utf-8"),
        base_url=SHIPPED_TEMPLATES.resolve().as_uri() + "/",
        url_fetcher=make_fetcher((SHIPPED_TEMPLATES,), refused),
    ).render(font_config=FontConfiguration())
    assert not refused
    return [page._page_box for page in document.pages]


def flow_boxes(page_box: Any) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """Every box in the page's flow (not its margin boxes), with the tags of the elements around it."""

    def walk(box: Any, tags: tuple[str, ...]) -> Iterator[tuple[Any, tuple[str, ...]]]:
        tag = getattr(box, "element_tag", None)
        here = (*tags, tag) if tag and (not tags or tags[-1] != tag) else tags
        yield box, here
        for child in getattr(box, "children", []):
            yield from walk(child, here)

    for child in page_box.children:
        if type(child).__name__ != "MarginBox":
            yield from walk(child, ())


@pytest.mark.parametrize("audience", shipped_audiences())
def test_no_stranded_heading_split_row_widow_or_orphan(shipped: Path, audience: str) -> None:
    pages = laid_out(shipped / f"{audience}.html")
    rows: dict[int, set[int]] = {}
    lines: dict[tuple[int, int], int] = {}
    blocks: dict[int, str] = {}
    for number, page in enumerate(pages, start=1):
        leaves = []
        for box, tags in flow_boxes(page):
            kind = type(box).__name__
            if kind == "TableRowBox" and "thead" not in tags:  # a header row is repeated on each page, by design
                rows.setdefault(id(box.element), set()).add(number)
            if kind == "LineBox":
                leaves.append((box.position_y + box.height, tags))
                parent = tags[-1] if tags else ""
                if parent in ("p", "li", "dd"):
                    key = (id(box.element), number)
                    lines[key] = lines.get(key, 0) + 1
                    blocks[id(box.element)] = parent
            elif "Replaced" in kind or kind == "SVGBox":
                leaves.append((box.position_y + box.height, tags))
        if number < len(pages) and leaves:
            _, last_tags = max(leaves, key=lambda leaf: leaf[0])
            assert not {"h1", "h2", "h3"} & set(last_tags), f"{audience} page {number} ends with a heading"
    split_rows = [pages_of for pages_of in rows.values() if len(pages_of) > 1]
    assert not split_rows, f"{audience}: table rows split across pages {split_rows}"
    for element in blocks:
        parts = [count for (e, _), count in lines.items() if e == element]
        if len(parts) > 1:
            assert min(parts) >= 2, f"{audience}: a {blocks[element]} split {parts} lines across pages"


def test_a4_paper_keeps_the_furniture(mini_data: Path, tmp_path: Path) -> None:
    templates = write_tree(
        tmp_path / "templates",
        {"audiences/a4.yaml": "title: A4 Memo\nmarking: RESTRICTED\npaper: a4\nsections: [bluf, summary, sources]\n"},
    )
    code = main(["--data", str(mini_data), "--out", str(tmp_path / "out"), "--templates", str(templates), "-q"])
    assert code == 0
    pdf = pypdf.PdfReader(tmp_path / "out" / "mini" / "a4.pdf")
    box = pdf.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert_marked_top_and_bottom(pdf, "RESTRICTED", "a4")
    assert "Page 1 of 1" in pdf.pages[0].extract_text()

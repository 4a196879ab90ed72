"""Each audience's Word house style: a pandoc reference document made from its audience file.

``python -m briefs.formats.docx_reference --write`` writes `templates/audiences/<id>.reference.docx` for
every shipped audience; a test fails while a committed file differs from what this module makes, so
the shipped binaries can always be regenerated. A designer may instead edit a copy in Word (styles
only: pandoc ignores the document's text) and put it in a `--templates` folder, where it wins.

The look follows the PDF's: Liberation Serif or Sans (metric-compatible with Times New Roman and
Arial) per the audience's ``font``, its paper, 1-inch margins; a government memo (one with a ``memo:``
header) in black, 12 pt, headings in the body font; the others with navy sans-serif headings.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefs.formats.pandoc import BOX_STYLE, normalized_zip, property_text, run_pandoc

if TYPE_CHECKING:
    from docx.styles.style import BaseStyle

    from briefs.data.model import Audience

log = logging.getLogger(__name__)

AUDIENCES = Path(__file__).resolve().parent.parent.parent / "templates" / "audiences"
NAVY = "1B365D"
BLACK = "000000"
FONTS = {"serif": "Liberation Serif", "sans": "Liberation Sans"}


def _set_fonts(rpr: Any, font: str) -> None:
    """Name ``font`` for every script in a run-properties element, dropping theme fonts (they would win)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for key in list(fonts.attrib):
        del fonts.attrib[key]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), font)


def _look(
    style: BaseStyle,
    *,
    font: str | None = None,
    size: float | None = None,
    bold: bool | None = None,
    italic: bool | None = None,
    color: str | None = None,
    underline: bool | None = None,
) -> None:
    """Set a style's character look (only what is given)."""
    from docx.shared import Pt, RGBColor

    run_font = style.font  # type: ignore[attr-defined]
    if font is not None:
        _set_fonts(style.element.get_or_add_rPr(), font)
    if size is not None:
        run_font.size = Pt(size)
    if bold is not None:
        run_font.bold = bold
    if italic is not None:
        run_font.italic = italic
    if underline is not None:
        run_font.underline = underline
    if color is not None:
        run_font.color.rgb = RGBColor.from_string(color)
        color_element = style.element.rPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}color")
        for attr in list(color_element.attrib):
            if not attr.endswith("}val"):
                del color_element.attrib[attr]  # a theme colour would override the value


def _spacing(style: BaseStyle, before: float, after: float, keep_with_next: bool = False) -> None:
    from docx.shared import Pt

    fmt = style.paragraph_format  # type: ignore[attr-defined]
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    if keep_with_next:
        fmt.keep_with_next = True


@dataclass(frozen=True)
class Layout:
    """What an audience's HTML template sets for its page and the DOCX should too (sizes in points, inches)."""

    size: float
    margins: tuple[float, float, float, float]  # top, right, bottom, left
    columns: int = 1
    gap: float = 0.3
    ink: str = NAVY
    headings: tuple[float, float, float] = (19.0, 12.5, 11.0)  # Heading 1, 2, 3
    after: float = 6.0  # Body Text's space after
    box: tuple[str, str] | None = None  # (fill, border) of a "Boxed Section" table style
    basis: float | None = None  # a "List Basis" style at this size: a judgment's or recommendation's basis line


LAYOUTS = {
    # congress.html.j2: 10 pt on 0.75/0.7/0.8 in margins, two columns 0.3 in apart after the summary, and the
    # "Issues for Congress" box shaded #eef2f7 (its border in the heading colour, as Word can draw it).
    "congress": Layout(
        size=10.0,
        margins=(0.75, 0.7, 0.8, 0.7),
        columns=2,
        gap=0.3,
        ink="1F3A60",
        headings=(19.0, 11.0, 10.0),
        after=5.0,
        box=("EEF2F7", "1F3A60"),
    ),
    # desk.html.j2: an analytic memo at 11 pt (the base layout's 12 pt set its body on ten pages, the PDF's on eight).
    # Its `.judgment .basis, li.rec .basis` at 9 pt: a "List Basis" style for those lines.
    "desk": Layout(size=11.0, margins=(1.0, 1.0, 0.9, 1.0), basis=9.0),
}
"""Shipped templates whose PDF is laid out apart from the base layout (by the template the audience uses)."""


def _box_style(document: Any, fill: str, border: str) -> None:
    """A table style "Boxed Section": a shaded, bordered box that `briefs.formats.docx` puts a section in."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    style = document.styles.add_style(BOX_STYLE, WD_STYLE_TYPE.TABLE)
    style.base_style = None
    element = style.element
    tbl = OxmlElement("w:tblPr")
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "0"), ("w:color", border)):
            edge.set(qn(key), value)
        borders.append(edge)
    tbl.append(borders)
    margins = OxmlElement("w:tblCellMar")
    for side, twips in (("top", 80), ("left", 120), ("bottom", 40), ("right", 120)):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), str(twips))
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    tbl.append(margins)
    element.append(tbl)
    cell = OxmlElement("w:tcPr")
    shade = OxmlElement("w:shd")
    for key, value in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", fill)):
        shade.set(qn(key), value)
    cell.append(shade)
    element.append(cell)


TABLE_POINTS = 9.5
"""Table text, as the PDF's tables (``table { font-size: 9.5pt }``)."""

NOTE_POINTS = 9.0
"""Footnotes set as the PDF's notes are (issue 26: 8 pt was too small to read on paper)."""

LIST_INDENT = 720
"""Twips: the text indent of a level-1 list item in pandoc's numbering (0.5 in), 720 more a level."""


def _list_styles(document: Any, size: float, after: float) -> None:
    """Word's list styles, which `briefs.formats.docx` gives list paragraphs: List Bullet, List Number and
    List Continue (an item's later paragraphs, at the item's text), each at levels 1 to 3."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, Twips

    styles = document.styles
    for base in ("List Bullet", "List Number", "List Continue"):
        for level in (1, 2, 3):
            name = base if level == 1 else f"{base} {level}"
            style = (
                styles[name] if any(s.name == name for s in styles) else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            )
            style.base_style = styles["Normal"]
            style.font.size = Pt(size)
            fmt = style.paragraph_format
            fmt.space_before, fmt.space_after = Pt(0), Pt(after)
            fmt.left_indent = Twips(LIST_INDENT * level)
            if base != "List Continue":  # the numbering's own hanging indent places the mark
                fmt.first_line_indent = Twips(-360)


def reference_docx(audience: Audience) -> bytes:
    """The reference document for ``audience``: pandoc's default one, restyled from the audience file."""
    import io

    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Inches, Pt

    document = docx.Document(io.BytesIO(run_pandoc(["--print-default-data-file", "reference.docx"])))
    styles = document.styles
    memo = audience.memo is not None
    body_font = FONTS[audience.font]
    layout = LAYOUTS.get(audience.template or audience.id)
    size = 12.0 if audience.font == "serif" or memo else 10.5
    head_font = body_font if memo else FONTS["sans"]
    ink = BLACK if memo else NAVY
    if layout is not None:
        size, ink = layout.size, layout.ink

    defaults = styles.element.find(qn("w:docDefaults"))
    _set_fonts(defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}"), body_font)
    for name in ("Normal", "Body Text", "First Paragraph", "Compact", "Block Text", "Table"):
        if any(s.name == name for s in styles):
            _look(styles[name], font=body_font, size=size)
    _spacing(styles["Body Text"], 0, layout.after if layout else 6)
    _spacing(styles["Compact"], 0, 4 if memo else 3)
    _look(styles["Compact"], size=TABLE_POINTS)  # pandoc's style for table cells; lists have their own now
    headings = {  # level: (size, bold, italic, underline, before, after)
        1: (14.0 if memo else 19.0, True, False, False, 0.0, 6.0),
        2: (size if memo else 12.5, True, False, memo, 12.0, 4.0),
        3: (size if memo else 11.0, True, False, False, 10.0, 3.0),
        4: (size, True, True, False, 8.0, 2.0),
    }
    if layout is not None:  # the template's heading sizes and tighter spacing (congress: 8/3 pt, 6/2 pt)
        headings[1] = (layout.headings[0], True, False, False, 0.0, 2.0)
        headings[2] = (layout.headings[1], True, False, False, 8.0, 3.0)
        headings[3] = (layout.headings[2], True, False, False, 6.0, 2.0)
    for level, (points, bold, italic, underline, before, after) in headings.items():
        style = styles[f"Heading {level}"]
        _look(style, font=head_font, size=points, bold=bold, italic=italic, underline=underline, color=ink)
        _spacing(style, before, after, keep_with_next=True)
    for name in ("Title", "Subtitle"):
        _look(styles[name], font=head_font, color=ink)
    _look(styles["Footnote Text"], font=body_font, size=NOTE_POINTS)  # the PDF's notes: 9 pt, readable
    _spacing(styles["Footnote Text"], 0, 1)
    _list_styles(document, size, 4.0 if memo else 3.0)
    _look(styles["Hyperlink"], color=ink)
    if layout is not None and layout.basis is not None:
        basis = styles.add_style("List Basis", WD_STYLE_TYPE.PARAGRAPH)
        basis.base_style = styles["List Continue"]
        _look(basis, size=layout.basis)

    for name, align, bold in (
        ("Header", WD_ALIGN_PARAGRAPH.CENTER, False),
        ("Footer", WD_ALIGN_PARAGRAPH.CENTER, False),
    ):
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"]
        style.paragraph_format.alignment = align
        _look(style, font=body_font, size=9.0 if not memo else 10.0, bold=bold)
        _spacing(style, 0, 0)
    marking = styles.add_style("Marking", WD_STYLE_TYPE.PARAGRAPH)
    marking.base_style = styles["Header"]
    _look(marking, font=body_font, size=10.0, bold=True)

    section = document.sections[0]
    if audience.paper == "a4":
        section.page_width, section.page_height = docx.shared.Mm(210), docx.shared.Mm(297)
    else:
        section.page_width, section.page_height = Inches(8.5), Inches(11)
    margins = layout.margins if layout is not None else (1.0, 1.0, 1.0, 1.0)
    for side, inches in zip(("top_margin", "right_margin", "bottom_margin", "left_margin"), margins, strict=True):
        setattr(section, side, Inches(inches))
    section.header_distance = section.footer_distance = Inches(0.4 if layout is not None else 0.5)
    if layout is not None and layout.columns > 1:  # `briefs.formats.docx` keeps the lead and the close across
        from docx.oxml import OxmlElement

        cols = section._sectPr.find(qn("w:cols"))
        if cols is None:
            cols = OxmlElement("w:cols")
            section._sectPr.append(cols)
        cols.set(qn("w:num"), str(layout.columns))
        cols.set(qn("w:space"), str(int(layout.gap * 1440)))
    if layout is not None and layout.box is not None:
        _box_style(document, *layout.box)
    _ = Pt  # sizes above are in points

    props = document.core_properties
    props.title = property_text(f"{audience.title}: reference document")
    props.subject = f"Word styles for the audience {audience.id}; made by python -m briefs.formats.docx_reference"
    props.author = props.last_modified_by = "briefs"
    props.keywords = props.comments = props.category = ""
    props.revision = 1
    import datetime as dt

    props.created = props.modified = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
    out = io.BytesIO()
    document.save(out)
    return normalized_zip(_with_font_substitutes(out.getvalue()))


SUBSTITUTES = {  # font: (the metric-compatible font Word should use if it is missing, PANOSE, family)
    "Liberation Serif": ("Times New Roman", "02020603050405020304", "roman"),
    "Liberation Sans": ("Arial", "020B0604020202020204", "swiss"),
}


def _with_font_substitutes(data: bytes) -> bytes:
    """Name Times New Roman and Arial as the Liberation fonts' substitutes in the font table.

    Offices' Windows machines rarely have the Liberation fonts; Word then lays the text out in the
    named alternative, which has the same metrics, instead of a default font.
    """
    import io
    import zipfile

    from lxml import etree  # type: ignore[import-untyped]

    from briefs.formats.pandoc import W, part_bytes

    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = {name: source.read(name) for name in source.namelist()}
    fonts = etree.fromstring(members["word/fontTable.xml"])
    for position, (name, (alternative, panose, family)) in enumerate(SUBSTITUTES.items()):
        font = etree.Element(f"{W}font", {f"{W}name": name})
        etree.SubElement(font, f"{W}altName", {f"{W}val": alternative})
        etree.SubElement(font, f"{W}panose1", {f"{W}val": panose})
        etree.SubElement(font, f"{W}charset", {f"{W}val": "00"})
        etree.SubElement(font, f"{W}family", {f"{W}val": family})
        etree.SubElement(font, f"{W}pitch", {f"{W}val": "variable"})
        fonts.insert(position, font)
    members["word/fontTable.xml"] = part_bytes(fonts)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, content in members.items():
            target.writestr(name, content)
    return out.getvalue()


def shipped_references(folder: Path = AUDIENCES) -> dict[Path, bytes]:
    """Every shipped audience's reference document, by the path it is committed at."""
    from briefs.data.load import load_audience
    from briefs.errors import InputError

    made: dict[Path, bytes] = {}
    for path in sorted(folder.glob("*.yaml")):
        loaded, problems = load_audience(path)
        if loaded is None:
            raise InputError(problems)
        made[folder / f"{loaded.audience.id}.reference.docx"] = reference_docx(loaded.audience)
    return made


def main(argv: list[str] | None = None) -> int:
    """Check the shipped reference documents, or with --write make them again."""
    parser = argparse.ArgumentParser(prog="python -m briefs.formats.docx_reference", description=__doc__)
    parser.add_argument("--write", action="store_true", help="write the reference documents instead of checking them")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stale = 0
    for path, data in shipped_references().items():
        current = path.read_bytes() if path.is_file() else None
        if current == data:
            continue
        if args.write:
            path.write_bytes(data)
            log.info("wrote %s", path)
        else:
            stale += 1
            log.info("%s differs from what `python -m briefs.formats.docx_reference --write` makes", path)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

"""Markdown brief -> Word (DOCX): pandoc with the audience's reference document, then our own page furniture.

The DOCX is converted from the same Markdown text the ``md`` target writes, so it holds exactly the
same selected, trimmed content (issue 15). pandoc (the binary shipped in the ``pypandoc-binary``
wheel, pinned: its version changes the bytes) reads it as CommonMark with footnotes and pipe tables
and with raw HTML, raw attributes and TeX math switched off, so nothing in the data can become
OOXML, a field or a macro; ``--sandbox`` stops it from reading or fetching anything but its input
and the reference document. We then add what pandoc does not: the audience's marking in the header
and footer of every section, "Page N of M" as PAGE and NUMPAGES fields, document properties from the
data, and a zip rewritten with fixed timestamps and member order so two builds give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import itertools
import logging
import re
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefs.errors import InputError, Problem, display_path
from briefs.files import cache_dir, keep
from briefs.formats.docx_fonts import embed_fonts, shipped_face
from briefs.formats.pandoc import (
    BOX_STYLE,
    CONTROL,
    W,
    pandoc_binary,
    parse_part,
    part_bytes,
    property_text,
    run_pandoc,
    zip_members,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from docx.document import Document
    from docx.text.paragraph import Paragraph

    from briefs.data.audiences import TemplateDirs
    from briefs.data.model import Audience, DatasetInfo

log = logging.getLogger(__name__)


PANDOC_READER = "commonmark-raw_html+footnotes+pipe_tables+hard_line_breaks"
"""What the Markdown templates write; raw HTML/OOXML, attributes and math stay off so data stays text.

Every line break is kept (``hard_line_breaks``): a byline over an as-of line, or a quote's attribution
over the next quote, is two blocks, and `_one_block_per_paragraph` makes each its own Word paragraph.
"""

REFERENCE_SUFFIX = ".reference.docx"
"""`templates/audiences/<stem>.reference.docx`: an audience's house style for Word."""


HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
APP_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    b"<Application>briefs</Application><DocSecurity>0</DocSecurity></Properties>"
)
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def strip_front_matter(md_text: str) -> str:
    """The Markdown without its leading YAML front matter (the DOCX takes its metadata from the data)."""
    if md_text.startswith("---\n"):
        end = md_text.find("\n---\n", 4)
        if end != -1:
            return md_text[end + 5 :]
    return md_text


_NOTE_LINE = re.compile(r"\[\^[^\]\s]+\]:")
_HEADING_LINE = re.compile(r" {0,3}#{1,6}(\s|$)")


def drop_notes_heading(md_text: str) -> str:
    """The Markdown without the heading over its footnote definitions: in Word they are footnotes, not a list."""
    lines = md_text.split("\n")
    kept = []
    for i, line in enumerate(lines):
        if _HEADING_LINE.match(line):
            after = next((n for n in lines[i + 1 :] if n.strip()), "")
            if _NOTE_LINE.match(after):
                continue
        kept.append(line)
    return "\n".join(kept)


def reference_file(dirs: TemplateDirs, stem: str) -> Path | None:
    """The audience's reference document, the user's folder first; None when no folder has one."""
    name = f"audiences/{stem}{REFERENCE_SUFFIX}"
    for root in dirs.searched:
        path = root / name
        if path.is_file():
            real = path.resolve()
            if not real.is_relative_to(root.resolve()):  # an untrusted folder's symlink must not read other files
                raise InputError(Problem(display_path(path), None, None, "", f"links outside its folder, to {real}"))
            return path
    return None


REFERENCE_LIMIT = 16 << 20
"""The most a reference document may hold uncompressed, all parts together (the shipped ones hold ~0.3 MB)."""


def read_reference(path: Path) -> dict[str, bytes]:
    """A user's reference document's parts, read within `REFERENCE_LIMIT` and checked; InputError naming it.

    The parts are read here, never by pandoc from the user's file: a zip's declared sizes may lie, so
    each part is read at most up to what is left of the limit (a zip bomb stops there), and every XML
    part must parse (without entities or network) so that a broken one is named here, not blamed on pandoc.
    """
    where = display_path(path)

    def problem(message: str) -> InputError:
        return InputError(Problem(where, None, None, "", f"reference document: {message}"))

    members: dict[str, bytes] = {}
    left = REFERENCE_LIMIT
    try:
        with zipfile.ZipFile(path) as z:
            for item in z.infolist():
                if item.is_dir():
                    continue
                with z.open(item) as part:
                    data = part.read(left + 1)
                left -= len(data)
                if left < 0:
                    raise problem(f"holds more than {REFERENCE_LIMIT >> 20} MB uncompressed; expected a Word .docx")
                members[item.filename] = data
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise problem(f"expected a Word .docx, found a damaged or unreadable zip ({exc})") from None
    missing = sorted({"word/styles.xml", "word/document.xml", "[Content_Types].xml"} - members.keys())
    if missing:
        raise problem(f"expected a Word .docx, found a zip without {', '.join(missing)}")
    roots = {"word/styles.xml": f"{W}styles", "word/document.xml": f"{W}document"}
    for name, data in members.items():
        if name.endswith((".xml", ".rels")):
            try:
                root = parse_part(data)
            except Exception as exc:  # lxml's XMLSyntaxError, or a part that is not text at all
                raise problem(f"{name} is not well-formed XML ({_first_line(str(exc))})") from None
            if name in roots and root.tag != roots[name]:
                want = roots[name].rpartition("}")[2]
                raise problem(f"{name} is not a Word part: expected a w:{want} element, found {root.tag!r}")
    return members


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:200]


def reference_problems(
    dirs: TemplateDirs, audiences: Iterable[Audience], formats: Sequence[str], every: bool = False
) -> list[Problem]:
    """Each reference document an audience building Word would use, checked before anything is written.

    An audience builds Word when ``--format docx`` asks for it, or, with no ``--format``, when its
    ``formats`` list it; `check` passes ``every=True`` to check them all.
    """
    problems: list[Problem] = []
    seen: set[Path] = set()
    for audience in audiences:
        if not every and "docx" not in (formats or audience.formats):
            continue
        try:
            path = reference_file(dirs, audience.template or audience.id)
            if path is not None and path not in seen:
                seen.add(path)
                read_reference(path)
        except InputError as exc:
            problems += exc.problems
    return problems


def render_docx(md_text: str, *, audience: Audience, info: DatasetInfo, date: dt.date, dirs: TemplateDirs) -> bytes:
    """The Markdown brief as a DOCX in the audience's house style; the same input always gives the same bytes."""
    epoch = int(dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC).timestamp())
    stem = audience.template or audience.id
    found = reference_file(dirs, stem)
    if found is None:  # an audience of the user's own with no reference document: its look from its file
        from briefs.formats.docx_reference import reference_docx

        reference = reference_docx(audience)
    else:  # pandoc reads a checked copy, never the user's file (`read_reference`)
        reference = zip_members(read_reference(found), stored=True)
    text = drop_notes_heading(strip_front_matter(md_text)).encode("utf-8")
    kept = _kept_pandoc(reference, text, epoch)
    raw = _read_kept_pandoc(kept)
    if raw is None:
        with tempfile.TemporaryDirectory(prefix="briefs-docx-") as tmp:
            (Path(tmp) / "reference.docx").write_bytes(reference)
            args = ["-f", PANDOC_READER, "-t", "docx", "--sandbox", f"--reference-doc={tmp}/reference.docx", "-o", "-"]
            raw = run_pandoc(args, text, epoch)
        if kept is not None:
            keep(kept, raw, newest=KEPT_PANDOC)
    return finish(raw, audience=audience, info=info, date=date)


KEPT_PANDOC = 128
"""At most this many of pandoc's Word documents are kept (the newest, ~40 KB each): one per brief and state of its
Markdown, so a build of many briefs keeps its own."""


def _kept_pandoc(reference: bytes, text: bytes, epoch: int) -> Path | None:
    """Where pandoc's DOCX for this input is kept between runs (`briefs.files.cache_dir`), or None.

    pandoc is most of a Word rebuild's time (~0.12 s a brief; issue 27), and the same Markdown, reference
    document and date always give the same bytes from the same pandoc. The file is named by all of them: the
    pandoc binary (its path, size and date), the reader and options, the reference's bytes, the text and the
    date; so an edit, another reference or another pandoc runs it again.
    """
    folder = cache_dir()
    if folder is None:
        return None
    binary = pandoc_binary()
    try:
        facts = binary.stat()
    except OSError:
        return None
    digest = hashlib.sha256()
    for part in (str(binary.resolve()), str(facts.st_size), str(facts.st_mtime_ns), PANDOC_READER, "docx --sandbox"):
        digest.update(part.encode() + b"\0")
    for data in (reference, text, str(epoch).encode()):
        digest.update(hashlib.sha256(data).digest())
    return folder / "pandoc" / f"{digest.hexdigest()}.docx"


def _read_kept_pandoc(kept: Path | None) -> bytes | None:
    """A kept pandoc DOCX, or None when there is none or the file is not a whole zip (it is made again)."""
    if kept is None:
        return None
    try:
        data = kept.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if z.testzip() is not None or "word/document.xml" not in z.namelist():
                return None
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return None
    return data


def finish(raw: bytes, *, audience: Audience, info: DatasetInfo, date: dt.date) -> bytes:
    """pandoc's DOCX with the marking, page numbers, properties and safety checks added, zipped deterministically."""
    import docx

    with zipfile.ZipFile(io.BytesIO(raw)) as source:
        members = {name: source.read(name) for name in source.namelist()}
    share_repeated_notes(members)
    only_web_links(members)
    if "docProps/app.xml" in members:  # pandoc copies the reference's, which claims Word 12 and made-up counts
        members["docProps/app.xml"] = APP_XML
    document = docx.Document(io.BytesIO(zip_members(members, stored=True)))
    _drop_marking_paragraphs(document, audience.marking)
    _superscript_note_commas(document)
    _fit_tables(document)
    _memo_lines(document)
    _memo_title(document)
    _one_block_per_paragraph(document)
    _quotes_keep_their_attribution(document)
    _narrow_lists(document)
    _list_styles(document)
    _columns(document)
    _boxes(document, audience)
    _page_furniture(document, audience.marking)
    _properties(document, audience=audience, info=info, date=date)
    out = io.BytesIO()
    document.save(out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as saved:
        members = {name: saved.read(name) for name in saved.namelist()}
    if audience.word_notes == "endnotes":
        as_endnotes(members)
    embed_fonts(members)  # any Word or LibreOffice sets it in the faces it was measured in
    return zip_members(members)


_NOTES_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_NOTES_CONTENT = "application/vnd.openxmlformats-officedocument.wordprocessingml."
_ENDNOTE_STYLES = (  # (id, name, based on): Word's own names, so its style pane and Find know them
    ("EndnoteText", "endnote text", "FootnoteText"),
    ("EndnoteReference", "endnote reference", "FootnoteReference"),
)
# What may follow `w:endnotePr` in `w:settings` and in `w:sectPr` (ECMA-376 §17.15.1.78, §17.6.17): it goes
# before the first of these present, so Word, which validates element order, opens the file.
_AFTER_SETTINGS_NOTES = (
    "compat",
    "docVars",
    "rsids",
    "mathPr",
    "attachedSchema",
    "themeFontLang",
    "clrSchemeMapping",
    "doNotIncludeSubdocsInStats",
    "doNotAutoCompressPictures",
    "forceUpgrade",
    "captions",
    "readModeInkLockDown",
    "smartTagType",
    "schemaLibrary",
    "shapeDefaults",
    "doNotEmbedSmartTags",
    "decimalSymbol",
    "listSeparator",
)
_AFTER_SECTION_NOTES = (
    "type",
    "pgSz",
    "pgMar",
    "paperSrc",
    "pgBorders",
    "lnNumType",
    "pgNumType",
    "cols",
    "formProt",
    "vAlign",
    "noEndnote",
    "titlePg",
    "textDirection",
    "bidi",
    "rtlGutter",
    "docGrid",
    "printerSettings",
    "sectPrChange",
)


def _insert_before_first(parent: Any, element: Any, names: tuple[str, ...]) -> None:
    following = next((c for c in parent if c.tag in {f"{W}{n}" for n in names}), None)
    if following is None:
        parent.append(element)
    else:
        following.addprevious(element)


def as_endnotes(members: dict[str, bytes]) -> None:
    """The Word brief's notes as endnotes after its last annex, numbered 1, 2, 3 as in the PDF (`word_notes`).

    pandoc writes only footnotes. Its footnotes part becomes the endnotes part (the same notes, links
    and separators), every mark in the body an endnote mark (the NOTEREF fields of repeated citations
    too: ``\\f`` formats them as the note's own mark), and Endnote Text and Endnote Reference styles are
    added, based on the footnote styles, so the notes keep their size. Word numbers endnotes in lower-case
    Roman unless told: the settings and every section say decimal. Word sets endnotes directly after the
    text, under the section's header and footer; LibreOffice 7.4 sets them on pages of their own with no
    header or footer (so no marking there), which is why no shipped audience asks for them.
    """
    from lxml import etree  # type: ignore[import-untyped]

    if "word/footnotes.xml" not in members:
        return
    renamed = {
        f"{W}footnotes": f"{W}endnotes",
        f"{W}footnote": f"{W}endnote",
        f"{W}footnoteRef": f"{W}endnoteRef",
        f"{W}footnoteReference": f"{W}endnoteReference",
    }
    styles = {
        "FootnoteText": "EndnoteText",
        "FootnoteReference": "EndnoteReference",
        "FootnoteBlockText": "EndnoteText",
    }

    def convert(part: Any) -> None:
        for element in part.iter():
            if element.tag in renamed:
                element.tag = renamed[element.tag]
            elif element.tag in (f"{W}pStyle", f"{W}rStyle") and element.get(f"{W}val") in styles:
                element.set(f"{W}val", styles[element.get(f"{W}val")])

    notes = parse_part(members.pop("word/footnotes.xml"))
    convert(notes)
    members["word/endnotes.xml"] = part_bytes(notes)
    if "word/_rels/footnotes.xml.rels" in members:
        members["word/_rels/endnotes.xml.rels"] = members.pop("word/_rels/footnotes.xml.rels")
    body = parse_part(members["word/document.xml"])
    convert(body)

    def numbered(tag: str) -> Any:
        props = etree.Element(f"{W}{tag}")
        etree.SubElement(props, f"{W}numFmt", {f"{W}val": "decimal"})
        return props

    for sect in body.iter(f"{W}sectPr"):
        for old in sect.findall(f"{W}endnotePr"):
            sect.remove(old)
        _insert_before_first(sect, numbered("endnotePr"), _AFTER_SECTION_NOTES)
    members["word/document.xml"] = part_bytes(body)

    settings = parse_part(members["word/settings.xml"])
    for old in [*settings.findall(f"{W}footnotePr"), *settings.findall(f"{W}endnotePr")]:
        settings.remove(old)
    props = numbered("endnotePr")
    props.insert(0, etree.Element(f"{W}pos", {f"{W}val": "docEnd"}))
    for kind in ("separator", "continuationSeparator"):  # the separators the endnotes part holds
        for note in notes.findall(f"{W}endnote"):
            if note.get(f"{W}type") == kind:
                etree.SubElement(props, f"{W}endnote", {f"{W}id": note.get(f"{W}id")})
    _insert_before_first(settings, props, _AFTER_SETTINGS_NOTES)
    members["word/settings.xml"] = part_bytes(settings)

    style_part = parse_part(members["word/styles.xml"])
    have = {s.get(f"{W}styleId"): s for s in style_part.iter(f"{W}style")}
    for style_id, name, base in _ENDNOTE_STYLES:
        if style_id in have:
            continue
        kind = "paragraph" if style_id == "EndnoteText" else "character"
        style = etree.SubElement(style_part, f"{W}style", {f"{W}type": kind, f"{W}styleId": style_id})
        etree.SubElement(style, f"{W}name", {f"{W}val": name})
        if base in have:  # pandoc writes both footnote styles; a reference document may restyle them
            etree.SubElement(style, f"{W}basedOn", {f"{W}val": base})
        if kind == "paragraph":
            etree.SubElement(style, f"{W}next", {f"{W}val": style_id})
        etree.SubElement(style, f"{W}uiPriority", {f"{W}val": "99"})
        etree.SubElement(style, f"{W}unhideWhenUsed")
        if base not in have and kind == "character":  # the schema's order: properties last
            etree.SubElement(etree.SubElement(style, f"{W}rPr"), f"{W}vertAlign", {f"{W}val": "superscript"})
    members["word/styles.xml"] = part_bytes(style_part)

    renamed_part = {  # the document's relationship to the notes part, and the part's content type
        f"{_NOTES_TYPE}footnotes": f"{_NOTES_TYPE}endnotes",
        f"{_NOTES_CONTENT}footnotes+xml": f"{_NOTES_CONTENT}endnotes+xml",
        "footnotes.xml": "endnotes.xml",
        "/word/footnotes.xml": "/word/endnotes.xml",
    }
    for name in ("word/_rels/document.xml.rels", "[Content_Types].xml"):
        part = parse_part(members[name])
        for element in part:
            for key in ("Type", "ContentType", "Target", "PartName"):
                if element.get(key) in renamed_part:
                    element.set(key, renamed_part[element.get(key)])
        members[name] = part_bytes(part)


def share_repeated_notes(members: dict[str, bytes]) -> None:
    """One Word footnote per note, as in the PDF: a repeated citation becomes a NOTEREF to the first.

    pandoc makes a new footnote for every ``[^n]`` reference, so a source cited five times would be
    printed five times. A repeat keeps its place and number as Word's own cross-reference to the
    footnote (a NOTEREF field, formatted as a footnote mark), and adjacent marks are separated by
    commas, as in the PDF ("4,5").
    """
    from lxml import etree

    if "word/footnotes.xml" not in members:
        return
    body, notes = parse_part(members["word/document.xml"]), parse_part(members["word/footnotes.xml"])
    by_id = {n.get(f"{W}id"): n for n in notes.iter(f"{W}footnote") if n.get(f"{W}type") is None}
    marks = [int(b.get(f"{W}id", "0")) for b in body.iter(f"{W}bookmarkStart")]
    next_mark = max([0, *marks]) + 1
    first: dict[str, tuple[str, int]] = {}  # note text: (bookmark name, number)
    cites: list[tuple[Any, Any]] = []  # each citation's first and last run, in order
    for ref in list(body.iter(f"{W}footnoteReference")):
        run = ref.getparent()
        note = by_id.get(ref.get(f"{W}id"))
        if note is None or run is None or run.tag != f"{W}r":
            continue
        key = _text(note).strip()
        if key not in first:
            name = f"_RefNote{len(first) + 1}"
            first[key] = (name, len(first) + 1)
            start = etree.Element(f"{W}bookmarkStart", {f"{W}id": str(next_mark), f"{W}name": name})
            end = etree.Element(f"{W}bookmarkEnd", {f"{W}id": str(next_mark)})
            next_mark += 1
            run.addprevious(start)
            run.addnext(end)
            cites.append((start, end))
            continue
        name, number = first[key]
        notes.remove(note)
        style = run.find(f"{W}rPr")
        runs = []
        for kind, value in (("begin", None), ("instr", f" NOTEREF {name} \\f \\h "), ("separate", None)):
            r = etree.Element(f"{W}r")
            if style is not None:
                r.append(_copy(style))
            if kind == "instr":
                etree.SubElement(r, f"{W}instrText", {XML_SPACE: "preserve"}).text = value
            else:
                etree.SubElement(r, f"{W}fldChar", {f"{W}fldCharType": kind})
            runs.append(r)
        shown = etree.Element(f"{W}r")
        if style is not None:
            shown.append(_copy(style))
        etree.SubElement(shown, f"{W}t").text = str(number)
        closing = etree.Element(f"{W}r")
        if style is not None:
            closing.append(_copy(style))
        etree.SubElement(closing, f"{W}fldChar", {f"{W}fldCharType": "end"})
        runs += [shown, closing]
        for r in runs:
            run.addprevious(r)
        run.getparent().remove(run)
        cites.append((runs[0], runs[-1]))
    for (_, last), (start, _) in itertools.pairwise(cites):
        if last.getnext() is start:  # "[^4][^5]": a comma between the marks
            comma = etree.Element(f"{W}r")
            etree.SubElement(etree.SubElement(comma, f"{W}rPr"), f"{W}vertAlign", {f"{W}val": "superscript"})
            etree.SubElement(comma, f"{W}t").text = ","
            last.addnext(comma)
    members["word/document.xml"] = part_bytes(body)
    members["word/footnotes.xml"] = part_bytes(notes)
    rels_name = "word/_rels/footnotes.xml.rels"
    if rels_name in members:  # the removed repeats' links
        rels = parse_part(members[rels_name])
        used = {value for element in notes.iter() for value in element.attrib.values()}
        for rel in list(rels):
            if rel.get("TargetMode") == "External" and rel.get("Id") not in used:
                rels.remove(rel)
        members[rels_name] = part_bytes(rels)


def _copy(element: Any) -> Any:
    from copy import deepcopy

    return deepcopy(element)


def _text(element: Any) -> str:
    return "".join(t.text or "" for t in element.iter(f"{W}t"))


def _drop_marking_paragraphs(document: Document, marking: str | None) -> None:
    """The Markdown's first or last paragraph when it is only the marking: the header and footer carry it."""
    if not marking:
        return
    body = document.element.body
    paragraphs = [p for p in body if p.tag == f"{W}p"]
    for p in {id(x): x for x in (paragraphs[:1] + paragraphs[-1:])}.values():
        if _text(p).strip() == marking.strip():
            body.remove(p)
    # "UNCLASSIFIED · April 24, 2023": the header carries the marking, the line keeps the date (issue 26).
    for p in paragraphs:
        runs = [r for r in p.iter(f"{W}r") if r.find(f"{W}t") is not None]
        if len(runs) < 2 or _text(runs[0]).strip() != marking.strip():
            continue
        after = "".join(_text(r) for r in runs[1:])
        if not after.lstrip().startswith("·") or not after.lstrip().removeprefix("·").strip():
            continue
        runs[0].getparent().remove(runs[0])
        separator = True
        for r in runs[1:]:  # pandoc splits " · April 24" into several runs
            t = r.find(f"{W}t")
            text = (t.text or "").lstrip()
            if separator and text.startswith("·"):
                text, separator = text[1:].lstrip(), False
            if text:
                t.text = text
                break
            r.getparent().remove(r)


def _superscript_note_commas(document: Document) -> None:
    """The comma between two note marks ("4,5") set as superscript, like the marks it separates."""
    from lxml import etree

    def is_mark(element: Any) -> bool:
        if element is None or element.tag not in (f"{W}r", f"{W}bookmarkStart", f"{W}bookmarkEnd"):
            return False
        return element.find(f"{W}footnoteReference") is not None or element.find(f"{W}fldChar") is not None

    for run in list(document.element.body.iter(f"{W}r")):
        if _text(run) != "," or len(run.findall(f"{W}t")) != 1:
            continue
        before, after = run.getprevious(), run.getnext()
        while before is not None and before.tag in (f"{W}bookmarkEnd", f"{W}bookmarkStart"):
            before = before.getprevious()
        while after is not None and after.tag in (f"{W}bookmarkEnd", f"{W}bookmarkStart"):
            after = after.getnext()
        if not (is_mark(before) and is_mark(after)):
            continue
        props = run.find(f"{W}rPr")
        if props is None:
            props = etree.Element(f"{W}rPr")
            run.insert(0, props)
        if props.find(f"{W}vertAlign") is None:
            etree.SubElement(props, f"{W}vertAlign", {f"{W}val": "superscript"})


def _memo_title(document: Document) -> None:
    """A memo's title line ("INFORMATION MEMO FOR THE SECRETARY", bold in the Markdown) as Heading 1.

    The navigation pane shows the outline from the first heading; with the title as body text it began
    at Heading 2. Only a document with no Heading 1 and a memo header (TO:/FROM: lines) is changed.
    """
    from docx.oxml.ns import qn

    paragraphs = document.paragraphs
    if any(p.style is not None and p.style.name in ("Heading 1", "Title") for p in paragraphs):
        return
    for i, p in enumerate(paragraphs[:6]):
        runs = list(p._p.iter(qn("w:r")))
        texts = [r for r in runs if _text(r).strip()]
        bold = all(r.find(f"{qn('w:rPr')}/{qn('w:b')}") is not None for r in texts)
        if not texts or not bold or MEMO_LABEL.fullmatch(_text(texts[0])):
            continue
        if not any(q.text.startswith(("TO:", "FROM:")) for q in paragraphs[i + 1 : i + 4]):
            continue
        for r in texts:  # the style sets the weight
            props = r.find(qn("w:rPr"))
            for tag in ("w:b", "w:bCs"):
                for b in props.findall(qn(tag)):
                    props.remove(b)
        _style(document, p, "Heading 1")
        return


CELL_MARGINS = 2 * 108  # twips: Word's default left and right cell margins (0.075 in each)
SHORT_COLUMN = 1 / 6
"""A column whose longest cell sets in this share of the text width or less is as wide as that cell."""


ADVANCES_RECIPE = "briefs docx advances 1"
"""Names how `_advances` reads a font: a change to it must change this, so no kept table outlives it."""


@functools.cache  # read once per process: the same shipped face for every table of every Word brief
def _advances(font: str, bold: bool) -> tuple[dict[int, float], float] | None:
    """Each character's advance width in ems for a shipped Liberation font, and the font's mean; None if not shipped.

    Kept on disk (`cache_dir`) beside the subset fonts, named by the font's bytes, fontTools' version and
    `ADVANCES_RECIPE`: reading a face with fontTools (importing it, then its tables) was ~35 ms of each
    process's first Word brief (issue 27), for a table that only changes with the font. JSON keeps the
    widths exactly (floats written as their shortest round-tripping repr); a file that does not hold a
    table is read from the font again.
    """
    import json

    import fontTools

    path = shipped_face(font, "Bold" if bold else "Regular")
    if path is None:
        return None
    data = path.read_bytes()
    folder = cache_dir()
    kept = None
    if folder is not None:
        recipe = f"{ADVANCES_RECIPE}\0{fontTools.version}".encode()
        kept = folder / "advances" / f"{hashlib.sha256(hashlib.sha256(data).digest() + recipe).hexdigest()}.json"
        try:
            table = json.loads(kept.read_text(encoding="utf-8"))
            widths = {int(code): float(width) for code, width in table["widths"].items()}
            return widths, float(table["mean"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
    from fontTools.ttLib import TTFont

    tt = TTFont(io.BytesIO(data), lazy=True)
    scale = tt["head"].unitsPerEm
    metrics = tt["hmtx"].metrics
    widths = {code: metrics[glyph][0] / scale for code, glyph in tt.getBestCmap().items() if glyph in metrics}
    mean = sum(widths.values()) / max(len(widths), 1)
    if kept is not None and not keep(kept, json.dumps({"widths": widths, "mean": mean}).encode(), newest=KEPT_ADVANCES):
        log.debug("could not keep the advance widths in %s", kept.parent)
    return widths, mean


KEPT_ADVANCES = 16
"""At most this many advance tables are kept (~60 KB each): one per shipped face Word tables are measured in."""


def _word_twips(word: str, points: float, advances: tuple[dict[int, float], float] | None) -> int:
    """How wide ``word`` sets at ``points`` (0.6 em a character for a font we do not ship)."""
    if advances is None:
        return int(len(word) * 0.6 * points * 20)
    widths, mean = advances
    return int(sum(widths.get(ord(c), mean) for c in word) * points * 20) + 1


def _fit_tables(document: Document) -> None:
    """Tables across the text width, each column as wide as its text needs (pandoc splits them equally).

    Every column is at least as wide as its longest word (measured in the document's font), so no word
    is broken inside itself, and a column of short cells is as wide as its longest (`SHORT_COLUMN`);
    the room left is shared as each column's full text asks for it, as a browser lays out an
    automatic table. Rows do not split across pages, and the header row keeps with
    the first body row, so it never stands alone at the foot of a page (issue 26).
    """
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    section = document.sections[-1]
    sizes = (section.page_width, section.left_margin, section.right_margin)
    total = 9360  # twips: 6.5 in, when the reference document gives no page size
    if sizes[0] and sizes[1] is not None and sizes[2] is not None:
        total = int((sizes[0] - sizes[1] - sizes[2]) / 635)  # EMU to twips
    normal = document.styles["Normal"].font
    font = normal.name or "Liberation Serif"
    points = normal.size.pt if normal.size is not None else 12.0
    if any(s.name == "Compact" for s in document.styles):  # pandoc sets cell text in Compact
        compact = document.styles["Compact"].font
        font = compact.name or font
        points = compact.size.pt if compact.size is not None else points
    regular, bold = _advances(font, False), _advances(font, True)
    for table in document.element.body.iter(qn("w:tbl")):
        rows = [[_text(cell) for cell in row.iter(qn("w:tc"))] for row in table.iter(qn("w:tr"))]
        columns = max((len(r) for r in rows), default=0)
        if not columns:
            continue
        least, most = [], []
        for c in range(columns):
            words = [
                _word_twips(w, points, bold if r == 0 else regular)
                for r, row in enumerate(rows)
                if c < len(row)
                for w in re.split(r"[^\S\u00a0]+", row[c])  # words as Word breaks them: never at a no-break space
                if w
            ]
            lines = [
                _word_twips(row[c], points, bold if r == 0 else regular) for r, row in enumerate(rows) if c < len(row)
            ]
            least.append(max(words, default=0) + CELL_MARGINS + 20)
            most.append(max(max(lines, default=0) + CELL_MARGINS + 20, least[-1]))
        # A column of short cells (a paragraph reference, a date, a status) keeps each on one line:
        # "(U) para. 26" in three lines is a column a reader has to puzzle out.
        whole = [m if m <= total * SHORT_COLUMN else n for m, n in zip(most, least, strict=True)]
        if sum(whole) <= total:
            least = whole
        if sum(most) <= total:  # everything on one line: the spare room in proportion
            widths = [int(m * total / sum(most)) for m in most]
        elif sum(least) >= total:  # too many long words for the page: as narrow as the words allow
            widths = [int(m * total / sum(least)) for m in least]
        else:
            spare, want = total - sum(least), sum(m - n for m, n in zip(most, least, strict=True))
            widths = [n + int(spare * (m - n) / want) for m, n in zip(most, least, strict=True)]
        props = table.find(qn("w:tblPr"))
        tbl_width = props.find(qn("w:tblW")) if props is not None else None
        if tbl_width is not None:
            tbl_width.set(qn("w:type"), "dxa")
            tbl_width.set(qn("w:w"), str(sum(widths)))
        grid = table.find(qn("w:tblGrid"))
        if grid is not None and len(grid) == columns:
            for col, w in zip(grid, widths, strict=True):
                col.set(qn("w:w"), str(w))
        for n, row in enumerate(table.iter(qn("w:tr"))):
            row_props = row.find(qn("w:trPr"))
            if row_props is None:
                row_props = OxmlElement("w:trPr")
                row.insert(1 if row.find(qn("w:tblPrEx")) is not None else 0, row_props)
            if row_props.find(qn("w:cantSplit")) is None:
                row_props.insert(0, OxmlElement("w:cantSplit"))
            for cell, w in zip(row.iter(qn("w:tc")), widths, strict=False):
                cell_props = cell.find(qn("w:tcPr"))
                if cell_props is None:
                    cell_props = OxmlElement("w:tcPr")
                    cell.insert(0, cell_props)
                for old in cell_props.findall(qn("w:tcW")):
                    cell_props.remove(old)
                cell_width = OxmlElement("w:tcW")
                cell_width.set(qn("w:w"), str(w))
                cell_width.set(qn("w:type"), "dxa")
                cell_props.insert(0, cell_width)
                for p in cell.iter(qn("w:p")):
                    p_props = p.find(qn("w:pPr"))
                    if p_props is None:
                        p_props = OxmlElement("w:pPr")
                        p.insert(0, p_props)
                    wanted = ["w:suppressAutoHyphens"]  # a house style that hyphenates the body leaves cells whole
                    if n == 0:  # the header row keeps with the row after it
                        wanted.append("w:keepNext")
                    for tag in wanted:
                        if p_props.find(qn(tag)) is None:
                            p_props.append(OxmlElement(tag))
                    _order_paragraph_properties(p_props)


MEMO_LABEL = re.compile(r"[A-Z][A-Z ]{1,20}:")
"""A memo header line's label, bold at the start of a line: TO:, FROM:, THROUGH:, SUBJECT:, DECIDE BY:."""


def _memo_lines(document: Document) -> None:
    """TO / FROM / SUBJECT lines as in the PDF: the labels in a column, each line's text aligned after them."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    indent = "1512"  # twips: 1.05 in, the PDF's label column
    for paragraph in document.paragraphs:
        runs = list(paragraph._p.iter(qn("w:r")))
        starts = [0] + [i + 1 for i, r in enumerate(runs) if r.find(qn("w:br")) is not None]
        labels = [
            i
            for i in starts
            if i + 1 < len(runs)
            and runs[i].find(f"{qn('w:rPr')}/{qn('w:b')}") is not None
            and MEMO_LABEL.fullmatch(_text(runs[i]))
            and _text(runs[i + 1]) == " "
        ]
        if len(labels) < 2 or labels[0] != 0:  # one bold "Note:" is no memo header
            continue
        for i in labels:
            space = runs[i + 1]
            for t in space.findall(qn("w:t")):
                space.remove(t)
            space.append(OxmlElement("w:tab"))
        props = paragraph._p.get_or_add_pPr()
        tabs = OxmlElement("w:tabs")
        tab = OxmlElement("w:tab")
        tab.set(qn("w:val"), "left")
        tab.set(qn("w:pos"), indent)
        tabs.append(tab)
        spacing = OxmlElement("w:spacing")  # the lines close together, as one block
        spacing.set(qn("w:after"), "40")
        props.append(spacing)
        ind = OxmlElement("w:ind")
        ind.set(qn("w:left"), indent)
        ind.set(qn("w:hanging"), indent)
        props.append(tabs)
        props.append(ind)
        _order_paragraph_properties(props)
        _split_at_breaks(paragraph._p)


def _split_at_breaks(p: Any) -> None:
    """One paragraph per line (a hanging indent holds for a paragraph's first line only)."""
    from copy import deepcopy

    current = p
    for child in list(p):
        if child.tag == f"{W}pPr":
            continue
        if child.tag == f"{W}r" and child.find(f"{W}br") is not None and len(child) == 1:
            following = deepcopy(p.find(f"{W}pPr"))
            nxt = p.makeelement(f"{W}p", {})
            if following is not None:
                nxt.append(following)
            current.addnext(nxt)
            current = nxt
            p.remove(child)
        elif current is not p:
            current.append(child)


def _is_line_break(run: Any) -> bool:
    """Whether ``run`` is only a line break (pandoc writes each break as a run of its own); not a page break."""
    if run.tag != f"{W}r":
        return False
    content = [c for c in run if c.tag != f"{W}rPr"]
    return bool(content) and all(c.tag == f"{W}br" and c.get(f"{W}type") in (None, "textWrapping") for c in content)


def _one_block_per_paragraph(document: Document) -> None:
    """Split every body paragraph at its line breaks: a byline, an as-of line, a quote, its attribution, a
    list item's basis each stand in a paragraph of their own (a Word user moves, styles and deletes blocks).

    A line after the first keeps the paragraph's style; in a list item it continues the item
    (`_list_styles` makes it List Continue, aligned with the item's text, without a number).
    """
    from copy import deepcopy

    from lxml import etree

    for p in list(document.element.body.iter(f"{W}p")):
        if not any(_is_line_break(c) for c in p):
            continue
        props = p.find(f"{W}pPr")
        pieces: list[list[Any]] = [[]]
        for child in list(p):
            if child is props:
                continue
            if _is_line_break(child):
                p.remove(child)
                pieces.append([])
            else:
                pieces[-1].append(child)
        current = p
        for piece in pieces[1:]:
            if not any(_text(c).strip() or c.find(f".//{W}footnoteReference") is not None for c in piece):
                continue  # nothing to read: its bookmarks and empty runs stay where they were
            nxt = etree.Element(f"{W}p")
            if props is not None:
                following = deepcopy(props)
                style = following.find(f"{W}pStyle")
                if style is not None and style.get(f"{W}val") == "FirstParagraph":
                    style.set(f"{W}val", "BodyText")
                numbering = following.find(f"{W}numPr")
                if numbering is not None:  # the item's next line: marked for `_list_styles`, no new number
                    numbering.set(CONTINUES, "1")
                nxt.append(following)
            for child in piece:
                nxt.append(child)
            current.addnext(nxt)
            current = nxt


def _quotes_keep_their_attribution(document: Document) -> None:
    """A quoted paragraph keeps with the attribution under it ("— Name, role, date"): never a page between them."""
    from docx.text.paragraph import Paragraph

    try:
        quote = document.styles["Block Text"].style_id
    except KeyError:
        return  # no quotes: pandoc styles a block quote Block Text
    body = [Paragraph(p, document._body) for p in document.element.body.iterchildren(f"{W}p")]
    for said, by in itertools.pairwise(body):
        # The style's id from the paragraph's own XML: python-docx's `.style` searches every style each time.
        if said._p.style == quote == by._p.style and by.text.startswith("— ") and said._p.getnext() is by._p:
            said.paragraph_format.keep_with_next = True


CONTINUES = "{urn:briefs}continues"
"""Set on the w:numPr of a list item's second line while `finish` runs; `_list_styles` removes it."""

LIST_STYLES = {"bullet": "List Bullet", "number": "List Number", "continue": "List Continue"}


def _list_kinds(document: Document) -> dict[tuple[str, str], tuple[str, int]]:
    """Each (numId, level) of the document's numbering: bullet, number or continue, and its text indent (twips)."""
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return {}
    abstract = {a.get(f"{W}abstractNumId"): a for a in numbering.iter(f"{W}abstractNum")}
    kinds = {}
    for num in numbering.iter(f"{W}num"):
        ref = num.find(f"{W}abstractNumId")
        definition = abstract.get(ref.get(f"{W}val")) if ref is not None else None
        if definition is None:
            continue
        for level in definition.iter(f"{W}lvl"):
            fmt = level.find(f"{W}numFmt")
            text = level.find(f"{W}lvlText")
            ind = level.find(f"{W}pPr/{W}ind")
            shown = (text.get(f"{W}val") or "").strip() if text is not None else ""
            kind = "continue"
            if fmt is not None and fmt.get(f"{W}val") not in ("bullet", "none") and shown:
                kind = "number"
            elif fmt is not None and fmt.get(f"{W}val") == "bullet" and shown:
                kind = "bullet"
            left = int(ind.get(f"{W}left") or ind.get(f"{W}start") or 0) if ind is not None else 0
            kinds[(num.get(f"{W}numId"), level.get(f"{W}ilvl"))] = (kind, left)
    return kinds


def _opens_in_italics(p: Any) -> bool:
    """Whether the paragraph's first run with text is italic (a basis line's label)."""
    for run in p.iter(f"{W}r"):
        if _text(run).strip():
            props = run.find(f"{W}rPr")
            return props is not None and props.find(f"{W}i") is not None
    return False


def _list_styles(document: Document) -> None:
    """List paragraphs in Word's list styles: List Bullet, List Number (their numbering kept: Word counts
    the items), List Continue for an item's later paragraphs; level 2 and 3 as List Bullet 2 and so on.

    pandoc writes a tight list's items as Compact and a loose one's as plain Normal paragraphs, with the
    numbering on each; a Word user then cannot restyle the lists, and a recommendation reads as a
    paragraph with a number. A reference document without these styles keeps pandoc's.
    """
    from docx.oxml import OxmlElement

    kinds = _list_kinds(document)
    ids = {s.name: s.style_id for s in document.styles if s.name}
    for p in document.element.body.iter(f"{W}p"):
        props = p.find(f"{W}pPr")
        numbering = props.find(f"{W}numPr") if props is not None else None
        if numbering is None:
            continue
        num, lvl = numbering.find(f"{W}numId"), numbering.find(f"{W}ilvl")
        key = (num.get(f"{W}val") if num is not None else "0", lvl.get(f"{W}val") if lvl is not None else "0")
        kind, left = kinds.get(key, ("continue", 0))
        if numbering.get(CONTINUES) is not None:
            kind = "continue"
            del numbering.attrib[CONTINUES]
        level = int(key[1]) + 1
        name = LIST_STYLES[kind] + ("" if level == 1 else f" {min(level, 3)}")
        if kind == "continue" and level == 1 and "List Basis" in ids and _opens_in_italics(p):
            name = "List Basis"  # "*Basis:* …", "*Our recommendation, drawn from …*": the PDF's smaller .basis line
        if name in ids:
            style = props.find(f"{W}pStyle")
            if style is None:
                style = OxmlElement("w:pStyle")
                props.insert(0, style)
            style.set(f"{W}val", ids[name])
        if kind == "continue":  # no number: aligned with the item's text, as the list's numbering indents it
            before = p.getprevious()
            before_props = before.find(f"{W}pPr") if before is not None and before.tag == f"{W}p" else None
            if before_props is not None and before_props.find(f"{W}keepNext") is None:
                before_props.append(OxmlElement("w:keepNext"))  # an item stays with its basis across a page break
                _order_paragraph_properties(before_props)
            props.remove(numbering)
            for old in props.findall(f"{W}ind"):
                props.remove(old)
            if left:
                ind = OxmlElement("w:ind")
                ind.set(f"{W}left", str(left))
                props.append(ind)
        _order_paragraph_properties(props)


def _is_rule(element: Any) -> bool:
    """Whether ``element`` is the paragraph pandoc writes for a thematic break (``---``): a horizontal rule."""
    return element.tag == f"{W}p" and any(
        v.get("{urn:schemas-microsoft-com:office:office}hr") == "t"
        for v in element.iter("{urn:schemas-microsoft-com:vml}rect")
    )


def _heading_level(element: Any) -> int | None:
    style = element.find(f"{W}pPr/{W}pStyle") if element.tag == f"{W}p" else None
    value = style.get(f"{W}val") if style is not None else ""
    return int(value[7:]) if value.startswith("Heading") and value[7:].isdigit() else None


def _columns(document: Document) -> None:
    """Columns where the reference document sets them, as the PDF lays them out: the masthead and the first
    section (the summary) across the page, the rest in columns, and what follows the closing rule (``---``:
    the disclaimer) across the page again, at the end of the columns, so on the body's last page.

    Word holds this as three sections joined by continuous breaks; the last one's break balances the
    columns. Footnotes keep one numbering through all three.
    """
    from copy import deepcopy

    from lxml import etree

    body = document.element.body
    last = body.find(f"{W}sectPr")
    cols = last.find(f"{W}cols") if last is not None else None
    if cols is None or int(cols.get(f"{W}num") or "1") < 2:
        return
    blocks = [b for b in body if b.tag in (f"{W}p", f"{W}tbl")]
    seconds = [i for i, b in enumerate(blocks) if _heading_level(b) == 2][1:2]
    rules = [i for i, b in enumerate(blocks) if _is_rule(b)]
    lead_end = seconds[0] - 1 if seconds else None
    close = rules[-1] if rules and (lead_end is None or rules[-1] > lead_end) else None
    for note_props in last.findall(f"{W}footnotePr"):  # pandoc's numbers notes again in every section: once through
        last.remove(note_props)

    def single(start: str | None) -> Any:
        copy = deepcopy(last)
        for ref in [*copy.findall(f"{W}headerReference"), *copy.findall(f"{W}footerReference")]:
            copy.remove(ref)  # `_page_furniture` gives each section its own header and footer
        for old in copy.findall(f"{W}type"):
            copy.remove(old)
        if start:
            kind = etree.Element(f"{W}type", {f"{W}val": start})
            copy.insert(0, kind)
        return copy

    def end_section_at(block: Any, sect: Any) -> None:
        if block.tag != f"{W}p":  # a section ends in a paragraph
            paragraph = etree.Element(f"{W}p")
            block.addnext(paragraph)
            block = paragraph
        props = block.find(f"{W}pPr")
        if props is None:
            props = etree.Element(f"{W}pPr")
            block.insert(0, props)
        props.append(sect)

    if lead_end is not None and lead_end >= 0:
        lead = single(None)
        lead.find(f"{W}cols").getparent().remove(lead.find(f"{W}cols"))
        end_section_at(blocks[lead_end], lead)
    if close is not None:
        middle = single("continuous" if lead_end is not None else None)
        end_section_at(blocks[close], middle)
        props = blocks[close].find(f"{W}pPr")
        etree.SubElement(props, f"{W}keepNext")  # the rule stays with the disclaimer
        _order_paragraph_properties(props)
        last.insert(0, etree.Element(f"{W}type", {f"{W}val": "continuous"}))
        last.remove(cols)
    elif lead_end is not None:
        for old in last.findall(f"{W}type"):
            last.remove(old)
        last.insert(0, etree.Element(f"{W}type", {f"{W}val": "continuous"}))


def _column_count(section: Any) -> int:
    cols = section._sectPr.find(f"{W}cols")
    return int(cols.get(f"{W}num") or "1") if cols is not None else 1


def _boxes(document: Document, audience: Audience) -> None:
    """The audience's "Issues for Congress" (its implications, with the options shown in them; or the options
    alone) in a shaded, bordered box, as the PDF's ``.issues``: a one-cell table in the reference document's
    "Boxed Section" style, kept whole in its column. Only a reference document that defines the style asks for it.
    """
    from copy import deepcopy

    from lxml import etree

    style = next((s for s in document.styles if s.name == BOX_STYLE), None)
    if style is None:
        return
    kinds = [s.id for s in audience.sections]
    boxed = {s.title for s in audience.sections if s.id == "implications" and s.title}
    if "implications" not in kinds:
        boxed |= {s.title for s in audience.sections if s.id in ("options", "recommendations") and s.title}
    body = document.element.body
    blocks = [b for b in body if b.tag in (f"{W}p", f"{W}tbl")]
    section = max(document.sections, key=_column_count)  # the box is in the columns: its width is a column's
    cols = section._sectPr.find(f"{W}cols")
    count = int(cols.get(f"{W}num") or "1") if cols is not None else 1
    gap = int(cols.get(f"{W}space") or "0") if cols is not None else 0
    text = 9360  # twips: 6.5 in, when the reference document gives no page size
    if section.page_width and section.left_margin is not None and section.right_margin is not None:
        text = int((section.page_width - section.left_margin - section.right_margin) / 635)  # EMU to twips
    width = (text - gap * (count - 1)) // count
    for i, block in enumerate(blocks):
        if _heading_level(block) != 2 or _text(block).strip() not in boxed:
            continue
        inside = [block]
        for after in blocks[i + 1 :]:
            level = _heading_level(after)
            if (level is not None and level <= 2) or _is_rule(after) or after.find(f"{W}pPr/{W}sectPr") is not None:
                break
            inside.append(after)
        table = etree.Element(f"{W}tbl")
        props = etree.SubElement(table, f"{W}tblPr")
        etree.SubElement(props, f"{W}tblStyle", {f"{W}val": style.style_id})
        etree.SubElement(props, f"{W}tblW", {f"{W}w": str(width), f"{W}type": "dxa"})
        for part in ("tblBorders", "tblCellMar"):  # also as direct formatting: not every word processor reads
            found = style.element.find(f"{W}tblPr/{W}{part}")  # a table style's borders and margins
            if found is not None:
                props.append(deepcopy(found))
        etree.SubElement(props, f"{W}tblLayout", {f"{W}type": "fixed"})
        etree.SubElement(
            props,
            f"{W}tblLook",
            {
                f"{W}val": "0000",
                f"{W}firstRow": "0",
                f"{W}lastRow": "0",
                f"{W}firstColumn": "0",
                f"{W}lastColumn": "0",
                f"{W}noHBand": "1",
                f"{W}noVBand": "1",
            },
        )
        grid = etree.SubElement(table, f"{W}tblGrid")
        etree.SubElement(grid, f"{W}gridCol", {f"{W}w": str(width)})
        shade = style.element.find(f"{W}tcPr/{W}shd")
        block.addprevious(table)
        for moved in inside:  # a row each: the box may go on in the next column, between two of its blocks
            row = etree.SubElement(table, f"{W}tr")
            etree.SubElement(etree.SubElement(row, f"{W}trPr"), f"{W}cantSplit")
            cell = etree.SubElement(row, f"{W}tc")
            cell_props = etree.SubElement(cell, f"{W}tcPr")
            etree.SubElement(cell_props, f"{W}tcW", {f"{W}w": str(width), f"{W}type": "dxa"})
            if shade is not None:
                cell_props.append(deepcopy(shade))
            cell.append(moved)
            if moved.tag != f"{W}p":
                etree.SubElement(cell, f"{W}p")
        first = inside[0].find(f"{W}pPr")
        if first is not None:  # no gap at the box's top; the heading's row goes with the next
            etree.SubElement(first, f"{W}spacing", {f"{W}before": "0"})
            if first.find(f"{W}keepNext") is None:
                etree.SubElement(first, f"{W}keepNext")
            _order_paragraph_properties(first)


LIST_INDENT_IN_COLUMNS = 240
"""Twips: a list level's indent in a document set in columns (12 pt, as the PDF's congress lists; pandoc: 720)."""


def _narrow_lists(document: Document) -> None:
    """In a document in columns, list indents as the PDF's: pandoc's half inch a level takes a fifth of a column."""
    body = document.element.body
    last = body.find(f"{W}sectPr")
    cols = last.find(f"{W}cols") if last is not None else None
    if cols is None or int(cols.get(f"{W}num") or "1") < 2:
        return
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return
    for level in numbering.iter(f"{W}lvl"):
        ind = level.find(f"{W}pPr/{W}ind")
        if ind is not None:
            ind.set(f"{W}left", str(LIST_INDENT_IN_COLUMNS * (int(level.get(f"{W}ilvl") or "0") + 1)))
            ind.set(f"{W}hanging", str(LIST_INDENT_IN_COLUMNS * 3 // 4))
            for old in ("start", "firstLine"):
                ind.attrib.pop(f"{W}{old}", None)


def _order_paragraph_properties(props: Any) -> None:
    """Children of w:pPr in the order the schema requires (Word refuses a file with them out of order)."""
    order = ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "numPr", "pBdr", "shd", "tabs"]
    order += ["suppressAutoHyphens", "spacing", "ind"]
    rank = {f"{W}{name}": n for n, name in enumerate(order)}
    children = sorted(props, key=lambda c: rank.get(c.tag, len(order)))
    for child in children:
        props.append(child)


def _style(document: Document, paragraph: Paragraph, name: str) -> None:
    """Give ``paragraph`` the style ``name`` if the reference document defines it (a designer's may not).

    Looked up by name in the styles part, as ``document.styles[name]`` does: building every style object
    to compare names was most of the page furniture's time (issue 27).
    """
    from docx.styles import BabelFish

    if document.styles.element.get_by_name(BabelFish.ui2internal(name)) is not None:
        paragraph.style = document.styles[name]


def _add_field(paragraph: Paragraph, instruction: str, shown: str) -> None:
    """A Word field (PAGE, NUMPAGES) as begin/instruction/separate/result/end runs; Word fills it in."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind: str) -> None:
        run = paragraph.add_run()
        fld = OxmlElement("w:fldChar")
        fld.set(qn("w:fldCharType"), kind)
        run._r.append(fld)

    char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    char("separate")
    paragraph.add_run(shown)
    char("end")


def _page_furniture(document: Document, marking: str | None) -> None:
    """Every section's headers and footers (first, odd and even pages): the marking, and "Page N of M" below it."""
    marking = " ".join(CONTROL.sub(" ", marking).split()) if marking else None
    for section in document.sections:
        for header in (section.header, section.first_page_header, section.even_page_header):
            header.is_linked_to_previous = False
            for block in list(header._element):
                header._element.remove(block)
            if marking:
                _style(document, header.add_paragraph(marking), "Marking")
        for footer in (section.footer, section.first_page_footer, section.even_page_footer):
            footer.is_linked_to_previous = False
            for block in list(footer._element):
                footer._element.remove(block)
            line = footer.add_paragraph("Page ")
            _style(document, line, "Footer")
            _add_field(line, "PAGE", "1")
            line.add_run(" of ")
            _add_field(line, "NUMPAGES", "1")
            if marking:
                _style(document, footer.add_paragraph(marking), "Marking")


def _properties(document: Document, *, audience: Audience, info: DatasetInfo, date: dt.date) -> None:
    """Title, subject, author, keywords and dates from the data, as the PDF's metadata; no clock."""
    props = document.core_properties
    when = dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)
    author = (audience.memo.office if audience.memo and audience.memo.office else None) or (
        info.office_short or info.office or "Briefs"
    )
    if audience.voice == "authors" and info.authors:  # a policy brief is its authors', not the office's
        author = ", ".join(info.authors)
    props.title = property_text(info.title)
    props.subject = property_text(info.subject)
    props.author = property_text(author)
    props.last_modified_by = property_text(author)
    props.keywords = property_text(", ".join(str(k) for k in info.keywords))
    props.category = property_text(audience.title)
    props.comments = ""
    props.language = "en-US"
    props.revision = 1
    props.created = when
    props.modified = when
    props.last_printed = when


def only_web_links(members: dict[str, bytes]) -> None:
    """Drop every external relationship but http(s) hyperlinks, in every part (a linked image or template is fetched).

    A dropped hyperlink keeps its text; anything else that named the relationship is removed.
    """

    for rels_name in [n for n in members if n.endswith(".rels")]:
        rels = parse_part(members[rels_name])
        dropped = []
        for rel in list(rels):
            if rel.get("TargetMode") != "External":
                continue
            target = rel.get("Target", "")
            if rel.get("Type") == HYPERLINK and target.lower().startswith(("http://", "https://")):
                continue
            log.warning("dropped an external %s link to %r", rel.get("Type", "").rsplit("/", 1)[-1], target[:100])
            dropped.append(rel.get("Id"))
            rels.remove(rel)
        if not dropped:
            continue
        members[rels_name] = part_bytes(rels)
        folder, _, name = rels_name.rpartition("_rels/")
        source = folder + name.removesuffix(".rels")
        if source not in members:
            continue
        root = parse_part(members[source])
        for element in list(root.iter()):
            if not any(element.get(f"{R}{a}") in dropped for a in ("id", "embed", "link")):
                continue
            parent = element.getparent()
            if element.tag == f"{W}hyperlink":  # keep the link's text
                for child in list(element):
                    element.addprevious(child)
            if parent is not None:
                parent.remove(element)
        members[source] = part_bytes(root)

"""The shipped Liberation fonts embedded in each Word brief, so any Word or LibreOffice sets it as measured (issue 26).

A DOCX names its fonts; the word processor that opens it sets the text in them if they are installed
and in a fallback of other widths if not. Few machines have the Liberation faces the reference
documents name: LibreOffice on a machine without them (Debian's ``libreoffice-writer-nogui`` installs
none) set the desk memo in DejaVu on 39 pages instead of 25, and congress on three pages where its
audience allows two. So each DOCX carries the faces it names, the way Word's "Embed fonts in the file"
does: an obfuscated TrueType part per face (ECMA-376 Part 1, §17.8.1: the first 32 bytes XORed with a
key from the ``w:fontKey`` GUID), referenced from the font table, with ``w:embedTrueTypeFonts`` in the
settings so Word keeps them when the office saves its edits.

Each face is subset to the characters an editor types in English text (Basic Latin through Latin
Extended-B, General Punctuation, currency and the few symbols the briefs use) plus every character the
document holds, about 85 kB a face instead of 400 kB; the glyphs, their widths and the kerning are the
shipped fonts', so the lines break where they did. The Liberation fonts are OFL-licensed (see
``templates/base/fonts/LICENSE-OFL-1.1.txt``), which allows embedding. Bytes are deterministic: the
keys are derived from the face's name and the subset keeps the fonts' own timestamps.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import uuid
from pathlib import Path

from briefs.files import cache_dir, keep

log = logging.getLogger(__name__)

FONTS = Path(__file__).resolve().parent.parent.parent / "templates" / "base" / "fonts"

FACES = (  # the font table's element for each face, and the shipped file's suffix
    ("embedRegular", "Regular"),
    ("embedBold", "Bold"),
    ("embedItalic", "Italic"),
    ("embedBoldItalic", "BoldItalic"),
)
EDITING = frozenset(
    chr(c) for r in ((0x20, 0x250), (0x2000, 0x2070), (0x20A0, 0x20C0), (0x2190, 0x2200)) for c in range(*r)
) | frozenset("·•✓☐☒■□▪")
"""The characters an editor can type in any embedded face, whatever the brief itself holds."""

FONT_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/font"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
OBFUSCATED = "application/vnd.openxmlformats-officedocument.obfuscatedFont"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def shipped_face(family: str, face: str) -> Path | None:
    """The shipped TrueType file of ``family`` ("Liberation Serif") in ``face`` ("Bold"), or None."""
    path = FONTS / f"{family.replace(' ', '')}-{face}.ttf"
    return path if path.is_file() else None


def font_key(family: str, face: str) -> str:
    """The face's ``w:fontKey``: a GUID derived from its name, so the same document zips to the same bytes."""
    digest = hashlib.sha256(f"briefs embedded font {family} {face}".encode()).digest()[:16]
    return "{" + str(uuid.UUID(bytes=digest)).upper() + "}"


def obfuscate(data: bytes, key: str) -> bytes:
    """ECMA-376's font obfuscation (its own inverse): the first 32 bytes XORed with the key's bytes, reversed."""
    pad = bytes.fromhex(key.strip("{}").replace("-", ""))[::-1]
    return bytes(b ^ pad[i % 16] for i, b in enumerate(data[:32])) + data[32:]


KEPT_FONTS = 256
"""At most this many subsets are kept (the newest): one per face and set of characters, so edits add more."""

SUBSET_RECIPE = "briefs docx subset 1"
"""Names the subsetting below (its options): a change to them must change this, so no cached subset outlives it."""


@functools.lru_cache(maxsize=64)
def subset_face(path: Path, characters: frozenset[str]) -> bytes:
    """The font at ``path`` with only the glyphs of ``characters`` (and what its layout features reach).

    Subsetting is most of a Word brief's cost (~0.3 s a face, four faces a family; issue 27), and a
    rebuild of the same brief asks for the same subset again: it is kept on disk (`cache_dir`), named by
    the font's bytes, the characters, fontTools' version and `SUBSET_RECIPE`, so a hit is the very bytes
    subsetting would make. The file is written whole or not at all; one that is not a TrueType font is remade.
    """
    import fontTools

    data = path.read_bytes()
    recipe = f"{SUBSET_RECIPE}\0{fontTools.version}\0{''.join(sorted(characters))}".encode()
    name = hashlib.sha256(hashlib.sha256(data).digest() + recipe).hexdigest()
    folder = cache_dir()
    kept = folder / "fonts" / f"{name}.ttf" if folder is not None else None
    if kept is not None:
        try:
            cached = kept.read_bytes()
            if cached[:4] == b"\x00\x01\x00\x00":  # a TrueType font (a stray file is remade)
                return cached
        except OSError:
            pass
    made = _subset(data, characters)
    if kept is not None and not keep(kept, made, newest=KEPT_FONTS):  # the subset is still right, only not kept
        log.debug("could not keep the subset font in %s", kept.parent)
    return made


def _subset(data: bytes, characters: frozenset[str]) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools.subset").setLevel(logging.WARNING)
    font = TTFont(io.BytesIO(data), recalcTimestamp=False)
    options = subset.Options(layout_features=["*"], name_IDs=["*"], name_languages=["*"], notdef_outline=True)
    options.drop_tables += ["FFTM"]
    options.glyph_names = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(characters)))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def read_parts(members: dict[str, bytes]) -> tuple[list[str], frozenset[str]]:
    """The shipped families the document's styles or runs name (in the font table's order), and every
    character of its text (body, notes, headers, footers): each part parsed once."""
    from briefs.formats.pandoc import W, parse_part

    named: set[str] = set()
    characters: set[str] = set()
    for name, data in members.items():
        if not (name.startswith("word/") and name.endswith(".xml")) or (b"rFonts" not in data and b"<w:t" not in data):
            continue
        root = parse_part(data)
        for fonts in root.iter(f"{W}rFonts"):
            named.update(v for k, v in fonts.attrib.items() if k.endswith(("ascii", "hAnsi")))
        for t in root.iter(f"{W}t"):
            characters.update(t.text or "")
    listed = [f.get(f"{W}name") for f in parse_part(members["word/fontTable.xml"]).findall(f"{W}font")]
    families = [f for f in listed if f in named and shipped_face(f, "Regular") is not None]
    return families, frozenset(characters)


def embed_fonts(members: dict[str, bytes]) -> None:
    """Embed, in place, every shipped face of every shipped family the document names."""
    from lxml import etree  # type: ignore[import-untyped]

    from briefs.formats.pandoc import W, parse_part, part_bytes

    if "word/fontTable.xml" not in members:
        return
    families, text = read_parts(members)
    if not families:
        return
    characters = EDITING | text
    table = parse_part(members["word/fontTable.xml"])
    rels_name = "word/_rels/fontTable.xml.rels"
    rels = (
        parse_part(members[rels_name])
        if rels_name in members
        else etree.Element(f"{{{PACKAGE_RELS}}}Relationships", nsmap={None: PACKAGE_RELS})
    )
    used = {r.get("Id") for r in rels}
    count = 0
    for family in families:
        entry = next(f for f in table.findall(f"{W}font") if f.get(f"{W}name") == family)
        for tag, face in FACES:
            path = shipped_face(family, face)
            if path is None or entry.find(f"{W}{tag}") is not None:
                continue
            count += 1
            rid = f"rIdFont{count}"
            while rid in used:
                rid += "x"
            used.add(rid)
            part = f"fonts/{family.replace(' ', '')}-{face}.odttf"
            key = font_key(family, face)
            members[f"word/{part}"] = obfuscate(subset_face(path, characters), key)
            etree.SubElement(rels, f"{{{PACKAGE_RELS}}}Relationship", {"Id": rid, "Type": FONT_REL, "Target": part})
            embedded = etree.SubElement(entry, f"{W}{tag}")
            embedded.set(f"{R}id", rid)
            embedded.set(f"{W}fontKey", key)
    if not count:
        return
    members["word/fontTable.xml"] = part_bytes(table)
    members[rels_name] = part_bytes(rels)
    types = parse_part(members["[Content_Types].xml"])
    if not any(d.get("Extension") == "odttf" for d in types.findall(f"{{{CONTENT_TYPES}}}Default")):
        etree.SubElement(types, f"{{{CONTENT_TYPES}}}Default", {"Extension": "odttf", "ContentType": OBFUSCATED})
        members["[Content_Types].xml"] = part_bytes(types)
    settings = parse_part(members["word/settings.xml"])
    if settings.find(f"{W}embedTrueTypeFonts") is None:
        # CT_Settings is a sequence: the flag comes after writeProtection/view/zoom/removePersonalInformation...
        anchor = None
        for tag in (
            "writeProtection",
            "view",
            "zoom",
            "removePersonalInformation",
            "removeDateAndTime",
            "doNotDisplayPageBoundaries",
            "displayBackgroundShape",
            "printPostScriptOverText",
            "printFractionalCharacterWidth",
            "printFormsData",
        ):
            found = settings.find(f"{W}{tag}")
            if found is not None:
                anchor = found
        flag = etree.Element(f"{W}embedTrueTypeFonts")
        if anchor is None:
            settings.insert(0, flag)
        else:
            anchor.addnext(flag)
        members["word/settings.xml"] = part_bytes(settings)

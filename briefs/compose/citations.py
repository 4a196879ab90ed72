"""Notes and bibliography in Chicago notes-bibliography style, through a CSL processor (issue 13).

The shipped style is the Citation Style Language's Chicago 18th-edition notes-bibliography style,
run by citeproc-py. A few things that style asks for citeproc-py does not do; each gap is closed
explicitly, either in the shipped style file (see ``templates/base/csl/README.md``) or here:

- punctuation inside closing quotation marks (the en-US locale's ``punctuation-in-quote``): done
  here, after citeproc, in `_finish`;
- a title ending in "?" or "!" takes no following comma or period (CMOS 6.119): done in `_finish`;
- quotation marks inside a quoted title become single (CMOS 13.30); data's straight quotes become
  curly ones: done on the way in, in `_curly`;
- a variable a ``cs:substitute`` rendered is suppressed in the rest of the entry (CSL 1.0.2, "Substitute");
  citeproc-py suppresses only a ``cs:text`` that names the variable itself, not one reached through a
  macro or a ``cs:choose`` as this style does, which printed *The Astana Times* twice in an unsigned
  article's entry: `_SuppressingSubstitute`, used through this module's own XML lookup, so citeproc-py's
  classes are left as they are for anyone else;
- data is never markup: citeproc sees text with control characters removed, a private
  placeholder for the URL and private marks for italics, and this module escapes the result for
  HTML and Markdown itself.

Subsequent citations of a source are short notes (author's surname, short title, locator), never
"Ibid.": the style's citation layout has no ibid branch, and CMOS 17 (14.34) and 18 prefer short
notes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Protocol

from citeproc import (  # type: ignore[import-untyped]
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
)
from citeproc.model import CitationStylesElement, Substitute  # type: ignore[import-untyped]
from citeproc.source import Locator  # type: ignore[import-untyped]
from citeproc.source.json import CiteProcJSON  # type: ignore[import-untyped]
from lxml import etree  # type: ignore[import-untyped]
from markupsafe import Markup

from briefs.files import cache_dir, keep
from briefs.formats import SHIPPED_TEMPLATES
from briefs.formats.render import md_escape, md_href
from briefs.formats.titles import headline_case

log = logging.getLogger(__name__)

NOTES_RECIPE = "briefs notes 1"
"""Names how notes are formatted here beyond this module's own source (which is part of every kept file's name
too): a change that alters citeproc's raw output must change this, so no kept note outlives it."""

KEPT_NOTES = 512
"""At most this many formatters' files are kept (the newest, ~5 KB each): one per dataset and state of its sources."""

DEFAULT_STYLE = SHIPPED_TEMPLATES / "base" / "csl" / "chicago-notes-bibliography.csl"
"""The shipped style: CSL Chicago notes-bibliography (18th ed.), adapted for citeproc-py; see its README."""

# Private marks citeproc passes through untouched; the input is stripped of control characters first.
_ITALIC_ON, _ITALIC_OFF, _URL = "\x0e", "\x0f", "\x1a"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
# A paragraph number no data holds: numeric, so the style treats it as a number, and unique in the output.
_PARAGRAPH = "987654321987"
_LINKABLE = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)

# Kinds whose title the style sets in quotation marks (the others are italic).
_CASED_VARIABLES = {"title", "title-short", "container-title", "container-title-short"}
_QUOTED_TITLE_TYPES = {"article-newspaper", "article-magazine", "webpage", "post-weblog", "entry-encyclopedia"}

# An author string is an organisation when it has no space, contains one of these words, a lower-case
# joining word ("of", "for", …), or characters a person's name does not have. Everything else is
# "Given Family", with lower-case particles ("de", "van der") kept with the family name.
_ORG_WORDS = {
    "agency", "association", "bank", "bureau", "center", "centre", "commission", "committee", "council",
    "department", "embassy", "foundation", "fund", "government", "group", "institute", "institution",
    "ministry", "nations", "news", "office", "organisation", "organization", "parliament", "press",
    "programme", "program", "secretariat", "service", "staff", "team", "times", "union", "university",
}  # fmt: skip
_ORG_JOINERS = {"of", "for", "and", "the", "on", "in"}
_ORG_CHARS = re.compile(r"[/&()\d@]")


class CitableSource(Protocol):
    """What a source needs to be cited: the lead's `Source` model has these attributes."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...  # "article" | "news" | "official" | "report" | "reference" | "dataset" | "web"
    @property
    def title(self) -> str: ...
    @property
    def authors(self) -> Sequence[str]: ...
    @property
    def container(self) -> str | None: ...
    @property
    def publisher(self) -> str: ...
    @property
    def date(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def accessed(self) -> dt.date | None: ...


@dataclass(frozen=True)
class FormattedNote:
    """One note: the full note at a source's first citation, the short note after."""

    source_id: str
    paragraph: int | None
    short: bool
    text: str
    html: Markup
    markdown: str


@dataclass(frozen=True)
class FormattedEntry:
    """One bibliography entry."""

    source_id: str
    text: str
    html: Markup
    markdown: str


class _Marks:
    """A citeproc-py formatter that marks italics with private characters and leaves text alone."""

    @staticmethod
    def preformat(text: str) -> str:
        """Text is passed through; it was cleaned on the way in."""
        return text

    @staticmethod
    def Italic(text: str) -> str:  # noqa: N802 - citeproc-py's formatter interface
        """Italic text between private marks."""
        return f"{_ITALIC_ON}{text}{_ITALIC_OFF}"

    Oblique = Italic

    @staticmethod
    def Bold(text: str) -> str:  # noqa: N802
        """Bold is not used by Chicago; kept as plain text."""
        return text

    Light = Underline = Superscript = Subscript = SmallCaps = Bold


class _SuppressingSubstitute(Substitute):  # type: ignore[misc]
    """``cs:substitute`` that suppresses every variable under the child it used, macros included."""

    def add_to_repressed_list(self, child: Any, context: Any) -> None:
        """Record each variable the substituting child can render, so later calls print it no more."""
        repressed = context.get_layout().repressed
        for tag, variable in _variables_under(child, set()):
            repressed.setdefault(tag, []).append(variable)


def _variables_under(element: Any, macros_seen: set[str]) -> list[tuple[str, str]]:
    """(tag, variable) for every variable named under an element, following macro calls once each."""
    found: list[tuple[str, str]] = []
    for node in element.iter():
        for variable in (node.get("variable") or "").split():
            found.append((node.tag, variable))
        macro = node.get("macro")
        if macro and macro not in macros_seen:
            macros_seen.add(macro)
            found += _variables_under(node.get_macro(macro), macros_seen)
    return found


class _KnownMacros:
    """``get_macro`` from a table the style builds once, instead of an XPath search of the style per call.

    citeproc-py looks a macro up by name with XPath each time an element calls one: ~13,000 searches for
    one brief's notes, half of citeproc's time (issue 27: a first build on a machine renders every note).
    The table holds the very elements the search returns (a style's first macro of each name, as
    ``cs:macro[@name=…][1]`` does), so the renders are the same. It lives on the style's root element,
    which `_Style` keeps a reference to (lxml keeps a referenced proxy, and its attributes, alive); an
    element of any other tree, or a name not in the table, is searched for as before.
    """

    def get_macro(self, name: str) -> Any:
        """The style's macro of this name."""
        table = getattr(self.get_root(), "_briefs_macros", None)  # type: ignore[attr-defined]
        found = table.get(name) if table is not None else None
        return found if found is not None else super().get_macro(name)  # type: ignore[misc]

    def xpath_search(self, expression: str) -> list[Any]:
        """The elements ``expression`` finds from this element: citeproc-py's search, done once per pair.

        citeproc-py searches again each time it renders an element (``./cs:substitute[1]``, its layout, its
        enclosing ``cs:names``: ~12,000 searches for the shipped dataset's notes). The style's tree does not
        change once parsed, so each answer is kept in a table on its root as `calls_variable`'s is.
        """
        table = getattr(self.get_root(), "_briefs_found", None)  # type: ignore[attr-defined]
        if table is None:
            return list(super().xpath_search(expression))  # type: ignore[misc]
        key = (self, expression)
        found = table.get(key)
        if found is None:
            found = table[key] = tuple(super().xpath_search(expression))  # type: ignore[misc]
        return list(found)

    def calls_variable(self) -> bool:
        """Whether this element renders a variable: citeproc-py's answer, worked out once per element.

        citeproc-py asks it again of every child of every group it renders, and each answer walks the
        element's whole subtree and the macros it calls (~35,000 calls for one brief's notes; issue 27). The
        answer depends only on the style's elements and attributes, which rendering never changes, so it is
        kept in a table on the style's root, keyed by the element (the table keeps the element's proxy, so
        lxml hands the same one back). An element of a tree without the table is asked as before.
        """
        table: dict[Any, bool] | None = getattr(self.get_root(), "_briefs_calls", None)  # type: ignore[attr-defined]
        if table is None:
            return bool(super().calls_variable())  # type: ignore[misc]
        found = table.get(self)
        if found is None:
            found = table[self] = bool(super().calls_variable())  # type: ignore[misc]
        return found


def _with_known_macros(cls: type) -> type:
    """``cls`` with `_KnownMacros`'s lookup first (named as citeproc-py names it)."""
    return type(cls.__name__, (_KnownMacros, cls), {"__doc__": cls.__doc__, "__module__": __name__})


class _Item(CitationItem):  # type: ignore[misc]
    """citeproc-py's citation item, its reference looked up once instead of on each of its ~300 reads a note.

    citeproc-py finds an item's reference through its citation, that citation's bibliography and the
    bibliography's sources on every read (a fifth of its time for the shipped notes; issue 27). Each item
    here is made for one render and registered in one bibliography, whose sources never change, so the
    first reference found is the one every later read would find. An item not yet registered finds none
    and keeps nothing.
    """

    @property
    def reference(self) -> Any:
        """The item's reference in its bibliography's sources (`CitationItem.reference`), kept once found."""
        kept = self.__dict__.get("_briefs_reference")
        if kept is None:
            kept = self.__dict__["_briefs_reference"] = CitationItem.reference.fget(self)
        return kept


_CSL_NS = "http://purl.org/net/xbiblio/csl"
_ELEMENT_CLASSES: dict[str | None, type] = {
    None: _with_known_macros(CitationStylesElement),
    **{
        c.__name__.replace("_", "-").lower(): _with_known_macros(c)
        for c in CitationStylesElement.__subclasses__()
        if c.__module__ == CitationStylesElement.__module__  # citeproc-py's own, as its frontend registers them
    },
    "substitute": _with_known_macros(_SuppressingSubstitute),
}
"""The element class for each CSL tag: citeproc-py's, with `_SuppressingSubstitute` and `_KnownMacros`."""


class _Style(CitationStylesStyle):  # type: ignore[misc]
    """A CSL style parsed with this module's element classes (see `_SuppressingSubstitute`, `_KnownMacros`)."""

    def __init__(self, path: Path) -> None:
        lookup = etree.ElementNamespaceClassLookup()
        lookup.get_namespace(_CSL_NS).update(_ELEMENT_CLASSES)
        parser = etree.XMLParser(remove_comments=True, encoding="UTF-8", no_network=True, resolve_entities=False)
        parser.set_element_class_lookup(lookup)
        self.xml = etree.parse(str(path), parser)
        self.root = self.xml.getroot()
        macros: dict[str, Any] = {}
        for macro in self.root.iterchildren(f"{{{_CSL_NS}}}macro"):
            macros.setdefault(macro.get("name"), macro)
        self.root._briefs_macros = macros
        self.root.set_locale_list(self.root.get("default-locale", "en-US"), validate=False)
        # Titles come headline-cased (`headline_case`) and publications' names as they style themselves
        # ("bne IntelliNews"): citeproc-py's title case, which made "Bne" and kept "‘look", is not applied.
        for element in self.root.iter():
            if element.get("text-case") == "title" and element.get("variable") in _CASED_VARIABLES:
                del element.attrib["text-case"]
        # citeproc-py reads each locale file it falls back to with its own classes: read again with these, the
        # locales' terms and dates are kept too (their searches were a tenth of citeproc's time; issue 27).
        for n, locale in enumerate(self.root.locales):
            if locale.getroottree().getroot() is not self.root:
                again = etree.parse(locale.getroottree().docinfo.URL, parser).getroot()
                again.style = self.root
                again._briefs_calls, again._briefs_found = {}, {}
                self.root.locales[n] = again
        # The tree is final from here: what an element renders and finds can be kept (`_KnownMacros`).
        self.root._briefs_calls = {}
        self.root._briefs_found = {}


def is_organisation(name: str) -> bool:
    """Whether an author string names an organisation rather than a person (see `_ORG_WORDS`)."""
    words = name.split()
    if len(words) < 2 or len(words) > 5 or _ORG_CHARS.search(name):
        return True
    lowered = {w.lower().strip(".,") for w in words}
    if lowered & _ORG_WORDS or {w for w in words if w in _ORG_JOINERS}:
        return True
    return any(len(w) > 1 and w.isupper() for w in words)  # an acronym: "UN", "OSCE"


def csl_name(name: str) -> dict[str, str]:
    """A CSL name: a literal for an organisation, else given and family ("Thomas de Waal" → "de Waal")."""
    name = _clean(name)
    if is_organisation(name):
        return {"literal": name}
    words = name.split()
    split = len(words) - 1
    while split > 1 and words[split - 1][:1].islower():  # particles: "van der", "de", "al-"
        split -= 1
    return {"given": " ".join(words[:split]), "family": " ".join(words[split:])}


def csl_type(source: CitableSource) -> str:
    """The CSL type for a source's kind, chosen to match Chicago's treatment of that kind of source."""
    kind = source.kind
    if kind == "news":
        return "article-newspaper"  # 14.89: newspaper and news-site articles
    if kind == "article":
        # An article in a named outlet other than its publisher (a magazine, a journal's web edition) is
        # cited as a periodical article; a think tank's commentary on its own site as web content (14.104).
        if source.container and source.container != source.publisher:
            return "article-magazine"
        return "webpage"
    if kind == "report":
        return "report"  # 14.116: reports, italic title, publisher
    if kind == "reference":
        return "entry-encyclopedia"
    if kind == "dataset":
        return "dataset"
    return "webpage"  # "official" (press releases, statements) and "web": 14.104 web content


def _clean(value: str) -> str:
    """Text with control characters and line breaks collapsed to single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _curly(value: str, *, inside_quotes: bool) -> str:
    """Straight quotes made curly; double quotes made single when the text sits inside quotes."""
    value = re.sub(r'(^|[\s(\[{—–-])"', "\\1“", value)
    value = value.replace('"', "”")
    value = re.sub(r"(^|[\s(\[{—–-])'", "\\1‘", value)
    value = value.replace("'", "’")
    if inside_quotes:
        value = value.replace("“", "‘").replace("”", "’")
    return value


def _date_parts(value: str, source_id: str, key: str) -> dict[str, Any]:
    """A CSL date from a partial date."""
    m = _PARTIAL_DATE.match(value)
    if not m:
        raise ValueError(f"source {source_id}: {key}: expected YYYY, YYYY-MM or YYYY-MM-DD, found {value!r}")
    return {"date-parts": [[int(g) for g in m.groups() if g]]}


def csl_item(source: CitableSource, key: str) -> dict[str, Any]:
    """The CSL-JSON record for a source, under citeproc's key."""
    kind = csl_type(source)
    item: dict[str, Any] = {"id": key, "type": kind}
    title = headline_case(_curly(_clean(source.title), inside_quotes=kind in _QUOTED_TITLE_TYPES))
    if re.search(r"(?<![.])\.$", title) and "." not in title.rsplit(" ", 1)[-1][:-1]:
        title = title[:-1]  # the note's own punctuation follows: “Title,” not “Title.,” (but “… the U.S.,”)
    item["title"] = title
    main, colon, _subtitle = item["title"].partition(": ")
    if colon and main:
        item["title-short"] = main  # short notes drop the subtitle (CMOS 14.30)
    short_title = getattr(source, "short_title", None)
    if short_title:  # the data's own short form (CMOS 14.30: up to four words of the title)
        item["title-short"] = headline_case(_curly(_clean(short_title), inside_quotes=kind in _QUOTED_TITLE_TYPES))
    authors = [csl_name(a) for a in source.authors if _clean(a)]
    if authors:
        item["author"] = authors
    container = _curly(_clean(source.container), inside_quotes=False) if source.container else None
    publisher = _curly(_clean(source.publisher), inside_quotes=False)
    if kind in {"article-newspaper", "article-magazine", "entry-encyclopedia"}:
        item["container-title"] = container or publisher
    elif kind == "webpage":
        # The site's name; its owner only when different (14.104), never the same name twice.
        item["container-title"] = container or publisher
        if container and container != publisher:
            item["publisher"] = publisher
    else:
        item["publisher"] = publisher
        if container and container != publisher:
            item["container-title"] = container
    if source.date:
        item["issued"] = _date_parts(source.date, source.id, "date")
    if source.accessed:
        a = source.accessed
        item["accessed"] = {"date-parts": [[a.year, a.month, a.day]]}
    if source.url:
        item["URL"] = _URL
    return item


def _finish(raw: str) -> str:
    """Chicago's punctuation around closing quotation marks, which citeproc-py leaves out (CMOS 6.9, 6.119)."""
    off = _ITALIC_OFF
    raw = re.sub(f"([?!](?:”|{off})){off}?[.,]", r"\1", raw)  # “Why?,” and *Why?*. lose the comma or period
    raw = re.sub(r"”([.,])", r"\1”", raw)  # ”, → ,”  (only the double mark: a final ’ may be an apostrophe)
    return re.sub(f"(?<![.])\\.({off}?”?)\\.(?![.])", r".\1", raw)  # “… Inc.”. → “… Inc.”


def _segments(raw: str) -> list[tuple[str, str]]:
    """The finished string as (kind, text) pieces: "text", "on", "off" or "url"."""
    out: list[tuple[str, str]] = []
    for piece in re.split(f"([{_ITALIC_ON}{_ITALIC_OFF}{_URL}])", raw):
        if piece == _ITALIC_ON:
            out.append(("on", ""))
        elif piece == _ITALIC_OFF:
            out.append(("off", ""))
        elif piece == _URL:
            out.append(("url", ""))
        elif piece:
            out.append(("text", piece))
    return out


def _outputs(raw: str, url: str | None) -> tuple[str, Markup, str]:
    """Plain text, HTML and Markdown of one finished citeproc string."""
    url = _clean(url) if url else ""
    linkable = bool(_LINKABLE.match(url))
    text: list[str] = []
    html: list[str] = []
    md: list[str] = []
    for kind, piece in _segments(_finish(raw)):
        if kind == "text":
            text.append(piece)
            html.append(escape(piece, quote=False))
            md.append(md_escape(piece))
        elif kind == "on":
            html.append("<i>")
            md.append("*")
        elif kind == "off":
            html.append("</i>")
            md.append("*")
        else:
            text.append(url)
            if linkable:
                html.append(f'<a href="{escape(url, quote=True)}">{escape(url, quote=False)}</a>')
                md.append(f"<{md_href(url)}>")
            else:
                html.append(escape(url, quote=False))
                md.append(md_escape(url))
    return "".join(text), Markup("".join(html)), "".join(md)  # every piece was escaped above


class Citations:
    """Formats notes and bibliography entries for a fixed set of sources with one CSL style.

    citeproc-py takes 50–100 ms per note, so each form of a note and each entry is rendered once per
    instance: build one `Citations` per dataset and share it between the audiences' briefs.
    """

    def __init__(self, sources: Sequence[CitableSource], style: Path | None = None) -> None:
        self._sources = {s.id: s for s in sources}
        if len(self._sources) != len(sources):
            raise ValueError("sources: expected unique ids, found a repeated id")
        # citeproc lower-cases keys; private keys keep "A" and "a" apart.
        self._keys = {sid: f"s{n}" for n, sid in enumerate(self._sources)}
        self._ids = {k: sid for sid, k in self._keys.items()}
        self._data = [csl_item(s, self._keys[s.id]) for s in self._sources.values()]
        self._style_path = style or DEFAULT_STYLE
        self._style = _Style(self._style_path)
        self._forms: dict[tuple[str, bool, bool], str] = {}
        self._entries: dict[str, str | None] = {}  # citeproc's entry per source, rendered once
        self._parsed: Any = None  # the sources as citeproc reads them, parsed on the first render
        self._kept = self._kept_file()
        self._read_kept()
        self._kept_size = len(self._forms) + len(self._entries)

    def _kept_file(self) -> Path | None:
        """Where this formatter's renders are kept between runs (`briefs.files.cache_dir`), or None.

        citeproc-py's renders are most of a forced build's time (~1.4 s for the shipped briefs; issue 27), and
        a rebuild of the same sources renders the same forms again. The file is named by everything a render
        depends on: the style's bytes, citeproc-py's version, this module's source and `NOTES_RECIPE`, and
        every source's CSL data with its id, so a hit is the very text citeproc would return, and an edit to
        any source starts afresh (citeproc sees every item when it renders one).
        """
        folder = cache_dir()
        if folder is None:
            return None
        import citeproc

        digest = hashlib.sha256()
        for part in (NOTES_RECIPE, citeproc.__version__, json.dumps([list(self._keys), self._data], sort_keys=True)):
            digest.update(part.encode() + b"\0")
        digest.update(self._style_path.read_bytes() + b"\0")
        digest.update(Path(__file__).read_bytes())
        return folder / "notes" / f"{digest.hexdigest()}.json"

    def _read_kept(self) -> None:
        """Take the renders a previous run kept, if any; a file that is not what `_keep` writes is ignored."""
        if self._kept is None:
            return
        try:
            kept = json.loads(self._kept.read_text(encoding="utf-8"))
            forms, entries = kept["forms"], kept["entries"]
            for name, raw in forms.items():
                source_id, with_paragraph, short = name.split("\0")
                if source_id in self._sources and isinstance(raw, str):
                    self._forms[(source_id, with_paragraph == "1", short == "1")] = raw
            for source_id, raw in entries.items():
                if source_id in self._sources and (raw is None or isinstance(raw, str)):
                    self._entries[source_id] = raw
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return

    def _keep(self) -> None:
        """Keep what this formatter has rendered, with what another process kept meanwhile, when it rendered more."""
        if self._kept is None or len(self._forms) + len(self._entries) == self._kept_size:
            return
        self._read_kept()
        forms = {f"{sid}\0{int(p)}\0{int(short)}": raw for (sid, p, short), raw in sorted(self._forms.items())}
        text = json.dumps({"forms": forms, "entries": dict(sorted(self._entries.items()))}, ensure_ascii=False)
        if not keep(self._kept, text.encode(), newest=KEPT_NOTES):
            log.debug("could not keep formatted notes in %s", self._kept.parent)
        self._kept_size = len(self._forms) + len(self._entries)

    def _bibliography(self) -> CitationStylesBibliography:
        """A fresh citeproc bibliography: citation positions start again.

        Over the sources parsed once: citeproc-py only reads them (a bibliography keeps its own keys and
        items), and parsing them again for every form rendered was a tenth of its time (issue 27).
        """
        if self._parsed is None:
            self._parsed = CiteProcJSON(self._data)
        return CitationStylesBibliography(self._style, self._parsed, _Marks)

    def _source(self, source_id: str) -> CitableSource:
        try:
            return self._sources[source_id]
        except KeyError:
            raise KeyError(f"cite: expected a known source id, found {source_id!r}") from None

    def _note(self, source_id: str, paragraph: int | None, short: bool) -> str:
        """citeproc's note for one citation, each form rendered once per instance (citeproc is slow).

        A form is (source, with or without a paragraph, full or short): the paragraph is rendered as a
        stand-in number and the real one put in its place, so 100 notes on 10 sources cost 40 renders at most.
        """
        form = (source_id, paragraph is not None, short)
        if form not in self._forms:
            bib = self._bibliography()
            key = self._keys[source_id]
            item = _Item(key) if paragraph is None else _Item(key, locator=Locator("paragraph", _PARAGRAPH))
            citation = Citation([item])
            bib.register(citation)
            # The style picks the short form when the source is among the cites before this one; an earlier
            # cite is handed over as that history rather than rendered.
            earlier = Citation([_Item(key)]).cites if short else []
            self._forms[form] = str(self._style.render_citation(citation, earlier, _unknown))
        raw = self._forms[form]
        return raw if paragraph is None else raw.replace(_PARAGRAPH, str(paragraph), 1)

    def notes(self, cites: Sequence[tuple[str, int | None]]) -> list[FormattedNote]:
        """One note per cite, in order: a source's first citation in full, later ones short."""
        seen: set[str] = set()
        notes = []
        for source_id, paragraph in cites:
            source = self._source(source_id)
            short = source_id in seen
            text, html, md = _outputs(self._note(source_id, paragraph, short), source.url)
            notes.append(FormattedNote(source_id, paragraph, short, text, html, md))
            seen.add(source_id)
        self._keep()
        return notes

    def bibliography(self, source_ids: Iterable[str]) -> list[FormattedEntry]:
        """Bibliography entries for these sources, once each, in the style's order."""
        bib = self._bibliography()
        for source_id in dict.fromkeys(source_ids):
            self._source(source_id)
            bib.register(Citation([_Item(self._keys[source_id])]))
        bib.sort()
        entries: list[FormattedEntry] = []
        for item in bib.items:
            source_id = self._ids[item.key]
            if source_id not in self._entries:
                # One at a time: citeproc-py drops an entry that renders empty, which would misalign a list.
                rendered = self._style.render_bibliography([item])
                self._entries[source_id] = str(rendered[0]) if rendered else None
            raw = self._entries[source_id]
            if raw is None:
                log.debug("source %s: not in the bibliography (a reference work, CMOS 14.130)", source_id)
                continue
            text, html, md = _outputs(raw, self._sources[source_id].url)
            entries.append(FormattedEntry(source_id, text, html, md))
        self._keep()
        # citeproc-py sorts on rendered keys that carry our italic marks and opening quotation marks,
        # which put *The Astana Times* and “World …” out of place; a stable re-sort on the plain text, which
        # leads with the same author-or-substitute and title the style sorts by, restores the order.
        return sorted(entries, key=lambda e: _sort_key(e.text))


def _sort_key(text: str) -> str:
    """Letter-by-letter sort key: no punctuation, no case, no leading article (CMOS 14.66-68)."""
    key = re.sub(r"[^\w\s]", "", text).casefold().strip()
    return re.sub(r"^(the|a|an)\s+", "", key)


def _unknown(item: CitationItem) -> None:
    """citeproc's callback for a key it does not know; `Citations` checks ids first, so never reached."""
    raise KeyError(f"cite: unknown source {item.key}")

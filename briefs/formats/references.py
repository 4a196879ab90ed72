"""What a PDF would fetch, found by `check`: the locked fetcher's refusals, named by the file that holds them.

WeasyPrint loads stylesheets, images, fonts and objects through `briefs.formats.pdf`'s locked fetcher, which
refuses anything on the network, outside the template folders or missing — but only when a PDF is laid
out, and it can only name the audience's template. Here the same references are found before any
layout: in each target's rendered HTML (``html.parser``) and in every CSS file of the template folders
(tinycss2, WeasyPrint's own CSS parser); each is judged by the fetcher's own rule, and reported against
the file and line that holds it (issue 19).
"""

from __future__ import annotations

import base64
import functools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin

import tinycss2

from briefs.data.audiences import TemplateDirs
from briefs.errors import Problem, display_path
from briefs.files import read_limited
from briefs.formats.pdf import MAX_ASSET_BYTES, FetchRefusedError, _allowed_path

log = logging.getLogger(__name__)

ATTACHMENT = "refused to attach {url}: files are never attached to a brief"


@dataclass(frozen=True)
class Reference:
    """A URL a document would fetch, where it is in that document (line and column when known)."""

    url: str
    line: int | None = None
    column: int | None = None
    attachment: bool = False


def css_references(text: str) -> list[Reference]:
    """Every URL a stylesheet would fetch: ``@import`` and ``url()``, anywhere (``@font-face``, ``@media``…)."""
    lowered = text.lower()
    if "url(" not in lowered and "@import" not in lowered and "\\" not in text:
        return []  # nothing to fetch (a CSS escape could spell either, so text with a backslash is parsed)
    return list(_parsed_references(text))


@functools.lru_cache(maxsize=256)
def _parsed_references(text: str) -> tuple[Reference, ...]:
    """`css_references` of a stylesheet, parsed once per process (every brief inlines the same base.css)."""
    found: list[Reference] = []

    def at(node: Any) -> tuple[int, int]:
        return node.source_line, node.source_column

    def walk(nodes: Iterable[Any] | None) -> None:
        for node in nodes or ():
            kind = getattr(node, "type", None)
            if kind == "url":
                found.append(Reference(node.value, *at(node)))
            elif kind == "function" and node.lower_name == "url":
                strings = [a for a in node.arguments if getattr(a, "type", None) == "string"]
                if strings:
                    found.append(Reference(strings[0].value, *at(node)))
            elif kind == "function":
                walk(node.arguments)
            elif kind in ("() block", "[] block", "{} block"):
                walk(node.content)

    for rule in tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True):
        if rule.type == "at-rule" and rule.lower_at_keyword == "import":
            target = next((t for t in rule.prelude if getattr(t, "type", None) in ("string", "url")), None)
            if target is not None:
                found.append(Reference(target.value, *at(rule)))
            else:
                walk(rule.prelude)
            continue
        if rule.type in ("at-rule", "qualified-rule"):
            walk(rule.prelude)
            walk(rule.content)
    return tuple(found)


def _style_attribute(text: str) -> list[Reference]:
    """The URLs in a ``style="…"`` attribute."""
    return [Reference(r.url) for r in css_references(f"x{{{text}}}")]


class _HtmlReferences(HTMLParser):
    """Collects what WeasyPrint fetches from an HTML document: stylesheets, images, objects, fonts via CSS."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Reference] = []
        self._in_style = False
        self._css: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v for k, v in attrs if v is not None}
        rel = values.get("rel", "").lower().split()
        fetched = {
            "img": ("src",),
            "embed": ("src",),
            "object": ("data",),
            "image": ("href", "xlink:href"),
            "feimage": ("href", "xlink:href"),
            "use": ("href", "xlink:href"),
        }.get(tag, ())
        if tag == "link" and "stylesheet" in rel:
            fetched = ("href",)
        for name in fetched:
            url = values.get(name)
            if url:
                self.found.append(Reference(url))
        if tag in ("link", "a") and "attachment" in rel and values.get("href"):
            self.found.append(Reference(values["href"], attachment=True))
        if "style" in values:
            self.found += _style_attribute(values["style"])
        if tag == "style":
            self._in_style, self._css = True, []

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._css.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style" and self._in_style:
            self.found += css_references("".join(self._css))
            self._in_style = False


def html_references(html: str) -> list[Reference]:
    """Every URL laying out ``html`` would fetch."""
    parser = _HtmlReferences()
    parser.feed(html)
    parser.close()
    return parser.found


def refusal(ref: Reference, base_uri: str, roots: tuple[Path, ...], depth: int = 0) -> str | None:
    """Why the locked fetcher would refuse ``ref`` (the same words), or None if it would serve it."""
    url = ref.url.strip()
    if not url or url.startswith("#"):
        return None  # a fragment names something inside the document
    if ref.attachment:
        return ATTACHMENT.format(url=repr(url))
    if url.startswith("data:"):
        return _data_refusal(url, base_uri, roots, depth)
    try:
        _allowed_path(urljoin(base_uri, url), roots)
    except FetchRefusedError as exc:
        return str(exc)
    return None


MAX_NESTING = 4
"""How deep `refusal` follows ``data:`` documents inside ``data:`` documents (WeasyPrint follows every level)."""


def _data_refusal(url: str, base_uri: str, roots: tuple[Path, ...], depth: int) -> str | None:
    """What a ``data:`` stylesheet or SVG would fetch in turn, judged as the fetcher judges it."""
    header, comma, payload = url[5:].partition(",")
    if not comma:
        return None
    media = header.split(";")[0].strip().lower()
    if media not in ("text/css", "image/svg+xml", "text/html", "application/xhtml+xml"):
        return None  # an image or a font: fetches nothing more
    if depth >= MAX_NESTING:
        return f"refused a data: {media} nested more than {MAX_NESTING} deep"
    try:
        if ";base64" in header.lower():
            text = base64.b64decode(unquote(payload), validate=False).decode("utf-8", "replace")
        else:
            text = unquote(payload)
    except ValueError:
        return None  # WeasyPrint cannot read it either
    refs = css_references(text) if media == "text/css" else html_references(text)
    for ref in refs:
        why = refusal(ref, base_uri, roots, depth + 1)
        if why is not None:
            return f"in a data: {media.split('/')[1]}: {why}"
    return None


@dataclass
class _Sources:
    """The text files of the template folders, user's first, read once: where a rendered URL came from."""

    dirs: TemplateDirs
    texts: dict[Path, str] = field(default_factory=dict)

    def files(self) -> Iterator[Path]:
        """Templates first (user folder, then shipped), stylesheets last: a URL is looked for where it is written."""
        for suffixes in ((".j2", ".html", ".svg"), (".css",)):
            for root in self.dirs.searched:
                for path in sorted(root.rglob("*")):
                    if path.is_file() and path.suffix in suffixes:
                        yield path

    def locate(self, url: str) -> tuple[Path, int, int] | None:
        """The first file (user folder first) that holds ``url`` as written, with its line and column."""
        forms = dict.fromkeys([url, url.replace("&", "&amp;")])
        for path in self.files():
            if path not in self.texts:
                try:
                    self.texts[path] = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    self.texts[path] = ""
            text = self.texts[path]
            for form in forms:
                index = text.find(form)
                if index >= 0:
                    line = text.count("\n", 0, index) + 1
                    return path, line, index - (text.rfind("\n", 0, index) + 1) + 1
        return None


def base_uri(dirs: TemplateDirs) -> str:
    """The URL relative references resolve against: the shipped templates folder, as in `briefs.formats.pdf`."""
    return dirs.shipped.resolve().as_uri() + "/"


def css_file_problems(dirs: TemplateDirs) -> list[Problem]:
    """Every CSS file in the template folders: each reference the fetcher would refuse, at its file:line:col."""
    roots = tuple(r.resolve() for r in dirs.searched)
    problems = []
    for root in dirs.searched:
        for path in sorted(root.rglob("*.css")):
            try:  # a FIFO or a link to /dev/zero named *.css is refused, not waited on or read forever
                text = read_limited(path, MAX_ASSET_BYTES).decode("utf-8")
            except OSError as exc:
                reason = exc.strerror or str(exc)
                problems.append(Problem(display_path(path), None, None, "", f"cannot read the stylesheet: {reason}"))
                continue
            except UnicodeDecodeError as exc:
                problems.append(Problem(display_path(path), None, None, "", f"cannot read the stylesheet: {exc}"))
                continue
            for ref in css_references(text):
                why = refusal(ref, base_uri(dirs), roots)
                if why is not None:
                    problems.append(Problem(display_path(path), ref.line, ref.column, "", why))
    return problems


def svg_file_problems(dirs: TemplateDirs) -> list[Problem]:
    """Every SVG file in the template folders: what it would fetch in turn (WeasyPrint draws it when writing)."""
    roots = tuple(r.resolve() for r in dirs.searched)
    problems = []
    for root in dirs.searched:
        for path in sorted(root.rglob("*.svg")):
            try:
                text = read_limited(path, MAX_ASSET_BYTES).decode("utf-8", "replace")
            except OSError as exc:
                problems.append(Problem(display_path(path), None, None, "", f"cannot read the image: {exc.strerror}"))
                continue
            for ref in html_references(text):
                why = refusal(ref, path.resolve().as_uri(), roots)
                if why is not None:
                    index = text.find(ref.url)
                    line = text.count("\n", 0, index) + 1 if index >= 0 else None
                    column = index - (text.rfind("\n", 0, index) + 1) + 1 if index >= 0 else None
                    problems.append(Problem(display_path(path), line, column, "", why))
    return problems


class RenderedChecker:
    """Judges the references in rendered HTML and names the template file that wrote each refused one."""

    def __init__(self, dirs: TemplateDirs) -> None:
        self.dirs = dirs
        self.roots = tuple(r.resolve() for r in dirs.searched)
        self.sources = _Sources(dirs)

    def _stylesheet_urls(self, path: Path) -> set[str]:
        """The URLs `css_file_problems` finds in a stylesheet (and so reports itself)."""
        return {r.url for r in css_references(self.sources.texts.get(path, ""))}

    def problems(self, html: str, template_file: str) -> list[Problem]:
        """The refused references of one rendered brief; those written by a CSS file are left to `css_file_problems`."""
        out = []
        for ref in html_references(html):
            why = refusal(ref, base_uri(self.dirs), self.roots)
            if why is None:
                continue
            found = self.sources.locate(ref.url)
            if found is None:  # built by the template from data or pieces: name the template that rendered it
                out.append(Problem(template_file, None, None, "", why))
            elif found[0].suffix != ".css" or ref.url not in self._stylesheet_urls(found[0]):
                out.append(Problem(display_path(found[0]), found[1], found[2], "", why))
        return out

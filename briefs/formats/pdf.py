"""HTML -> PDF with WeasyPrint: a locked-down fetcher, metadata from the HTML, deterministic bytes.

WeasyPrint is imported inside the functions that need it: a build with no stale PDF never pays for it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import mimetypes
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote, urlsplit

from briefs.errors import BuildError, InputError, Problem
from briefs.files import read_limited

if TYPE_CHECKING:
    import weasyprint

log = logging.getLogger(__name__)


class RenderedPdf:
    """A laid-out PDF: its page count now, its bytes only when asked for.

    Writing costs about a third of a brief's time; the page-limit trim loop lays a brief out several
    times but keeps only the pass that fits, so only that pass is written.
    """

    def __init__(
        self,
        pages: int,
        write: Callable[[], bytes],
        room: float = 0.0,
        loaded: tuple[Path, ...] = (),
        measure: Callable[[], Geometry | None] | None = None,
    ) -> None:
        self.pages = pages
        self.loaded = loaded  # the files the layout fetched (fonts, stylesheets, images), resolved
        self._write = write
        self._data: bytes | None = None
        self.room = room  # the share of the last page's text area left empty (0 = full)
        self._measure = measure
        self._geometry: Geometry | None = None

    @property
    def geometry(self) -> Geometry | None:
        """How much room the layout leaves and how tall its marked items are (read on first use), or None."""
        if self._measure is not None:
            self._geometry, self._measure = self._measure(), None
        return self._geometry

    @property
    def data(self) -> bytes:
        """The PDF's bytes (written on first use)."""
        if self._data is None:
            self._data = self._write()
        return self._data


@dataclass(frozen=True)
class Geometry:
    """What a layout says of its room and of the items fitting may drop, in CSS pixels (issue 27).

    Read from WeasyPrint's laid-out boxes, which are not public API: `layout_geometry` returns None for
    anything it does not expect, and fitting then lays out as before.
    """

    areas: tuple[float, ...]
    """Each page's text area, in page order."""
    frees: tuple[float, ...]
    """Each page's room below its lowest line or leaf box (at least what is left)."""
    items: dict[str, tuple[float, float, float]]
    """Per marked item (``data-briefs-item``): its boxes' heights summed over pages, its tallest line, and its
    boxes' heights with their margins (an estimate of what it takes, where the first is a floor)."""
    notes: dict[int, float]
    """Per endnote (``id="note-N"``): its height."""
    slack: float
    """What a page break can give back as the text moves: the largest margin plus the tallest table header."""

    @property
    def free(self) -> float:
        """Room left on the laid-out pages, summed."""
        return sum(self.frees)

    @property
    def page(self) -> float:
        """The tallest page's text area: the room a page the layout did not need would add."""
        return max(self.areas, default=0.0)

    @property
    def used(self) -> float:
        """The height the content takes, page breaks' gaps left out."""
        return sum(self.areas) - self.free


class FetchRefusedError(Exception):
    """A resource outside the allowed folders, or on the network."""


MAX_ASSET_BYTES = 32 * 1024 * 1024
"""The largest file a template may load (fonts are ~0.5 MB): a bigger one is refused, not read into memory."""


def _shown(url: str) -> str:
    """A URL as quoted in a message: one line, bounded (a data: or crafted URL may be huge)."""
    text = repr(url)
    return text if len(text) <= 160 else text[:150] + "…'"


def _allowed_path(url: str, roots: tuple[Path, ...]) -> Path:
    """The local file ``url`` names, if it is inside one of ``roots`` (after following symlinks)."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise FetchRefusedError(f"refused to fetch {_shown(url)}: only files in the template folders may be loaded")
    if parts.netloc not in ("", "localhost"):  # file://host/share is a network path on some systems
        raise FetchRefusedError(f"refused to fetch {_shown(url)}: not a local file")
    path = Path(unquote(parts.path)).resolve()
    if not any(path.is_relative_to(root) for root in roots):
        raise FetchRefusedError(f"refused to fetch {_shown(url)}: outside the template folders")
    path = searched_first(path, roots)
    if not path.is_file():
        raise FetchRefusedError(f"resource not found: {_shown(url)}")
    if path.stat().st_size > MAX_ASSET_BYTES:
        raise FetchRefusedError(f"refused to fetch {_shown(url)}: larger than {MAX_ASSET_BYTES:,} bytes")
    return path


def searched_first(path: Path, roots: tuple[Path, ...]) -> Path:
    """The file at ``path``'s place in the first of ``roots`` (the user's folder first) that has one.

    A relative URL resolves against the shipped folder (the documents' base URL), so
    `<link href="css/x.css">` in a user's template names `templates/css/x.css`; like a template, it is
    looked for in the user's `--templates` folder first, then in the shipped one (issue 24). A path
    found in no folder is returned as it is, for the caller to refuse as not found.
    """
    for root in roots:
        if path.is_relative_to(root):
            rel = path.relative_to(root)
            for candidate in (r / rel for r in roots):
                found = candidate.resolve()
                if any(found.is_relative_to(r) for r in roots) and found.is_file():
                    return found
            break
    return path


def _attachments(document: Any) -> list[str]:
    """Files the document would embed in the PDF (``<link rel=attachment>``, ``<a rel=attachment>``): refused."""
    found = [
        "refused a <link rel=attachment>: files are never attached to a brief" for _ in document.metadata.attachments
    ]
    for page in document.pages:
        for link in page.links:
            if link[0] == "attachment":
                found.append(f"refused to attach {_shown(str(link[1]))}: files are never attached to a brief")
    return found


def make_fetcher(roots: tuple[Path, ...], refused: list[str], served: list[Path] | None = None) -> Any:
    """A WeasyPrint URL fetcher that serves only files under ``roots``; records what it refused and ``served``."""
    import weasyprint.urls

    resolved = tuple(r.resolve() for r in roots)

    class LockedFetcher(weasyprint.urls.URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            try:
                path = _allowed_path(url, resolved)
            except FetchRefusedError as exc:
                refused.append(str(exc))
                raise
            try:  # the file read is the file checked: a regular one, at most the limit (briefs/files.py)
                data = read_limited(path, MAX_ASSET_BYTES)
            except OSError as exc:
                refused.append(f"refused to fetch {_shown(url)}: {exc.strerror or exc}")
                raise FetchRefusedError(refused[-1]) from None
            if served is not None:
                served.append(path)
            # Its type by its name: WeasyPrint takes a `<link rel=stylesheet>` only as text/css.
            kind = mimetypes.guess_type(path.name)[0]
            return weasyprint.urls.URLFetcherResponse(path.as_uri(), data, {"Content-Type": kind} if kind else None)

    return LockedFetcher(allowed_protocols=("file", "data"), allow_redirects=False, timeout=1)


class _SubsetterNotice(logging.Filter):
    """Drops WeasyPrint's per-font "Using fontTools instead of HarfBuzz-Subset" warning; we say it once.

    Without Debian's ``libharfbuzz-subset0`` WeasyPrint subsets fonts with fontTools, which is slower but
    gives the same bytes (see ``_source_date_epoch``); it warns for every font of every brief (issue 14).
    """

    told = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Using fontTools instead of HarfBuzz-Subset"):
            return True
        if not _SubsetterNotice.told:
            _SubsetterNotice.told = True
            log.debug("fonts are subset with fontTools (install libharfbuzz-subset0 for faster PDFs)")
        return False


_subsetter_notice = _SubsetterNotice()


def _quiet_weasyprint() -> None:
    """Install the filter on WeasyPrint's logger (once per process; workers call it too)."""
    logger = logging.getLogger("weasyprint")
    if _subsetter_notice not in logger.filters:
        logger.addFilter(_subsetter_notice)


def _source_date_epoch(document: Any) -> str:
    """The brief's data date as seconds since 1970, for fontTools' font timestamps (never the clock).

    fontTools, WeasyPrint's subsetter without HarfBuzz-Subset, writes ``timestampNow()`` into each
    embedded font's ``head`` table; it honours ``SOURCE_DATE_EPOCH``. The date is the HTML's
    ``dcterms.modified`` (or ``created``), which the layout takes from the data; failing both, 0.
    """
    for value in (document.metadata.modified, document.metadata.created):
        if not value:
            continue
        try:
            when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return str(max(0, int(when.timestamp())))
    return "0"


_font_config: Any = None


def _font_configuration() -> Any:
    """One font configuration per process: reused across targets."""
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        class RecordingFontConfiguration(FontConfiguration):  # type: ignore[misc]
            """Says which files each brief's fonts came from, though WeasyPrint fetches a face only once.

            A face loaded for an earlier brief in this process is not fetched again, so the fetcher alone
            would miss it; the files of each face are remembered and counted again for every brief that
            asks for it (its stamp covers them: `briefs.pipeline.plan.loaded_assets`).
            """

            served: list[Path] | None = None
            faces: ClassVar[dict[str, tuple[Path, ...]]] = {}

            def add_font_face(self, rule_descriptors: Any, url_fetcher: Any) -> Any:
                key = str(rule_descriptors)
                served = self.served
                mark = len(served) if served is not None else 0
                result = super().add_font_face(rule_descriptors, url_fetcher)
                if served is not None:
                    if len(served) > mark:
                        self.faces[key] = tuple(served[mark:])
                    else:
                        served.extend(self.faces.get(key, ()))
                return result

        _font_config = RecordingFontConfiguration()
    return _font_config


def warm_up(css: str = "", base_url: Path | None = None, asset_roots: tuple[Path, ...] = ()) -> None:
    """Pay WeasyPrint's import and font set-up now (~0.6 s), not on the next brief (a watcher's workers).

    Given the briefs' ``css``, a one-line page is laid out with it, so its fonts are loaded too.
    """
    import weasyprint  # noqa: F401

    _font_configuration()
    if css and base_url is not None:
        try:
            render_pdf(
                f"<style>{css}</style><p>Warm-up</p>", base_url=base_url, asset_roots=asset_roots, identity="warm"
            )
        except Exception:  # a warm-up only: the brief that uses this CSS reports any problem
            log.debug("warm-up layout failed", exc_info=True)


def render_pdf(
    html: str,
    *,
    base_url: Path,
    asset_roots: tuple[Path, ...],
    identity: str,
    variant: str | None = None,
    template_file: str = "<html>",
) -> RenderedPdf:
    """Lay out ``html`` and write it to PDF bytes; the same input always gives the same bytes."""
    import weasyprint

    _quiet_weasyprint()
    refused: list[str] = []
    served: list[Path] = []
    fetcher = make_fetcher(asset_roots, refused, served)
    document: weasyprint.Document
    fonts = _font_configuration()
    fonts.served = served
    try:
        document = weasyprint.HTML(string=html, base_url=base_url.resolve().as_uri() + "/", url_fetcher=fetcher).render(
            font_config=fonts, pdf_tags=True, pdf_variant=variant
        )
    except Exception as exc:  # WeasyPrint raises many kinds; none is the user's input
        raise BuildError(f"{template_file}: WeasyPrint failed: {exc}") from exc
    finally:
        fonts.served = None
    refused += _attachments(document)
    if refused:
        raise InputError([Problem(template_file, None, None, "", r) for r in dict.fromkeys(refused)])
    identifier = hashlib.sha256(identity.encode()).hexdigest()[:32].encode()

    def write() -> bytes:
        # The fontTools subsetter stamps fonts with SOURCE_DATE_EPOCH at call time: set it from the data
        # for this write only, and put back what was there (issue 14).
        before = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = _source_date_epoch(document)
        try:
            data = document.write_pdf(pdf_identifier=identifier, pdf_variant=variant, pdf_tags=True)
        finally:
            if before is None:
                del os.environ["SOURCE_DATE_EPOCH"]
            else:
                os.environ["SOURCE_DATE_EPOCH"] = before
        assert data is not None
        if refused:  # drawn only when writing: an SVG's own images, refused by the same fetcher
            raise InputError([Problem(template_file, None, None, "", r) for r in dict.fromkeys(refused)])
        return bytes(data)

    pages, room, loaded = len(document.pages), last_page_room(document), tuple(dict.fromkeys(served))
    return RenderedPdf(pages, write, room, loaded, measure=lambda: layout_geometry(document))


def last_page_room(document: Any) -> float:
    """The share of the last page's text area below its last line (0.0 full, 1.0 empty); 0.0 if unknown.

    Fitting a brief to its pages uses it to decide whether a dropped paragraph might fit again (issue 13).
    It reads WeasyPrint's laid-out boxes, which are not public API: anything unexpected counts as full.
    """
    try:
        page = document.pages[-1]._page_box
        top, height = page.content_box_y(), page.height

        def bottom(box: Any) -> float:
            # The lowest content, not the lowest box: a block split over pages is as tall as its page.
            children = getattr(box, "children", None) or ()
            if children:
                return max(bottom(child) for child in children)
            return float(box.position_y + box.margin_height())

        content = [c for c in page.children if type(c).__name__ != "MarginBox"]
        used = max((bottom(c) for root in content for c in root.children), default=top) - top
        return max(0.0, min(1.0, 1.0 - used / height)) if height else 0.0
    except Exception:  # WeasyPrint's internals moved: never refill rather than fail
        return 0.0


_NOTE_ID = re.compile(r"note-(\d+)")


def layout_geometry(document: Any) -> Geometry | None:
    """`Geometry` of a laid-out document, or None where the layout holds what it cannot account for.

    Heights are border boxes (no margins), and a page's used height runs to its lowest line or leaf box,
    so an item's height is at most what it adds and a page's free room at least what is left: fitting
    uses both to show that a brief cannot fit (`briefs.compose.fit`). Heights are in the page's flow: an
    item set in N columns counts 1/N of its height, and the room at the foot of a region's shorter
    columns counts as room, 1/N of it (content put back fills those gaps before the columns grow).
    Out-of-flow boxes (absolute, fixed, running) take no room and are skipped; footnotes, or columns
    whose count is not a number, give None.
    """
    try:
        from weasyprint.formatting_structure import boxes

        # Where an item's height adds to the page: a block, or a table row, stacked in blocks, tables and row
        # groups of no set height all the way from the page. In a flex or grid container, a table cell or a
        # line, items sit side by side, and a box of set height does not grow: there an item counts 0.
        stacking = (boxes.BlockBox, boxes.TableBox, boxes.TableRowGroupBox)

        def grows(box: Any) -> bool:
            """Whether ``box`` is as tall as its content: no set height, no upper limit."""
            limit = box.style["max_height"]
            return box.style["height"] == "auto" and getattr(limit, "value", None) == float("inf")

        areas: list[float] = []
        frees: list[float] = []
        column_breaks: list[float] = []
        margin = header = 0.0
        items: dict[str, list[float]] = {}
        notes: dict[int, float] = {}
        for page in document.pages:
            page_box = page._page_box
            content = [c for c in page_box.children if type(c).__name__ != "MarginBox"]
            if len(content) > 1 and any(getattr(c, "children", None) for c in content[1:]):
                return None  # footnotes (or anything but the flow) on the page: its room is not the flow's
            top, height = page_box.content_box_y(), page_box.height
            room = breaks = 0.0

            def walk(
                box: Any, item: str | None, note: int | None, scale: float, top: float = top, stacked: bool = True
            ) -> float:
                """The lowest bottom under ``box``; records items' and notes' heights (times ``scale``) and room.

                ``stacked``: ``box`` sits in a block or row group, under the boxes before it.
                """
                nonlocal margin, header, room, breaks
                if box.style["position"] not in ("static", "relative"):  # absolute, fixed or running
                    return top
                element = getattr(box, "element", None)
                if element is not None and getattr(box, "element_tag", None) is not None:
                    adds = stacked and box.style["float"] == "none"
                    adds = adds and isinstance(box, (boxes.BlockBox, boxes.TableRowBox))
                    key = element.get("data-briefs-item")
                    if key is not None and key != item:
                        entry = items.setdefault(key, [0.0, 0.0, 0.0])
                        entry[0] += box.border_height() * scale if adds else 0.0
                        entry[2] += box.margin_height() * scale if adds else 0.0
                        item = key
                    found = _NOTE_ID.fullmatch(element.get("id") or "")
                    if found and int(found.group(1)) != note:
                        note = int(found.group(1))
                        if adds:  # a note beside others is not found: fitting then lays out, as before
                            notes[note] = notes.get(note, 0.0) + box.border_height() * scale
                margin = max(margin, box.margin_top or 0.0, box.margin_bottom or 0.0)
                if getattr(box, "is_header", False):
                    header = max(header, box.border_height())
                if type(box).__name__ == "LineBox":
                    if item is not None:
                        items[item][1] = max(items[item][1], box.height * scale)
                    return float(box.position_y + box.height)
                children = getattr(box, "children", None) or ()
                if not children:
                    return float(box.position_y + box.border_height())
                columns = [c for c in children if getattr(c, "is_column", False)]
                inside = stacked and isinstance(box, stacking) and grows(box)
                bottom = max(
                    (walk(c, item, note, scale, top, inside) for c in children if c not in columns), default=top
                )
                if columns:
                    count = box.style["column_count"]
                    if not isinstance(count, int):
                        raise ValueError("columns without a count")
                    n = max(count, len(columns))
                    feet = [walk(c, item, note, scale / n, top, inside) for c in columns]
                    region = max(feet)
                    room += scale * sum(region - foot for foot in feet) / n
                    breaks += scale * (n - 1) / n
                    bottom = max(bottom, region)
                if not grows(box):  # the flow goes on below the box, whatever its content: not below that
                    return float(box.position_y + box.border_height())
                return bottom

            lowest = max((walk(root, None, None, 1.0) for root in content), default=top)
            areas.append(float(height))
            frees.append(max(0.0, top + height - lowest) + room)
            column_breaks.append(breaks)
        # A column break, like a page break, can give back a margin as the text moves.
        frees = [free + breaks * margin for free, breaks in zip(frees, column_breaks, strict=True)]
        boxes = {k: (v[0], v[1], v[2]) for k, v in items.items()}
        return Geometry(tuple(areas), tuple(frees), boxes, notes, margin + header)
    except Exception:  # WeasyPrint's internals moved, or a layout this does not account for: fitting lays out
        log.debug("no layout geometry", exc_info=True)
        return None

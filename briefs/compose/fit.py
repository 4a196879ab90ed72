"""Fitting a brief to its audience's length: render, measure, drop the least important whole paragraph, repeat.

One (dataset, audience) group at a time: `render_group` renders every format asked for from one
selection, so the PDF and the Markdown brief hold the same items (the pipeline's `task.render_isolated`
runs it under the per-brief time limit). What a brief dropped to
fit is reported once per brief, in a reader's words: the section's heading and the paragraph's first words.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefs import __version__
from briefs.compose.changes import Changes
from briefs.compose.select import Brief, select
from briefs.data.audiences import TemplateDirs
from briefs.data.load import LoadedDataset
from briefs.data.model import Audience
from briefs.errors import BuildError, display_path
from briefs.formats.render import make_env, render, template_name

if TYPE_CHECKING:
    from briefs.formats.pdf import RenderedPdf

log = logging.getLogger(__name__)


@dataclass
class Rendered:
    """One group's outputs in memory, ready to write; a format in ``errors`` failed and is not written."""

    files: dict[str, bytes]
    pages: int | None = None
    dropped: list[str] = field(default_factory=list)  # what fitting left out, in a reader's words, in reading order
    errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0  # how long it took to render (orders the next build's briefs)
    drop_order: list[str] = field(default_factory=list)  # ``dropped`` in the order trimming dropped them
    notes: dict[str, str] = field(default_factory=dict)  # per format, what the build says of it: "2 pages as …"
    extra_dropped: dict[str, list[str]] = field(default_factory=dict)
    """Per format, what it leaves out beyond ``dropped``: the Word brief where LibreOffice lays it out over."""
    word_cut: list[str] = field(default_factory=list)
    """How LibreOffice laid the Word brief out, when it measured it: ``%layout=<its install>``,
    ``%pages=<n>`` and ``%drop=<key>`` for each item dropped beyond the brief's cut. Remembered with
    the cut, it spares the next build of the same inputs its LibreOffice runs (issue 27)."""
    heights: list[str] = field(default_factory=list)
    """How tall the layouts found each dropped item: ``<key>=<height>,<line>,<with margins>`` in CSS pixels
    (`Geometry.items`). Remembered with the cut, they let the next build of the same inputs show without a
    layout that the brief with one drop fewer cannot fit (issue 27)."""
    assets: dict[str, list[str]] = field(default_factory=dict)
    """Per format, the files its layouts loaded (fonts, stylesheets, images) that shaped it, relative to the
    template folder that held each: `base/fonts/LiberationSerif-Regular.ttf`. The PDF's always; the other
    formats' only under a page limit, where the layout chose their cut. Its stamp covers these, not every
    asset in the template folders (issue 24)."""


def context_for(brief: Brief, fmt: str) -> dict[str, Any]:
    """The variables every template sees."""
    return {
        "brief": brief,
        "info": brief.info,
        "audience": brief.audience,
        "sections": brief.sections,
        "notes": brief.notes,
        "fmt": fmt,
        "tool_version": __version__,
    }


class _KnownCutMissError(Exception):
    """A remembered cut was not confirmed (its message says why): trim from scratch."""


def _next_to_drop(brief: Brief, exclude: frozenset[str], what: str, limit: int, audience: Audience) -> str:
    """The least important item still in the brief, or a BuildError when nothing is left to drop."""
    candidates = [k for k in brief.droppable() if k not in exclude]
    if not candidates:
        raise BuildError(f"{what} with nothing left to drop; audience {audience.id!r} allows {limit} (overflow: trim)")
    return candidates[0]


def render_group(
    loaded: LoadedDataset,
    audience: Audience,
    dirs: TemplateDirs,
    formats: list[str],
    variant: str | None,
    changes: Changes | None = None,
    known_cut: tuple[str, ...] | None = None,
) -> Rendered:
    """Render one dataset for one audience in ``formats``, trimming to its limits if it allows.

    Trimming finds the shortest run of drops, least important first, that fits. It drops at once what
    the first layout says it takes and confirms (issue 27: two or three layouts, not one per drop; see
    `ESTIMATE_CUT`, and `cannot_fit` for when a layout's room shows one drop fewer cannot fit). A
    ``known_cut`` opening with `PREVIOUS_CUT` is the cut of the brief before an edit: the search starts
    there. Any other ``known_cut`` (the drops the last trimming of the same inputs made, see `trim_key`)
    saves the search (issue 8). It is taken only if it is still the start of the priority order, fits,
    and does not fit without its last drop: one or two layouts, and the same items as the search (pages
    and words never grow when an item is dropped). Otherwise the search runs.

    Trimming never depends on which formats were asked for, so a PDF and a Markdown brief built at
    different times from the same inputs hold the same items (issue 4).
    """
    if known_cut and known_cut[0] == PREVIOUS_CUT:
        # The cut of an earlier edition (other inputs): where the search starts, not a result (issue 27).
        start = [k for k in known_cut[1:] if not k.startswith(NOT_DROPS)] if audience.overflow == "trim" else []
        return _render_group(loaded, audience, dirs, formats, variant, changes, None, start)
    if known_cut and audience.overflow == "trim":
        try:
            return _render_group(loaded, audience, dirs, formats, variant, changes, known_cut)
        except _KnownCutMissError as miss:
            log.info("%s/%s: the remembered cut %s; trimming from scratch", loaded.dataset.id, audience.id, miss)
    return _render_group(loaded, audience, dirs, formats, variant, changes, None)


PREVIOUS_CUT = "~"
"""Opens a ``known_cut`` that was found for other inputs (the brief before an edit): a place to start from."""
NOT_DROPS = ("+", "@", "%", "^")
"""How a remembered cut marks what is not a drop: an item the refill put back, a file the layout loaded,
how LibreOffice laid out the Word brief, how tall a dropped item is (`Rendered.heights`)."""


MARKS = "briefs_marks"
"""The template variable that asks the `mark` macro to mark each item's opening tag (`data-briefs-item`)."""
_MARK = re.compile(r'(<[A-Za-z][^<>]*?) data-briefs-item="[^"<>]*"')


def unmarked(html: str) -> str:
    """The laid-out HTML as it is written out: without the items' marks (only ever inside a tag)."""
    return _MARK.sub(r"\1", html)


PROVE_OVER = True
"""Fitting skips laying out a brief its last layout shows cannot fit (`cannot_fit` in `_render_group`); False
lays every candidate out, as before (tests compare the two)."""
ESTIMATE_CUT = True
"""Fitting drops at once what the first layout says it takes (`_render_group`'s ``jump``), then confirms;
False searches one drop per layout, as before issue 27 (tests compare the two)."""
TAKEN_MORE = 1.05
"""Dropping items takes out ~3-9% more than their boxes and notes (a part's heading goes with its last
paragraph, the gaps between items): `_height_over`'s estimate counts this much more (measured on the shipped
briefs). Only the estimate: what fits is decided by layouts and `cannot_fit`."""
REFILL_ROOM = 0.15
"""A fitted brief whose last page is at least this share empty tries to take dropped items back."""
REFILL_TRIES = 6
"""At most this many dropped items (the most important) are tried again: one layout each."""


def _render_group(
    loaded: LoadedDataset,
    audience: Audience,
    dirs: TemplateDirs,
    formats: list[str],
    variant: str | None,
    changes: Changes | None,
    known_cut: tuple[str, ...] | None,
    start: list[str] | None = None,
) -> Rendered:
    """`render_group` from no cut, or from ``known_cut`` (raising _KnownCutMissError unless it is confirmed).

    ``start`` (the drops of the brief's previous cut, for other inputs) is where the search begins: of it,
    the part that is still the priority order; then one drop fewer while the brief still fits, or more
    drops until it does. Pages and words never grow when an item is dropped, so this ends at the search's
    own result, the shortest run of drops that fits, in about two layouts after a small edit instead of
    one per drop. The refill then runs as after a search.
    """
    from briefs.formats.pdf import render_pdf

    dataset = loaded.dataset
    stem = audience.template or audience.id
    trim = audience.overflow == "trim"
    word_limit, page_limit = audience.limits.words, audience.limits.pages
    html_env, md_env = make_env(dirs, "html"), make_env(dirs, "md")
    dropped: list[str] = []
    out: dict[str, bytes] = {}
    errors: dict[str, str] = {}
    pages: int | None = None

    def brief_without(items: Iterable[str]) -> Brief:
        return select(dataset, audience, frozenset(items), changes)

    def items_without(items: Iterable[str]) -> Brief:
        """`brief_without` for reading which items it holds: its notes are not formatted."""
        return select(dataset, audience, frozenset(items), changes, formatted=False)

    def render_md(brief: Brief) -> tuple[str, int]:
        text = render(md_env, template_name(dirs, stem, "md"), dirs, context_for(brief, "md"))
        return text, len(text.split())

    def render_html(brief: Brief) -> str:
        """The HTML that is laid out: items marked (`MARK`), so the layout says how tall each is."""
        context = context_for(brief, "html") | {MARKS: True}
        return render(html_env, template_name(dirs, stem, "html"), dirs, context)

    fetched: dict[Path, None] = {}  # what every layout fetched, in order
    heights: dict[str, tuple[float, float, float]] = {}  # each marked item's `Geometry.items` in the layouts so far
    note_heights: dict[str, float] = {}  # each note's least height in the layouts so far, by its text

    def cannot_fit(candidate: Brief, base: Brief, base_pdf: RenderedPdf | None) -> bool:
        """Whether the layout of ``base``, which fits, shows that ``candidate`` (``base`` with items put back) cannot.

        Issue 27: the search's last question, whether the brief fits with one drop fewer, was a layout of its
        own. The items put back need at least their height in an earlier layout (less a line each, for the
        width of their note numbers); the notes of ``base`` that ``candidate`` words otherwise (a source's
        full note becoming short) give back at most their whole height. If that is more than the room
        ``base`` leaves on its pages and on pages it does not use, plus what each page break can give back
        (`Geometry.slack`), the candidate cannot fit, with no layout. Anything the bound does not cover
        answers False, and the candidate is laid out: a brief whose date or abridgement note would change,
        an item put back that labels others (a key judgment), a note the layout did not find.
        """
        if page_limit is None or base_pdf is None or not PROVE_OVER:
            return False
        geometry = base_pdf.geometry
        if geometry is None or candidate.abridged != base.abridged or candidate.date != base.date:
            return False
        before = set(base.item_keys())
        shown = candidate.item_keys()
        back = [k for k in shown if k not in before]
        if not back or not before.issubset(shown):
            return False
        labelling = {i.key for s in candidate.sections if s.kind == "judgments" for i in s.items}
        if labelling.intersection(back):
            return False
        gain = sum(max(0.0, heights[k][0] - heights[k][1]) for k in back if k in heights)
        gone, added = _notes_changed([n.html for n in base.notes], [n.html for n in candidate.notes])
        for i in gone:
            if base.notes[i].n not in geometry.notes:
                return False
            gain -= geometry.notes[base.notes[i].n]
        gain += sum(note_heights.get(text, 0.0) * count for text, count in added.items())  # notes it adds
        room = geometry.free + (page_limit - base_pdf.pages) * geometry.page + (page_limit - 1) * geometry.slack
        return gain > room

    layouts: dict[str, RenderedPdf] = {}  # one layout per distinct HTML: the start's step back lays out twice

    def lay_out(html_text: str, shown: Brief) -> RenderedPdf:
        if html_text in layouts:
            return layouts[html_text]
        pdf = render_pdf(
            html_text,
            base_url=dirs.shipped,
            asset_roots=tuple(dirs.searched),
            identity=f"{dataset.id}/{audience.id}",
            variant=variant,
            template_file=template_path(dirs, template_name(dirs, stem, "html")),
        )
        fetched.update(dict.fromkeys(pdf.loaded))
        geometry = pdf.geometry if trim and page_limit is not None and PROVE_OVER else None
        if geometry is not None:
            for key, (height, line, outer) in geometry.items.items():
                seen = heights.get(key)  # the least seen: a note number's width can move a line
                heights[key] = (min(height, seen[0]), max(line, seen[1]), outer) if seen else (height, line, outer)
            for note in shown.notes:
                if note.n in geometry.notes:  # a note's height is its text's: the same in any brief that words it so
                    note_heights[note.html] = min(geometry.notes[note.n], note_heights.get(note.html, math.inf))
        if len(layouts) > 1:  # only the last two are wanted again (the loop after a step back); ~0.1-1 MB each
            del layouts[next(iter(layouts))]
        layouts[html_text] = pdf
        return pdf

    # A remembered cut: the greedy drops in order, then "+key" for each item the refill put back, then
    # "@name" for each file the layout that found it loaded, then "%…" for how LibreOffice laid out its Word brief.
    remembered = [k for k in known_cut or () if not k.startswith(NOT_DROPS)]
    word_known = [k for k in known_cut or () if k.startswith("%")]  # the Word brief's layout, for these inputs
    restored = [k[1:] for k in known_cut or () if k.startswith("+")]
    known_assets = [k[1:] for k in known_cut or () if k.startswith("@")]
    # The cut was found for these very inputs (its key is their hash: data, audience, every template
    # file, options and "What changed"), so it is the search's result. A build that writes no PDF takes
    # it without laying the brief out (issue 27): a Word or HTML rebuild costs no WeasyPrint layout.
    trusted = known_cut is not None and "pdf" not in formats and page_limit is not None and bool(known_assets)
    cut: Brief | None = None  # the remembered cut's brief, when its confirmation selected it
    for entry in known_cut or ():
        # Measured for these very inputs (the cut's key covers them), so they are this build's heights too.
        parsed = _measured(entry) if entry.startswith("^") else None
        if parsed is not None:
            heights[parsed[0]] = parsed[1]
    if known_cut is not None:
        if word_limit is None and page_limit is None:
            raise _KnownCutMissError("has no limit to cut for")
        # The search would have dropped exactly these, in this order. A trusted cut was found for these very
        # inputs, so their order is the one it was found in: only another cut's needs the check (a selection
        # per drop, ~20 ms each, a Word rebuild's largest cost after pandoc; issue 27).
        for i, item in enumerate(remembered if not trusted else ()):
            candidates = [k for k in items_without(remembered[:i]).droppable() if k not in remembered[:i]]
            if not candidates or candidates[0] != item:
                raise _KnownCutMissError(f"is not the priority order at {item!r}")
        if remembered and not trusted:
            shorter = brief_without(remembered[:-1])
            fits_shorter = word_limit is None or render_md(shorter)[1] <= word_limit
            if fits_shorter and page_limit is not None:
                settled = False  # whether the brief's own layout already shows one drop fewer cannot fit
                if not restored:
                    # The brief's own layout first (the loop below takes it again): where it runs over, or leaves
                    # too little room for the last drop, the brief with one drop fewer needs no layout. (With
                    # items the refill put back, the brief is not the greedy cut: its layout would be one more.)
                    cut = brief_without(remembered)
                    cut_pdf = lay_out(render_html(cut), cut)
                    settled = cut_pdf.pages > page_limit or cannot_fit(shorter, cut, cut_pdf)
                fits_shorter = not settled and lay_out(render_html(shorter), shorter).pages <= page_limit
            if fits_shorter:
                raise _KnownCutMissError("fits without its last drop")
        dropped = list(remembered)
    brief = cut if cut is not None else brief_without([k for k in dropped if k not in restored])

    def drop_one(what: str, limit: int) -> None:
        nonlocal brief
        if known_cut is not None:
            raise _KnownCutMissError(f"no longer fits ({what})")
        drop = _next_to_drop(brief, frozenset(dropped), what, limit, audience)
        log.debug("%s/%s: %s > %d, dropping %s", dataset.id, audience.id, what, limit, drop)
        dropped.append(drop)
        brief = brief_without(dropped)

    def measure(candidate: Brief) -> tuple[bool, RenderedPdf | None]:
        """Whether ``candidate`` is within the limits, with its layout when one was made."""
        if word_limit is not None and render_md(candidate)[1] > word_limit:
            return False, None
        if page_limit is None:
            return True, None
        pdf = lay_out(render_html(candidate), candidate)
        return pdf.pages <= page_limit, pdf

    def over_limit(what: str, key: str, limit: int) -> Rendered:
        """`overflow: fail` and over a limit: the whole brief fails, every format asked for, none written.

        A brief's formats are one edition: writing the Markdown while its PDF fails would leave the two
        disagreeing (a new Markdown beside last edition's PDF), so each failed target keeps its last good file.
        """
        file = template_path(dirs, f"audiences/{audience.id}.yaml")
        message = (
            f"{what}; audience {audience.id!r} allows {limit} ({file}, limits.{key}; overflow: fail): "
            "no format of the brief is written, its last good ones are kept; "
            "set `overflow: trim` there to drop low-priority items"
        )
        return Rendered({}, pages, [], {fmt: message for fmt in formats})

    def step_back(keep: int) -> None:
        """If the brief fits, put its last drops back while it still fits, keeping at least ``keep`` of them.

        A start from an estimate (the previous cut, or the first layout's) may have dropped more than the
        search would: pages never grow when an item is dropped, so the first run that fits without its
        last drop is what the search would have stopped at.
        """
        nonlocal brief
        if len(dropped) <= keep:
            return
        fits, base_pdf = measure(brief)
        while fits and len(dropped) > keep:
            shorter = brief_without(dropped[:-1])
            if cannot_fit(shorter, brief, base_pdf):
                log.debug("%s/%s: %s stays out: the layout has no room for it", dataset.id, audience.id, dropped[-1])
                return
            fits, shorter_pdf = measure(shorter)
            if fits:
                log.debug("%s/%s: keeping %s after all", dataset.id, audience.id, dropped[-1])
                dropped.pop()
                brief, base_pdf = shorter, shorter_pdf

    if start and trim and known_cut is None:
        walked = brief
        for item in start:  # the part of the previous cut that is still the priority order
            candidates = [k for k in walked.droppable() if k not in dropped]
            if not candidates or candidates[0] != item:
                break
            dropped.append(item)
            walked = items_without(dropped)
        if dropped:
            brief = brief_without(dropped)
        step_back(0)  # the edit made room: the search would have stopped sooner
        log.debug("%s/%s: from %d of the previous cut's %d drops", dataset.id, audience.id, len(dropped), len(start))

    # Every limit is measured whatever formats were asked for: over one, the brief fails in all of them.
    if "md" in formats or word_limit is not None:
        md_text, words = render_md(brief)
        while word_limit is not None and words > word_limit:
            if not trim:
                return over_limit(f"{words} words in the Markdown brief", "words", word_limit)
            drop_one(f"{words} words", word_limit)
            md_text, words = render_md(brief)

    jumped = bool(start) and bool(dropped)  # a start taken from the previous cut is already an estimate

    def jump(pdf: RenderedPdf, limit: int) -> bool:
        """From the first layout over the page limit, drop at once what it takes to fit, as estimated.

        The layout says how far over the brief runs and how tall each item and note is (`_height_over`);
        where it cannot (a template that does not mark its items), the Markdown says how many words each
        next drop takes out (~10 ms each, a layout ~300 ms). The drops are the search's own, in its order;
        then, as from a previous cut, one drop fewer while the brief still fits, or the search goes on from
        there: the same result in two or three layouts, not one per drop.
        """
        nonlocal brief
        base, trial, candidate = len(dropped), list(dropped), brief
        over = _height_over(pdf, limit, brief, heights)  # the layout's own heights: each drop's, its notes' too
        guess = items_without  # its notes as numbered parts: no citeproc for a guess
        if over is None:  # no geometry (a template without marks, say): from the words each drop takes out
            used = pdf.pages - pdf.room  # pages of content, the last one in part
            words = render_md(brief)[1]
            need = words * (1 - limit / used) if used > limit else 0.0

            def over(candidate: Brief) -> bool:
                return words - render_md(candidate)[1] < need  # the Markdown counts its formatted notes

            guess = brief_without
        while over(candidate):
            options = [k for k in candidate.droppable() if k not in trial]
            if not options:
                break
            trial.append(options[0])
            candidate = guess(trial)
        if candidate is not brief and guess is not brief_without:
            candidate = brief_without(trial)
        if len(trial) - base < 2:
            return False  # one drop: the search's next step anyway
        for key in trial[base:]:
            log.debug("%s/%s: %d pages > %d, dropping %s (estimated)", dataset.id, audience.id, pdf.pages, limit, key)
        dropped[:] = trial
        brief = candidate
        step_back(base + 1)
        return True

    needs_layout = "pdf" in formats or (page_limit is not None and not trusted)
    fitted: RenderedPdf | None = None
    if "html" in formats or needs_layout:
        while True:
            html_text = render_html(brief)
            if not needs_layout:
                break
            pdf = lay_out(html_text, brief)
            pages = pdf.pages
            if page_limit is None or pdf.pages <= page_limit:
                fitted = pdf
                break
            if not trim:
                return over_limit(f"{pdf.pages} pages", "pages", page_limit)
            if not jumped and known_cut is None and ESTIMATE_CUT:
                jumped = True
                if jump(pdf, page_limit):
                    continue  # the estimated cut, laid out again (a layout kept: no second pass)
            drop_one(f"{pdf.pages} pages", page_limit)

    # Refill (issue 13): dropping whole paragraphs in priority order can overshoot, leaving a page
    # part-empty where a later, smaller item would fit. Try each dropped item again, most important
    # first, and keep it where the brief still fits. A remembered cut replays the same decisions.
    if fitted is not None and dropped:
        log.debug("%s/%s: %.0f%% of the last page is empty", dataset.id, audience.id, 100 * fitted.room)
    if trim and dropped and known_cut is None and (fitted is None or fitted.room >= REFILL_ROOM):
        for key in reversed(list(dropped)[-REFILL_TRIES:]):
            trial = [k for k in dropped if k != key and k not in restored]
            candidate = brief_without(trial)
            if key not in candidate.item_keys():
                continue  # still out: it leans on something that is out
            if cannot_fit(candidate, brief, fitted):
                log.debug("%s/%s: %s stays out: the layout has no room for it", dataset.id, audience.id, key)
                continue
            ok, candidate_pdf = measure(candidate)
            if ok:
                restored.append(key)
                brief = candidate
                fitted = candidate_pdf
                log.debug("%s/%s: %s fits again", dataset.id, audience.id, key)
                if fitted is not None and fitted.room < REFILL_ROOM:
                    break
    if restored and fitted is None and needs_layout:  # a word limit alone: the refill made no layout
        fitted = lay_out(render_html(brief), brief)
    if "html" in formats:
        # The loop's HTML is the brief's unless the refill put items back since.
        out["html"] = unmarked(render_html(brief) if restored else html_text).encode("utf-8")
    if fitted is not None:
        pages = fitted.pages
        if "pdf" in formats:
            out["pdf"] = fitted.data  # written only now, for the layout that fits
    notes: dict[str, str] = {}
    extra: dict[str, list[str]] = {}
    word: Brief | None = None  # the Word brief's items: the brief's, or fewer where LibreOffice lays it out over
    word_cut: list[str] = []

    def word_brief(md_text: str) -> None:
        """The DOCX, from the brief's cut; where LibreOffice lays it out over the page limit, cut further (issue 26).

        The PDF's cut is made by WeasyPrint's layout; a word processor sets the same text in other lines.
        Where LibreOffice is installed, the DOCX is measured as it lays it out and, like the PDF, loses
        its least important items until it fits (`overflow: trim`) or fails (`overflow: fail`). Where it
        is not, the DOCX holds the PDF's cut and the build says it is unmeasured.
        """
        nonlocal word
        from briefs.formats.docx import render_docx
        from briefs.formats.docx_layout import docx_pages, libreoffice, libreoffice_version

        def make(candidate: Brief, text: str) -> bytes:
            return render_docx(text, audience=audience, info=dataset.info, date=candidate.date, dirs=dirs)

        word = brief
        program = libreoffice() if page_limit is not None else None
        if page_limit is None or program is None:
            if page_limit is not None:
                notes["docx"] = "not measured: LibreOffice is not installed, so it holds the PDF's cut"
            out["docx"] = make(brief, md_text)
            return
        layout = libreoffice_version(program)

        def verdict(count: int, beyond: list[str]) -> None:
            """What the build says of the Word brief, and what is remembered of it with the cut."""
            notes["docx"] = f"{count} page{'s' if count != 1 else ''} as LibreOffice lays it out"
            word_cut[:] = [f"%layout={layout}", f"%pages={count}", *(f"%drop={k}" for k in beyond)]

        cut = [k for k in brief.dropped]
        known = _known_word_cut(word_known, layout)
        if known is not None:
            # This LibreOffice measured the Word brief of these very inputs (the cut's key covers data,
            # audience, templates and options): its verdict holds, with no conversion (issue 27).
            count, beyond = known
            cut += beyond
            word = brief_without(cut) if beyond else brief
            out["docx"] = make(word, render_md(word)[0] if beyond else md_text)
            verdict(count, beyond)
            return
        data = make(brief, md_text)
        while (count := docx_pages(data, program)) > page_limit:
            what = f"{count} pages as LibreOffice lays the Word brief out"
            if not trim:
                errors["docx"] = (
                    f"{what}; audience {audience.id!r} allows {page_limit} "
                    "(overflow: fail; set `overflow: trim` in its audience file to drop low-priority items)"
                )
                return
            try:
                cut.append(_next_to_drop(word, frozenset(cut), what, page_limit, audience))
            except BuildError as exc:
                errors["docx"] = str(exc)
                return
            log.debug("%s/%s: %s > %d, dropping %s", dataset.id, audience.id, what, page_limit, cut[-1])
            word = brief_without(cut)
            data = make(word, render_md(word)[0])
        out["docx"] = data
        verdict(count, cut[len(brief.dropped) :])  # what the Word brief drops beyond the brief's cut

    if "md" in formats or "docx" in formats:
        # The Word brief is converted from the same Markdown text: the same items, notes and numbers (issue 15).
        md_text, words = render_md(brief)  # the brief may have lost items to the page limit since
        if "md" in formats:
            out["md"] = md_text.encode("utf-8")
        if "docx" in formats:
            word_brief(md_text)
    order = [*dropped, *(f"+{k}" for k in restored)]
    told = left_out(dataset, audience, changes, brief)
    if word is not None and word is not brief:
        extra["docx"] = [d for d in left_out(dataset, audience, changes, word) if d not in told]
    names = known_assets if trusted else asset_names(dirs, fetched)
    assets = {fmt: names if fmt == "pdf" or page_limit is not None else [] for fmt in formats}
    measured = [_measure_entry(k, heights[k]) for k in dropped if k in heights]
    return Rendered(
        out,
        pages,
        told,
        errors,
        drop_order=order,
        notes=notes,
        extra_dropped=extra,
        assets=assets,
        word_cut=word_cut,
        heights=measured,
    )


def _measure_entry(key: str, measured: tuple[float, float, float]) -> str:
    """`Rendered.heights`'s entry for one item: its height rounded down, its line up (what `cannot_fit` credits
    an item is never more than it measured)."""
    height, line, outer = measured
    return f"{key}={math.floor(height * 100) / 100},{math.ceil(line * 100) / 100},{round(outer, 2)}"


def _measured(entry: str) -> tuple[str, tuple[float, float, float]] | None:
    """A remembered ``^<key>=<height>,<line>,<with margins>``, or None if it is not one."""
    key, sep, values = entry[1:].rpartition("=")
    try:
        height, line, outer = (float(v) for v in values.split(","))
    except ValueError:
        return None
    if not sep or not key or not all(math.isfinite(v) and v >= 0 for v in (height, line, outer)):
        return None
    return key, (height, line, outer)


def _height_over(
    pdf: RenderedPdf, limit: int, brief: Brief, heights: dict[str, tuple[float, float, float]]
) -> Callable[[Brief], bool] | None:
    """From ``brief``'s layout, a guess whether a brief with fewer items still runs over ``limit`` pages, or None.

    The guess (issue 27) is the layout's content height less what the candidate leaves out: each item's
    height and the notes it no longer has, plus a note of average height for each note worded anew (a
    source's short note becoming its first, full one) and a line for the abridgement note; against the
    first ``limit`` pages' text areas less the gap this layout leaves at each page break. It is only an
    estimate: the drops it picks are the search's own, and fitting confirms them by laying the brief out.
    """
    geometry = pdf.geometry if heights else None  # no heights: no marks, so no walk of the layout either
    if geometry is None or not geometry.areas:
        return None
    pages = len(geometry.areas)
    gap = (geometry.free - geometry.frees[-1]) / (pages - 1) if pages > 1 else 0.0
    areas = list(geometry.areas[:limit]) + [geometry.page] * max(0, limit - pages)
    room = sum(areas) - gap * (limit - 1)
    shown = set(brief.item_keys())
    note_height = sum(geometry.notes.values()) / len(geometry.notes) if geometry.notes else 0.0
    line = max(entry[1] for entry in heights.values())
    worded = _note_forms(brief)

    def over(candidate: Brief) -> bool:
        left_out = shown.difference(candidate.item_keys())
        taken = sum(heights[k][2] for k in left_out if k in heights)
        gone, added = _notes_changed(worded, _note_forms(candidate))
        taken += sum(geometry.notes.get(brief.notes[i].n, 0.0) for i in gone)
        height = geometry.used - taken * TAKEN_MORE + note_height * sum(added.values())
        if candidate.abridged and not brief.abridged:
            height += line
        return height > room

    return over


def _notes_changed(before: list[Any], after: list[Any]) -> tuple[list[int], Counter[Any]]:
    """Which notes of ``before`` (by index) ``after`` does not word the same, and what ``after`` adds.

    Notes are compared by what they read as (their text, or `_note_forms`), as many times as each occurs."""
    left = Counter(after)
    gone = []
    for i, note in enumerate(before):
        if left[note] > 0:
            left[note] -= 1
        else:
            gone.append(i)
    return gone, +left


def _note_forms(brief: Brief) -> list[tuple[tuple[str, tuple[int, ...], bool], ...]]:
    """Each note of ``brief`` as what its wording follows from: its sources and paragraphs, each in full (its
    source's first citation) or short. Needs no formatted text, so an estimate can compare unformatted briefs."""
    seen: set[str] = set()
    forms = []
    for note in brief.notes:
        form = []
        for part in note.parts:
            form.append((part.source.id, part.paragraphs, part.source.id in seen))
            seen.add(part.source.id)
        forms.append(tuple(form))
    return forms


def _known_word_cut(entries: list[str], layout: str) -> tuple[int, list[str]] | None:
    """A remembered Word layout (`Rendered.word_cut`) if this LibreOffice made it: its pages and extra drops."""
    found = {"layout": [], "pages": [], "drop": []}  # type: dict[str, list[str]]
    for entry in entries:
        name, sep, value = entry[1:].partition("=")
        if sep and name in found:
            found[name].append(value)
    if found["layout"] != [layout] or len(found["pages"]) != 1 or not found["pages"][0].isdigit():
        return None
    return int(found["pages"][0]), found["drop"]


def asset_names(dirs: TemplateDirs, paths: Iterable[Path]) -> list[str]:
    """Loaded files by their place in the template folders (``base/fonts/…``), found again through the search."""
    roots = [d.resolve() for d in dirs.searched]
    names: list[str] = []
    for path in paths:
        root = next((r for r in roots if path.is_relative_to(r)), None)
        if root is not None:
            names.append(path.relative_to(root).as_posix())
    return sorted(set(names))


def left_out(dataset: Any, audience: Audience, changes: Changes | None, fitted: Brief) -> list[str]:
    """What the fitted brief leaves out of the untrimmed one, in reading order and a reader's words.

    Counts the paragraphs that went with one they lean on, so the report is what a reader misses.
    """
    if not fitted.dropped:
        return []
    whole = select(dataset, audience, frozenset(), changes, formatted=False)  # its items' words, not its notes
    shown = set(fitted.item_keys())
    return [whole.describe(key) for key in whole.item_keys() if key not in shown]


def template_path(dirs: TemplateDirs, name: str) -> str:
    """The file a template name loads (the user's folder first), as shown in messages."""
    found = next((d / name for d in dirs.searched if (d / name).is_file()), dirs.shipped / name)
    return display_path(found)

"""Issue 27: what a first build on a machine (an empty cache folder) pays for, made cheaper.

citeproc-py looked a CSL macro up by XPath each time an element called one, half its time for a brief's
notes; `briefs.compose.citations._KnownMacros` takes the same elements from a table built once per style.
It also keeps what each element of the style renders (`calls_variable`) and finds (`xpath_search`), the
sources are parsed once per formatter, and an item finds its reference once (`_Item`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("citeproc", reason="citeproc-py is not installed")

from citeproc import CitationItem
from citeproc.model import CitationStylesElement

from briefs.compose import citations
from briefs.compose.citations import DEFAULT_STYLE, Citations, _Style
from briefs.data.load import load_datasets
from tests.conftest import SHIPPED_DATA, RunCli
from tests.test_citations import BYLINED, FPRI, UNBYLINED


def test_the_macro_table_holds_what_the_xpath_search_finds() -> None:
    style = _Style(DEFAULT_STYLE)
    root = style.root
    names = {m.get("name") for m in root.iterchildren(f"{{{citations._CSL_NS}}}macro")}
    assert len(names) > 20  # the shipped Chicago style calls many
    for node in root.iter():
        name = node.get("macro")
        if name:
            searched = root.xpath_search(f"cs:macro[@name='{name}'][1]")[0]
            assert node.get_macro(name) is searched
    # A name the style lacks fails as citeproc-py's own lookup does.
    with pytest.raises(IndexError):
        root.get_macro("no-such-macro")


def test_notes_need_no_xpath_search_for_macros(monkeypatch: pytest.MonkeyPatch) -> None:
    searches: list[str] = []
    original = CitationStylesElement.xpath_search

    def spy(self: CitationStylesElement, expression: str) -> object:
        searches.append(expression)
        return original(self, expression)

    cites = [(BYLINED.id, 3), (UNBYLINED.id, None), (FPRI.id, 2), (BYLINED.id, 4)]
    monkeypatch.setattr(citations, "cache_dir", lambda: None)
    monkeypatch.setattr(CitationStylesElement, "xpath_search", spy)
    notes = Citations([BYLINED, UNBYLINED, FPRI]).notes(cites)
    assert not [e for e in searches if e.startswith("cs:macro")]

    # The same text as with citeproc-py's own lookup, each macro searched for by XPath.
    def searched(self: citations._KnownMacros, name: str) -> object:
        return super(citations._KnownMacros, self).get_macro(name)  # type: ignore[misc]

    monkeypatch.setattr(citations._KnownMacros, "get_macro", searched)
    searches.clear()
    again = Citations([BYLINED, UNBYLINED, FPRI]).notes(cites)
    assert [e for e in searches if e.startswith("cs:macro")]
    assert [n.text for n in again] == [n.text for n in notes]
    assert notes[-1].short and not notes[0].short


# Fitting from the layout's heights: every audience at page limits other than its own, so that the cut falls
# elsewhere in the priority order, against the search that drops one item per layout.
GRID = [("principal", 3), ("congress", 3), ("public", 3), ("public", 5)]  # desk at 3: 161 layouts for the search


def _fit(audience_id: str, pages: int, *, search: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[object, int]:
    import briefs.compose.fit as fit
    import briefs.formats.pdf as pdf
    from briefs.data.audiences import TemplateDirs
    from briefs.data.load import load_audience, load_dataset
    from tests.conftest import SHIPPED_TEMPLATES

    loaded, _ = load_dataset(SHIPPED_DATA / "kazakhstan-2022")
    found, _ = load_audience(SHIPPED_TEMPLATES / "audiences" / f"{audience_id}.yaml")
    assert loaded is not None and found is not None
    audience = found.audience.model_copy(
        update={"limits": found.audience.limits.model_copy(update={"pages": pages}), "overflow": "trim"}
    )
    layouts: list[int] = []
    real = pdf.render_pdf

    def counted(*args: object, **kwargs: object) -> object:
        layouts.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(pdf, "render_pdf", counted)
        patch.setattr(fit, "PROVE_OVER", not search)
        patch.setattr(fit, "ESTIMATE_CUT", not search)
        rendered = fit.render_group(loaded, audience, TemplateDirs(SHIPPED_TEMPLATES), ["pdf", "md", "html"], None)
    assert not rendered.errors, rendered.errors
    return rendered, len(layouts)


@pytest.mark.slow
@pytest.mark.parametrize(("audience", "pages"), GRID)
def test_fitting_from_the_layout_ends_where_the_search_does(
    audience: str, pages: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The estimate from the first layout's heights picks the drops, and `cannot_fit` spares the layout that
    only shows a brief with one drop fewer runs over: the same cut and the same bytes as one drop per layout."""
    ours, ours_layouts = _fit(audience, pages, search=False, monkeypatch=monkeypatch)
    searched, searched_layouts = _fit(audience, pages, search=True, monkeypatch=monkeypatch)
    assert ours.drop_order == searched.drop_order  # type: ignore[attr-defined]
    assert ours.files == searched.files  # type: ignore[attr-defined]
    assert ours_layouts <= searched_layouts
    print(f"{audience} at {pages} pages: {ours_layouts} layouts, the search {searched_layouts}")


def test_the_html_written_out_has_no_marks(tmp_path: Path, run_cli: RunCli) -> None:
    """The marks fitting lays out with (`data-briefs-item`) are never in the HTML a reader gets."""
    code, _, stderr = run_cli(
        "--data", str(SHIPPED_DATA), "--audience", "congress", "--format", "html", "--out", tmp_path
    )
    assert code == 0, stderr
    html = (tmp_path / "kazakhstan-2022" / "congress.html").read_text(encoding="utf-8")
    assert "data-briefs-item" not in html and "<p>" in html


@pytest.mark.slow
def test_a_template_without_marks_fits_to_the_same_brief(monkeypatch: pytest.MonkeyPatch) -> None:
    """A designer's template that does not call `m.mark` gives fitting no heights: it estimates from words
    and confirms with layouts, as before, and ends at the same cut and bytes."""
    import briefs.compose.fit as fit

    marked, marked_layouts = _fit("congress", 2, search=False, monkeypatch=monkeypatch)
    monkeypatch.setattr(fit, "MARKS", "no_such_variable")  # the macro sees no request to mark
    plain, plain_layouts = _fit("congress", 2, search=False, monkeypatch=monkeypatch)
    assert plain.drop_order == marked.drop_order  # type: ignore[attr-defined]
    assert plain.files == marked.files  # type: ignore[attr-defined]
    assert marked_layouts == 2 < plain_layouts, (marked_layouts, plain_layouts)


def _geometry(html: str) -> object:
    from briefs.formats.pdf import render_pdf
    from tests.conftest import SHIPPED_TEMPLATES

    page = "@page { size: 400px 300px; margin: 50px } body { margin: 0; font: 10px/12px serif } p, ol { margin: 0 }"
    page = f"<style>{page}</style>"
    pdf = render_pdf(page + html, base_url=SHIPPED_TEMPLATES, asset_roots=(SHIPPED_TEMPLATES,), identity="test")
    return pdf.geometry


def test_geometry_reads_item_heights_room_and_columns() -> None:
    one_line = '<p data-briefs-item="a">One line.</p>'
    two_lines = '<p data-briefs-item="b">Two<br>lines.</p>'
    geometry = _geometry(one_line + two_lines + '<ol><li id="note-1">A note.</li></ol>')
    assert geometry is not None
    assert geometry.areas == (200.0,)  # 300px less two 50px margins (CSS pixels, WeasyPrint's unit)
    assert geometry.items["a"][:2] == (12.0, 12.0) and geometry.items["b"][0] == 24.0
    assert geometry.notes == {1: 12.0}
    assert geometry.frees == (200.0 - 48.0,)  # three lines used
    # In two columns an item takes half its height from the page, and a short column's foot is room.
    columns = f'<div style="columns: 2; column-gap: 0">{one_line}{two_lines}</div>'
    geometry = _geometry(columns)
    assert geometry is not None
    assert geometry.items["a"][0] == 6.0 and geometry.items["b"][0] == 12.0
    used = 200.0 - geometry.frees[0]
    assert 18.0 <= used <= 24.0  # 36px of lines in two columns: 24px tall, 12px of room at a foot
    # A box of set height takes that height, though what it holds runs over its foot.
    spilt = '<div style="height: 12px"><p>One<br>two<br>three lines.</p></div>'
    assert _geometry(spilt).frees == (188.0,)  # type: ignore[union-attr]
    # An absolutely placed box takes no room; footnotes are not accounted for.
    fixed = '<div style="position: absolute; bottom: 0">Stamp</div>'
    assert _geometry(one_line + fixed).frees == (188.0,)  # type: ignore[union-attr]
    assert _geometry('<p>Text<span style="float: footnote">A footnote.</span></p>') is None


@pytest.mark.slow
def test_a_forced_rebuild_confirms_the_cut_in_one_layout(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heights of the dropped items are remembered with the cut: a rebuild of the same inputs lays the cut
    out, and its room shows the brief with one drop fewer cannot fit. Garbled heights are ignored (two layouts)."""
    import json

    import briefs.pipeline.seen_cuts as seen_cuts
    from tests.test_cuts import _counting_layouts

    monkeypatch.setattr(seen_cuts, "ENABLED", False)
    out = tmp_path / "out"
    argv = ["--data", str(SHIPPED_DATA), "--audience", "congress", "--format", "pdf", "--jobs", "1", "--out", str(out)]
    code, _, stderr = run_cli(*argv)
    assert code == 0, stderr
    name = out / "kazakhstan-2022" / "congress.pdf"
    first = name.read_bytes()
    state_file = out / ".briefs" / "state.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    memo = state["cuts"]["kazakhstan-2022/congress"]
    last = [k for k in memo["drop_order"] if not k.startswith("+")][-1]
    assert any(h.startswith(f"{last}=") for h in memo["heights"]), memo
    layouts = _counting_layouts(monkeypatch)
    code, _, stderr = run_cli(*argv, "--force", "-v")
    assert code == 0 and ", dropping " not in stderr, stderr
    assert len(layouts) == 1 and name.read_bytes() == first
    for garbled in (["x"], [f"{last}=a,b,c"], [f"{last}=-5,0,0"], [f"{last}=nan,0,0"], [f"={1e9},0,0"]):
        state = json.loads(state_file.read_text(encoding="utf-8"))
        state["cuts"]["kazakhstan-2022/congress"]["heights"] = garbled
        state_file.write_text(json.dumps(state), encoding="utf-8")
        layouts.clear()
        code, _, stderr = run_cli(*argv, "--force")
        assert code == 0 and len(layouts) == 2 and name.read_bytes() == first, (garbled, len(layouts))


def test_items_side_by_side_add_no_height() -> None:
    """Cards in a flex row, a float or a table cell do not stack: putting one back need not make the page
    longer, so the geometry credits such an item nothing (the bound then lays the brief out)."""
    card = '<div data-briefs-item="{0}" style="{1}">Card<br>two lines.</div>'
    row = f'<div style="display: flex">{card.format("a", "")}{card.format("b", "")}</div>'
    floated = card.format("c", "float: left; width: 100px")
    cell = '<table><tr><td><p data-briefs-item="d">In a cell.</p></td></tr></table>'
    boxed = f'<div style="height: 60px"><div>{card.format("f", "")}</div></div>'
    rows = '<table><tbody><tr data-briefs-item="g"><td>A row.</td></tr></tbody></table>'
    geometry = _geometry(row + floated + cell + boxed + rows + card.format("e", ""))
    assert geometry is not None
    heights = {k: v[0] for k, v in geometry.items.items()}
    assert heights == {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0, "f": 0.0, "g": heights["g"], "e": 24.0}
    assert heights["g"] >= 12.0  # a table row stacks under the rows before it


def _every_form(citations_of: type[Citations]) -> list[str]:
    """Every note form (full and short, with and without a paragraph) and entry of the shipped sources."""
    texts: list[str] = []
    for loaded in load_datasets(SHIPPED_DATA):
        sources = loaded.dataset.sources
        ids = [s.id for s in sources]
        formatter = citations_of(sources)
        cites = [(i, None) for i in ids] * 2 + [(i, 3) for i in ids] * 2
        texts += [f"{n.text}|{n.html}|{n.markdown}" for n in formatter.notes(cites)]
        texts += [f"{e.text}|{e.html}|{e.markdown}" for e in formatter.bibliography(ids)]
    return texts


def test_what_is_kept_renders_what_citeproc_alone_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(citations, "cache_dir", lambda: None)
    kept = _every_form(Citations)
    assert len(kept) > 100
    # citeproc-py's own: every lookup made again each time, the sources parsed for every form.
    for name in ("get_macro", "calls_variable", "xpath_search"):
        monkeypatch.delattr(citations._KnownMacros, name)
    monkeypatch.setattr(citations, "_Item", CitationItem)

    class Parsing(Citations):
        def _bibliography(self) -> object:
            self._parsed = None
            return super()._bibliography()

    assert _every_form(Parsing) == kept


def test_the_kept_answers_are_citeproc_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(citations, "cache_dir", lambda: None)
    formatter = Citations(load_datasets(SHIPPED_DATA)[0].dataset.sources)
    formatter.notes([(s.id, 2) for s in formatter._sources.values()])
    root = formatter._style.root
    assert len(root._briefs_calls) > 50 and len(root._briefs_found) > 50
    # The locale file citeproc-py falls back to is read with the same classes, and its searches are kept too.
    (system,) = [locale for locale in root.locales if locale.getroottree().getroot() is not root]
    assert system.style is root and len(system._briefs_found) > 5
    for tree in (root, system):
        for element, answer in tree._briefs_calls.items():
            assert answer is type(element).__mro__[2].calls_variable(element)  # the class citeproc-py made it
        for (element, expression), elements in tree._briefs_found.items():
            assert list(elements) == element.xpath(expression, namespaces=element.nsmap)
    # A list handed out is the caller's own: changing it changes nothing kept.
    layout = root.xpath_search("./cs:citation/cs:layout")
    layout.clear()
    assert root.xpath_search("./cs:citation/cs:layout")

"""Issue 27: what a first build on a machine (an empty cache folder) pays for, made cheaper.

citeproc-py looked a CSL macro up by XPath each time an element called one, half its time for a brief's
notes; `briefs.compose.citations._KnownMacros` takes the same elements from a table built once per style.
"""

from __future__ import annotations

import pytest

pytest.importorskip("citeproc", reason="citeproc-py is not installed")

from citeproc.model import CitationStylesElement

from briefs.compose import citations
from briefs.compose.citations import DEFAULT_STYLE, Citations, _Style
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

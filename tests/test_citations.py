"""Notes and bibliography in Chicago notes-bibliography style (issue 13): `briefs.compose.citations`."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("citeproc", reason="citeproc-py is not installed")

from briefs.compose.citations import Citations, csl_name, is_organisation


@dataclass(frozen=True)
class Src:
    """A source with the attributes `CitableSource` names."""

    id: str
    kind: str
    title: str
    publisher: str
    authors: list[str] = field(default_factory=list)
    container: str | None = None
    date: str | None = None
    url: str | None = None
    accessed: dt.date | None = None


BYLINED = Src(
    "rferl-2024",
    "news",
    "Kazakhstan Weighs Its Options as Russia Presses",
    "Radio Free Europe/Radio Liberty",
    ["Joanna Lillis"],
    "Radio Free Europe/Radio Liberty",
    "2024-05-09",
    "https://www.rferl.org/a/kazakhstan-options/1.html",
)
UNBYLINED = Src(
    "astana-2024",
    "news",
    "Astana hosts C5+1 summit",
    "Astana Times LLP",
    [],
    "The Astana Times",
    "2024-06-12",
    "https://astanatimes.com/2024/06/summit/",
)
FPRI = Src(
    "fpri-2022",
    "article",
    "Central Asia's Balancing Act",
    "Foreign Policy Research Institute",
    [],
    None,
    "2022-03",
    "https://www.fpri.org/article/2022/03/balancing/",
)
UN = Src(
    "un-2023",
    "official",
    "Secretary-General Welcomes Agreement on Grain Exports",
    "United Nations",
    [],
    "United Nations Meetings Coverage and Press Releases",
    "2023-01-02",
    "https://press.un.org/en/2023/sgsm1.doc.htm",
)
UNDATED = Src(
    "iea-caspian", "report", "Energy Outlook for the Caspian", "International Energy Agency", ["Thomas de Waal"]
)
HOSTILE = Src(
    "evil",
    "web",
    'Bad <script>alert(1)</script> *x* [x](javascript:alert(1)) | "q"\nnext',
    "Evil | Org",
    ["Mal <b>Lory</b>"],
    None,
    "2020",
    "javascript:alert(1)",
)
SOURCES = [BYLINED, UNBYLINED, FPRI, UN, UNDATED, HOSTILE]


@pytest.fixture(scope="module")
def cit() -> Citations:
    return Citations(SOURCES)


def test_full_then_short_note_for_a_bylined_news_article(cit: Citations) -> None:
    first, again = cit.notes([("rferl-2024", None), ("rferl-2024", 12)])
    assert first.text == (
        "Joanna Lillis, “Kazakhstan Weighs Its Options as Russia Presses,” Radio Free Europe/Radio Liberty,"
        " May 9, 2024, https://www.rferl.org/a/kazakhstan-options/1.html."
    )
    assert not first.short and again.short
    assert again.text == "Lillis, “Kazakhstan Weighs Its Options as Russia Presses,” para. 12."
    assert "<i>Radio Free Europe/Radio Liberty</i>" in first.html
    assert "*Radio Free Europe/Radio Liberty*" in first.markdown


def test_unbylined_news_starts_with_the_title_and_is_listed_under_the_paper(cit: Citations) -> None:
    first, again = cit.notes([("astana-2024", 3), ("astana-2024", None)])
    assert first.text == (
        "“Astana Hosts C5+1 Summit,” The Astana Times, June 12, 2024, para. 3, https://astanatimes.com/2024/06/summit/."
    )
    # CMOS 18 14.97 as the CSL style encodes it: the paper stands for the missing author in short notes.
    assert again.text == "The Astana Times, “Astana Hosts C5+1 Summit.”"
    (entry,) = cit.bibliography(["astana-2024"])
    assert (
        entry.text
        == "The Astana Times. “Astana Hosts C5+1 Summit.” June 12, 2024. https://astanatimes.com/2024/06/summit/."
    )
    assert entry.markdown.startswith("*The Astana Times*. “Astana Hosts")


def test_think_tank_commentary_without_author_and_with_a_month_only_date(cit: Citations) -> None:
    first, again = cit.notes([("fpri-2022", None), ("fpri-2022", 4)])
    assert first.text == (
        "“Central Asia’s Balancing Act,” Foreign Policy Research Institute, March 2022,"
        " https://www.fpri.org/article/2022/03/balancing/."
    )
    assert again.text == "Foreign Policy Research Institute, “Central Asia’s Balancing Act,” para. 4."


def test_un_press_release_names_site_and_owner(cit: Citations) -> None:
    (note,) = cit.notes([("un-2023", None)])
    assert note.text == (
        "“Secretary-General Welcomes Agreement on Grain Exports,” United Nations Meetings Coverage and Press Releases,"
        " United Nations, January 2, 2023, https://press.un.org/en/2023/sgsm1.doc.htm."
    )


def test_source_without_date_or_url(cit: Citations) -> None:
    first, again = cit.notes([("iea-caspian", None), ("iea-caspian", 2)])
    assert first.text == "Thomas de Waal, Energy Outlook for the Caspian (International Energy Agency, n.d.)."
    assert first.html == "Thomas de Waal, <i>Energy Outlook for the Caspian</i> (International Energy Agency, n.d.)."
    assert again.text == "de Waal, Energy Outlook for the Caspian, para. 2."


def test_bibliography_is_sorted_and_formatted(cit: Citations) -> None:
    entries = cit.bibliography(["un-2023", "rferl-2024", "iea-caspian", "fpri-2022", "astana-2024", "rferl-2024"])
    assert [e.source_id for e in entries] == ["astana-2024", "iea-caspian", "fpri-2022", "rferl-2024", "un-2023"]
    assert cit.bibliography(reversed([e.source_id for e in entries])) == entries  # order is the style's, not ours
    by_id = {e.source_id: e for e in entries}
    assert by_id["rferl-2024"].text == (
        "Lillis, Joanna. “Kazakhstan Weighs Its Options as Russia Presses.” Radio Free Europe/Radio Liberty,"
        " May 9, 2024. https://www.rferl.org/a/kazakhstan-options/1.html."
    )
    assert by_id["fpri-2022"].text == (
        "Foreign Policy Research Institute. “Central Asia’s Balancing Act.” March 2022."
        " https://www.fpri.org/article/2022/03/balancing/."
    )
    assert by_id["rferl-2024"].html.endswith(
        '<a href="https://www.rferl.org/a/kazakhstan-options/1.html">https://www.rferl.org/a/kazakhstan-options/1.html</a>.'
    )
    assert by_id["rferl-2024"].markdown.endswith("<https://www.rferl.org/a/kazakhstan-options/1.html>.")


def test_hostile_data_stays_inert(cit: Citations) -> None:
    notes = cit.notes([("evil", 1), ("evil", None)])
    (entry,) = cit.bibliography(["evil"])
    for out in [*notes, entry]:
        assert "<script" not in out.html and "<b>" not in out.html
        assert "&lt;script&gt;" in out.html
        assert "href" not in out.html  # javascript: is never a link
        md = out.markdown
        assert "\n" not in md and "\n" not in out.text
        for active in ("<", "[", "]", "*", "|"):  # every one escaped: none without a backslash before it
            assert not re.search(r"(?<!\\)" + re.escape(active), md), active
        # (the title is headline-cased: its "*x*" is a word, "*X*")
        assert "\\<script\\>" in md and "\\*X\\*" in md and "\\|" in md
        assert '"' not in out.text  # straight quotes in data come out curly
    assert "‘Q’" in notes[0].text  # a word in quotes, headline-cased


def test_no_straight_double_quotes_and_deterministic(cit: Citations) -> None:
    cites = [(s.id, n) for n, s in enumerate(SOURCES)] + [(s.id, None) for s in SOURCES]
    once = cit.notes(cites)
    twice = Citations(SOURCES).notes(cites)
    assert once == twice
    assert all('"' not in n.text and '"' not in n.markdown for n in once)


def test_unknown_source_is_an_error(cit: Citations) -> None:
    with pytest.raises(KeyError, match="nope"):
        cit.notes([("nope", None)])


def test_names_persons_and_organisations() -> None:
    assert csl_name("Joanna Lillis") == {"given": "Joanna", "family": "Lillis"}
    assert csl_name("Thomas de Waal") == {"given": "Thomas", "family": "de Waal"}
    for org in ("United Nations", "Foreign Policy Research Institute", "OSCE", "Reuters", "Ministry of Energy"):
        assert is_organisation(org), org
    assert csl_name("Reuters") == {"literal": "Reuters"}


def test_one_hundred_notes_are_fast() -> None:
    cites = [(SOURCES[n % 5].id, n) for n in range(100)]
    start = time.perf_counter()
    notes = Citations(SOURCES).notes(cites)
    elapsed = time.perf_counter() - start
    assert len(notes) == 100
    print(f"100 notes in {elapsed:.2f} s")  # shown with -s; the report quotes it
    assert elapsed < 20


def test_chicago_punctuation_around_quoted_titles() -> None:
    sources = [
        Src("q", "news", "Is Russia Losing Central Asia?", "FA", ["Ann Lee"], "Foreign Affairs", "2023"),
        Src("u", "news", "Relations with the U.S.", "TD", ["Ann Lee"], "The Diplomat", "2023"),
        Src("p", "news", "A title ending in a period.", "TD", ["Bob Ray"], "The Diplomat", "2023"),
    ]
    cit = Citations(sources)
    notes = cit.notes([("q", None), ("u", None), ("p", None), ("q", 5)])
    assert [n.text for n in notes] == [
        "Ann Lee, “Is Russia Losing Central Asia?” Foreign Affairs, 2023.",  # no comma after "?" (CMOS 6.119)
        "Ann Lee, “Relations with the U.S.,” The Diplomat, 2023.",  # an abbreviation keeps its period
        "Bob Ray, “A Title Ending in a Period,” The Diplomat, 2023.",  # the title's own period gives way
        "Lee, “Is Russia Losing Central Asia?” para. 5.",
    ]
    assert [e.text for e in cit.bibliography(["u", "q"])] == [
        "Lee, Ann. “Is Russia Losing Central Asia?” Foreign Affairs, 2023.",
        "Lee, Ann. “Relations with the U.S.” The Diplomat, 2023.",
    ]


def test_short_note_drops_the_subtitle() -> None:
    report = Src(
        "ch",
        "report",
        "Kazakhstan's Multivector Policy: Balancing Russia, China and the West",
        "Chatham House",
        ["Kate Mallinson"],
        None,
        "2019-06",
        "https://www.chathamhouse.org/2019/06/multivector",
    )
    first, again = Citations([report]).notes([("ch", None), ("ch", 7)])
    assert first.markdown == (
        "Kate Mallinson, *Kazakhstan’s Multivector Policy: Balancing Russia, China and the West*"
        " (Chatham House, 2019), <https://www.chathamhouse.org/2019/06/multivector>."
    )
    assert again.markdown == "Mallinson, *Kazakhstan’s Multivector Policy*, para. 7."


def test_odd_urls_stay_one_link() -> None:
    odd = Src("odd", "web", "Odd", "Org", [], None, "2024", 'https://example.org/a)"<x>|*')
    (note,) = Citations([odd]).notes([("odd", None)])
    assert note.markdown == "“Odd,” Org, 2024, <https://example.org/a%29%22%3Cx%3E%7C*>."
    href, shown = "https://example.org/a)&quot;&lt;x&gt;|*", 'https://example.org/a)"&lt;x&gt;|*'
    assert note.html == f'“Odd,” Org, 2024, <a href="{href}">{shown}</a>.'


def test_another_style_can_be_given(tmp_path: Path) -> None:
    style = tmp_path / "titles.csl"
    style.write_text(
        '<style xmlns="http://purl.org/net/xbiblio/csl" class="note" version="1.0">'
        "<info><title>Titles</title><id>titles</id><updated>2024-01-01T00:00:00+00:00</updated></info>"
        '<citation><layout suffix="."><text variable="title" font-style="italic"/></layout></citation>'
        '<bibliography><layout><text variable="title"/></layout></bibliography></style>',
        encoding="utf-8",
    )
    (note,) = Citations([BYLINED], style=style).notes([("rferl-2024", None)])
    assert note.html == "<i>Kazakhstan Weighs Its Options as Russia Presses</i>."

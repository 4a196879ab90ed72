"""Issue 23: house style enforced. US by default: US spelling and date order found by `check` in the data's
prose (file, line and key for each text), periods and commas set inside closing quotes by the renderer."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from briefs.data.house_style import british_spellings, us_style_problems
from briefs.data.load import load_datasets
from briefs.errors import InputError
from tests.conftest import MINI, RunCli


def _key_point(mini_data: Path, text: str, extra: str = "") -> Path:
    """The mini dataset with this key point (and these extra `info` lines), from its shipped text."""
    path = mini_data / "mini" / "dataset.yaml"
    body = textwrap.dedent(MINI["dataset.yaml"]).replace("The river rose 4 meters, the report says.", text)
    path.write_text(body.replace("info:\n", f"info:\n{extra}", 1))
    return path


def test_british_spelling_and_day_month_dates_are_refused_with_their_us_forms(mini_data: Path) -> None:
    path = _key_point(mini_data, "The report says officials criticised the defence plan of 6 January 2022.")
    with pytest.raises(InputError) as info:
        load_datasets(mini_data)
    (problem,) = [str(p) for p in info.value.problems]
    assert problem.startswith(f"{path}:9:7: info.key_points[0].claims[0].text: expected US house style"), problem
    assert "'criticised' (US spelling: 'criticized')" in problem
    assert "'defence' (US spelling: 'defense')" in problem
    assert "'6 January 2022' (US date order: 'January 6, 2022')" in problem


def test_quoted_words_keep_their_spelling_and_gb_style_keeps_british(mini_data: Path) -> None:
    _key_point(mini_data, "The report says the river “rose in colour” on January 6.")
    assert load_datasets(mini_data)
    _key_point(mini_data, "The report says officials criticised the plan of 6 January.", "  house_style: gb\n")
    assert load_datasets(mini_data)


def test_the_word_list_is_the_maintained_one() -> None:
    """codespell's dictionary, hundreds of entries, not a handful written here."""
    spellings = british_spellings()
    assert len(spellings) > 400 and spellings["recognise"] == "recognize" and spellings["favour"] == "favor"
    assert us_style_problems("The U.S. Congress met on May 5, 2022.") == []


def test_periods_and_commas_go_inside_closing_quotes(mini_data: Path, run_cli: RunCli, tmp_path: Path) -> None:
    _key_point(mini_data, 'The report calls it "a flood of the century", and says the river "rose".')
    out = tmp_path / "out"
    code, _, err = run_cli("--data", mini_data, "--out", out, "-q", "--format", "md", "--audience", "public")
    assert code == 0, err
    md = (out / "mini" / "public.md").read_text(encoding="utf-8")
    assert "“a flood of the century,” and says the river “rose.”" in md, md
    # A British-style office keeps its punctuation outside.
    _key_point(mini_data, 'The report calls it "a flood of the century", the report says.', "  house_style: gb\n")
    code, _, err = run_cli("--data", mini_data, "--out", out, "-q", "--format", "md", "--audience", "public")
    assert code == 0, err
    assert "“a flood of the century”, the report says" in (out / "mini" / "public.md").read_text(encoding="utf-8")


def test_inflected_british_forms_are_found_too() -> None:
    """codespell's list lacks plurals and past tenses ('rumours', 'levelled'); breame's list has them."""
    problems = us_style_problems("Despite rumours the sanctions, already levelled, followed mobilisation.")
    assert "'rumours' (US spelling: 'rumors')" in problems, problems
    assert "'levelled' (US spelling: 'leveled')" in problems, problems
    assert "'mobilisation' (US spelling: 'mobilization')" in problems, problems
    assert len(british_spellings()) > 1500


def test_both_word_lists_agree_where_they_overlap() -> None:
    """Read one over the other, so a word both know must be respelled the same by each."""
    from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

    spellings = british_spellings()
    disagree = {gb: us for gb, us in BRITISH_ENGLISH_SPELLINGS.items() if gb.isalpha() and spellings.get(gb, us) != us}
    assert not disagree


def test_a_word_the_house_keeps_is_accepted_and_only_that_word(mini_data: Path) -> None:
    _key_point(mini_data, "The report says a catalogue was criticised.", "  house_spellings: [Catalogue]\n")
    with pytest.raises(InputError) as info:
        load_datasets(mini_data)
    (problem,) = [str(p) for p in info.value.problems]
    assert "'criticised'" in problem and "atalogue" not in problem, problem
    _key_point(mini_data, "The report says a catalogue was criticized.", "  house_spellings: [Catalogue]\n")
    assert load_datasets(mini_data)
    _key_point(mini_data, "The report says a catalogue was criticized.")
    with pytest.raises(InputError, match="'catalogue' \\(US spelling: 'catalog'\\)"):
        load_datasets(mini_data)


def test_american_words_the_lists_respell_are_not_refused() -> None:
    """breame maps 'buses' to 'busses', 'tonnes' to 'tons' and 'gauge' to 'gage'; codespell 'dialogue' to
    'dialog'. Each is American as written (or another word), so `check` lets it be."""
    text = "The buses carried tonnes of grain; a gauge of the dialogue, said an archaeologist."
    assert us_style_problems(text) == []


def test_a_source_note_a_brief_shows_is_checked(mini_data: Path) -> None:
    """A source's `text_note` heads the corrections annex: the office's words, in its style."""
    path = mini_data / "mini" / "sources.yaml"
    body = path.read_text(encoding="utf-8")
    assert "  - id: report\n" in body
    path.write_text(body.replace("  - id: report\n", "  - id: report\n    text_note: A copy with misspelt names.\n"))
    with pytest.raises(InputError, match=r"sources\[0\]\.text_note: expected US house style.*'misspelt'"):
        load_datasets(mini_data)


def test_the_shipped_briefs_read_in_us_spelling(shipped_build: Path) -> None:
    """Every word a reader sees, the templates' own included, outside quotes, links and source titles."""
    spellings = british_spellings()
    found = []
    for path in sorted(shipped_build.glob("*/*.md")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"<[^>]+>|https?://\S+|“[^”]*”|‘[^’]*’|\*[^*\n]+\*, [A-Z][a-z]+ \d", " ", text)
        for n, line in enumerate(text.splitlines(), 1):
            found += [f"{path.name}:{n}: {w}" for w in re.findall(r"[A-Za-z]+", line) if w.lower() in spellings]
            found += [f"{path.name}:{n}: {m}" for m in re.findall(r"\S+, \(", line)]  # CMOS 6.97
    assert not found, found


def test_a_comma_before_an_opening_parenthesis_is_found() -> None:
    """'on March 2, 2022, (ES-11/1)': the comma a date takes goes after the parenthesis (CMOS 6.97)."""
    problems = us_style_problems("Kazakhstan abstained on March 2, 2022, (ES-11/1) and later.")
    assert problems == ["'2022, (' (no comma before an opening parenthesis: '2022 (')"]
    assert us_style_problems("Kazakhstan abstained on March 2, 2022 (ES-11/1), and later.") == []
    # and a US date keeps the comma between day and year, also where a folded YAML line put a break
    assert us_style_problems("signed on March 23 2019, days later") == ["'March 23 2019' (US date: 'March 23, 2019')"]


def test_a_title_named_in_running_text_is_cased_as_in_the_notes(shipped_build: Path) -> None:
    """Congress's closing line named the article 'How Russia’s Invasion of Ukraine has Affected…' (the data's
    casing) while its notes, headline-cased, said 'Has Affected': one title, one form (CMOS 8.159)."""
    md = (shipped_build / "kazakhstan-2022" / "congress.md").read_text(encoding="utf-8")
    named = re.search(r"This brief summarizes FPRI’s analysis, “([^”]+),”", md)
    assert named, md[-600:]
    noted = re.search(r"^\[\^\d+\]: “(How Russia[^”]+),” Foreign Policy Research Institute", md, re.M)
    assert noted and named.group(1) == noted.group(1) == "How Russia’s Invasion of Ukraine Has Affected Kazakh Politics"

"""Content checks for the Kazakhstan 2022 dataset, independent of the loader.

The YAML is read with plain ``yaml.safe_load`` so these tests hold the data to its promises even
while ``briefs.data.load`` changes: no translation error repeated, every substantive paragraph of the
article cited, every citation resolvable, and only the article's own recommendation marked stated.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DATASET = Path(__file__).resolve().parent.parent / "data" / "kazakhstan-2022"
ARTICLE = "fpri-2022"
NON_SUBSTANTIVE = {1, 2, 6, 12, 18, 26}
STATED_CALL = "should consider steps to address"

# Wrong spellings of the machine translation. "Nursultan" is wrong for the capital (Nur-Sultan)
# but right as Nazarbayev's first name, hence the lookahead.
WRONG_SPELLINGS = {
    "Tigray": r"Tigray",
    "Tleuberdi": r"Tleuberdi",
    "Tokaev": r"Tokaev",
    "Nursultan (the capital)": r"\bNursultan\b(?!\s+Nazarbayev)",
    "Are you considering": r"Are you considering",
}
# The only places a wrong spelling may appear: verbatim quotes of the source, known aliases and the
# recorded misspellings (which no template shows).
# Distortions the fact-check (docs/fact-check.md) found and fixed: each reading goes beyond what the
# article or the later sources say, so none may come back in any field a brief can show.
DISTORTIONS = {
    "the commentator called pro-Tokayev": r"\bpro-Tokayev\b",
    "Lavrov's remark made a joint response": r"(Russia|Lavrov) raised a joint",
    "hedge dropped from 'appeared to make … more dependent'": r"intervention left (Kazakhstan|it) more dependent",
    "hedge dropped from 'appears ready to adapt'": r"Tokayev is ready to adapt",
    "a label no source gives (NATO)": r"\bNATO\b",
}
VERBATIM_FIELDS = re.compile(
    r"^corrections\[\d+\]\.source_says$|^actors\[\d+\]\.(aliases|misspellings)\[\d+\]$|^sections\[\d+\]\.source_heading$"
)


@pytest.fixture(scope="module")
def data() -> dict:
    merged: dict = {}
    for path in sorted(DATASET.glob("*.yaml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(content, dict), f"{path.name} is not a mapping"
        for key, value in content.items():
            assert key not in merged, f"top-level key {key!r} appears in more than one file"
            merged[key] = value
    return merged


@pytest.fixture(scope="module")
def article_paragraphs() -> list[str]:
    text = (DATASET / "sources" / f"{ARTICLE}.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def _strings(obj, path=""):
    """Every string in the data with its dotted path."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _strings(value, f"{path}[{i}]")
    elif isinstance(obj, str):
        yield path, obj


def _cites(obj):
    """Every cite (and correction location) anywhere in the data."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "cites":
                yield from value
            elif key == "location" and isinstance(value, str):
                yield value
            else:
                yield from _cites(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _cites(value)


def _article(data: dict) -> dict:
    return next(s for s in data["sources"] if s["id"] == ARTICLE)


def test_every_file_starts_with_a_comment():
    for path in DATASET.glob("*.yaml"):
        assert path.read_text(encoding="utf-8").startswith("#"), f"{path.name} lacks its header comment"


def test_article_paragraphs_match_the_text(data, article_paragraphs):
    paragraphs = _article(data)["paragraphs"]
    assert [p["n"] for p in paragraphs] == list(range(1, len(article_paragraphs) + 1))
    assert {p["n"] for p in paragraphs if p.get("substantive", True) is False} == NON_SUBSTANTIVE


@pytest.mark.parametrize("label", sorted(WRONG_SPELLINGS))
def test_translation_errors_are_not_repeated(data, label):
    pattern = re.compile(WRONG_SPELLINGS[label])
    offenders = [
        f"{path}: {text[:70]}"
        for path, text in _strings(data)
        if not VERBATIM_FIELDS.match(path) and pattern.search(text)
    ]
    assert not offenders, f"{label!r} repeated outside verbatim fields:\n" + "\n".join(offenders)


@pytest.mark.parametrize("label", sorted(DISTORTIONS))
def test_fact_check_distortions_stay_fixed(data, label):
    pattern = re.compile(DISTORTIONS[label])
    offenders = [
        f"{path}: {text[:70]}"
        for path, text in _strings(data)
        if not VERBATIM_FIELDS.match(path) and pattern.search(text)
    ]
    assert not offenders, f"{label} is back:\n" + "\n".join(offenders)


def test_every_substantive_paragraph_is_cited(data):
    substantive = {p["n"] for p in _article(data)["paragraphs"] if p.get("substantive", True)}
    cited = {int(c.split("#")[1]) for c in _cites(data) if c.startswith(f"{ARTICLE}#")}
    assert substantive - cited == set(), f"uncited paragraphs: {sorted(substantive - cited)}"


def test_every_cite_resolves(data):
    paragraphs = {s["id"]: {p["n"] for p in s.get("paragraphs", [])} for s in data["sources"]}
    for cite in _cites(data):
        source, _, n = cite.partition("#")
        assert source in paragraphs, f"cite {cite!r} names no source"
        if n:
            assert int(n) in paragraphs[source], f"cite {cite!r} names no paragraph"


def test_ids_resolve(data):
    ids = {kind: {r["id"] for r in data.get(kind, [])} for kind in data if isinstance(data[kind], list)}
    every_id = set().union(*ids.values())
    for kind, records in data.items():
        if isinstance(records, list):
            record_ids = [r["id"] for r in records]
            assert len(record_ids) == len(set(record_ids)), f"duplicate ids in {kind}"
    for event in data["events"]:
        assert set(event.get("actors", [])) <= ids["actors"], event["id"]
    for kind in ("events", "sections", "judgments"):
        for record in data[kind]:
            assert record.get("theme") in ids["themes"] | {None}, record["id"]
    for quote in data["quotes"]:
        assert quote["speaker"] in ids["actors"], quote["id"]
    for update in data["updates"]:
        for ref in update.get("about", []):
            kind, _, rid = ref.rpartition(":")  # `kind:id` or a plain id (docs/data-format.md)
            assert rid in (ids[kind] if kind else every_id), (update["id"], ref)


def test_corrections_quote_the_source_verbatim(data, article_paragraphs):
    for correction in data["corrections"]:
        source, _, n = correction["location"].partition("#")
        assert source == ARTICLE
        assert correction["source_says"] in article_paragraphs[int(n) - 1], correction["id"]


def test_only_the_articles_own_recommendation_is_stated(data, article_paragraphs):
    assert STATED_CALL in article_paragraphs[17 - 1], "paragraph 17 no longer holds the article's call"
    recommendations = data["recommendations"]
    based_on_call = {r["id"] for r in recommendations if STATED_CALL in r["basis"]}
    stated = {r["id"] for r in recommendations if r["origin"] == "stated"}
    assert based_on_call, "no recommendation rests on the article's call in paragraph 17"
    assert stated == based_on_call
    assert len(stated) == 1, f"the article makes one recommendation, not {sorted(stated)}"
    for r in recommendations:
        if r["origin"] == "stated":
            assert f"{ARTICLE}#17" in r["cites"], r["id"]
        else:
            assert r["origin"] == "derived", r["id"]
            assert r["basis"].startswith("Derived"), f"{r['id']}: a derived basis must say so"
            assert not re.search(r"\bthe article (says|recommends|urges)\b", r["text"], re.I), r["id"]


TROOP_COUNT_SOURCES = {"ap-2022-01-15", "scmp-3163278", "qazaqtv-16550"}
"""The reports that give the CSTO force's size; the article says only "thousands"."""


def _cited_texts(obj, path=""):
    """Every string of a record or claim that has `cites`, with its dotted path and those cites."""
    if isinstance(obj, dict):
        cites = {c.partition("#")[0] for c in obj.get("cites", [])}
        for key, value in obj.items():
            if isinstance(value, str) and cites:
                yield f"{path}.{key}", value, cites
            else:
                yield from _cited_texts(value, f"{path}.{key}" if path else str(key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _cited_texts(value, f"{path}[{i}]")


def test_a_troop_count_only_from_the_source_that_gives_it(data):
    """The article says only "thousands": a count of 2,000 appears only where a report giving it is cited.

    The summary and the bottom line, which have no notes of their own, may restate it (issue 22).
    """
    seen = 0
    for path, text, cites in _cited_texts(data):
        if re.search(r"\b2,000\b", text) and not path.startswith("sources"):
            seen += 1
            assert cites & TROOP_COUNT_SOURCES, path
    assert seen, "no cited text gives the CSTO force's size"
    for path, text in _strings(data):
        if re.search(r"\b2,000\b", text) and path.startswith("info."):
            assert path in ("info.summary", "info.bluf") or path.startswith("info.key_points"), path


def test_judgments_say_whose_they_are_and_why_so_sure(data):
    """ICD 203: whose judgment, a basis that says why, and no more than moderate confidence on one source."""
    for judgment in data["judgments"]:
        assert judgment.get("basis"), judgment["id"]
        assert judgment["by"] in ("source", "analyst"), judgment["id"]
        if judgment["by"] == "analyst":
            assert judgment["text"].startswith("We assess"), judgment["id"]
            assert judgment["basis"].startswith("Not stated by the article"), judgment["id"]
        sources = {c.split("#")[0] for c in judgment["cites"]}
        if judgment["confidence"] == "high":
            assert len(sources) > 1, judgment["id"]
        if "likelihood" in judgment:
            assert judgment["likelihood"] in judgment["text"], judgment["id"]
        # Forecasts are worded as forecasts, never as certainties.
        assert not re.search(r"\b(will not|will never|none will)\b", judgment["text"], re.I), judgment["id"]


def test_recommendation_bases_cite_the_paragraphs_they_name(data):
    for r in data["recommendations"]:
        named = set()
        for group in re.findall(r"paragraphs? ((?:\d+(?:, | and )?)+)", r["basis"]):
            named |= {int(n) for n in re.findall(r"\d+", group)}
        cited = {int(c.split("#")[1]) for c in r["cites"] if c.startswith(f"{ARTICLE}#")}
        assert named <= cited, f"{r['id']}: basis names paragraphs {sorted(named - cited)} it does not cite"


def test_updated_figures_cite_the_article_only_for_its_own_numbers(data, article_paragraphs):
    """A figure an update revises may cite the article only where the article gives that number."""
    updated = {ref.rpartition(":")[2] for u in data["updates"] for ref in u.get("about", [])}
    for figure in data["figures"]:
        if figure["id"] not in updated:
            continue
        paragraphs = [int(c.split("#")[1]) for c in figure["cites"] if c.startswith(f"{ARTICLE}#")]
        number = f"{abs(figure['value']):g}"  # the article prints a fall as "fell 10.6%"
        for n in paragraphs:
            assert number in article_paragraphs[n - 1], f"{figure['id']}: {number} is not in paragraph {n}"


@pytest.fixture(scope="module")
def desk_brief(shipped_build) -> str:
    """The desk brief in Markdown, built from the shipped data and templates (the session's build)."""
    return (shipped_build / "kazakhstan-2022" / "desk.md").read_text(encoding="utf-8")


def test_desk_brief_cites_every_substantive_paragraph(data, desk_brief):
    # Notes number paragraphs as the original does (issue 23): `original`, where the data gives it.
    substantive = {p.get("original", p["n"]) for p in _article(data)["paragraphs"] if p.get("substantive", True)}
    cited = set()
    for note in re.findall(r"^\[\^\d+\]: (.*)$", desk_brief, re.M):
        for part in note.split("; "):  # one note per citation point lists its sources with semicolons
            if "Kazakh Politics" in part and (found := re.search(r"paras?\. (\d+(?:, \d+)*)", part)):
                cited |= {int(n) for n in found.group(1).split(", ")}
    assert substantive - cited == set(), f"paragraphs without a note in the desk brief: {sorted(substantive - cited)}"


def test_desk_brief_repeats_no_translation_error(desk_brief):
    """Outside the corrections table (which quotes the source), no known error of the source appears."""
    body = re.sub(r"^## Annex [A-Z]: Corrections to the source\n.*?(?=^## |^\[\^)", "", desk_brief, flags=re.M | re.S)
    errors = [
        *WRONG_SPELLINGS.values(),
        r"backfired",
        r"do not emerge",
        r"his unilateral invasion",
        r"\bHe voted",
        r"his own army",
        r"He can cite",
        r"Russian Sergey",
        r"Distributive policy",
        r"last phase of the war",
    ]
    found = [e for e in errors if re.search(e, body)]
    # Tleuberdi and Tokaev are also correct transliterations, listed under "Also written" in Who's who.
    found = [e for e in found if not all("Also written" in line for line in body.splitlines() if re.search(e, line))]
    assert not found, f"translation errors repeated in the desk brief: {found}"


def test_desk_brief_shows_later_facts_only_as_updates(data, desk_brief):
    """238 dead and the return to Astana come after the article: only the updates section may state them."""
    updates = re.search(r"^## Annex [A-Z]: Updates since the source\n(.*?)(?=^## )", desk_brief, re.M | re.S)
    assert updates, "the desk brief has no updates section"
    for update in data["updates"]:
        assert " ".join(update["text"].split()[:3]) in updates.group(1).replace("’", "'"), update["id"]
    rest = desk_brief.replace(updates.group(1), "")
    rest = rest.replace("  \n  ", " ")  # a list item's continuation line (a correction's evidence) is the item's
    for later in (r"\b238\b", r"back to Astana"):
        for line in rest.splitlines():
            # A source's title in the notes may name the later fact; anywhere else it must say "update".
            if re.search(later, line) and not line.startswith("[^"):
                assert re.search(r"update|later|after", line.lower()), (
                    f"later fact not shown as an update: {line[:120]}"
                )

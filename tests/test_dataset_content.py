"""Content checks for the Kazakhstan 2022 dataset, independent of the loader.

The YAML is read with plain ``yaml.safe_load`` so these tests hold the data to its promises even
while ``briefs.load`` changes: no translation error repeated, every substantive paragraph of the
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
STATED_CALL = "should consider steps to address these concerns"

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
        assert set(update.get("about", [])) <= every_id, update["id"]


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
    for r in recommendations:
        if r["origin"] == "stated":
            assert f"{ARTICLE}#17" in r["cites"], r["id"]
        else:
            assert r["origin"] == "derived", r["id"]
            assert r["basis"].startswith("Derived"), f"{r['id']}: a derived basis must say so"
            assert not re.search(r"\bthe article (says|recommends|urges)\b", r["text"], re.I), r["id"]


def test_analyst_judgments_are_marked(data):
    for judgment in data["judgments"]:
        if judgment.get("by") == "analyst":
            assert judgment.get("basis"), judgment["id"]
            assert "Analyst judgment" in judgment["text"], judgment["id"]

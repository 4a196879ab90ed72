"""Issue 12: the unit an editor cuts is the unit a reader reads, caveats travel with their claims, and
judgments say whose they are and how sure.

The checks read the built Markdown briefs against the data: a paragraph that leans on another is never
shown without it, a caveat never without the claim it qualifies, and every judgment a brief shows
carries its confidence. They run on the shipped briefs and on briefs whose prose is made longer, so
that fitting them to their pages cuts deeper.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from briefs.cli import main
from briefs.data.model import LEANING_OPENERS
from tests.conftest import SHIPPED_DATA, RunCli, write_tree

DATASET = "kazakhstan-2022"
SHIPPED_AUDIENCES = ("principal", "congress", "public", "desk")
TRIMMED = ("principal", "congress", "public")


def plain(text: str) -> str:
    """Text as compared here: Markdown escapes and links dropped, quotes straight, spaces single."""
    text = re.sub(r"\[\^\d+\](,\[\^\d+\])*", "", text)
    text = re.sub(r"\\(.)", r"\1", text)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.replace("*", "").split())


def opening(text: str, words: int = 7) -> str:
    return " ".join(plain(text).split()[:words])


def passages(data: Path) -> list[tuple[str, dict, list[dict]]]:
    """Every paragraph list of the dataset: (where, paragraph, the list it is in)."""
    folder = data / DATASET
    info = yaml.safe_load((folder / "dataset.yaml").read_text(encoding="utf-8"))["info"]
    sections = yaml.safe_load((folder / "analysis.yaml").read_text(encoding="utf-8"))["sections"]
    found = []
    for name in ("key_points", "implications"):
        found += [(name, p, info[name]) for p in info.get(name, [])]
    for section in sections:
        found += [(section["id"], p, section["paragraphs"]) for p in section["paragraphs"]]
    return found


def claims_of(paragraph: dict) -> list[dict]:
    return paragraph.get("claims") or [paragraph]


def build(data: Path, out: Path, *audiences: str) -> dict[str, str]:
    argv = ["--data", str(data), "--out", str(out), "-q", "--time-limit", "0"]
    for audience in audiences:
        argv += ["--audience", audience]
    assert main(argv) == 0
    return {a: plain((out / DATASET / f"{a}.md").read_text(encoding="utf-8")) for a in audiences}


def assert_whole_arguments(data: Path, briefs: dict[str, str]) -> None:
    """No paragraph without what it leans on; no caveat without its claim, nor a claim without its caveat."""
    every = passages(data)
    leaning_openings = set()
    for where, paragraph, siblings in every:
        first = opening(claims_of(paragraph)[0]["text"])
        by_id = {p.get("id"): p for p in siblings}
        if paragraph.get("leans_on"):
            leaning_openings.add(first)
        for audience, text in briefs.items():
            if first not in text:
                continue
            for ref in paragraph.get("leans_on", []):
                antecedent = opening(claims_of(by_id[ref])[0]["text"])
                assert antecedent in text, f"{audience}: {where} {first!r} shown without {antecedent!r}"
            office = _office_judgments(data)
            # A neutral brief (congress, CRS-style) leaves out the sentences stating the office's own judgments.
            claims = [c for c in claims_of(paragraph) if audience not in NEUTRAL or c.get("judgment") not in office]
            shown = [opening(c["text"], 6) in text for c in claims]
            assert all(shown), f"{audience}: {where} {first!r} shown in part: {shown}"
            if audience in NEUTRAL:
                left_out = [c for c in claims_of(paragraph) if c.get("judgment") in office]
                assert not [c for c in left_out if plain(c["text"]) in text], f"{audience}: office judgment shown"
    # Nothing in a brief opens with a word that leans on something before it, unless the data says what
    # it leans on (and the check above found that shown).
    openers = sorted(LEANING_OPENERS, key=len, reverse=True)
    for audience, text in briefs.items():
        raw = text
        for line in re.split(r"(?<=[.:]) (?=- |\(U\) )|\n", raw):
            line = re.sub(r"^(- |\d+\. |\(U\) )+", "", line.strip())
            lower = line.lower()
            word = next((o for o in openers if lower.startswith(o + " ") or lower.startswith(o + ",")), None)
            if word and line and not any(line.startswith(o) for o in leaning_openings):
                # Sentences inside a paragraph may lean on the one before: only openings of paragraphs count,
                # and every paragraph opening is the opening of some data paragraph.
                assert not any(line.startswith(opening(claims_of(p)[0]["text"])) for _, p, _ in every), (
                    audience,
                    line[:80],
                )


def assert_caveated_figures(data: Path, briefs: dict[str, str]) -> None:
    figures = yaml.safe_load((data / DATASET / "figures.yaml").read_text(encoding="utf-8"))["figures"]
    for figure in figures:
        if not figure.get("caveat"):
            continue
        for audience, text in briefs.items():
            if plain(figure["label"]) in text:
                assert plain(figure["caveat"]) in text, f"{audience}: {figure['id']} without its caveat"


NEUTRAL = ("congress", "public")  # voice: neutral (CRS) and voice: authors (a think tank): no confidence jargon
"""Audiences with `voice: neutral`: no office judgments, no confidence tags (issue 23)."""


def _office_judgments(data: Path) -> set[str]:
    judgments = yaml.safe_load((data / DATASET / "judgments.yaml").read_text(encoding="utf-8"))["judgments"]
    return {j["id"] for j in judgments if j.get("by") == "analyst"}


def assert_judgments_carry_confidence(data: Path, briefs: dict[str, str]) -> None:
    judgments = yaml.safe_load((data / DATASET / "judgments.yaml").read_text(encoding="utf-8"))["judgments"]
    levels = {j["id"]: j["confidence"] for j in judgments}
    for _, paragraph, _ in passages(data):
        for claim in claims_of(paragraph):
            if not claim.get("judgment"):
                continue
            sentence = plain(claim["text"])
            for audience, text in briefs.items():
                at = text.find(sentence)
                if at == -1:
                    continue
                after = text[at + len(sentence) : at + len(sentence) + 60]
                label = rf"\s*\((.*, )?{levels[claim['judgment']]} confidence(; [^)]*)?\)"
                if audience in NEUTRAL:  # CRS: attributed in words, no confidence jargon
                    assert not re.match(label, after) and "confidence" not in after, (audience, after)
                else:  # its confidence, or a pointer to the key judgment above that carries it (issue 23)
                    assert re.match(label, after) or re.match(r"\s*\(see Key judgments", after), (audience, after)


@pytest.fixture(scope="module")
def shipped(shipped_build: Path) -> dict[str, str]:
    """The shipped Markdown briefs as plain text (the session's build, conftest.py)."""
    return {a: plain((shipped_build / DATASET / f"{a}.md").read_text(encoding="utf-8")) for a in SHIPPED_AUDIENCES}


def test_shipped_briefs_keep_arguments_whole(shipped: dict[str, str]) -> None:
    assert_whole_arguments(SHIPPED_DATA, shipped)


def test_every_caveat_goes_where_its_claim_goes(shipped: dict[str, str]) -> None:
    assert_caveated_figures(SHIPPED_DATA, shipped)
    # The referendum's result never appears without the caveat on the vote (the example).
    for audience, text in shipped.items():
        if "77.18%" in text:
            assert "not considered free and fair" in text, audience


def test_every_judgment_shown_says_how_sure(shipped: dict[str, str]) -> None:
    assert_judgments_carry_confidence(SHIPPED_DATA, shipped)
    desk = shipped["desk"]
    judgments = yaml.safe_load((SHIPPED_DATA / DATASET / "judgments.yaml").read_text(encoding="utf-8"))["judgments"]
    shown = [j for j in judgments if plain(j["text"]) in desk]
    shown.sort(key=lambda j: desk.index(plain(j["text"])))  # in the brief's order
    # Six key judgments (issue 23): the office's own first, then the source's most important.
    assert len(shown) == 6 and [j.get("by") for j in shown[:3]] == ["analyst"] * 3, [j["id"] for j in shown]
    key_judgments = desk.split("## Key judgments", 1)[1].split("\n## ", 1)[0]
    for judgment in shown:
        sentence = plain(judgment["text"])
        at = key_judgments.find(sentence)
        assert at >= 0, judgment["id"]
        label = key_judgments[at + len(sentence) : at + len(sentence) + 120]
        assert re.match(rf"\s*\((.*, )?{judgment['confidence']} confidence(; [^)]*)?\)", label), judgment["id"]
        # Stated again below, the sentence points to it (with what became of it), rather than repeat its label;
        # or it heads its review in the updates annex.
        again = rf"\s*\((.*, )?{judgment['confidence']} confidence|\s*\(see Key judgments|\s*Reviewed "
        for found in re.finditer(re.escape(sentence), desk):
            assert re.match(again, desk[found.end() : found.end() + 120]), desk[found.end() : found.end() + 120]
    # One label per judgment, not "Low confidence (analyst's judgment): Analyst judgment: …".
    assert "Analyst judgment" not in desk and "analyst's judgment" not in desk


def test_the_short_briefs_attribute_judgments_to_their_source(shipped: dict[str, str]) -> None:
    for audience in ("congress", "public", "principal"):
        text = shipped[audience]
        assert re.search(r"FPRI('s)? (judges|judgment|argues|finds|writes|cautions|warns|calls|sees)", text), audience
        # The voice of the publishing office, not paragraph numbers or shouted labels.
        assert "paragraph 17" not in text and "OUR INFERENCE" not in text.upper().replace("OUR INFERENCE,", ""), (
            audience
        )


@pytest.mark.slow
def test_deeper_cuts_keep_arguments_whole(tmp_path: Path) -> None:
    """Longer prose forces the short briefs to cut deeper; what is left still reads whole."""
    data = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA, data)
    for name in ("analysis.yaml", "dataset.yaml"):
        path = data / DATASET / name
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))

        def lengthen(paragraphs: list[dict]) -> None:
            for paragraph in paragraphs:
                for claim in claims_of(paragraph):
                    claim["text"] = f"{claim['text']} {claim['text']}"

        if name == "analysis.yaml":
            for section in doc["sections"]:
                lengthen(section["paragraphs"])
        else:
            lengthen(doc["info"]["key_points"])  # implications and options are never trimmed in congress
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    briefs = build(data, tmp_path / "out", *TRIMMED)
    assert_whole_arguments(data, briefs)
    assert_caveated_figures(data, briefs)
    assert_judgments_carry_confidence(data, briefs)


# --- The loader refuses broken arguments, with file and line --------------------------------------


def analysis(paragraphs: str) -> dict[str, str]:
    return {
        "mini/analysis.yaml": "sections:\n  - id: part\n    title: Part\n    paragraphs:\n" + paragraphs,
    }


def check(mini_data: Path, run_cli: RunCli, files: dict[str, str]) -> str:
    write_tree(mini_data, files)
    code, _, err = run_cli("check", "--data", mini_data)
    assert code == 2, err
    return err


def test_check_rejects_a_paragraph_leaning_on_a_missing_one(mini_data: Path, run_cli: RunCli) -> None:
    err = check(
        mini_data,
        run_cli,
        analysis(
            "      - id: first\n        text: The report says the river rose.\n        cites: [report#2]\n"
            "      - leans_on: [frist]\n        text: Yet the town stayed dry.\n        cites: [report#2]\n"
        ),
    )
    assert re.search(
        r"mini/analysis\.yaml:8:\d+: sections\[0\]\.paragraphs\[1\]\.leans_on\[0\]: leans on unknown paragraph "
        r"'frist' \(did you mean 'first'\?\)",
        err,
    ), err


def test_check_rejects_a_circular_dependency(mini_data: Path, run_cli: RunCli) -> None:
    err = check(
        mini_data,
        run_cli,
        analysis(
            "      - id: a\n        leans_on: [b]\n        text: This rose.\n        cites: [report#2]\n"
            "      - id: b\n        leans_on: [a]\n        text: That fell.\n        cites: [report#2]\n"
        ),
    )
    assert re.search(r"mini/analysis\.yaml:\d+:\d+: .*leans on 'b', which comes after it \(a circular", err), err


def test_check_rejects_an_unmarked_leaning_opener(mini_data: Path, run_cli: RunCli) -> None:
    err = check(mini_data, run_cli, analysis("      - text: These concerns remain.\n        cites: [report#2]\n"))
    assert re.search(r"mini/analysis\.yaml:5:\d+: sections\[0\]\.paragraphs\[0\]: opens with 'These'", err), err


def test_check_rejects_a_caveat_that_opens_a_paragraph(mini_data: Path, run_cli: RunCli) -> None:
    err = check(
        mini_data,
        run_cli,
        analysis(
            "      - claims:\n          - text: Not free and fair.\n            caveat: true\n"
            "            cites: [report#2]\n"
        ),
    )
    assert "a caveat cannot open a paragraph" in err and "analysis.yaml:7:" in err, err


def test_check_caps_confidence_on_one_source(mini_data: Path, run_cli: RunCli) -> None:
    err = check(
        mini_data,
        run_cli,
        {
            "mini/judgments.yaml": "judgments:\n  - id: j\n    text: Floods are likely to recur.\n"
            "    likelihood: likely\n    confidence: high\n    basis: One report.\n    cites: [report#2]\n"
        },
    )
    assert re.search(r"judgments\.yaml:5:\d+: judgments\[0\]\.confidence: expected at most `moderate`", err), err


def test_an_information_memo_refuses_recommendations(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    user = write_tree(
        tmp_path / "mine",
        {"audiences/memo.yaml": "title: Memo\nmemo_type: information\nsections:\n  - bluf\n  - recommendations\n"},
    )
    code, _, err = run_cli("check", "--data", mini_data, "--templates", user)
    assert code == 2
    assert re.search(r"audiences/memo\.yaml:5:\d+: sections\[1\]: .*no `recommendations` section", err), err

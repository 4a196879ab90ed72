"""Issue 19: nothing of the first dataset in the machinery. A second, unrelated situation — its own
country, office, desk, signals and source — builds every shipped audience, and none of the first
dataset's words appear in any of its briefs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from briefs.cli import main
from tests.conftest import write_tree

SECOND = {
    "dataset.yaml": """\
        info:
          title: Water rights on the Blue River
          subject: "Ruritania and Freedonia: the Blue River water dispute after the 2031 drought"
          as_of: 2031-09-30
          office: EUR – Office of Alpine Affairs (EUR/ALP)
          office_short: EUR/ALP
          desk: the Alpine desk
          main_source: river-report
          signals:
            - {id: toward-accord, label: Toward an accord}
            - {id: toward-dispute, label: Toward a dispute}
          summary: A drought cut the Blue River's flow by a third, and the two states downstream quarrel over it.
          bluf: The dispute is likely to ease with the autumn rains; watch the joint commission.
          key_points:
            - text: The River Institute reports that the river's flow fell by a third in August 2031.
              cites: [river-report#2]
            - text: The River Institute judges an accord likely within a year.
              judgment: accord-likely
              cites: [river-report#3]
          implications:
            - text: A commission that meets is, the River Institute argues, the best sign of an accord.
              kind: assessment
              cites: [river-report#3]
        """,
    "sources.yaml": """\
        sources:
          - id: river-report
            title: The Blue River After the Drought
            publisher: River Institute
            short_name: the River Institute
            authors: [Ana Lind]
            date: 2031-09
            url: https://example.org/blue-river
            text_note: The text we hold is the institute's own English summary.
            paragraphs:
              - {n: 1, gist: Title, substantive: false}
              - {n: 2, gist: The flow fell by a third.}
              - {n: 3, gist: An accord is likely within a year.}
        """,
    "records.yaml": """\
        actors:
          - id: ruritania
            name: Ruritania
            kind: state
            role: Upstream state on the Blue River
            country: Ruritania
          - id: lind
            name: Ana Lind
            role: Hydrologist at the River Institute
            country: Freedonia
        events:
          - id: drought
            date: 2031-08
            title: The Blue River's flow falls by a third
            actors: [ruritania]
            cites: [river-report#2]
        figures:
          - id: flow
            label: Fall in the river's flow
            value: 33
            unit: "%"
            period: August 2031
            measures: The fall in the mean flow against August 2030.
            key: true
            caveat: One gauge only.
            cites: [river-report#2]
        judgments:
          - id: accord-likely
            text: An accord on the river's water is likely within a year.
            likelihood: likely
            confidence: moderate
            made: 2031-09-30
            basis: The institute's reading of the commission's talks; one source, hence moderate.
            cites: [river-report#3]
        recommendations:
          - id: fund-commission
            text: Fund the joint river commission's meetings.
            origin: derived
            basis: Derived from the institute's view that the commission is the way to an accord.
            cites: [river-report#3]
        indicators:
          - id: commission-meets
            text: The joint commission meets.
            signals: toward-accord
            status: watching
            last_checked: 2031-09-30
            cites: [river-report#3]
        quotes:
          - id: lind-flow
            speaker: lind
            text: The river has not been this low in forty years.
            cites: [river-report#2]
        corrections:
          - id: title-case
            location: river-report#1
            kind: wording
            source_says: Blue river
            correct: Blue River
            evidence: The river's name is capitalized.
            cites: [river-report#1]
        updates:
          - id: rains
            date: 2031-10-15
            text: The autumn rains restored half of the lost flow.
            cites: [river-report]
        """,
    "sources/river-report.txt": (
        "The Blue river after the drought\n\nThe flow fell by a third.\n\nAn accord is likely.\n"
    ),
}

FIRST_DATASET_WORDS = [
    r"\bKazakh",
    r"\bCentral Asia",
    r"\bSCA\b",
    r"\bFPRI\b",
    r"\bTokayev",
    r"\bMoscow",
    r"machine translation",
    r"toward.moscow",
    r"\bRussia",
]


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("second")
    data = write_tree(root / "data", {f"blue-river/{k}": v for k, v in SECOND.items()})
    out = root / "out"
    code = main(["--data", str(data), "--out", str(out), "--format", "pdf", "--format", "md", "--format", "html"])
    assert code == 0
    return out / "blue-river"


@pytest.mark.parametrize("audience", ["principal", "desk", "congress", "public"])
def test_a_second_dataset_carries_none_of_the_first(second: Path, audience: str) -> None:
    for fmt in ("md", "html"):
        text = (second / f"{audience}.{fmt}").read_text(encoding="utf-8")
        found = [w for w in FIRST_DATASET_WORDS if re.search(w, text, re.I)]
        assert not found, f"{audience}.{fmt} carries {found}"
    md = (second / f"{audience}.md").read_text(encoding="utf-8")
    assert "Blue River" in md
    if audience == "principal":
        assert "**FROM:** EUR – Office of Alpine Affairs (EUR/ALP)" in md
    if audience == "desk":
        assert "Prepared for the Alpine desk" in md
        assert "| Toward an accord |" in md  # the dataset's own poles
        assert "The text we hold is the institute’s own English summary." in md
        assert "the River Institute’s judgment, moderate confidence" in md or "moderate confidence" in md

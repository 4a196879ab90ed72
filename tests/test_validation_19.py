"""Checks from issue 19: update dates, `about` references by kind, corrections against the source text."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefs.data.load import load_datasets
from briefs.errors import InputError
from tests.conftest import RunCli, write_tree

TEXT = "Floods in Testland\n\nThe river rose 4 meters in May; the mayor’s  office called it “unprecedented”.\n"


@pytest.fixture
def data(mini_data: Path) -> Path:
    """The mini dataset with a source text file whose two paragraphs match its two listed ones."""
    folder = mini_data / "mini"
    write_tree(folder, {"sources/report.txt": TEXT})
    sources = folder / "sources.yaml"
    sources.write_text(
        sources.read_text().replace("    paragraphs:", "    text_file: sources/report.txt\n    paragraphs:")
    )
    return mini_data


def add(data: Path, name: str, text: str) -> Path:
    """Write one more YAML file into the dataset; returns its path."""
    return write_tree(data / "mini", {name: text}) / name


def problems(data: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_datasets(data)
    return [str(p) for p in info.value.problems]


UPDATE = """\
    updates:
      - id: later
        date: "{date}"
        text: The river fell again.
        about: [{about}]
        cites: [report]
    """


def test_fixture_dataset_is_valid(data: Path) -> None:
    add(data, "updates.yaml", UPDATE.format(date="2022-07-02", about="rise"))
    assert load_datasets(data)


@pytest.mark.parametrize("date", ["2022", "2022-06", "2022-06-30", "2023-01"])
def test_update_on_or_after_as_of_is_accepted(data: Path, date: str) -> None:
    add(data, "updates.yaml", UPDATE.format(date=date, about="rise"))
    assert load_datasets(data)


@pytest.mark.parametrize("date", ["2022-06-29", "2022-05", "2021"])
def test_update_before_as_of_is_rejected(data: Path, date: str) -> None:
    path = add(data, "updates.yaml", UPDATE.format(date=date, about="rise"))
    assert problems(data) == [
        f"{path}:3:5: updates[0].date: expected a date on or after the dataset's as_of (2022-06-30), found '{date}'"
    ]


def test_about_plain_id_ambiguous_across_kinds(data: Path) -> None:
    records = data / "mini" / "records.yaml"
    records.write_text(records.read_text().replace("  - id: rise", "  - id: flood"))  # a figure and an event
    path = add(data, "updates.yaml", UPDATE.format(date="2022-07", about="flood"))
    assert problems(data) == [
        f"{path}:5:13: updates[0].about[0]: expected kind:id, as records of 2 kinds have the id 'flood': "
        "events:flood, figures:flood"
    ]


def test_about_kind_and_id(data: Path) -> None:
    records = data / "mini" / "records.yaml"
    records.write_text(records.read_text().replace("  - id: rise", "  - id: flood"))
    add(data, "updates.yaml", UPDATE.format(date="2022-07", about="figures:flood, events:flood"))
    assert load_datasets(data)


@pytest.mark.parametrize(
    ("about", "message"),
    [
        (
            "figures:rse",
            "unknown record 'figures:rse' (did you mean 'figures:rise'?); expected the id of one of the figures",
        ),
        (
            "events:flod",
            "unknown record 'events:flod' (did you mean 'events:flood'?); expected the id of one of the events",
        ),
        ("figure:rise", "unknown kind 'figure' in 'figure:rise'; expected one of: sources, themes,"),
        ("rize", "unknown record 'rize' (did you mean 'rise'?)"),
    ],
)
def test_about_unknown(data: Path, about: str, message: str) -> None:
    path = add(data, "updates.yaml", UPDATE.format(date="2022-07", about=about))
    (problem,) = problems(data)
    assert problem.startswith(f"{path}:5:13: updates[0].about[0]: {message}")


CORRECTION = """\
    corrections:
      - id: quote
        location: {location}
        kind: wording
        source_says: {says}
        correct: The mayor's office called it unprecedented.
        evidence: The report.
        cites: [report#2]
    """


@pytest.mark.parametrize(
    ("location", "says"),
    [
        ("report#2", "rose 4 meters in May"),
        ("report#2", '"the mayor\'s office called it \\"unprecedented\\""'),  # straight quotes, one space
        ("report", "Floods in Testland"),  # no paragraph: anywhere in the text
    ],
)
def test_source_says_found_in_the_paragraph(data: Path, location: str, says: str) -> None:
    add(data, "corrections.yaml", CORRECTION.format(location=location, says=says))
    try:
        load_datasets(data)
    except InputError as exc:
        # Only about the correction's words: the key point "The river rose 4 meters." repeating the
        # words "rose 4 meters in May" this correction calls wrong is its own error (issue 24).
        found = [str(p) for p in exc.problems]
        assert not [p for p in found if "corrections[0].source_says" in p], found
        assert all("repeats 'rose 4 meters in May' ('rose 4 meters')" in p for p in found), found


@pytest.mark.parametrize(
    ("location", "says", "where"),
    [
        ("report#1", "rose 4 meters", "paragraph 1 of sources/report.txt"),  # right words, wrong paragraph
        ("report#2", "rose four meters", "paragraph 2 of sources/report.txt"),
    ],
)
def test_source_says_not_in_the_paragraph(data: Path, location: str, says: str, where: str) -> None:
    path = add(data, "corrections.yaml", CORRECTION.format(location=location, says=says))
    # (The key point "The river rose 4 meters." repeating these "wrong" words is its own error, issue 24.)
    assert [p for p in problems(data) if "corrections[0]" in p] == [
        f"{path}:5:5: corrections[0].source_says: expected words found verbatim in {where}, found {says!r}"
    ]


def test_text_file_and_paragraphs_must_count_alike(data: Path, run_cli: RunCli, tmp_path: Path) -> None:
    (data / "mini" / "sources" / "report.txt").write_text(TEXT + "\nA third paragraph nobody listed.\n")
    code, _, err = run_cli("check", "--data", data, "--out", tmp_path / "out")
    assert code == 2
    path = data / "mini" / "sources.yaml"
    assert (
        f"error: {path}:8:5: sources[0].paragraphs: expected one entry per non-blank line of sources/report.txt: "
        "3 paragraphs in the text, 2 listed"
    ) in err
    assert not (tmp_path / "out").exists()

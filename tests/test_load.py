"""Loading and validation: every error at once, each with file, line, column and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefs.data.load import load_datasets
from briefs.errors import InputError
from tests.conftest import SHIPPED_DATA, write_tree


def problems_for(data: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_datasets(data)
    return [str(p) for p in info.value.problems]


def test_shipped_dataset_validates() -> None:
    (loaded,) = load_datasets(SHIPPED_DATA)
    assert loaded.dataset.id == "kazakhstan-2022"
    assert loaded.dataset.sources and loaded.dataset.events


def test_mini_dataset_validates(mini_data: Path) -> None:
    (loaded,) = load_datasets(mini_data)
    assert loaded.dataset.info.title == "Mini brief on Testland"
    assert [f.name for f in loaded.files] == ["dataset.yaml", "records.yaml", "sources.yaml"]


def test_unknown_key_names_file_line_and_suggests(mini_data: Path) -> None:
    path = mini_data / "mini" / "records.yaml"
    path.write_text(path.read_text().replace("    title: The river Test floods", "    titel: The river Test floods"))
    missing, unknown = problems_for(mini_data)
    assert missing == f"{path}:2:5: events[0].title: required key missing"
    assert unknown.startswith(f"{path}:4:5: events[0].titel: unknown key (did you mean 'title'?); expected one of:")


def test_every_error_reported_at_once(mini_data: Path) -> None:
    path = mini_data / "mini" / "records.yaml"
    text = path.read_text().replace("2022-05-13", "2022-13-45").replace("value: 4", "value: four")
    path.write_text(text)
    problems = problems_for(mini_data)
    assert len(problems) == 2
    assert problems[0].endswith(
        "records.yaml:3:5: events[0].date: expected a real date as YYYY, YYYY-MM or YYYY-MM-DD "
        "(month must be in 1..12), found '2022-13-45'"
    )
    assert "records.yaml:9:5: figures[0].value: expected a valid number" in problems[1]
    assert problems[1].endswith("found 'four'")


def test_duplicate_key_is_an_error(mini_data: Path) -> None:
    path = mini_data / "mini" / "records.yaml"
    path.write_text(path.read_text().replace("    label: River rise\n", "    label: River rise\n    label: Again\n"))
    (problem,) = problems_for(mini_data)
    assert "records.yaml:9:5: figures[0].label: duplicate key (first given at line 8)" in problem


def test_dangling_citation_and_duplicate_id(mini_data: Path) -> None:
    write_tree(
        mini_data,
        {
            "mini/more.yaml": """\
                quotes: []
                judgments:
                  - id: j1
                    text: Floods will recur.
                    confidence: moderate
                    basis: The report.
                    cites: [reprot#2]
                  - id: j1
                    text: Aid helps.
                    confidence: low
                    basis: The report.
                    cites: [report#9]
                """
        },
    )
    problems = problems_for(mini_data)
    assert any("more.yaml:7:" in p and "unknown source 'reprot' (did you mean 'report'?)" in p for p in problems)
    assert any("more.yaml:8:" in p and "duplicate id 'j1'" in p for p in problems)
    assert any("more.yaml:12:" in p and "paragraph 9 of 'report'" in p for p in problems)


def test_yaml_syntax_error_has_line(mini_data: Path) -> None:
    path = mini_data / "mini" / "records.yaml"
    path.write_text(path.read_text() + "  - [unclosed\n")
    (problem,) = problems_for(mini_data)
    assert str(path) in problem and "YAML syntax" in problem


def test_section_in_two_files(mini_data: Path) -> None:
    write_tree(mini_data, {"mini/extra.yaml": "events: []\n"})
    (problem,) = problems_for(mini_data)
    assert problem.endswith(
        "records.yaml:1:1: events: section given twice: also in " + str(mini_data / "mini/extra.yaml") + ":1"
    )


def test_missing_data_folder(tmp_path: Path) -> None:
    (problem,) = problems_for(tmp_path / "nope")
    assert "data folder not found" in problem

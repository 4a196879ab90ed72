"""Every input error at once, and YAML syntax errors in plain words (issue 14), through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RunCli


def errors_of(run_cli: RunCli, data: Path, tmp_path: Path) -> list[str]:
    """The error lines of `check`; it must exit 2."""
    code, _, stderr = run_cli("check", "--data", data, "--out", tmp_path / "out")
    assert code == 2, stderr
    return [line.removeprefix("error: ") for line in stderr.splitlines() if line.startswith("error: ")]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_schema_error_does_not_hide_a_reference_error(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """A recommendation missing its text and a figure citing a missing paragraph: both, in one pass."""
    records = mini_data / "mini" / "records.yaml"
    edit(records, "    text: Send flood aid.\n", "")
    edit(records, "    key: true\n    cites: [report#2]", "    key: true\n    cites: [report#9]")
    errors = errors_of(run_cli, mini_data, tmp_path)
    assert len(errors) == 2, errors
    assert any(e.endswith("records.yaml:16:5: recommendations[0].text: required key missing") for e in errors), errors
    assert any("records.yaml:14:13: figures[0].cites[0]: cites paragraph 9 of 'report'" in e for e in errors), errors


def test_a_reference_after_an_invalid_record_keeps_its_place(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """The invalid record is left out of the reference checks; the next one's error names its own line."""
    records = mini_data / "mini" / "records.yaml"
    second = "  - id: flood2\n    date: soon\n    title: Bad date\n    cites: [report#2]\n" + (
        "  - id: flood3\n    date: 2022-05-14\n    title: Dangling\n    cites: [nowhere]\n"
    )
    edit(records, "figures:\n", second + "figures:\n")
    errors = errors_of(run_cli, mini_data, tmp_path)
    assert len(errors) == 2, errors
    assert any(":7:5: events[1].date: expected" in e for e in errors), errors
    assert any(":13:13: events[2].cites[0]: cites unknown source 'nowhere'" in e for e in errors), errors


def test_a_reference_to_an_invalid_record_is_not_called_unknown(
    mini_data: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """A source with a bad field is still there: citing it is not a second error."""
    edit(mini_data / "mini" / "sources.yaml", "    date: 2022-06\n", "    date: someday\n")
    errors = errors_of(run_cli, mini_data, tmp_path)
    assert len(errors) == 1 and "sources[0].date" in errors[0], errors


def test_a_duplicate_key_does_not_hide_the_rest_of_the_file(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    records = mini_data / "mini" / "records.yaml"
    edit(records, "    title: The river Test floods\n", "    title: The river Test floods\n    title: Again\n")
    edit(records, "    value: 4\n", "    value: four\n")
    edit(records, "    origin: stated\n", "    origin: stated\n    cites: [report#2]\n")
    errors = errors_of(run_cli, mini_data, tmp_path)
    assert any(":5:5: events[0].title: duplicate key (first given at line 4)" in e for e in errors), errors
    assert any(":22:5: recommendations[0].cites: duplicate key (first given at line 20)" in e for e in errors), errors
    assert any(":10:5: figures[0].value: expected" in e for e in errors), errors
    assert len(errors) == 3, errors


YAML_MISTAKES = {
    # name: (text of a new file in the dataset, "line:column", words in the message)
    "indentation": ("extra:\n  title: A\n    subject: B\n", "3:5", "indented more than the line above"),
    "indentation, less": ("extra:\n    title: A\n  subject: B\n", "3:3", "a key indented differently"),
    "list indentation": ("extra:\n  - id: a\n    title: b\n   - id: c\n", "4:4", "a list item indented differently"),
    "missing colon": ("extra:\n  title A\n  subject: B\n", "2:3", "expected ':' after the key 'title A'"),
    "missing colon, last key": ("extra:\n  title: A\n  subject\n", "3:3", "expected ':' after the key 'subject'"),
    "colon in a value": (
        "extra:\n  title: Kazakhstan: a year on\n",
        "2:20",
        "found ': ' inside the value of 'title'; expected a quoted value: title: \"Kazakhstan: a year on\"",
    ),
    "tab": ("extra:\n\ttitle: A\n", "2:1", "found a tab character; expected spaces"),
    "unclosed quote": ('extra:\n  title: "A\n  subject: B\n', "2:10", 'found a " quote that is never closed'),
    "unclosed bracket": ("extra:\n  keywords: [a, b\n  subject: B\n", "2:13", "found a '[' that is never closed"),
    "unclosed bracket at the end": ("extra:\n  keywords: [\n", "2:13", "found a '[' that is never closed"),
    "text after a quote": ('extra:\n  title: "A" and B\n', "2:14", 'found text after a closing " quote'),
}


@pytest.mark.parametrize("case", YAML_MISTAKES)
def test_yaml_syntax_in_plain_words(case: str, mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    text, where, words = YAML_MISTAKES[case]
    bad = mini_data / "mini" / "extra.yaml"
    bad.write_text(text, encoding="utf-8")
    errors = errors_of(run_cli, mini_data, tmp_path)
    assert len(errors) == 1 and errors[0].startswith(f"{bad}:{where}: YAML syntax: "), errors
    assert words in errors[0], errors
    assert "<block" not in errors[0] and "scalar" not in errors[0], errors


def test_a_missing_info_still_checks_the_references(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """An empty dataset.yaml (no `info` at all): that error, and the records' reference errors too."""
    (mini_data / "mini" / "dataset.yaml").write_text("", encoding="utf-8")
    edit(mini_data / "mini" / "records.yaml", "    cites: [report#2]\n", "    cites: [report#9]\n")
    errors = errors_of(run_cli, mini_data, tmp_path)
    assert any(e.endswith("info: required key missing") for e in errors), errors
    assert any("events[0].cites[0]: cites paragraph 9 of 'report'" in e for e in errors), errors
    assert len(errors) == 2, errors

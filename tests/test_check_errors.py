"""Each kind of data mistake, through the CLI: exit 2, the exact file and line, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RunCli

GOOD_EVENT = """\
events:
  - id: flood
    date: 2022-05-13
    title: The river Test floods
    cites: [report#2]
"""

CASES = {
    # name: (text of events.yaml replacing records' events, expected line, expected fragment)
    "yaml syntax": ("events:\n  - id: flood\n    title: [unclosed\n", 3, "found a '[' that is never closed"),
    "duplicate key": (GOOD_EVENT.replace("    title:", "    date: 2022-05-14\n    title:"), 4, "duplicate key"),
    "unknown key": (
        GOOD_EVENT.replace("    title:", "    titel:"),
        4,
        "events[0].titel: unknown key (did you mean 'title'?)",
    ),
    "wrong type": (
        GOOD_EVENT.replace("    cites: [report#2]", "    cites: report#2"),
        5,
        "events[0].cites: expected a valid list",
    ),
    "bad date": (GOOD_EVENT.replace("2022-05-13", "2022-02-30"), 3, "events[0].date: expected a real date"),
    "dangling citation": (GOOD_EVENT.replace("report#2", "report#7"), 5, "cites paragraph 7 of 'report'"),
    "duplicate id": (GOOD_EVENT + GOOD_EVENT.replace("events:\n", ""), 6, "duplicate id 'flood'"),
}


@pytest.mark.parametrize("case", CASES)
def test_mistake_reported_with_file_and_line(case: str, mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    text, line, fragment = CASES[case]
    records = mini_data / "mini" / "records.yaml"
    records.write_text(records.read_text().replace(GOOD_EVENT, ""))
    bad = mini_data / "mini" / "events.yaml"
    bad.write_text(text)
    out = tmp_path / "out"
    for command in ("check", "build"):
        code, _, stderr = run_cli(command, "--data", mini_data, "--out", out)
        assert code == 2, stderr
        errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
        assert any(ln.startswith(f"error: {bad}:{line}:") and fragment in ln for ln in errors), errors
        assert not out.exists()


def test_all_errors_at_once_across_files(mini_data: Path, run_cli: RunCli, tmp_path: Path) -> None:
    (mini_data / "mini" / "records.yaml").write_text(
        (mini_data / "mini" / "records.yaml").read_text().replace("value: 4", "value: four")
    )
    (mini_data / "mini" / "dataset.yaml").write_text(
        (mini_data / "mini" / "dataset.yaml").read_text().replace("as_of: 2022-06-30", "as_of: soon")
    )
    code, _, stderr = run_cli("check", "--data", mini_data, "--out", tmp_path / "o")
    assert code == 2
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 2
    assert any("dataset.yaml:4:3: info.as_of:" in e for e in errors)
    assert any("records.yaml:9:5: figures[0].value:" in e for e in errors)
    assert "2 errors; nothing written" in stderr

"""Editions numbered and dated by when they were built (issue 14); the brief's own date stays the data's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunCli
from tests.test_editions import AUDIENCES, add_event, write_tree


@pytest.mark.parametrize(
    ("built", "title", "label"),
    [
        ("2026-12-01", "What changed since edition 1 (built December 1, 2026)", "edition 1 (built December 1, 2026)"),
        (None, "What changed since edition 1 (information as of June 30, 2022)", "edition 1 of June 30, 2022"),
    ],
)
def test_what_changed_names_the_stored_previous_edition(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, built: str | None, title: str, label: str
) -> None:
    """The title comes from the previous edition's file (an older file has no built date): the same bytes on rebuild."""
    tpl = write_tree(tmp_path / "tpl", AUDIENCES)
    out = tmp_path / "out"
    args = ("--data", mini_data, "--templates", tpl, "--out", out, "--audience", "watcher", "--format", "md")
    assert run_cli(*args)[0] == 0
    first = out / "mini" / ".editions" / "watcher" / "0001.json"
    stored = json.loads(first.read_text(encoding="utf-8"))
    stored.pop("built")
    if built is not None:
        stored["built"] = built
    first.write_text(json.dumps(stored), encoding="utf-8")
    code, stdout, _ = run_cli("list", *args)
    assert code == 0 and label in stdout, stdout

    add_event(mini_data)
    assert run_cli(*args)[0] == 0
    brief = out / "mini" / "watcher.md"
    text = brief.read_text(encoding="utf-8")
    assert f"## {title}" in text, text
    assert "June 30, 2022" in text.split("## ", 1)[0]  # the brief's own date is still the data's

    code, _, stderr = run_cli(*args, "--force")
    assert code == 0, stderr
    assert brief.read_text(encoding="utf-8") == text

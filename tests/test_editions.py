"""Editions: recorded when a brief's records change; the next edition says what changed, in words."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from briefs.compose.changes import diff
from briefs.data.load import load_datasets
from briefs.data.model import Audience
from briefs.formats.render import format_date
from briefs.pipeline.editions import snapshot
from tests.conftest import RunCli, write_tree

AUDIENCES = {
    # Reads the timeline and figures, and shows what changed right after the BLUF.
    "audiences/watcher.yaml": """\
        title: Watch Memo
        formats: [md, html]
        sections: [bluf, changes, timeline, figures, recommendations, sources]
        """,
}

NEW_EVENT = """\
  - id: ministers
    date: 2022-05-20
    title: CIS foreign ministers meet in Dushanbe
    cites: [report#2]
"""


@pytest.fixture
def tpl(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "tpl", AUDIENCES)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def add_event(data: Path) -> None:
    edit(data / "mini" / "records.yaml", "figures:\n", NEW_EVENT + "figures:\n")


def test_added_event_appears_under_what_changed(mini_data: Path, tpl: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    args = ("--data", mini_data, "--templates", tpl, "--out", out, "--audience", "watcher")
    assert run_cli(*args)[0] == 0
    md = out / "mini" / "watcher.md"
    first = md.read_text(encoding="utf-8")
    assert "What changed" not in first  # a first edition has no such section
    assert "What changed" not in (out / "mini" / "watcher.html").read_text(encoding="utf-8")

    add_event(mini_data)
    edit(mini_data / "mini" / "records.yaml", "value: 4\n", "value: 5\n")
    code, stdout, stderr = run_cli(*args)
    assert code == 0, stderr
    second = md.read_text(encoding="utf-8")
    today = format_date(dt.date.today())  # when edition 1 was built (issue 14)
    assert f"## What changed since edition 1 (built {today})" in second
    assert "- Added event: May 20, 2022 — CIS foreign ministers meet in Dushanbe" in second
    assert "- Changed figure River rise: 4 meters → 5 meters" in second
    assert second.index("What changed") < second.index("## Timeline")  # where the audience put it
    html = (out / "mini" / "watcher.html").read_text(encoding="utf-8")
    assert "Added event: May 20, 2022 — CIS foreign ministers meet in Dushanbe" in html

    folder = out / "mini" / ".editions" / "watcher"
    assert sorted(p.name for p in folder.iterdir()) == ["0001.json", "0002.json"]
    edition = json.loads((folder / "0002.json").read_text(encoding="utf-8"))
    assert edition["edition"] == 2 and edition["date"] == "2022-06-30"  # the data's date, not the clock's
    assert edition["built"] == dt.date.today().isoformat()  # and the day it was built
    assert "ministers" in edition["records"]["events"]
    assert len(edition["input_hash"]) == 64

    code, stdout, _ = run_cli("list", *args)
    assert code == 0
    assert "mini/watcher.md" in stdout and f"edition 2 (built {today})" in stdout


def test_look_only_change_keeps_the_edition_and_its_changes(
    mini_data: Path, tpl: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out"
    args = ("--data", mini_data, "--templates", tpl, "--out", out, "--audience", "watcher", "--format", "md")
    assert run_cli(*args)[0] == 0
    add_event(mini_data)
    assert run_cli(*args)[0] == 0
    # A template change rebuilds the brief but is not a new edition: the diff is still 1 -> 2.
    write_tree(
        tpl, {"audiences/watcher.md.j2": '{% extends "base/layout.md.j2" %}\n{% block footer %}Look 2{% endblock %}\n'}
    )
    code, stdout, _ = run_cli(*args)
    assert code == 0 and "1 built" in stdout
    text = (out / "mini" / "watcher.md").read_text(encoding="utf-8")
    assert "Look 2" in text and "Added event: May 20, 2022" in text
    assert len(list((out / "mini" / ".editions" / "watcher").iterdir())) == 2


def test_removed_and_revised_records_in_the_readers_words(mini_data: Path) -> None:
    audience = Audience.model_validate(
        {"id": "all", "title": "All", "sections": ["bluf", "timeline", "figures", "judgments", "indicators"]}
    )
    (before,) = load_datasets(mini_data)
    edit(
        mini_data / "mini" / "records.yaml", "    title: The river Test floods\n", "    title: The river Test bursts\n"
    )
    edit(mini_data / "mini" / "dataset.yaml", "aid is needed.", "aid is urgent.")
    (after,) = load_datasets(mini_data)
    old, new = snapshot(before.dataset, audience), snapshot(after.dataset, audience)
    assert "recommendations" not in old  # the audience does not show them: not part of its edition
    lines = [c.text for c in diff(old, new)]
    assert lines == [
        "Revised the bottom line: Floods hit Testland; aid is urgent.",
        "Changed event: May 13, 2022 — The river Test floods → May 13, 2022 — The river Test bursts",
    ]
    removed = dict(old, figures={})
    assert [c.text for c in diff(old, removed)] == ["Removed figure: River rise: 4 meters (May 2022)"]
    judged = {"judgments": {"j": {"text": "It *will* rain.", "confidence": "low"}}}
    firmer = {"judgments": {"j": {"text": "It *will* rain.", "confidence": "high"}}}
    assert [c.text for c in diff(judged, firmer)] == ["Judgment now high confidence (was low): It will rain."]
    watch = {"indicators": {"i": {"text": "Troops move.", "status": "watching"}}}
    seen = {"indicators": {"i": {"text": "Troops move.", "status": "observed"}}}
    assert [c.text for c in diff(watch, seen)] == ["Indicator now observed (was watching): Troops move."]
    assert diff(old, old) == []


def test_same_records_make_no_new_edition(mini_data: Path, tpl: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    args = ("--data", mini_data, "--templates", tpl, "--out", out, "--audience", "watcher", "--format", "md")
    assert run_cli(*args)[0] == 0
    # A comment changes no record: nothing is rebuilt (issue 27: the stamp covers records, not files).
    records = mini_data / "mini" / "records.yaml"
    records.write_text("# reviewed\n" + records.read_text(encoding="utf-8"), encoding="utf-8")
    code, stdout, _ = run_cli(*args)
    assert code == 0 and "0 built, 1 up to date" in stdout
    # A priority is part of the record (it steers fitting: the brief is rebuilt) but not of what it says.
    edit(records, "    key: true\n", "    key: true\n    priority: 2\n")
    code, stdout, _ = run_cli(*args)
    assert code == 0 and "1 built" in stdout
    assert [p.name for p in (out / "mini" / ".editions" / "watcher").iterdir()] == ["0001.json"]
    assert "What changed" not in (out / "mini" / "watcher.md").read_text(encoding="utf-8")


def test_an_edition_holds_only_what_the_brief_shows(mini_data: Path) -> None:
    audience = Audience.model_validate(
        {"id": "top", "title": "Top", "sections": ["bluf", {"id": "key_points", "max_priority": 2}]}
    )
    (before,) = load_datasets(mini_data)
    assert snapshot(before.dataset, audience)["key_points"] == {}  # priority 3: filtered out of this brief
    edit(
        mini_data / "mini" / "dataset.yaml", "      cites: [report#2]\n", "      cites: [report#2]\n      priority: 1\n"
    )
    (after,) = load_datasets(mini_data)
    lines = [c.text for c in diff(snapshot(before.dataset, audience), snapshot(after.dataset, audience))]
    assert lines == ["Added key point: The river rose 4 meters, the report says."]  # new to this reader

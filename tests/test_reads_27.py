"""Issue 27: a brief's stamp covers the records its audience can show, so an edit rebuilds the briefs that
show the record and no others.

Correctness first. For each shipped audience and each of three datasets, every record the brief does not
read (`shown_records`) is edited at once — each prose field reworded, each priority, date and flag
changed — and the brief, rendered whole (HTML for the PDF, Markdown) before fitting, must read exactly as
before; were a record missing from the set, some brief would change. The opposite way, an edit to a
record a brief reads changes its stamp, and the build rebuilds that brief alone and `--explain` names
the record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from briefs.compose.fit import context_for
from briefs.compose.reads import shown_records
from briefs.compose.select import select
from briefs.data.audiences import TemplateDirs, load_audiences
from briefs.data.load import load_dataset
from briefs.data.model import RECORD_KINDS, Dataset
from briefs.formats.render import make_env, render, template_name
from tests.conftest import MINI, REPO, RunCli, write_tree
from tests.test_second_dataset import SECOND

DIRS = TemplateDirs(REPO / "templates")
AUDIENCES = {k: v.audience for k, v in load_audiences(DIRS, ()).items()}
# Each shipped audience also without its updates list: then an update is read only beside what it revises.
for _id in list(AUDIENCES):
    _aud = AUDIENCES[_id]
    AUDIENCES[f"{_id}-no-updates"] = _aud.model_copy(
        update={"sections": [s for s in _aud.sections if s.id != "updates"], "template": _aud.template or _id}
    )

# Fields that name another record or take one of a few words: changing them is a different kind of edit
# (a record moving into another brief), which `shown_records` decides from the new data itself.
_NAMES = {"id", "speaker", "theme", "signals", "about", "actors", "audiences", "leans_on", "judgment", "cites"}


def _dataset(tmp_path: Path, which: str) -> Dataset:
    if which == "kazakhstan-2022":
        folder = REPO / "data" / which
    else:
        files = SECOND if which == "second" else MINI
        folder = write_tree(tmp_path / which, files)
    loaded, problems = load_dataset(folder)
    assert loaded is not None, problems
    return loaded.dataset


def _literals(annotation: Any) -> list[Any]:
    """The words a `Literal` field (or an optional one) allows; empty for any other field."""
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return [w for arg in typing.get_args(annotation) for w in _literals(arg)]


def _edited(value: Any, name: str = "") -> Any:
    """``value`` with every prose field reworded and every priority, date, flag and choice changed."""
    if isinstance(value, BaseModel):
        fields = {}
        for field_name, info in type(value).model_fields.items():
            if field_name in _NAMES:
                continue
            old = getattr(value, field_name)
            words = _literals(info.annotation)
            if words:  # another of its words: `by: analyst` for `source`, a status where there was none
                new = next(w for w in [*words[1:], words[0]] if w != old) if len(words) > 1 or old is None else old
            elif old is None and dt.date in typing.get_args(info.annotation):
                new = dt.date(2022, 7, 1)
            else:
                new = _edited(old, field_name)
            if new is not old:
                fields[field_name] = new
        return value.model_copy(update=fields)
    if isinstance(value, list):
        return [_edited(v, name) for v in value]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int) and name == "priority":
        return 1 if value != 1 else 5
    if isinstance(value, dt.date):
        return value - dt.timedelta(days=1)
    if isinstance(value, str) and name in ("text", "name", "title", "basis", "note", "pros", "cons", "revision"):
        return value + " Zqx"
    return value


def _render(dataset: Dataset, audience_id: str) -> dict[str, str]:
    audience = AUDIENCES[audience_id]
    out = {}
    for fmt in ("html", "md"):
        brief = select(dataset, audience)
        name = template_name(DIRS, audience.template or audience_id, fmt)
        out[fmt] = render(make_env(DIRS, fmt), name, DIRS, context_for(brief, fmt))
    return out


def _with_others_edited(dataset: Dataset, audience_id: str, only: tuple[str, str] | None = None) -> Dataset:
    """``dataset`` with every record ``audience_id``'s brief does not read edited (or just ``only``)."""
    read = {(kind, rid) for kind, rid, _ in shown_records(dataset, AUDIENCES[audience_id])}
    update: dict[str, Any] = {}
    for kind in RECORD_KINDS:
        records = getattr(dataset, kind)
        update[kind] = [
            r if (kind, r.id) in read or (only is not None and only != (kind, r.id)) else _edited(r) for r in records
        ]
    return dataset.model_copy(update=update)


@pytest.mark.parametrize("which", ["kazakhstan-2022", "second", "mini"])
@pytest.mark.parametrize("audience_id", sorted(AUDIENCES))
def test_a_record_a_brief_does_not_read_never_changes_it(tmp_path: Path, which: str, audience_id: str) -> None:
    dataset = _dataset(tmp_path, which)
    read = {(kind, rid) for kind, rid, _ in shown_records(dataset, AUDIENCES[audience_id])}
    others = [(kind, r.id) for kind in RECORD_KINDS for r in getattr(dataset, kind) if (kind, r.id) not in read]
    before = _render(dataset, audience_id)
    after = _render(_with_others_edited(dataset, audience_id), audience_id)
    if after != before:  # name the records that change it, one at a time
        culprits = [
            record
            for record in others
            if _render(_with_others_edited(dataset, audience_id, only=record), audience_id) != before
        ]
        pytest.fail(f"{audience_id} changes when records it is said not to read change: {culprits}")
    if which == "kazakhstan-2022" and not audience_id.startswith("desk"):
        assert others, "every audience but desk leaves some records out"  # the test edits something


@pytest.mark.parametrize("audience_id", ["principal", "congress", "public", "desk"])
def test_the_edit_test_catches_a_record_a_brief_reads(audience_id: str) -> None:
    """The test above can fail: editing the records a brief does read changes its text."""
    dataset = _dataset(Path(), "kazakhstan-2022")
    everything = dataset.model_copy(update={k: [_edited(r) for r in getattr(dataset, k)] for k in RECORD_KINDS})
    assert _render(everything, audience_id) != _render(dataset, audience_id)


# --- the build: an edit rebuilds the briefs that show the record, and --explain names it ------------------------


def built(stdout: str) -> set[str]:
    return {Path(line.split()[1]).name for line in stdout.splitlines() if line.startswith("built ")}


@dataclasses.dataclass
class Edit:
    file: str
    after: str  # the first place this occurs, where ``insert`` goes
    insert: str
    rebuilt: set[str]
    named: str


# One edit per kind of record the shipped briefs show, and the briefs that must rebuild for it.
EDITS = [
    Edit("quotes.yaml", "    context: >-\n      ", "Zqx ", {"desk"}, "quotes.yaml#quotes:suleimenov-abide"),
    Edit("corrections.yaml", "    evidence: >-\n      ", "Zqx ", {"desk"}, "corrections.yaml#corrections:stray-first"),
    Edit("events.yaml", "    text: >-\n      ", "Zqx ", {"desk"}, "events.yaml#events:tokayev-succeeds-nazarbayev"),
    Edit("actors.yaml", "    role: ", "Zqx ", {"desk"}, "actors.yaml#actors:tokayev"),
    Edit("indicators.yaml", "    note: ", "Zqx ", {"desk"}, "indicators.yaml#indicators:joint-counter-sanctions"),
    Edit("options.yaml", "    cons: >-\n      ", "Zqx ", {"congress"}, "options.yaml#options:report-on-indirect-costs"),
    Edit("figures.yaml", "    measures: >-\n      ", "Zqx ", {"public", "desk"}, "figures.yaml#figures:death-toll-232"),
    Edit("dataset.yaml", "  bluf: >-\n    ", "Zqx ", {"principal", "congress", "public", "desk"}, "dataset.yaml#info"),
]


@pytest.mark.slow
def test_an_edit_rebuilds_exactly_the_briefs_that_show_the_record(tmp_path: Path, run_cli: RunCli) -> None:
    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    out = tmp_path / "out"
    args = ("--data", data, "--out", out, "--format", "md")
    assert run_cli(*args)[0] == 0
    folder = data / "kazakhstan-2022"
    for edit in EDITS:
        path = folder / edit.file
        text = path.read_text(encoding="utf-8")
        assert edit.after in text, (edit.file, edit.after)
        head, _, tail = text.partition(edit.after)  # the first record's field: a word put before its text
        path.write_text(head + edit.after + edit.insert + tail, encoding="utf-8")
        code, stdout, stderr = run_cli(*args, "--explain")
        assert code == 0, stderr
        assert built(stdout) == {f"{a}.md" for a in edit.rebuilt}, (edit.file, stdout)
        for audience in edit.rebuilt:
            line = next(x for x in stdout.splitlines() if x.startswith(f"kazakhstan-2022/{audience}.md: rebuild"))
            assert edit.named in line, line


def test_the_preview_tells_each_brief_of_a_mistake_in_its_dataset(tmp_path: Path) -> None:
    """A record's input names its file; a mistake in any file of that dataset stops the brief's build."""
    import json

    from briefs.errors import Problem
    from briefs.pipeline.fastpath import STATE_DIR, STATE_FILE
    from briefs.preview.server import _concerns, recorded

    state = {
        "targets": {
            "kz/public.pdf": {"digest": "x", "inputs": {"data/kz/figures.yaml#figures:a": "1", "t/p.j2": "2"}},
            "other/public.pdf": {"digest": "y", "inputs": {"data/other/figures.yaml#figures:a": "1"}},
        }
    }
    (tmp_path / STATE_DIR).mkdir()
    (tmp_path / STATE_DIR / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    reads = recorded(tmp_path).inputs
    events = Problem("data/kz/events.yaml", 3, 1, "events[0].date", "expected a date")
    assert _concerns(events, reads["kz", "public"]) and not _concerns(events, reads["other", "public"])
    assert _concerns(Problem("t/p.j2", 1, 1, "", "bad"), reads["kz", "public"])

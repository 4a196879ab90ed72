"""watch ignores editors' and tools' temporary files (issue 14): by name, and in a real watch run."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefs.pipeline.watch import is_scratch_file
from tests.conftest import RunCli
from tests.test_watch import AUDIENCE, set_rise, start, stop, write_tree

SCRATCH = [
    "sedK3x9Qa",  # sed -i
    "4913",  # vim's probe
    "records.yaml.swp",
    ".records.yaml.swx",
    "records.yaml~",
    ".#records.yaml",
    "#records.yaml#",
    "records.yaml.tmp",
    ".records.yaml.8f3k2.tmp",  # our own atomic writes
    ".DS_Store",
    ".~lock.records.yaml#",
    "records.yaml___jb_tmp___",
]
INPUTS = ["records.yaml", "sources.yml", "layout.html.j2", "brief.css", "sed.yaml", "4913.yaml", "sedation", "notes"]


@pytest.mark.parametrize("name", SCRATCH)
def test_a_scratch_file_is_ignored(name: str) -> None:
    assert is_scratch_file(name)


@pytest.mark.parametrize("name", INPUTS)
def test_an_input_is_watched(name: str) -> None:
    assert not is_scratch_file(name)


def test_a_hidden_yaml_file_is_not_data(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """An editor's lock or backup named like a data file (`.#records.yaml`) is not read as one."""
    (mini_data / "mini" / ".#records.yaml").write_text("scratch: [", encoding="utf-8")
    code, _, stderr = run_cli("check", "--data", mini_data, "--out", tmp_path / "out")
    assert code == 0, stderr


def test_a_watcher_is_not_woken_by_scratch_files(mini_data: Path, tmp_path: Path) -> None:
    """Scratch files written next to the data, then a real edit: the change reported is the edit alone."""
    tpl = write_tree(tmp_path / "tpl", AUDIENCE)
    out = tmp_path / "out"
    proc, lines = start("watch", "--data", mini_data, "--templates", tpl, "--out", out, "--audience", "alpha")
    try:
        lines.expect("1 built, 0 up to date")
        for name in SCRATCH:
            (mini_data / "mini" / name).write_text("scratch: [", encoding="utf-8")
            (tpl / "audiences" / name).write_text("scratch", encoding="utf-8")
        set_rise(mini_data, "5")
        changed = lines.expect("changed: ")
        assert changed.strip().endswith("mini/records.yaml"), changed
        assert ", " not in changed.split("changed: ", 1)[1], changed  # nothing else reported
        lines.expect("1 built, 0 up to date")
    finally:
        code = stop(proc)
    assert code == 0

"""A build that exits 2 (bad input) leaves every byte under output/ as it was, `.briefs/` included (issue 19)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunCli, write_tree


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_bad_template_build_leaves_output_byte_identical(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    common = ("--data", mini_data, "--out", out, "--audience", "desk", "--format", "md")
    code, _, err = run_cli("build", *common)
    assert code == 0, err
    before = snapshot(out)
    assert ".briefs/noop.json" in before and ".briefs/state.json" in before
    user = write_tree(tmp_path / "mine", {"audiences/desk.md.j2": "{{ no_such_variable }}\n"})
    code, _, err = run_cli("build", *common, "--templates", user)
    assert code == 2, err
    assert "desk.md.j2:1" in err and "nothing written" in err
    assert snapshot(out) == before


def test_bad_data_build_leaves_output_byte_identical(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    common = ("--data", mini_data, "--out", out, "--audience", "public", "--format", "md")
    assert run_cli("build", *common)[0] == 0
    before = snapshot(out)
    records = mini_data / "mini" / "records.yaml"
    records.write_text(records.read_text().replace("report#2]", "report#9]", 1))
    code, _, err = run_cli("build", *common)
    assert code == 2, err
    assert snapshot(out) == before

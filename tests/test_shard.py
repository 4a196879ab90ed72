"""--shard I/N: a stable 1/N of the briefs by (dataset, audience), for CI matrices (issue 18)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from briefs.pipeline.shard import in_shard, parse_shard, shard_of
from tests.conftest import RunCli


@pytest.fixture
def five_datasets(mini_data: Path) -> Path:
    """The mini dataset and four copies: 5 × 4 audiences = 20 briefs."""
    for i in range(4):
        shutil.copytree(mini_data / "mini", mini_data / f"mini-{i}")
    return mini_data


def listed(stdout: str) -> list[str]:
    """The target names `list` printed."""
    return [line.split()[0] for line in stdout.splitlines() if line and not line[0].isdigit()]


def test_three_shards_build_every_target_once(five_datasets: Path, tmp_path: Path, run_cli: RunCli) -> None:
    code, stdout, stderr = run_cli("list", "--data", five_datasets, "--out", tmp_path / "full")
    assert code == 0, stderr
    everything = listed(stdout)
    assert len(everything) == 5 * 4 * 2  # pdf and md of each brief
    built: list[str] = []
    for i in (1, 2, 3):
        out = tmp_path / f"shard-{i}"
        code, stdout, stderr = run_cli("--data", five_datasets, "--out", out, "--shard", f"{i}/3", "--format", "md")
        assert code == 0, stderr
        names = [str(p.relative_to(out).with_suffix("")) for p in out.rglob("*.md") if ".briefs" not in p.parts]
        assert names, f"shard {i}/3 built nothing (20 briefs: each shard should hold some)"
        built += [f"{name}.md" for name in names]
    assert Counter(built) == Counter(name for name in everything if name.endswith(".md"))


def test_a_briefs_formats_stay_in_one_shard(five_datasets: Path, tmp_path: Path, run_cli: RunCli) -> None:
    seen: dict[str, int] = {}
    for i in (1, 2, 3):
        code, stdout, stderr = run_cli("list", "--data", five_datasets, "--out", tmp_path / "o", "--shard", f"{i}/3")
        assert code == 0, stderr
        for name in listed(stdout):
            brief = name.rsplit(".", 1)[0]
            assert seen.setdefault(brief, i) == i, f"{name} in shard {i}, its other format in {seen[brief]}"
    assert len(seen) == 20


def test_the_shard_of_a_brief_is_stable() -> None:
    # A hash of the names, not Python's hash() (salted per process) and not a position in a list.
    assert shard_of("kazakhstan-2022", "desk", 7) == shard_of("kazakhstan-2022", "desk", 7)
    assert [shard_of("kazakhstan-2022", a, 3) for a in ("principal", "desk", "congress", "public")] == [
        shard_of("kazakhstan-2022", a, 3) for a in ("principal", "desk", "congress", "public")
    ]
    assert in_shard("a", "b", None) and in_shard("a", "b", (1, 1))
    assert sum(in_shard("a", "b", (i, 4)) for i in range(1, 5)) == 1


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "x", "1/3/2", "1 of 3"])
def test_a_bad_shard_is_bad_usage(text: str, mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    with pytest.raises(ValueError):
        parse_shard(text)
    code, _, stderr = run_cli("--data", mini_data, "--out", tmp_path / "out", "--shard", text)
    assert code == 2, stderr
    assert "--shard" in stderr and "I/N" in stderr
    assert not (tmp_path / "out").exists()


def test_a_shard_does_not_claim_the_others_are_up_to_date(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """The no-op fast path records every target of a build; a shard's build must not leave such a record."""
    out = tmp_path / "out"
    for i in (1, 2):
        code, _, stderr = run_cli("--data", mini_data, "--out", out, "--shard", f"{i}/2", "--format", "md")
        assert code == 0, stderr
    code, stdout, stderr = run_cli("--data", mini_data, "--out", out, "--format", "md")
    assert code == 0, stderr
    assert stdout.strip().endswith(" s") and "0 built, 4 up to date, 0 failed" in stdout

"""Shared fixtures: a small valid dataset written inline, and the CLI driven in-process."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from briefs.cli import main

REPO = Path(__file__).resolve().parent.parent
SHIPPED_DATA = REPO / "data"
SHIPPED_TEMPLATES = REPO / "templates"

MINI = {
    "dataset.yaml": """\
        info:
          title: Mini brief on Testland
          subject: Testland after the floods
          as_of: 2022-06-30
          summary: Testland had *floods* in May.
          bluf: Floods hit Testland; aid is needed.
          keywords: [Testland, floods]
          key_points:
            - text: The river rose 4 meters, the report says.
              cites: [report#2]
        """,
    "sources.yaml": """\
        sources:
          - id: report
            title: Floods in Testland
            publisher: Test Institute
            date: 2022-06
            url: https://example.org/floods
            paragraphs:
              - {n: 1, gist: Title, substantive: false}
              - {n: 2, gist: The river rose 4 meters in May.}
        """,
    "records.yaml": """\
        events:
          - id: flood
            date: 2022-05-13
            title: The river Test floods
            cites: [report#2]
        figures:
          - id: rise
            label: River rise
            value: 4
            unit: meters
            period: May 2022
            measures: Peak rise of the river Test.
            key: true
            cites: [report#2]
        recommendations:
          - id: aid
            text: Send flood aid.
            origin: stated
            basis: The report calls for aid.
            cites: [report#2]
        """,
}


@pytest.fixture(scope="session", autouse=True)
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The suite keeps fonts, notes and compiled templates in a folder of its own (each worker process), not
    the user's ``~/.cache/briefs``: its many temporary template folders would only fill that one."""
    patch = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp("cache")
    patch.setenv("BRIEFS_CACHE_DIR", str(folder))
    yield folder
    patch.undo()


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text, dedented) under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def mini_data(tmp_path: Path) -> Path:
    """A data folder holding one small valid dataset, `mini`."""
    return write_tree(tmp_path / "data", {f"mini/{k}": v for k, v in MINI.items()})


@pytest.fixture
def two_datasets(mini_data: Path) -> Path:
    """The mini dataset and a copy of it, `mini2`."""
    shutil.copytree(mini_data / "mini", mini_data / "mini2")
    return mini_data


RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """Run ``main(argv)`` in-process; returns (exit status, stdout, stderr)."""

    def run(*argv: str | Path) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


SHIPPED_FORMATS = ("pdf", "md", "html", "docx")


@pytest.fixture(scope="session")
def shipped_build(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The shipped data and templates built once per test run, every format, from scratch: the output folder.

    Tests that only read the shipped briefs share it (issue 28: one build instead of six). Under
    pytest-xdist the workers share one build too: the first to ask makes it under a file lock, the others
    wait for it and read it (pytest-xdist's documented pattern for session fixtures). Fitting never
    depends on the formats asked for, so these are the bytes a build of any one format writes. Read only:
    a test that changes or rebuilds outputs builds its own.
    """
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent  # shared by every worker of this run
    out = root / "shipped-build"
    with FileLock(str(root / "shipped-build.lock")):
        if not (out / ".complete").exists():
            shutil.rmtree(out, ignore_errors=True)
            argv = ["--data", str(SHIPPED_DATA), "--out", str(out), "-q", "--time-limit", "0"]
            for fmt in SHIPPED_FORMATS:
                argv += ["--format", fmt]
            assert main(argv) == 0
            (out / ".complete").touch()
    return out

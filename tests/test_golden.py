"""Golden text of every shipped Markdown brief (issue 5): a diff shows exactly what a change did to the output.

The goldens live in ``tests/golden/<dataset>/<audience>.md``. After a deliberate change to the data,
an audience file or a template, refresh them with ONE command, then read the diff before committing:

    BRIEFS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

Markdown is the text of the brief; the PDF's look is guarded by tests/test_pdf.py and by looking at it.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, SHIPPED_DATA, SHIPPED_TEMPLATES

GOLDEN = REPO / "tests" / "golden"
UPDATE = os.environ.get("BRIEFS_UPDATE_GOLDEN") == "1"
REFRESH = "BRIEFS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py"


GUARDED = ("kazakhstan-2022",)
"""The datasets the project ships: each must have its goldens. An analyst's own dataset in data/ gets
them only once made (the refresh command makes them for every dataset); until then its briefs are
skipped here, saying so, rather than failing a suite that guards the shipped briefs."""


def _datasets() -> list[str]:
    return sorted(p.name for p in SHIPPED_DATA.iterdir() if p.is_dir() and not p.name.startswith("."))


def shipped_briefs() -> list[tuple[str, str]]:
    datasets = _datasets()
    audiences = sorted(p.stem for p in (SHIPPED_TEMPLATES / "audiences").glob("*.yaml"))
    return [(d, a) for d in datasets for a in audiences]


def test_the_shipped_datasets_are_in_data() -> None:
    assert set(GUARDED) <= set(_datasets()), "a shipped dataset is missing from data/"


@pytest.fixture(scope="module")
def markdown(shipped_build: Path) -> Path:
    """Every shipped brief as Markdown, built from scratch (a first edition: no 'What changed' section)."""
    return shipped_build


@pytest.mark.parametrize(("dataset", "audience"), shipped_briefs())
def test_markdown_matches_golden(markdown: Path, dataset: str, audience: str) -> None:
    if dataset not in GUARDED and not (GOLDEN / dataset).is_dir():
        pytest.skip(f"data/{dataset} is not a shipped dataset and has no goldens yet; make them with: {REFRESH}")
    path = markdown / dataset / f"{audience}.md"
    golden = GOLDEN / dataset / f"{audience}.md"
    if not path.is_file() and dataset not in GUARDED:
        pytest.skip(f"{dataset} and {audience} do not go together (`datasets:` or `info.audiences`): no brief")
    built = path.read_text(encoding="utf-8")
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(built, encoding="utf-8")
        return
    assert golden.is_file(), f"no golden for {dataset}/{audience}; create it with: {REFRESH}"
    expected = golden.read_text(encoding="utf-8")
    if built != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                built.splitlines(keepends=True),
                f"golden/{dataset}/{audience}.md",
                "built",
                n=1,
            )
        )
        pytest.fail(f"{dataset}/{audience}.md differs from its golden; if intended, run: {REFRESH}\n{diff[:6000]}")


def test_no_stale_goldens() -> None:
    """A golden whose brief no longer exists would guard nothing."""
    expected = {f"{d}/{a}.md" for d, a in shipped_briefs()}
    found = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.md")}
    if UPDATE:
        for stale in found - expected:
            (GOLDEN / stale).unlink()
        return
    assert found <= expected, f"goldens without a brief: {sorted(found - expected)}; run: {REFRESH}"


def test_markdown_furniture(markdown: Path) -> None:
    """Front matter where the audience asks for it, the marking first and last in a marked brief (after the
    notes), footnotes for citations, the timeline as a table, and GFM that pastes well (issue 13)."""
    for dataset, audience in shipped_briefs():
        if not (markdown / dataset / f"{audience}.md").is_file() and dataset not in GUARDED:
            continue  # an analyst's dataset that does not go with this audience
        text = (markdown / dataset / f"{audience}.md").read_text(encoding="utf-8")
        spec = yaml.safe_load((SHIPPED_TEMPLATES / "audiences" / f"{audience}.yaml").read_text(encoding="utf-8"))
        if spec.get("front_matter", True):
            front, body = text.removeprefix("---\n").split("\n---\n", 1)
            meta = yaml.safe_load(front)
            assert {"title", "date", "audience"} <= set(meta), audience
            assert meta["audience"] == audience
            assert meta.get("marking") == spec.get("marking")
        else:
            assert not text.startswith("---"), audience
            body = text
        lines = [line for line in body.strip().splitlines() if line.strip()]
        if spec.get("marking"):
            assert lines[0].startswith(f"**{spec['marking']}**"), audience
            assert lines[-1] == f"**{spec['marking']}**", audience  # the last line, after the notes
        # No empty heading: every heading is followed by something before the next heading.
        headings = [i for i, line in enumerate(lines) if line.startswith("#")]
        for i in headings:
            level = len(lines[i]) - len(lines[i].lstrip("#"))
            following = lines[i + 1] if i + 1 < len(lines) else ""
            next_level = len(following) - len(following.lstrip("#")) if following.startswith("#") else 99
            assert following and next_level > level, (audience, lines[i])
        # Adjacent footnote references are separated, so "[^7][^16]" never reads as 716.
        assert "][^" not in body, audience
        # Straight double quotes never appear in prose (links and code aside).
        prose = re.sub(r"<https?://[^>]+>|\]\([^)]*\)|`[^`]*`", "", body)
        assert '"' not in prose, audience
        # "Drafted: …" and the marking on lines of their own.
        for line in lines:
            assert not (line.startswith("Drafted:") and "**" in line), (audience, line)
        cited = set(re.findall(r"\[\^(\d+)\](?!:)", body))
        defined = set(re.findall(r"^\[\^(\d+)\]:", body, re.M))
        assert cited and cited == defined, audience
        if "timeline" in [s if isinstance(s, str) else s["id"] for s in spec["sections"]]:
            assert "| Date | Event |" in body

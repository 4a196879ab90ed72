"""The worked examples of docs/audiences.md, taken from the page itself, pass `check` and build (issue 19)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO, RunCli

JUDGMENT = """
judgments:
  - id: more-floods
    text: Floods will recur next spring.
    confidence: high
    by: analyst
    cites: [report#2]
"""


def doc_files(doc: Path) -> dict[str, str]:
    """Every fenced block that starts by naming its file (``{# my-templates/… #}`` or ``# my-templates/…``)."""
    files: dict[str, str] = {}
    for block in re.findall(r"```(?:jinja|yaml)\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S):
        first = block.splitlines()[0]
        named = re.match(r"^(?:\{#|#) my-templates/(\S+?)(?: #\})?$", first)
        if named:
            files[named.group(1)] = block  # a later, fuller version of a file replaces the first
    return files


def test_audiences_doc_examples_build(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    files = doc_files(REPO / "docs" / "audiences.md")
    assert {
        "audiences/astana.yaml",
        "audiences/desk.html.j2",
        "audiences/desk.md.j2",
        "base/sections/judgments.html.j2",
    } <= set(files)
    user = tmp_path / "my-templates"
    for rel, text in files.items():
        (user / rel).parent.mkdir(parents=True, exist_ok=True)
        (user / rel).write_text(text, encoding="utf-8")
    with (mini_data / "mini" / "records.yaml").open("a", encoding="utf-8") as fh:
        fh.write(JUDGMENT)
    code, out, err = run_cli("check", "--data", mini_data, "--templates", user)
    assert code == 0, err
    assert "5 audiences" in out
    out_dir = tmp_path / "out"
    code, _, err = run_cli(
        "build",
        "--data",
        mini_data,
        "--templates",
        user,
        "--out",
        out_dir,
        "--audience",
        "desk",
        "--format",
        "html",
        "--format",
        "md",
    )
    assert code == 0, err
    html = (out_dir / "mini" / "desk.html").read_text(encoding="utf-8")
    assert "Prepared for the political section, US Embassy Astana." in html  # the memo_header block
    assert "section.judgments h2 { color: #7a1f1f;" in html  # the style block, after the shipped style
    assert '<table class="judgment-table">' in html and "High (analyst)" in html  # the replaced partial
    md = (out_dir / "mini" / "desk.md").read_text(encoding="utf-8")
    assert "\n*Prepared for the political section, US Embassy Astana.*\n\n" in md  # Markdown kept by super()

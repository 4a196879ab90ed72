"""The worked examples of docs/audiences.md, taken from the page itself, pass `check` and build (issue 19)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunCli, write_tree
from tests.test_audiences import doc_files

JUDGMENT = """
judgments:
  - id: more-floods
    text: We assess that floods are likely to recur next spring.
    likelihood: likely
    confidence: moderate
    made: 2022-07-01
    by: analyst
    basis: The report's river levels; one report, hence moderate.
    cites: [report#2]
"""


def test_audiences_doc_examples_build(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    files = doc_files()  # a later, fuller version of a file replaces the first
    assert "my-templates/base/sections/judgments.html.j2" in files
    assert "my-templates/css/astana.css" in files  # a stylesheet of one's own, linked by public's template
    write_tree(tmp_path, files)
    user = tmp_path / "my-templates"
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
    assert '<table class="judgment-table">' in html and "Moderate (analyst)" in html  # the replaced partial
    md = (out_dir / "mini" / "desk.md").read_text(encoding="utf-8")
    assert "\n*Prepared for the political section, US Embassy Astana.*\n\n" in md  # Markdown kept by super()

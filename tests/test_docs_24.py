"""The docs a new user needed (issue 24): every audience key in the table, real key names, real output,
no empty meaning in the generated references, and the curly-quote rule as the renderer applies it."""

from __future__ import annotations

import re
from pathlib import Path

from briefs import docgen
from briefs.data import model
from briefs.formats.render import typographic
from tests.conftest import REPO, SHIPPED_DATA, RunCli, write_tree
from tests.test_audiences import doc_files

AUDIENCES_DOC = REPO / "docs" / "audiences.md"


def _key_table() -> dict[str, str]:
    """docs/audiences.md's "What an audience file can say": key -> meaning."""
    text = AUDIENCES_DOC.read_text(encoding="utf-8")
    table = text.split("### What an audience file can say", 1)[1].split("\n\n", 2)[1]
    return dict(re.findall(r"^\| `([a-z_]+)`(?:, `[a-z_]+`)? \| (.+) \|$", table, re.M)) | {
        extra: meaning for extra, meaning in re.findall(r"^\| `[a-z_]+`, `([a-z_]+)` \| (.+) \|$", table, re.M)
    }


def test_the_audience_key_table_names_every_key_and_only_real_ones() -> None:
    table = _key_table()
    keys = {info.alias or name for name, info in model.Audience.model_fields.items()} - {"id"}
    assert keys <= set(table), sorted(keys - set(table))  # `datasets`, `voice`… were missing
    assert set(table) <= keys, sorted(set(table) - keys)
    said = set(re.findall(r"`([a-z_]+)(?::[^`]*)?`", table["sections"]))
    spec = set(model.SectionSpec.model_fields)
    assert spec <= said, sorted(spec - said)  # `max_paragraph_priority`, `annex`
    assert "max_claim_priority" not in AUDIENCES_DOC.read_text(encoding="utf-8")  # no such key


def test_generated_references_leave_no_meaning_empty() -> None:
    for text in (docgen.generate(), docgen.template_reference()):
        empty = [line for line in text.splitlines() if line.startswith("| `") and line.rstrip().endswith("|  |")]
        assert not empty, empty
        assert "Lives in inside" not in text and "str(object=" not in text


def test_the_curly_quote_rule_is_documented_as_applied() -> None:
    doc = docgen.generate()
    assert "### Quotes are set curly" in doc
    assert typographic("\"double\" and 'single', it's") == "\u201cdouble\u201d and \u2018single\u2019, it\u2019s"
    assert typographic("the '90s") == "the \u201890s"  # why the doc says to type a leading apostrophe curly
    assert typographic("the \u201990s") == "the \u201990s"


def test_the_astana_example_prints_what_the_doc_shows(tmp_path: Path, run_cli: RunCli) -> None:
    text = AUDIENCES_DOC.read_text(encoding="utf-8")
    shown = re.search(r"```\n(built output/kazakhstan-2022/astana\.pdf.*?)```", text, re.S)
    assert shown, "the example output of the astana build"
    files = {k: v for k, v in doc_files().items() if k == "my-templates/audiences/astana.yaml"}
    write_tree(tmp_path, files)
    code, out, err = run_cli(
        "--data", SHIPPED_DATA, "--templates", tmp_path / "my-templates", "--out", tmp_path / "output",
        "--audience", "astana",
    )  # fmt: skip
    assert code == 0, err

    def same(said: str) -> str:
        said = said.replace(str(tmp_path) + "/", "")
        return re.sub(r"in \d+\.\d+ s$", "in N s", said.strip(), flags=re.M)

    assert same(out) == same(shown.group(1))

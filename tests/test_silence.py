"""Issue 24: nothing a user writes is lost in silence."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import RunCli, write_tree

ACTION_ONLY_YAML = """\
    title: Action Memo
    memo_type: action
    decide_by: 2022-07-15
    memo:
      to: The Director
      through: The Deputy Director
      prepared_by: A. Analyst
      cleared_by: B. Chief
    formats: [md, html]
    sections:
      - bluf
      - {id: recommendations, title: What we recommend}
      - sources
    """


def test_an_audience_file_alone_gets_every_memo_part(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """No template of its own: TO/FROM/SUBJECT, DECIDE BY, Approve/Disapprove and sign-off come from the base."""
    user = write_tree(tmp_path / "mine", {"audiences/decision.yaml": ACTION_ONLY_YAML})
    out = tmp_path / "out"
    code, _, err = run_cli("--data", mini_data, "--templates", user, "--out", out, "--audience", "decision")
    assert code == 0, err
    for fmt in ("md", "html"):
        text = (out / "mini" / f"decision.{fmt}").read_text(encoding="utf-8")
        flat = " ".join(re.sub(r"<[^>]+>", " ", text).replace("*", "").split())
        assert "ACTION MEMO FOR THE DIRECTOR" in flat, fmt
        assert "TO: The Director" in flat and "THROUGH: The Deputy Director" in flat, flat
        assert "SUBJECT: Testland after the floods" in flat
        assert "DECIDE BY: July 15, 2022" in flat
        assert "That you send flood aid." in flat
        assert re.search(r"Approve (\\_|_)+ Disapprove", flat), flat
        assert "What we recommend" in flat  # an action memo's section keeps its title
        assert "Drafted: A. Analyst" in flat and "Cleared: B. Chief" in flat

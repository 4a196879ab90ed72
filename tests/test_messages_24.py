"""Messages a new user can act on (issue 24): near names suggested, template errors in the author's terms,
options of another command named as such, a misspelt block refused by `build` as by `check`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SHIPPED_TEMPLATES, RunCli


def test_mistyped_audience_and_dataset_get_a_suggestion(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("build", "--data", mini_data, "--out", tmp_path / "out", "--audience", "dsk")
    assert code == 2 and "unknown audience 'dsk' (did you mean 'desk'?)" in err
    code, _, err = run_cli("list", "--data", mini_data, "--audience", "congres")
    assert code == 2 and "(did you mean 'congress'?)" in err
    code, _, err = run_cli("build", "--data", mini_data, "--out", tmp_path / "out", "--dataset", "minii")
    assert code == 2 and "unknown dataset 'minii' (did you mean 'mini'?)" in err
    assert not (tmp_path / "out").exists()


def test_an_audience_of_ones_own_points_at_templates(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("build", "--data", mini_data, "--out", tmp_path / "out", "--audience", "action")
    assert code == 2 and "pass --templates DIR" in err


def test_an_option_of_another_command_is_named_as_such(run_cli: RunCli) -> None:
    code, _, err = run_cli("build", "--send", "--dry-run")
    assert code == 2
    assert "--dry-run is an option of 'send' only" in err and "did you mean --dry-run" not in err
    code, _, err = run_cli("build", "--forse")
    assert code == 2 and "did you mean --force?" in err


def _templates(tmp_path: Path) -> Path:
    folder = tmp_path / "tpl"
    shutil.copytree(SHIPPED_TEMPLATES, folder)
    return folder


def test_a_mistyped_section_kind_gets_a_suggestion(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    folder = _templates(tmp_path)
    desk = folder / "audiences" / "desk.yaml"
    desk.write_text(desk.read_text(encoding="utf-8").replace("  - summary\n", "  - key_point\n"), encoding="utf-8")
    code, _, err = run_cli("check", "--data", mini_data, "--templates", folder)
    assert code == 2 and "found 'key_point' (did you mean 'key_points'?)" in err
    assert "desk.yaml:" in err


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ("{{ info.subjekt }}", "the dataset's info has no field 'subjekt' (did you mean 'subject'?)"),
        ("{{ audience.titel }}", "the audience has no field 'titel' (did you mean 'title'?)"),
        ("{{ infoo.title }}", "'infoo' is not defined (did you mean 'info'?)"),
    ],
)
def test_template_errors_speak_the_authors_terms(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, expression: str, said: str
) -> None:
    folder = _templates(tmp_path)
    page = folder / "audiences" / "desk.html.j2"
    text = page.read_text(encoding="utf-8").replace("<style>\n", f"<style>{expression}\n", 1)
    page.write_text(text, encoding="utf-8")
    code, _, err = run_cli("build", "--data", mini_data, "--templates", folder, "--out", tmp_path / "out")
    assert code == 2, err
    assert said in err and "desk.html.j2:" in err
    assert "briefs.data" not in err and "object'" not in err


def test_build_refuses_a_misspelt_block_as_check_does(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    folder = _templates(tmp_path)
    page = folder / "audiences" / "desk.html.j2"
    page.write_text(
        page.read_text(encoding="utf-8").replace("{% block memo_header %}", "{% block mastehad %}"), encoding="utf-8"
    )
    out = tmp_path / "out"
    code, _, err = run_cli("build", "--data", mini_data, "--templates", folder, "--out", out)
    assert code == 2 and "block 'mastehad' is not one its layout defines (did you mean 'masthead'?)" in err
    assert not out.exists() or not any(out.rglob("*.pdf"))


def test_a_decision_wanted_before_the_memos_date_is_refused(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    principal = (SHIPPED_TEMPLATES / "audiences" / "principal.yaml").read_text(encoding="utf-8")
    action = principal.replace("memo_type: information", "memo_type: action\ndecide_by: 1990-01-01")
    folder = tmp_path / "tpl"
    (folder / "audiences").mkdir(parents=True)
    (folder / "audiences" / "action.yaml").write_text(action + "  - recommendations\n", encoding="utf-8")
    code, _, err = run_cli("check", "--data", mini_data, "--templates", folder)
    assert code == 2 and "action.yaml:" in err and "decide_by: expected a date on or after the memo's date" in err
    fixed = action.replace("decide_by: 1990-01-01", "decide_by: 2100-01-01")
    (folder / "audiences" / "action.yaml").write_text(fixed + "  - recommendations\n", encoding="utf-8")
    code, _, err = run_cli("check", "--data", mini_data, "--templates", folder)
    assert "decide_by" not in err

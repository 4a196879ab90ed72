"""The no-op fast path: a build whose inputs are byte for byte the last good build's stops before planning.

It must never say "up to date" when the full build would not: each test below changes one thing the
full build looks at and checks the run went past the fast path.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, RunCli, write_tree

AUDIENCE = {
    "audiences/alpha.yaml": """\
        title: Alpha Memo
        formats: [md]
        sections: [bluf, figures, sources]
        limits: {words: 300}
        """,
}

HEAVY = ("jinja2", "pydantic", "yaml", "markdown", "nh3", "weasyprint", "briefs.pipeline.build", "briefs.data.model")


@pytest.fixture
def tpl(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "tpl", AUDIENCE)


def args_for(data: Path, tpl: Path, out: Path, *extra: str) -> list[str]:
    return ["--data", str(data), "--templates", str(tpl), "--audience", "alpha", "--out", str(out), *extra]


def record(out: Path) -> dict[str, object] | None:
    path = out / ".briefs" / "noop.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def probe(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter and report which heavy modules it imported."""
    code = (
        "import sys; from briefs.cli import main; status = main(sys.argv[1:]); "
        f"print('imported:', sorted(m for m in {HEAVY!r} if m in sys.modules)); sys.exit(status)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_no_op_build_imports_nothing_heavy(two_datasets: Path, tpl: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    args = args_for(two_datasets, tpl, out)
    assert run_cli(*args)[0] == 0
    assert record(out) is not None
    done = probe([*args, "-v"])
    assert done.returncode == 0, done.stderr
    assert "0 built, 2 up to date, 0 failed" in done.stdout
    assert f"up to date {out / 'mini' / 'alpha.md'}" in done.stdout  # -v lists the outputs, as the full path does
    assert "imported: []" in done.stdout


def test_full_plan_of_a_no_op_still_skips_weasyprint(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """Past the fast path (--explain always plans), a no-op still never imports WeasyPrint."""
    out = tmp_path / "out"
    args = ["--data", str(mini_data), "--out", str(out), "--audience", "principal"]
    assert run_cli(*args)[0] == 0  # PDF and Markdown
    done = probe([*args, "--explain"])
    assert done.returncode == 0, done.stderr
    assert "principal.pdf: skip — up to date" in done.stdout
    assert "'weasyprint'" not in done.stdout and "'jinja2'" in done.stdout  # planned, rendered nothing


@pytest.mark.parametrize("change", ["data", "new file", "template", "output deleted", "state deleted", "options"])
def test_any_change_goes_past_the_fast_path(
    change: str, two_datasets: Path, tpl: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "out"
    args = args_for(two_datasets, tpl, out)
    assert run_cli(*args)[0] == 0
    before = record(out)
    records = two_datasets / "mini" / "records.yaml"
    expect_built = {"mini/alpha.md"}
    if change == "data":
        records.write_text(records.read_text(encoding="utf-8").replace("value: 4", "value: 5"), encoding="utf-8")
    elif change == "new file":  # a new dataset folder is a new target
        shutil.copytree(two_datasets / "mini", two_datasets / "mini3")
        expect_built = {"mini3/alpha.md"}
    elif change == "template":
        write_tree(tpl, {"base/sections/figures.md.j2": "## Figures (overridden)\n"})
        expect_built = {"mini/alpha.md", "mini2/alpha.md"}
    elif change == "output deleted":
        (out / "mini" / "alpha.md").unlink()
    elif change == "state deleted":
        (out / ".briefs" / "state.json").unlink()
        expect_built = {"mini/alpha.md", "mini2/alpha.md"}  # no record of a previous build
    elif change == "options":
        args = [*args, "--dataset", "mini"]
        expect_built = set()
    code, stdout, stderr = run_cli(*args)
    assert code == 0, stderr
    built = {"/".join(Path(line.split()[1]).parts[-2:]) for line in stdout.splitlines() if line.startswith("built ")}
    assert built == expect_built
    after = record(out)
    assert after is not None and before is not None
    inputs_changed = change not in ("output deleted", "state deleted")
    assert (after["fingerprint"] != before["fingerprint"]) == inputs_changed


def test_a_failed_build_withdraws_the_record(two_datasets: Path, tpl: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """Inputs X build; inputs Y write some outputs and fail one; back to X must rebuild, not trust X's record."""
    out = tmp_path / "out"
    args = args_for(two_datasets, tpl, out)
    assert run_cli(*args)[0] == 0
    good = (out / "mini" / "alpha.md").read_text(encoding="utf-8")
    mini = two_datasets / "mini" / "dataset.yaml"
    mini2 = two_datasets / "mini2" / "dataset.yaml"
    x_mini, x_mini2 = mini.read_text(encoding="utf-8"), mini2.read_text(encoding="utf-8")
    mini.write_text(x_mini.replace("aid is needed", "aid is urgently needed"), encoding="utf-8")
    mini2.write_text(x_mini2.replace("aid is needed.", "aid is needed. " + "Many words here. " * 120), encoding="utf-8")
    code, stdout, stderr = run_cli(*args)
    assert code == 1 and "FAILED" in stderr and "mini2/alpha.md" in stderr  # over its word limit
    assert "urgently" in (out / "mini" / "alpha.md").read_text(encoding="utf-8")
    assert record(out) is None
    mini.write_text(x_mini, encoding="utf-8")
    mini2.write_text(x_mini2, encoding="utf-8")
    code, stdout, _ = run_cli(*args)
    assert code == 0 and f"built {out / 'mini' / 'alpha.md'}" in stdout
    assert (out / "mini" / "alpha.md").read_text(encoding="utf-8") == good
    assert record(out) is not None


def test_force_and_explain_always_plan(two_datasets: Path, tpl: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    args = args_for(two_datasets, tpl, out)
    assert run_cli(*args)[0] == 0
    code, stdout, _ = run_cli(*args, "--explain")
    assert code == 0 and "mini/alpha.md: skip — up to date" in stdout
    code, stdout, _ = run_cli(*args, "--force")
    assert code == 0 and "2 built" in stdout


def test_an_empty_new_folder_or_another_working_folder_goes_past_the_fast_path(
    two_datasets: Path, tpl: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    args = args_for(two_datasets, tpl, out)
    assert run_cli(*args)[0] == 0
    (two_datasets / "empty").mkdir()
    code, _, stderr = run_cli(*args)
    assert code == 2 and "no .yaml files" in stderr  # what the full build says, not "up to date"
    (two_datasets / "empty").rmdir()
    assert run_cli(*args)[0] == 0
    before = record(out)
    # Stamps name files relative to the working folder: from another one, the full build decides.
    monkeypatch.chdir(tmp_path)
    code, stdout, _ = run_cli(*args)
    assert code == 0 and "up to date" in stdout
    after = record(out)
    assert before is not None and after is not None and after["fingerprint"] != before["fingerprint"]


def test_an_edit_saved_during_a_build_leaves_no_record(two_datasets: Path, tpl: Path, tmp_path: Path) -> None:
    """The fingerprint is taken before planning; the build takes it again at the end and must match."""
    from briefs.pipeline.build import Options, build
    from briefs.pipeline.fastpath import fingerprint

    out = tmp_path / "out"
    common = {"data_dir": two_datasets, "out_dir": out, "templates_dir": tpl}
    selection = {"datasets": (), "audiences": ("alpha",), "formats": (), "pdf_variant": None}
    before_edit = fingerprint(**common, **selection)
    records = two_datasets / "mini" / "records.yaml"
    records.write_text(records.read_text(encoding="utf-8").replace("value: 4", "value: 5"), encoding="utf-8")
    report = build(Options(**common, audiences=("alpha",), jobs=1, fingerprint=before_edit))
    assert not report.failed
    assert record(out) is None  # it read the edited file: the fingerprint from before must not vouch for it
    now = fingerprint(**common, **selection)
    build(Options(**common, audiences=("alpha",), jobs=1, fingerprint=now))
    assert record(out) is not None and record(out)["fingerprint"] == now  # type: ignore[index]

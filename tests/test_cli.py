"""End-to-end: the CLI driven in-process, real WeasyPrint, outputs read back."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest

from tests.conftest import REPO, SHIPPED_DATA, RunCli


def read_pdf(path: Path) -> tuple[str, pypdf.PdfReader]:
    reader = pypdf.PdfReader(path)
    return "\n".join(page.extract_text() for page in reader.pages), reader


@pytest.mark.slow
def test_build_desk_brief_from_shipped_data(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(
        "--data",
        SHIPPED_DATA,
        "--out",
        out,
        "--audience",
        "desk",
        "--format",
        "pdf",
        "--format",
        "md",
        "--format",
        "html",
    )
    assert code == 0, stderr
    pdf, md, html = (out / "kazakhstan-2022" / f"desk.{ext}" for ext in ("pdf", "md", "html"))
    text, reader = read_pdf(pdf)
    assert reader.metadata is not None
    assert reader.metadata.title == "How Russia’s invasion of Ukraine affected Kazakh politics"
    assert "How Russia’s invasion of Ukraine" in text
    assert "232" in text and "21.3" in text  # the death toll and the frozen sum, from the data
    md_text = md.read_text(encoding="utf-8")
    assert not md_text.startswith("---")  # the desk brief is pasted into wikis: no front matter (issue 13)
    assert "# How Russia’s invasion of Ukraine affected Kazakh politics" in md_text
    assert "[^1]:" in md_text  # citations as footnotes
    assert "<html" in html.read_text(encoding="utf-8")
    assert "3 built, 0 up to date, 0 failed" in stdout


def test_second_build_is_a_no_op(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    assert run_cli("--data", mini_data, "--out", out, "--audience", "desk")[0] == 0
    pdf = out / "mini" / "desk.pdf"
    before = pdf.stat().st_mtime_ns
    code, stdout, _ = run_cli("--data", mini_data, "--out", out, "--audience", "desk")
    assert code == 0
    assert "0 built, 2 up to date" in stdout
    assert pdf.stat().st_mtime_ns == before


def test_mini_pdf_text_and_md_escape(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    assert run_cli("--data", mini_data, "--out", out, "--audience", "public")[0] == 0
    text, _reader = read_pdf(out / "mini" / "public.pdf")
    assert "Mini brief on Testland" in text and "The river rose 4 meters, the report says." in text
    md = (out / "mini" / "public.md").read_text(encoding="utf-8")
    assert "Testland had *floods* in May." in md  # inline Markdown kept as Markdown
    assert "The river rose 4 meters, the report says.[^1]" in md


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--data", "nowhere"), "data folder not found"),
        (("--audience", "nobody"), "unknown audience 'nobody'"),
        (("--format", "rtf"), "unknown format 'rtf'"),
        (("--dataset", "atlantis"), "unknown dataset 'atlantis'"),
        (("--jobs", "many"), "usage:"),
    ],
)
def test_bad_usage_exits_2_and_writes_nothing(
    tmp_path: Path, run_cli: RunCli, args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "out"
    argv = ["--out", out, *args]
    if "--data" not in args:
        argv += ["--data", SHIPPED_DATA]
    code, _stdout, stderr = run_cli(*argv)
    assert code == 2
    assert message in stderr
    error_lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "Traceback" not in stderr
    assert not out.exists()


def test_bad_data_exits_2_and_keeps_previous_outputs(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "out"
    assert run_cli("--data", mini_data, "--out", out, "--audience", "desk")[0] == 0
    md = out / "mini" / "desk.md"
    good = md.read_bytes()
    records = mini_data / "mini" / "records.yaml"
    records.write_text(records.read_text().replace("value: 4", "value: four"))
    code, _, stderr = run_cli("--data", mini_data, "--out", out, "--audience", "desk")
    assert code == 2
    assert f"{records}:9:5: figures[0].value:" in stderr
    assert md.read_bytes() == good


def test_check_and_list(run_cli: RunCli, tmp_path: Path) -> None:
    code, stdout, _ = run_cli("check", "--data", SHIPPED_DATA, "--out", tmp_path / "out")
    assert code == 0
    assert stdout.startswith("ok: 1 dataset,") and "sources" in stdout
    code, stdout, _ = run_cli("list", "--data", SHIPPED_DATA, "--out", tmp_path / "out")
    assert code == 0
    assert "kazakhstan-2022/desk.pdf" in stdout and "output missing" in stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["build", "check", "list"])
def test_help_documents_every_option(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    from briefs.cli import main

    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--data", "--templates", "--out", "--dataset", "--audience", "--format", "-v", "-q", "--debug"):
        assert option in text
    if command == "build":
        assert "--force" in text and "--explain" in text


def test_python_dash_m_and_build_py_agree(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    for argv in ([sys.executable, "build.py", "list"], [sys.executable, "-m", "briefs", "list"]):
        done = subprocess.run(
            [*argv, "--out", str(tmp_path / "o")], cwd=root, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "kazakhstan-2022/desk.pdf" in done.stdout


def test_a_python_without_the_dependencies_is_told_how_to_install(tmp_path: Path) -> None:
    """`python build.py check` with a system Python: one line saying how to install, exit 1, no traceback."""
    import subprocess
    import sys

    probe = (
        "import sys; sys.modules['nh3'] = None; sys.modules['pydantic'] = None; "  # None: import raises
        "sys.argv[0] = 'build.py'; import runpy; runpy.run_path('build.py', run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "check"], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1, done.stderr
    assert "is not installed for" in done.stderr and "pip install -e '.[test]'" in done.stderr
    assert "Traceback" not in done.stderr

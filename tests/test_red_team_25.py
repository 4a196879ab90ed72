"""Issue 25's low findings: damaged records, templates that are not UTF-8 or nest too deep, --jobs 200.

Each test reproduces what the red team did and failed before its fix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from briefs.pipeline import executors
from tests.conftest import RunCli, write_tree


@pytest.fixture
def built(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> Path:
    out = tmp_path / "out"
    code, _, stderr = run_cli("--data", mini_data, "--out", out, "--format", "md")
    assert code == 0, stderr
    return out


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t.__setitem__("mini/desk.md", "x"),
        lambda t: t.__setitem__("mini/desk.md", ["a"]),
        lambda t: t["mini/desk.md"].__setitem__("inputs", 5),
        lambda t: t["mini/desk.md"].__setitem__("inputs", {"data/mini/records.yaml": [1]}),
        lambda t: t["mini/desk.md"].__setitem__("digest", None),
        lambda t: t["mini/desk.md"].__setitem__("options", [1]),
        lambda t: t["mini/desk.md"].__setitem__("output", 7),
    ],
)
def test_a_damaged_state_entry_rebuilds_its_brief_and_breaks_nothing(
    damage: object, built: Path, mini_data: Path, run_cli: RunCli
) -> None:
    state_file = built / ".briefs" / "state.json"
    state = json.loads(state_file.read_text())
    damage(state["targets"])  # type: ignore[operator]
    state_file.write_text(json.dumps(state))
    (built / ".briefs" / "noop.json").unlink(missing_ok=True)
    for _ in range(2):  # the first build repairs the record; the second finds everything up to date
        code, stdout, stderr = run_cli("--data", mini_data, "--out", built, "--format", "md")
        assert code == 0, stderr
    assert "0 built, 4 up to date" in stdout
    code, _, stderr = run_cli("list", "--data", mini_data, "--out", built, "--format", "md")
    assert code == 0, stderr


@pytest.mark.parametrize(
    "text",
    [
        '"x"',
        "[1]",
        '{"edition": 1, "date": "2022-06-30", "input_hash": "x", "records": {"events": {"flood": 5}}}',
        '{"edition": 1, "date": 5, "input_hash": "x", "records": {}}',
        "{not json",
    ],
)
def test_a_damaged_edition_file_is_ignored_with_a_warning(
    text: str, built: Path, mini_data: Path, run_cli: RunCli
) -> None:
    edition = built / "mini" / ".editions" / "desk" / "0001.json"
    edition.write_text(text)
    code, _, stderr = run_cli("--data", mini_data, "--out", built, "--format", "md", "--force")
    assert code == 0, stderr
    assert "0001.json: unreadable edition, ignored" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_template_that_is_not_utf8_is_named_with_line_and_column(
    command: str, mini_data: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    templates = tmp_path / "tpl"
    (templates / "audiences").mkdir(parents=True)
    (templates / "audiences" / "desk.md.j2").write_bytes(b'{% include "part.md.j2" %}\n')
    (templates / "part.md.j2").write_bytes(b"fine\nCaf\xe9 {{ info.title }}\n")
    out = tmp_path / "out"
    code, _, stderr = run_cli(command, "--data", mini_data, "--templates", templates, "--out", out)
    assert code == 2, stderr
    assert f"{templates}/part.md.j2:2:4: expected UTF-8 text, found byte 0xe9" in stderr
    assert not (out / "mini").exists()


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_template_nested_too_deep_to_compile_is_named(
    command: str, mini_data: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    deep = "x\n{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}\n"
    templates = write_tree(tmp_path / "tpl", {"audiences/desk.md.j2": deep})
    out = tmp_path / "out"
    code, _, stderr = run_cli(command, "--data", mini_data, "--templates", templates, "--out", out)
    assert code == 2, stderr
    assert f"{templates}/audiences/desk.md.j2" in stderr and "nested too deeply" in stderr
    assert "RecursionError" not in stderr


def test_jobs_200_forks_no_more_workers_than_briefs(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    executors._shutdown_pools()
    try:
        code, _, stderr = run_cli("--data", mini_data, "--out", tmp_path / "out", "--format", "md", "--jobs", "200")
        assert code == 0, stderr
        assert executors._pools and max(executors._pools) <= 4  # mini has four briefs
        assert all(len(pool._processes) <= 4 for pool in executors._pools.values())  # type: ignore[attr-defined]
        assert "--jobs 200 is more than 4 per CPU" in stderr
    finally:
        executors._shutdown_pools()


def _reference(path: Path, replace: dict[str, bytes] | None = None, pad: int = 0) -> Path:
    """The shipped desk reference document, with parts replaced or padded (deflated: a bomb stays small)."""
    import zipfile

    shipped = Path(__file__).parent.parent / "templates" / "audiences" / "desk.reference.docx"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(shipped) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = (replace or {}).get(name, source.read(name))
            target.writestr(name, data + b" " * pad if name == "word/styles.xml" else data)
    return path


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: _reference(p, pad=17 << 20), "holds more than 16 MB uncompressed"),
        (lambda p: p.write_bytes(b"PK\x03\x04garbage") and p, "damaged or unreadable zip"),
        (lambda p: _reference(p, {"word/styles.xml": b"<w:styles garbage"}), "word/styles.xml is not well-formed XML"),
        (lambda p: _reference(p, {"word/styles.xml": b"<x>not styles</x>"}), "expected a w:styles element"),
    ],
)
def test_a_broken_reference_document_is_named_and_blocks_only_word(
    make: object, says: str, mini_data: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    templates = tmp_path / "tpl"
    reference = templates / "audiences" / "desk.reference.docx"
    reference.parent.mkdir(parents=True)
    make(reference)  # type: ignore[operator]
    out = tmp_path / "out"
    for argv in (("check",), ("build", "--format", "docx")):
        code, _, stderr = run_cli(*argv, "--data", mini_data, "--templates", templates, "--out", out)
        assert code == 2, stderr
        assert f"{reference}: reference document: " in stderr and says in stderr, stderr
        assert "pandoc" not in stderr
    assert not out.exists()
    # The PDF and Markdown do not read it: they build.
    code, _, stderr = run_cli("--data", mini_data, "--templates", templates, "--out", out, "--audience", "desk")
    assert code == 0, stderr
    assert (out / "mini" / "desk.pdf").is_file() and (out / "mini" / "desk.md").is_file()


SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">\n'
    '<image xlink:href="file:///etc/hostname" width="10" height="10"/>\n</svg>\n'
)


@pytest.mark.parametrize("command", ["build", "check"])
@pytest.mark.parametrize("attack", ["svg", "data-css", "data-svg"])
def test_what_an_svg_or_a_data_document_fetches_in_turn_is_refused(
    attack: str, command: str, mini_data: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    """An SVG's own images are drawn when the PDF is written, after layout; a data: stylesheet can @import."""
    import base64

    templates = tmp_path / "tpl"
    if attack == "svg":
        write_tree(templates, {"img/logo.svg": SVG})
        tag = f'<img src="{(templates / "img" / "logo.svg").resolve().as_uri()}" width="40">'
        where = f"{templates}/img/logo.svg" if command == "check" else f"{templates}/audiences/desk.html.j2"
    elif attack == "data-css":
        tag = '<link rel="stylesheet" href="data:text/css,@import%20url(file:///etc/hostname);">'
        where = f"{templates}/audiences/desk.html.j2"
    else:
        tag = f'<img src="data:image/svg+xml;base64,{base64.b64encode(SVG.encode()).decode()}" width="40">'
        where = f"{templates}/audiences/desk.html.j2"
    layout = '{% extends "base/layout.html.j2" %}\n{% block masthead %}' + tag + "{{ super() }}{% endblock %}\n"
    write_tree(templates, {"audiences/desk.html.j2": layout})
    out = tmp_path / "out"
    argv = ("--data", mini_data, "--templates", templates, "--out", out, "--audience", "desk")
    code, _, stderr = run_cli(command, *argv)
    assert code == 2, stderr
    assert where in stderr and "refused to fetch 'file:///etc/hostname': outside the template folders" in stderr
    assert not (out / "mini" / "desk.pdf").exists()


@pytest.mark.parametrize("record", [".briefs/state.json", ".briefs/noop.json", "mini/.editions/desk/0001.json"])
@pytest.mark.parametrize("kind", ["link to /dev/zero", "fifo"])
def test_a_record_in_the_output_folder_that_never_ends_is_not_read_forever(
    record: str, kind: str, built: Path, mini_data: Path
) -> None:
    """The build's own records are read as data files are: only a regular file, within a limit."""
    import subprocess
    import sys

    path = built / record
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    argv = [sys.executable, "-m", "briefs", "--data", str(mini_data), "--out", str(built), "--format", "md"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in done.stderr
    # Ended (no hang, no memory blown): built, or a link out of the output folder refused outright, or
    # nothing to do (the no-op record vouches for the outputs without reading the editions).
    refused = done.returncode == 1 and "symlinks lead out of the output folder" in done.stderr
    assert done.returncode == 0 or refused, done.stderr
    if kind == "link to /dev/zero" and record != "mini/.editions/desk/0001.json":
        assert refused


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_a_figure_that_is_not_a_finite_number_is_refused(value: str, mini_data: Path, run_cli: RunCli) -> None:
    """A brief used to print 'nan meters' in its key figures."""
    records = mini_data / "mini" / "records.yaml"
    records.write_text(records.read_text().replace("    value: 4\n", f"    value: {value}\n"))
    code, _, stderr = run_cli("check", "--data", mini_data)
    assert code == 2
    assert "records.yaml:9:5: figures[0].value: expected a finite number" in stderr

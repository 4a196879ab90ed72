"""A user's own stylesheet (issue 24): found in their `--templates` folder first, and it stales only the
briefs that load it — linked (`<link href>`) or included (`{% include %}`) by one audience's template."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf

from tests.conftest import RunCli, write_tree

DESK = """{% extends "!shipped/audiences/desk.html.j2" %}
{% block style %}{{ super() }}<link rel="stylesheet" href="css/desk-look.css">
<style>{% include "css/desk-extra.css" %}</style>{% endblock %}
"""


def _user_folder(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "mine",
        {
            "audiences/desk.html.j2": DESK,
            "css/desk-look.css": 'body::before { content: "LINKED FROM MY FOLDER"; }\n',
            "css/desk-extra.css": "h2 { color: #7a1f1f; }\n",
        },
    )


def _stale(listing: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^\S+/(\S+)\s+stale\b", listing, re.M)}


def test_a_linked_stylesheet_is_found_in_the_users_folder(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    user, out = _user_folder(tmp_path), tmp_path / "out"
    code, _, err = run_cli("check", "--data", mini_data, "--templates", user)
    assert code == 0, err
    code, _, err = run_cli(
        "--data", mini_data, "--templates", user, "--out", out, "--audience", "desk", "--format", "pdf"
    )  # fmt: skip
    assert code == 0, err
    text = pypdf.PdfReader(out / "mini" / "desk.pdf").pages[0].extract_text()
    assert "LINKED FROM MY FOLDER" in text
    # A name the user's folder does not have still comes from the shipped one (base/fonts/…), and a
    # name in neither is refused, naming the file that links it.
    (user / "css" / "desk-look.css").unlink()
    code, _, err = run_cli("check", "--data", mini_data, "--templates", user)
    assert code == 2 and "mine/audiences/desk.html.j2" in err and "resource not found" in err, err


def test_a_stylesheet_only_desk_loads_stales_only_desk(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    user, out = _user_folder(tmp_path), tmp_path / "out"
    mine = ("--data", mini_data, "--templates", user, "--out", out, "--format", "pdf", "--format", "md")
    code, _, err = run_cli(*mine)
    assert code == 0, err
    code, listing, _ = run_cli("list", *mine)
    assert _stale(listing) == set(), listing

    for name in ("desk-look.css", "desk-extra.css"):  # linked, then included
        path = user / "css" / name
        path.write_text(path.read_text(encoding="utf-8") + "p { margin: 0; }\n", encoding="utf-8")
        code, listing, _ = run_cli("list", *mine)
        assert _stale(listing) == {"desk.pdf"}, listing
        assert f"mine/css/{name} changed" in listing
        code, said, err = run_cli(*mine, "--explain")
        assert code == 0, err
        assert re.findall(r"^built \S+/(\S+)", said, re.M) == ["desk.pdf"], said

    # Without the folder only desk's PDF changes: the other briefs load nothing of it.
    shipped = ("--data", mini_data, "--out", out, "--format", "pdf", "--format", "md")
    code, listing, _ = run_cli("list", *shipped)
    assert _stale(listing) == {"desk.pdf"}, listing

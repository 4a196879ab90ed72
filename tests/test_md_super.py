"""`{{ super() }}` in a Markdown template keeps the parent block's Markdown, as it does in HTML (issue 19)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunCli, write_tree


def build_md(run_cli: RunCli, data: Path, out: Path, *extra: str | Path) -> str:
    code, _, err = run_cli("build", "--data", data, "--out", out, "--audience", "public", "--format", "md", *extra)
    assert code == 0, err
    return (out / "mini" / "public.md").read_text(encoding="utf-8")


def test_super_in_markdown_keeps_the_shipped_block(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    shipped = build_md(run_cli, mini_data, tmp_path / "shipped")
    user = write_tree(
        tmp_path / "mine",
        {
            "audiences/public.md.j2": """\
                {% extends "!shipped/audiences/public.md.j2" %}
                {% block masthead %}{{ super() }}Reviewed by the *desk* on {{ info.subject }}.

                {% endblock %}
                {% block body %}{{ super() }}{% endblock %}
                """
        },
    )
    mine = build_md(run_cli, mini_data, tmp_path / "mine-out", "--templates", user)
    assert "# Mini brief on Testland\n" in mine  # the shipped heading stays a heading, not "\# Mini…"
    # The template's own Markdown is kept; the data value in it is still escaped.
    assert "Reviewed by the *desk* on Testland after the floods.\n" in mine
    assert mine.replace("Reviewed by the *desk* on Testland after the floods.\n\n", "") == shipped


def test_macro_and_self_output_not_escaped_again(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    user = write_tree(
        tmp_path / "mine",
        {
            "audiences/public.md.j2": """\
                {% extends "!shipped/audiences/public.md.j2" %}
                {% macro note(text) %}> **Note:** {{ text }}
                > second line{% endmacro %}
                {% block footer %}{{ super() }}{{ note("a_b") }}

                {% set signed %}**Signed:** {{ info.subject }}{% endset %}
                {{ signed }}

                {{ self.banner() }}[end]
                {% endblock %}
                """
        },
    )
    mine = build_md(run_cli, mini_data, tmp_path / "out", "--templates", user)
    assert "> **Note:** a\\_b\n> second line\n" in mine  # the argument escaped once, inside the macro
    assert "**Signed:** Testland after the floods\n" in mine  # a block set is template output too
    assert mine.endswith("[end]\n")

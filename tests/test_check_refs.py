"""`check` refuses what the PDF step's locked fetcher would, naming the file and line that holds it (issue 19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefs.formats.references import css_references, html_references
from tests.conftest import RunCli, write_tree

PAGE = """\
<!doctype html>
<html><head><meta charset="utf-8"><title>{{{{ info.title }}}}</title>
{head}
</head><body>
<h1>{{{{ info.title }}}}</h1>
{body}
{{% for s in sections %}}{{% for item in s.items %}}{{% endfor %}}{{% endfor %}}
</body></html>
"""


def check(run_cli: RunCli, data: Path, user: Path, *extra: str) -> tuple[int, list[str]]:
    code, _, err = run_cli("check", "--data", data, "--templates", user, "--audience", "public", *extra)
    return code, [line.removeprefix("error: ") for line in err.splitlines() if line.startswith("error: ")]


@pytest.mark.parametrize(
    ("head", "body", "line", "column", "message"),
    [
        (
            "",
            '<p>Logo: <img src="file:///etc/hostname" alt=""></p>',
            6,
            20,
            "refused to fetch 'file:///etc/hostname': outside the template folders",
        ),
        (
            '<link rel="stylesheet" href="https://example.org/x.css">',
            "",
            3,
            30,
            "refused to fetch 'https://example.org/x.css': only files in the template folders may be loaded",
        ),
        (
            "<style>\n  @import url(http://example.org/y.css);\n</style>",
            "",
            4,
            15,
            "refused to fetch 'http://example.org/y.css': only files in the template folders may be loaded",
        ),
        (
            "",
            "<div style=\"background: url('https://example.org/bg.png')\">x</div>",
            6,
            30,
            "refused to fetch 'https://example.org/bg.png': only files in the template folders may be loaded",
        ),
        (
            "",
            '<link rel="attachment" href="notes.txt">',
            6,
            30,
            "refused to attach 'notes.txt': files are never attached to a brief",
        ),
    ],
    ids=["img-file", "link-http", "style-import", "style-attribute", "attachment"],
)
def test_check_refuses_a_fetch_in_a_user_template(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, head: str, body: str, line: int, column: int, message: str
) -> None:
    user = write_tree(tmp_path / "mine", {"audiences/public.html.j2": PAGE.format(head=head, body=body)})
    code, errors = check(run_cli, mini_data, user)
    assert code == 2
    assert errors == [f"{user / 'audiences/public.html.j2'}:{line}:{column}: {message}"]


@pytest.mark.parametrize(
    ("css", "line", "column", "message"),
    [
        (
            '@import "https://example.org/z.css";\n',
            2,
            1,
            "refused to fetch 'https://example.org/z.css': only files in the template folders may be loaded",
        ),
        (
            "body {\n  background: url(file:///etc/hostname);\n}\n",
            3,
            15,
            "refused to fetch 'file:///etc/hostname': outside the template folders",
        ),
        (
            '@font-face { font-family: X; src: url("http://example.org/x.woff"); }\n',
            2,
            35,
            "refused to fetch 'http://example.org/x.woff': only files in the template folders may be loaded",
        ),
        (
            "@media print { p { background: url(base/no-such.png) } }\n",
            2,
            32,
            "resource not found:",
        ),
    ],
    ids=["import", "url-file", "font-face", "missing"],
)
def test_check_names_the_user_stylesheet(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, css: str, line: int, column: int, message: str
) -> None:
    shipped_css = (Path(__file__).parent.parent / "templates/base/css/base.css").read_text(encoding="utf-8")
    user = write_tree(tmp_path / "mine", {"base/css/base.css": "/* mine */\n" + css + shipped_css})
    code, errors = check(run_cli, mini_data, user)
    assert code == 2
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{user / 'base/css/base.css'}:{line}:{column}: {message}")


def test_allowed_references_pass(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    user = tmp_path / "mine"
    (user / "img").mkdir(parents=True)
    (user / "img/logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    body = (
        f'<img src="{(user / "img/logo.svg").as_uri()}" alt="">'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="">'
        '<img src="base/fonts/README.md" alt=""><a href="https://example.org/">a link is not fetched</a>'
        '<svg><use href="#here"/></svg>'
    )
    write_tree(user, {"audiences/public.html.j2": PAGE.format(head="", body=body)})
    code, errors = check(run_cli, mini_data, user)
    assert (code, errors) == (0, [])


def test_markdown_only_check_does_not_judge_pdf_fetches(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    user = write_tree(tmp_path / "mine", {"base/css/base.css": '@import "https://example.org/z.css";\n'})
    assert check(run_cli, mini_data, user, "--format", "md") == (0, [])


def test_build_refuses_what_check_refuses(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    """The PDF step's fetcher and `check` agree on a refused image (the build names the audience template)."""
    body = '<img src="file:///etc/hostname" alt="">'
    user = write_tree(tmp_path / "mine", {"audiences/public.html.j2": PAGE.format(head="", body=body)})
    assert check(run_cli, mini_data, user)[0] == 2
    code, _, err = run_cli(
        "build", "--data", mini_data, "--templates", user, "--audience", "public", "--format", "pdf", "--out", tmp_path
    )
    assert code == 2
    assert "refused to fetch 'file:///etc/hostname': outside the template folders" in err


def test_parsers_find_every_kind_of_reference() -> None:
    css = (
        '@import url(a.css) screen;\n@import "b.css";\n'
        'p { background: url( c.png ) }\nq { x: image-set(url("d.png") 1x) }'
    )
    assert [r.url for r in css_references(css)] == ["a.css", "b.css", "c.png", "d.png"]
    html = (
        '<link rel="icon stylesheet" href="s.css"><object data="o.pdf"></object><embed src="e.svg">'
        '<svg><image xlink:href="i.png"/></svg><style>p { background: url(p.png) }</style><a href="x.html">x</a>'
    )
    assert [r.url for r in html_references(html)] == ["s.css", "o.pdf", "e.svg", "i.png", "p.png"]


def test_a_url_only_mentioned_in_a_css_comment_is_still_reported(
    mini_data: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    shipped_css = (Path(__file__).parent.parent / "templates/base/css/base.css").read_text(encoding="utf-8")
    user = write_tree(
        tmp_path / "mine",
        {
            "base/css/base.css": "/* http://example.org/only-in-a-comment.css */\n" + shipped_css,
            # base/sections/ sorts after base/css/: the template is still searched first
            "base/sections/summary.html.j2": '<section class="summary">\n'
            '<style>@import "http://example.org/only-in-a-comment.css";</style>\n</section>\n',
        },
    )
    code, _, err = run_cli("check", "--data", mini_data, "--templates", user, "--audience", "desk")
    errors = [line.removeprefix("error: ") for line in err.splitlines() if line.startswith("error: ")]
    assert code == 2
    assert errors == [
        f"{user / 'base/sections/summary.html.j2'}:2:17: refused to fetch 'http://example.org/only-in-a-comment.css': "
        "only files in the template folders may be loaded"
    ]

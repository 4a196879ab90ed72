"""Fuzzing (issue 7): random and malformed YAML, random strings in every text field, random template snippets.

The only outcomes allowed are a good build or exit 2 with one-line messages: never a traceback, a hang
(each brief runs under a time limit, which would show as exit 1) or a partial file. Bounded so the
default run stays short; set BRIEFS_FUZZ_EXAMPLES to run more.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import tempfile
import textwrap
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from briefs.cli import main
from tests.conftest import MINI, write_tree

EXAMPLES = int(os.environ.get("BRIEFS_FUZZ_EXAMPLES", "30"))
settings.register_profile(
    "briefs-fuzz",
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile("briefs-fuzz")
FEW = settings(FUZZ, max_examples=max(3, EXAMPLES // 8))  # PDF examples: a layout takes about a second

SUMMARY_LINE = re.compile(r"^\d+ errors?; nothing written$")


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A fresh folder per example (hypothesis runs many examples in one test call)."""
    with tempfile.TemporaryDirectory(prefix="briefs-fuzz-") as name:
        yield Path(name)


def run(*argv: str | Path) -> tuple[int, str, str]:
    """The CLI in-process, its output captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def assert_allowed_outcome(code: int, stderr: str, out: Path, expected: list[Path]) -> None:
    """A good build (every expected file whole) or exit 2 with one-line errors and nothing written."""
    assert "Traceback" not in stderr, stderr
    assert code in (0, 2), stderr
    assert not list(out.rglob("*.tmp")) if out.exists() else True
    if code == 2:
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert lines and SUMMARY_LINE.match(lines[-1]), stderr
        for line in lines[:-1]:
            assert line.startswith("error: "), f"not a one-line error: {line!r}\n{stderr}"
        for path in expected:
            assert not path.exists()
        return
    for path in expected:
        data = path.read_bytes()
        if path.suffix == ".pdf":
            assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
        elif path.suffix == ".md":
            assert data.endswith(b"\n")  # front matter only where the audience wants it (issue 13)
        else:
            assert data.rstrip().endswith(b"</html>")


# --- Random and malformed YAML -------------------------------------------------------------------------

YAML_BITS = st.sampled_from(
    [
        ":",
        " ",
        "  ",
        "\t",
        "\n",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&a ",
        "*a",
        "<<: ",
        "!!",
        "!!python/name:os.system",
        "'",
        '"',
        "#",
        "|",
        ">",
        "---",
        "...",
        "? ",
        "%YAML 1.1",
        "\\",
        "\x00",
        "\x85",
        "\ufeff",
        "é",
        "title",
        "cites",
        "info",
        "sources",
        "id",
        "1",
        "-1",
        "1e400",
        "9" * 30,
        ".nan",
        "null",
        "~",
        "yes",
        "2022-13-45",
        "@",
        "`",
    ]
)


@st.composite
def mangled_yaml(draw: st.DrawFn) -> bytes:
    """One of the mini dataset's files, cut and spliced with YAML's own punctuation, or random bytes."""
    kind = draw(st.sampled_from(["splice", "splice", "splice", "text", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "text":
        return "".join(draw(st.lists(YAML_BITS | st.text(max_size=5), max_size=40))).encode("utf-8")
    text = textwrap.dedent(MINI[draw(st.sampled_from(sorted(MINI)))])
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 8))
        text = text[:at] + draw(YAML_BITS | st.text(max_size=3)) + text[at + cut :]
    return text.encode("utf-8")


@FUZZ
@given(content=mangled_yaml(), name=st.sampled_from(["dataset.yaml", "sources.yaml", "records.yaml", "extra.yaml"]))
def test_malformed_yaml_gives_a_good_build_or_one_line_errors(content: bytes, name: str) -> None:
    with workdir() as tmp:
        data = write_tree(tmp / "data", {f"mini/{k}": v for k, v in MINI.items()})
        (data / "mini" / name).write_bytes(content)
        out = tmp / "out"
        code, _, stderr = run("--data", data, "--out", out, "--audience", "desk", "--format", "md")
        assert_allowed_outcome(code, stderr, out, [out / "mini" / "desk.md"])


@FUZZ
@given(content=mangled_yaml())
def test_malformed_audience_file_gives_a_good_build_or_one_line_errors(content: bytes) -> None:
    with workdir() as tmp:
        data = write_tree(tmp / "data", {f"mini/{k}": v for k, v in MINI.items()})
        templates = tmp / "tpl" / "audiences"
        templates.mkdir(parents=True)
        (templates / "fuzz.yaml").write_bytes(b"title: Fuzz\nformats: [md]\nsections: [summary]\n" + content)
        out = tmp / "out"
        code, _, stderr = run("check", "--data", data, "--templates", tmp / "tpl", "--out", out)
        assert_allowed_outcome(code, stderr, out, [])
        assert not out.exists()


# --- Random strings in every text field ----------------------------------------------------------------

NASTY = st.text(
    alphabet=st.sampled_from(list("<>&\"'`*_[]()!#|\\{}%-=+~:^.;/ \n\r\t\x00\x0b\x85\u2028\ufeff"))
    | st.characters(exclude_categories=("Cs",)),  # a lone surrogate is refused (exit 2)
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())  # the schema refuses empty text; that is tested elsewhere

TEXT_FIELDS = [
    ("info", "title"),
    ("info", "subject"),
    ("info", "summary"),
    ("info", "bluf"),
    ("info", "keywords", 0),
    ("info", "key_points", 0, "text"),
    ("sources", 0, "title"),
    ("sources", 0, "publisher"),
    ("sources", 0, "authors", 0),
    ("sources", 0, "container"),
    ("events", 0, "title"),
    ("events", 0, "text"),
    ("figures", 0, "label"),
    ("figures", 0, "unit"),
    ("figures", 0, "period"),
    ("figures", 0, "measures"),
    ("recommendations", 0, "text"),
    ("recommendations", 0, "basis"),
]


def mini_dataset() -> dict[str, object]:
    merged: dict[str, Any] = {}
    for text in MINI.values():
        merged.update(yaml.safe_load(textwrap.dedent(text)))
    # Random words cannot say whose a claim is, so the key point also cites a second source: resting on
    # the main source alone, it would be refused as an unattributed claim (issue 22), not laid out.
    merged["sources"].append(
        {"id": "second", "title": "A second report", "publisher": "Another Institute", "url": "https://example.org/2"}
    )
    merged["info"]["key_points"][0]["cites"].append("second")
    # Random text may open with "Then" or "Yet" (Hypothesis tries the words it finds in our code): the
    # point is declared to need nothing before it, so the leaning-opener rule does not refuse it.
    merged["info"]["key_points"][0]["stands_alone"] = True
    return merged


def put(tree: object, path: tuple[str | int, ...], value: str) -> None:
    for part, following in itertools.pairwise(path):
        if isinstance(tree, dict) and part not in tree:
            tree[part] = [None] if isinstance(following, int) else {}  # e.g. a source's first author
        tree = tree[part]  # type: ignore[index]
    tree[path[-1]] = value  # type: ignore[index]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def shipped_tags(html: str) -> set[str]:
    return {tag for tag, _ in tags_of(html)}


_baseline: set[str] = set()


def html_tags_allowed() -> set[str]:
    """The tags the shipped desk layout makes from benign data, plus what the prose sanitiser allows."""
    if not _baseline:
        with workdir() as tmp:
            data = write_tree(tmp / "data", {f"mini/{k}": v for k, v in MINI.items()})
            code, _, stderr = run("--data", data, "--out", tmp / "out", "--audience", "desk", "--format", "html")
            assert code == 0, stderr
            _baseline.update(t for t, _ in tags_of((tmp / "out" / "mini" / "desk.html").read_text(encoding="utf-8")))
    # Plus the italics of a note's periodical title, and an SVG <desc> when an event has a text.
    return _baseline | {"em", "strong", "code", "a", "br", "i", "desc"}


MD_TAGS = {
    "p",
    "h1",
    "h2",
    "h3",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "em",
    "strong",
    "code",
    "br",
    "blockquote",
    "hr",
}


def assert_links_safe(tags: list[tuple[str, dict[str, str | None]]]) -> None:
    for tag, attrs in tags:
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        for key in ("href", "src"):
            value = attrs.get(key)
            if value is not None and tag != "link":
                assert re.match(r"^(#|https?://)", value), (tag, key, value)


@FUZZ
@given(values=st.lists(NASTY, min_size=len(TEXT_FIELDS), max_size=len(TEXT_FIELDS)))
def test_random_text_in_every_field_is_inert(values: list[str]) -> None:
    dataset = mini_dataset()
    for path, value in zip(TEXT_FIELDS, values, strict=True):
        put(dataset, path, value)
    with workdir() as tmp:
        folder = tmp / "data" / "mini"
        folder.mkdir(parents=True)
        (folder / "all.yaml").write_text(yaml.safe_dump(dataset, allow_unicode=True), encoding="utf-8")
        out = tmp / "out"
        code, _, stderr = run(
            "--data", tmp / "data", "--out", out, "--audience", "desk", "--format", "md", "--format", "html"
        )
        expected = [out / "mini" / "desk.md", out / "mini" / "desk.html"]
        assert code == 0, stderr  # any text at all is valid content
        assert_allowed_outcome(code, stderr, out, expected)
        html = expected[1].read_text(encoding="utf-8")
        html_tags = tags_of(html)
        assert {t for t, _ in html_tags} <= html_tags_allowed()
        assert_links_safe(html_tags)
        body = expected[0].read_text(encoding="utf-8")  # the desk brief has no front matter (issue 13)
        rendered = tags_of(MarkdownIt("commonmark").enable("table").render(body))
        assert {t for t, _ in rendered} <= MD_TAGS, body
        assert_links_safe(rendered)


@FEW
@given(values=st.lists(NASTY, min_size=len(TEXT_FIELDS), max_size=len(TEXT_FIELDS)))
def test_random_text_in_every_field_lays_out_as_pdf(values: list[str]) -> None:
    dataset = mini_dataset()
    for path, value in zip(TEXT_FIELDS, values, strict=True):
        put(dataset, path, value)
    with workdir() as tmp:
        folder = tmp / "data" / "mini"
        folder.mkdir(parents=True)
        (folder / "all.yaml").write_text(yaml.safe_dump(dataset, allow_unicode=True), encoding="utf-8")
        out = tmp / "out"
        code, _, stderr = run("--data", tmp / "data", "--out", out, "--audience", "desk", "--format", "pdf")
        assert code == 0, stderr
        assert_allowed_outcome(code, stderr, out, [out / "mini" / "desk.pdf"])


# --- Random template snippets in a user folder ------------------------------------------------------------

JINJA_BITS = st.sampled_from(
    [
        "{{ ",
        " }}",
        "{% ",
        " %}",
        "{# ",
        " #}",
        "{%- ",
        " -%}",
        "info.title",
        "info",
        "''.__class__",
        "__mro__",
        "sections",
        "section",
        " | prose",
        " | upper",
        " | md",
        " | yamlstr",
        " | date",
        " | safe",
        " | attr('x')",
        "for s in sections",
        "endfor",
        "if ",
        "else",
        "endif",
        "1/0",
        "range(5)",
        " * ",
        " ** ",
        " ~ ",
        "'a'",
        "(",
        ")",
        "[",
        "]",
        ".",
        "x",
        " ",
        "\n",
        "cite([1])",
        "block body",
        "endblock",
        "block memo_header",
        "super()",
        "extends 'base/layout.md.j2'",
        "include 'base/macros.md.j2'",
        "import 'base/macros.md.j2' as m",
        "m.portion()",
        "macro f()",
        "endmacro",
        "f()",
        "set x = 1",
        "raw",
        "endraw",
        "self",
        "loop.index",
        "caller()",
        "namespace()",
        "9",
        "99",
        "brief.notes",
        "audience.id",
        "'{{'",
        "lipsum",
        "cycler",
        "joiner",
        "dict(a=1)",
        "|",
        ",",
        "=",
        "include '/etc/passwd'",
        "extends '!shipped/base/layout.md.j2'",
        "call f()",
        "endcall",
        "with",
        "endwith",
    ]
)


@FUZZ
@given(snippet=st.lists(JINJA_BITS, max_size=25).map("".join))
def test_random_template_snippets_build_or_exit_2(snippet: str) -> None:
    with workdir() as tmp:
        data = write_tree(tmp / "data", {f"mini/{k}": v for k, v in MINI.items()})
        templates = tmp / "tpl" / "audiences"
        templates.mkdir(parents=True)
        (templates / "fuzz.yaml").write_text("title: Fuzz\nformats: [md]\nsections: [summary]\n", encoding="utf-8")
        (templates / "fuzz.md.j2").write_text(snippet, encoding="utf-8")
        out = tmp / "out"
        code, _, stderr = run(
            "--data", data, "--templates", tmp / "tpl", "--out", out, "--audience", "fuzz", "--time-limit", "30"
        )
        assert_allowed_outcome(code, stderr, out, [])
        if code == 0:
            assert (out / "mini" / "fuzz.md").is_file()
        else:
            assert not (out / "mini").exists()

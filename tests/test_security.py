"""Hostile inputs (issue 7): one test per bullet of the issue, each through the real CLI and WeasyPrint.

Data is content, never markup or code; user templates run in the sandbox; WeasyPrint's fetcher is locked
down and each brief has a time limit; YAML is read safely; paths stay inside --out; a failing brief costs
only itself; two builds on one folder do not corrupt it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest
import yaml
from markdown_it import MarkdownIt

from briefs.errors import InputError
from briefs.formats.pdf import FetchRefusedError, _allowed_path
from briefs.formats.render import typographic
from briefs.pipeline.output import output_lock
from briefs.pipeline.plan import Target, check_collisions
from tests.conftest import MINI, REPO, RunCli, write_tree

HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(2)> {{ 7*7 }} {% if true %}IF{% endif %} "
    "[js](javascript:alert(3)) ![pic](https://evil.example/p.png) [f](file:///etc/passwd) "
    "[d](data:text/html,x) | pipe | [^9]: fake \"dq\" 'sq' &amp; &lt;b&gt; <!-- c --> `tick`\r\n"
    "# heading\n---\nkey: value\n1. item"
)
"""Everything a string in data might try: HTML, script, images, bad URL schemes, Jinja, Markdown structure."""


def hostile_dataset(root: Path) -> Path:
    """A valid dataset whose every text field a brief shows holds HOSTILE."""
    h = HOSTILE
    data = {
        "info": {
            "title": h,
            "subtitle": h,
            "subject": h,
            "as_of": "2022-06-30",
            "summary": h,
            "bluf": h,
            "keywords": [h, "floods"],
            "office": h,
            "office_short": h,
            "desk": h,
            "key_points": [{"text": h, "cites": ["report#2"], "judgment": "j"}],
            "implications": [{"text": h, "cites": ["report"]}],
        },
        "sources": [
            {
                "id": "report",
                "title": h,
                "publisher": h,
                "authors": [h],
                "container": h,
                "short_title": h,
                "short_name": h,
                "text_note": h,
                "date": "2022-06",
                "url": "https://example.org/a?b=1&c=\"'<>",
                "paragraphs": [{"n": 1, "gist": h}, {"n": 2, "gist": h}],
            }
        ],
        "actors": [{"id": "someone", "name": h, "role": h, "country": h, "aliases": [h]}],
        "events": [{"id": "flood", "date": "2022-05-13", "title": h, "text": h, "cites": ["report#2"]}],
        "figures": [
            {
                "id": "rise",
                "label": h,
                "value": 4,
                "unit": h,
                "display": h,
                "period": h,
                "measures": h,
                "key": True,
                "cites": ["report#2"],
            }
        ],
        "quotes": [{"id": "q", "speaker": "someone", "text": h, "context": h, "cites": ["report"]}],
        "judgments": [{"id": "j", "text": h, "confidence": "moderate", "basis": h, "cites": ["report"]}],
        "recommendations": [{"id": "aid", "text": h, "origin": "stated", "basis": h, "cites": ["report#2"]}],
        "corrections": [
            {
                "id": "c",
                "location": "report#1",
                "kind": "wording",
                "source_says": h,
                "correct": h,
                "evidence": h,
                "cites": ["report"],
            }
        ],
    }
    folder = root / "data" / "hostile"
    folder.mkdir(parents=True)
    (folder / "all.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root / "data"


def hostile_audience(root: Path) -> Path:
    """A user templates folder whose audience file's text fields hold HOSTILE (audience files are untrusted)."""
    sections = [
        "bluf",
        "summary",
        "key_points",
        "key_figures",
        "recommendations",
        "analysis",
        "implications",
        "judgments",
        "timeline",
        "actors",
        "figures",
        "quotes",
        "corrections",
        "sources",
    ]
    audience = {
        "title": HOSTILE,
        "marking": HOSTILE,
        "portion_mark": HOSTILE,
        "memo": {"to": HOSTILE, "from": HOSTILE, "office": HOSTILE},
        "formats": ["pdf", "md", "html"],
        "visuals": {"timeline": True, "key_figures": True},  # the SVG timeline is drawn from data too
        "sections": sections,
    }
    folder = root / "tpl" / "audiences"
    folder.mkdir(parents=True)
    (folder / "evil.yaml").write_text(yaml.safe_dump(audience, allow_unicode=True), encoding="utf-8")
    return root / "tpl"


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    parser.close()
    return parser


def assert_inert_html(html: str, allowed_hrefs: tuple[str, ...]) -> _Tags:
    """No script, image, event handler or foreign URL; the hostile text is there as text."""
    parsed = parse_html(html)
    names = {tag for tag, _ in parsed.tags}
    assert not names & {"script", "img", "iframe", "object", "embed", "link", "foreignobject", "image", "use"}, names
    for tag, attrs in parsed.tags:
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        for key in ("href", "src"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(allowed_hrefs), (tag, key, value)
    text = "".join(parsed.text)
    assert "<script>alert(1)</script>" in text
    assert "{{ 7*7 }}" in text and "{% if true %}IF{% endif %}" in text
    assert "![pic](https://evil.example/p.png)" in text
    assert "&amp; &lt;b&gt;" in text  # entities in data are text, not markup
    return parsed


# --- Data is content, never markup or code -----------------------------------------------------------


def test_data_is_shown_as_inert_text_in_html_markdown_and_pdf(tmp_path: Path, run_cli: RunCli) -> None:
    data, templates, out = hostile_dataset(tmp_path), hostile_audience(tmp_path), tmp_path / "out"
    code, _, stderr = run_cli("--data", data, "--templates", templates, "--out", out, "--audience", "evil")
    assert code == 0, stderr

    html = (out / "hostile" / "evil.html").read_text(encoding="utf-8")
    parsed = assert_inert_html(html, ("#", "https://example.org/"))
    metas = {attrs.get("name"): attrs.get("content") for tag, attrs in parsed.tags if tag == "meta"}
    # An attribute holds the whole string, its quotes set typographically as everywhere in a brief (issue 13).
    whole = typographic(HOSTILE.replace("\r\n", "\n").strip())
    assert metas["description"] == metas["author"] == whole
    assert metas["keywords"] == f"{whole}, floods"
    source_links = [a["href"] for t, a in parsed.tags if t == "a" and (a.get("href") or "").startswith("https:")]
    assert set(source_links) == {"https://example.org/a?b=1&c=\"'<>"}

    md = (out / "hostile" / "evil.md").read_text(encoding="utf-8")
    front, body = md.split("\n---\n", 1)
    meta = yaml.safe_load(front.removeprefix("---\n"))
    assert set(meta) == {"title", "date", "as_of", "audience", "audience_title", "marking"}  # nothing injected
    assert meta["title"] == meta["audience_title"] == meta["marking"] == HOSTILE.strip()  # exact, CR and all
    assert "![" not in body  # image syntax is escaped: !\[pic\](…)
    assert not re.search(r"(?<!\\)\]\((javascript|file|data):", body)  # no link to a foreign scheme
    assert not re.search(r"(?<!\\)<(script|img|!--)", body)  # no raw HTML
    assert "{{ 7\\*7 }}" in body
    assert re.findall(r"^\[\^(\d+)\]:", body, re.M) == ["1", "2"]  # the fake "[^9]:" defines nothing
    for line in body.splitlines():
        if line.startswith("|"):  # every table row keeps its column count: a "|" in data never splits a cell
            assert len(re.findall(r"(?<!\\)\|", line)) in (3, 4, 5), line
    # A Markdown renderer that passes raw HTML through (the worst case) still makes nothing active of it.
    rendered = MarkdownIt("commonmark").enable("table").render(body)
    assert_inert_html(rendered, ("#", "https://example.org/"))
    assert "<h1>heading" not in rendered and "<li>item" not in rendered

    reader = pypdf.PdfReader(out / "hostile" / "evil.pdf")
    text = "".join(page.extract_text() for page in reader.pages)
    assert "<script>alert(1)</script>" in text and "{{ 7*7 }}" in text
    assert not reader.attachments
    assert reader.metadata is not None and reader.metadata.title == whole  # PDF strings escaped, nothing lost


# --- Templates from a user folder run in the sandbox -----------------------------------------------------

USER_AUDIENCE = "title: Evil\nformats: [md, html]\nsections: [summary]\n"


def user_templates(root: Path, files: dict[str, str]) -> Path:
    return write_tree(root / "tpl", {"audiences/evil.yaml": USER_AUDIENCE, **files})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ ''.__class__.__mro__ }}", "refused by the sandbox: access to attribute '__class__'"),
        ("{{ info.__class__.__init__.__globals__ }}", "refused by the sandbox"),
        ("{{ sections.append(1) }}", "refused by the sandbox: access to attribute 'append'"),
        ("{{ 'x' * 100000000 }}", "refused by the sandbox: '*' would build"),
        ("{{ 2**64**64**64 }}", "refused by the sandbox: '**'"),
        ("{{ range(10**9) | list }}", "Range too big"),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion too deep"),
        ("{{ nothing_here }}", "'nothing_here' is not defined"),
        ("{% include '/etc/passwd' %}", "template '/etc/passwd' not found"),
        ("{% for x in %}", "template syntax"),
    ],
)
def test_user_template_attacks_exit_2_naming_the_template_and_line(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, body: str, message: str
) -> None:
    templates = user_templates(
        tmp_path,
        {
            "audiences/evil.md.j2": "{% extends 'base/layout.md.j2' %}\n{% block memo_header %}\n"
            + body
            + "{% endblock %}"
        },
    )
    out = tmp_path / "out"
    for command in ("build", "check"):
        argv = (command, "--data", mini_data, "--templates", templates, "--out", out, "--audience", "evil")
        code, _, stderr = run_cli(*argv)
        assert code == 2, stderr
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "Traceback" not in stderr
        assert re.search(r"tpl/audiences/evil\.md\.j2:3: ", errors[0]), errors[0]
        assert message in errors[0]
        assert not (out / "mini").exists()


def test_a_symlink_in_a_user_folder_cannot_leak_a_file(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET KEY", encoding="utf-8")
    templates = user_templates(tmp_path, {"audiences/evil.md.j2": "{% include 'leak.j2' %}\n"})
    (templates / "leak.j2").symlink_to(secret)
    out = tmp_path / "out"
    code, _, stderr = run_cli("--data", mini_data, "--templates", templates, "--out", out, "--audience", "evil")
    assert code == 2
    assert "links outside its folder" in stderr and "TOP SECRET" not in stderr
    assert not (out / "mini").exists()


# --- WeasyPrint's fetcher is locked down; each brief has a time limit -------------------------------------


@pytest.mark.parametrize(
    ("markup", "named"),
    [
        ('<img src="file:///etc/hostname">', "file:///etc/hostname"),
        ('<img src="../../../../../../etc/hostname">', "/etc/hostname"),
        ('<link rel="stylesheet" href="https://example.org/x.css">', "https://example.org/x.css"),
        ('<img src="ftp://example.org/x.png">', "ftp://example.org/x.png"),
        ("<style>@import url(http://127.0.0.1:9/x.css);</style>", "http://127.0.0.1:9/x.css"),
        ('<img src="file://evil-host/share/x.png">', "not a local file"),
        ('<link rel="attachment" href="base/css/base.css">', "files are never attached"),
        ('<a rel="attachment" href="base/css/base.css">x</a>', "files are never attached"),
    ],
)
def test_pdf_may_load_only_template_files(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, markup: str, named: str
) -> None:
    html = "{% extends 'base/layout.html.j2' %}{% block memo_header %}" + markup + "{% endblock %}"
    templates = write_tree(
        tmp_path / "tpl",
        {"audiences/evil.yaml": "title: Evil\nformats: [pdf]\nsections: [summary]\n", "audiences/evil.html.j2": html},
    )
    out = tmp_path / "out"
    code, _, stderr = run_cli("--data", mini_data, "--templates", templates, "--out", out, "--audience", "evil")
    assert code == 2, stderr
    assert named in stderr and "Traceback" not in stderr
    assert "tpl/audiences/evil.html.j2: " in stderr  # names the user's template that asked for it
    assert not (out / "mini").exists()


def test_fetcher_follows_no_symlink_out_of_the_template_folders(tmp_path: Path) -> None:
    root = tmp_path / "tpl"
    root.mkdir()
    (root / "font.ttf").write_bytes(b"x")
    (root / "escape.png").symlink_to("/etc/hostname")
    assert _allowed_path((root / "font.ttf").as_uri(), (root.resolve(),)) == (root / "font.ttf").resolve()
    with pytest.raises(FetchRefusedError, match="outside the template folders"):
        _allowed_path((root / "escape.png").as_uri(), (root.resolve(),))


SLOW = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


@pytest.mark.slow
def test_a_brief_over_its_time_limit_fails_alone(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    # The slow brief never ends, so it fails at any limit. The brief that must go on is Markdown only
    # (no WeasyPrint import, no layout): it renders in well under a tenth of a second, so a 5 s limit
    # leaves it a margin of more than 50x however loaded the machine is.
    html = "{% extends 'base/layout.html.j2' %}{% block memo_header %}" + SLOW + "{% endblock %}"
    templates = write_tree(
        tmp_path / "tpl",
        {
            "audiences/slow.yaml": "title: Slow\nformats: [pdf]\nsections: [summary]\n",
            "audiences/slow.html.j2": html,
            "audiences/quick.yaml": "title: Quick\nformats: [md]\nsections: [summary]\n",
        },
    )
    out = tmp_path / "out"
    argv = ("--data", mini_data, "--templates", templates, "--out", out, "--audience", "slow", "--audience", "quick")
    code, stdout, stderr = run_cli(*argv, "--time-limit", "5")
    assert code == 1
    assert "FAILED mini/slow.pdf" in stderr and "time limit" in stderr
    assert (out / "mini" / "quick.md").read_text(encoding="utf-8").strip()
    assert not (out / "mini" / "slow.pdf").exists()
    assert "failed: mini/slow.pdf" in stdout


def test_check_stops_a_slow_template_at_its_time_limit(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    templates = write_tree(
        tmp_path / "tpl",
        {"audiences/slow.yaml": "title: Slow\nformats: [md]\nsections: [summary]\n", "audiences/slow.md.j2": SLOW},
    )
    argv = ("check", "--data", mini_data, "--templates", templates, "--audience", "slow", "--time-limit", "1")
    code, _, stderr = run_cli(*argv)
    assert code == 1
    assert "mini/slow (md template): rendering took longer than the 1 s time limit" in stderr


# --- YAML: safe loading only, every abuse exit 2 with file and line ---------------------------------------

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        ("info:\n  title: A\n  title: B\n", ":3:3: info.title:", "duplicate key (first given at line 2)"),
        (LAUGHS, ":1:", "after expanding aliases; refusing to expand"),
        ("info:\n\ttitle: A\n", ":2:1:", "found a tab character; expected spaces"),
        (b"info:\n  title: caf\xe9\n", ":2:13:", "expected UTF-8 text, found byte 0xe9"),
        ("info:\n  title: a\x00b\n", ":2:11:", "expected printable text, found character U+0000"),
        ("x: !!python/object/apply:os.system ['touch /tmp/pwned']\n", ":1:4: x:", "unsupported YAML tag"),
        ("a: " + "[" * 1000 + "]" * 1000 + "\n", ":1:", "YAML nests too deeply"),
        (
            "a: &a {}\n"  # empty: only counting the merges themselves stops this one
            + "".join(
                f"l{i}: &l{i} {{<<: [{', '.join(['*a' if i == 0 else f'*l{i - 1}'] * 9)}]}}\n" for i in range(10)
            ),
            ":",
            "refusing to expand",
        ),
    ],
    ids=["duplicate", "billion-laughs", "tab", "not-utf8", "nul", "python-tag", "deep", "merge-bomb"],
)
def test_yaml_abuse_exits_2_with_file_and_line(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, content: str | bytes, where: str, message: str
) -> None:
    bad = mini_data / "mini" / "zz.yaml"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    for command in ("check", "build"):
        code, _, stderr = run_cli(command, "--data", mini_data, "--out", tmp_path / "out")
        assert code == 2, stderr
        line = next(line for line in stderr.splitlines() if "zz.yaml" in line)
        assert f"zz.yaml{where}" in line and message in line, line
        assert "Traceback" not in stderr
    assert not (tmp_path / "out" / "mini").exists()
    assert not Path("/tmp/pwned").exists()


def test_yaml_file_over_the_size_limit_is_not_read(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    (mini_data / "mini" / "zz.yaml").write_bytes(b"notes: '" + b"x" * (3 * 1024 * 1024) + b"'\n")
    code, _, stderr = run_cli("check", "--data", mini_data, "--out", tmp_path / "out")
    assert code == 2
    assert "zz.yaml: file is 3,145,738 bytes; expected at most 2,097,152" in stderr


# --- Paths: ids, nothing outside --out, no two targets on one path -------------------------------------------


@pytest.mark.parametrize("name", ["Bad_Id", "-dash", "sp ace"])
def test_dataset_and_audience_ids_are_checked(tmp_path: Path, run_cli: RunCli, name: str) -> None:
    data = write_tree(tmp_path / "data", {f"{name}/{k}": v for k, v in MINI.items()})
    code, _, stderr = run_cli("check", "--data", data, "--out", tmp_path / "out")
    assert code == 2 and f"dataset id {name!r}: expected [a-z0-9][a-z0-9-]*" in stderr
    data = write_tree(tmp_path / "data2", {f"mini/{k}": v for k, v in MINI.items()})
    templates = write_tree(tmp_path / "tpl", {f"audiences/{name}.yaml": USER_AUDIENCE})
    code, _, stderr = run_cli("check", "--data", data, "--templates", templates, "--out", tmp_path / "out")
    assert code == 2 and f"audience id {name!r}: expected [a-z0-9][a-z0-9-]*" in stderr


def test_dot_dot_is_not_a_dataset(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    code, _, stderr = run_cli("--data", mini_data, "--out", tmp_path / "out", "--dataset", "..")
    assert code == 2 and "unknown dataset '..'" in stderr


@pytest.mark.parametrize("link", ["mini", ".briefs", "mini/.editions"])
def test_nothing_is_written_through_a_symlink_out_of_the_output_folder(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, link: str
) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (out / link).parent.mkdir(parents=True)
    elsewhere.mkdir()
    (out / link).symlink_to(elsewhere, target_is_directory=True)
    code, _, stderr = run_cli("--data", mini_data, "--out", out, "--audience", "desk", "--format", "md")
    assert code == 1
    assert "symlinks lead out of the output folder" in stderr and f"{link} -> {elsewhere}" in stderr
    assert list(elsewhere.iterdir()) == []


def test_a_write_into_a_folder_outside_out_is_refused(tmp_path: Path) -> None:
    from briefs.pipeline.build import _write_refused

    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "mini").symlink_to(elsewhere, target_is_directory=True)  # planted after the build's first check
    refusal = _write_refused(out / "mini" / "desk.md", out, b"x")
    assert refusal is not None and "leads outside" in refusal
    assert list(elsewhere.iterdir()) == []


def test_two_targets_writing_one_path_is_an_error(tmp_path: Path) -> None:
    a = Target("mini", "desk", "md", tmp_path / "mini" / "desk.md")
    b = Target("mini", "other", "md", tmp_path / "mini" / ".." / "mini" / "desk.md")
    with pytest.raises(InputError, match=r"written by both mini/desk\.md and mini/other\.md"):
        check_collisions([a, b])


# --- Failure isolation --------------------------------------------------------------------------------------


def test_a_failing_brief_keeps_its_previous_output_and_does_not_stop_the_others(
    mini_data: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    audience = textwrap.dedent(
        """\
        title: Tight
        formats: [pdf]
        limits: {pages: 5}
        sections: [summary, key_points, recommendations, timeline, figures, sources]
        """
    )
    templates = write_tree(tmp_path / "tpl", {"audiences/tight.yaml": audience})
    out = tmp_path / "out"
    argv = ("--data", mini_data, "--templates", templates, "--out", out, "--format", "pdf")
    assert run_cli(*argv, "--audience", "tight")[0] == 0
    good = (out / "mini" / "tight.pdf").read_bytes()
    # Now the page limit cannot be met (the memo body is padded past a page), and another target is stale.
    long_body = "{% extends 'base/layout.html.j2' %}{% block memo_header %}" + "<p>pad</p>" * 400 + "{% endblock %}"
    write_tree(
        templates,
        {"audiences/tight.yaml": audience.replace("pages: 5", "pages: 1"), "audiences/tight.html.j2": long_body},
    )
    # A write failure is isolated too: desk.md's path is taken by a folder.
    (out / "mini" / "desk.md").mkdir(parents=True)
    code, stdout, stderr = run_cli(*argv, "--format", "md", "--audience", "tight", "--audience", "desk", "--force")
    assert code == 1
    assert re.search(r"FAILED mini/tight\.pdf: .*pages.*allows 1", stderr), stderr
    assert "FAILED mini/desk.md: cannot write" in stderr
    assert (out / "mini" / "tight.pdf").read_bytes() == good  # the previous good brief is untouched
    assert (out / "mini" / "desk.pdf").read_bytes().startswith(b"%PDF")  # the others were built
    assert "failed: " in stdout and "mini/tight.pdf" in stdout and "mini/desk.md" in stdout
    assert "Traceback" not in stderr


# --- Concurrency --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_builds_on_one_output_folder_take_turns(mini_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = [sys.executable, "build.py", "--data", str(mini_data), "--out", str(out), "--format", "md", "--force"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with output_lock(out):  # both builds start while the folder is locked, so they must queue
        procs = [
            subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        time.sleep(1.5)
        assert all(p.poll() is None for p in procs)  # waiting for the lock, not writing
        assert not (out / "mini").exists()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    state = json.loads((out / ".briefs" / "state.json").read_text(encoding="utf-8"))
    assert {"mini/desk.md"} <= set(state["targets"])
    md = (out / "mini" / "desk.md").read_text(encoding="utf-8")
    # Whole, not torn: the title near the top and the marking on the last line.
    assert "# Mini brief on Testland" in md[:300] and md.endswith("**UNCLASSIFIED**\n")
    assert not list(out.rglob("*.tmp"))


def test_the_time_limit_holds_outside_the_main_thread() -> None:
    """A Dask worker renders in a thread, where SIGALRM cannot reach: the limit still stops the brief (issue 18)."""
    import threading

    from briefs.errors import BuildError
    from briefs.pipeline.limits import time_limit

    seen: list[object] = []

    def spin() -> None:
        started = time.perf_counter()
        try:
            with time_limit(0.5, "mini/slow"):
                while True:
                    sum(range(100))
        except BuildError as exc:
            seen.append((str(exc), time.perf_counter() - started))
        with time_limit(0.5, "mini/quick"):
            pass
        time.sleep(1.2)  # a strike left over from the first block would land here
        seen.append("no late strike")

    thread = threading.Thread(target=spin)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert len(seen) == 2 and seen[1] == "no late strike", seen
    message, took = seen[0]  # type: ignore[misc]
    assert "mini/slow: rendering took longer than the 0.5 s time limit" in message
    assert 0.5 <= took < 10


# --- What a data or template folder may hold: only regular files are read, never past a limit (issue 25) ----


def run_bounded(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    """``build.py`` in a subprocess under a 4 GiB address-space limit and a timeout: the unfixed tool ran out
    of memory on ``/dev/zero`` or waited forever on a FIFO, and must fail here, not take the machine."""
    limited = (
        "import os, resource, sys; resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30)); "
        "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
    )
    return subprocess.run(
        [sys.executable, "-c", limited, str(REPO / "build.py"), *(str(a) for a in argv)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def plant(folder: Path, name: str, kind: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    else:  # a 3 GiB file that takes no disk (sparse)
        with path.open("wb") as fh:
            fh.truncate(3 << 30)
    return path


REFUSED = [  # read as data or as an audience: each is named, all at once
    ("data", "mini/zero.yaml", "zero", "mini/zero.yaml: cannot read: not a regular file (a character device)"),
    ("data", "mini/pipe.yaml", "fifo", "mini/pipe.yaml: cannot read: not a regular file (a FIFO)"),
    ("data", "mini/big.yaml", "big", "mini/big.yaml: file is 3,221,225,472 bytes; expected at most 2,097,152"),
    ("tpl", "audiences/pipe.yaml", "fifo", "audiences/pipe.yaml: cannot read: not a regular file (a FIFO)"),
    ("tpl", "audiences/zero.yaml", "zero", "audiences/zero.yaml: cannot read: not a regular file (a character"),
]
IGNORED = [  # not read by this build: it goes on, and neither waits for them nor reads them
    ("data", "mini/notes.txt", "fifo", None),
    ("data", "mini/sources/zero.txt", "zero", None),
    ("tpl", "base/pipe.css", "fifo", None),
    ("tpl", "base/zero.css", "zero", None),
    ("tpl", "base/fonts/big.ttf", "big", None),
]


@pytest.mark.parametrize("planted", [REFUSED, IGNORED], ids=["read", "not-read"])
def test_a_fifo_a_device_or_a_huge_file_in_a_folder_is_refused_not_read(
    mini_data: Path, tmp_path: Path, planted: list[tuple[str, str, str, str | None]]
) -> None:
    tpl = write_tree(tmp_path / "tpl", {"audiences/plain.yaml": "title: Plain\nformats: [md]\nsections: [bluf]\n"})
    for where, name, kind, _ in planted:
        plant(mini_data if where == "data" else tpl, name, kind)
    said = [s for *_, s in planted if s is not None]
    argv = ("--data", mini_data, "--templates", tpl, "--out", tmp_path / "out", "--format", "md")
    for command in ("build", "check", "build"):  # the second build meets the no-op fingerprint
        started = time.monotonic()
        run = run_bounded(command, *argv)
        assert time.monotonic() - started < 60
        assert "Traceback" not in run.stderr and "MemoryError" not in run.stderr, run.stderr
        if not said:
            assert run.returncode == 0, run.stderr
        else:
            assert run.returncode == 2, run.stderr
            for text in said:
                assert text in run.stderr, (text, run.stderr)
            assert not (tmp_path / "out" / "mini").exists()

"""serve against hostile input (issue 25): a --templates folder's script, DNS rebinding, files it did not write.

A real `build.py serve` subprocess on a free port, read with raw HTTP (the headers a browser is given),
and Debian's chromium for what a browser then does with them (skipped, saying why, without it).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_tree
from tests.test_serve import TIMEOUT, Server, serving, wait
from tests.test_serve import browser as browser  # a fixture

pytest.importorskip("starlette", reason="the [serve] extra is not installed (pip install -e '.[serve]')")
pytest.importorskip("uvicorn", reason="the [serve] extra is not installed (pip install -e '.[serve]')")

# An SVG a user template put in its folder: run in the preview's origin, it would read every brief.
EVIL_SVG = """\
    <svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="document.title = 'pwned'">
    <script>
    document.title = "pwned";
    try { top.document.title = "pwned"; } catch (e) {}
    fetch("/state.json").then((r) => r.text()).then((t) => { top.document.title = "pwned " + t.length; });
    </script>
    <rect width="40" height="40" fill="red"/>
    </svg>
    """
FRAMER = """\
    {% extends 'base/layout.html.j2' %}
    {% block memo_header %}
    <p>FRAMER</p>
    <iframe src="base/evil.svg"></iframe><object data="base/evil.svg"></object><embed src="base/evil.svg">
    <script>top.document.title = "pwned";</script>
    <base href="https://example.org/">
    <form action="https://example.org/steal" method="post"><input name="x" value="y"></form>
    <a id="away" href="https://example.org/" target="_top">away</a>
    {% endblock %}
    """
MOVER = """\
    {% extends 'base/layout.html.j2' %}
    {% block memo_header %}<META HTTP-EQUIV=" Refresh " CONTENT="0; URL=https://example.org/">{% endblock %}
    """
HOSTILE = {
    "audiences/framer.yaml": "title: Framer\nformats: [md]\nsections: [bluf]\n",
    "audiences/framer.html.j2": FRAMER,
    "audiences/mover.yaml": "title: Mover\nformats: [md]\nsections: [bluf]\n",
    "audiences/mover.html.j2": MOVER,
    "base/evil.svg": EVIL_SVG,
}


def request(server: Server, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` with the Host header ``host`` (default: the server's own, as a browser sends it)."""
    parts = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=TIMEOUT)
    try:
        conn.putrequest("GET", path, skip_host=host is not None)
        if host is not None:
            conn.putheader("Host", host)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: sources}."""
    found = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


@pytest.fixture
def hostile(mini_data: Path, tmp_path: Path) -> Iterator[Server]:
    """A preview of the mini dataset through a hostile --templates folder."""
    tpl = write_tree(tmp_path / "tpl", HOSTILE)
    with serving(mini_data, tpl, tmp_path / "out", ["framer", "mover"], "4 built, 0 up to date") as running:
        yield running


def test_every_response_tells_the_browser_what_it_may_not_do(hostile: Server) -> None:
    status, headers, body = request(hostile, "/brief/mini/framer")
    assert status == 200
    page = directives(headers["content-security-policy"])
    script = re.search(rb"<script>(.*?)</script>", body, re.DOTALL)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1)).digest()).decode()
    assert page["script-src"] == [f"'sha256-{digest}'"]  # the page's own script, nothing else
    assert page["frame-src"] == ["'self'"] and page["frame-ancestors"] == ["'none'"]
    assert page["object-src"] == ["'none'"] and page["base-uri"] == ["'none'"]
    assert b'"allow-same-origin"' in body and b"allow-scripts" not in body  # its frames: sandboxes, no script

    status, headers, body = request(hostile, "/output/mini/framer.html")
    assert status == 200 and b"FRAMER" in body
    brief = directives(headers["content-security-policy"])
    for name in ("script-src", "frame-src", "object-src", "base-uri", "form-action", "connect-src"):
        assert brief[name] == ["'none'"], name
    assert brief["sandbox"] == ["allow-same-origin"]  # no allow-scripts, -top-navigation, -popups, -forms

    status, headers, body = request(hostile, "/output/mini/base/evil.svg")
    assert status == 200 and b"<script>" in body
    asset = directives(headers["content-security-policy"])
    assert asset["sandbox"] == [] and asset["default-src"] == ["'none'"]
    assert headers["x-content-type-options"] == "nosniff"

    status, headers, body = request(hostile, "/output/mini/framer.md")
    assert status == 200 and directives(headers["content-security-policy"])["sandbox"] == []

    # <meta http-equiv=refresh>, in any case and spacing: not served at all (a sandbox stops it in Chromium only).
    status, headers, body = request(hostile, "/output/mini/mover.html")
    assert status == 403 and b"example.org" not in body
    assert b"would send the browser elsewhere" in body


def test_only_its_own_address_is_answered(hostile: Server) -> None:
    port = urllib.parse.urlsplit(hostile.url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        assert request(hostile, "/state.json", host)[0] == 200, host
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1:{port + 1}", "127.0.0.1", ""):
        for path in ("/", "/state.json", "/events", "/output/mini/framer.md", "/brief/mini/framer"):
            status, _, body = request(hostile, path, host)
            assert status == 400, (host, path, status)
            assert b"FRAMER" not in body and b"briefs" not in body


def test_serves_only_what_the_tool_wrote(hostile: Server) -> None:
    private = hostile.out / "taxes" / "return.pdf"  # `--out ~/Documents`: the user's own files
    private.parent.mkdir()
    private.write_bytes(b"%PDF-1.7 private")
    (hostile.out / "mini" / "private.pdf").write_bytes(b"%PDF-1.7 private")
    (hostile.out / "mini" / "framer.pdf").write_bytes(b"%PDF-1.7 private")  # a brief's name, never built as PDF
    for path in (
        "/output/taxes/return.pdf",
        "/output/mini/private.pdf",
        "/output/mini/framer.pdf",
        "/brief/taxes/return",
    ):
        status, _, body = request(hostile, path)
        assert status == 404 and b"private" not in body, path
    state = json.loads(request(hostile, "/state.json")[2])
    assert {b["key"]: b["files"] for b in state["briefs"]} == {
        "mini/framer": ["md", "html"],
        "mini/mover": ["md", "html"],
    }

    assert request(hostile, "/output/mini/framer.md")[0] == 200
    (hostile.out / "mini" / "framer.md").write_text("changed by someone else", encoding="utf-8")
    assert request(hostile, "/output/mini/framer.md")[0] == 404  # no longer the bytes the build wrote


def test_the_browser_runs_nothing_a_template_folder_wrote(hostile: Server, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(hostile.url + "brief/mini/framer")
    frame = wait(browser, "the brief", lambda: browser.find_elements(By.CSS_SELECTOR, ".pane iframe.current"))[0]
    time.sleep(1.5)  # what a script in the brief or its frames would have done by now, it has done
    assert browser.title == "mini / framer" and browser.current_url == hostile.url + "brief/mini/framer"
    browser.switch_to.frame(frame)
    assert "FRAMER" in browser.find_element(By.TAG_NAME, "body").text
    browser.find_element(By.ID, "away").click()  # target=_top from a sandbox: refused
    browser.switch_to.default_content()
    time.sleep(1.0)
    assert browser.current_url == hostile.url + "brief/mini/framer"
    assert frame.get_attribute("sandbox") == "allow-same-origin"

    browser.get(hostile.url + "output/mini/base/evil.svg")  # the asset as a page of its own: still no script
    time.sleep(0.5)
    assert "pwned" not in browser.title

    browser.get(hostile.url + "brief/mini/mover")
    wait(browser, "the pane", lambda: browser.find_elements(By.CSS_SELECTOR, ".pane iframe.current"))
    time.sleep(1.0)
    assert browser.current_url == hostile.url + "brief/mini/mover"
    browser.get(hostile.url + "output/mini/mover.html")  # opened on its own (its link on the index)
    time.sleep(1.0)
    assert browser.current_url == hostile.url + "output/mini/mover.html"
    logs = [entry["message"] for entry in browser.get_log("browser")] if hasattr(browser, "get_log") else []
    assert not any("pwned" in line for line in logs)


def test_a_word_brief_is_a_download_not_an_error(mini_data: Path, tmp_path: Path) -> None:
    from tests.test_watch import start, stop

    tpl = write_tree(tmp_path / "tpl", {"audiences/plain.yaml": "title: Plain\nformats: [md]\nsections: [bluf]\n"})
    argv = ("serve", "--data", mini_data, "--templates", tpl, "--out", tmp_path / "out", "--audience", "plain")
    proc, lines = start(*argv, "--format", "docx", "--port", "0", "--jobs", "1")
    try:
        url = re.search(r"http://[^ ]+", lines.expect("serving at "))
        assert url is not None
        lines.expect("built, 0 up to date")
        server = Server(url.group(0), mini_data, tpl, tmp_path / "out", lines)
        state = json.loads(request(server, "/state.json")[2])
        assert state["briefs"][0]["files"] == ["html", "docx"]
        status, headers, body = request(server, "/output/mini/plain.docx")
        assert status == 200 and body.startswith(b"PK")
        assert headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
        assert headers["content-disposition"] == 'attachment; filename="mini-plain.docx"'
    finally:
        assert stop(proc) == 0

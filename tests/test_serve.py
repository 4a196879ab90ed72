"""serve: a real server on a free port, driven by a real headless browser (Debian's chromium)."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import shutil
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from briefs.errors import InputError, Problem
from briefs.pipeline.build import Options, Report, make_plan
from briefs.pipeline.fastpath import STATE_DIR, STATE_FILE
from briefs.pipeline.output import output_lock
from briefs.preview.server import Preview, is_loopback, serve_options
from tests.conftest import write_tree
from tests.test_watch import TIMEOUT, Lines, set_rise, start, stop

pytest.importorskip("starlette", reason="the [serve] extra is not installed (pip install -e '.[serve]')")
pytest.importorskip("uvicorn", reason="the [serve] extra is not installed (pip install -e '.[serve]')")

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")  # given to selenium explicitly: its own manager would download one
AUDIENCES = {
    "audiences/alpha.yaml": """\
        title: Alpha Memo
        formats: [md]
        sections: [bluf, figures, key_points, recommendations, sources]
        """,
    "audiences/beta.yaml": """\
        title: Beta Brief
        formats: [md]
        sections: [figures, sources]
        """,
}


@dataclass
class Server:
    """A running `serve` subprocess and the folders it watches."""

    url: str
    data: Path
    templates: Path
    out: Path
    lines: Lines

    def get(self, path: str) -> tuple[int, bytes]:
        """A raw GET of ``path`` exactly as written (no client-side clean-up of ``..``)."""
        parts = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=TIMEOUT)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@contextlib.contextmanager
def serving(data: Path, tpl: Path, out: Path, audiences: list[str], built: str) -> Iterator[Server]:
    """`build.py serve --port 0` on ``data`` for ``audiences``, once its first build has said ``built``."""
    selection = [arg for audience in audiences for arg in ("--audience", audience)]
    proc, lines = start(
        "serve", "--data", data, "--templates", tpl, "--out", out, *selection, "--port", "0", "--jobs", "1"
    )
    try:
        url = re.search(r"http://[^ ]+", lines.expect("serving at "))
        assert url is not None
        lines.expect(built)
        yield Server(url.group(0), data, tpl, out, lines)
    finally:
        code = stop(proc)
    assert code == 0
    lines.expect("stopped serving")


@pytest.fixture
def server(mini_data: Path, tmp_path: Path) -> Iterator[Server]:
    """A server on the mini dataset with two quick audiences (Markdown, and the HTML serve adds)."""
    tpl = write_tree(tmp_path / "tpl", AUDIENCES)
    with serving(mini_data, tpl, tmp_path / "out", ["alpha", "beta"], "4 built, 0 up to date") as running:
        yield running


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless chromium through chromedriver, both Debian's: nothing is downloaded."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory(prefix="briefs-chromium-") as profile:
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1100,420",  # short: the brief overflows, so there is a scroll position to keep
        ):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(TIMEOUT)
        try:
            yield driver
        finally:
            driver.quit()


def wait(driver: Any, what: str, check: Callable[[], Any]) -> Any:
    """Poll ``check`` until it returns something true (the browser's state changes by itself)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def probe(_: Any) -> Any:
        try:
            return check()
        except WebDriverException:  # an iframe swapped out under us: look again
            driver.switch_to.default_content()
            return None

    try:
        return WebDriverWait(driver, TIMEOUT, poll_frequency=0.1).until(probe)
    except Exception as exc:
        raise AssertionError(f"timed out waiting for {what}") from exc


def brief_text(driver: Any) -> str:
    """The text of the brief shown in the page's (current) iframe."""
    from selenium.webdriver.common.by import By

    frame = driver.find_element(By.CSS_SELECTOR, ".pane iframe.current")
    driver.switch_to.frame(frame)
    try:
        return str(driver.find_element(By.TAG_NAME, "body").text)
    finally:
        driver.switch_to.default_content()


def overlay(driver: Any) -> str | None:
    """The error overlay's text, or None when it is hidden."""
    from selenium.webdriver.common.by import By

    element = driver.find_element(By.ID, "overlay")
    return str(element.text) if element.is_displayed() else None


def test_index_lists_every_brief_with_its_status(server: Server, browser: Any) -> None:
    browser.get(server.url)
    read = """return [...document.querySelectorAll('tr[data-key]')].map((row) => [row.dataset.key,
        row.querySelector('.status').textContent, [...row.querySelectorAll('a')].map((a) => a.href),
        row.querySelector('td.audience a').textContent])"""
    rows = wait(browser, "both briefs up to date", lambda: len(rows := browser.execute_script(read)) == 2 and rows)
    assert [(key, status) for key, status, _, _ in rows] == [("mini/alpha", "up to date"), ("mini/beta", "up to date")]
    assert [title for *_, title in rows] == ["Alpha Memo", "Beta Brief"]  # as a reader names them (issue 24)
    heading = browser.execute_script("return document.querySelector('.index h2').textContent")
    assert heading == "Mini brief on Testlandmini", heading  # the dataset's title, then its id
    links = rows[0][2] + rows[1][2]
    assert server.url + "brief/mini/alpha" in links and server.url + "output/mini/beta.md" in links
    assert wait(browser, "the live connection", lambda: browser.find_element("id", "live").text == "live")


def test_an_edit_updates_the_open_page_and_a_broken_one_shows_the_overlay(server: Server, browser: Any) -> None:
    browser.get(server.url + "brief/mini/alpha")
    wait(browser, "the brief", lambda: "4 meters" in brief_text(browser))
    wait(browser, "the live connection", lambda: browser.find_element("id", "live").text == "live")
    assert overlay(browser) is None
    scroll = "return document.querySelector('.pane iframe.current').contentWindow"
    browser.execute_script(scroll + ".scrollTo(0, 120)")
    assert browser.execute_script(scroll + ".scrollY") == 120

    set_rise(server.data, "5")  # saved in an editor: the page updates by itself, at the same place
    wait(browser, "the edited figure", lambda: "5 meters" in brief_text(browser))
    assert wait(browser, "the scroll position", lambda: browser.execute_script(scroll + ".scrollY") == 120)

    set_rise(server.data, "[5")  # broken: the overlay says where, the last good brief stays beneath it
    shown = wait(browser, "the overlay", lambda: overlay(browser))
    assert re.search(r"records\.yaml:\d+:\d+: YAML syntax", shown), shown
    assert "5 meters" in brief_text(browser)

    set_rise(server.data, "6")  # fixed: the overlay goes, the new brief comes
    wait(browser, "the fixed figure", lambda: "6 meters" in brief_text(browser))
    wait(browser, "the overlay to clear", lambda: overlay(browser) is None)
    server.lines.expect("built")


def test_index_says_which_brief_failed_and_why(server: Server, browser: Any) -> None:
    browser.get(server.url)
    read = """return [...document.querySelectorAll('tr[data-key]')].map((row) => [row.dataset.key,
        row.querySelector('.status').textContent, (row.querySelector('.why') || {}).textContent || ''])"""
    wait(browser, "both up to date", lambda: [r[1] for r in browser.execute_script(read)] == ["up to date"] * 2)
    audience = server.templates / "audiences" / "beta.yaml"
    good = audience.read_text(encoding="utf-8")
    audience.write_text(good + "limits: {words: 50}\n", encoding="utf-8")  # beta's words are too many now
    rows = wait(browser, "beta to fail", lambda: (rows := browser.execute_script(read))[1][1] == "failed" and rows)
    assert rows[0][1] == "up to date" and rows[0][2] == ""
    assert re.search(r"\d+ words in the Markdown brief; audience 'beta' allows 50", rows[1][2]), rows[1][2]
    audience.write_text(good, encoding="utf-8")
    wait(browser, "beta to recover", lambda: [r[1:] for r in browser.execute_script(read)] == [["up to date", ""]] * 2)


@pytest.mark.slow
def test_a_rebuild_waits_for_the_build_lock_and_the_pages_hear_of_it(server: Server) -> None:
    statuses: list[tuple[str, int]] = []  # mini/alpha's (status, version) in each event, in order
    parts = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=TIMEOUT)
    conn.request("GET", "/events")
    stream = conn.getresponse()
    assert stream.status == 200 and stream.getheader("Content-Type", "").startswith("text/event-stream")

    def listen() -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):  # AttributeError: closed under us
            for line in stream:
                if line.startswith(b"data: "):
                    brief = next(b for b in json.loads(line[6:])["briefs"] if b["key"] == "mini/alpha")
                    statuses.append((brief["status"], brief["version"]))

    threading.Thread(target=listen, daemon=True).start()
    brief = server.out / "mini" / "alpha.html"
    try:
        deadline = time.monotonic() + TIMEOUT
        while not statuses and time.monotonic() < deadline:
            time.sleep(0.05)
        first = statuses[0]  # what the page is told when it connects
        assert first[0] == "current"
        with output_lock(server.out):  # as if a one-off build or a schedule tick were writing
            set_rise(server.data, "5")
            server.lines.expect("records.yaml")  # the watcher saw it ...
            time.sleep(1.5)
            assert "5 meters" not in brief.read_text(encoding="utf-8")  # ... and waits for the lock
        server.lines.expect("built")
        built = ("current", first[1] + 2)  # md and html written
        deadline = time.monotonic() + TIMEOUT
        while statuses[-1] != built and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "5 meters" in brief.read_text(encoding="utf-8")
        assert statuses.index(("rebuilding", first[1])) < statuses.index(built)
    finally:
        conn.close()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler's pdftoppm (apt-get install poppler-utils)")
def test_a_pdf_brief_is_shown_as_its_pages(mini_data: Path, tmp_path: Path, browser: Any) -> None:
    tpl = write_tree(
        tmp_path / "tpl", {"audiences/gamma.yaml": "title: Gamma\nformats: [pdf]\nsections: [bluf, figures]\n"}
    )
    with serving(mini_data, tpl, tmp_path / "out", ["gamma"], "2 built, 0 up to date") as server:
        status, body = server.get("/pages/mini/gamma.json")
        assert status == 200
        info = json.loads(body)
        assert info["pages"] >= 1 and info["width"] > 0 and info["height"] > info["width"]  # a portrait page
        browser.get(server.url + "brief/mini/gamma")
        read = """const img = document.querySelector('.pages img');
            return img && img.complete ? [img.naturalWidth, img.naturalHeight] : null"""
        size = wait(browser, "the first page's picture", lambda: browser.execute_script(read))
        assert list(size) == [info["width"], info["height"]]
        assert server.get("/pages/mini/gamma/1.png")[1].startswith(b"\x89PNG")
        assert server.get(f"/pages/mini/gamma/{info['pages'] + 1}.png")[0] == 404


def test_two_audiences_side_by_side(server: Server, browser: Any) -> None:
    browser.get(server.url + "compare?left=mini/alpha&right=mini/beta")
    read = """return [...document.querySelectorAll('.pane')].map((pane) => {
        const frame = pane.querySelector('iframe.current');
        return [pane.dataset.key, frame && frame.contentDocument.body.innerText]; })"""

    def both() -> list[list[str]] | None:
        panes: list[list[str]] = browser.execute_script(read)
        return panes if all(text for _, text in panes) else None

    panes = wait(browser, "two briefs", both)
    assert [key for key, _ in panes] == ["mini/alpha", "mini/beta"]
    (_, alpha), (_, beta) = panes
    assert "Send flood aid." in alpha and "Send flood aid." not in beta  # beta has no recommendations


def test_serves_only_the_briefs_and_their_assets(server: Server, tmp_path: Path) -> None:
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }", encoding="utf-8")
    (server.templates / "base").mkdir(exist_ok=True)
    (server.templates / "base" / "leak.css").symlink_to(secret)  # a symlink out of the template folder
    (server.out / "mini" / "gamma.html").symlink_to(secret)  # and out of the briefs it knows
    status, body = server.get("/output/mini/alpha.html")
    assert status == 200 and b"River rise" in body
    status, body = server.get("/output/mini/base/fonts/LiberationSerif-Regular.ttf")  # what the HTML links to
    assert status == 200 and len(body) > 10_000
    assert server.get("/state.json")[0] == 200
    for path in (
        "/output/mini/../../../../etc/passwd",
        "/output/mini/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/output/mini/..%2f..%2f..%2fetc%2fpasswd",
        "/output/..%2f..%2fdata/mini.md",
        "/output//etc/passwd",
        "/output/mini/%2Fetc%2Fpasswd",
        "/output/mini/base/fonts/../../audiences/alpha.yaml",
        "/output/mini/audiences/alpha.yaml",
        "/output/mini/base/layout.html.j2",
        "/output/mini/base/leak.css",
        "/output/mini/gamma.html",
        "/output/mini/alpha.yaml",
        "/output/mini/.briefs/state.json",
        "/output/.briefs/state.json",
        "/output/mini/",
        "/output/",
        "/pages/mini/alpha/1.png",
        "/brief/mini/gamma",
        "/compare?left=mini/alpha&right=../etc",
        "/etc/passwd",
    ):
        status, body = server.get(path)
        assert status == 404, (path, status)
        assert b"root:" not in body and b"color: red" not in body


def test_serve_options_always_build_the_html_it_shows() -> None:
    assert serve_options(Options()).formats == () and serve_options(Options()).extra_formats == ("html",)
    assert serve_options(Options(formats=("md",))).formats == ("md", "html")
    assert serve_options(Options(formats=("html", "pdf"))).formats == ("html", "pdf")


def test_serve_builds_each_audiences_own_formats_and_so_links_its_word_brief(mini_data: Path, tmp_path: Path) -> None:
    """An audience that lists `docx` gets its Word brief in the preview too (issue 24: no DOCX link)."""
    tpl = write_tree(tmp_path / "tpl", {**AUDIENCES, "audiences/beta.yaml": AUDIENCES["audiences/beta.yaml"].replace(
        "formats: [md]", "formats: [md, docx]")})  # fmt: skip
    selected = Options(data_dir=mini_data, templates_dir=tpl, out_dir=tmp_path / "out", audiences=("alpha", "beta"))
    options = serve_options(selected)
    targets = {p.target.name for p in make_plan(options).targets}
    assert targets == {"mini/alpha.md", "mini/alpha.html", "mini/beta.md", "mini/beta.docx", "mini/beta.html"}


def _recorded_state(out: Path) -> None:
    """A build state as `build` writes it: desk read its own template, public did not; both read the data."""
    desk = {"data/mini/records.yaml": "1", "templates/audiences/desk.yaml": "2", "mine/audiences/desk.html.j2": "3"}
    public = {"data/mini/records.yaml": "1", "templates/audiences/public.yaml": "4"}
    targets = {}
    for audience, inputs, title in (("desk", desk, "Analytic Memo"), ("public", public, "Policy Brief")):
        (out / "mini").mkdir(parents=True, exist_ok=True)
        (out / "mini" / f"{audience}.md").write_text("brief\n", encoding="utf-8")
        targets[f"mini/{audience}.md"] = {
            "digest": "d", "inputs": inputs, "options": {}, "output": None,
            "titles": {"dataset": "Mini brief on Testland", "audience": title},
        }  # fmt: skip
    (out / STATE_DIR).mkdir(parents=True, exist_ok=True)
    (out / STATE_DIR / STATE_FILE).write_text(json.dumps({"targets": targets}), encoding="utf-8")


def test_the_index_names_briefs_by_their_titles(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _recorded_state(out)
    preview = Preview(out)
    preview.scan()
    shown = {b["key"]: (b["dataset_title"], b["title"]) for b in preview.snapshot()["briefs"]}
    assert shown == {
        "mini/desk": ("Mini brief on Testland", "Analytic Memo"),
        "mini/public": ("Mini brief on Testland", "Policy Brief"),
    }


def test_each_brief_is_told_only_of_the_bad_input_it_reads(tmp_path: Path) -> None:
    """A template error in desk's template is desk's (issue 24): public's badge and problems stay its own."""
    out = tmp_path / "out"
    _recorded_state(out)
    preview = Preview(out)
    preview.scan()

    def briefs() -> dict[str, tuple[str, list[str]]]:
        return {b["audience"]: (b["status"], b["problems"]) for b in preview.snapshot()["briefs"]}

    desk_error = Problem("mine/audiences/desk.html.j2", 3, 7, "", "'info' has no field 'subjekt'")
    preview.error(InputError([desk_error]))
    assert briefs() == {"desk": ("bad-input", [str(desk_error)]), "public": ("current", [])}
    assert [p["text"] for p in preview.snapshot()["problems"]] == [str(desk_error)]  # the index shows them all

    data_error = Problem("data/mini/records.yaml", 4, 1, "figures[0].value", "expected a number")
    preview.error(InputError([data_error]))  # both read the data: both are told
    assert briefs() == {"desk": ("bad-input", [str(data_error)]), "public": ("bad-input", [str(data_error)])}

    new_file = Problem("data/mini/more.yaml", 1, 1, "", "YAML syntax")  # read by no brief yet: everyone's
    preview.error(InputError([new_file]))
    assert {status for status, _ in briefs().values()} == {"bad-input"}

    preview.report(Report([], 0.1))  # the save that fixes it: a good build
    assert briefs() == {"desk": ("current", []), "public": ("current", [])}


def test_loopback_is_told_from_other_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")

"""Preview every brief in a browser while you edit: `python build.py serve` (issue 17).

The watch loop (`briefs.pipeline.watch.watch`) runs in a background thread, building into the output folder under
the build's own lock; a small Starlette app served by uvicorn shows what it wrote. Every change of a
brief's status — rebuilding, built, failed, bad input — is pushed to the open pages as a server-sent
event: a page reloads its brief in place (keeping the scroll position), and bad input shows as an
overlay, file:line:column, over the last good brief until a save fixes it.

The app serves only the briefs this tool wrote into the output folder (`<dataset>/<audience>.{html,pdf,md,docx}`,
each named in the build state with the hash of the bytes written, or written by this preview's own
builds), the template folders' assets the briefs' HTML links to (fonts, images), PNG renderings of PDF
pages (when poppler's `pdftoppm` is installed) and its own pages. A file the build did not write (a
private PDF in `--out ~/Documents`) or one changed since is 404. Names are checked against the briefs it
knows and every path is resolved and kept inside its folder, so `..`, `%2e%2e`, absolute paths and
symlinks out get 404, as does anything else. It writes nothing but what a build writes.

What a browser may do with what it serves (docs/security.md, "The preview"): every response carries a
Content-Security-Policy. The preview's own page runs only its own script (by hash) and frames only
this origin; a brief's HTML runs no script, loads nothing from elsewhere, frames and embeds nothing,
sends no form, sets no base and is itself a sandbox (no script, no navigation of other frames or the
top page, no popups, no automatic redirect); an asset from a template folder (an SVG a user template
wrote) is a sandbox of its own with no script and an opaque origin, so even opened on its own it cannot
read the preview. The preview's frames are sandboxed too. Every request must name this server in its
Host header (127.0.0.1, localhost or [::1] with the port it listens on), so a DNS-rebinding page gets
400 and nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import ipaddress
import json
import logging
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefs.errors import BuildError, InputError, Problem, display_path
from briefs.files import read_limited
from briefs.formats import FORMATS
from briefs.pipeline.build import Options, PlannedTarget, Report, TargetResult
from briefs.pipeline.fastpath import STATE_DIR, STATE_FILE
from briefs.pipeline.plan import input_file
from briefs.preview.page import PAGE

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

log = logging.getLogger(__name__)

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # a dataset or audience id as it appears in a path
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "md": "text/plain; charset=utf-8",  # shown as text, not downloaded
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",  # downloaded
}
ASSET_TYPES = {
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}
# A brief's HTML runs no script, loads nothing from elsewhere, frames, embeds and posts nothing, even if
# a template tried; and it is a sandbox (allow-same-origin only: the preview reads its scroll position,
# but it gets no script, no popups, no forms, no top navigation and, in Chromium, no <meta> refresh).
BRIEF_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "script-src 'none'; connect-src 'none'; frame-src 'none'; child-src 'none'; object-src 'none'; "
    "worker-src 'none'; manifest-src 'none'; media-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox allow-same-origin"
)
# An asset from a template folder is any file a user template put there (an SVG with a <script>): it gets
# an opaque origin and no script wherever it is opened (framed, embedded, or as a page of its own).
ASSET_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)
# A Markdown brief is text; a PNG of a page is a picture: neither may do anything either.
INERT_POLICY = "default-src 'none'; frame-ancestors 'self'; sandbox"
PAGE_DPI = 80
KEEPALIVE_S = 15.0
STATUSES = ("current", "rebuilding", "failed", "bad-input", "missing")
"""`bad-input`: the last save broke an input this brief reads; the page shows its last good version."""


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def page_policy(page: str = PAGE) -> str:
    """The preview page's own policy: its one script and style (by hash), frames and requests to itself only."""
    scripts = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    styles = re.findall(r"<style>(.*?)</style>", page, re.DOTALL)
    return (
        f"default-src 'none'; script-src {' '.join(_sha256_source(x) for x in scripts)}; "
        f"style-src {' '.join(_sha256_source(x) for x in styles)}; img-src 'self' data:; connect-src 'self'; "
        "frame-src 'self'; child-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


PAGE_POLICY = page_policy()


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The Host headers a request may carry: this machine's loopback names with the port, and ``host`` as served.

    A DNS-rebinding page reaches the server under its own name (``attacker.example:8000``) and is refused.
    Serving on another address (``--host 192.0.2.7``, said to be open to anyone) accepts that address too.
    """
    names = {"127.0.0.1", "localhost", "[::1]"}
    if host not in ("0.0.0.0", "::", ""):
        names.add(f"[{host}]" if ":" in host else host)
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return frozenset(h.lower() for h in hosts)


def serve_options(options: Options) -> Options:
    """The build options a preview needs: the formats asked for (each audience's own by default) and the HTML it shows.

    Without `--format`, each brief is built in its audience's `formats` — a Word brief where the audience
    lists `docx`, so the preview links it (issue 24) — and in HTML, which the preview shows.
    """
    if not options.formats:
        return replace(options, extra_formats=tuple(dict.fromkeys((*options.extra_formats, "html"))))
    formats = options.formats if "html" in options.formats else (*options.formats, "html")
    return replace(options, formats=tuple(formats))


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.1, ::1, localhost)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: a free port, chosen by the system)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, reuse_port=False)
    except OSError as exc:
        raise BuildError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


# --- what the pages show ---------------------------------------------------------------------------


@dataclass
class BriefState:
    """One brief (dataset × audience) as the preview knows it."""

    dataset: str
    audience: str
    status: str = "missing"  # one of STATUSES
    error: str | None = None
    problems: list[Problem] = field(default_factory=list)  # the bad input it reads (its file:line:col)
    title: str | None = None  # the audience's `title`: 'Analytic Memo'
    dataset_title: str | None = None  # the dataset's `info.title`
    version: int = 0  # bumped whenever one of its outputs is written: open pages reload
    built_at: float | None = None
    pages: int | None = None


@dataclass
class Preview:
    """The shared state between the watcher thread and the web app, and the pages listening to it."""

    out_dir: Path
    briefs: dict[tuple[str, str], BriefState] = field(default_factory=dict)
    # Every file the tool wrote that the preview may serve: (dataset, audience, format) -> sha256 of its
    # bytes as written (None: named in an older build state that kept no hash).
    outputs: dict[tuple[str, str, str], str | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    building: bool = False
    last_build: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]] = field(default_factory=set)

    def scan(self, datasets: tuple[str, ...] = (), audiences: tuple[str, ...] = ()) -> None:
        """Know the briefs the build state says this tool wrote (of those selected), before the first build says more.

        Only the state is believed, never a listing of the folder: ``--out ~/Documents`` must not serve
        ``~/Documents/taxes/return.pdf``.
        """
        outputs = written_outputs(self.out_dir)
        with self._lock:
            for (dataset, audience, fmt), digest in sorted(outputs.items()):
                if (datasets and dataset not in datasets) or (audiences and audience not in audiences):
                    continue
                self.outputs[(dataset, audience, fmt)] = digest
                if (self.out_dir / dataset / f"{audience}.{fmt}").is_file():
                    brief = self.briefs.setdefault((dataset, audience), BriefState(dataset, audience))
                    if brief.status == "missing":
                        brief.status = "current"
            self._name(recorded(self.out_dir))

    def read(self, dataset: str, audience: str, fmt: str) -> bytes | None:
        """The bytes of a brief the tool wrote, if the file still holds what it wrote (else None)."""
        with self._lock:
            if (dataset, audience, fmt) not in self.outputs:
                return None
            digest = self.outputs[(dataset, audience, fmt)]
        path = _inside(self.out_dir.resolve(), self.out_dir / dataset / f"{audience}.{fmt}")
        if path is None:
            return None
        try:
            data = path.read_bytes()  # whole: a build replaces it atomically
        except OSError:
            return None
        if digest is not None and hashlib.sha256(data).hexdigest() != digest:
            return None
        return data

    # The watcher's callbacks (called in its thread).

    def explain(self, planned: PlannedTarget) -> None:
        """A build has planned a target: a stale one is about to be rebuilt."""
        t = planned.target
        with self._lock:
            brief = self.briefs.setdefault((t.dataset, t.audience), BriefState(t.dataset, t.audience))
            before = (self.building, brief.status)
            self.building = True
            if planned.stale:
                brief.status = "rebuilding"
            elif brief.status == "missing":
                brief.status = "current"
            changed = before != (self.building, brief.status)
        if changed:  # a build plans every target: tell the pages only what is news
            self.publish()

    def progress(self, result: TargetResult) -> None:
        """One target is done: built (pages reload), up to date, or failed (and why)."""
        t = result.target
        with self._lock:
            brief = self.briefs.setdefault((t.dataset, t.audience), BriefState(t.dataset, t.audience))
            if result.status == "failed":
                brief.status, brief.error = "failed", result.error
            elif result.status == "built":
                with contextlib.suppress(OSError):  # just written by this preview's own build
                    digest = hashlib.sha256(t.path.read_bytes()).hexdigest()
                    self.outputs[(t.dataset, t.audience, t.fmt)] = digest
                brief.version += 1
                brief.built_at = time.time()
                if brief.status != "failed":
                    brief.status, brief.error = "current", None
                if t.fmt == "pdf":
                    brief.pages = result.pages
            elif brief.status == "rebuilding":
                brief.status = "current"
        self.publish()

    def report(self, report: Report) -> None:
        """A build finished: its input was good, so any overlay goes."""
        failed = {(r.target.dataset, r.target.audience): r.error for r in report.failed}
        written = written_outputs(self.out_dir)  # the state this build has just written
        names = recorded(self.out_dir)
        with self._lock:
            self.outputs.update(written)
            self.problems = []
            for brief in self.briefs.values():
                brief.problems = []
                if brief.status == "bad-input":
                    brief.status = "current"
            self.building = False
            self.last_build = f"{report.summary()} at {time.strftime('%H:%M:%S')}"
            seen = {(r.target.dataset, r.target.audience) for r in report.results}
            for key in seen:
                brief = self.briefs.setdefault(key, BriefState(*key))
                brief.status = "failed" if key in failed else "current"
                brief.error = failed.get(key)
            for key in set(self.briefs) - seen:  # an audience or dataset that is gone
                if not any((self.out_dir / key[0] / f"{key[1]}.{fmt}").is_file() for fmt in FORMATS):
                    del self.briefs[key]
            self._name(names)
        self.publish()

    def _name(self, names: Recorded) -> None:
        """Give each brief its titles, as the build state records them (under the lock)."""
        for key, brief in self.briefs.items():
            if key in names.titles:
                brief.dataset_title, brief.title = names.titles[key]

    def error(self, exc: Exception) -> None:
        """A build stopped: bad input (each problem with its file and line) or another failure."""
        if isinstance(exc, InputError):
            problems = list(exc.problems)
        else:
            problems = [Problem("", None, None, "", f"{type(exc).__name__}: {exc}")]
        reads = recorded(self.out_dir).inputs
        with self._lock:
            self.problems = problems
            self.building = False
            what = "bad input" if isinstance(exc, InputError) else "the build failed"
            self.last_build = f"{what} at {time.strftime('%H:%M:%S')}: the last good briefs are kept"
            # Each brief is told of the problems in the files it reads (issue 24: a mistake in the desk
            # template is desk's, not public's); one in a file no brief has read yet (a new data file,
            # a new audience) or in no file at all concerns every brief.
            anyones = set().union(*reads.values()) if reads else set()
            everyones = [p for p in problems if not _concerns(p, anyones)]
            for key, brief in self.briefs.items():
                own = [p for p in problems if _concerns(p, reads.get(key, set()))] + everyones
                brief.problems = own
                if own:
                    brief.status = "bad-input"
                elif brief.status == "rebuilding":
                    brief.status = "current"
        self.publish()

    # What the pages are told.

    def snapshot(self) -> dict[str, Any]:
        """Everything a page shows, as JSON-ready values."""
        with self._lock:
            briefs = [
                {
                    "key": f"{b.dataset}/{b.audience}",
                    "dataset": b.dataset,
                    "audience": b.audience,
                    "status": b.status,
                    "error": b.error,
                    "problems": [str(p) for p in b.problems],
                    "title": b.title,
                    "dataset_title": b.dataset_title,
                    "version": b.version,
                    "built_at": _clock(b.built_at or self._written(b)),
                    "files": [
                        f
                        for f in FORMATS
                        if (b.dataset, b.audience, f) in self.outputs
                        and (self.out_dir / b.dataset / f"{b.audience}.{f}").is_file()
                    ],
                    "pages": b.pages,
                }
                for _, b in sorted(self.briefs.items())
            ]
            problems = [
                {"text": str(p), "file": p.file, "line": p.line, "column": p.column, "key": p.key, "message": p.message}
                for p in self.problems
            ]
            return {"briefs": briefs, "problems": problems, "building": self.building, "last_build": self.last_build}

    def _written(self, brief: BriefState) -> float | None:
        """When the brief's newest output was written (for one built before the preview started)."""
        times = []
        for fmt in FORMATS:
            with contextlib.suppress(OSError):
                times.append((self.out_dir / brief.dataset / f"{brief.audience}.{fmt}").stat().st_mtime)
        return max(times, default=None)

    def known(self, dataset: str, audience: str) -> bool:
        with self._lock:
            return (dataset, audience) in self.briefs

    def subscribe(self) -> asyncio.Queue[str]:
        """A queue of snapshots for one open page (call in the server's event loop)."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=64)
        with self._lock:
            self._listeners.add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        with self._lock:
            self._listeners = {(loop, q) for loop, q in self._listeners if q is not queue}

    def publish(self) -> None:
        """Tell every open page the new state (from any thread)."""
        data = json.dumps(self.snapshot())
        with self._lock:
            listeners = list(self._listeners)
        for loop, queue in listeners:
            with contextlib.suppress(RuntimeError):  # a loop that has closed
                loop.call_soon_threadsafe(_offer, queue, data)


def written_outputs(out_dir: Path) -> dict[tuple[str, str, str], str | None]:
    """The outputs the build state names (dataset, audience, format), each with the hash of what was written."""
    try:
        state = json.loads((out_dir / STATE_DIR / STATE_FILE).read_text(encoding="utf-8"))
        targets = state["targets"]
    except (OSError, ValueError, TypeError, KeyError):
        return {}
    outputs: dict[tuple[str, str, str], str | None] = {}
    if not isinstance(targets, dict):
        return outputs
    for name, entry in targets.items():
        dataset, _, file = str(name).partition("/")
        audience, _, fmt = file.rpartition(".")
        if fmt not in FORMATS or not (NAME.fullmatch(dataset) and NAME.fullmatch(audience)):
            continue
        digest = entry.get("output") if isinstance(entry, dict) else None
        outputs[(dataset, audience, fmt)] = digest if isinstance(digest, str) else None
    return outputs


def _concerns(problem: Problem, reads: set[str]) -> bool:
    """Whether ``problem`` is in a file of ``reads`` (or in a folder it names, ending in '/')."""
    return problem.file in reads or any(f.endswith("/") and problem.file.startswith(f) for f in reads)


@dataclass
class Recorded:
    """What the build state says of each brief (dataset, audience): its titles and every file it read."""

    titles: dict[tuple[str, str], tuple[str | None, str | None]] = field(default_factory=dict)
    inputs: dict[tuple[str, str], set[str]] = field(default_factory=dict)


def recorded(out_dir: Path) -> Recorded:
    """The titles and inputs the build state records for each brief (nothing if it cannot be read)."""
    found = Recorded()
    try:
        targets = json.loads((out_dir / STATE_DIR / STATE_FILE).read_text(encoding="utf-8"))["targets"]
    except (OSError, ValueError, TypeError, KeyError):
        return found
    if not isinstance(targets, dict):
        return found
    for name, entry in targets.items():
        dataset, _, file = str(name).partition("/")
        audience = file.rpartition(".")[0]
        if not isinstance(entry, dict):
            continue
        key = (dataset, audience)
        if isinstance(entry.get("inputs"), dict):
            reads = found.inputs.setdefault(key, set())
            for k in map(str, entry["inputs"]):
                reads.add(input_file(k))
                if "#" in k:  # a record (issue 27): a mistake in any file of its dataset stops the brief's build
                    reads.add(input_file(k).rpartition("/")[0] + "/")
        titles = entry.get("titles")
        if isinstance(titles, dict):
            pair = (titles.get("dataset"), titles.get("audience"))
            found.titles[key] = (
                pair[0] if isinstance(pair[0], str) else None,
                pair[1] if isinstance(pair[1], str) else None,
            )
    return found


def _clock(when: float | None) -> str | None:
    """A time of day as the pages show it (a preview runs for a day's work at most)."""
    if when is None:
        return None
    day = "" if time.localtime(when)[:3] == time.localtime()[:3] else time.strftime("%Y-%m-%d ", time.localtime(when))
    return day + time.strftime("%H:%M:%S", time.localtime(when))


def _offer(queue: asyncio.Queue[str], data: str) -> None:
    """Queue a snapshot; a page that has fallen behind only needs the newest."""
    while queue.full():
        queue.get_nowait()
    queue.put_nowait(data)


# --- PDF pages as pictures ---------------------------------------------------------------------------


class PageImages:
    """PNG images of a PDF's pages by poppler's `pdftoppm`, made on request and kept in memory (never on disk)."""

    def __init__(self) -> None:
        self.pdftoppm = shutil.which("pdftoppm")
        self.pdfinfo = shutil.which("pdfinfo")
        self._images: dict[tuple[str, int, int], bytes] = {}
        self._counts: dict[tuple[str, int], dict[str, int]] = {}
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.pdftoppm is not None and self.pdfinfo is not None

    def count(self, pdf: Path) -> dict[str, int] | None:
        """How many pages ``pdf`` has and their size in pixels (None without poppler, or if it cannot be read)."""
        if self.pdfinfo is None:
            return None
        try:
            key = (str(pdf), pdf.stat().st_mtime_ns)
        except OSError:
            return None
        with self._lock:
            if key in self._counts:
                return self._counts[key]
        run = subprocess.run([self.pdfinfo, str(pdf)], capture_output=True, text=True, timeout=30, check=False)
        pages = re.search(r"^Pages:\s+(\d+)", run.stdout, re.MULTILINE)
        size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", run.stdout, re.MULTILINE)
        if not pages or not size:
            return None
        info = {
            "pages": int(pages.group(1)),
            "width": round(float(size.group(1)) * PAGE_DPI / 72),
            "height": round(float(size.group(2)) * PAGE_DPI / 72),
        }
        with self._lock:
            self._counts[key] = info
        return info

    def page(self, pdf: Path, number: int) -> bytes | None:
        """Page ``number`` (from 1) of ``pdf`` as PNG bytes, or None."""
        if self.pdftoppm is None:
            return None
        try:
            key = (str(pdf), pdf.stat().st_mtime_ns, number)
        except OSError:
            return None
        with self._lock:
            if key in self._images:
                return self._images[key]
        args = [self.pdftoppm, "-png", "-r", str(PAGE_DPI), "-f", str(number), "-l", str(number), "-singlefile"]
        run = subprocess.run([*args, str(pdf)], capture_output=True, timeout=60, check=False)
        if run.returncode != 0 or not run.stdout.startswith(b"\x89PNG"):
            return None
        with self._lock:
            if len(self._images) > 200:  # old versions of pages nobody will ask for again
                self._images.clear()
            self._images[key] = run.stdout
        return run.stdout


# --- the web app ---------------------------------------------------------------------------------------


def make_app(
    preview: Preview, options: Options, stopping: threading.Event, hosts: frozenset[str] | None = None
) -> Starlette:
    """The Starlette app: pages, the event stream, and the briefs' files; ``hosts``: the Host headers it answers."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
    from starlette.routing import Route

    out_root = options.out_dir.resolve()
    asset_roots = [d.resolve() for d in options.dirs.searched]
    images = PageImages()

    def not_found() -> Response:
        return PlainTextResponse("Not Found", status_code=404)

    def brief_path(dataset: str, audience: str, fmt: str) -> Path | None:
        """The brief's file, if it is one the preview knows, exists, and lies inside the output folder."""
        if fmt not in FORMATS or not (NAME.fullmatch(dataset) and NAME.fullmatch(audience)):
            return None
        if not preview.known(dataset, audience) or preview.read(dataset, audience, fmt) is None:
            return None
        return _inside(out_root, out_root / dataset / f"{audience}.{fmt}")

    def page(title: str, kind: str, extra: dict[str, Any]) -> Response:
        state = preview.snapshot()
        state.update(extra)
        state["page"] = kind
        state["page_images"] = images.available
        body = PAGE.replace("{{title}}", _escape(title)).replace("{{state}}", _json_for_script(state))
        headers = {"Cache-Control": "no-store", "Content-Security-Policy": PAGE_POLICY, "X-Frame-Options": "DENY"}
        return HTMLResponse(body, headers=headers)

    async def index(request: Request) -> Response:
        return page("Briefs preview", "index", {})

    async def brief(request: Request) -> Response:
        dataset, audience = request.path_params["dataset"], request.path_params["audience"]
        if not preview.known(dataset, audience):
            return not_found()
        return page(f"{dataset} / {audience}", "brief", {"panes": [f"{dataset}/{audience}"]})

    async def compare(request: Request) -> Response:
        keys = [request.query_params.get("left", ""), request.query_params.get("right", "")]
        for key in keys:
            parts = key.split("/")
            if len(parts) != 2 or not preview.known(*parts):
                return not_found()
        return page(f"{keys[0]} | {keys[1]}", "compare", {"panes": keys})

    async def state(request: Request) -> Response:
        return JSONResponse(preview.snapshot(), headers={"Cache-Control": "no-store"})

    async def events(request: Request) -> Response:
        queue = preview.subscribe()

        async def stream() -> AsyncIterator[str]:
            try:
                yield f"retry: 1000\nevent: state\ndata: {json.dumps(preview.snapshot())}\n\n"
                quiet = 0.0
                while not stopping.is_set():
                    try:
                        data = await asyncio.wait_for(queue.get(), timeout=1.0)
                    except TimeoutError:
                        quiet += 1.0
                        if quiet >= KEEPALIVE_S:  # proxies and browsers keep a talking stream open
                            quiet = 0.0
                            yield ": keepalive\n\n"
                        continue
                    quiet = 0.0
                    yield f"event: state\ndata: {data}\n\n"
            finally:
                preview.unsubscribe(queue)

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def output_file(request: Request) -> Response:
        dataset, name = request.path_params["dataset"], request.path_params["name"]
        audience, _, fmt = name.rpartition(".")
        if fmt not in MEDIA_TYPES or not (NAME.fullmatch(dataset) and NAME.fullmatch(audience)):
            return not_found()
        if not preview.known(dataset, audience):
            return not_found()
        data = await run_in_threadpool(preview.read, dataset, audience, fmt)
        if data is None:
            return not_found()
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        if fmt == "html" and (why := redirects(data)) is not None:
            text = f"Not shown: this brief's HTML would send the browser elsewhere ({why}). Check its templates.\n"
            return PlainTextResponse(text, status_code=403, headers={"Content-Security-Policy": INERT_POLICY})
        if fmt == "html":
            headers["Content-Security-Policy"] = BRIEF_POLICY
        elif fmt == "md":
            headers["Content-Security-Policy"] = INERT_POLICY
        elif fmt == "docx":
            headers["Content-Disposition"] = f'attachment; filename="{dataset}-{audience}.docx"'
        # A PDF gets no policy: Chromium's viewer shows none under `sandbox`; it runs in its own process.
        return Response(data, media_type=MEDIA_TYPES[fmt], headers=headers)

    async def asset(request: Request) -> Response:
        # The briefs' HTML links its fonts relative to the template folders (base/fonts/…), so from
        # /output/<dataset>/<audience>.html they are asked for under /output/<dataset>/.
        rel = str(request.path_params["asset"])
        suffix = Path(rel).suffix.lower()
        parts = rel.split("/")
        if suffix not in ASSET_TYPES or "audiences" in parts or any(not p or p.startswith(".") for p in parts):
            return not_found()
        for root in asset_roots:
            path = _inside(root, root / rel)
            if path is not None:
                headers = {
                    "Cache-Control": "no-cache",
                    "X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": ASSET_POLICY,
                }
                try:  # a FIFO or /dev/zero renamed as a font is refused, not read
                    data = await run_in_threadpool(read_limited, path, ASSET_LIMIT)
                except OSError:
                    return not_found()
                return Response(data, media_type=ASSET_TYPES[suffix], headers=headers)
        return not_found()

    async def page_image(request: Request) -> Response:
        dataset, audience = request.path_params["dataset"], request.path_params["audience"]
        number = int(request.path_params["number"])
        pdf = brief_path(dataset, audience, "pdf")
        if pdf is None or number < 1:
            return not_found()
        png = await run_in_threadpool(images.page, pdf, number)
        if png is None:
            return not_found()
        headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        headers["Content-Security-Policy"] = INERT_POLICY
        return Response(png, media_type="image/png", headers=headers)

    async def page_count(request: Request) -> Response:
        pdf = brief_path(request.path_params["dataset"], request.path_params["audience"], "pdf")
        if pdf is None or not images.available:
            return not_found()
        info = await run_in_threadpool(images.count, pdf)
        if info is None:
            return not_found()
        return JSONResponse(info, headers={"Cache-Control": "no-store"})

    async def missing(request: Request, exc: Exception) -> Response:
        return not_found()

    routes = [
        Route("/", index),
        Route("/brief/{dataset}/{audience}", brief),
        Route("/compare", compare),
        Route("/events", events),
        Route("/state.json", state),
        Route("/output/{dataset}/{name}", output_file),
        Route("/output/{dataset}/{asset:path}", asset),
        Route("/pages/{dataset}/{audience}/{number:int}.png", page_image),
        Route("/pages/{dataset}/{audience}.json", page_count),
    ]
    app = Starlette(routes=routes, exception_handlers={404: missing, 405: missing})
    if hosts is not None:
        app.add_middleware(HostCheck, hosts=hosts)
    return app


class HostCheck:
    """ASGI middleware: a request whose Host header is not one of ``hosts`` gets 400 (DNS rebinding)."""

    def __init__(self, app: Any, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = [v for k, v in scope.get("headers", ()) if k == b"host"]
            if len(host) != 1 or host[0].decode("latin-1").lower() not in self.hosts:
                body = b"Bad Request: this preview answers only to its own address (127.0.0.1, localhost, [::1])\n"
                head = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(body))]
                await send({"type": "http.response.start", "status": 400, "headers": head})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


ASSET_LIMIT = 20_000_000
"""The largest template asset the preview serves (bytes); a font is under 1 MB."""


class _Redirects(HTMLParser):
    """Finds markup that moves the browser by itself: ``<meta http-equiv=refresh>`` (in any case or spacing)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta" and self.found is None:
            equiv = " ".join((dict(attrs).get("http-equiv") or "").split()).lower()
            if equiv == "refresh":
                self.found = "<meta http-equiv=refresh>"

    handle_startendtag = handle_starttag


def redirects(html: bytes) -> str | None:
    """What in ``html`` would send a browser elsewhere unasked, or None (a sandbox stops it in Chromium only)."""
    parser = _Redirects()
    parser.feed(html.decode("utf-8", "replace"))
    parser.close()
    return parser.found


def _inside(root: Path, path: Path) -> Path | None:
    """``path`` if it is a file whose real location (symlinks followed) is inside ``root``, else None."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return real if real.is_relative_to(root) and real.is_file() else None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _json_for_script(value: Any) -> str:
    """JSON safe inside a <script> element (no closing tag can be spelled)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- running it --------------------------------------------------------------------------------------


def serve(
    options: Options,
    stop: threading.Event,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_ready: Callable[[str], None] | None = None,
    progress: Callable[[TargetResult], None] | None = None,
    on_report: Callable[[Report], None] | None = None,
    explain: Callable[[PlannedTarget], None] | None = None,
) -> None:
    """Watch and rebuild in a thread, serve the previews until ``stop`` is set. Raises InputError/BuildError."""
    try:
        import uvicorn
        from starlette.applications import Starlette  # noqa: F401  (the extra's other half)
    except ModuleNotFoundError as exc:
        raise BuildError(f"serve needs the [serve] extra ({exc.name} is missing): pip install -e '.[serve]'") from exc
    from briefs.pipeline.watch import watch, watched_folders

    if not 0 <= port <= 65535:
        raise InputError(f"--port: expected a port from 0 (any free one) to 65535, found {port}")
    options = serve_options(options)
    watched_folders(options)  # a missing folder is bad input: say so before listening
    if not is_loopback(host):
        log.warning("warning: serving on %s: anyone who can reach this machine can read every brief (no login)", host)
    sock = bind(host, port)
    preview = Preview(options.out_dir)
    preview.scan(options.datasets, options.audiences)
    stopping = threading.Event()
    app = make_app(preview, options, stopping, allowed_hosts(host, sock.getsockname()[1]))
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        server_header=False,
    )
    server = uvicorn.Server(config)
    # Not in the main thread, so uvicorn leaves the signals to the CLI (which sets ``stop``).
    web = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="serve-http", daemon=True)

    def on_progress(result: TargetResult) -> None:
        preview.progress(result)
        if progress is not None:
            progress(result)

    def on_built(report: Report) -> None:
        preview.report(report)
        if on_report is not None:
            on_report(report)

    def on_explain(planned: PlannedTarget) -> None:
        preview.explain(planned)
        if explain is not None:
            explain(planned)

    def watching() -> None:
        try:
            watch(options, stop, progress=on_progress, on_report=on_built, explain=on_explain, on_error=preview.error)
        except Exception as exc:  # the server goes on showing the last good briefs
            log.error("error: the watcher stopped: %s: %s", type(exc).__name__, exc)
            preview.error(exc)

    watcher = threading.Thread(target=watching, name="serve-watch", daemon=True)
    web.start()
    deadline = time.monotonic() + 30
    while not server.started and web.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        sock.close()
        raise BuildError(f"the preview server did not start on {host}:{port}")
    bound_port = sock.getsockname()[1]
    url = f"http://{f'[{host}]' if ':' in host else host}:{bound_port}/"
    if on_ready is not None:
        on_ready(url)
    else:
        log.info("serving %s at %s (Ctrl-C to stop)", display_path(options.out_dir), url)
    watcher.start()
    try:
        while not stop.wait(0.5):
            if not web.is_alive():
                log.error("error: the preview server stopped")
                break
    finally:
        stop.set()
        stopping.set()
        server.should_exit = True
        watcher.join(timeout=60)  # a build in progress finishes (its writes are atomic either way)
        web.join(timeout=10)
        sock.close()
    log.info("stopped serving")

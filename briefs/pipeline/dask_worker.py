"""What a Dask worker runs (issue 18): the template folders as data, and a brief rendered from them.

Imported by the Dask client's process (`briefs.pipeline.dask_relay`), which submits these, and by each
worker, which runs them; never by the building process, which holds no Dask client.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from briefs import __version__
from briefs.data.audiences import TemplateDirs
from briefs.errors import BuildError, display_path

RETRIES = 2
"""A task that raises on a worker (not a brief that fails: that is an outcome) is tried this many more times.

A worker that dies mid-brief is another matter: the scheduler itself gives its tasks to another
worker, up to ``distributed.scheduler.allowed-failures`` times (Dask's default: 3).
"""


@dataclasses.dataclass(frozen=True)
class TemplateBundle:
    """The template folders as data: every file's bytes, by folder and relative path, named by their hash."""

    digest: str
    roots: tuple[tuple[str, tuple[tuple[str, bytes], ...]], ...]  # (as shown in messages, files), user's first
    has_user: bool

    @classmethod
    def of(cls, dirs: TemplateDirs) -> TemplateBundle:
        """Read every file under ``dirs``; a symlink leading out of its folder is left out, as the loader refuses it."""
        h = hashlib.sha256()
        roots = []
        for i, root in enumerate(dirs.searched):
            real_root = root.resolve()
            files = []
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                if not path.resolve().is_relative_to(real_root):
                    continue
                name, data = path.relative_to(root).as_posix(), path.read_bytes()
                h.update(f"{i}/{name}\0{len(data)}\0".encode("utf-8", "surrogateescape") + data)
                files.append((name, data))
            roots.append((display_path(root), tuple(files)))
        return cls(h.hexdigest(), tuple(roots), dirs.user is not None)


_materialised: dict[str, TemplateDirs] = {}
_materialise_lock = threading.Lock()


def private_folder(under: Path | None = None) -> Path:
    """This user's folder for bundles: ``briefs-inputs-<uid>`` under the temporary folder, made 0700.

    Refused (BuildError) unless it is a real folder, owned by this user, that no one else may write or
    list: in a shared ``/tmp`` another user could otherwise plant a bundle, or a symlink to one.
    """
    base = (under or Path(tempfile.gettempdir())) / f"briefs-inputs-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        base.mkdir(mode=0o700)
    info = base.lstat()
    import stat

    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise BuildError(
            f"{base} is not a private folder of this user (owner {info.st_uid}, mode {stat.filemode(info.st_mode)}): "
            "the worker will not use templates from it"
        )
    return base


def _holds(folder: Path, bundle: TemplateBundle) -> bool:
    """Whether ``folder`` holds exactly the bundle's files, byte for byte (no more, no fewer, no links)."""
    want = {f"{i}/{name}": data for i, (_, files) in enumerate(bundle.roots) for name, data in files}
    found = set()
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            return False
        if path.is_dir() or rel == ".complete":
            continue
        if rel not in want or path.read_bytes() != want[rel]:
            return False
        found.add(rel)
    return found == want.keys() and (folder / ".complete").is_file()


def materialise(bundle: TemplateBundle, under: Path | None = None) -> TemplateDirs:
    """The bundle's folders written out on this machine (once per content hash), as a search path.

    A folder already there is used only if it holds the bundle's bytes exactly (`_holds`); otherwise it
    is written again. ``.complete`` alone is never trusted.
    """
    with _materialise_lock:
        if bundle.digest in _materialised:
            return _materialised[bundle.digest]
        base = private_folder(under) / bundle.digest
        if not (base.is_dir() and not base.is_symlink() and _holds(base, bundle)):
            partial = base.with_name(f"{bundle.digest}.{os.getpid()}.{threading.get_ident()}.partial")
            shutil.rmtree(partial, ignore_errors=True)
            for i, (_, files) in enumerate(bundle.roots):
                for name, data in files:
                    path = partial / str(i) / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
            (partial / ".complete").write_bytes(b"")
            if base.is_dir() and not base.is_symlink() and _holds(base, bundle):
                # Another worker process on this machine wrote the same bytes meanwhile, and may be
                # rendering from them: that folder stays (replacing it would pull it from under that worker).
                shutil.rmtree(partial, ignore_errors=True)
            else:
                if base.is_symlink() or base.exists():
                    stale = base.with_name(f"{bundle.digest}.{os.getpid()}.{threading.get_ident()}.stale")
                    with contextlib.suppress(OSError):
                        base.rename(stale)
                    shutil.rmtree(stale, ignore_errors=True)
                    with contextlib.suppress(OSError):
                        stale.unlink()
                try:
                    partial.rename(base)
                except OSError:  # another worker process on this machine wrote the same bytes first
                    shutil.rmtree(partial, ignore_errors=True)
                    if not _holds(base, bundle):
                        raise BuildError(f"{base} does not hold the templates this build sent") from None
        roots = [base / str(i) for i in range(len(bundle.roots))]
        dirs = TemplateDirs(shipped=roots[-1], user=roots[0] if bundle.has_user else None)
        _materialised[bundle.digest] = dirs
        return dirs


def _relabel(value: Any, paths: Mapping[str, str]) -> Any:
    """``value`` with each worker folder in its text replaced by the folder as the user named it."""
    if isinstance(value, str):
        for here, there in paths.items():
            value = value.replace(here, there)
        return value
    if isinstance(value, BaseException):
        return type(value)(_relabel(str(value), paths))
    if isinstance(value, list):
        return [_relabel(v, paths) for v in value]
    if isinstance(value, tuple):
        return tuple(_relabel(v, paths) for v in value)
    if isinstance(value, dict):
        return {k: _relabel(v, paths) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _relabel(getattr(value, f.name), paths) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    return value


class _Collect(logging.Handler):
    """Keeps the records one thread logs, to send back with its outcome."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.records.append({"name": record.name, "levelno": record.levelno, "msg": record.getMessage()})


@functools.lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """What must match between the coordinator and a worker for the same bytes: briefs and its PDF engine."""
    from importlib.metadata import version

    return {"briefs": __version__, "weasyprint": version("weasyprint"), "pydyf": version("pydyf")}


def render_on_worker(
    fn: Callable[..., Any],
    bundle: TemplateBundle,
    call: tuple[Any, ...] | bytes,
    level: int,
    expected: dict[str, str],
) -> tuple[Any, list[dict[str, Any]]]:
    """A Dask task: ``fn(*call)`` with the template folders materialised here; its outcome and log records.

    ``call`` may come pickled (bytes): the build pickles each call once and the Dask client passes it on.
    """
    if isinstance(call, bytes):
        import pickle

        call = pickle.loads(call)  # from the building process, which this worker renders for
    found = dict(versions())
    if found != expected:
        differ = ", ".join(f"{k} {found.get(k)} (building: {v})" for k, v in expected.items() if found.get(k) != v)
        return BuildError(f"the Dask worker has other versions: {differ}; it would not render the same bytes"), []
    try:
        dirs = materialise(bundle)
    except (BuildError, OSError) as exc:
        return BuildError(f"on the Dask worker: {exc}"), []
    call = tuple(dirs if isinstance(arg, TemplateDirs) else arg for arg in call)
    labels = {}
    for root, (label, _) in zip(dirs.searched, bundle.roots, strict=True):
        labels[str(root.resolve())] = labels[str(root)] = label  # messages name files resolved, or not
    briefs_log = logging.getLogger("briefs")
    if briefs_log.getEffectiveLevel() > level:
        briefs_log.setLevel(level)
    collect = _Collect()
    briefs_log.addHandler(collect)
    try:
        outcome = fn(*call)
    finally:
        briefs_log.removeHandler(collect)
    return _relabel(outcome, labels), collect.records


def render_batch_on_worker(
    fn: Callable[..., Any],
    bundle: TemplateBundle,
    calls: list[tuple[Any, ...] | bytes],
    level: int,
    expected: dict[str, str],
) -> list[tuple[Any, list[dict[str, Any]]]]:
    """A Dask task of several briefs: `render_on_worker` for each, their outcomes in order.

    Dask's cost is per task (scheduling, messages, the client's bookkeeping), so a build of many small
    briefs sends them a few at a time (see `batch_size` in briefs/pipeline/dask_relay.py).
    """
    return [render_on_worker(fn, bundle, call, level, expected) for call in calls]


def check_address(address: str) -> None:
    """Raise ValueError for an address Dask cannot parse (``tcp://HOST:PORT`` needs its port)."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    scheme, location = parse_address(address)
    get_backend(scheme)  # an unknown scheme
    if scheme in ("tcp", "tls"):
        parse_host_port(location)


def _identity(value: Any) -> Any:
    return value

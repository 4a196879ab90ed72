"""Writing outputs: atomic replacement and one build at a time per output folder."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from briefs.errors import BuildError, display_path

log = logging.getLogger(__name__)

LOCK_NAME = ".briefs/lock"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place.

    A reader (or a build killed mid-way) sees the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # The writer's process id is in the name: a sweep removes only what a process that died left behind.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


_WRITER = re.compile(r"\.(\d+)\.[^.]+\.tmp$")

ORPHAN_AGE = 3600.0
"""A temporary file without a writer's process id (an older version wrote it) is an orphan after this long."""


def clean_temporaries(out_dir: Path) -> None:
    """Remove temporary files a killed build or send left behind, never one a live process is writing.

    A build sweeps while a send may be writing its delivery log beside it (send holds its own lock,
    not the build's): a temporary file whose writer is still alive is left alone.
    """
    if not out_dir.is_dir():
        return
    now = time.time()
    for tmp in out_dir.rglob(".*.tmp"):
        found = _WRITER.search(tmp.name)
        with contextlib.suppress(OSError):
            if found is not None and _alive(int(found.group(1))):
                continue
            if found is None and now - tmp.lstat().st_mtime < ORPHAN_AGE:
                continue
            tmp.unlink()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (this one included)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or a number no process can have: leave it
    return True


@contextlib.contextmanager
def output_lock(out_dir: Path, wait: float | None = None) -> Iterator[None]:
    """Hold the output folder's lock: a second build waits (or, with ``wait``, gives up after it)."""
    with folder_lock(out_dir, LOCK_NAME, "build", wait):
        yield


@contextlib.contextmanager
def folder_lock(out_dir: Path, name: str, holder: str, wait: float | None = None) -> Iterator[None]:
    """Hold the lock file ``name`` under ``out_dir``: another ``holder`` waits, or gives up after ``wait``."""
    (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_dir / name))
    try:
        lock.acquire(timeout=-1 if wait is None else wait)
    except Timeout as exc:
        raise BuildError(f"{display_path(out_dir)}: another {holder} holds the lock; skipped") from exc
    try:
        yield
    finally:
        lock.release()


def refuse_links_out_of(out_dir: Path, what: str = "build") -> None:
    """Refuse to build (or send) when a symlink inside ``out_dir`` leads out of it: nothing is written outside --out.

    Outputs, the state file, the lock file and edition records all live under ``out_dir``; a link
    planted there (``output/.briefs -> ~``) would send a write elsewhere, or let the lock truncate a file.
    A send writes only under ``.briefs`` (its log and lock), so only that is looked at for it; each
    attachment is checked on its own when it is read.
    """
    top = out_dir / ".briefs" if what == "send" else out_dir
    if not out_dir.is_dir():
        return
    root = out_dir.resolve()
    leaks = []
    found = [top] if top != out_dir and top.is_symlink() else []
    for folder, dirs, files in os.walk(top):
        found += [Path(folder, name) for name in (*dirs, *files)]
    for path in found:
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            leaks.append(f"{display_path(path)} -> {path.resolve()}")
    if leaks:
        raise BuildError(
            f"{display_path(out_dir)}: symlinks lead out of the output folder ({'; '.join(leaks[:5])}); "
            f"nothing {'sent' if what == 'send' else 'written'}"
        )

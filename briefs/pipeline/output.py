"""Writing outputs: atomic replacement and one build at a time per output folder."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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


def clean_temporaries(out_dir: Path) -> None:
    """Remove temporary files a killed build left behind."""
    if not out_dir.is_dir():
        return
    for tmp in out_dir.rglob(".*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


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

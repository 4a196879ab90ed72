"""Reading a file from a folder the user controls: only a regular file, and never more than a limit.

A data or template folder may hold anything: a symlink to ``/dev/zero`` (an endless read), a FIFO (a
read that waits for a writer forever), a 3 GiB file. Every reader of those folders opens the file
without blocking, asks the open file (not the path, which may change in between) what it is, refuses
anything but a regular file, and reads at most ``limit + 1`` bytes, so a file that grows after the check
is still caught. Standard library only: the no-op fast path (`briefs.pipeline.fastpath`) uses it too.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}


class NotRegularFileError(OSError):
    """The path is a FIFO, a device, a socket or a folder (symlinks followed)."""


class FileTooLargeError(OSError):
    """The file holds more than the reader's limit."""

    def __init__(self, size: int, limit: int, filename: str) -> None:
        super().__init__(errno.EFBIG, f"file is {size:,} bytes; expected at most {limit:,}", filename)
        self.size = size
        self.limit = limit


def _open_regular(path: Path) -> int:
    """A read-only descriptor on ``path`` if it is a regular file (raises NotRegularFileError otherwise)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))  # a FIFO opens at once
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "not a file")
            raise NotRegularFileError(errno.EINVAL, f"not a regular file ({kind})", str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


RECORD_LIMIT = 64 << 20
"""The most the tool reads of its own records in an output folder (state, no-op record, editions, delivery log).

They live in a folder it does not assume clean: one replaced by a link to ``/dev/zero`` or a FIFO is
refused like a data file, not read forever (issue 25). The shipped briefs' state is ~40 kB.
"""


def read_record(path: Path) -> str:
    """One of the tool's own records, as text: a regular file of at most `RECORD_LIMIT` bytes (OSError otherwise)."""
    return read_limited(path, RECORD_LIMIT).decode("utf-8")


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``; raises NotRegularFileError, FileTooLargeError or another OSError."""
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise FileTooLargeError(size, limit, str(path))
        data = fh.read(limit + 1)
    if len(data) > limit:  # it grew since the check
        raise FileTooLargeError(len(data), limit, str(path))
    return data


def sha256_file(path: Path, limit: int | None = None) -> str:
    """The SHA-256 (hex) of the regular file ``path``, read in blocks; past ``limit`` bytes, FileTooLargeError."""
    fd = _open_regular(path)
    h = hashlib.sha256()
    seen = 0
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if limit is not None and size > limit:
            raise FileTooLargeError(size, limit, str(path))
        while block := fh.read(1 << 20):
            seen += len(block)
            if limit is not None and seen > limit:
                raise FileTooLargeError(seen, limit, str(path))
            h.update(block)
    return h.hexdigest()


def cache_dir() -> Path | None:
    """Where work that is slow to redo is kept between runs (subset fonts, pandoc's Word documents, formatted notes,
    compiled templates and what planning parses from them; and, only as where fitting starts, the last cut
    found for each brief, `briefs.pipeline.seen_cuts`):
    ``$BRIEFS_CACHE_DIR``, else ``$XDG_CACHE_HOME/briefs`` (or ``~/.cache/briefs``); None when ``BRIEFS_CACHE_DIR``
    is set empty (none kept).

    Everything kept there is named by what made it, so a hit is the very bytes the work would make (a kept cut
    is only a start, which fitting confirms), and any file in it may be deleted at any time."""
    chosen = os.environ.get("BRIEFS_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "briefs"


def keep(path: Path, data: bytes, *, newest: int | None = None, versions: int | None = None) -> bool:
    """Write ``data`` to ``path`` whole or not at all (a temporary file renamed into place); False when it cannot
    be kept (a read-only or full disk), which only costs the next run the work again.

    Bounded when asked: a new file leaves only the ``newest`` entries of its folder, and a new folder only the
    ``versions`` newest folders beside it (`prune`), so a cache that gains an entry per edit stays small."""
    import tempfile

    new_folder, new_file = not path.parent.exists(), not path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".part-", delete=False) as part:
            part.write(data)
        Path(part.name).replace(path)
    except OSError:
        return False
    if newest is not None and new_file:
        prune(path.parent, newest)
    if versions is not None and new_folder:
        prune(path.parent.parent, versions)
    return True


def prune(folder: Path, keep_newest: int) -> None:
    """Remove all but the ``keep_newest`` most recently written entries of a cache folder, so a cache that gains
    an entry per edit (notes per state of the sources, fonts per set of characters) stays bounded. Whatever
    cannot be removed (another process's, a read-only disk) is left: it only costs room."""
    import shutil

    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.lstat().st_mtime_ns, reverse=True)
    except OSError:
        return
    for stale in entries[keep_newest:]:
        try:
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            else:
                stale.unlink()
        except OSError:
            pass

"""A no-op build in milliseconds: compare every input's bytes with the last good build's, importing nothing heavy.

A full build must import pydantic, Jinja and the YAML parser and validate every dataset before it can
compare stamps (~0.5 s). Most runs of ``build.py`` (a cron line, a Makefile, a CI step) change
nothing, so before any of that the command line hashes every file under the data folder and the
template folders, together with the options that choose and shape the targets, and compares that one
fingerprint with the one recorded by the last build that ended with every target good. Equal
fingerprints mean the full build would read the same bytes with the same options and find every
target up to date; the command then stops, having imported only the standard library (issue 8).

The fingerprint is conservative: it covers every file and folder of those folders, read or not, and
the working folder, so a change the full build would ignore (an editor's backup file) only costs one
full check. The record is removed by every build before it writes anything, and written again only
by a build whose targets all ended good and whose inputs, fingerprinted again under the output
lock once it is done, are still the bytes it was fingerprinted with before it started: an edit
saved during a build leaves no record. (An edit saved and undone within one build's run is not
caught; the content stamps of the full build share that limit.) Modification times are never
trusted, as elsewhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from briefs import __version__
from briefs.files import read_record, sha256_file
from briefs.formats import SHIPPED_TEMPLATES

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: typing is not imported on the fast path
if TYPE_CHECKING:
    from typing import Any

DEFAULT_SECONDS = 120.0
"""The default time limit on rendering one brief (`briefs.pipeline.limits`), here for the command line."""
STATE_DIR = ".briefs"
STATE_FILE = "state.json"
RECORD_FILE = "noop.json"
FILE_LIMIT = 64 * 1024 * 1024
"""The largest file the fingerprint reads (bytes); past it the full build decides (data files stop at 2 MB,
template assets at 32 MB)."""


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun`` agreeing: "1 dataset", "2 datasets" (``noun`` is the plural, ending in s)."""
    return f"{n} {noun[:-1] if n == 1 and noun.endswith('s') else noun}"


def summary_line(built: int, up_to_date: int, failed: int, seconds: float) -> str:
    """The build's last line, the same on the fast path and the full one."""
    return f"{built} built, {up_to_date} up to date, {failed} failed in {seconds:.2f} s"


def record_path(out_dir: Path) -> Path:
    return out_dir / STATE_DIR / RECORD_FILE


def state_digest(out_dir: Path) -> str | None:
    """The hash of the build state file: a state removed or changed by hand sends the run to the full build."""
    try:
        return hashlib.sha256(read_record(out_dir / STATE_DIR / STATE_FILE).encode("utf-8")).hexdigest()
    except (OSError, UnicodeDecodeError):
        return None


def _hash_tree(h: Any, root: Path, label: str) -> bool:
    """Feed every folder and file under ``root`` (names and contents, in a fixed order) to ``h``.

    False if it cannot: a file that is not a regular one (a FIFO, a link to ``/dev/zero``), or one
    over `FILE_LIMIT`, is never read; the full build decides (and names it, if it reads it). A
    symlinked folder inside ``root`` gives up: whether the loaders follow it is theirs to decide, so
    the full build decides. Folders count even when empty: a new, empty
    dataset folder is an error the full build must report.
    """
    if not root.is_dir():
        return False
    for folder, dirs, files in os.walk(root):
        if any(Path(folder, d).is_symlink() for d in dirs):
            return False
        dirs.sort()
        h.update(f"{label}/{Path(folder).relative_to(root)}/\0".encode("utf-8", "surrogateescape"))
        for name in sorted(files):
            path = Path(folder, name)
            h.update(f"{label}/{path.relative_to(root)}\0".encode("utf-8", "surrogateescape"))
            try:  # stat first, then read at most the limit: no FIFO, device or huge file is read
                h.update(bytes.fromhex(sha256_file(path, FILE_LIMIT)))
            except OSError:
                return False  # the full build names what it cannot read, or refuses it
    return True


def fingerprint(
    *,
    data_dir: Path,
    out_dir: Path,
    templates_dir: Path | None,
    datasets: Sequence[str],
    audiences: Sequence[str],
    formats: Sequence[str],
    pdf_variant: str | None,
    shipped_templates: Path = SHIPPED_TEMPLATES,
) -> str | None:
    """One hash of the options that choose and shape targets and of every file the build could read.

    None when it cannot be taken. The working folder is part of it: stamps and the record name
    files relative to it.
    """
    h = hashlib.sha256()
    head = {
        "tool": __version__,
        "cwd": str(Path.cwd()),
        "data": str(data_dir.resolve()),
        "out": str(out_dir.resolve()),
        "templates": str(templates_dir.resolve()) if templates_dir is not None else None,
        "shipped": str(shipped_templates.resolve()),
        "selection": [list(datasets), list(audiences), list(formats), pdf_variant],
        "docx_layout": _docx_layout(),  # LibreOffice measures the Word briefs where installed (issue 26)
    }
    h.update(json.dumps(head, sort_keys=True).encode())
    roots = [(data_dir, "data"), (shipped_templates, "shipped")]
    if templates_dir is not None:
        roots.append((templates_dir, "templates"))
    for root, label in roots:
        if not _hash_tree(h, root, label):
            return None
    return h.hexdigest()


def _docx_layout() -> str:
    from briefs.formats.docx_layout import libreoffice, libreoffice_version

    return libreoffice_version(libreoffice())


def up_to_date(out_dir: Path, digest: str | None) -> list[str] | None:
    """The outputs the last good build vouched for, when ``digest`` is its fingerprint and they all exist."""
    if digest is None:
        return None
    try:
        record = json.loads(read_record(record_path(out_dir)))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("fingerprint") != digest:
        return None
    if record.get("state") is None or record.get("state") != state_digest(out_dir):
        return None
    outputs = record.get("outputs")
    if not isinstance(outputs, list) or not outputs or not all(isinstance(o, str) for o in outputs):
        return None
    root = out_dir.resolve()
    for output in outputs:
        path = Path(output)
        # Deleted, or now a link out of the output folder: the full build says which, and acts.
        if not path.is_file() or not path.resolve().is_relative_to(root):
            return None
    return outputs


def forget(out_dir: Path) -> None:
    """Remove the record: called by every build before it writes an output."""
    with contextlib.suppress(FileNotFoundError):
        record_path(out_dir).unlink()


def record_bytes(out_dir: Path, digest: str, outputs: list[str]) -> bytes:
    """The record of a build whose targets all ended good (written by the build, under its lock, last)."""
    record = {"fingerprint": digest, "outputs": outputs, "state": state_digest(out_dir)}
    return json.dumps(record, indent=1).encode("utf-8")

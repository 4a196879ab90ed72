"""The pinned pandoc, and the bytes-level basics of a Word file that the DOCX and its reference share.

`docx.py` (a brief as Word) and `docx_reference.py` (each audience's house style) both run pandoc,
write zips whose bytes depend only on their content, and set document properties; they live here so
that neither imports the other's internals.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from briefs.errors import BuildError

log = logging.getLogger(__name__)


PANDOC_VERSION = "3.9"
"""The pandoc that `pypandoc-binary==1.17` ships; a different one changes the DOCX bytes."""


PANDOC_SECONDS = 120.0
"""A pandoc run still going after this long is stopped (the build's own time limit is usually shorter)."""


ZIP_TIME = (1980, 1, 1, 0, 0, 0)


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

BOX_STYLE = "Boxed Section"
"""A reference document's table style for a boxed section (congress's "Issues for Congress"), when it has one."""


def pandoc_binary() -> Path:
    """The pandoc inside the pypandoc-binary wheel (never one on PATH: its version would change the bytes)."""
    spec = importlib.util.find_spec("pypandoc")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("DOCX needs the pypandoc-binary package: pip install -e . (it is a dependency)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "files"
    for name in ("pandoc.exe", "pandoc") if sys.platform == "win32" else ("pandoc",):
        if (folder / name).is_file():
            return folder / name
    raise BuildError(f"no pandoc binary in {folder}: install pypandoc-binary (not pypandoc)")


def run_pandoc(args: list[str], stdin: bytes = b"", epoch: int = 0) -> bytes:
    """Run the pinned pandoc with a bare environment; its stdout, or a BuildError with its message."""
    env = {"SOURCE_DATE_EPOCH": str(epoch), "LANG": "C.UTF-8"}  # no HOME: no user data folder is read
    try:
        done = subprocess.run(
            [str(pandoc_binary()), *args],
            input=stdin,
            capture_output=True,
            env=env,
            timeout=PANDOC_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"pandoc failed: {exc}") from exc
    if done.returncode != 0:
        message = " ".join(done.stderr.decode("utf-8", "replace").split())[:300]
        raise BuildError(f"pandoc failed (exit {done.returncode}): {message}")
    if done.stderr:
        log.debug("pandoc: %s", done.stderr.decode("utf-8", "replace").strip())
    return done.stdout


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffe\uffff]")


def parse_part(data: bytes) -> Any:
    """One XML part of a DOCX, parsed without entities or network (a reference document is the user's)."""
    from lxml import etree  # type: ignore[import-untyped]

    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def part_bytes(element: Any) -> bytes:
    """An XML part serialised as Word writes it: declaration, UTF-8, standalone."""
    from lxml import etree

    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True))


def normalized_zip(data: bytes) -> bytes:
    """The same zip with fixed timestamps, attributes and member order: equal content, equal bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return zip_members({name: source.read(name) for name in source.namelist()})


def zip_members(members: dict[str, bytes], *, stored: bool = False) -> bytes:
    """``members`` zipped with fixed timestamps, attributes and order; ``stored``: not compressed, for a zip
    only read back in this process (a third of a Word brief's zipping time)."""
    order = sorted(members, key=lambda n: (n != "[Content_Types].xml", n))  # content types first, as Word writes
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in order:
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0
            target.writestr(entry, members[name], compresslevel=None if stored else 6)
    return out.getvalue()


def property_text(value: object) -> str:
    """A value as a document property: one line, no control characters, at most 255 characters (Word's limit)."""
    text = " ".join(CONTROL.sub(" ", str(value)).split())
    return text if len(text) <= 255 else text[:254] + "…"

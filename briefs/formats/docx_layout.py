"""How many pages a DOCX takes as LibreOffice lays it out (issue 26), where LibreOffice is installed.

The PDF is fitted to its audience's page limit by laying it out with WeasyPrint; a Word brief is laid
out by the reader's word processor, which sets the same text in other lines and pages. Where
LibreOffice is installed (Debian's ``libreoffice-writer-nogui``; `.ci/run` installs it), the build
converts each DOCX that has a page limit to PDF with it, counts the pages, and cuts the Word brief
further while it runs over (`briefs.compose.fit`). Nothing of LibreOffice's output is written: it only
measures, so the DOCX's bytes stay pandoc's and ours, the same for the same cut.

Each conversion runs in a fresh temporary folder with its own LibreOffice profile (two builds, or two
workers of one, can convert at once), as a user's LibreOffice would: no fonts of ours on its path. The
DOCX carries the Liberation faces it names (`briefs.formats.docx_fonts`), so LibreOffice sets those,
installed or not, and what the build measures is what the reader's LibreOffice lays out.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from briefs.errors import BuildError

CONVERT_SECONDS = 120
"""At most this long for one conversion (one takes ~2 s); the per-brief time limit also bounds it."""

_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def libreoffice() -> str | None:
    """The LibreOffice program on PATH (``soffice``, or ``libreoffice``), or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_version(program: str | None) -> str:
    """What a DOCX target's stamp records of the layout that measures it: LibreOffice's install, or none.

    Its real path and the date of its ``versionrc`` (no process started): installing, removing or
    upgrading LibreOffice rebuilds the Word briefs it measures.
    """
    if program is None:
        return "no LibreOffice"
    real = Path(program).resolve()
    try:
        installed = (real.parent / "versionrc").stat().st_mtime
    except OSError:
        installed = real.stat().st_mtime if real.exists() else 0
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(installed))
    return f"LibreOffice at {real} ({when} UTC)"


def pdf_of(docx: bytes, program: str, folder: Path, name: str = "brief") -> Path:
    """``docx`` converted to PDF by LibreOffice in ``folder`` (which it may fill with its profile): the PDF's path."""
    source = folder / f"{name}.docx"
    source.write_bytes(docx)
    command = [
        program,
        f"-env:UserInstallation={(folder / 'profile').as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(folder),
        str(source),
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=CONVERT_SECONDS,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"LibreOffice could not lay the Word brief out: {exc}") from None
    made = folder / f"{name}.pdf"
    if done.returncode != 0 or not made.is_file():
        said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        raise BuildError(
            f"LibreOffice could not lay the Word brief out ({program}: {said[-1] if said else done.returncode})"
        )
    return made


def count_pages(pdf: bytes) -> int:
    """The page objects in a PDF LibreOffice wrote (it writes no object streams, so each is in plain sight)."""
    pages = len(_PAGE.findall(pdf))
    if pages == 0:
        raise BuildError("LibreOffice wrote a PDF whose pages cannot be counted")
    return pages


def docx_pages(docx: bytes, program: str) -> int:
    """How many pages ``docx`` takes as LibreOffice lays it out."""
    with tempfile.TemporaryDirectory(prefix="briefs-lo-") as tmp:
        return count_pages(pdf_of(docx, program, Path(tmp)).read_bytes())

"""The same bytes whichever subsetter WeasyPrint uses (issue 14): fontTools without HarfBuzz-Subset, or HarfBuzz.

Each build runs in its own process, so the fontTools path can be forced on a machine that has
``libharfbuzz-subset0`` (WeasyPrint looks the library up once, at import), and two builds run with
different ``SOURCE_DATE_EPOCH`` values in their environment: the fonts' timestamps must come from the
data, never from the clock or the caller.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from fontTools.misc.timeTools import epoch_diff
from fontTools.ttLib import TTFont

from tests.conftest import REPO

# Runs the real CLI; with "fonttools" first, WeasyPrint's HarfBuzz-Subset handle is removed before any build.
DRIVER = """\
import sys
if sys.argv[1] == "fonttools":
    import weasyprint.pdf.fonts
    weasyprint.pdf.fonts.harfbuzz_subset = None
from briefs.cli import main
sys.exit(main(sys.argv[2:]))
"""

AS_OF = "2022-06-30"  # the mini dataset's information date, the brief's dcterms.modified


def harfbuzz_subset_installed() -> bool:
    """Whether WeasyPrint found HarfBuzz-Subset (Debian's libharfbuzz-subset0)."""
    import weasyprint.text.ffi

    return weasyprint.text.ffi.harfbuzz_subset is not None


def build(subsetter: str, data: Path, out: Path, epoch: str | None) -> tuple[bytes, str]:
    """Build the mini dataset's public PDF in a new process; its bytes and the process's stderr."""
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = epoch
    args = ["--data", str(data), "--out", str(out), "--audience", "public", "--format", "pdf", "--jobs", "1"]
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, subsetter, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return (out / "mini" / "public.pdf").read_bytes(), done.stderr


def embedded_fonts(pdf: bytes) -> list[TTFont]:
    """Every font program embedded in ``pdf``."""
    fonts: dict[int, TTFont] = {}
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
                if stream is not None:
                    fonts[stream.indirect_reference.idnum] = TTFont(io.BytesIO(stream.get_object().get_data()))
    return list(fonts.values())


def assert_same_bytes_twice(subsetter: str, data: Path, tmp_path: Path) -> list[TTFont]:
    """Two builds, one with a caller's ``SOURCE_DATE_EPOCH`` and one without: the same bytes."""
    first, stderr = build(subsetter, data, tmp_path / "a", None)
    second, _ = build(subsetter, data, tmp_path / "b", "1")
    assert first == second
    assert "Using fontTools instead of HarfBuzz-Subset" not in stderr
    fonts = embedded_fonts(first)
    assert fonts, "no embedded font found"
    return fonts


@pytest.mark.slow
def test_fonttools_subsetting_gives_the_same_bytes(mini_data: Path, tmp_path: Path) -> None:
    """The path of a machine without libharfbuzz-subset0, forced even where it is installed."""
    fonts = assert_same_bytes_twice("fonttools", mini_data, tmp_path)
    stamp = int(dt.datetime.fromisoformat(AS_OF).replace(tzinfo=dt.UTC).timestamp()) - epoch_diff
    assert {font["head"].modified for font in fonts} == {stamp}  # the data's date, not the clock's


@pytest.mark.slow
@pytest.mark.skipif(
    not harfbuzz_subset_installed(),
    reason="libharfbuzz-subset0 is not installed: the HarfBuzz-Subset path is untested here "
    "(apt-get install libharfbuzz-subset0; .ci/run tests it)",
)
def test_harfbuzz_subsetting_gives_the_same_bytes(mini_data: Path, tmp_path: Path) -> None:
    """The path of a machine with libharfbuzz-subset0, WeasyPrint's preferred subsetter."""
    assert_same_bytes_twice("harfbuzz", mini_data, tmp_path)

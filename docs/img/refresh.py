"""Regenerate the README's pictures from the shipped briefs (issue 5).

    .venv/bin/python build.py --force && .venv/bin/python docs/img/refresh.py

Writes docs/img/<audience>.png (the first page of each brief in output/<dataset>/) and
docs/img/desk-timeline.png (the desk memo's page with the timeline drawing), rendered with
poppler's pdftoppm at low resolution and reduced to a 64-colour palette to stay small (< 150 KB).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pypdf
from PIL import Image

HERE = Path(__file__).resolve().parent
OUTPUT = HERE.parent.parent / "output" / "kazakhstan-2022"
DPI = 64
LIMIT = 150_000


def render(pdf: Path, page: int, target: Path) -> None:
    """One page of ``pdf`` as a small palette PNG at ``target``."""
    with tempfile.TemporaryDirectory() as tmp:
        stem = Path(tmp) / "page"
        subprocess.run(
            ["pdftoppm", "-png", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem)],
            check=True,
        )
        image = Image.open(stem.with_suffix(".png")).convert("RGB")
        image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    size = target.stat().st_size
    if size > LIMIT:
        sys.exit(f"{target}: {size} bytes, more than {LIMIT}")


def main() -> None:
    pdfs = sorted(OUTPUT.glob("*.pdf"))
    if not pdfs:
        sys.exit(f"no briefs in {OUTPUT}: run `.venv/bin/python build.py --force` first")
    for pdf in pdfs:
        render(pdf, 1, HERE / f"{pdf.stem}.png")
    desk = OUTPUT / "desk.pdf"
    if desk.is_file():
        pages = pypdf.PdfReader(desk).pages
        drawn = [n for n, page in enumerate(pages, start=1) if "Events placed to scale" in page.extract_text()]
        if drawn:
            render(desk, drawn[0], HERE / "desk-timeline.png")


if __name__ == "__main__":
    main()

"""The floor: one process that imports WeasyPrint once and turns the given HTML files into PDFs.

This is what WeasyPrint alone costs for the briefs a build produced (same HTML, same base URL, same
tagging, one font configuration reused): the forced PDF build is compared with it.
Usage: python -m bench.floor [--fonttools] OUT_DIR FILE.html...   (prints one JSON line of timings)
``--fonttools`` makes WeasyPrint subset fonts with fontTools, as it does without libharfbuzz-subset0.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    """Render every HTML file given to a PDF in OUT_DIR; print the timings as JSON."""
    started = time.perf_counter()
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    imported = time.perf_counter()
    args = sys.argv[1:]
    if args[0] == "--fonttools":
        import logging

        import weasyprint.pdf.fonts

        weasyprint.pdf.fonts.harfbuzz_subset = None  # what WeasyPrint falls back to without the library
        logging.getLogger("weasyprint").setLevel(logging.ERROR)  # its warning says so, once per font
        args = args[1:]
    out_dir = Path(args[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    fonts = FontConfiguration()
    base_url = (REPO / "templates").resolve().as_uri() + "/"
    layout = write = 0.0
    pages = 0
    for i, name in enumerate(args[1:]):
        html = Path(name).read_text(encoding="utf-8")
        t0 = time.perf_counter()
        document = weasyprint.HTML(string=html, base_url=base_url).render(font_config=fonts, pdf_tags=True)
        t1 = time.perf_counter()
        data = document.write_pdf(font_config=fonts, pdf_tags=True)
        t2 = time.perf_counter()
        assert data is not None
        (out_dir / f"{i:03d}.pdf").write_bytes(data)
        layout, write, pages = layout + t1 - t0, write + t2 - t1, pages + len(document.pages)
    result = {"import": imported - started, "layout": layout, "write": write, "pages": pages}
    print(json.dumps(result))


if __name__ == "__main__":
    main()

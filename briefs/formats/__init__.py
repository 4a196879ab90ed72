"""Formats: how a brief is written — Jinja environments and filters, PDF (WeasyPrint), Markdown, HTML,
Word (pandoc) and its per-audience reference documents, the SVG timeline, and what a PDF would fetch.

Owns: `render` (template search path, sandboxed environments, filters), `visuals` (the timeline SVG),
`pdf` (WeasyPrint under a fetcher that reads only the template folders), `references` (check's scan of
what a template would fetch), `pandoc` (the pinned pandoc and the zip basics of a Word file), `docx`
(a brief as Word), `docx_reference` (each audience's Word house style; ``python -m
briefs.formats.docx_reference --write``).

May import: `briefs.errors`, `briefs.data` and the standard library. Never `briefs.compose` or above:
a template receives its context as plain values, so nothing here needs to know how one was chosen.

The constants below are the command line's choices, kept here (standard library only) so that the
no-op fast path can offer them without importing the modules that use them.
"""

from pathlib import Path

FORMATS = ("pdf", "md", "html", "docx")
PDF_VARIANTS = ("pdf/a-1b", "pdf/a-2b", "pdf/a-3b", "pdf/a-2u", "pdf/a-3u", "pdf/ua-1")
SHIPPED_TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
"""The shipped `templates/` folder: the last entry of every template search path."""

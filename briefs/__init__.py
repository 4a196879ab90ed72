"""Briefs: policy briefing memos (PDF, Markdown, HTML and Word) from sourced YAML and Jinja templates.

One folder per stage; imports run one way, from the command line down to the data (tests/test_layers.py
reads every import, lazy and type-only ones included, and keeps it so):

    cli.py, __main__.py, docgen.py   the command line; the generated data-format reference
    preview/  deliver/                the preview server; mailing editions (neither imports the other)
    pipeline/                         plan, stamps, fast path, executors, output, editions store, build, watch
    compose/                          what a brief says: selection, citations, changes, fitting
    formats/                          how it is written: Jinja, PDF, Markdown, Word, the timeline SVG
    data/                             what a dataset and an audience are: schema, YAML, validation
    errors.py                         the error types every stage shares
"""

from __future__ import annotations

__version__ = "0.1.0"

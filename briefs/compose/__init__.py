"""Compose: what one audience's brief says — selection of records into sections, citations and notes,
what changed since the last edition, and fitting to the audience's length.

Owns: `select` (a dataset and an audience to a `Brief` of sections and items), `citations` (notes and
bibliography in the shipped CSL style), `changes` (editions as snapshots and their diff in a reader's
words), `fit` (render every format from one selection and drop the least important whole paragraphs
until the brief fits).

May import: `briefs.errors`, `briefs.data` and `briefs.formats` (fitting has to lay a brief out to
measure it). Never `briefs.pipeline` or above: when and where a brief is built is not its business.
"""

"""Data: what a dataset and an audience are — the schema, reading YAML with file/line/column, validation
with every problem at once, cross-references, and the checks that belong to an audience file.

Owns: `model` (the pydantic schema of records, datasets and audiences), `yamlfile` and `yamlsyntax`
(YAML read with positions, its syntax errors said plainly), `load` (a dataset folder and an audience
file, validated), `audiences` (where audience files and templates are searched, distribution lists).

May import: `briefs.errors` and the standard library and third-party libraries only. Everything else
imports this; nothing here knows how a brief is chosen, written, built or sent.
"""

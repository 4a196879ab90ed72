"""Generate `docs/data-format.md` from the schema in `model.py`, so the documentation cannot drift.

Run ``python -m briefs.docgen --write`` after changing the schema; a test fails while the committed
file differs from what this module generates, and another validates every example against its model.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from briefs import model
from briefs.model import CITE_PATTERN, ID_PATTERN
from briefs.yamlfile import SafeLoaderKeepingDates as YamlLoader

DOC = Path(__file__).resolve().parent.parent / "docs" / "data-format.md"

# (model, where it lives, example as YAML). Each example validates against its model (tests/test_docgen.py).
DATA_KINDS: list[tuple[type[BaseModel], str, str]] = [
    (
        model.DatasetInfo,
        "`info:` in any file of the dataset (usually `dataset.yaml`)",
        """\
        title: How Russia's invasion of Ukraine affected Kazakh politics
        subject: "Kazakhstan: balancing Russia and the West after January 2022"
        as_of: 2022-06-30
        summary: Russia's intervention left Kazakhstan *more dependent* on Moscow.
        bluf: Kazakhstan signals independence from Moscow but will not break with Russia.
        keywords: [Kazakhstan, sanctions]
        key_points:
          - text: Kazakhstan abstained on the UN vote condemning the invasion.
            cites: [fpri-2022#11, un-ga12407]
        """,
    ),
    (
        model.Source,
        "`sources:` (a list)",
        """\
        id: fpri-2022
        title: How the Russian invasion of Ukraine affected Kazakh politics
        publisher: Foreign Policy Research Institute (FPRI)
        kind: article
        date: "2022-06"
        date_note: No date is printed; the text discusses the 5 June 2022 referendum as past.
        url: https://policybytes.org/how-the-russian-invasion-of-ukraine-affected-kazakh-politics/
        text_file: sources/fpri-2022.txt
        paragraphs:
          - {n: 1, gist: "Stray line, not part of the article.", substantive: false}
          - {n: 2, gist: "January 2022 protests swept Kazakhstan and were crushed."}
        """,
    ),
    (model.Theme, "`themes:` (a list)", "id: sanctions\ntitle: Kazakhstan and the sanctions\n"),
    (
        model.Actor,
        "`actors:` (a list)",
        """\
        id: keosayan
        name: Tigran Keosayan
        kind: person
        role: Russian television host
        country: Russia
        misspellings: [Tigray Keosayan]
        cites: [fpri-2022#9]
        """,
    ),
    (
        model.Event,
        "`events:` (a list)",
        """\
        id: cis-dushanbe
        date: 2022-05-13
        title: CIS foreign ministers meet in Dushanbe
        text: Lavrov says delegates discussed how to respond to sanctions on Moscow.
        actors: [lavrov]
        theme: sanctions
        priority: 2
        cites: [fpri-2022#15]
        """,
    ),
    (
        model.Figure,
        "`figures:` (a list)",
        """\
        id: frozen-funds
        label: Funds frozen under US sanctions on Russian banks
        value: 21.6
        unit: USD million
        display: $21.6 million
        period: 2022, to the date of the article
        measures: Sums frozen by Kazakhstan in complying with US sanctions, as the government confirmed.
        key: true
        cites: [fpri-2022#16]
        """,
    ),
    (
        model.Quote,
        "`quotes:` (a list)",
        """\
        id: suleimenov-tool
        speaker: suleimenov
        date: 2022-03-29
        text: will not be a tool to circumvent the sanctions imposed on Russia by the United States and the EU
        cites: [fpri-2022#16, rferl-31781750]
        """,
    ),
    (
        model.Section,
        "`sections:` (a list): the analysis, part by part",
        """\
        id: sanctions
        theme: sanctions
        title: Kazakhstan and the sanctions
        claims:
          - text: Exports to Russia fell 10.6% year on year in March 2022.
            cites: [fpri-2022#14]
          - text: Kazakhstan could yet change its approach under significant Russian pressure.
            kind: assessment
            cites: [fpri-2022#15]
        """,
    ),
    (
        model.Claim,
        "inside `sections[].claims`, `info.key_points` and `info.implications`",
        "text: Kazakhstan abstained.\ncites: [fpri-2022#11]\n",
    ),
    (
        model.Judgment,
        "`judgments:` (a list)",
        """\
        id: no-break
        theme: sphere-of-influence
        text: Tokayev presents an image of independence rather than seeking to break free of Moscow.
        confidence: moderate
        by: article
        cites: [fpri-2022#25]
        """,
    ),
    (
        model.Recommendation,
        "`recommendations:` (a list)",
        """\
        id: address-sanctions-side-effects
        text: Consider steps to address the indirect costs of sanctions on Kazakhstan.
        origin: stated
        basis: Paragraph 17 says US policymakers "should consider steps to address these concerns".
        priority: 1
        cites: [fpri-2022#17]
        """,
    ),
    (
        model.Indicator,
        "`indicators:` (a list)",
        """\
        id: counter-sanctions
        text: Kazakhstan joins a Russian-led joint counter-sanctions approach.
        signals: toward-moscow
        status: not-observed
        last_checked: 2022-06-30
        cites: [fpri-2022#15]
        """,
    ),
    (
        model.Update,
        "`updates:` (a list): facts learned after `info.as_of`",
        """\
        id: capital-renamed-astana
        date: 2022-09-17
        text: Tokayev signs the amendment renaming the capital Astana again (in force 19 September).
        cites: [tass-1509513]
        """,
    ),
    (
        model.Correction,
        "`corrections:` (a list)",
        """\
        id: keosayan-name
        location: fpri-2022#9
        kind: name
        source_says: Tigray Keosayan
        correct: Tigran Keosayan
        evidence: Reuters names the host as Tigran Keosayan.
        cites: [reuters-asiatoday-2022-04-27]
        """,
    ),
]

AUDIENCE_KINDS: list[tuple[type[BaseModel], str, str]] = [
    (
        model.Audience,
        "`templates/audiences/<id>.yaml` (the id is the file name)",
        """\
        title: Information Memo
        marking: UNCLASSIFIED
        portion_mark: (U)
        memo: {to: The Secretary, from: "SCA – Assistant Secretary", office: Bureau of South and Central Asian Affairs}
        memo_type: information
        limits: {pages: 2}
        overflow: trim
        sections:
          - bluf
          - {id: key_points, max: 5}
          - {id: recommendations, max: 3}
          - sources
        """,
    ),
    (model.SectionSpec, "inside `sections:`; a plain name is short for `{id: name}`", "id: recommendations\nmax: 3\n"),
    (model.MemoHeader, "`memo:`", "to: The Secretary\nfrom: SCA – Assistant Secretary\n"),
    (model.Limits, "`limits:`", "pages: 2\nwords: 1200\n"),
    (model.Visuals, "`visuals:`", "timeline: true\nkey_figures: true\n"),
    (
        model.Distribution,
        "`distribution:`",
        "to: [desk-officer@example.org]\ncc: []\nattach: [pdf]\nsend: every-edition\n",
    ),
]


def examples() -> list[tuple[type[BaseModel], dict[str, Any]]]:
    """Every documented example, parsed, with its model (for the test that validates them)."""
    out = []
    for cls, _, text in DATA_KINDS + AUDIENCE_KINDS:
        value = yaml.load(textwrap.dedent(text), Loader=YamlLoader)  # a SafeLoader subclass
        if cls is model.Audience:
            value = {"id": "principal", **value}
        out.append((cls, value))
    return out


def type_name(annotation: Any, metadata: list[Any] | None = None) -> str:
    """A type as a reader of the YAML thinks of it."""
    metadata = metadata or []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return type_name(base, [*metadata, *extra])
    for meta in metadata:
        pattern = getattr(meta, "pattern", None)
        if pattern == ID_PATTERN:
            return "id"
        if pattern == CITE_PATTERN:
            return "citation"
        if pattern and "https" in pattern:
            return "URL (http or https)"
        if getattr(meta, "func", None) is model._check_partial_date:
            return "partial date"
    bounds = {k: getattr(m, k) for m in metadata for k in ("ge", "le") if getattr(m, k, None) is not None}
    if bounds == {"ge": 1, "le": 5}:
        return "priority 1 (most important) – 5"
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(type_name(a) for a in args)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"list of {type_name(item)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    names = {str: "text", int: "integer", float: "number", bool: "true/false"}
    if annotation in names:
        return names[annotation]
    if getattr(annotation, "__name__", "") == "date":
        return "date (YYYY-MM-DD)"
    return getattr(annotation, "__name__", str(annotation))


# Meanings shared by many kinds of record, used where a field has no description of its own.
COMMON_MEANINGS = {
    "id": "Unique among records of this kind; other records and citations refer to it.",
    "title": "A short heading.",
    "text": "The statement itself, in a sentence or two.",
    "priority": "1 = most important. Short briefs keep the most important items; trimming drops the least.",
    "theme": "The theme (from `themes`) this belongs to.",
    "cites": "Sources: `source-id` or `source-id#paragraph`.",
    "date": "When, as precise as known.",
    "note": "Anything a reader should know about it.",
    "kind": "What sort of record this is.",
    "actors": "Actors (from `actors`) involved.",
    "claims": "The cited statements of this part.",
    "as_of": "When the figure held, if different from the period.",
    "keywords": "Words for the PDF's metadata.",
    "value": "The number itself, without its unit.",
    "language": "The brief's language (BCP 47), for the PDF and screen readers.",
}


def _field_rows(cls: type[BaseModel]) -> list[str]:
    rows = ["| key | type | required | meaning |", "|---|---|---|---|"]
    for name, info in cls.model_fields.items():
        if cls is model.Dataset or (name == "id" and cls is model.Audience):
            continue
        key = info.alias or name
        required = "yes" if info.is_required() else f"no (default `{_default(info)}`)"
        kind = type_name(info.annotation, list(info.metadata))
        if kind == "text" and _is_prose(cls, name):
            kind = "prose (inline Markdown)"
        meaning = (info.description or COMMON_MEANINGS.get(name, "")).replace("|", "\\|")
        rows.append(f"| `{key}` | {kind} | {required} | {meaning} |")
    return rows


def _is_prose(cls: type[BaseModel], name: str) -> bool:
    """Prose and Text are the same type at run time; the source annotation tells them apart."""
    for klass in cls.__mro__:
        written = getattr(klass, "__annotations__", {}).get(name)
        if written is not None:
            return isinstance(written, str) and "Prose" in written
    return False


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        return "[]" if value == [] else "{}" if isinstance(value, BaseModel) else repr(value)
    value = info.default
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def generate() -> str:
    """The whole of docs/data-format.md."""
    out = [
        "# Data format",
        "",
        "<!-- Generated by `python -m briefs.docgen --write` from briefs/model.py; do not edit by hand. -->",
        "",
        "A dataset is a folder `data/<id>/` (the id matches `[a-z0-9][a-z0-9-]*`). Every `.yaml` file in it",
        "is a mapping whose top-level keys are sections of the dataset — `info`, `sources`, `themes`, `actors`,",
        "`events`, `figures`, `quotes`, `sections`, `judgments`, `recommendations`, `indicators`, `updates`,",
        "`corrections` — and a section may be given in only one file. Split them as suits the analysts.",
        "",
        "Rules the loader enforces, reporting every breach at once as `file:line:column: key: expected …, found …`:",
        "",
        "- unknown keys are errors (a typo is caught, with a suggestion); duplicate YAML keys are errors;",
        "- ids are unique within their kind; every citation, actor, theme and `about` reference resolves;",
        "- a citation is `source-id` or `source-id#paragraph`, and the paragraph must exist in that source;",
        "- dates parse: a **partial date** is `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (quote it or not);",
        "- text fields are non-empty; **prose** fields may use inline Markdown (`*emphasis*`, `**strong**`,",
        "  `` `code` ``, `[links](https://…)`); raw HTML, images and non-http(s) links are removed;",
        "- every statement (`cites`) names at least one source.",
        "",
        "`python build.py check` validates everything and prints what it counted.",
        "",
        "## Records of a dataset",
        "",
    ]
    for cls, where, text in DATA_KINDS:
        out += _kind_section(cls, where, text)
    out += ["## Audience files", ""]
    out += [
        "An audience is one YAML file in `templates/audiences/` (or in your `--templates` folder's",
        "`audiences/`), validated like the data. See `docs/audiences.md` for a walk-through.",
        "",
    ]
    for cls, where, text in AUDIENCE_KINDS:
        out += _kind_section(cls, where, text)
    return "\n".join(out).rstrip() + "\n"


def _kind_section(cls: type[BaseModel], where: str, text: str) -> list[str]:
    doc = (cls.__doc__ or "").strip().splitlines()[0]
    return [
        f"### {cls.__name__}",
        "",
        f"{doc} Lives in {where}.",
        "",
        *_field_rows(cls),
        "",
        "Example:",
        "",
        "```yaml",
        textwrap.dedent(text).rstrip(),
        "```",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the generated document, or with --write replace docs/data-format.md."""
    parser = argparse.ArgumentParser(prog="python -m briefs.docgen", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {DOC.name} instead of printing it")
    args = parser.parse_args(argv)
    text = generate()
    if args.write:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

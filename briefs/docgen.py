"""Generate `docs/data-format.md` from the schema in `briefs/data/model.py`, so the documentation cannot drift.

Also the part of `docs/audiences.md` that lists what a template receives (between its markers).
Run ``python -m briefs.docgen --write`` after changing the schema or the template context; a test
fails while a committed file differs from what this module generates, and another validates every
example against its model.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

import jinja2
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from briefs.data import model
from briefs.data.model import CITE_PATTERN, ID_PATTERN, REF_PATTERN
from briefs.data.yamlfile import SafeLoaderKeepingDates as YamlLoader

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
    (
        model.Paragraph,
        "`sources[].paragraphs` (a list): one entry per non-blank line of the source's `text_file`",
        """\
        n: 9
        gist: Russian TV host Tigran Keosayan mocked Kazakhstan's refusal to back the war.
        """,
    ),
    (model.Theme, "`themes:` (a list)", "id: sanctions\ntitle: Kazakhstan and the sanctions\n"),
    (
        model.Signal,
        "`info.signals` (a list): the directions an indicator can point",
        "id: toward-moscow\nlabel: Toward Moscow\n",
    ),
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
        cites: [fpri-2022#16, asiaplustj-2022-04-06]
        """,
    ),
    (
        model.Section,
        "`sections:` (a list): the analysis, part by part",
        """\
        id: sanctions
        theme: sanctions
        title: Kazakhstan and the sanctions
        paragraphs:
          - id: compliance
            priority: 2
            claims:
              - text: Kazakh officials say they will abide by the sanctions regime.
                cites: [fpri-2022#14]
              - text: Exports to Russia fell 10.6% year on year in March 2022.
                cites: [fpri-2022#14]
          - leans_on: [compliance]
            priority: 1
            claims:
              - text: This compliance could change under significant Russian pressure, FPRI warns.
                kind: assessment
                judgment: sanctions-reversible
                cites: [fpri-2022#15]
        """,
    ),
    (
        model.Passage,
        "`sections[].paragraphs`, `info.key_points` and `info.implications`: a paragraph or bullet",
        """\
        id: referendum
        priority: 1
        claims:
          - text: The referendum of 5 June 2022 curbed Nazarbayev's role.
            cites: [fpri-2022#23]
          - text: But elections in Kazakhstan are not considered free and fair.
            kind: assessment
            caveat: true
            cites: [fpri-2022#23]
        """,
    ),
    (
        model.Claim,
        "a paragraph's `claims`; a paragraph of one claim may give `text` and `cites` directly",
        "text: Kazakhstan abstained.\ncites: [fpri-2022#11]\n",
    ),
    (
        model.Judgment,
        "`judgments:` (a list)",
        """\
        id: no-break
        theme: sphere-of-influence
        text: Tokayev is unlikely to try to break free of Moscow's orbit.
        likelihood: unlikely
        confidence: moderate
        by: source
        made: 2022-06-30
        horizon: "2024"
        basis: The article's conclusion from symbolic distancing without breaks; one commentary, hence moderate.
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
        basis: After describing these costs, the article says US policymakers should consider steps to address them.
        priority: 1
        cites: [fpri-2022#17]
        """,
    ),
    (
        model.Option,
        "`options:` (a list)",
        """\
        id: report-on-indirect-costs
        lever: reporting
        text: Require a report on the sanctions' indirect costs for Kazakhstan and on steps to address them.
        pros: It follows up FPRI's one recommendation to US policymakers.
        cons: The article gives no figures for these costs.
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
        cites: [reuters-2022-04-27]
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
        memo: {to: The Secretary}
        memo_type: information
        limits: {pages: 2}
        overflow: trim
        sections:
          - bluf
          - {id: key_points, max: 5}
          - {id: implications, title: Looking ahead, max: 3}
          - sources
        """,
    ),
    (
        model.SectionSpec,
        "an audience's `sections:` (a list); a plain name is short for `{id: name}`",
        "id: recommendations\nmax: 3\n",
    ),
    (model.MemoHeader, "`memo:`", "to: The Secretary\nfrom: SCA – Assistant Secretary\n"),
    (model.Limits, "`limits:`", "pages: 2\nwords: 1200\n"),
    (model.Visuals, "`visuals:`", "timeline: true\nkey_figures: true\n"),
    (
        model.Distribution,
        "`distribution:`",
        "to: [desk-officer@example.org]\ncc: []\nattach: [pdf]\nsend: every-edition\n",
    ),
]


SECTION_SHOWS: dict[str, str] = {
    "bluf": "`info.bluf`: the bottom line up front, in at most four lines. Never trimmed.",
    "summary": "`info.summary`: the situation and why it matters, in a paragraph. Never trimmed.",
    "key_points": "`info.key_points`: the few cited claims a reader must know.",
    "key_figures": "The `figures` marked `key: true`: a table, or cards with `visuals: {key_figures: true}`.",
    "recommendations": "The `recommendations` for this audience, those the source states first, each marked "
    "stated or derived; `origin:` keeps one kind.",
    "options": "The `options`: what Congress may consider, each one of its levers (oversight, reporting, "
    "appropriations, legislation, confirmation) with the arguments for and against; for `voice: neutral` briefs.",
    "analysis": "The analysis `sections`, part by part, each with its claims; `max_paragraph_priority:` thins the "
    "paragraphs.",
    "implications": "`info.implications`: what the situation means for policy.",
    "judgments": "The `judgments`, each with its confidence and whether the source or the analyst makes it.",
    "timeline": "The `events` in date order; with `visuals: {timeline: true}` also drawn to scale (PDF and HTML).",
    "actors": "The `actors`: the one spelling every brief uses, and who each is.",
    "figures": "Every figure: value, period and what it measures.",
    "quotes": "The `quotes`, with speaker, date and context.",
    "indicators": "The `indicators` to watch: what each would signal and what has been seen so far.",
    "updates": "The `updates`: facts learned after `info.as_of`, dated, oldest first.",
    "corrections": "The `corrections`: what the source says, what is right instead, and why.",
    "changes": "What changed since this brief's last edition; left out of a first edition. Never trimmed.",
    "sources": "The numbered endnotes: each source (and paragraph) the brief cites, in order of first citation. "
    "Never trimmed.",
}
"""What each section kind shows, one line each (the table under SectionSpec); tests/test_docgen.py wants every kind."""


def section_kinds() -> list[str]:
    """The table of section kinds: default heading (from `briefs.compose.select`) and what each shows."""
    from briefs.compose.select import DEFAULT_TITLES

    rows = [
        "#### Section kinds",
        "",
        "Each kind has a partial `templates/base/sections/<kind>.html.j2` and `.md.j2` (see `docs/audiences.md`).",
        "",
        "| kind | default heading | shows |",
        "|---|---|---|",
    ]
    for kind in typing.get_args(model.SectionKind):
        rows.append(f"| `{kind}` | {DEFAULT_TITLES.get(kind, '')} | {SECTION_SHOWS.get(kind, '')} |")
    return [*rows, ""]


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
        if pattern == REF_PATTERN:
            return "id or kind:id"
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
    "claims": "The sentences, each with its sources.",
    "paragraphs": "The part's paragraphs, in reading order.",
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
        "<!-- Generated by `python -m briefs.docgen --write` from briefs/data/model.py; do not edit by hand. -->",
        "",
        *textwrap.wrap(
            "A dataset is a folder `data/<id>/` (the id matches `[a-z0-9][a-z0-9-]*`). Every `.yaml` or `.yml`"
            " file in it (not in subfolders) is a mapping whose top-level keys are sections of the dataset — "
            + ", ".join(f"`{k}`" for k in ("info", *model.RECORD_KINDS))
            + " — and a section may be given in only one file. Split them as suits the analysts.",
            width=104,
            break_on_hyphens=False,
        ),
        "",
        "Rules the loader enforces, reporting every breach at once as `file:line:column: key: expected …, found …`:",
        "",
        "- unknown keys are errors (a typo is caught, with a suggestion); duplicate YAML keys are errors;",
        "- schema and reference errors come in one pass: a record with a missing key does not hide a dangling",
        "  reference elsewhere, and a duplicate key does not hide the rest of its file; a YAML syntax error is",
        "  said in plain words (indentation, a missing `:`, a tab, an unclosed quote or bracket);",
        "- hidden files (`.#events.yaml`, an editor's lock) are not data;",
        "- ids are unique within their kind (a figure and an event may share one); every citation, actor,",
        "  theme and `about` reference resolves; `about` takes `kind:id` (`figures:death-toll-232`) where a",
        "  plain id would name records of two kinds;",
        "- a citation is `source-id` or `source-id#paragraph`, and the paragraph must exist in that source;",
        "- a source's `text_file` is its text as received, one paragraph per non-blank line: paragraph *n* is",
        "  the *n*-th non-blank line, and `paragraphs` lists every one, numbered 1, 2, 3… (a text of 14",
        "  non-blank lines needs 14 entries); a paragraph's `original` is its number in the original",
        "  publication (body paragraphs only: no title, headings or stray lines), what notes show as",
        '  "para.", so a reader can check a note against the linked original; the numbers must rise',
        "  through the text, and a line without one (a heading) is cited without a paragraph;",
        "- a correction's `source_says` occurs word for word in the paragraph its `location` names (runs of",
        "  spaces and curly or straight quotes count alike);",
        "- the data's own prose never repeats a mistake a correction records (a `pronoun` correction",
        "  aside): neither the whole `source_says` nor a run of its words that holds at least half of the",
        "  words `correct` does without and at least half of its words that are not stopwords — compared",
        "  with case, quotes, emphasis and punctuation ignored. With `source_says: the port of Berbera in",
        "  Djibouti` and `correct: the port of Berbera in Somaliland`, a summary saying `Berbera, in",
        "  \u201cDjibouti\u201d` is refused, while `by way of Djibouti` or `the port of Berbera` is not;",
        "- an update is dated on or after `info.as_of` (a partial date counts if any day of it is);",
        "- dates parse: a **partial date** is `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (quote it or not);",
        "- text fields are non-empty; **prose** fields may use inline Markdown (`*emphasis*`, `**strong**`,",
        "  `` `code` ``, `[links](https://…)`); raw HTML, images and non-http(s) links are removed;",
        "- every statement (`cites`) names at least one source.",
        "",
        "`python build.py check` validates everything and prints what it counted.",
        "",
        "### Quotes are set curly",
        "",
        "Type straight quotes (`\"` and `'`) in the data: every brief prints them as a typesetter would,",
        "\u201cdouble\u201d, \u2018single\u2019 and the apostrophe \u2019, in the PDF, HTML, Markdown and Word alike.",
        "A quote at the start or after a space or an opening bracket opens, any other closes; curly quotes you",
        "type are kept. Where that guesses wrong, type the curly one: a leading apostrophe (`\u201990s`, not",
        "`'90s`, which would open a quote). With `info.house_style: us` (the default) a period or comma after",
        "a closing quote in a prose field moves inside it (`\u201cunprecedented.\u201d`); `gb` keeps it where",
        "you typed it.",
        "",
        "### US spelling and dates, checked",
        "",
        "With `info.house_style: us`, `check` refuses British spellings and day-month dates (`6 January 2022`)",
        "in the office's own prose, each with its file, line, key and US form. The spellings come from two",
        "maintained lists, codespell's and breame's (pinned), less words that are American as written",
        "(`buses`, `gauge`, `tonnes`, `dialogue`). Words inside “…” are another's and keep their spelling, as do",
        "source titles, quotes and what a correction says the source says; list words your house spells its own",
        "way in `info.house_spellings`.",
        "",
        "## Records of a dataset",
        "",
    ]
    for cls, where, text in DATA_KINDS:
        out += _kind_section(cls, where, text)
    listed = {cls for cls, _, _ in DATA_KINDS + AUDIENCE_KINDS}
    for cls, where in nested_models(model.Dataset).items():  # a record added to the schema is never left out
        if cls not in listed:
            out += _kind_section(cls, f"`{where}`", "")
    out += ["## Audience files", ""]
    out += [
        "An audience is one YAML file in `templates/audiences/` (or in your `--templates` folder's",
        "`audiences/`), validated like the data. See `docs/audiences.md` for a walk-through.",
        "",
    ]
    for cls, where, text in AUDIENCE_KINDS:
        out += _kind_section(cls, where, text)
        if cls is model.SectionSpec:
            out += section_kinds()
    return "\n".join(out).rstrip() + "\n"


def nested_models(root: type[BaseModel], where: str = "") -> dict[type[BaseModel], str]:
    """Every record class reachable from ``root``'s fields, with the dotted key where it first appears."""
    found: dict[type[BaseModel], str] = {}
    for name, info in root.model_fields.items():
        key = f"{where}.{name}" if where else name
        for cls in _models_in(info.annotation):
            if cls not in found and cls is not root:
                found[cls] = key
                for inner, inner_key in nested_models(cls, key + ("[]" if _is_list(info.annotation) else "")).items():
                    found.setdefault(inner, inner_key)
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(a) for a in typing.get_args(annotation))


def _kind_section(cls: type[BaseModel], where: str, text: str) -> list[str]:
    doc = (cls.__doc__ or "").strip().splitlines()[0]
    out = [f"### {cls.__name__}", "", f"{doc} Lives in {where}.", "", *_field_rows(cls), ""]
    if text:
        out += ["Example:", "", "```yaml", textwrap.dedent(text).rstrip(), "```", ""]
    return out


# --- docs/audiences.md: what a template receives ------------------------------------------------------

AUDIENCES_DOC = DOC.parent / "audiences.md"
BEGIN = "<!-- template-reference: generated by `python -m briefs.docgen --write` from the code; do not edit -->"
END = "<!-- end of template-reference -->"

TEMPLATE_VARIABLES: dict[str, str] = {
    "brief": "Everything about this brief: a [`Brief`](#brief).",
    "info": "The dataset's `info` record (DatasetInfo in [data-format.md](data-format.md#datasetinfo)), the same as "
    "`brief.info`: {fields}.",
    "audience": "The audience file as a record (Audience in [data-format.md](data-format.md#audience)): {fields}.",
    "sections": "The sections to show, in the audience's order: a list of [`BriefSection`](#briefsection), the same "
    "as `brief.sections`.",
    "notes": "The endnotes, numbered in order of first citation: a list of [`Note`](#note).",
    "fmt": "`html` (for the PDF and HTML) or `md`.",
    "tool_version": "The tool's version, for metadata.",
}
"""Every variable `briefs.compose.fit.context_for` passes to a template; tests/test_docgen.py keeps the two in step."""

ATTRIBUTES: dict[str, dict[str, str]] = {
    "Brief": {
        "dataset": "The whole validated dataset: `info` and every list of records in data-format.md "
        "(`brief.dataset.events`, `brief.dataset.sources`…).",
        "audience": "The audience record (also the variable `audience`).",
        "sections": "The sections shown, in order; one with no items is left out, except `bluf` and `summary`.",
        "notes": "The endnotes (also the variable `notes`).",
        "actors": "Actors by id: `brief.actors['tokayev'].name`.",
        "date": "The brief's date: the newest information it shows: `info.as_of`, or the latest later development, "
        "judgment review or indicator check the brief shows (a date: `brief.date | date`).",
        "dropped": "Keys of the items trimmed to fit the audience's limits.",
        "empty": "Sections the audience asks for that show nothing of this data, as (place in `sections:`, "
        "spec, title); `check` warns of each.",
        "abridged": "True when fitting left something out: say so to the reader (`m.abridged()`).",
        "later": "The later developments (Update records) the brief shows, in its updates section or beside "
        "what they revise.",
        "later_through": "The date of the newest later development shown (`'2023-04-01'`), or none: "
        "`m.asof()` writes the as-of line from it.",
        "bound": "Every update's `about`, resolved: `(kind, id)` to the updates that revise that record.",
        "source_line": "The main source cited in full (`.html`, `.markdown`), once, where the audience has "
        "`cite_main_source: once`; none otherwise. `m.source_line()` prints it, heading the notes.",
        "judgment_state": "`brief.judgment_state(j)`: what a reader must be told about a judgment's currency "
        "(`.words`: 'overtaken by events'; `.reviewed`; `.live`), or none when it stands as made; "
        "`m.currency(j)` prints it.",
        "status_words": "`brief.status_words('overtaken')`: a judgment's status in a reader's words.",
        "info": "The dataset's `info` (also the variable `info`).",
    },
    "BriefSection": {
        "kind": "The section kind (`judgments`, `timeline`…): the partial `base/sections/<kind>.*.j2` renders it.",
        "title": "Its heading: the audience's `title:` or the kind's default.",
        "items": "What it shows, in order: a list of [`Item`](#item).",
        "spec": "The audience's settings for it (SectionSpec: `max`, `origin`, `trim`…).",
        "reviews": "In `updates` only: the key judgments whose reviews it shows (the judgments section's "
        "`reviews: updates`), each an [`Item`](#item) with `status_note`, `reviewed`, `status` and `status_notes`.",
    },
    "Item": {
        "key": "What trimming calls it: `figures:rise`, `sections:sanctions:2`.",
        "record": "The record shown (an Event, Figure, Claim…; DatasetInfo for `bluf` and `summary`; a Note in "
        "`sources`). `item.text` is short for `item.record.text`: every attribute of the record reads "
        "through the item.",
        "notes": "The note numbers its citations got: `{{ cite(item.notes) }}`.",
        "priority": "1 (most important) to 5.",
        "children": "An analysis part's claims (Items too); empty elsewhere.",
        "revisions": "Later updates that are `about` this record (Items, oldest first), shown beside it: "
        "`{{ m.revisions(item) }}`.",
        "extra": "What a section adds, read as attributes too: `item.people` (a timeline event's actors), "
        "`item.speaker_actor` (a quote's speaker).",
    },
    "Note": {
        "n": "Its number.",
        "source": "The Source record cited: `note.source.title`, `.publisher`, `.url`, `.date`…",
        "paragraph": "The paragraph cited, or none for the whole source.",
        "gist": "The cited paragraph's one-line summary, when known.",
        "parts": "Every source this note cites (`part.source`, `part.paragraphs`), in the order cited: one note "
        "per citation point.",
        "html": "The note formatted in the house citation style, as HTML (sources separated by semicolons).",
        "markdown": "The same note as Markdown.",
    },
}
"""What each attribute of the objects templates receive means; tests/test_docgen.py wants every public one."""


def template_objects() -> dict[str, type]:
    """The classes whose attributes templates read, by name."""
    from briefs.compose.select import Brief, BriefSection, Item, Note

    return {"Brief": Brief, "BriefSection": BriefSection, "Item": Item, "Note": Note}


def public_attributes(cls: type) -> dict[str, str]:
    """A class's fields and public properties and methods, each with its type or call form."""
    import dataclasses

    found = {f.name: f"`{f.type}`" for f in dataclasses.fields(cls)}
    for name, value in vars(cls).items():
        if name.startswith("_") or name in found:
            continue
        if isinstance(value, property):
            found[name] = "property"
        elif callable(value):
            found[name] = "method"
    return found


def template_reference() -> str:
    """The generated part of docs/audiences.md: template variables, their objects, filters and functions."""
    from briefs.data.audiences import TemplateDirs
    from briefs.formats.render import make_env

    fields = {
        "info": ", ".join(f"`{k}`" for k in model.DatasetInfo.model_fields),
        "audience": ", ".join(f"`{model.Audience.model_fields[k].alias or k}`" for k in model.Audience.model_fields),
    }
    out = [BEGIN, "", "| variable | what it is |", "|---|---|"]
    for name, text in TEMPLATE_VARIABLES.items():
        out.append(f"| `{name}` | {text.format(fields=fields.get(name, ''))} |")
    out.append("")
    for cls_name, cls in template_objects().items():
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        out += [f"#### {cls_name}", "", doc, "", "| attribute | type | meaning |", "|---|---|---|"]
        for attr, kind in public_attributes(cls).items():
            meaning = ATTRIBUTES.get(cls_name, {}).get(attr) or _first_line(getattr(cls, attr, None))
            shown = f"{attr}(…)" if kind == "method" else attr
            out.append(_row(f"`{shown}`", kind, meaning))
        out.append("")
    envs = {fmt: make_env(TemplateDirs(DOC.parent.parent / "templates"), fmt) for fmt in ("html", "md")}
    plain = jinja2.Environment()  # Jinja's own filters and globals, left to Jinja's documentation
    out += ["#### Filters and functions", ""]
    out += ["Besides Jinja's own filters (`upper`, `join`, `length`…):", ""]
    out += ["| name | kind | in | what it does |", "|---|---|---|---|"]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for fmt, env in envs.items():
        for name in set(env.filters) - set(plain.filters):
            rows.setdefault((name, "filter"), {})[fmt] = env.filters[name]
        for name in set(env.globals) - set(plain.globals):
            if callable(env.globals[name]):
                rows.setdefault((name, "function"), {})[fmt] = env.globals[name]
    for (name, kind), fns in sorted(rows.items(), key=lambda r: (r[0][1] == "function", r[0][0])):
        where = "HTML and Markdown" if len(fns) == 2 else "HTML" if "html" in fns else "Markdown"
        docs = {fmt: _first_line(fn) for fmt, fn in fns.items()}
        what = " ".join(dict.fromkeys(docs.values()))
        if len(set(docs.values())) == 2:
            what = f"HTML: {docs['html']} Markdown: {docs['md']}"
        out.append(f"| `{name}` | {kind} | {where} | {what} |")
    return "\n".join([*out, "", END])


def _row(*cells: str) -> str:
    """A Markdown table row; a ``|`` inside a cell (even in code) is escaped, as GitHub's tables need."""
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _first_line(obj: Any) -> str:
    """The first line of an object's docstring (a property's getter's)."""
    obj = obj.fget if isinstance(obj, property) else obj
    return ((getattr(obj, "__doc__", None) or "").strip().splitlines() or [""])[0]


def audiences_doc(current: str) -> str:
    """docs/audiences.md with its generated part replaced by `template_reference`."""
    head, found, rest = current.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise ValueError(f"{AUDIENCES_DOC}: expected the markers {BEGIN!r} and {END!r}")
    return head + template_reference() + tail


def main(argv: list[str] | None = None) -> int:
    """Print the generated document, or with --write replace docs/data-format.md."""
    parser = argparse.ArgumentParser(prog="python -m briefs.docgen", description=__doc__)
    parser.add_argument(
        "--write", action="store_true", help=f"write {DOC.name} (and audiences.md's generated part) instead of printing"
    )
    args = parser.parse_args(argv)
    text = generate()
    if args.write:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
        AUDIENCES_DOC.write_text(audiences_doc(AUDIENCES_DOC.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

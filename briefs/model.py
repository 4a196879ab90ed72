"""The typed records of a dataset: the single source of truth for the data format.

Every class here is a pydantic model that forbids unknown keys, so a typo in a YAML key is an
error with its file and line, never a silently ignored field. `docs/data-format.md` is generated
from these classes (``python -m briefs.docgen``) and a test keeps it in step.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
CITE_PATTERN = r"^[a-z0-9][a-z0-9-]*(#[0-9]+)?$"

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""Plain text: shown as typed, escaped in every output."""
Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""Text that may use inline Markdown: *emphasis*, **strong**, `code` and [links](https://…)."""
Cite = Annotated[str, StringConstraints(pattern=CITE_PATTERN)]
"""A source id, optionally with a paragraph: ``fpri-2022#12``."""

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _check_partial_date(value: str) -> str:
    m = _PARTIAL_DATE.match(value)
    if not m:
        raise ValueError("a date as YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in m.groups())
    try:
        dt.date(year or 1, month or 1, day or 1)
    except ValueError as exc:  # 2022-13-45, 2022-02-30
        raise ValueError(f"a real date as YYYY, YYYY-MM or YYYY-MM-DD ({exc})") from None
    return value


PartialDate = Annotated[str, AfterValidator(_check_partial_date)]
"""A date as precise as it is known: ``2022``, ``2022-04`` or ``2022-04-21``."""

Confidence = Literal["low", "moderate", "high"]
Priority = Annotated[int, Field(ge=1, le=5)]


class Record(BaseModel):
    """Base of every record: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(Record):
    """A record that states something and so must name where it comes from."""

    cites: list[Cite] = Field(min_length=1, description="Sources: `source-id` or `source-id#paragraph`.")


class Paragraph(Record):
    """One numbered paragraph of a source text."""

    n: int = Field(ge=1, description="Paragraph number, 1-based, in the order of the text.")
    gist: Text = Field(description="What the paragraph says, in a line (corrected).")
    substantive: bool = Field(
        default=True, description="False for stray lines, headings and disclaimers: no claim needs to cite them."
    )


class Source(Record):
    """A document the data cites."""

    id: Id
    title: Text = Field(description="The document's title as published.")
    publisher: Text = Field(description="Who published it (and through whom, if republished).")
    kind: Literal["article", "news", "official", "reference", "dataset"] = "article"
    author: Text | None = Field(default=None, description="Leave out when unknown: never invent one.")
    date: PartialDate | None = Field(default=None, description="Publication date, as precise as known.")
    date_note: Text | None = Field(default=None, description="How the date was established, when not printed.")
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = Field(
        default=None, description="Where a reader can find it; endnotes link to it."
    )
    accessed: dt.date | None = Field(default=None, description="When the URL was last checked.")
    note: Prose | None = Field(default=None, description="What the source was used for, caveats.")
    text_file: Text | None = Field(
        default=None,
        description="The source's text as received, relative to the dataset folder; one paragraph per non-blank line.",
    )
    paragraphs: list[Paragraph] = Field(
        default_factory=list, description="Numbered paragraphs, so claims can cite `id#n`."
    )


class Theme(Record):
    """A strand of the analysis (balancing, sanctions, …) that sections and judgments belong to."""

    id: Id
    title: Text


class Actor(Record):
    """A person, state or organisation the brief names."""

    id: Id
    name: Text = Field(description="The one spelling every brief uses.")
    kind: Literal["person", "state", "organization"] = "person"
    role: Text = Field(description="Who they are, in the brief's words: 'Foreign Minister of Kazakhstan'.")
    country: Text | None = Field(default=None, description="The country they belong to or act for.")
    aliases: list[Text] = Field(default_factory=list, description="Other correct spellings (transliterations).")
    misspellings: list[Text] = Field(
        default_factory=list,
        description="Wrong spellings found in sources, kept so they can be recognised; never shown in a brief.",
    )
    cites: list[Cite] = Field(default_factory=list)


class Event(Cited):
    """Something that happened on a (possibly partial) date."""

    id: Id
    date: PartialDate
    qualifier: Literal["early", "mid", "late", "about", "by"] | None = Field(
        default=None, description="Softens a partial date: `late` with `2022-04` reads 'late April 2022'."
    )
    title: Text = Field(description="A short headline for the timeline.")
    text: Prose | None = Field(default=None, description="One or two sentences of detail.")
    actors: list[Id] = Field(default_factory=list)
    theme: Id | None = None
    priority: Priority = 3


class Figure(Cited):
    """A number with its unit, period and what it measures."""

    id: Id
    label: Text = Field(description="Short name for tables and panels.")
    value: float | None = Field(
        default=None,
        description="The number, without its unit. Leave out when the source gives none ('thousands'): then "
        "`display` is required. Never put a made-up number here.",
    )
    unit: Text = Field(description="`people`, `%`, `USD million`, …")
    display: Text | None = Field(default=None, description="How to print the value when not obvious: `$21.6 million`.")
    period: Text = Field(description="When the figure holds: `March 2022, year on year`.")
    measures: Prose = Field(description="What exactly is counted, and by whom.")
    as_of: PartialDate | None = None
    priority: Priority = 3
    key: bool = Field(default=False, description="Shown in the key-figures panel.")

    @model_validator(mode="after")
    def _shown_somehow(self) -> Figure:
        """A figure without a number must say how to print it."""
        if self.value is None and self.display is None:
            raise ValueError("a `display` when there is no `value` (a figure must show something)")
        return self


class Quote(Cited):
    """Words someone said, with who and when."""

    id: Id
    speaker: Id = Field(description="The actor who said it.")
    date: PartialDate | None = Field(default=None, description="When it was said.")
    text: Text = Field(description="The words, as reported (no quotation marks).")
    context: Prose | None = Field(default=None, description="Where and how it was said; other reported wordings.")


class Claim(Cited):
    """One sourced statement of an analysis section."""

    text: Prose
    kind: Literal["fact", "assessment"] = Field(
        default="fact", description="`assessment` for the article's reading of facts, not a fact itself."
    )
    priority: Priority = 3


class Section(Record):
    """A titled piece of analysis made of cited claims."""

    id: Id
    theme: Id | None = None
    title: Text
    source_heading: Text | None = Field(
        default=None, description="The heading the source gives this part, if different (kept for checking)."
    )
    claims: list[Claim] = Field(min_length=1)


class Judgment(Cited):
    """An analytic judgment with its confidence."""

    id: Id
    theme: Id | None = None
    text: Prose
    confidence: Confidence = Field(description="How sure: `low`, `moderate` or `high`, as the evidence warrants.")
    by: Literal["article", "analyst"] = Field(
        default="article", description="`article` when the source makes it, `analyst` when we do."
    )
    basis: Prose | None = Field(default=None, description="The evidence the judgment rests on.")
    priority: Priority = 3


class Recommendation(Cited):
    """What US policymakers working on the region could do."""

    id: Id
    text: Prose = Field(description="An action, in the imperative.")
    origin: Literal["stated", "derived"] = Field(
        description="`stated` only when the source itself recommends it; `derived` when an analyst infers it."
    )
    basis: Prose = Field(description="Why: what in the sources supports it.")
    audiences: list[Id] = Field(default_factory=list, description="Limit to these audiences; empty means all.")
    priority: Priority = 3


class Indicator(Cited):
    """A sign to watch that would show a direction of travel."""

    id: Id
    text: Prose
    signals: Literal["toward-moscow", "away-from-moscow", "either"] = Field(description="What seeing it would mean.")
    status: Literal["not-observed", "watching", "observed", "mixed"] = Field(description="What has been seen so far.")
    last_checked: dt.date = Field(description="When the status was last checked.")
    note: Prose | None = None
    priority: Priority = 3


class Update(Cited):
    """A fact learned after the dataset's as-of date: shown dated, never as the source's claim."""

    id: Id
    date: PartialDate
    text: Prose
    about: list[Id] = Field(default_factory=list, description="Records (figures, events…) this update revises.")
    priority: Priority = 3


class Correction(Cited):
    """A mistake in a source (such as a machine translation) and what is right instead."""

    id: Id
    location: Cite = Field(description="Where the mistake is: `source-id#paragraph`.")
    kind: Literal["name", "pronoun", "heading", "residue", "fact", "wording", "date"] = Field(
        description="What sort of mistake."
    )
    source_says: Text = Field(description="The source's words, verbatim.")
    correct: Text = Field(description="What is right instead (what the briefs say).")
    evidence: Prose = Field(description="Why: the sources or reasoning that settle it.")


class DatasetInfo(Record):
    """What the dataset is about and as of when."""

    title: Text = Field(description="The brief's title.")
    subtitle: Text | None = Field(default=None, description="A line under the title.")
    subject: Text = Field(description="One line for memo SUBJECT lines and PDF metadata.")
    as_of: dt.date = Field(description="The date the facts are current to (the main source's date).")
    as_of_note: Text | None = Field(default=None, description="How the as-of date was established.")
    keywords: list[Text] = Field(default_factory=list)
    language: Text = "en"
    summary: Prose = Field(description="A paragraph: the situation and why it matters.")
    bluf: Prose = Field(description="Bottom line up front: at most four lines.")
    key_points: list[Claim] = Field(default_factory=list, description="The few things a reader must know.")
    implications: list[Claim] = Field(default_factory=list, description="What it means for US policy.")


RECORD_KINDS = (
    "sources",
    "themes",
    "actors",
    "events",
    "figures",
    "quotes",
    "sections",
    "judgments",
    "recommendations",
    "indicators",
    "updates",
    "corrections",
)
"""The lists of records a dataset holds, in the order they are checked and counted."""


class Dataset(Record):
    """Everything one dataset holds, merged from the YAML files of its folder."""

    id: Id
    info: DatasetInfo
    sources: list[Source] = Field(min_length=1)
    themes: list[Theme] = Field(default_factory=list)
    actors: list[Actor] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    judgments: list[Judgment] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    updates: list[Update] = Field(default_factory=list)
    corrections: list[Correction] = Field(default_factory=list)


# --- Audiences: what one kind of reader gets -------------------------------------------------------

SectionKind = Literal[
    "bluf",
    "summary",
    "key_points",
    "key_figures",
    "recommendations",
    "analysis",
    "implications",
    "judgments",
    "timeline",
    "actors",
    "figures",
    "quotes",
    "indicators",
    "updates",
    "corrections",
    "changes",
    "sources",
]
"""The sections a brief can hold; each has a partial `templates/base/sections/<kind>.{html,md}.j2`."""


class SectionSpec(Record):
    """One section of an audience's brief: which records, how many, under what heading."""

    id: SectionKind
    title: Text | None = Field(default=None, description="Heading; each kind has a default.")
    max: int | None = Field(default=None, ge=1, description="At most this many items, most important first.")
    max_priority: Priority | None = Field(default=None, description="Only items with priority ≤ this (1 = top).")
    origin: list[Literal["stated", "derived"]] | None = Field(
        default=None, description="Recommendations only: which origins to show."
    )
    max_claim_priority: Priority | None = Field(
        default=None, description="Analysis only: within each part, only claims with priority ≤ this."
    )
    trim: bool = Field(default=True, description="May the overflow policy drop items of this section?")


class MemoHeader(Record):
    """The TO/FROM block of a government memo."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    to: Text
    from_: Text = Field(alias="from")
    through: Text | None = None
    office: Text | None = None
    prepared_by: Text | None = None
    cleared_by: Text | None = None


class Limits(Record):
    """Length limits: exceeded limits fail the target unless `overflow: trim`."""

    pages: int | None = Field(default=None, ge=1, description="Most PDF pages.")
    words: int | None = Field(default=None, ge=50, description="Most words in the Markdown brief.")


class Visuals(Record):
    """Pictures drawn from the data (inline SVG and HTML, no image files), in the sections that hold their data."""

    timeline: bool = Field(
        default=False,
        description="Draw the `timeline` section's events to scale as a picture above its table (PDF and HTML).",
    )
    key_figures: bool = Field(
        default=False,
        description="Show the `key_figures` section as a panel of cards, number first, instead of a table.",
    )


class Audience(Record):
    """One audience file, `templates/audiences/<id>.yaml`."""

    id: Id
    title: Text = Field(description="What the brief is called: 'Information Memo', 'Policy Brief'.")
    description: Text | None = None
    template: Id | None = Field(default=None, description="Template stem; defaults to the audience id, then `base`.")
    formats: list[Literal["pdf", "md", "html", "docx"]] = Field(
        default=["pdf", "md"], description="Formats built by default."
    )
    marking: Text | None = Field(default=None, description="Classification banner, e.g. UNCLASSIFIED; none for public.")
    portion_mark: Text | None = Field(default=None, description="Prefix for paragraphs in government formats: (U).")
    memo: MemoHeader | None = None
    memo_type: Literal["information", "action"] | None = None
    decide_by: dt.date | None = Field(default=None, description="Action memos: decision wanted by.")
    paper: Literal["letter", "a4"] = "letter"
    font: Literal["serif", "sans"] = "serif"
    limits: Limits = Field(default_factory=Limits)
    overflow: Literal["fail", "trim"] = Field(
        default="fail", description="Over a limit: `fail` the target, or `trim` lowest-priority items until it fits."
    )
    visuals: Visuals = Field(default_factory=Visuals)
    sections: list[SectionSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _action_memo_needs_a_date(self) -> Audience:
        """An action memo asks for a decision, so it needs a memo header and a decide-by date."""
        if self.memo_type == "action" and (self.decide_by is None or self.memo is None):
            raise ValueError("memo_type: action needs `memo:` (to, from) and `decide_by:` (a date)")
        return self

    @model_validator(mode="before")
    @classmethod
    def _plain_section_names(cls, value: Any) -> Any:
        """Allow `- summary` as short for `- id: summary`."""
        if isinstance(value, dict) and isinstance(value.get("sections"), list):
            value = {**value, "sections": [{"id": s} if isinstance(s, str) else s for s in value["sections"]]}
        return value

"""The typed records of a dataset: the single source of truth for the data format.

Every class here is a pydantic model that forbids unknown keys, so a typo in a YAML key is an
error with its file and line, never a silently ignored field. `docs/data-format.md` is generated
from these classes (``python -m briefs.docgen``) and a test keeps it in step.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
CITE_PATTERN = r"^[a-z0-9][a-z0-9-]*(#[0-9]+)?$"

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""Plain text: shown as typed, escaped in every output."""
Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""Text that may use inline Markdown: *emphasis*, **strong**, `code` and [links](https://…)."""
REF_PATTERN = r"^([a-z]+:)?[a-z0-9][a-z0-9-]*$"
RecordRef = Annotated[str, StringConstraints(pattern=REF_PATTERN, max_length=100)]
"""A record's id, or ``kind:id`` (``figures:death-toll-232``): ids are unique only within a kind."""
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

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    original: int | None = Field(
        default=None,
        ge=1,
        description="Its number in the original publication, counting body paragraphs only (no title, headings "
        "or stray lines of the copy): what a note's 'para.' shows, so a reader can check it against the linked "
        "original (issue 23). Once one paragraph of a source has it, a paragraph without it (a heading, a line "
        "the original lacks) cannot be cited. Default: notes show `n`.",
    )


SourceKind = Literal["article", "news", "official", "report", "reference", "dataset", "web"]


SOURCE_NOUNS: dict[str, str] = {
    "article": "article",
    "news": "report",
    "official": "document",
    "report": "report",
    "reference": "reference",
    "dataset": "dataset",
    "web": "page",
}
"""How running text names the main source by its `kind`: "since the report", "not the article's" (issue 24)."""


class Source(Record):
    """A document the data cites, with the bibliographic fields its notes are formatted from."""

    id: Id
    title: Text = Field(description="The document's title exactly as published (its headline), never a description.")
    publisher: Text = Field(description="The organisation responsible for it: 'Foreign Policy Research Institute'.")
    container: Text | None = Field(
        default=None,
        description="The publication or website it appeared in, when that is not the publisher: 'Euractiv'.",
    )
    short_title: Text | None = Field(
        default=None,
        description="The title as short notes give it, up to four words of it (Chicago 14.30): 'Russia’s Invasion "
        "of Ukraine'. Default: the title without its subtitle.",
    )
    short_name: Text | None = Field(
        default=None,
        description="How briefs name the source in running text ('FPRI', 'the FPRI commentary'): attributions read "
        "“FPRI's analysis argues…”. Defaults to the publisher.",
    )
    kind: SourceKind = Field(
        default="article",
        description="`article` (commentary, analysis), `news`, `official` (a government or UN text), `report`, "
        "`reference`, `dataset`, `web`; chooses how its notes are formatted.",
    )
    authors: list[Text] = Field(
        default_factory=list,
        description="Bylined authors, 'Given Family' each (or an organisation). Leave empty when there is no "
        "byline or it is unknown: never invent one.",
    )
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
    text_note: Text | None = Field(
        default=None,
        description="What the text we hold is, when it is not the original: 'a machine translation with errors'. "
        "Briefs say it above the corrections.",
    )

    def pinpoint(self, n: int) -> int | None:
        """The number a note shows for paragraph ``n`` of the text: the original's, when the data numbers them so.

        None for a line the original does not number (a heading, the title, a stray line of the copy): a
        note citing it names the source without a paragraph.
        """
        if not self.numbers_original:
            return n
        return next((p.original for p in self.paragraphs if p.n == n), None)

    def location_words(self, n: int, kind: str = "") -> str:
        """Where paragraph ``n`` is, as a reader finds it in the original: 'para. 5', 'heading before para. 14'."""
        # "para." keeps its number on its line (a no-break space): "(U) para.⏎1" is a cell a reader puzzles out.
        shown = self.pinpoint(n)
        if shown is not None:
            return f"para.\u00a0{shown}"
        noun = "heading" if kind == "heading" else "line"
        later = [p.original for p in self.paragraphs if p.n > n and p.original is not None]
        if later:
            return f"{noun} before para.\u00a0{later[0]}"
        earlier = [p.original for p in self.paragraphs if p.n < n and p.original is not None]
        return f"{noun} after para.\u00a0{earlier[-1]}" if earlier else noun

    @property
    def numbers_original(self) -> bool:
        """Whether notes number this source's paragraphs as the original publication does."""
        return any(p.original is not None for p in self.paragraphs)


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
    caveat: Prose | None = Field(
        default=None,
        description="What a reader must know to read the number right ('elections in Kazakhstan are not considered "
        "free and fair'): shown wherever the figure is.",
    )

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
    """One sourced sentence (or two) of a paragraph."""

    text: Prose
    kind: Literal["fact", "assessment"] = Field(
        default="fact", description="`assessment` for a reading of facts (the source's or ours), not a fact itself."
    )
    caveat: bool = Field(
        default=False,
        description="This sentence qualifies the ones before it in its paragraph (a hedge, a 'but'): it is never "
        "shown without them, nor they without it. It cannot open a paragraph.",
    )
    judgment: Id | None = Field(
        default=None,
        description="The judgment (from `judgments`) this sentence states: every brief that shows the sentence "
        "shows whose judgment it is and its confidence.",
    )


LEANING_OPENERS = (
    "yet",
    "but",
    "however",
    "still",
    "even so",
    "despite this",
    "despite that",
    "this",
    "these",
    "that",
    "those",
    "they",
    "their",
    "he",
    "his",
    "she",
    "her",
    "it",
    "its",
    "such",
    "also",
    "then",
    "nor",
    "moreover",
    "similarly",
    "likewise",
    "instead",
    "so",
    "thus",
    "therefore",
)
"""Words that, opening a paragraph, lean on one before it: such a paragraph must say which (`leans_on`)."""


class Passage(Record):
    """A paragraph (or a bullet) of claims that an editor keeps or cuts as one: the unit a reader reads.

    Written either as ``claims:`` (a list of sentences, each citing its sources) or, for a paragraph of
    one sentence, with ``text`` and ``cites`` directly.
    """

    id: Id | None = Field(
        default=None, description="Needed only when another paragraph leans on this one (`leans_on`)."
    )
    claims: list[Claim] = Field(min_length=1, description="The sentences, in reading order, each with its sources.")
    priority: Priority = Field(
        default=3, description="1 = most important. Fitting a brief to its length drops whole paragraphs, least first."
    )
    leans_on: list[Id] = Field(
        default_factory=list,
        description="Ids of earlier paragraphs of the same list whose words this one needs ('Yet…', 'these "
        "concerns', a pronoun): it is never shown without them.",
    )
    stands_alone: bool = Field(
        default=False,
        description="Say so when a paragraph opens with a word like 'This' or 'Yet' but needs nothing before it.",
    )

    @model_validator(mode="before")
    @classmethod
    def _one_sentence_shorthand(cls, value: Any) -> Any:
        """Allow ``text`` + ``cites`` (+ ``kind``, ``caveat``) for a paragraph of one claim."""
        if isinstance(value, dict) and "claims" not in value and "text" in value:
            claim_keys = ("text", "cites", "kind", "judgment")
            claim = {k: value[k] for k in claim_keys if k in value}
            rest = {k: v for k, v in value.items() if k not in claim_keys}
            return {**rest, "claims": [claim]}
        return value

    @property
    def text(self) -> str:
        """The paragraph's sentences joined (plain for messages; templates show claim by claim)."""
        return " ".join(c.text for c in self.claims)

    @property
    def cites(self) -> list[str]:
        """Every source the paragraph cites, in order of first use."""
        return list(dict.fromkeys(cite for c in self.claims for cite in c.cites))


class Section(Record):
    """A titled part of the analysis, made of paragraphs of cited claims."""

    id: Id
    theme: Id | None = None
    title: Text
    source_heading: Text | None = Field(
        default=None, description="The heading the source gives this part, if different (kept for checking)."
    )
    paragraphs: list[Passage] = Field(min_length=1, description="The part's paragraphs, in reading order.")


Likelihood = Literal[
    "almost no chance",
    "very unlikely",
    "unlikely",
    "roughly even chance",
    "likely",
    "very likely",
    "almost certain",
]
"""ICD 203's estimative words, each for a fixed range (1–5 %, 5–20 %, 20–45 %, 45–55 %, 55–80 %, 80–95 %, 95–99 %)."""


JudgmentStatus = Literal["holds", "revised", "overtaken", "borne-out"]
"""What a judgment's last review found (see `Judgment.status`)."""


class Judgment(Cited):
    """An analytic judgment: whose it is, how likely (for a forecast) and how sure the evidence lets us be."""

    id: Id
    theme: Id | None = None
    text: Prose = Field(
        description="The judgment as a full sentence, a forecast worded as one ('is unlikely to…'), never as a "
        "certainty. Briefs add whose it is and its confidence; do not write them into the text."
    )
    likelihood: Likelihood | None = Field(
        default=None,
        description="For a forecast: the ICD 203 word its text uses, so every brief uses one scale. "
        "The text must contain it.",
    )
    confidence: Confidence = Field(
        description="How good the evidence is: `high` (several independent, reliable sources agree), `moderate` "
        "(credible but limited or single-source), `low` (fragmentary, dated, or one interested party)."
    )
    by: Literal["source", "analyst"] = Field(
        default="source",
        description="`source` when the main source makes the judgment (briefs attribute it: “FPRI judges…”); "
        "`analyst` when the office does (“we assess…”).",
    )
    basis: Prose = Field(description="The evidence it rests on, and why the confidence is what it is.")
    made: dt.date | None = Field(
        default=None,
        description="When the judgment was made: the main source's date for `by: source`, the office's date for "
        "`by: analyst`. Left out, it is the dataset's `info.as_of`. Briefs show it beside the judgment.",
    )
    horizon: PartialDate | None = Field(
        default=None,
        description="Forecasts only: the date by which it should have come true or not ('2023', '2022-12'). Once it "
        "has passed (by the brief's date) the forecast is never shown as live: it shows its status and date.",
    )
    reviewed: dt.date | None = Field(
        default=None,
        description="When the judgment was last checked against later facts. `check` warns about a judgment that an "
        "update dated after this (or after `made`, if never reviewed) is `about`.",
    )
    status: JudgmentStatus | None = Field(
        default=None,
        description="What the last review found: `holds`, `revised` (the text now says what we judge), `overtaken` "
        "(events made it moot or wrong), `borne-out` (it came true). Needs `reviewed`. Briefs show it with its date.",
    )
    status_note: Prose | None = Field(
        default=None, description="One sentence on the status: what overtook or bore it out, citing `status_cites`."
    )
    status_cites: list[Cite] = Field(
        default_factory=list,
        description="The sources of the status note (later reporting), kept apart from `cites`, which are the "
        "judgment's evidence when it was made.",
    )
    priority: Priority = 3

    @model_validator(mode="after")
    def _status_is_dated(self) -> Judgment:
        """A status is what a review found, so it needs the review's date; a horizon is a forecast's."""
        if self.status is not None and self.reviewed is None:
            raise ValueError("a `reviewed:` date with `status:` (a status is what a review found, on a date)")
        if self.status_note is not None and self.status is None:
            raise ValueError("a `status:` with `status_note:`")
        if self.status_note is not None and not self.status_cites:
            raise ValueError("`status_cites:` with `status_note:` (the later reporting the status rests on)")
        if self.reviewed is not None and self.made is not None and self.reviewed < self.made:
            raise ValueError(f"`reviewed:` ({self.reviewed}) on or after `made:` ({self.made})")
        if self.horizon is not None and self.likelihood is None:
            raise ValueError("`horizon:` only on a forecast (one with `likelihood:`)")
        return self

    @model_validator(mode="after")
    def _likelihood_in_text(self) -> Judgment:
        """A forecast's likelihood word appears in its text, so the words and the scale agree."""
        if self.likelihood is not None and self.likelihood not in self.text.lower():
            raise ValueError(f"a text that uses its likelihood word {self.likelihood!r} (ICD 203)")
        return self


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


class Option(Cited):
    """A step Congress could take (CRS's "Issues for Congress"): one of its own levers, with pros and cons.

    Not a recommendation: a neutral brief sets out what Congress may consider and the arguments on each side,
    and takes no position. The office's `recommendations` are its own and never reworded as options.
    """

    id: Id
    lever: Literal["oversight", "reporting", "appropriations", "legislation", "confirmation"] = Field(
        description="Which of Congress's levers: `oversight` (hearings), `reporting` (a reporting requirement), "
        "`appropriations`, `legislation` or `confirmation`."
    )
    text: Prose = Field(description="The option, as what Congress may do: 'Hold hearings on…'.")
    pros: Prose = Field(description="What supporters might argue for it, attributed or in neutral words.")
    cons: Prose = Field(description="What opponents might argue against it, attributed or in neutral words.")
    priority: Priority = 3


class Indicator(Cited):
    """A sign to watch that would show a direction of travel."""

    id: Id
    text: Prose
    signals: Id = Field(description="Which way seeing it would point: the id of one of the dataset's `info.signals`.")
    status: Literal["not-observed", "watching", "observed", "mixed"] = Field(description="What has been seen so far.")
    last_checked: dt.date = Field(description="When the status was last checked.")
    note: Prose | None = None
    priority: Priority = 3


class Update(Cited):
    """A fact learned after the dataset's as-of date: shown dated, never as the source's claim."""

    id: Id
    date: PartialDate = Field(description="When it happened, as precise as known; not before `info.as_of`.")
    text: Prose
    about: list[RecordRef] = Field(
        default_factory=list,
        description="Records this update revises or bears on (figures, events, judgments, indicators, and "
        "paragraphs with an `id`): `id`, or `kind:id` (`figures:death-toll-232`, `paragraphs:csto-troops`) when "
        "records of two kinds share the id. Every brief that shows one of them shows this update beside it, and "
        "fitting keeps or drops the two together. Leave the key out rather than writing an empty list.",
    )
    revision: Text | None = Field(
        default=None,
        description="How the update reads beside a record it revises, in a few words ('since revised to 238'); "
        "without it the whole `text` is shown there.",
    )
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


class Signal(Record):
    """One direction an indicator can point: `toward-moscow` reads 'Toward Moscow'."""

    id: Id
    label: Text = Field(description="As a reader sees it in the indicators table: 'Toward Moscow'.")


class DatasetInfo(Record):
    """What the dataset is about and as of when."""

    title: Text = Field(description="The brief's title.")
    subtitle: Text | None = Field(default=None, description="A line under the title.")
    subject: Text = Field(description="One line for memo SUBJECT lines and PDF metadata.")
    as_of: dt.date = Field(description="The date the facts are current to (the main source's date).")
    as_of_note: Text | None = Field(default=None, description="How the as-of date was established.")
    keywords: list[Text] = Field(default_factory=list)
    language: Text = "en"
    house_style: Literal["us", "gb"] = Field(
        default="us",
        description="The office's house style: `us` (American spelling, 'January 6, 2022', periods and commas "
        "inside closing quotes) or `gb`. `check` finds British spellings and day-month dates in US-style prose.",
    )
    house_spellings: list[Text] = Field(
        default_factory=list,
        description="Words the house spells its own way, which `check` accepts in US-style prose although the "
        "word lists respell them: `[catalogue]`.",
    )
    summary: Prose = Field(description="A paragraph: the situation and why it matters.")
    bluf: Prose = Field(description="Bottom line up front: at most four lines.")
    office: Text | None = Field(
        default=None,
        description="The office the briefs come from, as a memo's FROM line gives it: "
        "'SCA – Office of Central Asian Affairs (SCA/CEN)'. Audiences may override it.",
    )
    office_short: Text | None = Field(
        default=None, description="The office's short name, for 'Drafted:' lines and document metadata: 'SCA/CEN'."
    )
    authors: list[Text] = Field(
        default_factory=list,
        description="Who wrote the briefs, for a policy brief's byline and its metadata: real names only; leave "
        "empty for none.",
    )
    about_authors: Prose | None = Field(
        default=None,
        description="A sentence or two on the authors, for a `voice: authors` brief's 'About the authors'.",
    )
    desk: Text | None = Field(
        default=None, description="Who the full analytic memo is prepared for: 'the Central Asia desk'."
    )
    signals: list[Signal] = Field(
        default_factory=list,
        description="The directions an indicator can point (the poles this situation moves between).",
    )
    main_source: Id | None = Field(
        default=None,
        description="The source the briefs are built on (its `short_name` is how they attribute its judgments). "
        "Defaults to the first source.",
    )
    key_points: list[Passage] = Field(default_factory=list, description="The few things a reader must know: bullets.")
    implications: list[Passage] = Field(
        default_factory=list, description="What it means for the reader's policy, and what to expect: bullets."
    )
    audiences: list[Id] = Field(
        default_factory=list,
        description="Build this dataset only for these audiences (their ids); empty: every audience. An audience "
        "can say the same from its side with `datasets:`.",
    )


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
    "options",
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
    options: list[Option] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    updates: list[Update] = Field(default_factory=list)
    corrections: list[Correction] = Field(default_factory=list)


SECTION_RECORDS: dict[str, str] = {
    "bluf": "bluf",
    "summary": "summary",
    "key_points": "key_points",
    "implications": "implications",
    "timeline": "events",
    "key_figures": "figures",
    "figures": "figures",
    "judgments": "judgments",
    "recommendations": "recommendations",
    "options": "options",
    "indicators": "indicators",
    "updates": "updates",
    "analysis": "sections",
    "quotes": "quotes",
    "actors": "actors",
    "corrections": "corrections",
}
"""The records each section kind shows (a section kind to a record list, or an `info` field)."""


# --- Audiences: what one kind of reader gets -------------------------------------------------------

SectionKind = Literal[
    "bluf",
    "summary",
    "key_points",
    "key_figures",
    "recommendations",
    "options",
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

    id: SectionKind = Field(description="The section's kind, which says what it shows (see Section kinds below).")
    title: Text | None = Field(default=None, description="Heading; each kind has a default.")
    max: int | None = Field(default=None, ge=1, description="At most this many items, most important first.")
    max_priority: Priority | None = Field(default=None, description="Only items with priority ≤ this (1 = top).")
    origin: list[Literal["stated", "derived"]] | None = Field(
        default=None, description="Recommendations only: which origins to show."
    )
    max_paragraph_priority: Priority | None = Field(
        default=None, description="Analysis only: within each part, only paragraphs with priority ≤ this."
    )
    trim: bool = Field(default=True, description="May the overflow policy drop items of this section?")
    annex: bool = Field(
        default=False,
        description="Reference material after the body: lettered ('Annex A: Timeline'), the first on a new page.",
    )
    reviews: Literal["under", "updates"] = Field(
        default="under",
        description="Judgments only: where each judgment's last review (`status_note`) is shown: `under` the "
        "judgment, with its basis, or in the `updates` section, under 'Key judgments reviewed', so that the key "
        "judgments and their bases fit on page 1. The judgment's label says what the review found either way.",
    )


class MemoHeader(Record):
    """The TO/FROM block of a government memo."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    to: Text = Field(description="Whom the memo is for: 'The Secretary'.")
    from_: Text | None = Field(
        default=None,
        alias="from",
        description="Default: the dataset's `info.office` (the office that knows the situation).",
    )
    through: Text | None = Field(
        default=None, description="Who the memo goes through on its way: 'P – Under Secretary'."
    )
    office: Text | None = Field(
        default=None, description="The office the memo is from, in its metadata and the DOCX's author: 'SCA/CEN'."
    )
    prepared_by: Text | None = Field(default=None, description="Who drafted it, on the memo's Drafted line.")
    cleared_by: Text | None = Field(default=None, description="Who cleared it, on the memo's Cleared line.")


class Limits(Record):
    """Length limits: a brief over one fails, in every format, unless `overflow: trim`."""

    pages: int | None = Field(
        default=None, ge=1, description="Most pages of the PDF (and of the DOCX as LibreOffice lays it out)."
    )
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


# An address as `to:` and `cc:` take it: a plain addr-spec, ASCII, with a dotted domain (issue 16).
_ADDRESS = re.compile(
    r"(?!\.)(?!.*\.\.)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}(?<!\.)"
    r"@(?=.{1,253}\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
SUBJECT_FIELDS = ("title", "subject", "audience", "dataset", "edition", "date")
"""The placeholders a distribution's `subject:` may use."""


def is_address(value: str) -> bool:
    """A plain e-mail address as `distribution:` and --smtp-from accept it."""
    return bool(_ADDRESS.fullmatch(value))  # fullmatch: `$` would let a final newline through


def _check_address(value: str) -> str:
    if not is_address(value):
        raise ValueError("an e-mail address such as desk-officer@example.org")
    return value


def _check_subject(value: str) -> str:
    if any(ch in value for ch in "\r\n\0"):
        raise ValueError("one line of text (no line breaks)")
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise ValueError(f"a subject line with {{placeholders}} ({exc}; write {{{{ for a brace)") from None
    allowed = ", ".join("{" + f + "}" for f in SUBJECT_FIELDS)
    for name, spec, conv in fields:
        if name not in SUBJECT_FIELDS or spec or conv:
            raise ValueError(f"placeholders among {allowed}, found {{{name}}}")
    return value


Address = Annotated[str, AfterValidator(_check_address)]
SubjectTemplate = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_check_subject)]


class Distribution(Record):
    """Who receives each new edition of this audience's briefs by mail (`python build.py send`)."""

    to: list[Address] = Field(min_length=1, description="Recipients: plain addresses, one message each.")
    cc: list[Address] = Field(default_factory=list, description="Copied on every message; each receives one too.")
    attach: list[Literal["pdf", "md", "docx", "html"]] = Field(
        default_factory=list, description="The brief's own outputs to attach; each must be among `formats`."
    )
    send: Literal["every-edition", "when-changed"] = Field(
        default="every-edition",
        description="`every-edition`, or `when-changed`: to each recipient only when the records changed since "
        "the edition they last received.",
    )
    subject: SubjectTemplate = Field(
        default="{title} — {audience}, edition {edition} of {date}",
        description="Subject line; placeholders {title} {subject} {audience} {dataset} {edition} {date}.",
    )

    @model_validator(mode="after")
    def _each_address_once(self) -> Distribution:
        """An address listed twice would receive the brief twice."""
        seen: set[str] = set()
        for address in [*self.to, *self.cc]:
            if address.lower() in seen:
                raise ValueError(f"{address} is listed twice in to/cc")
            seen.add(address.lower())
        return self


class Audience(Record):
    """One audience file, `templates/audiences/<id>.yaml`."""

    id: Id
    title: Text = Field(description="What the brief is called: 'Information Memo', 'Policy Brief'.")
    description: Text | None = Field(default=None, description="One line for people choosing an audience.")
    template: Id | None = Field(default=None, description="Template stem; defaults to the audience id, then `base`.")
    formats: list[Literal["pdf", "md", "html", "docx"]] = Field(
        default=["pdf", "md"], description="Formats built by default."
    )
    marking: Text | None = Field(default=None, description="Classification banner, e.g. UNCLASSIFIED; none for public.")
    portion_mark: Text | None = Field(default=None, description="Prefix for paragraphs in government formats: (U).")
    memo: MemoHeader | None = Field(
        default=None,
        description="The TO / FROM block of a government memo, printed under the marking by every layout.",
    )
    memo_type: Literal["information", "action"] | None = Field(
        default=None,
        description="`information` (INFORMATION MEMO) or `action` (ACTION MEMO: recommendations with Approve / "
        "Disapprove lines, and a `decide_by` date).",
    )
    decide_by: dt.date | None = Field(default=None, description="Action memos: decision wanted by.")
    paper: Literal["letter", "a4"] = Field(default="letter", description="The page size of the PDF and the DOCX.")
    font: Literal["serif", "sans"] = Field(
        default="serif", description="The typeface of body and headings: Liberation Serif or Liberation Sans."
    )
    voice: Literal["office", "neutral", "authors"] = Field(
        default="office",
        description="`office`: the office speaks ('we assess…', its recommendations). `neutral` (CRS): the brief "
        "attributes every judgment and takes no position: the office's own judgments and confidence tags are left "
        "out, a `recommendations` section is refused (use `options`), and `check` refuses first-person prose. "
        "`authors` (a think-tank brief for the public): its authors (`info.authors`) speak, not a government "
        "office: none of the office's own judgments (`by: analyst`), no confidence jargon (only a judgment's "
        "status when it is not as made), recommendations "
        "labelled as the authors' (or as drawn from the source, with no authors), and the line that the views "
        "are the authors' own.",
    )
    limits: Limits = Field(default_factory=Limits, description="How long the brief may be: `pages`, `words`.")
    abridged_note: Text | None = Field(
        default=None,
        description="Where the reader of a brief that fitting shortened finds the whole: 'the Analytic Memo of the "
        "same date has the full analysis'. The brief says it was abridged in any case.",
    )
    overflow: Literal["fail", "trim"] = Field(
        default="fail",
        description="Over a limit: `fail` the brief (every format of it, none written), or `trim` lowest-priority "
        "items until it fits.",
    )
    visuals: Visuals = Field(
        default_factory=Visuals, description="Pictures drawn from the data: `timeline`, `key_figures`."
    )
    cite_main_source: Literal["in_notes", "once"] = Field(
        default="in_notes",
        description="`once` for a short memo: the main source (`info.main_source`) is cited once, in a source "
        "line heading the notes, and the notes cite only what comes from elsewhere; a point the main source "
        "alone supports carries no note. `in_notes`: every citation of it is a note, with its paragraph.",
    )
    word_notes: Literal["footnotes", "endnotes"] = Field(
        default="footnotes",
        description="Where the Word brief sets its notes: `footnotes` at the foot of each page, or `endnotes` "
        "after the last annex, as the PDF does, so a long memo's first citations in full do not fill the foot of "
        "page 1. Word sets endnotes after the text under its header and footer; LibreOffice 7.4 sets them on "
        "pages of their own with no header or footer, so a marked memo's notes pages lose the marking there.",
    )
    front_matter: bool = Field(
        default=True,
        description="Start the Markdown brief with YAML front matter (for a static-site pipeline); `false` for "
        "briefs pasted into mail, wikis and issues, where it shows as a block of text.",
    )
    sections: list[SectionSpec] = Field(
        min_length=1, description="The sections the brief shows, in order: a kind, or a mapping with its settings."
    )
    distribution: Distribution | None = Field(default=None, description="Who is mailed each new edition.")
    datasets: list[Id] = Field(
        default_factory=list,
        description="Build this audience only for these datasets (their folder names): an office's own audience "
        "in a `--templates` folder that is not for every dataset. Empty: every dataset.",
    )

    @model_validator(mode="after")
    def _information_memo_asks_nothing(self) -> Audience:
        """An information memo asks for no decision, so it carries no recommendations (an action memo does)."""
        if self.memo_type == "information" and any(s.id == "recommendations" for s in self.sections):
            raise ValueError(
                "no `recommendations` section in an information memo (it asks for no decision); "
                "use `memo_type: action` with `decide_by:` for a memo that recommends"
            )
        return self

    @model_validator(mode="after")
    def _neutral_voice_takes_no_position(self) -> Audience:
        """A neutral (CRS-style) brief sets out options with their pros and cons; it recommends nothing."""
        if self.voice == "neutral" and any(s.id == "recommendations" for s in self.sections):
            raise ValueError(
                "no `recommendations` section in a brief with `voice: neutral` (it takes no position); "
                "use an `options` section: what Congress may consider, with the arguments for and against"
            )
        return self

    @model_validator(mode="after")
    def _reviews_have_a_place(self) -> Audience:
        """`reviews: updates` moves the judgments' reviews to a later updates section, which must be there."""
        kinds = [s.id for s in self.sections]
        for k, spec in enumerate(self.sections):
            if spec.reviews == "updates" and (spec.id != "judgments" or "updates" not in kinds[k + 1 :]):
                raise ValueError(
                    "`reviews: updates` is for a `judgments` section followed by an `updates` section, "
                    f"found it on `{spec.id}`" + ("" if spec.id != "judgments" else " with no `updates` after it")
                )
        return self

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

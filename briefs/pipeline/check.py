"""`check`'s last step: render every planned target's templates (not the PDF layout) and scan what a
PDF would fetch, so template mistakes surface with exit 2 before any build writes a file.
"""

from __future__ import annotations

from typing import Any

from briefs.compose.fit import context_for, template_path
from briefs.compose.select import Brief, select
from briefs.data.yamlfile import read_yaml
from briefs.errors import InputError, Problem, display_path
from briefs.formats.render import make_env, render, template_name
from briefs.pipeline.build import Plan
from briefs.pipeline.limits import time_limit


class _Watched(list[Any]):
    """A section's items that remember whether a template went through them (iterated or indexed)."""

    seen = False

    def __iter__(self) -> Any:
        self.seen = True
        return super().__iter__()

    def __getitem__(self, index: Any) -> Any:
        self.seen = True
        return super().__getitem__(index)


SHOWN_FROM_INFO = frozenset({"bluf", "summary"})
"""Kinds a template may show from the dataset's `info` rather than from the section's items."""


def unshown_sections(brief: Brief, render_it: Any, template: str) -> tuple[str, list[Problem]]:
    """Render ``brief`` with ``render_it`` and name each section it asked for that the template never showed.

    A template that overrides `body` and skips a kind (congress showing its options only inside another
    section's box) would drop the section and leave its notes in Sources, cited by nothing (issue 24).
    """
    who = f"{brief.dataset.id}/{brief.audience.id}"

    def problem(message: str) -> Problem:
        return Problem(template, None, None, "", f"{who}: {message}")

    # What each section hands a template, and what is lost if the template never goes through it. A section
    # with no items has nothing to lose (Sources holding only a source line, `cite_main_source: once`).
    watched = [
        (
            s,
            "items",
            s.items,
            f"the template shows nothing of section {s.kind!r} (“{s.title}”), which the audience asks for and "
            "the data fills; show it, or take it out of the audience's `sections:`",
        )
        for s in brief.sections
        if s.kind not in SHOWN_FROM_INFO and s.items
    ]
    # Judgments' reviews moved into the updates section (`reviews: updates`) are shown nowhere else.
    watched += [
        (
            s,
            "reviews",
            s.reviews,
            f"the template shows none of the key judgments' reviews that `reviews: updates` moves into section "
            f"{s.kind!r} (“{s.title}”) (`section.reviews`); show them, or set the judgments section's "
            "`reviews: under`",
        )
        for s in brief.sections
        if s.reviews
    ]
    for section, name, held, _ in watched:
        setattr(section, name, _Watched(held))
    try:
        text = render_it()
        problems = [problem(lost) for s, name, _, lost in watched if not getattr(s, name).seen]
        line = brief.source_line
        if line is not None and line.html not in text and line.markdown not in text:
            # `cite_main_source: once`: no note cites the main source, so a template that leaves the source
            # line out leaves the brief's main source uncited.
            problems.append(
                problem(
                    "the template does not show the source line (`brief.source_line`, `m.source_line()`), and "
                    "the audience cites its main source only there (`cite_main_source: once`); show it where "
                    "the notes begin, or set `in_notes`"
                )
            )
    finally:
        for section, name, held, _ in watched:
            setattr(section, name, held)
    return text, problems


def empty_sections(plan: Plan) -> list[Problem]:
    """Sections an audience asks for that show nothing of a dataset, and why: said by `check`, not an error."""
    found: list[Problem] = []
    for (dataset_id, audience_id), brief in _briefs(plan).items():
        loaded = plan.audiences[audience_id]
        doc, _ = read_yaml(loaded.path)
        for place, spec, title in brief.empty:
            why = _why_empty(spec, _has_any(plan, dataset_id, loaded.audience, place))
            message = f"{dataset_id}: section {spec.id!r} (“{title}”) shows nothing: {why}"
            if doc is not None:
                found.append(doc.problem(("sections", place), message))
            else:
                found.append(Problem(display_path(loaded.path), None, None, f"sections[{place}]", message))
    return found


def _has_any(plan: Plan, dataset_id: str, audience: Any, place: int) -> bool:
    """Whether the section at ``place`` would show anything without its own filters."""
    sections = list(audience.sections)
    spec = sections[place]
    sections[place] = spec.model_copy(update={"max_priority": None, "max_paragraph_priority": None, "origin": None})
    relaxed = audience.model_copy(update={"sections": sections})
    brief = select(plan.datasets[dataset_id].dataset, relaxed)
    return not any(p == place for p, _, _ in brief.empty)


def _why_empty(spec: Any, filtered: bool) -> str:
    if not filtered:
        return f"the data has no records this section shows ({spec.id})"
    limits = []
    if spec.max_priority is not None:
        limits.append(f"priority ≤ {spec.max_priority} (max_priority)")
    if spec.max_paragraph_priority is not None:
        limits.append(f"paragraphs of priority ≤ {spec.max_paragraph_priority} (max_paragraph_priority)")
    if spec.origin is not None:
        limits.append(f"origin {' or '.join(spec.origin)} (origin)")
    if spec.id == "recommendations":
        limits.append("this audience (or none limited by `audiences:`)")
    if limits:
        return "the data has none for " + ", ".join(limits)
    return f"the data has no records this section shows ({spec.id})"


def _briefs(plan: Plan) -> dict[tuple[str, str], Brief]:
    out: dict[tuple[str, str], Brief] = {}
    for p in plan.targets:
        key = (p.target.dataset, p.target.audience)
        if key not in out:
            out[key] = select(plan.datasets[key[0]].dataset, plan.audiences[key[1]].audience)
    return out


def check_templates(plan: Plan) -> None:
    """Render every planned target's templates (not the PDF layout), so template mistakes surface in `check`.

    A block its layout does not define is refused earlier, by `make_plan` (`dropped_blocks`), for build and
    check alike.
    """
    from briefs.formats.references import RenderedChecker, css_file_problems, svg_file_problems

    problems: list[Problem] = []
    dirs = plan.options.dirs
    envs = {fmt: make_env(dirs, fmt) for fmt in ("html", "md")}
    seen: set[tuple[str, str, str]] = set()
    # What a PDF would fetch is refused here as the PDF step's fetcher would, naming its file (issue 19).
    pdf_briefs = {(p.target.dataset, p.target.audience) for p in plan.targets if p.target.fmt == "pdf"}
    fetches = RenderedChecker(dirs)
    for p in plan.targets:
        kind = "md" if p.target.fmt in ("md", "docx") else "html"
        key = (p.target.dataset, p.target.audience, kind)
        if key in seen:
            continue
        seen.add(key)
        audience = plan.audiences[p.target.audience].audience
        brief = select(plan.datasets[p.target.dataset].dataset, audience)
        name = template_name(dirs, audience.template or audience.id, kind)
        try:
            with time_limit(plan.options.time_limit, f"{p.target.dataset}/{p.target.audience} ({kind} template)"):
                text, unshown = unshown_sections(
                    brief,
                    lambda: render(envs[kind], name, dirs, context_for(brief, kind)),  # noqa: B023 (called here)
                    template_path(dirs, name),
                )
        except InputError as exc:
            problems += exc.problems
            continue
        problems += unshown
        if kind == "html" and key[:2] in pdf_briefs:
            problems += fetches.problems(text, template_path(dirs, name))
    if pdf_briefs:
        problems += css_file_problems(dirs) + svg_file_problems(dirs)
    if problems:
        raise InputError(sorted(set(problems), key=str))

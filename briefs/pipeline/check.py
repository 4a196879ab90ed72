"""`check`'s last step: render every planned target's templates (not the PDF layout) and scan what a
PDF would fetch, so template mistakes surface with exit 2 before any build writes a file.
"""

from __future__ import annotations

from briefs.compose.fit import context_for, template_path
from briefs.compose.select import select
from briefs.errors import InputError, Problem
from briefs.formats.render import make_env, render, template_name
from briefs.pipeline.build import Plan
from briefs.pipeline.limits import time_limit


def check_templates(plan: Plan) -> None:
    """Render every planned target's templates (not the PDF layout), so template mistakes surface in `check`."""
    from briefs.formats.references import RenderedChecker, css_file_problems

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
                text = render(envs[kind], name, dirs, context_for(brief, kind))
        except InputError as exc:
            problems += exc.problems
            continue
        if kind == "html" and key[:2] in pdf_briefs:
            problems += fetches.problems(text, template_path(dirs, name))
    if pdf_briefs:
        problems += css_file_problems(dirs)
    if problems:
        raise InputError(sorted(set(problems), key=str))

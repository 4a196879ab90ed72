"""Stage breakdown of one brief, in one process: what each step of a build costs.

The first pass is cold (imports, caches, first font load); the others are warm, as in a long-running
watch process or a pool worker after its first brief.
Usage: python -m bench.stages [--dataset ID] [--audience ID] [--runs N]   (prints JSON)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


class Clock:
    """Seconds spent in named stages, summed per pass."""

    def __init__(self) -> None:
        self.passes: list[dict[str, float]] = []

    def start_pass(self) -> None:
        self.passes.append({})

    def add(self, stage: str, seconds: float) -> None:
        self.passes[-1][stage] = self.passes[-1].get(stage, 0.0) + seconds

    def timed(self, stage: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            self.add(stage, time.perf_counter() - t0)


def main() -> None:
    """Time each stage of one brief, cold then warm; print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "data")
    parser.add_argument("--dataset", default="kazakhstan-2022")
    parser.add_argument("--audience", default="desk")
    parser.add_argument("--runs", type=int, default=5, help="passes in all, the first one cold")
    args = parser.parse_args()

    clock = Clock()
    clock.start_pass()
    t0 = time.perf_counter()
    import briefs.compose.fit as build_module
    from briefs.compose.fit import context_for
    from briefs.compose.select import select
    from briefs.data.audiences import TemplateDirs, load_audiences
    from briefs.data.load import load_datasets
    from briefs.formats import pdf as pdf_module
    from briefs.formats.render import make_env, render, template_name

    clock.add("import briefs", time.perf_counter() - t0)
    dirs = TemplateDirs(REPO / "templates", None)

    for n in range(args.runs):
        if n:
            clock.start_pass()
        loaded = clock.timed("load and validate data", lambda: load_datasets(args.data, [args.dataset]))[0]
        audience = clock.timed("load and validate audience", lambda: load_audiences(dirs, (args.audience,)))
        audience = audience[args.audience].audience
        brief = clock.timed("select", lambda: select(loaded.dataset, audience))  # noqa: B023
        html_env, md_env = make_env(dirs, "html"), make_env(dirs, "md")
        # The prose filter (inline Markdown -> sanitised HTML via markdown + nh3) is timed on its own.
        for env in (html_env, md_env):
            inner = env.filters["prose"]

            def prose(text: str, inner: Callable[[str], Any] = inner) -> Any:
                t = time.perf_counter()
                try:
                    return inner(text)
                finally:
                    clock.add("  of which prose filter (markdown + nh3)", time.perf_counter() - t)

            env.filters["prose"] = prose
        stem = audience.template or audience.id
        html = clock.timed(
            "Jinja: HTML brief",
            lambda: render(html_env, template_name(dirs, stem, "html"), dirs, context_for(brief, "html")),  # noqa: B023
        )
        clock.timed(
            "Jinja: Markdown brief",
            lambda: render(md_env, template_name(dirs, stem, "md"), dirs, context_for(brief, "md")),  # noqa: B023
        )
        if "weasyprint" not in sys.modules:
            clock.timed("import WeasyPrint", lambda: __import__("weasyprint"))
        fonts = clock.timed("font configuration", pdf_module._font_configuration)
        import weasyprint

        fetcher = pdf_module.make_fetcher(tuple(dirs.searched), [])
        base = dirs.shipped.resolve().as_uri() + "/"
        document = clock.timed(
            "WeasyPrint layout",
            lambda: weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher).render(  # noqa: B023
                font_config=fonts,  # noqa: B023
                pdf_tags=True,
            ),
        )
        clock.timed("PDF write", lambda: document.write_pdf(font_config=fonts, pdf_tags=True))  # noqa: B023
        pages = len(document.pages)

        # The whole brief as the build renders it: every format, and every layout pass of a page-limit trim.
        layouts = 0
        real_render_pdf = pdf_module.render_pdf

        def counting(*a: Any, **k: Any) -> Any:
            nonlocal layouts
            layouts += 1
            return real_render_pdf(*a, **k)  # noqa: B023

        pdf_module.render_pdf = counting
        try:
            clock.timed(
                "render_group (the build's whole brief)",
                lambda: build_module.render_group(loaded, audience, dirs, ["pdf", "md"], None),  # noqa: B023
            )
        finally:
            pdf_module.render_pdf = real_render_pdf

    stages = list(dict.fromkeys(k for p in clock.passes for k in p))
    warm = clock.passes[1:] or clock.passes
    out = {
        "dataset": args.dataset,
        "audience": args.audience,
        "pages": pages,
        "layout_passes": layouts,
        "cold": {s: clock.passes[0].get(s, 0.0) for s in stages},
        "warm_median": {s: statistics.median(p.get(s, 0.0) for p in warm) for s in stages},
        "warm_min": {s: min(p.get(s, 0.0) for p in warm) for s in stages},
        "warm_max": {s: max(p.get(s, 0.0) for p in warm) for s in stages},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

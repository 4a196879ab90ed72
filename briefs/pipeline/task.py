"""One (dataset, audience) group as a task any executor can run: rendered under the per-brief time limit,
its failure returned as a value rather than raised (a pool worker or a Dask worker hands back values).
"""

from __future__ import annotations

import logging
import time

from briefs.compose.changes import Changes
from briefs.compose.fit import Rendered, render_group
from briefs.data.audiences import TemplateDirs
from briefs.data.load import LoadedDataset
from briefs.data.model import Audience
from briefs.errors import BuildError, InputError, Problem
from briefs.pipeline.limits import time_limit

log = logging.getLogger(__name__)


GroupCall = tuple[
    LoadedDataset, Audience, TemplateDirs, list[str], str | None, Changes | None, float | None, tuple[str, ...] | None
]
"""The arguments of `render_isolated` for one (dataset, audience) group: plain, picklable values."""


GroupOutcome = Rendered | BuildError | list[Problem]
"""A group's outputs, its failure, or its input problems (which stop the whole build: exit 2)."""


def render_isolated(
    loaded: LoadedDataset,
    audience: Audience,
    dirs: TemplateDirs,
    formats: list[str],
    variant: str | None,
    changes: Changes | None,
    seconds: float | None,
    known_cut: tuple[str, ...] | None = None,
) -> GroupOutcome:
    """`render_group` under the time limit, its failure returned rather than raised (in a worker or not).

    A crash in one brief must not cost the others (issue 7), and a pool worker hands back values, not
    exceptions, so the building process sorts outcomes the same way whether it rendered them or not.
    """
    what = f"{loaded.dataset.id}/{audience.id}"
    try:
        with time_limit(seconds, what):
            started = time.perf_counter()
            done = render_group(loaded, audience, dirs, formats, variant, changes, known_cut)
            done.seconds = time.perf_counter() - started
            return done
    except InputError as exc:
        return list(exc.problems)
    except BuildError as exc:
        return BuildError(str(exc))
    except Exception as exc:
        log.debug("%s failed", what, exc_info=True)
        return BuildError(f"{type(exc).__name__}: {exc}")

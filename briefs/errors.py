"""The exception hierarchy: input errors (exit 2) versus build errors (exit 1)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input, located as precisely as known."""

    file: str
    line: int | None
    column: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        key = f" {self.key}:" if self.key else ""
        if not where:  # a usage error has no file: "usage: …", not ": usage: …"
            return f"{self.key}: {self.message}" if self.key else self.message
        return f"{where}:{key} {self.message}"


def display_path(path: Path | str) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    return _display_path(str(path), str(Path.cwd()))


@functools.lru_cache(maxsize=8192)
def _display_path(path: str, cwd: str) -> str:
    # Cached: resolving follows every symlink with a system call per part, and a build names each
    # template once per target (a tenth of planning 100 briefs, issue 8).
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path(cwd).resolve()))
    except ValueError:
        return str(p)


class BriefsError(Exception):
    """Base of every error the tool reports without a traceback."""

    exit_code = 1


class InputError(BriefsError):
    """Bad input — data, template, audience file or usage. Exit 2, nothing written.

    The one exception is a watcher (`Options.stream`): a template problem found while rendering one
    brief does not hold back the briefs already rendered without one; ``written`` counts them.
    """

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str, written: int = 0) -> None:
        self.written = written  # targets a watcher wrote before the problem surfaced (0 elsewhere)
        if isinstance(problems, str):
            problems = [Problem("", None, None, "", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class BuildError(BriefsError):
    """A target that failed for a reason other than its input (exit 1)."""

    exit_code = 1

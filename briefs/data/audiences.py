"""Audiences: where their files are found, loading them all with every problem at once, and the checks
that belong to an audience file itself (its distribution list attaches only formats it builds).

`TemplateDirs` is the search path shared by audience files and templates: a user's `--templates`
folder first, the shipped `templates/` last; a user's audience file replaces a shipped one of the
same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from briefs.data.load import LoadedAudience, load_audience
from briefs.data.yamlfile import read_yaml
from briefs.errors import InputError, Problem, display_path


@dataclass(frozen=True)
class TemplateDirs:
    """The ordered template search path: user folder (optional) first, shipped folder last."""

    shipped: Path
    user: Path | None = None

    @property
    def searched(self) -> list[Path]:
        return [p for p in (self.user, self.shipped) if p is not None]


def discover_audiences(dirs: TemplateDirs) -> dict[str, Path]:
    """Audience files by id; a user folder's file replaces a shipped one of the same name."""
    found: dict[str, Path] = {}
    for root in reversed(dirs.searched):  # shipped first, user folder overrides
        folder = root / "audiences"
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                found[path.stem] = path
    return dict(sorted(found.items()))


def load_audiences(dirs: TemplateDirs, only: tuple[str, ...]) -> dict[str, LoadedAudience]:
    """Load and validate every audience file (or those in ``only``); all problems at once."""
    if dirs.user is not None and not dirs.user.is_dir():
        raise InputError(f"{display_path(dirs.user)}: templates folder not found (--templates)")
    files = discover_audiences(dirs)
    problems: list[Problem] = []
    for wanted in only:
        if wanted not in files:
            choices = ", ".join(files) or "none"
            problems.append(Problem("--audience", None, None, "", f"unknown audience {wanted!r}; found: {choices}"))
    loaded: dict[str, LoadedAudience] = {}
    for audience_id, path in files.items():
        if only and audience_id not in only:
            continue
        result, found = load_audience(path)
        problems += found
        if result is not None:
            loaded[audience_id] = result
    if not files:
        searched = ", ".join(display_path(d / "audiences") for d in dirs.searched)
        problems.append(Problem(searched, None, None, "", "no audience files found"))
    if problems:
        raise InputError(problems)
    return loaded


def distribution_problems(audiences: dict[str, LoadedAudience]) -> list[Problem]:
    """A format to attach must be one the audience builds (checked with the audience files, exit 2)."""

    problems: list[Problem] = []
    for loaded in audiences.values():
        dist = loaded.audience.distribution
        if dist is None:
            continue
        built = loaded.audience.formats
        for i, fmt in enumerate(dist.attach):
            if fmt not in built:
                message = f"expected one of the audience's formats ({', '.join(built)}), found {fmt!r}"
                doc, _ = read_yaml(loaded.path)
                if doc is not None:
                    problems.append(doc.problem(("distribution", "attach", i), message))
                else:
                    where = display_path(loaded.path)
                    problems.append(Problem(where, None, None, f"distribution.attach[{i}]", message))
    return problems

"""The last cut this machine found for each brief, kept in the user's cache folder: where fitting starts in an
output folder that has none of its own (issue 27).

A trimmed brief's cut is remembered in its output folder with the inputs it was found for. A build into
another folder (a fresh clone, ``--out`` somewhere new, a CI workspace on a kept runner) has no such record,
and its fitting would search from a first layout of the whole brief. This keeps the drops of the last cut
found for the same dataset and audience, whatever folder it was built in, and the build passes them to
fitting as it passes the cut of the brief before an edit: only a place to start. Fitting takes the part
that is still the start of the priority order and confirms it (the cut fits; one drop fewer does not), so
the brief is the one a search from scratch makes, byte for byte, in about two layouts of about its final
length. A wrong or stale entry costs layouts, never a different brief.

Files are ``cuts/<sha256 of dataset/audience>.json``, bounded like the cache's other folders; any of them may
be deleted at any time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from briefs.files import cache_dir, keep, read_record

KEPT = 256
"""Briefs whose last cut is kept (the newest written): ~1 KB each."""
ENABLED = True
"""False: a folder with no cut of its own searches from scratch (tests that measure the search set it)."""


def _path(dataset: str, audience: str) -> Path | None:
    folder = cache_dir()
    if folder is None or not ENABLED:
        return None
    name = hashlib.sha256(f"{dataset}/{audience}".encode()).hexdigest()[:32]
    return folder / "cuts" / f"{name}.json"


def seen_cut(dataset: str, audience: str) -> list[str] | None:
    """The drops of the last cut found on this machine for ``dataset``/``audience``; None if none is kept."""
    path = _path(dataset, audience)
    if path is None:
        return None
    try:
        record = json.loads(read_record(path))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("brief") != f"{dataset}/{audience}":
        return None
    order = record.get("drop_order")
    if not isinstance(order, list) or not order or not all(isinstance(k, str) for k in order):
        return None
    return order


def remember_cut(dataset: str, audience: str, order: list[str]) -> None:
    """Keep ``order`` (a cut's drops, in order) as the last found for the brief, unless it is kept already."""
    path = _path(dataset, audience)
    if path is None or not order or seen_cut(dataset, audience) == order:
        return
    record = {"brief": f"{dataset}/{audience}", "drop_order": order}
    keep(path, json.dumps(record, ensure_ascii=False).encode("utf-8"), newest=KEPT)

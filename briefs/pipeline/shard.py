"""``--shard I/N``: a stable 1/N of the targets, so a CI matrix splits a big build without a cluster (issue 18).

A target's shard is a hash of its (dataset, audience) group, not its place in a list: adding a dataset
moves no other brief to another shard, and every format of a brief lands in the same shard, so its
trimming is done once.
"""

from __future__ import annotations

import hashlib
import re

from briefs.errors import Problem

_SHAPE = re.compile(r"(\d+)/(\d+)")


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` as (2, 3); raises ValueError saying what was expected (1 ≤ I ≤ N)."""
    match = _SHAPE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"expected I/N such as 2/3, found {text!r}")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"expected I/N with 1 ≤ I ≤ N, found {text!r}")
    return index, count


def shard_problems(shard: tuple[int, int] | None) -> list[Problem]:
    """A shard given as values (not parsed from text) checked the same way."""
    if shard is None:
        return []
    index, count = shard
    if count < 1 or not 1 <= index <= count:
        return [Problem("--shard", None, None, "", f"expected I/N with 1 ≤ I ≤ N, found {index}/{count}")]
    return []


def shard_of(dataset: str, audience: str, count: int) -> int:
    """Which of ``count`` shards (1-based) builds this (dataset, audience) brief, on any machine."""
    digest = hashlib.sha256(f"{dataset}\0{audience}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def in_shard(dataset: str, audience: str, shard: tuple[int, int] | None) -> bool:
    """Whether ``shard`` (None: all) builds this brief."""
    return shard is None or shard_of(dataset, audience, shard[1]) == shard[0]

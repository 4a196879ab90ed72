"""Make many datasets from the shipped one, each with another id, for the many-briefs benchmark.

A dataset's id is its folder name, so a copy under another name is another dataset with the same
content: every brief costs the same, and the timings measure the build, not the data.
Usage: python -m bench.datasets N DEST   (DEST must not exist yet; never commit what it writes)
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "data" / "kazakhstan-2022"


def generate(dest: Path, count: int, source: Path = SHIPPED) -> list[str]:
    """Copy ``source`` into ``dest`` ``count`` times as datasets ``<source>-copy-001`` …; return their ids."""
    dest.mkdir(parents=True, exist_ok=False)
    ids = [f"{source.name}-copy-{i:03d}" for i in range(1, count + 1)]
    for dataset_id in ids:
        shutil.copytree(source, dest / dataset_id, ignore=shutil.ignore_patterns(".*"))
    return ids


def main() -> None:
    """Command line: generate N datasets into DEST."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--source", type=Path, default=SHIPPED, help="the dataset folder to copy")
    args = parser.parse_args()
    ids = generate(args.dest, args.count, args.source)
    print(f"{len(ids)} datasets in {args.dest}")


if __name__ == "__main__":
    main()

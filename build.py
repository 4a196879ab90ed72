#!/usr/bin/env python3
"""Build the policy briefs: ``python build.py [command] [options]`` (see ``--help``)."""

from __future__ import annotations

import sys

try:
    from briefs.cli import main
except ModuleNotFoundError as exc:  # run with a Python that lacks the dependencies
    if (exc.name or "").split(".")[0] == "briefs":
        raise
    sys.stderr.write(
        f"error: {exc.name!r} is not installed for {sys.executable}; install the tool first "
        "(README, Quick start): python3 -m venv .venv && .venv/bin/pip install -e '.[test]', "
        "then run .venv/bin/python build.py\n"
    )
    sys.exit(1)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

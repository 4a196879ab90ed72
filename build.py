#!/usr/bin/env python3
"""Build the policy briefs: ``python build.py [command] [options]`` (see ``--help``)."""

from __future__ import annotations

import sys

from briefs.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

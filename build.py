#!/usr/bin/env python3
"""Build the policy briefs: ``python build.py [command] [options]`` (see ``--help``).

``briefs.cli`` needs only the standard library to start; a missing dependency is reported by
``main`` with the command that installs it (README, Quick start).
"""

from __future__ import annotations

import sys

from briefs.cli import exit_process, main

if __name__ == "__main__":
    exit_process(main(sys.argv[1:]))

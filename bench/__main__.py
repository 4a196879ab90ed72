"""`python -m bench`: run the benchmark suite (see bench/run.py and docs/performance.md)."""

from __future__ import annotations

import sys

from bench.run import main

sys.exit(main())

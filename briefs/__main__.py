"""``python -m briefs`` is ``python build.py``."""

from __future__ import annotations

import sys

from briefs.cli import main

sys.exit(main())

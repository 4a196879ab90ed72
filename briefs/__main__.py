"""``python -m briefs`` is ``python build.py``."""

from __future__ import annotations

from briefs.cli import exit_process, main

exit_process(main())

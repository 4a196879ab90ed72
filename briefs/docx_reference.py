"""The old name of ``python -m briefs.formats.docx_reference``: kept so that scripts written before the
package was split by stage (issue 28) still work. New code imports ``briefs.formats.docx_reference``."""

from __future__ import annotations

import sys

from briefs.formats.docx_reference import main

if __name__ == "__main__":
    sys.exit(main())

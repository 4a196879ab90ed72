"""Preview: `serve`, every brief in a browser with live reload, on 127.0.0.1 by default.

Owns: `server` (the Starlette app, its headers and the watch thread that rebuilds), `page` (the one
static page that lists and frames the briefs).

May import: `briefs.errors`, `briefs.data`, `briefs.formats`, `briefs.compose`, `briefs.pipeline`.
Never `briefs.deliver` or the command line.
"""

"""Deliver: mailing each new edition to its audience's distribution list.

Owns: `send` (which edition each recipient is due, and sending it), `mail` (building and sending one
message over SMTP), `deliveries` (the delivery log that makes a resend safe).

May import: `briefs.errors`, `briefs.data`, `briefs.formats`, `briefs.compose`, `briefs.pipeline`
(`send` plans and builds like `build`). Never `briefs.preview` or the command line.
"""

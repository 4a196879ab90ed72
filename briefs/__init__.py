"""Briefs: policy briefing memos (PDF and Markdown) from sourced YAML and Jinja templates."""

from __future__ import annotations

__version__ = "0.1.0"

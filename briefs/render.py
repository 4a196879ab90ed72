"""The Jinja environments: search path, sandbox, StrictUndefined, and the filters templates use.

One ordered search path (the user's `--templates` folder first, then the shipped `templates/`), as in
mkdocs' theme dirs. A user's template that replaces a shipped one can extend the one it replaces by
naming it with the ``!shipped/`` prefix (pelican's ``!theme/`` idea). Templates run in Jinja's
sandbox; data is escaped for the format being written (HTML or Markdown) and prose fields pass through
Markdown and a sanitiser first.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import markdown as md_lib
import nh3
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from briefs.errors import InputError, Problem, display_path

log = logging.getLogger(__name__)

SHIPPED_PREFIX = "!shipped"
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class MarkdownSafe(str):
    """Markdown text that is already safe and must not be escaped again."""


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def md_escape(value: Any) -> str:
    """Plain text made inert in Markdown: every character Markdown or HTML would act on is escaped."""
    if isinstance(value, MarkdownSafe):
        return value
    text = re.sub(r"\s*\n\s*", " ", str(value))  # inline text: a newline would end a table row or a list item
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = text.replace("&", "&amp;")
    # A leading "1." or "-" would start a list; a leading "=" or "+" could too.
    text = re.sub(r"^(\s*)(\d+)\.(\s)", r"\1\2\\.\3", text)
    text = re.sub(r"^(\s*)([-+=])", r"\1\\\2", text)
    return MarkdownSafe(text)


_ALLOWED_TAGS = {"em", "strong", "code", "a", "br"}
_ALLOWED_ATTRS = {"a": {"href", "title"}}
_md = md_lib.Markdown(extensions=[], output_format="html")


def prose_html(text: str) -> Markup:
    """Inline Markdown to sanitised HTML: emphasis, code and http(s) links; nothing else survives."""
    _md.reset()
    rendered = _md.convert(html.escape(text, quote=False).replace("&amp;", "&"))
    rendered = re.sub(r"</p>\s*<p>", "<br>", rendered)
    rendered = re.sub(r"^<p>|</p>$", "", rendered.strip())
    clean = nh3.clean(
        rendered,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRS,
        url_schemes={"http", "https"},
        link_rel=None,
    )
    return Markup(clean)


class _HtmlToMarkdown(HTMLParser):
    """Turns the few tags `prose_html` allows back into Markdown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "em":
            self.out.append("*")
        elif tag == "strong":
            self.out.append("**")
        elif tag == "code":
            self.out.append("`")
        elif tag == "br":
            self.out.append(" ")
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))
            self.out.append("[")

    def handle_endtag(self, tag: str) -> None:
        if tag == "em":
            self.out.append("*")
        elif tag == "strong":
            self.out.append("**")
        elif tag == "code":
            self.out.append("`")
        elif tag == "a":
            href = self.href.pop() if self.href else None
            self.out.append(f"]({href.replace(')', '%29').replace(' ', '%20')})" if href else "]")

    def handle_data(self, data: str) -> None:
        self.out.append(md_escape(data))


def prose_md(text: str) -> MarkdownSafe:
    """Inline Markdown kept as Markdown, but only what `prose_html` would allow."""
    parser = _HtmlToMarkdown()
    parser.feed(str(prose_html(text)))
    parser.close()
    return MarkdownSafe("".join(parser.out))


def format_date(value: Any, qualifier: str | None = None) -> str:
    """``2022-04`` + ``late`` -> 'late April 2022'; dates US style: 'May 13, 2022'."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        text = f"{MONTHS[value.month - 1]} {value.day}, {value.year}"
    else:
        parts = str(value).split("-")
        if len(parts) == 3:
            text = f"{MONTHS[int(parts[1]) - 1]} {int(parts[2])}, {parts[0]}"
        elif len(parts) == 2:
            text = f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
        else:
            text = parts[0]
    if qualifier:
        text = f"{qualifier} {text}"
    return text


def format_number(value: float) -> str:
    """1234.0 -> '1,234'; 10.6 -> '10.6'."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,}"


def figure_text(figure: Any) -> str:
    """A figure's value as a reader expects it: its `display`, or value and unit."""
    if figure.display:
        return str(figure.display)
    unit = str(figure.unit)
    number = format_number(figure.value)
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def md_url(value: Any) -> MarkdownSafe:
    """A URL for a Markdown autolink ``<…>``: only http(s), with no spaces or angle brackets."""
    url = str(value)
    if not re.match(r"^https?://", url):
        return MarkdownSafe("")
    return MarkdownSafe(re.sub(r"[\s<>]", lambda m: f"%{ord(m.group()):02X}", url))


def yaml_string(value: Any) -> MarkdownSafe:
    """A value as a double-quoted YAML scalar, for front matter."""
    import json

    return MarkdownSafe(json.dumps(str(value), ensure_ascii=False))


def cite_html(numbers: list[int]) -> Markup:
    """Note numbers as linked superscripts."""
    if not numbers:
        return Markup("")
    links = ",".join(f'<a href="#note-{int(n)}">{int(n)}</a>' for n in numbers)
    return Markup(f'<sup class="cite">{links}</sup>')


def cite_md(numbers: list[int]) -> MarkdownSafe:
    """Note numbers as Markdown footnote references."""
    return MarkdownSafe("".join(f"[^{int(n)}]" for n in numbers))


@dataclass(frozen=True)
class TemplateDirs:
    """The ordered template search path: user folder (optional) first, shipped folder last."""

    shipped: Path
    user: Path | None = None

    @property
    def searched(self) -> list[Path]:
        return [p for p in (self.user, self.shipped) if p is not None]


def make_loader(dirs: TemplateDirs) -> jinja2.BaseLoader:
    """User folder, then shipped folder; `!shipped/<name>` always means the shipped file."""
    search = jinja2.FileSystemLoader([str(p) for p in dirs.searched])
    shipped = jinja2.FileSystemLoader(str(dirs.shipped))
    return jinja2.ChoiceLoader([jinja2.PrefixLoader({SHIPPED_PREFIX: shipped}, delimiter="/"), search])


def make_env(dirs: TemplateDirs, fmt: str) -> SandboxedEnvironment:
    """The sandboxed environment for one output format: ``html`` (escaped HTML) or ``md``."""
    is_html = fmt == "html"
    env = SandboxedEnvironment(
        loader=make_loader(dirs),
        undefined=jinja2.StrictUndefined,
        autoescape=is_html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        finalize=None if is_html else md_escape,
    )
    env.globals["cite"] = cite_html if is_html else cite_md
    env.filters.update(
        prose=prose_html if is_html else prose_md,
        date=format_date,
        number=format_number,
        figure=figure_text,
        md=md_escape,
        md_url=md_url,
        yamlstr=yaml_string,
    )
    return env


def template_name(dirs: TemplateDirs, stem: str | None, fmt: str) -> str:
    """The template an audience renders with: its own if present, else the base layout."""
    ext = "html" if fmt in ("html", "pdf") else "md"
    if stem is not None:
        name = f"audiences/{stem}.{ext}.j2"
        if any((d / name).is_file() for d in dirs.searched):
            return name
    return f"base/layout.{ext}.j2"


def render(env: SandboxedEnvironment, name: str, dirs: TemplateDirs, context: dict[str, Any]) -> str:
    """Render one template; template mistakes become InputErrors with the template's file and line."""
    try:
        template = env.get_template(name)
        return template.render(context)
    except jinja2.TemplateNotFound as exc:
        missing = exc.name or name
        searched = ", ".join(display_path(p) for p in dirs.searched)
        raise InputError(
            Problem(display_path(name), None, None, "", f"template {missing!r} not found; searched: {searched}")
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(
            Problem(
                _template_file(exc.filename, exc.name, dirs), exc.lineno, None, "", f"template syntax: {exc.message}"
            )
        ) from exc
    except (jinja2.UndefinedError, jinja2.exceptions.SecurityError, TypeError, AttributeError) as exc:
        file, line = _template_frame(exc, dirs)
        kind = "refused by the sandbox" if isinstance(exc, jinja2.exceptions.SecurityError) else "template error"
        raise InputError(Problem(file, line, None, "", f"{kind}: {exc}")) from exc


def _template_file(filename: str | None, name: str | None, dirs: TemplateDirs) -> str:
    if filename:
        return display_path(filename)
    return name or "<template>"


def _template_frame(exc: BaseException, dirs: TemplateDirs) -> tuple[str, int | None]:
    """The innermost template file and line in a traceback raised while rendering."""
    tb = exc.__traceback__
    found: tuple[str, int | None] = ("<template>", None)
    roots = [str(p.resolve()) for p in dirs.searched]
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or any(filename.startswith(r) for r in roots):
            found = (display_path(filename), tb.tb_lineno)
        tb = tb.tb_next
    return found


ContextMaker = Callable[[Any], dict[str, Any]]

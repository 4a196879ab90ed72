"""The Jinja environments: search path, sandbox, StrictUndefined, and the filters templates use.

One ordered search path (the user's `--templates` folder first, then the shipped `templates/`), as in
mkdocs' theme dirs. A user's template that replaces a shipped one can extend the one it replaces by
naming it with the ``!shipped/`` prefix (pelican's ``!theme/`` idea). Templates run in Jinja's
sandbox; data is escaped for the format being written (HTML or Markdown) and prose fields pass through
Markdown and a sanitiser first.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import markdown as md_lib
import nh3
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from markupsafe import Markup

from briefs.data.audiences import TemplateDirs
from briefs.errors import BriefsError, InputError, Problem, display_path
from briefs.files import cache_dir, keep
from briefs.formats.titles import headline_case
from briefs.formats.visuals import MONTHS, timeline_svg

log = logging.getLogger(__name__)

SHIPPED_PREFIX = "!shipped"


class MarkdownSafe(str):
    """Markdown text that is already safe and must not be escaped again."""


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


_OPENS_AFTER = r"(^|(?<=[\s(\[{\u2014\u2013/-]))"


def typographic(text: str) -> str:
    """Straight quotes as a typesetter sets them: “double”, ‘single’ and the apostrophe ’ (issue 13).

    A quote at the start or after a space or an opening bracket opens; any other closes. Data is
    typed with straight quotes; every brief shows one style, whatever the source of the text.
    """
    if "'" not in text and '"' not in text:
        return text
    text = re.sub(_OPENS_AFTER + '"', "\u201c", text)
    text = text.replace('"', "\u201d")
    text = re.sub(_OPENS_AFTER + "'", "\u2018", text)
    return text.replace("'", "\u2019")


def html_finalize(value: Any) -> Any:
    """What ``{{ }}`` prints in HTML: plain text gets typographic quotes; markup is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return typographic(value)
    return value


def markdown_safe(value: Any) -> MarkdownSafe:
    """Text already written as Markdown (by a macro or a formatter), printed as it is: not escaped again."""
    return MarkdownSafe(str(value))


def md_escape(value: Any) -> str:
    """Plain text made inert in Markdown: every character Markdown or HTML would act on is escaped."""
    if isinstance(value, MarkdownSafe):
        return value
    # Inline text: any line ending (CommonMark counts a lone CR too) would end a table row or a list item.
    text = typographic(re.sub(r"\s*[\r\n]\s*", " ", str(value)))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = text.replace("&", "&amp;")
    # A leading "1." or "1)" would start a list; a leading "-", "+" or "=" could too.
    text = re.sub(r"^(\s*)(\d+)([.)])(\s|$)", r"\1\2\\\3\4", text)
    text = re.sub(r"^(\s*)([-+=])", r"\1\\\2", text)
    return MarkdownSafe(text)


_ALLOWED_TAGS = {"em", "strong", "code", "a", "br"}
_ALLOWED_ATTRS = {"a": {"href", "title"}}
_AMP = "\x01"  # stands for "&" while Markdown runs; control characters are removed from the input first


def _prose_markdown() -> md_lib.Markdown:
    """Python-Markdown with raw HTML and character references switched off: ``<b>`` and ``&lt;`` stay text."""
    md = md_lib.Markdown(extensions=[], output_format="html")
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    md.inlinePatterns.deregister("entity")
    return md


_md = _prose_markdown()
PROSE_KEPT = 8192  # prose strings remembered per process and format (a dataset holds ~1,000)


_OUTSIDE_QUOTE = re.compile(r"(”)([.,])")  # not ’: it is also an apostrophe ("the ministers’.")


def us_quote_punctuation(text: str) -> str:
    """US house style: a period or comma that follows a closing quotation mark goes inside it (CMOS 6.9)."""
    return _OUTSIDE_QUOTE.sub(r"\2\1", text)


def _house_prose(prose: Callable[[str], Any]) -> Callable[..., Any]:
    """The `prose` filter in the dataset's house style: US style (the default) moves periods and commas
    inside closing quotes; `info.house_style: gb` keeps them where the text has them."""

    @jinja2.pass_context
    def house(context: Any, text: str) -> Any:
        """A prose field's inline Markdown rendered (emphasis, code, http(s) links; nothing else), quotes curly."""
        out = prose(text)
        info = context.get("info")
        if getattr(info, "house_style", "us") == "us":
            return type(out)(us_quote_punctuation(str(out)))
        return out

    return house


def prose_html(text: str) -> Markup:
    """Inline Markdown to sanitised HTML: emphasis, code and http(s) links; nothing else survives.

    Raw HTML and entities in the text are shown as typed (never parsed); image syntax is shown as typed
    (``![`` is escaped before Markdown sees it); nh3 then keeps only the allowed tags and http(s) hrefs.
    """
    return _prose_html(str(text))


@functools.lru_cache(maxsize=PROSE_KEPT)
def _prose_html(text: str) -> Markup:
    """`prose_html` of one string, remembered: a fitted brief renders the same prose once per trial cut,
    and the briefs of a dataset share most of it (issue 27). It is a pure function of the text."""
    source = _CONTROL.sub("", text).replace("&", _AMP).replace("![", "!\\[")
    _md.reset()
    rendered = _md.convert(source).replace(_AMP, "&amp;")
    rendered = re.sub(r"</p>\s*<p>", "<br>", rendered)
    # Typographic quotes in the text between tags only: attribute values (an href) keep theirs.
    rendered = re.sub(r"(^|>)([^<]+)", lambda m: m.group(1) + typographic(m.group(2)), rendered)
    rendered = re.sub(r"^<p>|</p>$", "", rendered.strip())
    clean = nh3.clean(
        rendered,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRS,
        url_schemes={"http", "https"},
        link_rel=None,
    )
    return Markup(clean)


def md_href(url: str) -> str:
    """A URL made safe as a Markdown link destination or autolink: no spaces, brackets, parens, quotes or pipes."""
    return quote(url, safe=":/?#@!$&'*+,;=%-._~")


class _HtmlToMarkdown(HTMLParser):
    """Turns the few tags `prose_html` allows back into Markdown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.href: list[str | None] = []
        self.code: list[str] | None = None  # text of the code span being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "em":
            self.out.append("*")
        elif tag == "strong":
            self.out.append("**")
        elif tag == "code":
            self.code = []
        elif tag == "br":
            self.out.append(" ")
        elif tag == "a":
            href = dict(attrs).get("href")
            self.href.append(href)
            if href:  # a bare "[text]" would be a reference link or, as "[^1]", a footnote reference
                self.out.append("[")

    def handle_endtag(self, tag: str) -> None:
        if tag == "em":
            self.out.append("*")
        elif tag == "strong":
            self.out.append("**")
        elif tag == "code" and self.code is not None:
            self.out.append(_code_span("".join(self.code)))
            self.code = None
        elif tag == "a":
            href = self.href.pop() if self.href else None
            if href:
                self.out.append(f"]({md_href(href)})")

    def handle_data(self, data: str) -> None:
        if self.code is not None:
            self.code.append(data)
        else:
            self.out.append(md_escape(data))


def _code_span(text: str) -> str:
    """A Markdown code span holding ``text`` literally (backslashes do nothing inside one)."""
    text = re.sub(r"\s*[\r\n]\s*", " ", text).replace("|", "\\|")  # GFM reads \| as | even in code in a table
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def prose_md(text: str) -> MarkdownSafe:
    """Inline Markdown kept as Markdown, but only what `prose_html` would allow."""
    return _prose_md(str(text))


@functools.lru_cache(maxsize=PROSE_KEPT)
def _prose_md(text: str) -> MarkdownSafe:
    """`prose_md` of one string, remembered as `_prose_html` is."""
    parser = _HtmlToMarkdown()
    parser.feed(str(_prose_html(text)))
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
    if figure.value is None:  # the schema requires `display` then; older editions may lack it
        return f"(no number) {unit}"
    number = format_number(figure.value)
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def md_url(value: Any) -> MarkdownSafe:
    """A URL for a Markdown autolink ``<…>``: only http(s), percent-encoded so nothing in it is Markdown."""
    url = str(value)
    if not re.match(r"^https?://", url):
        return MarkdownSafe("")
    return MarkdownSafe(md_href(url))


def yaml_string(value: Any) -> MarkdownSafe:
    """A value as a double-quoted YAML scalar, for front matter: one line, no character YAML would refuse."""
    text = json.dumps(str(value), ensure_ascii=False)
    # JSON leaves DEL, C1 controls, line/paragraph separators, BOM and surrogates raw; YAML refuses or folds them.
    return MarkdownSafe(
        re.sub(r"[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]", lambda m: f"\\u{ord(m.group()):04x}", text)
    )


def cite_html(numbers: list[int]) -> Markup:
    """Note numbers as linked superscripts, joined to the word before them (U+2060 WORD JOINER).

    Without the joiner the line breaker may break between a sentence's period and its note number, and
    the number opens the next line alone (issue 23: "decisions.\n27" in the desk PDF).
    """
    if not numbers:
        return Markup("")
    links = ",".join(f'<a href="#note-{int(n)}">{int(n)}</a>' for n in sorted(numbers))
    return Markup(f'<sup class="cite">\u2060{links}</sup>')


def cite_md(numbers: list[int]) -> MarkdownSafe:
    """Note numbers as Markdown footnote references."""
    # Separated, so that adjacent references never read as one number ("7,16", not "716"), as in the PDF.
    return MarkdownSafe(",".join(f"[^{int(n)}]" for n in sorted(numbers)))


class _FolderLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that refuses a file whose real path (symlinks followed) is outside its folders.

    A user's templates folder is untrusted: a symlink in it must not let ``{% include %}`` copy
    ``~/.ssh/id_rsa`` or ``/etc/passwd`` into a brief.
    """

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except UnicodeDecodeError as exc:
            raise InputError(self._not_utf8(template, exc)) from None
        real = Path(filename).resolve()
        if not any(real.is_relative_to(Path(root).resolve()) for root in self.searchpath):
            raise InputError(
                Problem(
                    display_path(filename), None, None, "", f"template {template!r} links outside its folder, to {real}"
                )
            )
        return source, filename, uptodate

    def _not_utf8(self, template: str, exc: UnicodeDecodeError) -> Problem:
        """Where a template that is not UTF-8 goes wrong, as the data files' loader says it."""
        pieces = jinja2.loaders.split_template_path(template)
        for root in self.searchpath:
            path = Path(root, *pieces)
            if path.is_file():
                before = exc.object[: exc.start]
                line = before.count(b"\n") + 1
                column = exc.start - (before.rfind(b"\n") + 1) + 1
                found = exc.object[exc.start]
                return Problem(display_path(path), line, column, "", f"expected UTF-8 text, found byte 0x{found:02x}")
        return Problem(display_path(template), None, None, "", f"expected UTF-8 text ({exc.reason})")


def make_loader(dirs: TemplateDirs) -> jinja2.BaseLoader:
    """User folder, then shipped folder; `!shipped/<name>` always means the shipped file."""
    search = _FolderLoader([str(p) for p in dirs.searched])
    shipped = _FolderLoader(str(dirs.shipped))
    return jinja2.ChoiceLoader([jinja2.PrefixLoader({SHIPPED_PREFIX: shipped}, delimiter="/"), search])


MAX_SEQUENCE = 1_000_000
"""The longest string or list ``*`` may build in a template."""
MAX_EXPONENT = 64
"""The largest power ``**`` may raise to in a template."""
MAX_INT_BITS = 65_536
"""The largest integer (in bits) ``*`` and ``**`` may build: ``((2**64)**64)**64…`` grows doubly exponentially."""


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox, immutable (a template cannot change the data other targets share), with arithmetic bounded.

    The sandbox refuses attribute access to internals (``__class__``, ``__globals__``, ``mro``…) and
    calls of unsafe callables; the immutable variant also refuses ``list.append``, ``dict.update`` and
    the like. ``*`` and ``**`` are intercepted because Jinja folds constants while compiling, so
    ``{{ 9**9**9 }}`` would otherwise hang before any time limit could name the template.
    """

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)):
            bits = left.bit_length() if isinstance(left, int) else 1
            if abs(right) > MAX_EXPONENT or bits * abs(right) > MAX_INT_BITS:
                raise jinja2.exceptions.SecurityError(f"'**' with exponent {right!r} would build too large a number")
        if operator == "*":
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > MAX_INT_BITS
            ):
                raise jinja2.exceptions.SecurityError("'*' would build too large a number")
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_SEQUENCE:
                    raise jinja2.exceptions.SecurityError(
                        f"'*' would build {len(seq) * times:,} items (at most {MAX_SEQUENCE:,})"
                    )
        return super().call_binop(context, operator, left, right)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the life of the process, and on disk between runs, one store
    per output format.

    Parsing and compiling the templates is most of a short brief's Jinja time (principal: 72 ms with
    a new environment, 15 ms without compiling), and ~0.25 s of every run that renders the shipped briefs
    (issue 27). Jinja keys each entry by template file and checks it against a hash of the source, so an
    edited template is compiled again (a watcher, issue 8). On disk (`briefs.files.cache_dir`), the store's
    folder is named by the format, Jinja's version and this module's source (which sets up the environment
    that compiles), so no compiled template outlives what compiled it; Jinja checks its own magic and the
    Python version on load.
    """

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.store: dict[str, bytes] = {}

    def _kept(self, key: str) -> Path | None:
        folder = cache_dir()
        if folder is None:
            return None
        return folder / "templates" / f"{self.fmt}-{_COMPILER_DIGEST}" / f"{key}.bin"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)
        elif (kept := self._kept(bucket.key)) is not None:
            try:
                code = kept.read_bytes()
                bucket.bytecode_from_string(code)  # a stale or stray file resets the bucket
            except (OSError, ValueError, EOFError, TypeError):
                bucket.reset()
            if bucket.code is not None and code is not None:
                self.store[bucket.key] = code

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if len(self.store) > 4096:  # bounded: one entry per template file, replaced when it is edited
            self.store.clear()
        code = bucket.bytecode_to_string()
        self.store[bucket.key] = code
        if (kept := self._kept(bucket.key)) is None:
            return
        # Bounded: a template's entry is replaced when it is edited, but each folder of templates adds its own
        # entries, and each version of this module its own folder.
        if not keep(kept, code, newest=KEPT_TEMPLATES, versions=KEPT_VERSIONS):
            log.debug("could not keep the compiled template in %s", kept.parent)


KEPT_TEMPLATES, KEPT_VERSIONS = 1024, 8
"""At most this many compiled templates (and as many parsed facts) in a folder, and this many folders: one per
version of this module and of Jinja."""
_COMPILER_DIGEST = hashlib.sha256(f"{jinja2.__version__}\0".encode() + Path(__file__).read_bytes()).hexdigest()[:32]


class _TemplateFacts:
    """What planning reads from a template's source, parsed once: kept in memory and between runs.

    Planning parses every template to find what it references (its stamp's inputs) and which blocks it
    and its layouts define (`unknown_blocks`): ~0.1 s of every run, a no-op build's included (issue 27).
    A fact is a small JSON value named by what it answers (``purpose``) and the source's SHA-256, in a
    folder named by Jinja's version and this module's source, as the compiled templates are: the same
    source always parses to the same tree, so a kept fact is the one parsing would give.
    """

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], Any] = {}

    def get(self, purpose: str, source: str, parse: Callable[[], Any]) -> Any:
        """``parse()``'s result for ``source``, computed once: it must be JSON (lists, strings, None)."""
        key = (purpose, hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest())
        if key in self.store:
            return self.store[key]
        folder = cache_dir()
        kept = folder / "templates" / f"facts-{_COMPILER_DIGEST}" / f"{key[0]}-{key[1]}.json" if folder else None
        value: Any = None
        found = False
        if kept is not None:
            try:
                value, found = json.loads(kept.read_text(encoding="utf-8"))["value"], True
            except (OSError, ValueError, KeyError, TypeError):
                found = False
        if not found:
            value = parse()  # may raise: nothing is kept of a template that does not parse
            if kept is not None:
                keep(kept, json.dumps({"value": value}).encode(), newest=KEPT_TEMPLATES, versions=KEPT_VERSIONS)
        if len(self.store) > 4096:  # a long watch session saves many versions of a template
            self.store.clear()
        self.store[key] = value
        return value


TEMPLATE_FACTS = _TemplateFacts()
"""What planning reads from each template source; see `_TemplateFacts`."""


def _plain_kind(obj: Any) -> str:
    """What a template author calls the object ("the dataset's info"), rather than its Python class path."""
    name = type(obj).__name__
    kinds = {
        "DatasetInfo": "the dataset's info",
        "Audience": "the audience",
        "Brief": "the brief",
        "MemoHeader": "the memo header",
        "dict": "this mapping",
        "list": "this list",
        "str": "this text",
    }
    return kinds.get(name, f"a {name}")


def _field_names(obj: Any) -> list[str]:
    """The names a template may read on ``obj``: a mapping's keys, a record's fields and properties."""
    if isinstance(obj, dict):
        return [str(k) for k in obj]
    names = list(getattr(type(obj), "model_fields", {}) or {})
    for klass in type(obj).__mro__:
        names += [k for k, v in vars(klass).items() if isinstance(v, property) and not k.startswith("_")]
    if not names and hasattr(obj, "__dataclass_fields__"):
        names = list(obj.__dataclass_fields__)
    return list(dict.fromkeys(n for n in names if not n.startswith(("_", "model_"))))


class _BriefUndefined(jinja2.StrictUndefined):
    """StrictUndefined whose message a template author can act on: the field, what holds it, the near names.

    Jinja's own says "'briefs.data.model.DatasetInfo object' has no attribute 'subjekt'".
    """

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        name, obj = self._undefined_name, self._undefined_obj
        if obj is jinja2.utils.missing:
            return f"{name!r} is undefined"
        fields = _field_names(obj)
        near = difflib.get_close_matches(str(name), fields, n=1)
        guess = f" (did you mean {near[0]!r}?)" if near else ""
        listed = f"; it has: {', '.join(fields[:40])}" if fields and not isinstance(obj, (list, str)) else ""
        return f"{_plain_kind(obj)} has no field {name!r}{guess}{listed}"


class _MarkdownBlock(jinja2.runtime.BlockReference):
    """A block's output in Markdown: already escaped value by value, so ``{{ super() }}`` is not escaped again."""

    @property
    def super(self) -> Any:
        return _markdown_block(super().super)

    def __call__(self) -> str:
        return MarkdownSafe(super().__call__())


def _markdown_block(ref: Any) -> Any:
    """A BlockReference as a `_MarkdownBlock`; anything else (an Undefined) as it is."""
    if isinstance(ref, jinja2.runtime.BlockReference) and not isinstance(ref, _MarkdownBlock):
        return _MarkdownBlock(ref.name, ref._context, ref._stack, ref._depth)
    return ref


class _MarkdownContext(jinja2.runtime.Context):
    """The Markdown environment's context: ``super()`` gives a `_MarkdownBlock`."""

    def super(self, name: str, current: Callable[[jinja2.runtime.Context], Any]) -> Any:
        return _markdown_block(super().super(name, current))


class _MarkdownTemplateReference(jinja2.runtime.TemplateReference):
    """``self`` in a Markdown template: ``{{ self.title() }}`` gives a `_MarkdownBlock`."""

    def __getitem__(self, name: str) -> Any:
        return _markdown_block(super().__getitem__(name))


class _MarkdownMacro(jinja2.runtime.Macro):
    """A macro (or ``caller()``) in Markdown: its output was escaped inside it, so it is not escaped again."""

    def _invoke(self, arguments: list[Any], autoescape: bool) -> str:
        return MarkdownSafe(super()._invoke(arguments, autoescape))


class _MarkdownTemplate(jinja2.Template):
    """A compiled Markdown template whose macros, blocks, ``self`` and block sets give `MarkdownSafe` text (issue 19).

    The Markdown environment escapes every ``{{ … }}`` value (``finalize=md_escape``); without this,
    ``{{ super() }}`` would escape the parent block's already-escaped Markdown into one line. HTML
    needs none of it: there, autoescape already marks these outputs as Markup.
    """

    @classmethod
    def _from_namespace(cls, environment: jinja2.Environment, namespace: Any, globals: Any) -> jinja2.Template:
        namespace["Macro"] = _MarkdownMacro
        namespace["identity"] = MarkdownSafe  # what `{% set x %}…{% endset %}` captures is marked, as Markup in HTML
        namespace["TemplateReference"] = _MarkdownTemplateReference
        return super()._from_namespace(environment, namespace, globals)


_COMPILED = {"html": _CompiledTemplates("html"), "md": _CompiledTemplates("md")}
"""Per format: the two environments escape differently, so the same source compiles differently."""


def make_env(dirs: TemplateDirs, fmt: str) -> SandboxedEnvironment:
    """The sandboxed environment for one output format: ``html`` (escaped HTML) or ``md``."""
    is_html = fmt == "html"
    env = TemplateSandbox(
        loader=make_loader(dirs),
        undefined=_BriefUndefined,
        autoescape=is_html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        finalize=html_finalize if is_html else md_escape,
        bytecode_cache=_COMPILED["html" if is_html else "md"],
    )
    if not is_html:
        env.context_class = _MarkdownContext
        env.template_class = _MarkdownTemplate
    env.globals.pop("lipsum", None)  # lipsum(n=10**9) would build gigabytes of text; no brief needs it
    env.globals["cite"] = cite_html if is_html else cite_md
    # Opening a label ("(moderate confidence)", "(Recommended by FPRI)"): it never opens a line alone, away
    # from its sentence (issue 23 §4); the label's own words still wrap, and still read as typed. In HTML it
    # goes inside the label's span: before the span, WeasyPrint broke the line a word early ("consolidate⏎").
    env.globals["nbsp"] = "\u00a0"
    if is_html:
        env.globals["timeline_svg"] = timeline_svg  # pictures drawn from the data (issue 5)
    env.filters.update(
        prose=_house_prose(prose_html if is_html else prose_md),
        date=format_date,
        number=format_number,
        figure=figure_text,
        md=md_escape,
        mdsafe=markdown_safe,
        md_url=md_url,
        yamlstr=yaml_string,
        headline=headline_case,  # a title named in running text, as the notes case it
    )
    return env


def precompile(dirs: TemplateDirs) -> int:
    """Compile every template into this process's cache (a watcher's warm-up); returns how many compiled.

    A template that does not compile is skipped: the build that uses it reports it with file and line.
    """
    compiled = 0
    names = sorted({str(p.relative_to(root)) for root in dirs.searched for p in root.rglob("*.j2") if p.is_file()})
    for fmt in ("html", "md"):
        env = make_env(dirs, fmt)
        for name in names:
            try:
                env.get_template(name)
                compiled += 1
            except Exception:  # reported, with file and line, by the build that renders it
                continue
    return compiled


def template_name(dirs: TemplateDirs, stem: str | None, fmt: str) -> str:
    """The template an audience renders with: its own if present, else the base layout."""
    ext = "html" if fmt in ("html", "pdf") else "md"
    if stem is not None:
        name = f"audiences/{stem}.{ext}.j2"
        if any((d / name).is_file() for d in dirs.searched):
            return name
    return f"base/layout.{ext}.j2"


def render(env: SandboxedEnvironment, name: str, dirs: TemplateDirs, context: dict[str, Any]) -> str:
    """Render one template; template mistakes become InputErrors with the template's file and line.

    Anything a template raises is the template's fault (a user's template may divide by zero or recurse
    forever), so every exception but the tool's own errors is reported as an input error, in one line.
    """
    try:
        try:
            template = env.get_template(name)
        except RecursionError as exc:  # compiling a template nested deeper than Python can parse
            _, filename, _ = env.loader.get_source(env, name) if env.loader is not None else (None, name, None)
            raise InputError(
                Problem(_template_file(filename, name, dirs), None, None, "", "template nested too deeply to compile")
            ) from exc
        out = template.render(context)
        # A Markdown brief starts at its first line: blocks that render nothing leave no blank lines on top.
        return out.lstrip("\n") if name.endswith(".md.j2") else out
    except BriefsError:
        raise
    except jinja2.TemplateNotFound as exc:
        missing = exc.name or name
        searched = ", ".join(display_path(p) for p in dirs.searched)
        file, line = _template_frame(exc, dirs)  # an include or extends names its own file and line
        if line is None:
            file = display_path(name)
        raise InputError(
            Problem(file, line, None, "", f"template {_one_line(str(missing))!r} not found; searched: {searched}")
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(
            Problem(
                _template_file(exc.filename, exc.name, dirs),
                exc.lineno,
                None,
                "",
                f"template syntax: {_one_line(exc.message or str(exc))}",
            )
        ) from exc
    except jinja2.exceptions.SecurityError as exc:
        file, line = _template_frame(exc, dirs)
        raise InputError(Problem(file, line, None, "", f"refused by the sandbox: {_one_line(str(exc))}")) from exc
    except jinja2.UndefinedError as exc:
        file, line = _template_frame(exc, dirs)
        message = str(exc)
        unknown = re.fullmatch(r"'([^']*)' is undefined", message)
        if unknown:  # a name the template reads that nothing defines: near names from the context
            known = sorted({*context, *env.globals})
            near = difflib.get_close_matches(unknown.group(1), known, n=1)
            guess = f" (did you mean {near[0]!r}?)" if near else ""
            message = f"{unknown.group(1)!r} is not defined{guess}; a brief's templates can read: {', '.join(known)}"
        raise InputError(Problem(file, line, None, "", f"template error: {_one_line(message, 400)}")) from exc
    except RecursionError as exc:
        file, line = _template_frame(exc, dirs)
        raise InputError(Problem(file, line, None, "", "template error: recursion too deep")) from exc
    except Exception as exc:
        file, line = _template_frame(exc, dirs)
        raise InputError(
            Problem(file, line, None, "", f"template error: {type(exc).__name__}: {_one_line(str(exc))}")
        ) from exc


def _one_line(text: str, limit: int = 300) -> str:
    """A message as one line of bounded length: a template's text may hold newlines and be huge."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def _blocks(env: Any, name: str, seen: frozenset[str] = frozenset()) -> tuple[set[str], set[str], str | None]:
    """(every block a template defines, those at its top level, the template it extends as a constant)."""
    source, filename, _ = env.loader.get_source(env, name)

    def parse() -> list[Any]:
        tree = env.parse(source, name, filename)
        every = {b.name for b in tree.find_all(nodes.Block)}
        nested = {inner.name for b in tree.find_all(nodes.Block) for inner in b.find_all(nodes.Block)}
        parent = next(iter(tree.find_all(nodes.Extends)), None)
        extends = parent.template.value if parent is not None and isinstance(parent.template, nodes.Const) else None
        return [sorted(every), sorted(every - nested), extends if isinstance(extends, str) else None]

    every, top, extends = TEMPLATE_FACTS.get("blocks", source, parse)
    return set(every), set(top), extends if extends not in seen else None


def unknown_blocks(env: Any, name: str, file: str) -> list[Problem]:
    """A block a template overrides must be one its layout defines, or its content is silently dropped."""
    try:
        _, top, parent = _blocks(env, name)
        defined: set[str] = set()
        seen = frozenset({name})
        while parent is not None:
            every, _, next_parent = _blocks(env, parent, seen)
            defined |= every
            seen |= {parent}
            parent = next_parent
    except (jinja2.TemplateError, OSError, RecursionError):
        return []  # rendering reports a missing or broken template, with its line
    if not seen - {name}:
        return []  # a page of its own: nothing it defines is dropped
    problems = []
    for block in sorted(top - defined):
        near = difflib.get_close_matches(block, sorted(defined), n=1)
        guess = f" (did you mean {near[0]!r}?)" if near else ""
        message = (
            f"block {block!r} is not one its layout defines{guess}, so its content is never shown; "
            f"blocks: {', '.join(sorted(defined))}"
        )
        problems.append(Problem(file, _block_line(env, name, block), None, "", message))
    return problems


def _block_line(env: Any, name: str, block: str) -> int | None:
    source, filename, _ = env.loader.get_source(env, name)
    tree = env.parse(source, name, filename)
    return next((b.lineno for b in tree.find_all(nodes.Block) if b.name == block), None)

"""PyYAML's syntax errors in plain words, with a hint for the common causes (issue 14).

PyYAML says ``expected <block end>, but found '<block mapping start>'``; a writer of data needs to
hear that a line is indented differently from its neighbours. Each message keeps the house form,
``expected …, found …``, and names the position where the mistake most likely is (the opening quote
of an unclosed quote, the key without a colon), which is not always where the parser stopped.
"""

from __future__ import annotations

import re

import yaml

_INDENT_HINT = "YAML nests by indentation, in spaces"


def _line(lines: list[str], index: int) -> str:
    return lines[index] if 0 <= index < len(lines) else ""


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _previous(lines: list[str], index: int) -> int:
    """The index of the last non-blank, non-comment line before ``index`` (-1 if none)."""
    for i in range(index - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#"):
            return i
    return -1


def _shown(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= 50 else text[:47] + "...")


def explain(text: str, exc: yaml.MarkedYAMLError) -> tuple[int | None, int | None, str]:
    """Line, column (1-based) and a plain message for a syntax error PyYAML raised reading ``text``."""
    lines = text.splitlines()
    problem = " ".join(str(exc.problem or "").split())
    context = exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    at = (mark.line + 1, mark.column + 1) if mark else (None, None)
    opened = exc.context_mark
    here = (opened.line + 1, opened.column + 1) if opened else at

    if "'\\t'" in problem or "\t" in problem:
        return (*at, "found a tab character; expected spaces (YAML indents with spaces, never tabs)")
    if "quoted scalar" in context and "end of stream" in problem:
        quote = _line(lines, opened.line)[opened.column] if opened else '"'
        return (*here, f"found a {quote} quote that is never closed; expected a closing {quote} before the file ends")
    if "flow node" in context and "<stream end>" in problem and mark:
        # `key: [` at the end of the file: the bracket the file ends inside is the last one opened.
        opening = max(text.rfind("[", 0, mark.index), text.rfind("{", 0, mark.index))
        if opening >= 0:
            row = text.count("\n", 0, opening)
            column = opening - (text.rfind("\n", 0, opening) + 1)
            close = "]" if text[opening] == "[" else "}"
            return (
                row + 1,
                column + 1,
                f"found a {text[opening]!r} that is never closed; expected a value and {close!r}, found the file's end",
            )
        return (*at, "found the end of the file where a value was expected")
    if "flow sequence" in context or "flow mapping" in context:
        bracket, close = ("[", "]") if "sequence" in context else ("{", "}")
        found = re.search(r"but got (.*)$", problem)
        got = (found.group(1) if found else "something else").replace("'<stream end>'", "the end of the file")
        return (
            *here,
            f"found a {bracket!r} that is never closed (or items without commas between them); "
            f"expected ',' or {close!r}, found {got}",
        )
    if "could not find expected ':'" in problem and opened:
        key = _line(lines, opened.line)[opened.column :]
        return (*here, f"expected ':' after the key {_shown(key)}, found none (write `key: value`)")
    if "mapping values are not allowed here" in problem and mark:
        return _colon_out_of_place(lines, mark.line, mark.column)
    if problem.startswith("expected <block end>") and mark:
        line = _line(lines, mark.line)
        before = line[: mark.column].rstrip()
        if "'<scalar>'" in problem and before.endswith(('"', "'")):
            return (
                *at,
                f"found text after a closing {before[-1]} quote; expected the whole value inside the quotes",
            )
        what = "a list item" if "sequence" in problem or "'-'" in problem else "a key"
        hint = _INDENT_HINT
        if re.search(r"^\s*-[^\s-]", "\n".join(lines[: mark.line + 1]), re.MULTILINE):
            hint += "; a list item is '- ' with a space after the dash"
        return (*at, f"found {what} indented differently from the lines above it; expected it to line up ({hint})")
    alias = re.match(r"found undefined alias '([^']*)'", problem)
    if alias:
        return (*at, f"found the alias *{alias.group(1)}; expected an anchor &{alias.group(1)} defined above it")
    words = problem or " ".join(str(exc).split())
    causes = "indentation, a missing ':' after a key, a tab, an unclosed quote or bracket"
    return (*at, f"{words} (common causes: {causes})")


def _colon_out_of_place(lines: list[str], index: int, column: int) -> tuple[int | None, int | None, str]:
    """ "mapping values are not allowed here": a ': ' inside a value, a line indented too far, or a key without ':'."""
    line = _line(lines, index)
    before = line[:column]
    if re.match(r"^\s*(- )?[^\s:#][^:#]*:\s", before):
        # `title: Kazakhstan: a year later`: the second ': ' is inside an unquoted value.
        key, _, value = line.strip().removeprefix("- ").partition(": ")
        return (
            index + 1,
            column + 1,
            f"found ': ' inside the value of {key!r}; expected a quoted value: {key}: {_quoted(value)}",
        )
    prev = _previous(lines, index)
    above = _line(lines, prev)
    if prev >= 0 and _indent(line) > _indent(above) and re.match(r"^\s*(- )?[^\s:#][^:#]*:\s+\S", above):
        return (
            index + 1,
            _indent(line) + 1,
            f"found a key indented more than the line above; expected it to line up ({_INDENT_HINT})",
        )
    if prev >= 0 and ":" not in above:
        return (
            prev + 1,
            _indent(above) + 1,
            f"expected ':' after the key {_shown(above)}, found none (write `key: value`)",
        )
    return (
        index + 1,
        column + 1,
        "found ':' where a value goes; expected `key: value` on its own line "
        "(quote a value that holds ': ', or check this line's indentation)",
    )


def _quoted(value: str) -> str:
    value = value.strip()
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

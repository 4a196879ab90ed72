"""Read YAML safely, keeping the line and column of every key and item.

PyYAML's ``safe_load`` forgets where values came from, silently keeps the last of two equal keys and
turns ``2022-05-13`` into a date object. Here the document is composed into nodes by the safe loader
and built into plain values by hand, so that every value's position is known, duplicate keys are
errors, timestamps stay strings (the schema parses them) and alias expansion is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from briefs.errors import Problem, display_path

Loc = tuple[str | int, ...]
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000


class SafeLoaderKeepingDates(yaml.SafeLoader):
    """The safe loader without implicit timestamps: dates stay text until the schema reads them."""


_Loader = SafeLoaderKeepingDates


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class YamlDoc:
    """A parsed YAML file: its value and where each part of it stands."""

    path: Path
    value: Any
    positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return display_path(self.path)

    def position(self, loc: Loc) -> tuple[int | None, int | None]:
        """Line and column (1-based) of the deepest known part of ``loc``."""
        for n in range(len(loc), -1, -1):
            pos = self.positions.get(tuple(loc[:n]))
            if pos is not None:
                return pos
        return None, None

    def problem(self, loc: Loc, message: str) -> Problem:
        """A problem located at ``loc`` in this file."""
        line, column = self.position(loc)
        return Problem(self.name, line, column, dotted(loc), message)


def dotted(loc: Loc) -> str:
    """``('events', 3, 'date')`` as ``events[3].date``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _Builder:
    def __init__(self, doc: YamlDoc, loader: _Loader) -> None:
        self.doc = doc
        self.loader = loader
        self.problems: list[Problem] = []
        self.count = 0

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBigError(node)
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves `<<` merge keys
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key_loc = (*loc, str(key_node.value))
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problems.append(_at(self.doc, key_node, loc, "expected a plain key, found a collection"))
                    continue
                key = self.loader.construct_object(key_node)
                if not isinstance(key, str):
                    key = str(key_node.value)
                key_loc = (*loc, key)
                if key in result:
                    first = self.doc.positions[key_loc]
                    self.problems.append(
                        _at(self.doc, key_node, key_loc, f"duplicate key (first given at line {first[0]})")
                    )
                    continue
                self.doc.positions[key_loc] = _mark(key_node)
                result[key] = self.build(value_node, key_loc)
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.doc.positions[(*loc, i)] = _mark(item)
                items.append(self.build(item, (*loc, i)))
            return items
        return self.loader.construct_object(node)


class _TooBigError(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _at(doc: YamlDoc, node: yaml.Node, loc: Loc, message: str) -> Problem:
    line, column = _mark(node)
    return Problem(doc.name, line, column, dotted(loc), message)


def read_yaml(path: Path) -> tuple[YamlDoc | None, list[Problem]]:
    """Parse one YAML file. Returns the document (None if unusable) and every problem found."""
    doc = YamlDoc(path, None)
    name = doc.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(name, None, None, "", f"cannot read: {exc.strerror or exc}")]
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(name, None, None, "", f"file is {len(raw):,} bytes; expected at most {MAX_FILE_BYTES:,}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [Problem(name, line, col, "", f"expected UTF-8 text, found byte 0x{raw[exc.start]:02x}")]
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at_line = mark.line + 1 if mark else None
        at_col = mark.column + 1 if mark else None
        what = exc.problem or str(exc)
        if "\t" in what or "found character '\\t'" in what:
            what = "tab used for indentation; YAML indents with spaces"
        return None, [Problem(name, at_line, at_col, "", f"YAML syntax: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, None, None, "", f"YAML syntax: {exc}")]
    finally:
        loader.dispose()
    if node is None:
        doc.value = None
        return doc, []
    builder = _Builder(doc, loader)
    try:
        doc.value = builder.build(node, ())
    except _TooBigError as big:
        return None, [
            _at(doc, big.node, (), f"expected at most {MAX_NODES:,} values after expanding aliases; refusing to expand")
        ]
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        return None, [
            Problem(
                name, mark.line + 1 if mark else None, mark.column + 1 if mark else None, "", f"YAML: {exc.problem}"
            )
        ]
    except RecursionError:
        return None, [Problem(name, None, None, "", "YAML nests too deeply")]
    return doc, builder.problems

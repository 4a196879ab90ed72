"""Read YAML safely, keeping the line and column of every key and item.

PyYAML's ``safe_load`` forgets where values came from, silently keeps the last of two equal keys and
turns ``2022-05-13`` into a date object. Here the document is composed into nodes by the safe loader
and built into plain values by hand, so that every value's position is known, duplicate keys are
errors, timestamps stay strings (the schema parses them) and alias expansion is bounded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from briefs.data.yamlsyntax import explain as explain_syntax
from briefs.errors import Problem, display_path
from briefs.files import FileTooLargeError, read_limited

Loc = tuple[str | int, ...]
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000


class SafeLoaderKeepingDates(yaml.SafeLoader):
    """The safe loader without implicit timestamps: dates stay text until the schema reads them."""


_Loader = SafeLoaderKeepingDates
_NO_FAST_PATH = yaml.ScalarNode("tag:yaml.org,2002:null", "")


def _compose_fast(text: str) -> yaml.Node | None:
    """Compose with libyaml (about 10x faster than PyYAML's Python parser, see docs/performance.md).

    Only the happy path is taken from libyaml: on any error the caller composes again with the Python
    parser, whose error messages and positions are the ones users see and tests check.
    """
    if _CLoader is None:
        return _NO_FAST_PATH
    fast = _CLoader(text)
    try:
        node: yaml.Node | None = fast.get_single_node()
        return node
    except (yaml.YAMLError, RecursionError):
        return _NO_FAST_PATH
    finally:
        fast.dispose()


_CLoader: type[yaml.CSafeLoader] | None = None
if hasattr(yaml, "CSafeLoader"):  # PyYAML built with libyaml

    class _CLoaderKeepingDates(yaml.CSafeLoader):
        """libyaml's parser with the same resolvers (no implicit timestamps)."""

    _CLoader = _CLoaderKeepingDates

_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
if _CLoader is not None:
    _CLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


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


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dotted(loc: Loc) -> str:
    """``('events', 3, 'date')`` as ``events[3].date``; an odd key is quoted, so a message stays one line."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            out += f"[{json.dumps(part[:60])}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null", "seq", "map"))


class _Builder:
    def __init__(self, doc: YamlDoc, loader: _Loader) -> None:
        self.doc = doc
        self.loader = loader
        self.problems: list[Problem] = []
        self.count = 0
        self.current: yaml.Node | None = None  # the node being built, to locate a RecursionError

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.count += 1
        self.current = node
        if self.count > MAX_NODES:
            raise _TooBigError(node)
        if node.tag not in _PLAIN_TAGS:
            # Only the plain types: a `!!python/…` tag is refused, never silently read as its content.
            self.problems.append(_at(self.doc, node, loc, f"unsupported YAML tag {node.tag!r}; expected plain values"))
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.doc.positions[(*loc, i)] = _mark(item)
                items.append(self.build(item, (*loc, i)))
            return items
        try:
            return self.loader.construct_object(node)
        except yaml.constructor.ConstructorError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:  # `!!int abc`, a 5,000-digit number, …
            message = " ".join(str(exc).split(";")[0].split())[:120]
            self.problems.append(
                _at(self.doc, node, loc, f"cannot read {node.tag.rsplit(':', 1)[-1]} value: {message}")
            )
            return None

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        # Merge keys (`<<: *defaults`) are resolved here rather than by PyYAML's flatten_mapping, which
        # copies the merged entries eagerly: nested merges of merges would grow exponentially before any
        # count could stop them. Merged mappings go through `build`, so each one counts against the
        # budget (even an empty one), and they are built first so that the positions of keys given
        # explicitly, which win, are the ones remembered.
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        self.problems.append(_at(self.doc, source, loc, "expected a mapping to merge with '<<'"))
                        continue
                    for key, value in self.build(source, loc).items():
                        result.setdefault(key, value)
        merged = set(result)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(_at(self.doc, key_node, loc, "expected a plain key, found a collection"))
                continue
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.loader.construct_object(key_node)
            if not isinstance(key, str):
                key = str(key_node.value)
            key_loc = (*loc, key)
            if key in result and key not in merged:
                first = self.doc.positions[key_loc]
                self.problems.append(
                    _at(self.doc, key_node, key_loc, f"duplicate key (first given at line {first[0]})")
                )
                continue
            merged.discard(key)
            self.doc.positions[key_loc] = _mark(key_node)
            result[key] = self.build(value_node, key_loc)
        return result


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
    try:  # a FIFO or a symlink to /dev/zero is refused, a 3 GiB file is not read (briefs/files.py)
        raw = read_limited(path, MAX_FILE_BYTES)
    except FileTooLargeError as exc:
        return None, [Problem(name, None, None, "", f"file is {exc.size:,} bytes; expected at most {MAX_FILE_BYTES:,}")]
    except OSError as exc:
        return None, [Problem(name, None, None, "", f"cannot read: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [Problem(name, line, col, "", f"expected UTF-8 text, found byte 0x{raw[exc.start]:02x}")]
    try:
        loader = _Loader(text)  # checks every character is one YAML allows
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow (NUL, most control characters): locate it from its offset.
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        return None, [Problem(name, line, col, "", f"expected printable text, found character U+{ord(char):04X}")]
    try:
        node = _compose_fast(text)
        if node is _NO_FAST_PATH:
            node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        at_line, at_col, what = explain_syntax(text, exc)  # plain words, not PyYAML's tokens (issue 14)
        return None, [Problem(name, at_line, at_col, "", f"YAML syntax: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, None, None, "", f"YAML syntax: {' '.join(str(exc).split())}")]
    except RecursionError:
        mark = loader.get_mark()
        return None, [Problem(name, mark.line + 1, mark.column + 1, "", "YAML nests too deeply")]
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
        where = exc.problem_mark
        return None, [
            Problem(
                name, where.line + 1 if where else None, where.column + 1 if where else None, "", f"YAML: {exc.problem}"
            )
        ]
    except RecursionError:
        if builder.current is None:
            return None, [Problem(name, None, None, "", "YAML nests too deeply")]
        return None, [_at(doc, builder.current, (), "YAML nests too deeply (or an alias refers to itself)")]
    return doc, builder.problems

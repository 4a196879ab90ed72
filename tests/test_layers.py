"""The house's one rule (issue 28): a stage imports only the stages below it, and no module imports
itself back through any chain. Read from the source (every import: top-level, lazy and type-only), so
a new import that climbs a layer fails here before it confuses a reader."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "briefs"

# Bottom to top. Stages on one rung may not import each other; a module may import its own stage.
LAYERS: list[set[str]] = [
    {"briefs", "briefs.errors", "briefs.files"},
    {"briefs.data"},
    {"briefs.formats"},
    {"briefs.compose"},
    {"briefs.pipeline"},
    {"briefs.deliver", "briefs.preview"},
    {"briefs.cli", "briefs.docgen", "briefs.docx_reference"},
    {"briefs.__main__"},
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage(module: str) -> str:
    """The stage a module belongs to: its sub-package, or itself for a top-level module."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def rung(stage_name: str) -> int:
    for i, layer in enumerate(LAYERS):
        if stage_name in layer:
            return i
    raise AssertionError(f"{stage_name}: not in any layer of tests/test_layers.py; give the new stage its place")


def imports(path: Path) -> set[str]:
    """Every briefs module ``path`` imports, anywhere in the file (``from briefs import x`` counts as briefs.x)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "briefs"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "briefs":
                continue
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(
                    sub
                    if (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".py").is_file()
                    or (PACKAGE.parent / sub.replace(".", "/")).is_dir()
                    else node.module
                )
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; the house uses absolute imports")
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_stage_folder_says_what_it_owns_and_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "Owns:" in doc and "May import:" in doc, f"{init}: docstring must say what it owns and may import"


def test_a_stage_imports_only_the_stages_below_it() -> None:
    wrong = []
    for module, targets in graph().items():
        here = stage(module)
        for target in sorted(targets):
            there = stage(target)
            if there == here or target == "briefs":
                continue
            if rung(there) >= rung(here):
                wrong.append(f"{module} imports {target} ({there} is not below {here})")
    assert not wrong, "\n".join(wrong)


def cycles(edges: dict[str, set[str]]) -> list[str]:
    """Every import cycle, each once (from its least module)."""
    found = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(edges.get(node, ())):
            if nxt == trail[0]:
                found.append(" -> ".join([*trail, nxt]))
            elif nxt not in trail and nxt in edges and nxt > trail[0]:
                visit(nxt, [*trail, nxt])

    for start in sorted(edges):
        visit(start, [start])
    return found


def test_no_module_imports_itself_back() -> None:
    found = cycles(graph())
    assert not found, "\n".join(found)


def test_the_cycle_finder_finds_a_cycle_of_three() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert cycles(edges) == ["a -> b -> c -> a"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("from briefs.pipeline.build import Options\n", "imports briefs.pipeline.build"),
        ("from briefs.preview import server\n", "imports briefs.preview.server"),
    ],
)
def test_the_rule_catches_a_climb(tmp_path: Path, source: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker itself can fail: a formats module importing the pipeline or the preview is refused."""
    fake = dict(graph())
    probe = tmp_path / "probe.py"
    probe.write_text(source, encoding="utf-8")
    fake["briefs.formats.probe"] = imports(probe)
    monkeypatch.setattr(f"{__name__}.graph", lambda: fake)
    with pytest.raises(AssertionError, match=message):
        test_a_stage_imports_only_the_stages_below_it()

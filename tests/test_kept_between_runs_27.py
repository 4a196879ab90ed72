"""Issue 27: formatted notes and compiled templates are kept between runs, named by everything they depend
on, so a forced rebuild of the same sources renders no note again (~1.4 s for the shipped briefs) and compiles
no template again (~0.25 s a process), and gets the very text a fresh render makes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("citeproc", reason="citeproc-py is not installed")

from test_citations import BYLINED, FPRI

from briefs.compose import citations
from briefs.compose.citations import Citations

SOURCES = [BYLINED, FPRI]  # a bylined news article and a think-tank commentary
CITES: list[tuple[str, int | None]] = [("rferl-2024", None), ("fpri-2022", 4), ("rferl-2024", 2), ("fpri-2022", None)]


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache folder of this test's own; yields the folder notes are kept in."""
    monkeypatch.setenv("BRIEFS_CACHE_DIR", str(tmp_path / "cache"))
    yield tmp_path / "cache" / "notes"


def _count_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every citeproc render (note or bibliography entry) from now on."""
    calls: list[str] = []
    for name in ("render_citation", "render_bibliography"):
        real = getattr(citations._Style, name)

        def spy(self: Any, *args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(citations._Style, name, spy)
    return calls


def test_notes_and_entries_are_kept_and_taken_back_without_rendering(
    kept: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Citations(SOURCES)
    notes, entries = first.notes(CITES), first.bibliography(s.id for s in SOURCES)
    (file,) = kept.iterdir()
    calls = _count_renders(monkeypatch)
    again = Citations(SOURCES)
    assert again.notes(CITES) == notes
    assert again.bibliography(s.id for s in SOURCES) == entries
    assert calls == [], "rendered again although kept"
    # With nothing kept, the same text: a hit is what citeproc returns.
    monkeypatch.setenv("BRIEFS_CACHE_DIR", "")
    fresh = Citations(SOURCES)
    assert fresh.notes(CITES) == notes and fresh.bibliography(s.id for s in SOURCES) == entries
    assert calls, "no cache set, yet nothing rendered"
    assert [p.name for p in kept.iterdir()] == [file.name], "an empty BRIEFS_CACHE_DIR kept something"


def test_an_edited_source_is_rendered_afresh(kept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Citations(SOURCES).notes(CITES)
    edited = [dataclasses.replace(SOURCES[0], title="Kazakhstan Weighs Its Choices"), SOURCES[1]]
    calls = _count_renders(monkeypatch)
    notes = Citations(edited).notes(CITES)
    assert calls, "an edited source was taken from what was kept for the old one"
    assert "Weighs Its Choices" in notes[0].text
    assert len(list(kept.iterdir())) == 2


def test_a_stray_file_is_ignored_and_remade(kept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = Citations(SOURCES).notes(CITES)
    (file,) = kept.iterdir()
    for stray in ("not json", '{"forms": [1, 2]}', '{"forms": {"rferl-2024": 3}, "entries": {}}'):
        file.write_text(stray, encoding="utf-8")
        assert Citations(SOURCES).notes(CITES) == notes
        assert '"forms": {"' in file.read_text(encoding="utf-8"), "the stray file was not remade"


def test_processes_sharing_the_folder_keep_each_others_renders(kept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two formatters of the same sources (two worker processes) render different notes; the file holds both.
    one, two = Citations(SOURCES), Citations(SOURCES)
    one.notes(CITES[:1])
    two.notes(CITES[1:2])
    calls = _count_renders(monkeypatch)
    Citations(SOURCES).notes(CITES[:2])
    assert calls == []


def test_compiled_templates_are_kept_and_an_edited_template_compiled_again(
    kept: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jinja2

    from briefs.data.audiences import TemplateDirs
    from briefs.formats import render

    shipped = tmp_path / "templates"
    (shipped / "audiences").mkdir(parents=True)
    page = shipped / "audiences" / "note.md.j2"
    page.write_text("{% for x in items %}- {{ x }}\n{% endfor %}", encoding="utf-8")
    dirs = TemplateDirs(shipped=shipped)
    monkeypatch.setattr(
        render, "_COMPILED", {"html": render._CompiledTemplates("html"), "md": render._CompiledTemplates("md")}
    )
    first = render.make_env(dirs, "md").get_template("audiences/note.md.j2").render(items=["a", "b"])
    assert first == "- a\n- b\n"
    assert list((kept.parent / "templates").glob("md-*/*.bin")), "nothing kept"

    compiled: list[str] = []
    real = jinja2.Environment.compile

    def spy(self: Any, source: Any, name: Any = None, filename: Any = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(name))
        return real(self, source, name, filename, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", spy)
    # A new process: nothing in memory, the compiled template taken from disk.
    monkeypatch.setattr(
        render, "_COMPILED", {"html": render._CompiledTemplates("html"), "md": render._CompiledTemplates("md")}
    )
    assert render.make_env(dirs, "md").get_template("audiences/note.md.j2").render(items=["a", "b"]) == first
    assert compiled == []
    # An edited template is compiled again, never taken from what was kept for the old source.
    page.write_text("{% for x in items %}* {{ x }}\n{% endfor %}", encoding="utf-8")
    monkeypatch.setattr(
        render, "_COMPILED", {"html": render._CompiledTemplates("html"), "md": render._CompiledTemplates("md")}
    )
    assert render.make_env(dirs, "md").get_template("audiences/note.md.j2").render(items=["a"]) == "* a\n"
    assert compiled == ["audiences/note.md.j2"]
    # A stray file where a compiled template was kept is compiled again, not run.
    for kept_file in (kept.parent / "templates").glob("md-*/*.bin"):
        kept_file.write_bytes(b"not a compiled template")
    monkeypatch.setattr(
        render, "_COMPILED", {"html": render._CompiledTemplates("html"), "md": render._CompiledTemplates("md")}
    )
    assert render.make_env(dirs, "md").get_template("audiences/note.md.j2").render(items=["b"]) == "* b\n"
    assert compiled == ["audiences/note.md.j2"] * 2


def test_what_planning_parses_from_templates_is_kept_and_an_edit_parsed_again(
    kept: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning reads each template's references and blocks (~0.1 s a run): kept, named by the source."""
    import jinja2

    from briefs.data.audiences import TemplateDirs
    from briefs.formats import render
    from briefs.pipeline.plan import TemplateGraph

    shipped = tmp_path / "templates"
    (shipped / "audiences").mkdir(parents=True)
    layout, page = shipped / "layout.md.j2", shipped / "audiences" / "memo.md.j2"
    layout.write_text("{% block body %}{% endblock %}{% block footer %}{% endblock %}", encoding="utf-8")
    page.write_text('{% extends "layout.md.j2" %}{% block bdy %}x{% endblock %}', encoding="utf-8")
    dirs = TemplateDirs(shipped=shipped)

    def plan_reads() -> tuple[list[str], list[str]]:
        monkeypatch.setattr(render, "TEMPLATE_FACTS", render._TemplateFacts())  # a new process
        monkeypatch.setattr("briefs.pipeline.plan.TEMPLATE_FACTS", render.TEMPLATE_FACTS)
        node = TemplateGraph(dirs).node("audiences/memo.md.j2")
        assert node is not None
        env = render.make_env(dirs, "md")
        return node[1], [p.message for p in render.unknown_blocks(env, "audiences/memo.md.j2", "memo.md.j2")]

    first = plan_reads()
    assert first[0] == ["layout.md.j2"]
    assert len(first[1]) == 1 and "'bdy'" in first[1][0] and "did you mean 'body'" in first[1][0]
    assert len(list((kept.parent / "templates").glob("facts-*/*.json"))) == 3  # memo: both questions; layout: blocks

    parsed: list[str] = []
    real = jinja2.Environment.parse

    def spy(self: Any, source: Any, name: Any = None, filename: Any = None) -> Any:
        parsed.append(str(source)[:20])
        return real(self, source, name, filename)

    monkeypatch.setattr(jinja2.Environment, "parse", spy)
    assert plan_reads() == first
    assert len(parsed) == 1, "parsed again although kept"  # only to find the wrong block's line, for its message
    # An edited template is parsed again: what was kept for its old source is not its answer.
    parsed.clear()
    page.write_text('{% extends "layout.md.j2" %}{% block body %}{% include "x.md.j2" %}{% endblock %}', "utf-8")
    assert plan_reads() == (["layout.md.j2", "x.md.j2"], [])
    assert len(parsed) == 2  # its references and its blocks; the layout's are kept
    # A stray file where a fact was kept is parsed again, not believed.
    for kept_file in (kept.parent / "templates").glob("facts-*/*.json"):
        kept_file.write_text("not a fact", encoding="utf-8")
    parsed.clear()
    assert plan_reads() == (["layout.md.j2", "x.md.j2"], [])
    assert len(parsed) == 3


def test_the_cache_stays_bounded_keeping_the_newest(kept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from briefs.files import prune

    monkeypatch.setattr(citations, "KEPT_NOTES", 2)
    for n, title in enumerate(["One", "Two", "Three"]):
        before = set(kept.iterdir()) if kept.exists() else set()
        Citations([dataclasses.replace(BYLINED, title=title), FPRI]).notes(CITES)
        for file in set(kept.iterdir()) - before:  # each state's file plainly newer, whatever the clock's grain
            os.utime(file, ns=(10**18 + n * 10**12,) * 2)
    assert len(list(kept.iterdir())) == 2
    calls = _count_renders(monkeypatch)
    Citations([dataclasses.replace(BYLINED, title="Three"), FPRI]).notes(CITES)
    assert calls == [], "the newest was pruned"
    # Folders go too, and what cannot be listed is left alone.
    folder = kept.parent / "other"
    for name in ("a", "b", "c"):
        (folder / name).mkdir(parents=True)
        os.utime(folder / name, ns=(10**12 * ord(name),) * 2)
    prune(folder, 1)
    assert [p.name for p in folder.iterdir()] == ["c"]
    prune(kept.parent / "missing", 1)


def test_pandoc_s_word_document_is_kept_and_an_edit_converted_again(
    kept: Path, tmp_path: Path, mini_data: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pandoc is most of a Word rebuild (~0.12 s a brief): its output is kept, named by its whole input, and a
    forced rebuild of the same brief gets the very bytes pandoc makes, with no pandoc run."""
    from briefs.formats import docx

    runs: list[int] = []
    real = docx.run_pandoc

    def spy(args: list[str], stdin: bytes = b"", epoch: int = 0) -> bytes:
        runs.append(len(stdin))
        return real(args, stdin, epoch)

    monkeypatch.setattr(docx, "run_pandoc", spy)
    out = tmp_path / "out"

    def build(*extra: str) -> bytes:
        code, _, err = run_cli(
            "--data",
            mini_data,
            "--out",
            out,
            "--format",
            "docx",
            "--audience",
            "desk",
            "--jobs",
            "1",
            "--force",
            *extra,
        )
        assert code == 0, err
        return (out / "mini" / "desk.docx").read_bytes()

    first = build()
    assert len(runs) == 1 and len(list((kept.parent / "pandoc").glob("*.docx"))) == 1
    assert build() == first and len(runs) == 1, "pandoc ran again although its output was kept"
    # With nothing kept, pandoc runs and gives the same bytes.
    monkeypatch.setenv("BRIEFS_CACHE_DIR", "")
    assert build() == first and len(runs) == 2
    monkeypatch.setenv("BRIEFS_CACHE_DIR", str(kept.parent))
    # A stray file where pandoc's output was kept is converted again, not used.
    for stray in (kept.parent / "pandoc").glob("*.docx"):
        stray.write_bytes(b"PK\x03\x04 not a whole zip")
    assert build() == first and len(runs) == 3
    # An edited brief is converted again.
    dataset = mini_data / "mini" / "dataset.yaml"
    dataset.write_text(dataset.read_text(encoding="utf-8").replace("bluf: ", "bluf: Edited. ", 1), encoding="utf-8")
    assert build() != first and len(runs) == 4

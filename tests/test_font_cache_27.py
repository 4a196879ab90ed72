"""Issue 27: a Word brief's subset fonts are kept between runs, named by what makes them, so a rebuild
of the same brief does not subset again (~0.3 s a face) and gets the very bytes subsetting makes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from briefs.formats import docx_fonts
from briefs.formats.docx_fonts import shipped_face, subset_face

CHARACTERS = frozenset("Kazakhstan between Moscow and the West, 2022 — “balancing”")


@pytest.fixture
def face() -> Path:
    path = shipped_face("Liberation Serif", "Regular")
    assert path is not None
    return path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache folder of this test's own, and no subset remembered in this process before or after it."""
    monkeypatch.setenv("BRIEFS_CACHE_DIR", str(tmp_path / "cache"))
    subset_face.cache_clear()
    yield tmp_path / "cache" / "fonts"
    subset_face.cache_clear()


def test_a_subset_is_kept_and_taken_back_as_the_same_bytes(
    face: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = subset_face(face, CHARACTERS)
    assert made == docx_fonts._subset(face.read_bytes(), CHARACTERS)
    (kept,) = cache.iterdir()
    assert kept.read_bytes() == made
    subset_face.cache_clear()

    def no_subsetting(data: bytes, characters: frozenset[str]) -> bytes:
        raise AssertionError("subset again although it was kept")

    monkeypatch.setattr(docx_fonts, "_subset", no_subsetting)
    assert subset_face(face, CHARACTERS) == made
    # Other characters are another subset: not taken from the kept one.
    subset_face.cache_clear()
    with pytest.raises(AssertionError, match="subset again"):
        subset_face(face, CHARACTERS | {"Ж"})


def test_a_stray_file_is_remade_and_an_empty_setting_keeps_nothing(
    face: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = subset_face(face, CHARACTERS)
    (kept,) = cache.iterdir()
    kept.write_bytes(b"<html>not a font</html>")
    subset_face.cache_clear()
    assert subset_face(face, CHARACTERS) == made
    assert kept.read_bytes() == made
    monkeypatch.setenv("BRIEFS_CACHE_DIR", "")
    subset_face.cache_clear()
    assert docx_fonts.cache_dir() is None
    assert subset_face(face, CHARACTERS | {"Ж"}) == docx_fonts._subset(face.read_bytes(), CHARACTERS | {"Ж"})
    assert len(list(cache.iterdir())) == 1


def _read_with_fonttools(family: str, bold: bool) -> tuple[dict[int, float], float]:
    from fontTools.ttLib import TTFont

    path = shipped_face(family, "Bold" if bold else "Regular")
    assert path is not None
    tt = TTFont(path)
    scale = tt["head"].unitsPerEm
    metrics = tt["hmtx"].metrics
    widths = {code: metrics[glyph][0] / scale for code, glyph in tt.getBestCmap().items() if glyph in metrics}
    return widths, sum(widths.values()) / len(widths)


@pytest.mark.parametrize(("family", "bold"), [("Liberation Sans", False), ("Liberation Serif", True)])
def test_the_advance_widths_are_kept_exactly(
    family: str, bold: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The widths Word tables are measured in, kept beside the subsets: the same floats as fontTools reads.
    from briefs.formats import docx

    monkeypatch.setenv("BRIEFS_CACHE_DIR", str(tmp_path / "cache"))
    docx._advances.cache_clear()
    made = docx._advances(family, bold)
    (kept,) = (tmp_path / "cache" / "advances").iterdir()
    docx._advances.cache_clear()
    taken = docx._advances(family, bold)
    docx._advances.cache_clear()
    assert made == taken == _read_with_fonttools(family, bold)
    # A file that is not a table is read from the font again, and replaced.
    kept.write_text('{"widths": [1, 2]}', encoding="utf-8")
    assert docx._advances(family, bold) == made
    assert '"mean"' in kept.read_text(encoding="utf-8")
    docx._advances.cache_clear()
    assert docx._advances(family, bold) == made
    docx._advances.cache_clear()

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

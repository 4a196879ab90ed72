"""docs/data-format.md is generated from the schema, and every example in it is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from briefs import docgen


def test_data_format_doc_is_current() -> None:
    committed = docgen.DOC.read_text(encoding="utf-8")
    assert committed == docgen.generate(), "docs/data-format.md is stale: run python -m briefs.docgen --write"


def test_every_record_kind_has_an_example() -> None:
    documented = {cls for cls, _, _ in docgen.DATA_KINDS}
    from briefs.data import model

    kinds = {model.Dataset.model_fields[k].annotation for k in model.Dataset.model_fields if k not in ("id", "info")}
    record_classes = {getattr(k, "__args__", (None,))[0] for k in kinds}
    assert record_classes <= documented
    assert model.DatasetInfo in documented


@pytest.mark.parametrize(("cls", "value"), docgen.examples(), ids=lambda v: getattr(v, "__name__", ""))
def test_examples_validate(cls: type[BaseModel], value: dict[str, object]) -> None:
    cls.model_validate(value)


def test_every_nested_record_is_documented_with_an_example() -> None:
    from briefs.data import model

    documented = {cls for cls, _, _ in docgen.DATA_KINDS}
    assert set(docgen.nested_models(model.Dataset)) <= documented
    assert model.Paragraph in documented
    assert "### Paragraph" in docgen.generate()


def test_every_section_kind_says_what_it_shows() -> None:
    import typing

    from briefs.data import model

    kinds = typing.get_args(model.SectionKind)
    assert [k for k in kinds if not docgen.SECTION_SHOWS.get(k)] == []
    assert set(docgen.SECTION_SHOWS) <= set(kinds)
    assert "| `judgments` | Judgments |" in docgen.generate()


def test_audiences_doc_reference_is_current() -> None:
    committed = docgen.AUDIENCES_DOC.read_text(encoding="utf-8")
    assert committed == docgen.audiences_doc(committed), (
        "docs/audiences.md is stale: run python -m briefs.docgen --write"
    )


def test_every_template_variable_is_documented(mini_data: Path) -> None:
    from briefs.compose.fit import context_for
    from briefs.compose.select import select
    from briefs.data.load import load_audience, load_datasets
    from tests.conftest import SHIPPED_TEMPLATES

    (loaded,) = load_datasets(mini_data)
    audience, _ = load_audience(SHIPPED_TEMPLATES / "audiences" / "desk.yaml")
    assert audience is not None
    context = context_for(select(loaded.dataset, audience.audience), "md")
    assert list(context) == list(docgen.TEMPLATE_VARIABLES)
    for name, cls in docgen.template_objects().items():
        for attr in docgen.public_attributes(cls):
            meaning = docgen.ATTRIBUTES.get(name, {}).get(attr) or docgen._first_line(getattr(cls, attr, None))
            assert meaning, f"{name}.{attr} has no description: add it to docgen.ATTRIBUTES"

"""docs/data-format.md is generated from the schema, and every example in it is valid."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from briefs import docgen


def test_data_format_doc_is_current() -> None:
    committed = docgen.DOC.read_text(encoding="utf-8")
    assert committed == docgen.generate(), "docs/data-format.md is stale: run python -m briefs.docgen --write"


def test_every_record_kind_has_an_example() -> None:
    documented = {cls for cls, _, _ in docgen.DATA_KINDS}
    from briefs import model

    kinds = {model.Dataset.model_fields[k].annotation for k in model.Dataset.model_fields if k not in ("id", "info")}
    record_classes = {getattr(k, "__args__", (None,))[0] for k in kinds}
    assert record_classes <= documented
    assert model.DatasetInfo in documented


@pytest.mark.parametrize(("cls", "value"), docgen.examples(), ids=lambda v: getattr(v, "__name__", ""))
def test_examples_validate(cls: type[BaseModel], value: dict[str, object]) -> None:
    cls.model_validate(value)

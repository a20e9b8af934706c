"""allow_overlap: the only way to import a window another import already holds (rule 6)."""

from __future__ import annotations

from typing import Any

import pytest

from cloudtrail_lake_import import CloudTrailLakeImportPropsError
from tests.construct.conftest import Synth, only


def test_by_default_the_handler_refuses_an_overlap_and_the_template_says_nothing(
    synth: Synth,
) -> None:
    _, _, template = synth()
    assert "AllowOverlap" not in only(template, "Custom::CloudTrailLakeImport")["Properties"]


def test_allow_overlap_reaches_the_handler_as_a_string(synth: Synth) -> None:
    _, _, template = synth(allow_overlap=True)
    props = only(template, "Custom::CloudTrailLakeImport")["Properties"]
    assert props["AllowOverlap"] == "true"


@pytest.mark.parametrize("value", ["true", 1, None])
def test_allow_overlap_must_be_a_bool(synth: Synth, value: Any) -> None:
    with pytest.raises(CloudTrailLakeImportPropsError, match=r"^allow_overlap must be a bool"):
        synth(allow_overlap=value)

"""``@frozen`` behaves as ``@dataclass(frozen=True)`` does for what the handlers use of it."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar
from unittest import mock

import pytest

from import_handler.frozen import frozen, replace


@frozen
class Point:
    x: int
    y: int = 0
    labels: Mapping[str, str] = MappingProxyType({})

    @property
    def total(self) -> int:
        return self.x + self.y


@frozen
class Pair:
    first: int
    second: int


class Marked(Point):
    """A subclass with no fields of its own: equal only to its own kind, as with dataclasses."""


@dataclasses.dataclass(frozen=True)
class DataPoint:
    x: int
    y: int = 0
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)


def test_construction_by_position_or_keyword_with_defaults() -> None:
    assert (Point(1).x, Point(1).y, Point(1).labels) == (1, 0, {})
    assert Point(1, 2) == Point(x=1, y=2) == Point(y=2, x=1)
    assert Point(1, 2).total == 3


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "Point() missing required argument: 'x'"),
        ((1, 2, {}, 4), {}, "Point() takes 3 positional arguments, 4 given"),
        ((1,), {"z": 2}, "Point() got an unexpected keyword argument 'z'"),
        ((1,), {"x": 2}, "Point() got multiple values for argument 'x'"),
    ],
)
def test_wrong_arguments_are_refused_as_a_call_would_refuse_them(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError) as raised:
        Point(*args, **kwargs)  # type: ignore[arg-type]

    assert str(raised.value) == message


def test_fields_can_be_neither_assigned_nor_deleted() -> None:
    point = Point(1)

    with pytest.raises(dataclasses.FrozenInstanceError, match="'x'"):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="'y'"):
        del point.y
    assert point == Point(1)


def test_equality_and_hash_are_by_exact_type_and_values_as_a_frozen_dataclass() -> None:
    assert Point(1, 2) != Point(1, 3)
    assert Point(1) != Marked(1)
    assert Point(1) != (1, 0, {})  # type: ignore[comparison-overlap]
    assert Marked(1) == Marked(1)
    assert len({Pair(1, 2), Pair(1, 2), Pair(2, 2)}) == 2
    with pytest.raises(TypeError, match="unhashable"):
        hash(Point(1))  # a mapping field, as in a frozen dataclass holding a dict
    assert Point(1) == mock.ANY  # NotImplemented lets the other side decide


def test_repr_reads_as_a_dataclass_repr() -> None:
    ours, theirs = Point(1, 2, {"a": "b"}), DataPoint(1, 2, {"a": "b"})

    assert repr(ours) == repr(theirs).replace("DataPoint", "Point")
    assert repr(Marked(1)) == "Marked(x=1, y=0, labels=mappingproxy({}))"


def test_replace_changes_the_named_fields_and_keeps_the_type() -> None:
    changed = replace(Marked(1, 2), y=5)

    assert changed == Marked(1, 5)
    assert type(changed) is Marked
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        replace(Point(1), z=3)


def test_match_args_allow_positional_patterns() -> None:
    match Point(1, 2):
        case Point(x, y):
            assert (x, y) == (1, 2)
        case _:
            pytest.fail("no match")


def test_instances_survive_pickling() -> None:
    assert pickle.loads(pickle.dumps(Pair(1, 2))) == Pair(1, 2)


def test_a_mutable_default_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(ValueError, match=r"Shared\.items: a mutable default is shared"):

        @frozen
        class Shared:
            items: list[str] = []  # noqa: RUF012 - the mistake under test


def test_a_field_without_a_default_after_one_with_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match=r"Late\.b: a field without a default follows"):

        @frozen
        class Late:
            a: int = 0
            b: int  # type: ignore[misc]


def test_a_frozen_subclass_adds_its_fields_after_its_bases() -> None:
    @frozen
    class Labelled(Point):
        name: str = ""

    assert Labelled(1, 2, {}, "a") == Labelled(x=1, y=2, name="a")
    assert Labelled.__match_args__ == ("x", "y", "labels", "name")


def test_a_field_redeclared_in_a_subclass_or_a_class_variable_is_refused() -> None:
    with pytest.raises(TypeError, match=r"Again\.x: redeclares a field of a base class"):

        @frozen
        class Again(Point):
            x: int = 3

    with pytest.raises(TypeError, match=r"Counted\.count: @frozen takes no ClassVar"):

        @frozen
        class Counted:
            count: ClassVar[int] = 0


def test_copy_replace_uses_the_same_replace() -> None:
    # copy.replace (Python 3.13 and the Lambda runtime) calls __replace__.
    assert Marked(1).__replace__(y=4) == Marked(1, 4)  # type: ignore[attr-defined]

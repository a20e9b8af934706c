"""Immutable value classes for the handler: ``@frozen`` and ``replace``.

``@dataclass(frozen=True)`` writes six methods as source text for every class and compiles them
when the class is created: about 0.4 ms a class on Python 3.13, paid again on every cold start
because Lambda's /var/task is read-only and keeps no bytecode (benchmarks/RESULTS.md, cold
start). ``@frozen`` gives a class the same behaviour from functions shared by all of them, with
nothing to compile: construction by position or keyword with defaults, equality and hash by type
and field values, a dataclass-like repr, no assignment or deletion after construction
(``dataclasses.FrozenInstanceError``), ``__match_args__``, and ``replace`` (``copy.replace`` too).
Type checkers treat a ``@frozen`` class as a frozen dataclass (``dataclass_transform``), so they
would not flag ``dataclasses.replace`` or ``dataclasses.fields`` on one: those raise TypeError.

Fields are a class's own annotations, after those of a ``@frozen`` base; a field with a default
keeps it as a class attribute, as in a dataclass. Defaults are shared between instances, so a
mutable one (list, dict, set) is refused: an empty mapping is ``MappingProxyType({})``, which
``json`` cannot serialize (copy it into a dict first, as the answers do). A redeclared field or a
``ClassVar`` is refused.
"""

from __future__ import annotations

import inspect
from dataclasses import FrozenInstanceError
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")

_FIELDS = "__frozen_fields__"
_DEFAULTS = "__frozen_defaults__"


@dataclass_transform(frozen_default=True)
def frozen(cls: type[T]) -> type[T]:
    annotations = inspect.get_annotations(cls)
    inherited: tuple[str, ...] = getattr(cls, _FIELDS, ())
    own = tuple(annotations)
    for name in own:
        if name in inherited:
            raise TypeError(f"{cls.__qualname__}.{name}: redeclares a field of a base class")
        if str(annotations[name]).startswith(("ClassVar", "typing.ClassVar")):
            raise TypeError(f"{cls.__qualname__}.{name}: @frozen takes no ClassVar")
    fields = inherited + own
    defaults: dict[str, Any] = dict(getattr(cls, _DEFAULTS, {}))
    for name in own:
        if name in cls.__dict__:
            defaults[name] = cls.__dict__[name]
    _check(cls.__qualname__, fields, defaults)
    for attribute, value in (
        (_FIELDS, fields),
        (_DEFAULTS, defaults),
        ("__match_args__", fields),
        ("__init__", _init),
        ("__repr__", _repr),
        ("__eq__", _eq),
        ("__hash__", _hash),
        ("__setattr__", _refuse_assignment),
        ("__delattr__", _refuse_deletion),
        ("__replace__", replace),  # copy.replace, from Python 3.13
    ):
        setattr(cls, attribute, value)
    return cls


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the ``@frozen`` instance ``obj`` with ``changes`` to some of its fields."""
    values = {name: getattr(obj, name) for name in getattr(obj, _FIELDS)}
    return type(obj)(**{**values, **changes})


def _check(qualname: str, fields: tuple[str, ...], defaults: dict[str, Any]) -> None:
    seen_default = False
    for name in fields:
        if name in defaults:
            seen_default = True
            if isinstance(defaults[name], list | dict | set):
                raise ValueError(f"{qualname}.{name}: a mutable default is shared; use another")
        elif seen_default:
            raise TypeError(f"{qualname}.{name}: a field without a default follows one with one")


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    fields: tuple[str, ...] = getattr(cls, _FIELDS)
    if len(args) > len(fields):
        raise TypeError(
            f"{cls.__qualname__}() takes {len(fields)} positional arguments, {len(args)} given"
        )
    values = dict(zip(fields, args, strict=False))
    for name, value in kwargs.items():
        if name not in fields:
            raise TypeError(f"{cls.__qualname__}() got an unexpected keyword argument {name!r}")
        if name in values:
            raise TypeError(f"{cls.__qualname__}() got multiple values for argument {name!r}")
        values[name] = value
    defaults: dict[str, Any] = getattr(cls, _DEFAULTS)
    for name in fields:
        if name in values:
            object.__setattr__(self, name, values[name])
        elif name in defaults:
            object.__setattr__(self, name, defaults[name])
        else:
            raise TypeError(f"{cls.__qualname__}() missing required argument: {name!r}")


def _values(obj: Any) -> tuple[Any, ...]:
    return tuple(getattr(obj, name) for name in getattr(obj, _FIELDS))


def _repr(self: Any) -> str:
    fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in getattr(self, _FIELDS))
    return f"{type(self).__qualname__}({fields})"


def _eq(self: Any, other: object) -> bool:
    if type(other) is not type(self):
        return NotImplemented  # type: ignore[no-any-return]
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _refuse_assignment(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_deletion(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")

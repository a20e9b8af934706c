"""The continuation chain of a plan's execution: ``<execution name>-cont-<N>``, N = 1, 2, ...

Step Functions ends a Standard execution at 25,000 history events. Before that, the plan's
state machine starts a fresh execution of itself at the segment it was following, named by the
rules below (the definition builds the same name with ``States.Format``); the custom resource,
``status --stack`` and the finish events follow the chain through these names. Pure: no AWS.
"""

from __future__ import annotations

import re

#: What Step Functions accepts as an execution name.
MAX_NAME_LENGTH = 80
SEPARATOR = "-cont-"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_LINK = re.compile(r"^(?P<root>.+?)-cont-(?P<number>[1-9][0-9]*)$")


class ChainNameError(ValueError):
    """A name that cannot be (or cannot have) a link of a continuation chain."""


def continuation_name(root: str, number: int) -> str:
    """The name of the ``number``-th continuation of the execution named ``root`` (0: root)."""
    check_root(root)
    if number < 0:
        raise ChainNameError(f"a continuation number is 0 or more; got {number}")
    if number == 0:
        return root
    name = f"{root}{SEPARATOR}{number}"
    if len(name) > MAX_NAME_LENGTH:
        raise ChainNameError(
            f"continuation {number} of {root!r} would be {len(name)} characters; "
            f"Step Functions allows {MAX_NAME_LENGTH}"
        )
    return name


def check_root(root: str) -> None:
    """A root is a valid execution name that is not itself a continuation."""
    if not _NAME.match(root):
        raise ChainNameError(
            f"an execution name is 1 to {MAX_NAME_LENGTH} characters of A-Z, a-z, 0-9, - and _; "
            f"got {root!r}"
        )
    if _LINK.match(root):
        raise ChainNameError(f"{root!r} is a continuation, not the root of a chain")


def parse(name: str) -> tuple[str, int]:
    """(root, N) of a link's name; N = 0 for the root itself."""
    if not _NAME.match(name):
        raise ChainNameError(f"not an execution name: {name!r}")
    link = _LINK.match(name)
    if link is None:
        return name, 0
    return link["root"], int(link["number"])


def next_name(name: str) -> str:
    """The name of the continuation that follows the execution ``name``."""
    root, number = parse(name)
    return continuation_name(root, number + 1)


def is_link_of(root: str, name: str) -> bool:
    """True when ``name`` is ``root`` or one of its continuations."""
    try:
        return parse(name)[0] == root
    except ChainNameError:
        return False


def execution_arn(any_link_arn: str, number: int) -> str:
    """The ARN of link ``number`` of the chain that ``any_link_arn`` (an execution ARN) is in."""
    prefix, colon, name = any_link_arn.rpartition(":")
    if not colon or ":execution:" not in prefix:
        raise ChainNameError(f"not an execution ARN: {any_link_arn!r}")
    root, _ = parse(name)
    return f"{prefix}:{continuation_name(root, number)}"


def number_of(arn_or_name: str) -> int:
    """N of an execution ARN or name (0 for the root)."""
    return parse(arn_or_name.rpartition(":")[2])[1]

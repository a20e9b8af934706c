"""Which uncompressed sizes a gzip trailer can stand for (``cli.trailer``)."""

from __future__ import annotations

import gzip
import os

import pytest

from cloudtrail_lake_import.handler_rules import trailer


def isize_of(body: bytes) -> int:
    return int.from_bytes(body[-4:], "little")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{}",
        b'{"Records": []}' * 10_000,  # compresses about 700:1
        b"\0" * 3_000_000,  # about the deflate limit (stored at level 0: under 4 GiB / 1032)
        os.urandom(300_000),  # incompressible: stored blocks
    ],
    ids=["empty", "tiny", "records", "zeros", "random"],
)
def test_real_gzip_files_have_exactly_their_length(content: bytes) -> None:
    for level in (0, 1, 9):
        body = gzip.compress(content, compresslevel=level)
        assert trailer.candidate_lengths(len(body), isize_of(body)) == [len(content)]


def test_junk_gives_no_length() -> None:
    assert trailer.candidate_lengths(29, 555_819_297) == []
    assert trailer.candidate_lengths(1_000_000, 10) == []  # far too small for its size


def test_a_file_that_may_hold_4_gib_or_more_is_ambiguous() -> None:
    compressed = 10_000_000  # up to about 10 GB uncompressed
    assert trailer.candidate_lengths(compressed, 50_000_000) == [
        50_000_000,
        50_000_000 + 2**32,
        50_000_000 + 2 * 2**32,
    ]


def test_a_wrapped_isize_is_exact_when_only_one_length_fits() -> None:
    compressed = 2**32 + 1000  # at least about 4 GiB uncompressed, stored
    lowest = trailer.smallest_length(compressed)
    isize = (lowest + 5) % 2**32
    lengths = trailer.candidate_lengths(compressed, isize)
    assert lengths[0] == lowest + 5
    assert len(lengths) > 1  # and up to 1032 times more: still ambiguous


def test_check_keeps_certain_sizes_and_names_the_others() -> None:
    body = gzip.compress(b"x" * 1000)
    checked = trailer.check(
        {"good": isize_of(body), "junk": 555_819_297, "big": 7, "tiny": 0},
        {"good": len(body), "junk": 29, "big": 10_000_000, "tiny": 5},
    )
    # an ambiguous file counts at its smallest length (the likely one), but not as exact; a
    # file too small to be gzip is a problem CloudTrail fails, not a file of 0 bytes
    assert checked.sizes == {"good": 1000, "big": 7 + 2**32}
    assert (checked.implausible, checked.ambiguous, checked.unsized) == (
        ["junk", "tiny"],
        ["big"],
        3,
    )
    assert not checked.exact
    assert trailer.check({"good": isize_of(body)}, {"good": len(body)}).exact

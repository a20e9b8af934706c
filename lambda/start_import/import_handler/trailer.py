"""Which uncompressed sizes a gzip trailer's ISIZE can stand for, given the file's size.

ISIZE (RFC 1952) is the uncompressed length modulo 2**32, so the true length is
``isize + k * 2**32`` for some k >= 0. Deflate bounds it from both sides: at most
``MAX_DEFLATE_RATIO`` times the compressed data, and at least the compressed data less the
stored blocks' framing (incompressible input grows by 5 bytes per stored block). A trailer no
length fits in (a corrupt or non-gzip ``.json.gz``) gives no size: the estimate extrapolates
it. One several lengths fit in (a file over 4 GiB / 1032 = 4.2 MB that may hold 4 GiB or more)
counts at its smallest length, the likely one, but the estimate is then not exact.
"""

from __future__ import annotations

from dataclasses import dataclass

ISIZE_MODULUS = 2**32
#: The 10-byte header and 8-byte trailer of a gzip member without optional header fields.
GZIP_FRAMING_BYTES = 18
#: Deflate's largest expansion ratio (258-byte matches in about 2 bits each).
MAX_DEFLATE_RATIO = 1032
#: Stored-block framing of a deflate stream (5 bytes per block of at least 16 KiB).
STORED_BLOCK_OVERHEAD = 5
MIN_STORED_BLOCK = 16 * 1024


def smallest_length(compressed: int) -> int:
    """The fewest uncompressed bytes a gzip member of ``compressed`` bytes can hold."""
    deflate = compressed - GZIP_FRAMING_BYTES - STORED_BLOCK_OVERHEAD
    if deflate <= 0:
        return 0
    return deflate * MIN_STORED_BLOCK // (MIN_STORED_BLOCK + STORED_BLOCK_OVERHEAD)


def largest_length(compressed: int) -> int:
    """The most uncompressed bytes a gzip member of ``compressed`` bytes can hold."""
    return max(0, compressed - GZIP_FRAMING_BYTES) * MAX_DEFLATE_RATIO


def candidate_lengths(compressed: int, isize: int) -> list[int]:
    """Every uncompressed length of ``compressed`` bytes whose ISIZE is ``isize``."""
    lowest, highest = smallest_length(compressed), largest_length(compressed)
    k = max(0, -(-(lowest - isize) // ISIZE_MODULUS))
    lengths = []
    while (length := isize + k * ISIZE_MODULUS) <= highest:
        lengths.append(length)
        k += 1
    return lengths


@dataclass(frozen=True)
class CheckedSizes:
    """The sizes a trailer determines, and the keys whose trailer determines none."""

    sizes: dict[str, int]  # without the implausible files; the ambiguous at their smallest
    implausible: list[str]  # no length fits: corrupt, not gzip, or too small to be gzip
    ambiguous: list[str]  # several lengths fit: may hold 4 GiB or more

    @property
    def unsized(self) -> int:
        """Files whose trailer gives no certain size."""
        return len(self.implausible) + len(self.ambiguous)

    @property
    def exact(self) -> bool:
        return not self.unsized


def check(isizes: dict[str, int], compressed: dict[str, int]) -> CheckedSizes:
    """Each file's length when its ISIZE and compressed size allow one; see the module.

    A file too small to be gzip (an empty ``.json.gz``, a truncated copy) is implausible too:
    CloudTrail fails it, and a "0 bytes" would hide it.
    """
    sizes: dict[str, int] = {}
    implausible: list[str] = []
    ambiguous: list[str] = []
    for key, isize in isizes.items():
        size = compressed[key]
        if size < GZIP_FRAMING_BYTES:
            implausible.append(key)
            continue
        lengths = candidate_lengths(size, isize)
        if not lengths:
            implausible.append(key)
            continue
        sizes[key] = lengths[0]
        if len(lengths) > 1:
            ambiguous.append(key)
    return CheckedSizes(sizes, sorted(implausible), sorted(ambiguous))

"""CloudTrail Lake ingestion prices per GB of uncompressed data, by the store's billing mode.

From AWS's CloudTrail pricing page (https://aws.amazon.com/cloudtrail/pricing/), US East
(N. Virginia), CloudTrail events, first volume tier, as announced with the one-year extendable
retention option on PRICES_AS_OF. Other regions, volume tiers and later changes differ: pass
``--price-per-gb`` with the price that applies to you.
"""

from __future__ import annotations

from datetime import date

PRICES_AS_OF = date(2023, 9, 20)
SOURCE_URL = "https://aws.amazon.com/cloudtrail/pricing/"
SOURCE = f"AWS CloudTrail pricing, US East (N. Virginia), first tier, as of {PRICES_AS_OF}"
PRICE_PER_GB_USD = {
    "EXTENDABLE_RETENTION_PRICING": 0.75,  # one-year extendable retention pricing
    "FIXED_RETENTION_PRICING": 2.50,  # seven-year retention pricing
}
DEFAULT_BILLING_MODE = "EXTENDABLE_RETENTION_PRICING"
#: GB as decimal 10**9 bytes: a bill counted in 2**30-byte GB is about 7 % lower.
BYTES_PER_GB = 10**9


def cost_usd(uncompressed_bytes: int, price_per_gb: float) -> float:
    return round(uncompressed_bytes / BYTES_PER_GB * price_per_gb, 6)

"""Dates as people type them (docs/rules.md#dates): ``2026-10-01``, ``2026/10/1``,
``2026.10.1`` and ``2026年10月1日``, with or without leading zeros, full-width digits
included. One parser for every form that takes a date, and one hint for its message.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

__all__ = ["DATE_FORMATS", "DATE_HINT", "parse_date"]

#: The accepted forms, tried in order (``strptime`` takes ``1`` as well as ``01``).
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")
#: How a message names the expected format.
DATE_HINT = "2026-10-01、2026/10/1 或 2026.10.1"


def parse_date(text: str | None) -> date | None:
    """Read a calendar date in one of ``DATE_FORMATS``; None when it is none of them."""
    # NFKC turns full-width digits and slashes (２０２６／１０／１) into ASCII ones.
    cleaned = unicodedata.normalize("NFKC", text or "").strip().replace(" ", "")
    if not re.match(r"\d{4}\D", cleaned):
        return None  # a four-digit year first: "26/10/1" is not year 26
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None

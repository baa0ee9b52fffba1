"""Column helpers shared by the models."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Numeric

#: Points: at most two decimals (docs/rules.md#scheme-rules).
Points = Numeric(9, 2, asdecimal=True)
#: Raw measured values: exact, six decimals are plenty for rates and counts.
Value = Numeric(20, 6, asdecimal=True)
#: Fractions and floors in [0, 1].
Fraction = Numeric(7, 6, asdecimal=True)


def utcnow() -> datetime:
    """Return the current UTC time without tzinfo (stored as UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def plain(value: Decimal | None) -> str | None:
    """Format a Decimal without exponent or trailing zeros beyond what it holds."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text

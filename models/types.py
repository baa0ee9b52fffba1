"""Column helpers shared by the models."""

from datetime import UTC, datetime

from sqlalchemy import Numeric

# The one decimal formatter (evaluation/core/numbers.py), re-exported for older imports.
from evaluation.core.numbers import plain  # noqa: F401

#: Points: at most two decimals (docs/rules.md#scheme-rules).
Points = Numeric(9, 2, asdecimal=True)
#: Raw measured values: exact, six decimals are plenty for rates and counts.
Value = Numeric(20, 6, asdecimal=True)
#: Fractions and floors in [0, 1].
Fraction = Numeric(7, 6, asdecimal=True)


def utcnow() -> datetime:
    """Return the current UTC time without tzinfo (stored as UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)

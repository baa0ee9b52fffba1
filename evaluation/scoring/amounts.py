"""Exact amounts: the Decimal context of the engine and the two-decimal rounding ``q``."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

#: Every engine computation runs in this context (docs/rules.md#exact-amounts: precision 28).
CONTEXT = Context(prec=28, rounding=ROUND_HALF_UP)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ONE = Decimal(1)


def q(amount: Decimal) -> Decimal:
    """Round an amount half-up to two decimals."""
    # Positional arguments: quantize takes keywords at about twice the cost.
    rounded = amount.quantize(CENT, ROUND_HALF_UP, CONTEXT)
    # Half-up rounding of a tiny negative gives "-0.00", which a ledger must never print.
    return rounded.copy_abs() if rounded.is_zero() else rounded


def format_amount(amount: Decimal) -> str:
    """Format an amount as a string with exactly two decimals (``12.30``, ``0.00``)."""
    # q inlined: a province ranking formats some 40,000 amounts. With exponent -2,
    # str() never uses exponent notation, so it prints what format(..., "f") would.
    rounded = amount.quantize(CENT, ROUND_HALF_UP, CONTEXT)
    return str(rounded.copy_abs() if rounded.is_zero() else rounded)


def has_two_decimals_at_most(amount: Decimal) -> bool:
    """Tell whether an amount is already exact at two decimals."""
    return amount == amount.quantize(CENT, rounding=ROUND_HALF_UP, context=CONTEXT)

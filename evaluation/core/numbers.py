"""The one decimal formatter: how the ledger writes a Decimal as text, outside the engine.

Three ways, each named once:

- ``plain``: as people type it, no exponent and no trailing zeros (``6.500000`` → ``6.5``,
  ``1E+2`` → ``100``) — messages, hints, templates, the import template, ``Score.value_text``;
- ``exact``: every digit the Decimal holds, no exponent (``6.500000`` stays,
  ``1E+2`` → ``100``) — the history's before/after (hashed: docs/rules.md#history-chain)
  and the model views' CSV export;
- ``shown``: two decimals, more only when they matter (``6.000000`` → ``6.00``,
  ``0.123400`` → ``0.1234``) — the model views' lists and read-only fields.

The engine formats its own results (``evaluation/scoring/amounts.py: format_amount``,
exactly two decimals, docs/rules.md#exact-amounts) and stays independent of this module.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["exact", "plain", "shown"]

_CENT = Decimal("0.01")


def plain(value: Decimal | None) -> str | None:
    """Write a Decimal as typed: ``100``, ``0.85``, ``6.5``; None stays None."""
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f")


def exact(value: Decimal) -> str:
    """Write every digit a Decimal holds, without exponent: ``2.50``, ``1E+2`` → ``100``."""
    return format(value, "f")


def shown(value: Decimal) -> str:
    """Write an amount as people read it: two decimals, more only when they matter.

    ``6.000000`` → ``6.00``, ``0.600000`` → ``0.60``, ``0.123400`` → ``0.1234``.
    """
    cents = value.quantize(_CENT)
    return format(cents if cents == value else value.normalize(), "f")

"""What a spreadsheet must never run: the formula guard every CSV and XLSX export uses.

In CSV and XLSX a text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage
return gets a leading ``'``, so a spreadsheet shows it as text and never runs it as a
formula (OWASP CSV injection); numbers stay numbers (docs/rules.md#history-chain, the
formula guard). The history export, the model views' exports and the ranking workbook
all ask this module.
"""

from __future__ import annotations

__all__ = ["FORMULA_FIRST", "FORMULA_STARTS", "neutralize"]

#: Starting characters a spreadsheet would read as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The same, as a set: ``text[0] in FORMULA_FIRST`` is the fast test for a hot loop.
FORMULA_FIRST = frozenset(FORMULA_STARTS)


def neutralize(value):
    """Prefix a text cell a spreadsheet would run as a formula with ``'``; others pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

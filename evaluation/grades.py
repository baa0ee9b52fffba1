"""What a ranking result shows while values are missing (docs/missing-values.md).

The engine grades every unit, missing values counting 0; a reader must not take that
for a judgement. Every page, export, print sheet and the CLI ask ``shown_grade``; pages
that follow a unit across periods leave out a period without any value
(``any_values``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import gettext as _

__all__ = ["any_values", "shown_grade"]


def shown_grade(result: Mapping) -> str:
    """Return the grade a result shows: its grade, or 数据不全 when a value is missing."""
    if result.get("complete", True):
        return result["grade"]
    return _("数据不全")


def any_values(results: Iterable[Mapping]) -> bool:
    """Tell whether any result of a ranking has a value for at least one indicator."""
    return any(len(r["missing"]) < len(r["indicators"]) for r in results)

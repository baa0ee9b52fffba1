"""What grade text a ranking result shows (docs/missing-values.md).

The engine grades every unit, missing values counting 0; a reader must not take that
for a judgement. Every page, export, print sheet and the CLI ask ``shown_grade``.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _

__all__ = ["shown_grade"]


def shown_grade(result: Mapping) -> str:
    """Return the grade a result shows: its grade, or 数据不全 when a value is missing."""
    if result.get("complete", True):
        return result["grade"]
    return _("数据不全")

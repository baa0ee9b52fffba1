"""Raw values: how a typed number must be written, and what an indicator allows.

The rules (docs/values-and-ranges.md) are answered here by codes, and worded only in
``MESSAGES``. ``ledger.check_value`` asks them for every value written — the entry
page, the import (its dry run too), the JSON API and the seeders all write through
it — so no door can accept what another refuses.

- ``read_number_text``: plain decimal text only (``1000``, ``-2.5``, ``1,000`` — commas
  only as thousands separators); an
  exponent (``1e3``), a non-finite word (``Infinity``, ``NaN``) or anything else is
  refused.
- ``number_problem``: what the ledger can store (six decimals, fifteen significant
  digits, below 10^14), the method's own bounds (``direct``: 0 to the points; ``target``
  lower-is-better: not negative), then ``range_problem``.
- ``note_problem``: a score's note is at most ``NOTE_MAX`` characters and holds no NUL
  (PostgreSQL cannot store it), whatever the door (entry grid, import, JSON API).
- ``range_problem``: the indicator's allowed range (``value_min``/``value_max``, both
  bounds included, either may be open) and its ``integer_only`` flag.
- ``not_a_grade``: a grade indicator takes one of its grade keys.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from evaluation.core.numbers import plain

__all__ = [
    "LARGEST_VALUE",
    "MESSAGES",
    "NOTE_MAX",
    "SIGNIFICANT_DIGITS",
    "VALUE_DECIMALS",
    "NumberTextError",
    "allowed_text",
    "message",
    "note_problem",
    "number_problem",
    "range_problem",
    "read_number_text",
]

#: Raw values are stored as Numeric(20, 6).
VALUE_DECIMALS = 6
LARGEST_VALUE = Decimal(10) ** 14
#: SQLite keeps NUMERIC values as binary floats, exact to 15 significant digits only;
#: refusing more keeps every stored value exactly what was entered, on both databases.
SIGNIFICANT_DIGITS = 15

#: Problem code → its Chinese wording. ``{indicator}`` is ``code name``; ``{unit}`` the
#: measurement unit in brackets (empty when the indicator has none); ``{points}`` the
#: indicator's points, ``{grades}`` its grade keys.
MESSAGES = {
    "not_a_grade": "「{indicator}」按等次评定，数值须为以下等次之一：{grades}，收到 {value}",
    "not_a_number": "「{indicator}」的数值须为数字，收到 {value}",
    "misplaced_comma": (
        "「{indicator}」的数值中千分位逗号的位置不对（每三位一个，如 1,234.5），收到 {value}"
    ),
    "exponent": "「{indicator}」的数值须写成普通数字（如 1000），不接受科学计数法，收到 {value}",
    "not_finite": "「{indicator}」的数值须为有限的数字，收到 {value}",
    "outside_range": "「{indicator}」的数值须在 {min} 至 {max} 之间{unit}，收到 {value}",
    "below_min": "「{indicator}」的数值须不小于 {min}{unit}，收到 {value}",
    "above_max": "「{indicator}」的数值须不大于 {max}{unit}，收到 {value}",
    "not_integer": "「{indicator}」的数值须为整数，收到 {value}",
    "too_large": "「{indicator}」的数值过大（整数部分至多 14 位），收到 {value}",
    "too_many_decimals": (
        f"「{{indicator}}」的数值至多保留 {VALUE_DECIMALS} 位小数，收到 {{value}}"
    ),
    "too_many_digits": (
        f"「{{indicator}}」的数值有效数字不能超过 {SIGNIFICANT_DIGITS} 位，收到 {{value}}"
    ),
    "outside_points": "「{indicator}」直接打分，须在 0 至 {points} 分之间，收到 {value}",
    "negative_lower": "「{indicator}」越低越好，数值不能为负，收到 {value}",
}

_PLAIN = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
#: Thousands separators where they belong: ``1,234``, ``-12,345.5``, ``1,000,000``.
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
_EXPONENT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")
_NON_FINITE = re.compile(r"[+-]?(inf|infinity|s?nan\d*)", re.IGNORECASE)


#: The longest note a score may carry, in characters (docs/values-and-ranges.md#notes).
NOTE_MAX = 500


def note_problem(note: str) -> str | None:
    """Say why a score's note cannot be kept (None when it can)."""
    if len(note) > NOTE_MAX:
        return f"备注不能超过 {NOTE_MAX} 个字（收到 {len(note)} 个字）"
    if "\x00" in note:
        return "备注不能含有空字符（NUL）"
    return None


class NumberTextError(ValueError):
    """Typed text that is not a plain decimal number; ``code`` is a key of MESSAGES."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def read_number_text(text: str) -> Decimal:
    """Read typed text as a Decimal; raise NumberTextError unless it is plain decimal text.

    Thousands separators in their places (``1,000``, ``1,234.5``) and surrounding blanks
    are allowed; a comma anywhere else (``1,2,3`` is not 123) is refused.
    """
    compact = text.strip()
    if "," in compact:
        if not _GROUPED.fullmatch(compact):
            raise NumberTextError("misplaced_comma")
        compact = compact.replace(",", "")
    if _PLAIN.fullmatch(compact):
        try:
            return Decimal(compact)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise NumberTextError("not_a_number") from None
    if _EXPONENT.fullmatch(compact):
        raise NumberTextError("exponent")
    if _NON_FINITE.fullmatch(compact):
        raise NumberTextError("not_finite")
    raise NumberTextError("not_a_number")


def number_problem(indicator, number: Decimal) -> str | None:
    """Return the code of the first rule a finite ``number`` breaks for ``indicator``."""
    if abs(number) >= LARGEST_VALUE:
        return "too_large"
    if number != number.quantize(Decimal(1).scaleb(-VALUE_DECIMALS)):
        return "too_many_decimals"
    if number and len(number.normalize().as_tuple().digits) > SIGNIFICANT_DIGITS:
        return "too_many_digits"
    if indicator.method == "direct" and not 0 <= number <= indicator.points:
        return "outside_points"
    if indicator.method == "target" and indicator.direction == "lower" and number < 0:
        return "negative_lower"
    return range_problem(number, indicator.value_min, indicator.value_max, indicator.integer_only)


def range_problem(
    number: Decimal,
    value_min: Decimal | None,
    value_max: Decimal | None,
    integer_only: bool | None,
) -> str | None:
    """Return the code of the first rule ``number`` breaks (None when it is allowed)."""
    below = value_min is not None and number < value_min
    above = value_max is not None and number > value_max
    if below or above:
        if value_min is not None and value_max is not None:
            return "outside_range"
        return "below_min" if below else "above_max"
    if integer_only and number != number.to_integral_value():
        return "not_integer"
    return None


def message(code: str, indicator, value) -> str:
    """Word a problem for ``indicator`` (a model row or anything with its fields)."""
    unit = getattr(indicator, "measure_unit", "") or ""
    shown = plain(value) if isinstance(value, Decimal) else str(value).strip()
    if value is None or not shown:
        shown = "（空）"
    return MESSAGES[code].format(
        indicator=f"{indicator.code} {indicator.name}".strip(),
        value=shown,
        min=plain(indicator.value_min),
        max=plain(indicator.value_max),
        unit=f"（{unit}）" if unit else "",
        points=plain(getattr(indicator, "points", None)),
        grades="、".join(indicator.fractions) if code == "not_a_grade" else "",
    )


def allowed_text(indicator) -> str:
    """Say what the indicator allows, for hints beside an input: ``0 至 100（%），整数``."""
    low, high = indicator.value_min, indicator.value_max
    unit = getattr(indicator, "measure_unit", "") or ""
    unit = f"（{unit}）" if unit and unit != "等次" else ""
    if low is not None and high is not None:
        text = f"{plain(low)} 至 {plain(high)}{unit}"
    elif low is not None:
        text = f"不小于 {plain(low)}{unit}"
    elif high is not None:
        text = f"不大于 {plain(high)}{unit}"
    else:
        text = ""
    if indicator.integer_only:
        text = f"{text}，整数" if text else "整数"
    return text

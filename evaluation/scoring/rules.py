"""The scheme and indicator rules as data: one table (docs/rules.md#where-a-rule-lives).

Pure (no Flask, no database). Everything a scheme or an indicator must satisfy is here:

- the **defaults** a scheme takes when it leaves a part out;
- the **choices** (methods, directions, tie methods, adjustment kinds), and for each
  method the number fields it needs (``Method.needs``);
- the **bounds** of every number field (``BOUNDS``: points > 0 with at most two
  decimals, target > 0, floor in [0, 1), grade fractions in [0, 1], caps ≥ 0, …);
- the **problem codes** (``CODES``), each with its English wording and the parameters
  it is rendered with.

The engine (``validation.py``) reports every problem as a code and its parameters; its
English message is ``english(code, params)``. The app words the same codes in Chinese
(``evaluation/schemes/messages.py``) and checks stored schemes with the same
functions (``number_problem``, ``choice_problem``, …), so a rule is stated once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal

__all__ = [
    "ADJUSTMENT_KINDS",
    "BOUNDS",
    "CHOICES",
    "CODES",
    "DEFAULT_BONUS_CAP",
    "DEFAULT_GRADE_BANDS",
    "DEFAULT_GRADE_FRACTIONS",
    "DEFAULT_PENALTY_CAP",
    "DEFAULT_TIE_METHOD",
    "DEFAULT_TOTAL",
    "DIRECTIONS",
    "METHODS",
    "TIE_METHODS",
    "Bound",
    "Method",
    "band_order_problem",
    "choice_problem",
    "english",
    "number_problem",
    "plain",
    "points_sum_problem",
]

_CONTEXT = Context(prec=28, rounding=ROUND_HALF_UP)


def plain(number: Decimal) -> str:
    """Show a Decimal in plain notation without trailing zeros (``95``, ``0.85``)."""
    return format(Decimal(number).normalize(_CONTEXT), "f")


# --- defaults (docs/rules.md#domain) -----------------------------------------------------

DEFAULT_TOTAL = Decimal(100)
DEFAULT_BONUS_CAP = Decimal(5)
#: None: no cap.
DEFAULT_PENALTY_CAP: Decimal | None = None
DEFAULT_TIE_METHOD = "competition"
#: (name, min) by strictly decreasing min.
DEFAULT_GRADE_BANDS: tuple[tuple[str, Decimal], ...] = (
    ("好", Decimal(90)),
    ("较好", Decimal(80)),
    ("一般", Decimal(60)),
    ("较差", Decimal(0)),
)
DEFAULT_GRADE_FRACTIONS: Mapping[str, Decimal] = {
    "A": Decimal(1),
    "优": Decimal(1),
    "B": Decimal("0.85"),
    "良": Decimal("0.85"),
    "C": Decimal("0.7"),
    "中": Decimal("0.7"),
    "D": Decimal("0.5"),
    "差": Decimal("0.5"),
}


# --- bounds of the number fields -----------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """The allowed values of one number field, and the code of each way to miss them.

    ``low``/``high`` are the limits (None: open); ``low_open``/``high_open`` exclude the
    limit itself. ``decimals`` is the most decimals allowed (None: any). ``code`` is
    reported when the number is outside the limits, ``decimals_code`` when it has too
    many decimals.
    """

    low: Decimal | None = None
    low_open: bool = False
    high: Decimal | None = None
    high_open: bool = False
    decimals: int | None = None
    code: str = ""
    decimals_code: str = ""

    def holds(self, number: Decimal) -> bool:
        """Tell whether a number is within the limits (decimals aside)."""
        if self.low is not None and (number <= self.low if self.low_open else number < self.low):
            return False
        if self.high is not None:
            return number < self.high if self.high_open else number <= self.high
        return True


_POSITIVE = {"low": Decimal(0), "low_open": True}
_FRACTION = {"low": Decimal(0), "high": Decimal(1)}

#: Number field → its bound. Scheme fields first, then indicator fields.
BOUNDS: Mapping[str, Bound] = {
    "total": Bound(**_POSITIVE, decimals=2, code="total.not_positive",
                   decimals_code="total.too_many_decimals"),
    "bonus_cap": Bound(low=Decimal(0), code="cap.negative"),
    "penalty_cap": Bound(low=Decimal(0), code="cap.negative"),
    "points": Bound(**_POSITIVE, decimals=2, code="points.not_positive",
                    decimals_code="points.too_many_decimals"),
    "target": Bound(**_POSITIVE, code="target.not_positive"),
    "floor": Bound(**_FRACTION, high_open=True, code="floor.out_of_range"),
    "grade_fraction": Bound(**_FRACTION, code="grade_fractions.out_of_range"),
    "adjustment": Bound(**_POSITIVE, code="adjustment.not_positive"),
}  # fmt: skip


def number_problem(name: str, number: Decimal) -> tuple[str, dict] | None:
    """Return ``(code, params)`` when ``number`` breaks the bound of field ``name``."""
    bound = BOUNDS[name]
    if not bound.holds(number):
        code = bound.code
    elif bound.decimals is not None and number != number.quantize(
        Decimal(1).scaleb(-bound.decimals), rounding=ROUND_HALF_UP, context=_CONTEXT
    ):
        code = bound.decimals_code
    else:
        return None
    return code, {
        "field": name,
        "value": plain(number),
        "low": "" if bound.low is None else plain(bound.low),
        "high": "" if bound.high is None else plain(bound.high),
    }


# --- choices and methods ---------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """A scoring method (docs/rules.md#methods) and the indicator fields it reads.

    ``needs`` are the number fields that must be given (checked by ``BOUNDS``);
    ``optional`` those that may be left out (their default follows); ``fractions`` is
    true when the method reads ``grade_fractions`` (default ``DEFAULT_GRADE_FRACTIONS``).
    A value is a grade key when ``fractions``, else a number; ``direct`` values lie in
    [0, points].
    """

    needs: tuple[str, ...] = ()
    optional: Mapping[str, Decimal] = field(default_factory=dict)
    fractions: bool = False


METHODS: Mapping[str, Method] = {
    "direct": Method(),
    "target": Method(needs=("target",)),
    "relative": Method(optional={"floor": Decimal(0)}),
    "grade": Method(fractions=True),
}
DIRECTIONS = ("higher", "lower")
TIE_METHODS = ("competition", "dense")
ADJUSTMENT_KINDS = ("bonus", "penalty")

#: Choice field → (its choices, the code when a value is not one of them).
CHOICES: Mapping[str, tuple[tuple[str, ...], str]] = {
    "method": (tuple(METHODS), "method.unknown"),
    "direction": (DIRECTIONS, "direction.unknown"),
    "tie_method": (TIE_METHODS, "tie_method.unknown"),
    "kind": (ADJUSTMENT_KINDS, "adjustment.kind_unknown"),
    "ahp_method": (("eigenvector", "geometric"), "ahp.method_unknown"),
    "weights_kind": (("ahp", "entropy", "critic"), "weights.kind_unknown"),
}


def choice_problem(name: str, value: object) -> tuple[str, dict] | None:
    """Return ``(code, params)`` when ``value`` is not one of field ``name``'s choices."""
    choices, code = CHOICES[name]
    if value in choices:
        return None
    return code, {"field": name, "value": value, "choices": ", ".join(choices)}


def band_order_problem(
    minimum: Decimal, previous: Decimal | None, name: object = None
) -> tuple[str, dict] | None:
    """Grade bands go by strictly decreasing min."""
    if previous is None or minimum < previous:
        return None
    return "grades.not_decreasing", {
        "name": name,
        "min": plain(minimum),
        "previous": plain(previous),
    }


def points_sum_problem(points_sum: Decimal, total: Decimal) -> tuple[str, dict] | None:
    """The indicators' points add up exactly to the total."""
    if points_sum == total:
        return None
    return "points.sum_mismatch", {
        "sum": plain(points_sum),
        "total": plain(total),
        "difference": plain(total - points_sum),
    }


# --- problem codes ----------------------------------------------------------------------------

#: Problem code → its English wording (``str.format`` with the problem's parameters).
#: The Chinese wording of every code: evaluation/schemes/messages.py.
CODES: Mapping[str, str] = {
    # the shape of a document
    "required": "is required",
    "type.object": "must be an object",
    "type.list": "must be a list",
    "type.number": "must be a number",
    "type.code": "must be a non-empty string",
    "type.string": "must be a string",
    "type.whole": "must be a whole number",
    "type.date": "must be an ISO date (YYYY-MM-DD)",
    "number.not_finite": "must be a finite number",
    "number.too_large": "is out of range (at most 15 digits before the decimal point)",
    "whole.too_small": "must be at least {minimum}",
    "json.invalid": "invalid JSON: {detail}",
    "file.unreadable": "cannot read {file}: {detail}",
    "document.unreadable": "the document could not be read",
    # the scheme
    "total.not_positive": "must be greater than 0",
    "total.too_many_decimals": "must have at most two decimals",
    "cap.negative": "must not be negative (null means no cap)",
    "tie_method.unknown": "must be one of {choices}",
    "grades.empty": "must list at least one grade band",
    "grades.not_decreasing": (
        "must be less than the previous band's min {previous} (bands go by strictly decreasing min)"
    ),
    "dimension.duplicate": "duplicate dimension code {code!r} (first at {first})",
    "points.sum_mismatch": "the indicators' points add up to {sum}, not {total}",
    # an indicator
    "indicator.duplicate": "duplicate indicator code {code!r} (first at {first})",
    "points.not_positive": "must be greater than 0",
    "points.too_many_decimals": "must have at most two decimals",
    "method.unknown": "must be one of {choices}",
    "direction.unknown": "must be one of {choices}",
    "target.required": "is required for the target method",
    "target.not_positive": "must be greater than 0",
    "floor.out_of_range": "must be at least {low} and less than {high}",
    "grade_fractions.empty": "must list at least one grade",
    "grade_fractions.key_empty": "grade keys must be non-empty strings",
    "grade_fractions.out_of_range": "must be between {low} and {high}",
    "grade_fractions.not_number": "must be a number",
    # checked before publishing only (the engine scores what it is given)
    "level.unknown": "must be one of {choices}",
    "scheme.no_dimensions": "the scheme has no dimensions",
    "dimension.no_indicators": "dimension {code} has no indicators",
    "indicator.outside_scheme": "indicator {code}'s dimension is not in this scheme",
    "range.min_above_max": "the allowed minimum {min} is above the allowed maximum {max}",
    "range.on_grade": "a grade indicator takes no allowed range and no whole-number flag",
    # units, values, adjustments, vetoes
    "unit.duplicate": "duplicate unit {code!r} (first at {first})",
    "unit.unknown": "unknown unit {code!r}",
    "indicator.unknown": "unknown indicator {code!r}",
    "value.duplicate": (
        "duplicate value for unit {unit!r} and indicator {indicator!r} (first at {first})"
    ),
    "value.not_a_grade": "must be a grade of {indicator} ({grades})",
    "value.unknown_grade": "{value!r} is not a grade of {indicator} ({grades})",
    "value.direct_out_of_range": "must be between 0 and {points} points",
    "value.negative_lower_target": "must not be negative for a target where lower is better",
    "adjustment.kind_unknown": "must be one of {choices}",
    "adjustment.not_positive": "must be greater than 0",
    # rank uncertainty and review flags
    "samples.too_many": "must be at most {maximum}",
    "spread.out_of_range": "must be between 0 and 1",
    "period_end.required": "is required for the review flags",
    "threshold.negative": "must not be negative",
    # weights (docs/weights.md)
    "ahp.size": "must have between {minimum} and {maximum} rows (has {n})",
    "ahp.not_square": "row {row} has {length} entries, not {n} (the matrix must be square)",
    "ahp.not_positive": "{value} must be greater than 0 (Saaty's scale runs from 1/9 to 9)",
    "ahp.out_of_scale": "{value} is outside Saaty's scale 1/9 to 9",
    "ahp.diagonal": "must be 1 (an item compared with itself), not {value}",
    "ahp.not_reciprocal": (
        "{value} must be the reciprocal of {mirror} = {other} (their product is {product}, not 1)"
    ),
    "ahp.method_unknown": "must be one of {choices}",
    "weights.kind_unknown": "{value} is not a weighting method: use one of {choices}",
    "ahp.inconsistent": (
        "the consistency ratio CR = {cr} is above {limit}: revise the judgements, "
        "or give a reason to use them anyway"
    ),
    "ahp.reason_required": "a reason is required to use a matrix whose CR is above {limit}",
    "weights.too_few_rows": "needs at least {minimum} rows of values (has {rows})",
    "weights.too_few_columns": "needs at least {minimum} columns (has {columns})",
    "weights.ragged": "has {length} values, not {columns} like the first row",
    "weights.directions_length": "must give one direction per column ({columns}), not {length}",
    "weights.negative": "{value} must not be negative for entropy weights",
    "weights.no_information": "no column carries information (all values equal): nothing to weigh",
    "diagnostics.too_few_units": (
        "needs at least {minimum} units with a value for every indicator (has {units})"
    ),
    "weights.no_information_column": (
        "column {column} has all values equal: it carries no information and gets weight 0"
    ),
}


def english(code: str, params: Mapping[str, object] | None = None) -> str:
    """Render a problem code in English."""
    return CODES[code].format(**(params or {}))

"""Read an engine document (docs/rules.md#engine-document) into typed objects, collecting every
problem.

Reading never stops at the first problem: the whole document is checked and each problem
is reported with the path of the offending item (``values[3].value``,
``scheme.dimensions[0].indicators[1].points``), so a user fixes an import in one go.

Numbers may be ``int``, ``Decimal`` or ``float`` (a float is taken by its shortest
``repr``, so ``2.675`` means exactly 2.675); ``bool`` is never a number. Names are
optional and default to the code. Absent optional parts take the defaults of docs/rules.md#domain:
``total`` 100, ``bonus_cap`` 5, ``penalty_cap`` null (no cap), ``tie_method``
``competition``, grade bands 好 90 / 较好 80 / 一般 60 / 较差 0 when ``grades`` is absent or
null (an empty list is an error). A value given as ``null`` counts as missing.

The rules themselves (bounds, choices, defaults, problem codes) are the table in
``rules.py`` (docs/rules.md#where-a-rule-lives): each problem is recorded as a code and
its parameters, and its English message is rendered from the code.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from . import rules
from .amounts import CONTEXT, ONE, ZERO
from .rules import (
    ADJUSTMENT_KINDS,
    DEFAULT_BONUS_CAP,
    DEFAULT_GRADE_FRACTIONS,
    DEFAULT_PENALTY_CAP,
    DEFAULT_TIE_METHOD,
    DEFAULT_TOTAL,
    DIRECTIONS,
    TIE_METHODS,
)

#: The method names, in the order of the rule table (docs/rules.md#where-a-rule-lives).
METHODS = tuple(rules.METHODS)
DEFAULT_SAMPLES = 1000
DEFAULT_SPREAD = Decimal("0.2")
DEFAULT_SEED = 0
MAX_SAMPLES = 100_000
DEFAULT_LOW_SCORE = Decimal(60)
DEFAULT_DROP = Decimal(10)
DEFAULT_BOTTOM_N = 3
DEFAULT_REVIEW_DAYS = 90

# Beyond this magnitude a value is a typing slip, and two-decimal results of it could
# no longer be exact in a 28-digit context.
LARGEST_NUMBER = Decimal(10) ** 15

__all__ = [
    "ADJUSTMENT_KINDS",
    "DEFAULT_BONUS_CAP",
    "DEFAULT_GRADE_FRACTIONS",
    "DEFAULT_PENALTY_CAP",
    "DEFAULT_TIE_METHOD",
    "DEFAULT_TOTAL",
    "DIRECTIONS",
    "METHODS",
    "TIE_METHODS",
    "Document",
    "Problem",
    "ScoringError",
    "parse_document",
    "read_document",
    "validate",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document, at a path such as ``values[3].value``.

    ``code`` is a key of ``rules.CODES`` and ``params`` its parameters; ``message`` is
    its English wording. The app words the same code in Chinese.
    """

    path: str
    code: str
    params: Mapping[str, object] = field(default_factory=dict, hash=False)

    @classmethod
    def of(cls, path: str, code: str, /, **params: object) -> Problem:
        """Make a problem from its code and parameters."""
        return cls(path, code, params)

    @property
    def message(self) -> str:
        """The English wording of the problem (rendered from its code)."""
        return rules.english(self.code, self.params)

    def as_dict(self) -> dict[str, str]:
        """Return the problem in the ``{"path", "message"}`` form of
        docs/rules.md#engine-document."""
        return {"path": self.path, "message": self.message}


class ScoringError(ValueError):
    """A document the engine refuses, carrying every problem found in it."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        shown = "; ".join(f"{p.path or '(document)'}: {p.message}" for p in self.problems[:3])
        more = len(self.problems) - 3
        super().__init__(shown + (f"; and {more} more" if more > 0 else ""))


@dataclass(frozen=True)
class GradeBand:
    """A grade (等次) awarded from ``min`` points up."""

    name: str
    min: Decimal


DEFAULT_GRADES = tuple(GradeBand(name, minimum) for name, minimum in rules.DEFAULT_GRADE_BANDS)


@dataclass(frozen=True)
class Indicator:
    """An indicator (小项) with its scoring method."""

    code: str
    name: str
    dimension: str
    points: Decimal
    method: str
    direction: str = "higher"
    target: Decimal | None = None
    floor: Decimal = Decimal(0)
    grade_fractions: Mapping[str, Decimal] = field(
        default_factory=lambda: dict(DEFAULT_GRADE_FRACTIONS)
    )


@dataclass(frozen=True)
class Dimension:
    """A dimension (方面) grouping indicators."""

    code: str
    name: str
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Scheme:
    """An indicator scheme (指标方案)."""

    total: Decimal
    bonus_cap: Decimal | None
    penalty_cap: Decimal | None
    tie_method: str
    grades: tuple[GradeBand, ...]
    dimensions: tuple[Dimension, ...]

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """Return every indicator in scheme order."""
        return tuple(i for d in self.dimensions for i in d.indicators)


@dataclass(frozen=True)
class Unit:
    """A unit (town or village) being assessed."""

    code: str
    name: str


@dataclass(frozen=True)
class Sensitivity:
    """Settings of the rank-uncertainty analysis."""

    samples: int = DEFAULT_SAMPLES
    spread: Decimal = DEFAULT_SPREAD
    seed: int = DEFAULT_SEED


@dataclass(frozen=True)
class FlagRules:
    """Inputs and thresholds of the typical-village review flags (docs/rules.md#review-flags)."""

    typical: Mapping[str, int]
    period_end: dt.date
    previous_totals: Mapping[str, Decimal] = field(default_factory=dict)
    last_review: Mapping[str, dt.date] = field(default_factory=dict)
    low_score: Decimal = DEFAULT_LOW_SCORE
    drop: Decimal = DEFAULT_DROP
    bottom_n: int = DEFAULT_BOTTOM_N
    review_days: int = DEFAULT_REVIEW_DAYS


#: A raw value: a number for direct, target and relative indicators, a grade key otherwise.
Value = Decimal | str


@dataclass(frozen=True)
class Document:
    """A checked engine document, ready to compute."""

    scheme: Scheme
    units: tuple[Unit, ...]
    values: Mapping[tuple[str, str], Value]
    bonus: Mapping[str, Decimal]
    penalty: Mapping[str, Decimal]
    vetoed: frozenset[str]
    sensitivity: Sensitivity | None = None
    flags: FlagRules | None = None
    #: The same values by indicator code, then unit code (None: given as null), when the
    #: reader took the plain path (``_plain_values``); the engine reads its columns here.
    columns: Mapping[str, Mapping[str, Value | None]] | None = field(default=None, compare=False)


_MISSING = object()


def _listed(container: Mapping, key: str) -> object:
    """Return an optional list member, an absent or null one being an empty list."""
    raw = container.get(key)
    return [] if raw is None else raw


def _listed_mapping(container: Mapping, key: str) -> object:
    """Return an optional object member, an absent or null one being empty."""
    raw = container.get(key)
    return {} if raw is None else raw


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _plain(number: Decimal) -> str:
    """Show a Decimal in plain notation without trailing zeros (``95``, ``0.85``)."""
    return format(number.normalize(CONTEXT), "f")


#: The largest whole amount the quick check of ``_Reader.values`` takes without a closer
#: look (every |v| < LARGEST_NUMBER is valid; this bound is closed and just inside it).
_QUICK_LIMIT = LARGEST_NUMBER - 1


def _quick_rule(indicator: Indicator) -> tuple[Mapping[str, Decimal] | None, Decimal, Decimal]:
    """What ``_Reader.values`` accepts for an indicator without a closer look.

    ``(grades, low, high)``: a grade indicator takes a ``str`` key of ``grades``; any
    other takes a finite ``Decimal`` or an ``int`` with low ≤ v ≤ high — an interval
    inside what ``_Reader.value`` accepts (direct: 0 ≤ v ≤ P; target, lower: v ≥ 0; every
    number |v| < 10^15). A value outside it is read again by ``_value_item``, which
    accepts it or names the problem, so this rule only ever saves time.
    """
    if indicator.method == "grade":
        return indicator.grade_fractions or {}, ONE, ZERO  # numbers never pass: low > high
    if indicator.method not in METHODS or indicator.points is None:
        return None, ONE, ZERO  # nothing passes: _value_item judges
    if indicator.method == "direct":
        return None, ZERO, indicator.points
    if indicator.method == "target" and indicator.direction == "lower":
        return None, ZERO, _QUICK_LIMIT
    return None, -_QUICK_LIMIT, _QUICK_LIMIT


def _plain_columns(
    raw: object, known_units: set[str], indicators: Mapping[str, Indicator]
) -> dict[str, dict[str, Value | None]] | None:
    """Read a plain list of values at speed, by indicator then unit; None if not plain.

    Plain: every item a dict naming a known unit and a known indicator, no (unit,
    indicator) twice, and every value None or a ``Decimal``/grade its indicator's
    ``_quick_rule`` takes. The rule is checked once per distinct value of each indicator,
    not once per cell. Such a list is read by ``_Reader.values`` into the same values
    with no problem; anything else (an ``int``, a value out of range, a duplicate, …)
    returns None and ``_Reader.values`` reads the whole list, naming every problem.
    """
    if type(raw) is not list:
        return None
    columns: dict[str, dict[str, Value | None]] = {code: {} for code in indicators}
    try:
        for item in raw:
            if type(item) is not dict:
                return None
            unit = item.get("unit")
            column = columns.get(item.get("indicator"))
            if column is None or type(unit) is not str or unit not in known_units:
                return None
            if unit in column:
                return None  # a duplicate: _Reader.values names both places
            column[unit] = item.get("value")
        for code, column in columns.items():
            grades, low, high = _quick_rule(indicators[code])
            for value in set(column.values()):
                if value is None:
                    continue
                if grades is not None:
                    if type(value) is not str or value not in grades:
                        return None
                elif not (type(value) is Decimal and value.is_finite() and low <= value <= high):
                    return None
    except TypeError:  # an unhashable code, unit or value: not plain
        return None
    return columns


class _Reader:
    """Walks a document, turning raw JSON-like data into typed objects."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        # Indicators read so far, kept even when the scheme is broken, so that values can
        # still be checked against the indicators that are fine.
        self.indicators: dict[str, Indicator] = {}

    def fail(self, path: str, code: str, /, **params: object) -> None:
        """Record a problem (a code of ``rules.CODES`` and its parameters) at a path."""
        self.problems.append(Problem(path, code, params))

    def broken(self, path: str, found: tuple[str, dict] | None) -> bool:
        """Record what a rule of ``rules`` found, if anything; tell whether it found it."""
        if found is None:
            return False
        self.fail(path, found[0], **found[1])
        return True

    def first_time(self, key, seen: dict, where: str, path: str, code: str) -> bool:
        """Record ``key`` as seen at ``where``; refuse (at ``path``) a key seen before."""
        if key in seen:
            self.fail(path, code, code=key, first=seen[key])
            return False
        seen[key] = where
        return True

    # -- scalar readers: each returns None after recording a problem -------------------

    def number(self, raw: object, path: str) -> Decimal | None:
        """Read a finite number of reasonable size as a Decimal."""
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
            self.fail(path, "type.number")
            return None
        if isinstance(raw, float):
            if not math.isfinite(raw):
                self.fail(path, "number.not_finite")
                return None
            number = Decimal(repr(raw))
        else:
            number = Decimal(raw)
        if not number.is_finite():
            self.fail(path, "number.not_finite")
            return None
        if abs(number) >= LARGEST_NUMBER:
            self.fail(path, "number.too_large")
            return None
        return number

    def integer(self, raw: object, path: str, minimum: int) -> int | None:
        """Read a whole number not below a minimum."""
        whole: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            whole = raw
        elif isinstance(raw, Decimal) and raw.is_finite() and raw == raw.to_integral_value():
            whole = int(raw)
        if whole is None:
            self.fail(path, "type.whole")
            return None
        if whole < minimum:
            self.fail(path, "whole.too_small", minimum=minimum)
            return None
        return whole

    def code(self, raw: object, path: str) -> str | None:
        """Read a non-empty code string."""
        if not isinstance(raw, str) or not raw.strip():
            self.fail(path, "type.code")
            return None
        return raw

    def name(self, item: Mapping, path: str, default: str) -> str:
        """Read an optional display name, defaulting to the code."""
        raw = item.get("name")
        if raw is None:
            return default
        if not isinstance(raw, str):
            self.fail(_at(path, "name"), "type.string")
            return default
        return raw

    def reason(self, item: Mapping, path: str) -> None:
        """Check an optional free-text reason."""
        raw = item.get("reason")
        if raw is not None and not isinstance(raw, str):
            self.fail(_at(path, "reason"), "type.string")

    def date(self, raw: object, path: str) -> dt.date | None:
        """Read an ISO date (or a date object)."""
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass
        self.fail(path, "type.date")
        return None

    def mapping(self, raw: object, path: str) -> Mapping | None:
        """Read a JSON object."""
        if not isinstance(raw, Mapping):
            self.fail(path, "type.object")
            return None
        return raw

    def sequence(self, raw: object, path: str) -> Sequence | None:
        """Read a JSON list."""
        if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
            self.fail(path, "type.list")
            return None
        return raw

    # -- the document --------------------------------------------------------------------

    def document(self, raw: object) -> Document | None:
        """Read a whole engine document."""
        doc = self.mapping(raw, "")
        if doc is None:
            return None
        scheme_raw = doc.get("scheme", _MISSING)
        scheme = None
        if scheme_raw is _MISSING:
            self.fail("scheme", "required")
        else:
            scheme = self.scheme(scheme_raw, "scheme")
        units_raw = doc.get("units", _MISSING)
        units: tuple[Unit, ...] = ()
        if units_raw is _MISSING:
            self.fail("units", "required")
        else:
            units = self.units(units_raw, "units")
        known_units = {u.code for u in units}
        values_raw = _listed(doc, "values")
        columns = _plain_columns(values_raw, known_units, self.indicators)
        if columns is not None:
            values = {
                (unit, code): value
                for code, column in columns.items()
                for unit, value in column.items()
                if value is not None
            }
        else:
            values = self.values(values_raw, "values", known_units, self.indicators)
        bonus, penalty = self.adjustments(_listed(doc, "adjustments"), "adjustments", known_units)
        vetoed = self.vetoes(_listed(doc, "vetoes"), "vetoes", known_units)
        sensitivity = None
        if doc.get("sensitivity") is not None:
            sensitivity = self.sensitivity(doc["sensitivity"], "sensitivity")
        flags = None
        if doc.get("flags") is not None:
            flags = self.flag_rules(doc["flags"], "flags", known_units)
        if self.problems or scheme is None:
            return None
        return Document(scheme, units, values, bonus, penalty, vetoed, sensitivity, flags, columns)

    # -- scheme --------------------------------------------------------------------------

    def scheme(self, raw: object, path: str) -> Scheme | None:
        """Read a scheme: totals, caps, tie method, grade bands, dimensions, indicators."""
        scheme = self.mapping(raw, path)
        if scheme is None:
            return None
        ok = True

        total: Decimal | None = DEFAULT_TOTAL
        if "total" in scheme:
            total = self.number(scheme["total"], _at(path, "total"))
            if total is not None and self.broken(
                _at(path, "total"), rules.number_problem("total", total)
            ):
                total = None
        ok &= total is not None

        caps: dict[str, Decimal | None] = {}
        for key, default in (
            ("bonus_cap", DEFAULT_BONUS_CAP),
            ("penalty_cap", DEFAULT_PENALTY_CAP),
        ):
            raw_cap = scheme.get(key, default)
            caps[key] = None
            if raw_cap is not None:
                cap = self.number(raw_cap, _at(path, key))
                if cap is not None and self.broken(_at(path, key), rules.number_problem(key, cap)):
                    cap = None
                ok &= cap is not None
                caps[key] = cap

        tie_method = scheme.get("tie_method", DEFAULT_TIE_METHOD)
        if self.broken(_at(path, "tie_method"), rules.choice_problem("tie_method", tie_method)):
            ok = False

        grades = self.grades(scheme.get("grades"), _at(path, "grades"))
        ok &= grades is not None

        dimensions: list[Dimension] = []
        dims_path = _at(path, "dimensions")
        dims_raw = self.sequence(scheme.get("dimensions"), dims_path)
        points_sum: Decimal | None = Decimal(0)
        if dims_raw is None:
            ok = False
            points_sum = None
        else:
            first_dimension: dict[str, str] = {}
            first_indicator: dict[str, str] = {}
            for d_index, dim_raw in enumerate(dims_raw):
                d_path = _at(dims_path, d_index)
                dim = self.mapping(dim_raw, d_path)
                if dim is None:
                    ok = False
                    continue
                d_code = self.code(dim.get("code"), _at(d_path, "code"))
                if d_code is not None and not self.first_time(
                    d_code, first_dimension, d_path, _at(d_path, "code"),
                    "dimension.duplicate",
                ):  # fmt: skip
                    d_code = None
                d_name = self.name(dim, d_path, d_code or "")
                inds_path = _at(d_path, "indicators")
                inds_raw = self.sequence(dim.get("indicators"), inds_path)
                indicators: list[Indicator] = []
                if inds_raw is None:
                    ok = False
                    continue
                for i_index, ind_raw in enumerate(inds_raw):
                    i_path = _at(inds_path, i_index)
                    indicator = self.indicator(ind_raw, i_path, d_code or "", first_indicator)
                    if indicator is None or indicator.points is None:
                        points_sum = None
                    elif points_sum is not None:
                        points_sum += indicator.points
                    if indicator is None or not self._complete(indicator):
                        ok = False
                    if indicator is not None:
                        indicators.append(indicator)
                if d_code is None:
                    ok = False
                dimensions.append(Dimension(d_code or "", d_name, tuple(indicators)))

        if (
            total is not None
            and points_sum is not None
            and self.broken(_at(path, "total"), rules.points_sum_problem(points_sum, total))
        ):
            ok = False
        if not ok or total is None or grades is None:
            return None
        return Scheme(
            total=total,
            bonus_cap=caps["bonus_cap"],
            penalty_cap=caps["penalty_cap"],
            tie_method=tie_method,
            grades=grades,
            dimensions=tuple(dimensions),
        )

    @staticmethod
    def _complete(indicator: Indicator) -> bool:
        return (
            bool(indicator.code)
            and indicator.points is not None
            and indicator.method in METHODS
            and indicator.direction in DIRECTIONS
            and (indicator.method != "target" or indicator.target is not None)
            and indicator.floor is not None
            and indicator.grade_fractions is not None
        )

    def grades(self, raw: object, path: str) -> tuple[GradeBand, ...] | None:
        """Read the grade bands, strictly decreasing by min."""
        if raw is None:
            return DEFAULT_GRADES
        bands_raw = self.sequence(raw, path)
        if bands_raw is None:
            return None
        if not bands_raw:
            self.fail(path, "grades.empty")
            return None
        bands: list[GradeBand] = []
        ok = True
        previous: Decimal | None = None
        for index, band_raw in enumerate(bands_raw):
            b_path = _at(path, index)
            band = self.mapping(band_raw, b_path)
            if band is None:
                ok = False
                previous = None
                continue
            name = self.code(band.get("name"), _at(b_path, "name"))
            minimum = self.number(band.get("min"), _at(b_path, "min"))
            if minimum is not None and self.broken(
                _at(b_path, "min"), rules.band_order_problem(minimum, previous, band.get("name"))
            ):
                ok = False
            previous = minimum
            if name is None or minimum is None:
                ok = False
                continue
            bands.append(GradeBand(name, minimum))
        return tuple(bands) if ok else None

    def indicator(
        self, raw: object, path: str, dimension: str, first_seen: dict[str, str]
    ) -> Indicator | None:
        """Read one indicator and its method's settings."""
        ind = self.mapping(raw, path)
        if ind is None:
            return None
        code = self.code(ind.get("code"), _at(path, "code"))
        if code is not None and not self.first_time(
            code, first_seen, path, _at(path, "code"), "indicator.duplicate"
        ):
            code = None
        name = self.name(ind, path, code or "")

        points = self.number(ind.get("points"), _at(path, "points"))
        if points is not None and self.broken(
            _at(path, "points"), rules.number_problem("points", points)
        ):
            points = None

        method = ind.get("method")
        if self.broken(_at(path, "method"), rules.choice_problem("method", method)):
            method = ""

        direction = ind.get("direction")
        if direction is None:
            direction = "higher"
        elif self.broken(_at(path, "direction"), rules.choice_problem("direction", direction)):
            direction = ""

        # The number fields the method needs or may take, each within its bound.
        rule = rules.METHODS.get(method)
        settings: dict[str, Decimal | None] = {"target": None, "floor": Decimal(0)}
        if rule is not None:
            for needed in rule.needs:
                settings[needed] = None
                if ind.get(needed) is None:
                    self.fail(_at(path, needed), f"{needed}.required")
                else:
                    settings[needed] = self.setting(ind[needed], _at(path, needed), needed)
            for optional, default in rule.optional.items():
                settings[optional] = default
                if ind.get(optional) is not None:
                    settings[optional] = self.setting(ind[optional], _at(path, optional), optional)
        target, floor = settings["target"], settings["floor"]

        fractions: Mapping[str, Decimal] | None = DEFAULT_GRADE_FRACTIONS
        if rule is not None and rule.fractions and ind.get("grade_fractions") is not None:
            fractions = self.grade_fractions(ind["grade_fractions"], _at(path, "grade_fractions"))

        indicator = Indicator(
            code=code or "",
            name=name,
            dimension=dimension,
            points=points,  # type: ignore[arg-type]  # None only in a refused document
            method=method,
            direction=direction,
            target=target,
            floor=floor,  # type: ignore[arg-type]
            grade_fractions=fractions,  # type: ignore[arg-type]
        )
        if code is not None:
            self.indicators[code] = indicator
        return indicator

    def setting(self, raw: object, path: str, name: str) -> Decimal | None:
        """Read a method's number field within its bound (``rules.BOUNDS``)."""
        number = self.number(raw, path)
        if number is not None and self.broken(path, rules.number_problem(name, number)):
            return None
        return number

    def grade_fractions(self, raw: object, path: str) -> Mapping[str, Decimal] | None:
        """Read an indicator's grade → fraction table."""
        table = self.mapping(raw, path)
        if table is None:
            return None
        if not table:
            self.fail(path, "grade_fractions.empty")
            return None
        fractions: dict[str, Decimal] = {}
        ok = True
        for key, raw_fraction in table.items():
            k_path = _at(path, str(key))
            if not isinstance(key, str) or not key.strip():
                self.fail(k_path, "grade_fractions.key_empty")
                ok = False
                continue
            fraction = self.number(raw_fraction, k_path)
            if fraction is not None and self.broken(
                k_path, rules.number_problem("grade_fraction", fraction)
            ):
                fraction = None
            if fraction is None:
                ok = False
                continue
            fractions[key] = fraction
        return fractions if ok else None

    # -- units, values, adjustments, vetoes --------------------------------------------

    def units(self, raw: object, path: str) -> tuple[Unit, ...]:
        """Read the units, refusing duplicate codes."""
        units_raw = self.sequence(raw, path)
        if units_raw is None:
            return ()
        units: list[Unit] = []
        first_seen: dict[str, str] = {}
        for index, unit_raw in enumerate(units_raw):
            # The common case, a dict with a new code and a str name (or none), builds no
            # path; anything else is read again below, naming the problem and where it is.
            if type(unit_raw) is dict:
                code, name = unit_raw.get("code"), unit_raw.get("name", _MISSING)
                if (
                    type(code) is str
                    and code.strip()
                    and code not in first_seen
                    and (type(name) is str or name is _MISSING or name is None)
                ):
                    first_seen[code] = f"{path}[{index}]"
                    units.append(Unit(code, code if name is _MISSING or name is None else name))
                    continue
            u_path = _at(path, index)
            unit = self.mapping(unit_raw, u_path)
            if unit is None:
                continue
            code = self.code(unit.get("code"), _at(u_path, "code"))
            if code is None:
                continue
            if not self.first_time(code, first_seen, u_path, _at(u_path, "code"), "unit.duplicate"):
                continue
            units.append(Unit(code, self.name(unit, u_path, code)))
        return tuple(units)

    def unit_ref(self, raw: object, path: str, known_units: set[str]) -> str | None:
        """Read a reference to a known unit."""
        code = self.code(raw, path)
        if code is not None and code not in known_units:
            self.fail(path, "unit.unknown", code=code)
            return None
        return code

    def values(
        self,
        raw: object,
        path: str,
        known_units: set[str],
        indicators: Mapping[str, Indicator],
    ) -> dict[tuple[str, str], Value]:
        """Read the raw values, one per unit and indicator.

        A province period has some 30,000 values, nearly all well-formed: each is first
        tried by its indicator's ``_quick_rule``, which builds no path or message; any value
        it does not take is read again by ``_value_item``, which accepts it or names the
        problem and where it is.
        """
        values_raw = self.sequence(raw, path)
        if values_raw is None:
            return {}
        values: dict[tuple[str, str], Value] = {}
        first_seen: dict[tuple[str, str], int] = {}
        quick = {code: _quick_rule(indicator) for code, indicator in indicators.items()}
        for index, item in enumerate(values_raw):
            if type(item) is dict:
                unit, code = item.get("unit"), item.get("indicator")
                if type(unit) is str and type(code) is str and unit in known_units:
                    rule = quick.get(code)
                    key = (unit, code)
                    if rule is not None and key not in first_seen:
                        value = item.get("value")
                        grades, low, high = rule
                        if value is None:
                            first_seen[key] = index  # not entered yet: missing
                            continue
                        if grades is not None:
                            if type(value) is str and value in grades:
                                first_seen[key] = index
                                values[key] = value
                                continue
                        else:
                            if type(value) is int:
                                value = Decimal(value)
                            if (
                                type(value) is Decimal
                                and value.is_finite()
                                and low <= value <= high
                            ):
                                first_seen[key] = index
                                values[key] = value
                                continue
            self._value_item(item, index, path, known_units, indicators, values, first_seen)
        return values

    def _value_item(
        self,
        item: object,
        index: int,
        path: str,
        known_units: set[str],
        indicators: Mapping[str, Indicator],
        values: dict[tuple[str, str], Value],
        first_seen: dict[tuple[str, str], int],
    ) -> None:
        """Read one value carefully, recording every problem with its path."""
        v_path = _at(path, index)
        item = self.mapping(item, v_path)
        if item is None:
            return
        unit = self.unit_ref(item.get("unit"), _at(v_path, "unit"), known_units)
        i_path = _at(v_path, "indicator")
        code = self.code(item.get("indicator"), i_path)
        indicator = indicators.get(code) if code is not None else None
        if code is not None and indicator is None:
            self.fail(i_path, "indicator.unknown", code=code)
        if unit is not None and code is not None:
            if (unit, code) in first_seen:
                first = _at(path, first_seen[(unit, code)])
                self.fail(v_path, "value.duplicate", unit=unit, indicator=code, first=first)
                return
            first_seen[(unit, code)] = index
        raw_value = item.get("value")
        if raw_value is None:
            return  # null means not entered yet: the unit's value is missing
        value = self.value(raw_value, _at(v_path, "value"), indicator)
        if value is not None and unit is not None and indicator is not None:
            values[(unit, indicator.code)] = value

    def value(self, raw: object, path: str, indicator: Indicator | None) -> Value | None:
        """Check one value against its indicator's method."""
        if indicator is None or indicator.method not in METHODS:
            return None  # nothing to check the value against
        if indicator.method == "grade":
            grades = indicator.grade_fractions
            listed = ", ".join(grades) if grades else ""
            if not isinstance(raw, str):
                self.fail(path, "value.not_a_grade", indicator=indicator.code, grades=listed)
                return None
            if grades is not None and raw not in grades:
                self.fail(
                    path, "value.unknown_grade", value=raw, indicator=indicator.code, grades=listed
                )
                return None
            return raw
        number = self.number(raw, path)
        if number is None:
            return None
        if indicator.method == "direct" and indicator.points is not None:
            if not 0 <= number <= indicator.points:
                self.fail(path, "value.direct_out_of_range", points=_plain(indicator.points))
                return None
        if indicator.method == "target" and indicator.direction == "lower" and number < 0:
            self.fail(path, "value.negative_lower_target")
            return None
        return number

    def adjustments(
        self, raw: object, path: str, known_units: set[str]
    ) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        """Read bonus and penalty items, summed per unit."""
        sums: dict[str, dict[str, Decimal]] = {"bonus": {}, "penalty": {}}
        items = self.sequence(raw, path)
        if items is None:
            return sums["bonus"], sums["penalty"]
        for index, item_raw in enumerate(items):
            a_path = _at(path, index)
            item = self.mapping(item_raw, a_path)
            if item is None:
                continue
            unit = self.unit_ref(item.get("unit"), _at(a_path, "unit"), known_units)
            kind = item.get("kind")
            if self.broken(_at(a_path, "kind"), rules.choice_problem("kind", kind)):
                kind = None
            points = self.number(item.get("points"), _at(a_path, "points"))
            if points is not None and self.broken(
                _at(a_path, "points"), rules.number_problem("adjustment", points)
            ):
                points = None
            self.reason(item, a_path)
            if unit is not None and kind is not None and points is not None:
                sums[kind][unit] = sums[kind].get(unit, Decimal(0)) + points
        return sums["bonus"], sums["penalty"]

    def vetoes(self, raw: object, path: str, known_units: set[str]) -> frozenset[str]:
        """Read the vetoed units."""
        items = self.sequence(raw, path)
        if items is None:
            return frozenset()
        vetoed: set[str] = set()
        for index, item_raw in enumerate(items):
            v_path = _at(path, index)
            item = self.mapping(item_raw, v_path)
            if item is None:
                continue
            unit = self.unit_ref(item.get("unit"), _at(v_path, "unit"), known_units)
            self.reason(item, v_path)
            if unit is not None:
                vetoed.add(unit)
        return frozenset(vetoed)

    # -- optional parts ------------------------------------------------------------------

    def sensitivity(self, raw: object, path: str) -> Sensitivity | None:
        """Read the rank-uncertainty settings."""
        settings = self.mapping(raw, path)
        if settings is None:
            return None
        samples: int | None = DEFAULT_SAMPLES
        if settings.get("samples") is not None:
            samples = self.integer(settings["samples"], _at(path, "samples"), 1)
            if samples is not None and samples > MAX_SAMPLES:
                self.fail(_at(path, "samples"), "samples.too_many", maximum=f"{MAX_SAMPLES:,}")
                samples = None
        spread: Decimal | None = DEFAULT_SPREAD
        if settings.get("spread") is not None:
            spread = self.number(settings["spread"], _at(path, "spread"))
            if spread is not None and not 0 <= spread <= ONE:
                self.fail(_at(path, "spread"), "spread.out_of_range")
                spread = None
        seed: int | None = DEFAULT_SEED
        if settings.get("seed") is not None:
            seed = self.integer(settings["seed"], _at(path, "seed"), 0)
        if samples is None or spread is None or seed is None:
            return None
        return Sensitivity(samples, spread, seed)

    def flag_rules(self, raw: object, path: str, known_units: set[str]) -> FlagRules | None:
        """Read the review-flag inputs and thresholds."""
        settings = self.mapping(raw, path)
        if settings is None:
            return None
        ok = True

        typical: dict[str, int] = {}
        t_path = _at(path, "typical")
        table = self.mapping(_listed_mapping(settings, "typical"), t_path)
        for unit_raw, batch_raw in (table or {}).items():
            u_path = _at(t_path, str(unit_raw))
            unit = self.unit_ref(unit_raw, u_path, known_units)
            batch = self.integer(batch_raw, u_path, 1)
            if unit is not None and batch is not None:
                typical[unit] = batch
        ok &= table is not None

        previous: dict[str, Decimal] = {}
        p_path = _at(path, "previous_totals")
        table = self.mapping(_listed_mapping(settings, "previous_totals"), p_path)
        for unit_raw, total_raw in (table or {}).items():
            u_path = _at(p_path, str(unit_raw))
            unit = self.unit_ref(unit_raw, u_path, known_units)
            if total_raw is None:
                continue
            total = self.number(total_raw, u_path)
            if unit is not None and total is not None:
                previous[unit] = total

        reviews: dict[str, dt.date] = {}
        r_path = _at(path, "last_review")
        table = self.mapping(_listed_mapping(settings, "last_review"), r_path)
        for unit_raw, date_raw in (table or {}).items():
            u_path = _at(r_path, str(unit_raw))
            unit = self.unit_ref(unit_raw, u_path, known_units)
            if date_raw is None:
                continue
            day = self.date(date_raw, u_path)
            if unit is not None and day is not None:
                reviews[unit] = day

        period_end = None
        if settings.get("period_end") is None:
            self.fail(_at(path, "period_end"), "period_end.required")
        else:
            period_end = self.date(settings["period_end"], _at(path, "period_end"))

        thresholds: dict[str, Decimal | None] = {}
        for key, default in (("low_score", DEFAULT_LOW_SCORE), ("drop", DEFAULT_DROP)):
            thresholds[key] = default
            if settings.get(key) is not None:
                thresholds[key] = self.number(settings[key], _at(path, key))
                if thresholds[key] is not None and thresholds[key] < 0:
                    self.fail(_at(path, key), "threshold.negative")
                    thresholds[key] = None
        counts: dict[str, int | None] = {}
        for key, default in (("bottom_n", DEFAULT_BOTTOM_N), ("review_days", DEFAULT_REVIEW_DAYS)):
            counts[key] = default
            if settings.get(key) is not None:
                counts[key] = self.integer(settings[key], _at(path, key), 0)

        if not ok or period_end is None or None in thresholds.values() or None in counts.values():
            return None
        return FlagRules(
            typical=typical,
            period_end=period_end,
            previous_totals=previous,
            last_review=reviews,
            low_score=thresholds["low_score"],  # type: ignore[arg-type]
            drop=thresholds["drop"],  # type: ignore[arg-type]
            bottom_n=counts["bottom_n"],  # type: ignore[arg-type]
            review_days=counts["review_days"],  # type: ignore[arg-type]
        )


def read_document(raw: object) -> tuple[Document | None, list[Problem]]:
    """Check a raw document and return it typed (None when refused) with every problem."""
    reader = _Reader()
    document = reader.document(raw)
    return document, reader.problems


def validate(raw: object) -> list[Problem]:
    """Return every problem of a raw engine document (an empty list when it is valid)."""
    return read_document(raw)[1]


def parse_document(raw: object) -> Document:
    """Check a raw document and return it typed, raising ScoringError listing every problem."""
    document, problems = read_document(raw)
    if problems or document is None:
        raise ScoringError(problems or [Problem.of("", "document.unreadable")])
    return document

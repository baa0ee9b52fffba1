"""Defensible weights for a scheme: AHP, entropy, CRITIC, and weights turned into points
(docs/weights.md).

Pure (numpy, no Flask, no database). Three ways to weigh n items (a dimension's
indicators, or the dimensions):

- ``ahp(matrix)``: Saaty's pairwise matrix (1–9 and reciprocals) → weights by the
  principal eigenvector (or the row geometric means), λmax, CI = (λmax − n)/(n − 1) and
  CR = CI / RI with Saaty's random index; CR > 0.10 is inconsistent (``consistent``).
- ``entropy(values, directions)``: Shannon entropy of each column's shares
  (docs/weights.md#entropy).
- ``critic(values, directions)``: Diakoulaki's contrast × conflict
  (docs/weights.md#critic).

``to_points(weights, parent)`` turns weights into points at 0.01 that add up exactly to
the parent's points (largest remainder, Decimal).

Bad input raises ``ScoringError`` whose problems carry codes of ``rules.CODES``, worded
in Chinese by ``evaluation/schemes/messages.py`` like every other rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Context, Decimal, InvalidOperation
from fractions import Fraction

import numpy as np

from . import rules
from .amounts import CENT
from .validation import Problem, ScoringError

__all__ = [
    "AHP_METHODS",
    "CR_LIMIT",
    "MAX_ORDER",
    "MIN_ORDER",
    "RANDOM_INDEX",
    "AhpResult",
    "DataWeights",
    "ahp",
    "critic",
    "entropy",
    "read_matrix",
    "read_values",
    "to_points",
]

_CONTEXT = Context(prec=28)

#: Saaty's random consistency index by order n (n = 1, 2: a reciprocal matrix is always
#: consistent, so CR = 0).
RANDOM_INDEX: Mapping[int, float] = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45,
    10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}  # fmt: skip
CR_LIMIT = 0.10
MIN_ORDER, MAX_ORDER = 2, 15
AHP_METHODS = rules.CHOICES["ahp_method"][0]
#: Saaty's scale: 1/9 … 9.
SCALE_LOW, SCALE_HIGH = Fraction(1, 9), Fraction(9)
#: The smaller entry of a pair may be its mirror's reciprocal rounded to two decimals
#: (0.33 for 1/3, 0.13 for 1/8), or off by at most 1 % (docs/weights.md#ahp).
_ROUNDED = Fraction(5, 1000) + Fraction(1, 10**9)
_RELATIVE = Fraction(1, 100)
_FRACTION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")
MIN_ROWS = {"entropy": 2, "critic": 3}


def _problem(path: str, code: str, **params: object) -> Problem:
    return Problem.of(path, code, **params)


def _number(value: object) -> Fraction | None:
    """An exact number from JSON or a form: int, Decimal, float, "3", "1/3"; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, (Decimal, float)):
        if not np.isfinite(float(value)):
            return None
        return Fraction(Decimal(repr(value)) if isinstance(value, float) else value)
    if isinstance(value, str):
        match = _FRACTION.match(value)
        try:
            if match:
                denominator = Fraction(Decimal(match.group(2)))
                if denominator == 0:
                    return None  # "3/0" is no number
                return Fraction(Decimal(match.group(1))) / denominator
            number = Decimal(value.strip())
        except (InvalidOperation, ValueError):
            return None
        return Fraction(number) if number.is_finite() else None
    return None


def _show(number: Fraction) -> str:
    if number.denominator == 1:
        return str(number.numerator)
    if number < 1 and (1 / number).denominator == 1:
        return f"1/{(1 / number).numerator}"
    return rules.plain(Decimal(number.numerator) / Decimal(number.denominator))


# --- AHP -----------------------------------------------------------------------------------


def read_matrix(matrix: object, path: str = "matrix") -> np.ndarray:
    """Check a pairwise matrix and complete it: the diagonal is 1, an empty entry takes
    its mirror's reciprocal, and of each pair the entry ≥ 1 decides (its mirror becomes
    its exact reciprocal). Raises ``ScoringError`` listing every problem."""
    if not isinstance(matrix, list):
        raise ScoringError([_problem(path, "type.list")])
    n = len(matrix)
    if not MIN_ORDER <= n <= MAX_ORDER:
        raise ScoringError([_problem(path, "ahp.size", n=n, minimum=MIN_ORDER, maximum=MAX_ORDER)])
    problems: list[Problem] = []
    for i, row in enumerate(matrix):
        if not isinstance(row, list):
            problems.append(_problem(f"{path}[{i}]", "type.list"))
        elif len(row) != n:
            problems.append(_problem(f"{path}[{i}]", "ahp.not_square", row=i + 1,
                                     length=len(row), n=n))  # fmt: skip
    if problems:
        raise ScoringError(problems)
    entries: list[list[Fraction | None]] = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            value = matrix[i][j]
            where = f"{path}[{i}][{j}]"
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            number = _number(value)
            if number is None:
                problems.append(_problem(where, "type.number"))
            elif number <= 0:
                problems.append(_problem(where, "ahp.not_positive", value=_show(number)))
            elif not SCALE_LOW - _ROUNDED <= number <= SCALE_HIGH:
                problems.append(_problem(where, "ahp.out_of_scale", value=_show(number)))
            elif i == j and number != 1:
                problems.append(_problem(where, "ahp.diagonal", value=_show(number)))
            else:
                entries[i][j] = number
    full = np.ones((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            upper, lower = entries[i][j], entries[j][i]
            if upper is None and lower is None:
                if not any(p.path in (f"{path}[{i}][{j}]", f"{path}[{j}][{i}]") for p in problems):
                    problems.append(_problem(f"{path}[{i}][{j}]", "required"))
                continue
            if upper is not None and lower is not None and not _reciprocal(upper, lower):
                problems.append(_problem(
                    f"{path}[{j}][{i}]", "ahp.not_reciprocal", value=_show(lower),
                    other=_show(upper), mirror=f"{path}[{i}][{j}]",
                    product=rules.plain(round(Decimal(float(upper * lower)), 4)),
                ))  # fmt: skip
                continue
            if upper is None:
                value = 1 / lower
            elif lower is None or upper >= 1:
                value = upper
            else:  # the entry ≥ 1 decides; its mirror becomes its exact reciprocal
                value = 1 / lower
            full[i, j] = float(value)
            full[j, i] = float(1 / value)
    if problems:
        raise ScoringError(problems)
    return full


def _reciprocal(a: Fraction, b: Fraction) -> bool:
    small, large = min(a, b), max(a, b)
    return abs(a * b - 1) <= _RELATIVE or abs(small - 1 / large) <= _ROUNDED


@dataclass(frozen=True)
class AhpResult:
    """Weights from a pairwise matrix, and its consistency."""

    weights: tuple[float, ...]
    lambda_max: float
    ci: float
    cr: float
    method: str
    matrix: tuple[tuple[float, ...], ...]

    @property
    def n(self) -> int:
        return len(self.weights)

    @property
    def consistent(self) -> bool:
        """CR ≤ 0.10 (Saaty's limit)."""
        return self.cr <= CR_LIMIT

    def as_dict(self) -> dict:
        """The CLI's JSON answer (docs/weights.md#command-line)."""
        return {
            "method": self.method,
            "weights": [round(w, 6) for w in self.weights],
            "lambda_max": round(self.lambda_max, 6),
            "ci": round(self.ci, 6),
            "cr": round(self.cr, 6),
            "ri": RANDOM_INDEX[self.n],
            "consistent": self.consistent,
        }


def ahp(matrix: object, method: str = "eigenvector") -> AhpResult:
    """Weights, λmax, CI and CR of a pairwise matrix (docs/weights.md#ahp).

    ``matrix`` is a list of rows as ``read_matrix`` takes it (or an already complete
    numpy array). ``method`` is ``eigenvector`` (Saaty's principal eigenvector) or
    ``geometric`` (row geometric means, normalised). λmax is the principal eigenvalue
    either way, so CI and CR belong to the matrix, not to the method.
    """
    problem = rules.choice_problem("ahp_method", method)
    if problem:
        raise ScoringError([_problem("method", problem[0], **problem[1])])
    full = matrix if isinstance(matrix, np.ndarray) else read_matrix(matrix)
    n = full.shape[0]
    values, vectors = np.linalg.eig(full)
    k = int(np.argmax(values.real))
    lambda_max = float(values[k].real)
    if method == "eigenvector":
        vector = np.abs(vectors[:, k].real)
    else:
        vector = np.exp(np.log(full).mean(axis=1))
    weights = vector / vector.sum()
    ci = max((lambda_max - n) / (n - 1), 0.0)  # a consistent matrix gives n up to rounding
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri else 0.0
    return AhpResult(
        weights=tuple(float(w) for w in weights),
        lambda_max=lambda_max,
        ci=ci,
        cr=cr,
        method=method,
        matrix=tuple(tuple(float(x) for x in row) for row in full),
    )


# --- weights from data ---------------------------------------------------------------------


@dataclass(frozen=True)
class DataWeights:
    """Weights computed from raw values; ``no_information`` lists the columns (0-based)
    whose values are all equal: they carry no information and get weight 0."""

    method: str
    weights: tuple[float, ...]
    no_information: tuple[int, ...] = ()
    details: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The CLI's JSON answer (docs/weights.md#command-line)."""
        shown: dict = {
            "method": self.method,
            "weights": [round(w, 6) for w in self.weights],
            "no_information": list(self.no_information),
        }
        shown.update({name: [round(x, 6) for x in row] for name, row in self.details.items()})
        if self.no_information:
            shown["notes"] = [
                rules.english("weights.no_information_column", {"column": j + 1})
                for j in self.no_information
            ]
        return shown


def read_values(values: object, directions: object, method: str) -> tuple[np.ndarray, list[str]]:
    """Check a table of raw values (rows: units, columns: indicators) and its
    directions. Raises ``ScoringError`` listing every problem."""
    problems: list[Problem] = []
    if not isinstance(values, list):
        raise ScoringError([_problem("values", "type.list")])
    if not all(isinstance(row, list) for row in values):
        raise ScoringError([
            _problem(f"values[{i}]", "type.list")
            for i, row in enumerate(values) if not isinstance(row, list)
        ])  # fmt: skip
    minimum = MIN_ROWS[method]
    if len(values) < minimum:
        problems.append(_problem("values", "weights.too_few_rows", rows=len(values),
                                 minimum=minimum))  # fmt: skip
    columns = len(values[0]) if values else 0
    if values and columns < MIN_ORDER:
        problems.append(_problem("values[0]", "weights.too_few_columns", columns=columns,
                                 minimum=MIN_ORDER))  # fmt: skip
    table = np.zeros((len(values), columns))
    for i, row in enumerate(values):
        if len(row) != columns:
            problems.append(_problem(f"values[{i}]", "weights.ragged", length=len(row),
                                     columns=columns))  # fmt: skip
            continue
        for j, value in enumerate(row):
            number = _number(value) if not isinstance(value, str) else None
            if value is None:
                problems.append(_problem(f"values[{i}][{j}]", "required"))
            elif number is None:
                problems.append(_problem(f"values[{i}][{j}]", "type.number"))
            else:
                table[i, j] = float(number)
    if directions is None:
        directions = ["higher"] * columns
    if not isinstance(directions, list):
        problems.append(_problem("directions", "type.list"))
        directions = []
    elif len(directions) != columns:
        problems.append(_problem("directions", "weights.directions_length",
                                 length=len(directions), columns=columns))  # fmt: skip
    for j, direction in enumerate(directions):
        problem = rules.choice_problem("direction", direction)
        if problem:
            problems.append(_problem(f"directions[{j}]", problem[0], **problem[1]))
    if problems:
        raise ScoringError(problems)
    return table, list(directions)


def _constant(table: np.ndarray) -> np.ndarray:
    return np.all(table == table[0], axis=0)


def _scaled(table: np.ndarray) -> np.ndarray:
    """Each column divided by its largest magnitude (docs/weights.md#entropy): neither
    method's weights change, and sums of values near the float limit cannot overflow."""
    largest = np.abs(table).max(axis=0) if table.size else np.zeros(table.shape[1])
    return table / np.where(largest > 0, largest, 1.0)


def _finish(method: str, scores: np.ndarray, constant: np.ndarray, details: dict) -> DataWeights:
    scores = np.where(constant, 0.0, np.maximum(scores, 0.0))
    if not scores.sum() > 0:
        raise ScoringError([_problem("values", "weights.no_information")])
    weights = scores / scores.sum()
    return DataWeights(
        method=method,
        weights=tuple(float(w) for w in weights),
        no_information=tuple(int(j) for j in np.flatnonzero(constant)),
        details={name: tuple(float(x) for x in row) for name, row in details.items()},
    )


def entropy(values: object, directions: object = None) -> DataWeights:
    """Entropy weights (docs/weights.md#entropy).

    Each column becomes shares p_ij = x'_ij / Σ_i x'_ij, with x' = x for ``higher`` and
    x' = max + min − x (the column mirrored within its range) for ``lower``;
    e_j = −Σ_i p_ij ln p_ij / ln m (0 ln 0 = 0), d_j = 1 − e_j, w_j = d_j / Σ d_j.
    Values must not be negative.
    """
    table, directions = read_values(values, directions, "entropy")
    problems = [
        _problem(
            f"values[{i}][{j}]", "weights.negative", value=rules.plain(Decimal(repr(float(value))))
        )
        for (i, j), value in np.ndenumerate(table)
        if value < 0
    ]
    if problems:
        raise ScoringError(problems)
    table = _scaled(table)
    lower = np.array([d == "lower" for d in directions])
    oriented = np.where(lower, table.max(axis=0) + table.min(axis=0) - table, table)
    sums = oriented.sum(axis=0)
    constant = _constant(oriented) | (sums == 0)
    shares = oriented / np.where(sums == 0, 1.0, sums)
    logs = np.log(np.where(shares > 0, shares, 1.0))
    e = -(shares * logs).sum(axis=0) / np.log(table.shape[0])
    e = np.where(constant, 1.0, e)
    return _finish("entropy", 1.0 - e, constant, {"entropy": e, "divergence": 1.0 - e})


def critic(values: object, directions: object = None) -> DataWeights:
    """CRITIC weights, Diakoulaki, Mavrotas & Papayannakis 1995 (docs/weights.md#critic).

    Each column is scaled to [0, 1] by min–max honouring its direction; σ_j is its
    standard deviation and r_jk the Pearson correlation of columns j and k;
    C_j = σ_j Σ_k (1 − r_jk) over the columns that are not constant; w_j = C_j / Σ C_j.
    A constant column gets weight 0; when only one column varies it gets weight 1.
    """
    table, directions = read_values(values, directions, "critic")
    table = _scaled(table)
    constant = _constant(table)
    low, high = table.min(axis=0), table.max(axis=0)
    span = np.where(constant, 1.0, high - low)
    lower = np.array([d == "lower" for d in directions])
    scaled = np.where(lower, (high - table) / span, (table - low) / span)
    sigma = scaled.std(axis=0, ddof=1)
    live = np.flatnonzero(~constant)
    correlation = np.zeros((table.shape[1], table.shape[1]))
    if len(live):
        correlation[np.ix_(live, live)] = np.atleast_2d(np.corrcoef(scaled[:, live], rowvar=False))
    conflict = np.array([
        sum(1.0 - correlation[j, k] for k in live) if not constant[j] else 0.0
        for j in range(table.shape[1])
    ])  # fmt: skip
    if len(live) == 1:  # the one column that varies carries all the information
        conflict[live] = 1.0
    information = sigma * conflict
    return _finish("critic", information, constant,
                   {"sigma": sigma, "information": information})  # fmt: skip


# --- points ----------------------------------------------------------------------------------


def to_points(weights: Sequence[float | Decimal], parent: Decimal) -> list[Decimal]:
    """Points at 0.01 proportional to ``weights`` that add up exactly to ``parent``
    (docs/weights.md#points): each item gets the floor of its exact quota in cents, and
    the cents left over go one each to the largest remainders (ties: the earlier item).
    """
    problem = rules.number_problem("points", Decimal(parent))
    if problem:
        raise ScoringError([_problem("total", problem[0], **problem[1])])
    exact = [Decimal(repr(w)) if isinstance(w, float) else Decimal(w) for w in weights]
    if not exact or any(not w.is_finite() or w < 0 for w in exact) or sum(exact) <= 0:
        raise ScoringError([_problem("weights", "weights.no_information")])
    total = sum(exact, Decimal(0))
    cents = int(Decimal(parent) / CENT)
    quotas = [_CONTEXT.divide(_CONTEXT.multiply(w, cents), total) for w in exact]
    floors = [int(q.to_integral_value(rounding=ROUND_FLOOR)) for q in quotas]
    left = cents - sum(floors)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(f) * CENT for f in floors]


# --- command line ------------------------------------------------------------------------------


def run(kind: str, document: object) -> dict:
    """Answer one CLI document (docs/weights.md#command-line): ``{"matrix": …, "method"}``
    for ``ahp``, ``{"values": …, "directions": …}`` otherwise; with ``"total"`` the
    weights are also given as ``points`` adding up to it."""
    if not isinstance(document, Mapping):
        raise ScoringError([_problem("", "type.object")])
    if kind == "ahp":
        if "matrix" not in document:
            raise ScoringError([_problem("matrix", "required")])
        result = ahp(document["matrix"], document.get("method") or "eigenvector")
    else:
        if "values" not in document:
            raise ScoringError([_problem("values", "required")])
        compute = entropy if kind == "entropy" else critic
        result = compute(document["values"], document.get("directions"))
    shown = result.as_dict()
    if document.get("total") is not None:
        total = _number(document["total"])
        if total is None:
            raise ScoringError([_problem("total", "type.number")])
        amount = Decimal(total.numerator) / Decimal(total.denominator)
        shown["points"] = [format(p, "f") for p in to_points(result.weights, amount)]
    return shown


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m evaluation.scoring.weights ahp|entropy|critic [FILE]``."""
    import argparse
    import sys

    from .__main__ import _print, read_document, refuse
    from .json_io import dumps

    parser = argparse.ArgumentParser(
        prog="python -m evaluation.scoring.weights",
        description="Weights by AHP, entropy or CRITIC from one JSON document (docs/weights.md).",
    )
    parser.add_argument("kind", help="ahp, entropy or critic")
    parser.add_argument("file", nargs="?", default="-", help="JSON document (default: stdin)")
    arguments = parser.parse_args(argv)
    try:
        problem = rules.choice_problem("weights_kind", arguments.kind)
        if problem:
            raise ScoringError([Problem.of("kind", problem[0], **problem[1])])
        shown = run(arguments.kind, read_document(arguments.file))
    except ScoringError as error:
        return refuse(error)
    _print(dumps(shown))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

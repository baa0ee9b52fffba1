"""The scoring engine (评分引擎): pure, exact, and usable on its own (docs/rules.md#scoring,
docs/rules.md#review-flags, docs/rules.md#engine-document).

No Flask, no database: a document goes in, figures come out. All arithmetic is
``decimal.Decimal`` in a local context of precision 28, and ``q(x)`` rounds half-up to
0.01, so 2.675 → 2.68 and 0.125 → 0.13 exactly (binary floats get both wrong).

Indicator points, for indicator *i* with points *P* and a unit's value *v*:

- ``direct``:   q(v), with 0 ≤ v ≤ P;
- ``target``:   higher r = v / T, lower r = T / v (v ≥ 0; v = 0 gives r = 1);
  points q(P × min(max(r, 0), 1)), target T > 0;
- ``relative``: over the units of this computation that have a value, lo = min and
  hi = max; frac = 1 if hi = lo, else higher (v − lo) / (hi − lo), lower
  (hi − v) / (hi − lo); points q(P × (f + (1 − f) × frac)), floor f in [0, 1), default 0;
- ``grade``:    q(P × fraction of the grade), fractions default A/优 1, B/良 0.85,
  C/中 0.7, D/差 0.5.

A missing value scores 0 and is listed in the unit's ``missing``. A dimension's subtotal
is the sum of its (already rounded) indicator points; bonus = q(min(Σ bonus items,
bonus_cap)), penalty = q(min(Σ penalty items, penalty_cap)), a null cap meaning no cap;
total = max(0, Σ subtotals + bonus − penalty). So every printed number is at two decimals
and the printed numbers add up exactly.

Tie rule: each unit's ranking key is (vetoed, −total), so vetoed units come after all
others; equal keys tie. ``competition`` rank = 1 + the number of units with a strictly
smaller key (1, 2, 2, 4); ``dense`` rank = 1 + the number of distinct smaller keys
(1, 2, 2, 3, 中国式排名). Results are listed by rank, then in the units' input order.

Grade (等次): the first band, by descending min, whose min ≤ total; a vetoed unit (or a
total below every band) gets the last band. Without ``grades`` (absent or null) the bands
are 好 ≥ 90, 较好 ≥ 80, 一般 ≥ 60, 较差 ≥ 0. Other defaults follow docs/rules.md#domain:
``total`` 100, ``bonus_cap`` 5, ``penalty_cap`` null, ``tie_method`` competition. Every
default, bound and problem code is stated once, in ``rules.py``
(docs/rules.md#where-a-rule-lives).

Rank uncertainty and typical-village flags are described in ``uncertainty`` and ``flags``.

Public API::

    compute(document) -> dict              # the §8.4 JSON shape, amounts as strings
    evaluate(document) -> ScoreResult      # the same figures as Decimals
    score_period(scheme=..., units=..., values=..., ...) -> ScoreResult
    validate(document) -> list[Problem]    # every problem, empty when valid

``compute``, ``evaluate`` and ``score_period`` raise ``ScoringError`` (a ``ValueError``)
whose ``problems`` list every problem with its path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .amounts import format_amount, q
from .engine import RankInterval, ScoreResult, UnitResult, compute, evaluate, score_document
from .flags import Flag
from .json_io import dumps, loads
from .validation import Document, Problem, ScoringError, parse_document, validate

__all__ = [
    "Document",
    "Flag",
    "Problem",
    "RankInterval",
    "ScoreResult",
    "ScoringError",
    "UnitResult",
    "compute",
    "dumps",
    "evaluate",
    "format_amount",
    "loads",
    "parse_document",
    "q",
    "score_document",
    "score_period",
    "validate",
]


def score_period(
    *,
    scheme: Mapping,
    units: Iterable[Mapping],
    values: Iterable[Mapping] = (),
    adjustments: Iterable[Mapping] = (),
    vetoes: Iterable[Mapping] = (),
    sensitivity: Mapping | None = None,
    flags: Mapping | None = None,
) -> ScoreResult:
    """Compute one period from the parts a database loader builds, as Decimal results."""
    document: dict[str, object] = {
        "scheme": scheme,
        "units": list(units),
        "values": list(values),
        "adjustments": list(adjustments),
        "vetoes": list(vetoes),
    }
    if sensitivity is not None:
        document["sensitivity"] = sensitivity
    if flags is not None:
        document["flags"] = flags
    return evaluate(document)

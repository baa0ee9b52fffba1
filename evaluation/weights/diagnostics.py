"""指标诊断 for one period and level (docs/weights.md#diagnostics): the figures of
``scoring.diagnostics`` from the period's ranking, and entropy / CRITIC weights from its raw
values offered beside the current points. Reads only; nothing is written.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from evaluation.core.numbers import shown
from evaluation.core.states import PeriodStatus
from evaluation.core.writing import InvalidInput
from evaluation.ranking import reading
from evaluation.schemes.messages import chinese
from evaluation.scoring import ScoringError, rules
from evaluation.scoring import diagnostics as figures
from evaluation.scoring import weights as weighing
from models import Period, db

__all__ = ["DimensionSuggestion", "Page", "diagnostics_page", "pooled_periods"]


@dataclass
class DimensionSuggestion:
    """Entropy and CRITIC weights of one dimension's indicators from the raw values."""

    code: str
    name: str
    units: int
    rows: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Page:
    period: Period
    level: str
    indicators: list[dict]
    dimensions: list[dict]
    units: int
    left_out: int
    result: figures.Diagnostics
    suggestions: list[DimensionSuggestion]
    periods_used: list[Period] = field(default_factory=list)

    def chart(self) -> dict:
        """What the heatmap draws (JSON): codes, names and both matrices (None: undefined)."""

        def cells(matrix) -> list[list[float | None]]:
            return [[None if math.isnan(x) else round(float(x), 3) for x in row] for row in matrix]

        return {
            "codes": [i["code"] for i in self.indicators],
            "names": [i["name"] for i in self.indicators],
            "pearson": cells(self.result.pearson),
            "spearman": cells(self.result.spearman),
        }


_CELL = re.compile(r"^values\[\d+\]\[(\d+)\]$")


def _words(error: ScoringError, codes: list[str] | None = None) -> list[str]:
    """Word the problems in Chinese; a value's problem names its indicator."""
    texts = []
    for problem in error.problems:
        found = _CELL.match(problem.path)
        owner = f"指标 {codes[int(found.group(1))]}" if found and codes else ""
        texts.append(chinese(problem.code, problem.params, owner=owner))
    return list(dict.fromkeys(texts))


def _raw_number(indicator: dict, value) -> Decimal | None:
    """A raw value as a number: a grade as its fraction, a number as itself."""
    if indicator["method"] == "grade":
        fractions = indicator.get("grade_fractions") or rules.DEFAULT_GRADE_FRACTIONS
        found = fractions.get(str(value).strip()) if value is not None else None
        return Decimal(str(found)) if found is not None else None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _suggestions(documents: list[dict]) -> list[DimensionSuggestion]:
    """Entropy and CRITIC per dimension over the rows of every document (one row per unit
    and period); the documents share one scheme, the first one's."""
    document = documents[0]
    raw: dict[tuple[int, str, str], Decimal] = {}
    indicators = {i["code"]: i for d in document["scheme"]["dimensions"] for i in d["indicators"]}
    units = []
    for number_of, each in enumerate(documents):
        for entry in each["values"]:
            indicator = indicators.get(entry["indicator"])
            if indicator is not None:
                number = _raw_number(indicator, entry["value"])
                if number is not None:
                    raw[(number_of, entry["unit"], entry["indicator"])] = number
        units += [(number_of, u["code"]) for u in each["units"]]
    answer = []
    for dimension in document["scheme"]["dimensions"]:
        own = dimension["indicators"]
        if len(own) < 2:
            continue
        codes = [i["code"] for i in own]
        rows = [
            [raw[(n, u, c)] for c in codes]
            for n, u in units
            if all((n, u, c) in raw for c in codes)
        ]
        suggestion = DimensionSuggestion(dimension["code"], dimension["name"], len(rows))
        parent = sum((Decimal(i["points"]) for i in own), Decimal(0))
        directions = ["higher" if i["method"] == "grade" else i["direction"] for i in own]
        computed = {}
        for method, compute in (("entropy", weighing.entropy), ("critic", weighing.critic)):
            try:
                result = compute(rows, directions)
                computed[method] = (result, weighing.to_points(result.weights, parent))
            except ScoringError as error:
                label = "熵权法" if method == "entropy" else "CRITIC 法"
                suggestion.problems += [f"{label}：{text}" for text in _words(error, codes)]
        for position, indicator in enumerate(own):
            row = {"code": indicator["code"], "name": indicator["name"],
                   "points": shown(indicator["points"])}  # fmt: skip
            for method, (result, points) in computed.items():
                row[method] = (result.weights[position], points[position])
                row[f"{method}_none"] = position in result.no_information
            suggestion.rows.append(row)
        answer.append(suggestion)
    return answer


def pooled_periods(period: Period, level: str) -> list[Period]:
    """``period`` and the other approved periods scored by the same scheme at ``level``."""
    scheme = reading.scheme_for(period, level)
    column = Period.town_scheme_id if level == "town" else Period.village_scheme_id
    others = db.session.scalars(
        select(Period)
        .where(column == scheme.id, Period.id != period.id,
               Period.status == PeriodStatus.APPROVED)
        .order_by(Period.end_date, Period.id)
    )  # fmt: skip
    return [period, *others]


def diagnostics_page(period: Period, level: str = "town", *, pooled: bool = False) -> Page:
    """Everything the page shows for one period and level; ``InvalidInput`` when there are
    fewer than three units with a value for every indicator. With ``pooled`` the entropy
    and CRITIC suggestions read the values of every approved period of the same scheme
    too (``pooled_periods``)."""
    scheme = reading.scheme_for(period, level)
    document = reading.scheme_document(scheme)
    indicators, dimension_of = [], []
    for dimension in document["dimensions"]:
        for indicator in dimension["indicators"]:
            indicators.append(
                {"code": indicator["code"], "name": indicator["name"],
                 "points": shown(indicator["points"]), "dimension": dimension["code"]}
            )  # fmt: skip
            dimension_of.append(dimension["code"])
    results = reading.ranking(period, level)["results"]
    complete = [r for r in results if not r.get("missing")]
    codes = [i["code"] for i in indicators]
    try:
        result = figures.diagnose(
            [[Decimal(r["indicators"][c]) for c in codes] for r in complete],
            codes,
            dimension_of,
            [Decimal(i["points"]) for i in indicators],
            [Decimal(r["total"]) for r in complete],
            [bool(r["vetoed"]) for r in complete],
            scheme.tie_method,
        )
    except ScoringError as error:
        texts = _words(error)
        raise InvalidInput("；".join(texts), details=texts) from None
    used = pooled_periods(period, level) if pooled else [period]
    return Page(
        period=period,
        level=level,
        indicators=indicators,
        dimensions=[{"code": d["code"], "name": d["name"]} for d in document["dimensions"]],
        units=len(complete),
        left_out=len(results) - len(complete),
        result=result,
        suggestions=_suggestions([reading.engine_input(p, level) for p in used]),
        periods_used=used,
    )

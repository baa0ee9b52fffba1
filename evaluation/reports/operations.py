"""Reading a town's report (docs/reports.md): the ledger through ``ranking.reading``, the figures
from ``evaluation.scoring.reports``.

Read only, so no write path; the role is checked here (``report.view``) like every
service checks its own, so the page, the API and the DOCX cannot differ in who may read.
"""

from __future__ import annotations

import json
from decimal import Decimal

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from evaluation.core.states import PeriodStatus
from evaluation.core.writing import NotFound, ServiceError, StateError, require
from evaluation.grades import shown_grade
from evaluation.ranking import reading
from evaluation.scoring import ScoringError
from evaluation.scoring.reports import town_report
from models import Indicator, Period, Unit, db

#: What a null 差距测算 says, by reason code (docs/reports.md#gaps).
REASON_TEXTS = {
    "first": _l("已居首位"),
    "top_grade": _l("已在最高等次"),
    "vetoed": _l("被一票否决，等次固定为最低档"),
    "missing": _l("尚未录入数值"),
    "at_maximum": _l("该指标已得满分（或已达最优值）"),
    "not_enough": _l("仅靠该指标不足以提升"),
}


def _steps_and_limits(scheme) -> tuple[dict[str, Decimal], dict[str, tuple]]:
    """Each indicator's grid (1 for whole numbers) and allowed range, from the scheme."""
    steps: dict[str, Decimal] = {}
    limits: dict[str, tuple] = {}
    rows = db.session.execute(
        select(
            Indicator.code, Indicator.integer_only, Indicator.value_min, Indicator.value_max
        ).where(Indicator.scheme_id == scheme.id)
    )
    for code, integer_only, value_min, value_max in rows:
        if integer_only:
            steps[code] = Decimal(1)
        if value_min is not None or value_max is not None:
            limits[code] = (value_min, value_max)
    return steps, limits


def _previous_result(period: Period, level: str, unit: str) -> tuple[Period | None, dict | None]:
    """The unit's result in the previous period (docs/reports.md#change), if it has one."""
    previous = reading.previous_period(period)
    if previous is None:
        return None, None
    try:
        results = reading.ranking(previous, level)["results"]
    except ServiceError:  # no scheme of this level then, or a document the engine refuses
        return previous, None
    return previous, next((r for r in results if r["unit"] == unit), None)


def unit_report(actor, period: Period, unit_code: str, level: str = "town") -> dict:
    """Return the report of one unit in one period, in the JSON shape of docs/reports.md.

    Raises Forbidden without ``report.view``, NotFound for a unit not ranked at the level,
    InvalidInput when the engine refuses the period's document.
    """
    require(actor, "report.view")
    scheme = reading.scheme_for(period, level)
    if "\x00" in unit_code:  # names nothing, and PostgreSQL refuses it in a query
        raise NotFound("单位代码不能含 NUL 字符")
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code, *reading.in_level(level)))
    if unit is None:
        raise NotFound(f"周期 {period.code} 的排名中没有单位 {unit_code}")
    previous_period, previous = _previous_result(period, level, unit_code)
    context = _ReportContext(period, level, scheme, previous_period)
    return context.report(unit_code, previous)


def unit_reports(actor, period: Period, level: str = "town"):
    """Yield ``(count, report)`` for every unit of the period's ranking, best first: the
    reports of ``unit_report``, the period read once (the batch, docs/reports.md#batch)."""
    require(actor, "report.view")
    scheme = reading.scheme_for(period, level)
    results = reading.ranking(period, level)["results"]
    previous_period = reading.previous_period(period)
    before: dict[str, dict] = {}
    if previous_period is not None:
        try:
            before = {r["unit"]: r for r in reading.ranking(previous_period, level)["results"]}
        except ServiceError:
            before = {}
    context = _ReportContext(period, level, scheme, previous_period)  # parsed, scored once
    for result in results:
        yield len(results), context.report(result["unit"], before.get(result["unit"]))


class _ReportContext:
    """What every unit's report of one period shares: the engine document, the grids and
    ranges, the approved snapshot's results and the names."""

    def __init__(self, period: Period, level: str, scheme, previous_period: Period | None):
        self.period, self.level, self.previous_period = period, level, previous_period
        self.raw_document, self.document, self.scored = reading.scored_input(period, level)
        self.steps, self.limits = _steps_and_limits(scheme)
        snapshot = (
            reading.current_snapshot(period, level)
            if period.status == PeriodStatus.APPROVED
            else None
        )
        self.snapshot_hash = snapshot.sha256 if snapshot is not None else None
        self.stored = (
            {r["unit"]: r for r in json.loads(snapshot.payload)["results"]}
            if snapshot is not None
            else None
        )
        dimensions = self.raw_document["scheme"]["dimensions"]
        self.names = {i["code"]: i["name"] for d in dimensions for i in d["indicators"]}
        self.dimension_names = {d["code"]: d["name"] for d in dimensions}

    def report(self, unit_code: str, previous: dict | None) -> dict:
        try:
            found = town_report(
                self.document, unit_code, previous=previous, steps=self.steps,
                limits=self.limits, scored=self.scored,
            )  # fmt: skip
        except ScoringError:
            reading.compute(self.raw_document)  # raises InvalidInput naming every problem
            raise
        report = found.as_dict()
        agrees = None
        if self.stored is not None:
            # Recomputed from the locked inputs; a unit added or retired since the approval
            # would make the figures differ from the approved ranking: say so, never hide it.
            stored = self.stored.get(unit_code)
            agrees = stored is not None and (stored["total"], stored["rank"], stored["grade"]) == (
                report["total"],
                report["rank"],
                report["grade"],
            )
        period = self.period
        report.update(
            snapshot_agrees=agrees,
            grade_shown=shown_grade({"grade": report["grade"], "complete": not report["missing"]}),
            period=period.code,
            period_name=period.name,
            level=self.level,
            status=str(period.status),
            snapshot_hash=self.snapshot_hash,
            previous_period=self.previous_period.code if self.previous_period else None,
            dimension_names=dict(self.dimension_names),
        )
        names = dict(self.names)
        if report["change"] is not None:
            for code in report["change"]["indicators"]:
                names.setdefault(code, code)
        report["indicator_names"] = names
        return report


def _percent(points: str, maximum: str) -> str:
    """The share of the maximum earned, as a percentage with one decimal (for reading)."""
    share = Decimal(points) * 100 / Decimal(maximum)
    return f"{share.quantize(Decimal('0.1'))}%"


def _gap_text(value, change, reason, *, unit: str = "") -> str:
    """One 差距测算 cell in words: the value and the change, or why there is none."""
    if value is None:
        return str(REASON_TEXTS.get(reason, reason or ""))
    if change is None:  # a grade
        return gettext("评为「%(grade)s」", grade=value)
    sign = "+" if not change.startswith("-") else ""
    return f"{value}{unit}（{sign}{change}{unit}）"


def document_view(report: dict) -> dict:
    """``report_view`` in Chinese whatever the reader's language: the DOCX and the PDF are
    documents of the ledger, printed and filed as they are (docs/reports.md)."""
    with force_locale("zh_CN"):
        return report_view(report)


def report_view(report: dict) -> dict:
    """What the page and the DOCX show beside the raw report: names, words and chart data,
    in the reader's language (the documents ask ``document_view``).

    Every figure is the report's own (strings at two decimals); nothing is recomputed.
    """
    names = report["indicator_names"]
    lines = []
    for line in report["indicators"]:
        tags = []
        if line["code"] in report["strengths"]:
            tags.append(gettext("优势"))
        if line["code"] in report["weaknesses"]:
            tags.append(gettext("短板"))
        lines.append(
            {
                **line,
                "dimension_name": report["dimension_names"].get(line["dimension"], ""),
                "share": _percent(line["points"], line["max"]),
                "tags": tags,
            }
        )
    gaps = []
    for gap in report["gaps"]:
        gaps.append(
            {
                "code": gap["indicator"],
                "name": names.get(gap["indicator"], gap["indicator"]),
                "value": gap["value"],
                "next_rank": _gap_text(
                    gap["value_for_next_rank"], gap["change_for_next_rank"], gap["next_rank_reason"]
                ),
                "rank_at_value": gap["rank_at_value"],
                "next_grade": _gap_text(
                    gap["value_for_next_grade"],
                    gap["change_for_next_grade"],
                    gap["next_grade_reason"],
                ),
                "reachable": gap["value_for_next_rank"] is not None
                or gap["value_for_next_grade"] is not None,
            }
        )
    change_rows = []
    change = report["change"]
    if change is not None:
        change_rows = [
            (f"{code} {names.get(code, code)}", amount)
            for code, amount in change["indicators"].items()
        ]
        change_rows.append((gettext("加分"), change["bonus"]))
        change_rows.append((gettext("减分（对总分的影响）"), change["penalty"]))
        if change["floor"] != "0.00":
            change_rows.append((gettext("总分不低于 0 的保底"), change["floor"]))
    return {
        "lines": lines,
        "gaps": gaps,
        "change_rows": change_rows,
        "strengths": [f"{c} {names.get(c, c)}" for c in report["strengths"]],
        "weaknesses": [f"{c} {names.get(c, c)}" for c in report["weaknesses"]],
        "chart": {
            "labels": [f"{line['code']} {line['name']}" for line in report["indicators"]],
            "town": [_percent(line["points"], line["max"])[:-1] for line in report["indicators"]],
            "average": [
                _percent(line["average"], line["max"])[:-1] for line in report["indicators"]
            ],
            "town_name": report["name"],
        },
    }


def _grade_bands(scheme_document: dict) -> list[tuple[str, Decimal]]:
    """The grade bands of a scheme, best first (the engine's defaults when it has none)."""
    from evaluation.scoring.rules import DEFAULT_GRADE_BANDS

    bands = scheme_document.get("grades")
    if isinstance(bands, list) and bands:
        return [(band["name"], Decimal(str(band["min"]))) for band in bands]
    return list(DEFAULT_GRADE_BANDS)


def _chinese_date(day: str) -> str:
    """``2026-10-05`` → ``2026年10月5日``, as an official document dates itself."""
    if not day:
        return ""
    year, month, date = (int(part) for part in day.split("-"))
    return f"{year}年{month}月{date}日"


def notice_data(actor, period: Period, level: str = "town") -> dict:
    """What the 通报 of an approved period says (docs/reports.md#notice).

    The ranking is the approved snapshot's (``reading.ranking``), so the notice, the
    ranking page and the API agree to the cent; refused (StateError) for a period that is
    not approved.
    """
    from evaluation.i18n import local_time
    from evaluation.ranking.workbook import issuing_body

    require(actor, "report.view")
    if period.status != PeriodStatus.APPROVED:
        raise StateError(f"考核周期 {period.code} 尚未审定，不能出具通报")
    answer = reading.ranking(period, level)
    scheme = reading.scheme_document(reading.scheme_for(period, level))
    dimensions = [(d["code"], d["name"]) for d in scheme["dimensions"]]
    rows = []
    for result in answer["results"]:
        rows.append(
            {
                "rank": result["rank"],
                "unit": result["unit"],
                "name": result["name"],
                "dimensions": [result["dimensions"].get(code, "") for code, _ in dimensions],
                "bonus": result["bonus"],
                "penalty": result["penalty"],
                "total": result["total"],
                "grade": shown_grade(result),
                "vetoed": result["vetoed"],
            }
        )
    bands = _grade_bands(scheme)
    order = [name for name, _ in bands]
    order += sorted({row["grade"] for row in rows} - set(order))  # e.g. 数据不全
    counts = [(grade, sum(1 for row in rows if row["grade"] == grade)) for grade in order]
    return {
        "period": period.code,
        "period_name": period.name,
        "title": f"关于{period.name}镇街“担当作为”考核结果的通报",
        "issuing_body": issuing_body(),
        "date": _chinese_date(local_time(period.approved_at, "%Y-%m-%d")),
        "dimensions": [name for _, name in dimensions],
        "rows": rows,
        "grade_counts": counts,
        "bands": bands,
        "snapshot_hash": answer["snapshot_hash"],
    }

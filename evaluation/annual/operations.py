"""年度综合考评 (docs/annual.md): defining an annual period, its ranking, calibration.

The one write path of the annual room: each change checks the role, writes its rows and
appends its history event in one ``core.writing.writing`` transaction. The figures come
from ``evaluation.scoring.annual`` over the source periods' approved snapshots
(``ranking.reading.ranking``), so the annual page, its 通报 and the quarterly pages agree.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext
from sqlalchemy import select

from evaluation.core.states import PeriodStatus
from evaluation.core.writing import InvalidInput, NotFound, StateError, require, writing
from evaluation.history import chain as history
from evaluation.ranking import reading
from evaluation.scoring import annual as rules
from evaluation.scoring.amounts import format_amount
from evaluation.scoring.validation import GradeBand
from models import AnnualCalibration, AnnualPeriod, AnnualSource, Period, Scheme, Unit, db

#: Chinese wording of the pure rules' problems (docs/annual.md).
_PROBLEMS = {
    "at least one source period is needed": "至少列出一个考核周期",
    "must be greater than 0": "权重须大于 0",
    "has more than two decimals": "权重最多两位小数",
    "is not a number": "须为数字",
    "quota for unknown band": "名额限制指向不存在的等次",
    "cannot have a quota": "最低等次不设名额限制",
    "must be in (0, 100]": "名额比例须在 0（不含）到 100 之间，最多两位小数",
    "a calibration moves one band up or down at most": "校准只能上调或下调一个等次",
    "a vetoed unit keeps the last band": "被一票否决的单位等次固定为最低档，不能校准",
    "unknown grade": "没有这个等次",
}


def chinese(problem: str) -> str:
    """The Chinese wording of a pure rule's problem (the English kept when none fits)."""
    full = re.fullmatch(r"band '(.+)' would hold (\d+) units, its quota allows (\d+)", problem)
    if full:
        band, held, limit = full.groups()
        return f"超出该等次的名额限制：“{band}”最多 {limit} 个，校准后将有 {held} 个"
    total = re.fullmatch(r"weights add up to (.+), not 100", problem)
    if total:
        return f"各周期权重之和须恰为 100，现为 {total.group(1)}"
    for key, text in _PROBLEMS.items():
        if key in problem:
            return text
    return problem


def _decimal(text, what: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{what}不是数字：{text}") from None
    if not value.is_finite():
        raise InvalidInput(f"{what}不是数字：{text}")
    return value


def bands_of(scheme: Scheme) -> list[GradeBand]:
    """The scheme's grade bands, best first (the engine's defaults when it has none)."""
    document = reading.scheme_document(scheme)
    grades = document.get("grades") or []
    if grades:
        return [GradeBand(g["name"], Decimal(str(g["min"]))) for g in grades]
    from evaluation.scoring.validation import DEFAULT_GRADES

    return list(DEFAULT_GRADES)


def quotas_of(annual: AnnualPeriod) -> dict[str, Decimal]:
    return {band: Decimal(str(percent)) for band, percent in (annual.quotas or {}).items()}


def create_annual(
    actor, *, code: str, name: str, scheme: Scheme, sources: list[tuple[Period, str]],
    quotas: dict[str, str],
) -> AnnualPeriod:  # fmt: skip
    """Define an annual period: listed periods with weights adding up to exactly 100."""
    with writing(actor, "annual.write") as session:
        code, name = code.strip(), name.strip()
        problems = []
        if not code or not name:
            problems.append("代码和名称不能为空")
        if session.scalar(select(AnnualPeriod.id).where(AnnualPeriod.code == code)):
            problems.append(f"年度考评代码 {code} 已存在")
        weights = [_decimal(w, "权重") for _, w in sources]
        if scheme.level != "town":
            problems.append("年度综合考评为镇街排名，须选用镇街方案")
        if len({p.id for p, _ in sources}) != len(sources):
            problems.append("同一考核周期不能列出两次")
        problems += [chinese(p) for p in rules.weight_problems(weights)]
        percents = {band: _decimal(p, "名额比例") for band, p in quotas.items()}
        problems += [chinese(p) for p in rules.quota_problems(percents, bands_of(scheme))]
        if problems:
            raise InvalidInput("；".join(problems), details=problems)
        annual = AnnualPeriod(
            code=code, name=name, scheme=scheme, created_by=actor.username,
            quotas={band: format_percent(p) for band, p in percents.items()},
        )  # fmt: skip
        for position, ((period, _), weight) in enumerate(zip(sources, weights, strict=True)):
            annual.sources.append(AnnualSource(period=period, weight=weight, position=position))
        session.add(annual)
        session.flush()
        history.append(
            actor, "annual_period.create", "annual_period", code,
            after={"name": name, "scheme": scheme.code, "quotas": annual.quotas,
                   "sources": [{"period": p.code, "weight": format_amount(w)}
                               for (p, _), w in zip(sources, weights, strict=True)]},
        )  # fmt: skip
        return annual


def format_percent(percent: Decimal) -> str:
    """``20`` for 20, ``12.5`` for 12.50: a percent as people write it."""
    text = format(percent.normalize(), "f")
    return text


def find(code: str) -> AnnualPeriod:
    if "\x00" in code:
        raise NotFound("年度考评代码不能含 NUL 字符")
    annual = db.session.scalar(select(AnnualPeriod).where(AnnualPeriod.code == code))
    if annual is None:
        raise NotFound(f"没有年度考评 {code}")
    return annual


def all_annuals() -> list[AnnualPeriod]:
    return list(db.session.scalars(select(AnnualPeriod).order_by(AnnualPeriod.code.desc())))


def _latest_calibrations(annual: AnnualPeriod) -> dict[str, AnnualCalibration]:
    rows = db.session.scalars(
        select(AnnualCalibration)
        .where(AnnualCalibration.annual_id == annual.id)
        .order_by(AnnualCalibration.id)
    )
    return {row.unit.code: row for row in rows}


def _compute(annual: AnnualPeriod) -> dict:
    """The annual ranking before and after quotas and calibrations (docs/annual.md)."""
    waiting = [s.period.code for s in annual.sources if s.period.status != PeriodStatus.APPROVED]
    if waiting:
        raise StateError("以下考核周期尚未审定，年度综合考评暂不能排名：" + "、".join(waiting))
    sources = []
    hashes = {}
    for source in annual.sources:
        answer = reading.ranking(source.period, "town")
        hashes[source.period.code] = answer["snapshot_hash"]
        sources.append(
            {"code": source.period.code, "weight": source.weight, "results": answer["results"]}
        )
    units = [(u.code, u.name) for u in reading.level_units("town")]
    bands = bands_of(annual.scheme)
    rows = rules.combine(units, sources, bands, annual.scheme.tie_method)
    quotas = quotas_of(annual)
    quota_grades, notes = rules.apply_quotas(rows, bands, quotas)
    calibrations = _latest_calibrations(annual)
    final = []
    for row, grade in zip(rows, quota_grades, strict=True):
        calibration = calibrations.get(row["unit"])
        final.append(calibration.grade if calibration is not None else grade)
    return {
        "rows": rows, "bands": bands, "quotas": quotas, "quota_grades": quota_grades,
        "final": final, "notes": notes, "calibrations": calibrations, "hashes": hashes,
    }  # fmt: skip


def ranking(actor, annual: AnnualPeriod) -> dict:
    """The annual ranking as the page, the 通报 and the tests read it.

    ``results``: by rank, each ``{"unit", "name", "parts" {period: total or None},
    "total", "rank", "vetoed", "missing", "grade_by_score", "quota_grade", "grade",
    "lowered", "tie", "calibration" {grade, reason, by} or None}`` (amounts as text);
    ``notes``: the quota notes in Chinese; ``limits``: band → how many it may hold.
    """
    require(actor, "annual.view")
    figures = _compute(annual)
    rows = figures["rows"]
    lowered = {i for note in figures["notes"] for i in note["lowered"]}
    tied = {i for note in figures["notes"] for i in note["tie"]}
    results = []
    for index, row in enumerate(rows):
        calibration = figures["calibrations"].get(row["unit"])
        results.append(
            {
                "unit": row["unit"], "name": row["name"], "rank": row["rank"],
                "parts": {code: (format_amount(t) if t is not None else None)
                          for code, t in row["parts"].items()},
                "total": format_amount(row["total"]), "vetoed": row["vetoed"],
                "missing": row["missing"], "grade_by_score": row["grade"],
                "quota_grade": figures["quota_grades"][index], "grade": figures["final"][index],
                "lowered": index in lowered, "tie": index in tied,
                "calibration": None if calibration is None else {
                    "grade": calibration.grade, "reason": calibration.reason,
                    "by": calibration.created_by,
                },
            }
        )  # fmt: skip
    notes = []
    for note in figures["notes"]:
        percent = format_percent(figures["quotas"][note["band"]])
        text = gettext(
            "“%(band)s”名额为参评单位的 %(percent)s%%，即 %(limit)s 个；"
            "超出名额的 %(lowered)s 个单位按名次降为“%(to)s”",
            band=note["band"], percent=percent, limit=note["limit"],
            lowered=len(note["lowered"]), to=note["to"],
        )  # fmt: skip
        if note["tie"]:
            text += gettext(
                "。其中%(names)s并列第 %(rank)s 名，跨越名额界线，整组降为“%(to)s”",
                names="、".join(rows[i]["name"] for i in note["tie"]),
                rank=rows[note["tie"][0]]["rank"], to=note["to"],
            )  # fmt: skip
        notes.append(text + gettext("。"))
    count = len(rows)
    return {
        "code": annual.code, "name": annual.name, "results": results, "notes": notes,
        "sources": [{"period": s.period.code, "name": s.period.name,
                     "weight": format_amount(s.weight)} for s in annual.sources],
        "bands": [band.name for band in figures["bands"]],
        "limits": {band: rules.quota_limit(p, count) for band, p in figures["quotas"].items()},
        "quotas": {band: format_percent(p) for band, p in figures["quotas"].items()},
        "hashes": figures["hashes"],
    }  # fmt: skip


def calibrate(actor, annual: AnnualPeriod, unit_code: str, grade: str, reason: str) -> str:
    """Move a unit's annual grade one band up or down within the quotas, with a reason.

    Refused (InvalidInput) for a move of more than one band from the quota grade, a
    vetoed unit, a band whose quota is full, or an empty reason. Returns the unit's name.
    """
    with writing(actor, "annual.calibrate") as session:
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("校准须写明理由")
        figures = _compute(annual)
        rows = figures["rows"]
        index = next((i for i, r in enumerate(rows) if r["unit"] == unit_code), None)
        if index is None:
            raise NotFound(f"年度考评 {annual.code} 的排名中没有单位 {unit_code}")
        before = figures["final"][index]
        if grade == before:
            raise InvalidInput(f"该单位的等次已是“{grade}”")
        problems = rules.calibration_problems(
            rows, figures["quota_grades"], figures["final"], index, grade,
            figures["bands"], figures["quotas"],
        )  # fmt: skip
        if problems:
            said = [chinese(p) for p in problems]
            raise InvalidInput("；".join(said), details=said)
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        session.add(
            AnnualCalibration(
                annual_id=annual.id, unit_id=unit.id, grade=grade, reason=reason,
                created_by=actor.username,
            )
        )  # fmt: skip
        history.append(
            actor, "annual_period.calibrate", "annual_period", f"{annual.code}/{unit_code}",
            before={"grade": before}, after={"grade": grade, "quota_grade":
                                             figures["quota_grades"][index]},
            reason=reason,
        )  # fmt: skip
        return unit.name

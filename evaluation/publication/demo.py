"""The district demo's 公示 and 容错纠错 (docs/publication.md#demo), through the operations.

2026Q2 (submitted) is in 公示: a window from two days before the seeding day to four
days after, the district ranking shown; three towns' reporters (the demo's, made by
``reporting/demo.py`` before this runs; one is made here if a town has none) object — one answered
``adjust`` (a grade raised one step), one answered ``maintain``, one still pending. Two
容错纠错 cases against 2026Q2's penalties: 桂岭镇's upheld (the penalty removed),
埔田镇's rejected.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from evaluation.accounts import operations as accounts
from evaluation.publication import operations as publication
from evaluation.tolerance import operations as tolerance
from models import Adjustment, Indicator, Score, User, db

PERIOD = "2026Q2"
#: (town, answer, reason, answer reason)
OBJECTIONS = (
    ("新亨镇", "adjust", "村容村貌整治已于季度末通过区级验收，等次评定未采纳验收结论",
     "经复核验收材料，等次上调一档"),
    ("玉湖镇", "maintain", "对本项等次评定有不同意见，请求复核",
     "经复核，评定依据充分，维持原等次"),
    ("锡场镇", None, "对本项等次评定有不同意见，已补充整改台账", None),
)  # fmt: skip
#: (town, penalty reason, situation, grounds, findings, decision, decision reason)
CASES = (
    ("桂岭镇", "重点项目投资进度连续滞后", "为推动发展的无意过失",
     "项目滞后系上级用地指标调整所致，镇里已按程序多次请示，非主观懈怠",
     "经核实，用地指标调整文件及请示记录齐全，滞后非镇街主观原因", "upheld",
     "符合“三个区分开来”中为推动发展的无意过失情形，认定容错，撤销该项减分"),
    ("埔田镇", "耕地保护专项督察发现问题", "推进改革中因缺乏经验、先行先试出现的失误",
     "问题发生在设施农业用地试点中，属先行先试",
     "经核实，问题地块不在试点范围内，属日常监管不到位", "rejected",
     "不属于先行先试范围，不予认定容错，维持减分"),
)  # fmt: skip


def _grade_indicator(seeder, town) -> tuple[Indicator, Score] | None:
    """A grade indicator of ``town`` in the period whose value is not already the best."""
    period = seeder.periods[PERIOD]
    for indicator, _spec in seeder.indicators("town"):
        if indicator.method != "grade":
            continue
        score = db.session.scalar(
            select(Score).where(
                Score.period_id == period.id,
                Score.unit_id == town.id,
                Score.indicator_id == indicator.id,
            )
        )
        ranked = sorted(indicator.fractions, key=lambda k: Decimal(str(indicator.fractions[k])))
        if score is not None and score.grade != ranked[-1]:
            return indicator, score
    return None


def _better(indicator: Indicator, grade: str) -> str:
    """The grade one step above ``grade``, written the same way (A/B/C/D or 优/良/中/差)."""
    ranked = sorted(
        (key for key in indicator.fractions if key.isascii() == grade.isascii()),
        key=lambda k: Decimal(str(indicator.fractions[k])),
    )
    return ranked[min(ranked.index(grade) + 1, len(ranked) - 1)]


def _reporter(seeder, town) -> User:
    """The town's reporter: the one the demo already has, else a new ``reporter-<code>``
    (its password noted with the other demo credentials)."""
    existing = db.session.scalar(
        select(User).where(User.role == "reporter", User.unit_id == town.id).limit(1)
    )
    if existing is not None:
        return existing
    from evaluation.demo.district import Credential

    username, password = f"reporter-{town.code}", seeder.password_factory()
    user = accounts.create_user(
        seeder.actor("admin"), username, "reporter", password,
        display_name=f"{town.name}填报员", unit=town,
    )  # fmt: skip
    seeder.result.credentials.append(Credential("reporter", username, password))
    return user


def stage(seeder) -> None:
    """Put the demo's 2026Q2 in 公示 with objections and two 容错 cases."""
    period = seeder.periods[PERIOD]
    supervisor, assessor = seeder.actor("supervisor"), seeder.actor("assessor")
    admin = seeder.actor("admin")
    today = publication.today()
    publication.open_window(supervisor, period, today - timedelta(days=2),
                            today + timedelta(days=4), True)  # fmt: skip
    for town_name, answer, reason, answer_reason in OBJECTIONS:
        town = seeder.towns[town_name]
        found = _grade_indicator(seeder, town)
        if found is None:
            continue
        reporter = _reporter(seeder, town)
        indicator, score = found
        objection = publication.lodge_objection(
            reporter, period, town, "indicator", indicator.code, reason
        )
        if answer == "adjust":
            publication.answer_objection(
                assessor, objection, "adjust", _better(indicator, score.grade), answer_reason
            )
        elif answer == "maintain":
            publication.answer_objection(assessor, objection, "maintain", None, answer_reason)
    for town_name, penalty, situation, grounds, findings, decision, why in CASES:
        town = seeder.towns[town_name]
        item = db.session.scalar(
            select(Adjustment).where(
                Adjustment.period_id == period.id,
                Adjustment.unit_id == town.id,
                Adjustment.reason == penalty,
            )
        )
        if item is None:
            continue
        # one case applied for by the town's reporter, the other by the admin on its behalf
        applicant = _reporter(seeder, town) if decision == "upheld" else admin
        case = tolerance.apply(applicant, period, town, "adjustment", item.id, situation, grounds)
        tolerance.add_findings(assessor, case, findings)
        tolerance.determine(supervisor, case, decision, why)

"""A small 民主测评 to test on: one town with four cadres, three rater groups (班子成员 40,
中层干部 35, 群众代表 25), the default options, 优秀 capped at 2 per ballot."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from evaluation.core.writing import SystemActor
from evaluation.history import records
from evaluation.surveys import operations as surveys
from models import Cadre, Survey, Unit, db
from models.types import utcnow

SETUP = SystemActor("test-setup")
CADRES = [
    ("张建国", "镇党委书记"),
    ("李卫东", "镇长"),
    ("王秀英", "镇党委副书记"),
    ("陈志强", "副镇长"),
]
GROUPS = [("班子成员", "40", 5), ("中层干部", "35", 5), ("群众代表", "25", 10)]


def build_town() -> tuple[Unit, list[Cadre]]:
    town = db.session.scalar(select(Unit).where(Unit.code == "445203100000"))
    if town is None:
        town = records.create(
            SETUP, Unit, {"code": "445203100000", "name": "云路镇", "level": "town", "kind": "镇"}
        )
    cadres = [
        records.create(SETUP, Cadre, {"name": name, "position": position, "unit": town})
        for name, position in CADRES
    ]
    return town, cadres


def make_survey(
    *,
    cap: int | None = 2,
    opens_in=timedelta(hours=-1),
    lasts=timedelta(hours=2),
    publish: bool = True,
    title: str = "2026年度云路镇领导干部民主测评",
) -> Survey:
    """Create (and publish) the survey over the town's four cadres; return it."""
    _, cadres = build_town()
    start = utcnow() + opens_in
    survey = surveys.create_survey(
        SETUP, title=title, target_kind="cadre", opens_at=start, closes_at=start + lasts,
        groups=list(GROUPS), targets=[{"cadre": c, "report": f"{c.name}的述职"} for c in cadres],
        excellent_cap=cap,
    )  # fmt: skip
    if publish:
        surveys.publish(SETUP, survey)
    return survey


def codes_for(survey: Survey, group: str = "群众代表", count: int = 3) -> list[str]:
    codes, _ = surveys.issue_codes(SETUP, survey, group, count)
    return codes


def ballot(survey: Survey, *options: str) -> dict[str, str]:
    """Choices for the survey's targets in order: ``ballot(s, "excellent", "competent", …)``."""
    return {str(t.id): option for t, option in zip(survey.targets, options, strict=True)}


def form(survey: Survey, code: str, *options: str, confirmed: bool = True) -> dict[str, str]:
    """The ballot form as the page posts it."""
    data = {"code": code, "survey": str(survey.id), "confirmed": "1" if confirmed else ""}
    data |= {f"t{k}": v for k, v in ballot(survey, *options).items()}
    return data

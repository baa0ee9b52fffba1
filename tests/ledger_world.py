"""A small ledger to test the score corridor and the period workflow on.

Town scheme T26 (100 points): E 镇域经济发展 — E01 target higher T=6.5 (20), E02 relative
higher floor 0.6 (20); U 城乡融合 — U01 grade (30), U02 direct (30).
Village scheme V26 (100 points): V — V01 direct (50), V02 grade (50).
Three towns, four villages (three typical, in two analysis groups), two periods
(2026Q2, 2026Q3) in draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from evaluation.core.writing import SystemActor
from evaluation.history import records
from evaluation.periods import operations as periods
from models import AnalysisGroup, Dimension, Indicator, Period, Scheme, Unit, User, db

SETUP = SystemActor("test-setup")

TOWNS = [
    ("445203001000", "曲溪街道", "街道"),
    ("445203100000", "云路镇", "镇"),
    ("445203101000", "玉滘镇", "镇"),
]
#: code, name, town index, typical batch, group index
VILLAGES = [
    ("445203100201", "新桃村", 1, 1, 0),
    ("445203101202", "瑞联村", 2, 2, 1),
    ("445203001203", "汾水村", 0, 1, 0),
    ("445203100204", "普通村", 1, None, None),
]

#: A full set of town values: E01 (target 6.5), E02 (relative), U01 (grade), U02 (direct 0..30).
FULL_TOWN_VALUES = {
    "445203001000": {"E01": "6.5", "E02": "10", "U01": "A", "U02": "30"},
    "445203100000": {"E01": "5.2", "E02": "4", "U01": "B", "U02": "25.5"},
    "445203101000": {"E01": "3.25", "E02": "7", "U01": "C", "U02": "20"},
}

#: A full set of typical-village values: V01 (direct 0..50), V02 (grade). 普通村 is not typical.
FULL_VILLAGE_VALUES = {
    "445203100201": {"V01": "45", "V02": "A"},
    "445203101202": {"V01": "40", "V02": "B"},
    "445203001203": {"V01": "35", "V02": "C"},
}


@dataclass
class World:
    town_scheme_id: int
    village_scheme_id: int
    q2_id: int
    q3_id: int

    def period(self, code: str = "2026Q3") -> Period:
        return db.session.scalar(db.select(Period).where(Period.code == code))

    def unit(self, code_or_name: str) -> Unit:
        return db.session.scalar(
            db.select(Unit).where((Unit.code == code_or_name) | (Unit.name == code_or_name))
        )

    def indicator(self, code: str) -> Indicator:
        return db.session.scalar(db.select(Indicator).where(Indicator.code == code))

    def user(self, username: str) -> User:
        return db.session.scalar(db.select(User).where(User.username == username))


def _scheme(code, name, level, dimensions) -> Scheme:
    # records.create runs the model rules before adding the new row to the session; a
    # rule that lazy-loads a relationship must not autoflush the half-built row.
    with db.session.no_autoflush:
        return _build_scheme(code, name, level, dimensions)


def _build_scheme(code, name, level, dimensions) -> Scheme:
    scheme = records.create(
        SETUP, Scheme, {"code": code, "name": name, "level": level, "total": Decimal(100)}
    )
    order = 0
    for d_order, (d_code, d_name, indicators) in enumerate(dimensions, start=1):
        dimension = records.create(
            SETUP, Dimension, {"scheme": scheme, "code": d_code, "name": d_name, "order": d_order}
        )
        for fields in indicators:
            order += 1
            records.create(
                SETUP,
                Indicator,
                {"scheme": scheme, "dimension": dimension, "order": order, **fields},
            )
    return scheme


def build_world() -> World:
    """Create the schemes, units and periods (inside an app context)."""
    d = Decimal
    town_scheme = _scheme(
        "T26",
        "镇街考核方案",
        "town",
        [
            (
                "E",
                "镇域经济发展",
                [
                    {"code": "E01", "name": "地区生产总值增速", "points": d(20),
                     "method": "target", "direction": "higher", "target": d("6.5")},
                    {"code": "E02", "name": "招商引资项目落地数", "points": d(20),
                     "method": "relative", "direction": "higher", "floor": d("0.6")},
                ],
            ),
            (
                "U",
                "城乡融合",
                [
                    {"code": "U01", "name": "农村人居环境整治", "points": d(30),
                     "method": "grade"},
                    {"code": "U02", "name": "典型村培育创建成效", "points": d(30),
                     "method": "direct"},
                ],
            ),
        ],
    )
    village_scheme = _scheme(
        "V26",
        "典型村考核方案",
        "village",
        [
            (
                "V",
                "村级发展",
                [
                    {"code": "V01", "name": "集体经济收入", "points": d(50), "method": "direct"},
                    {"code": "V02", "name": "村容村貌", "points": d(50), "method": "grade"},
                ],
            )
        ],
    )
    groups = [
        records.create(SETUP, AnalysisGroup, {"name": name})
        for name in ("第一研判组", "第二研判组")
    ]
    towns = []
    for order, (code, name, kind) in enumerate(TOWNS, start=1):
        towns.append(
            records.create(
                SETUP,
                Unit,
                {"code": code, "name": name, "level": "town", "kind": kind, "sort_order": order,
                 "county": "445203"},
            )
        )
    for order, (code, name, town, batch, group) in enumerate(VILLAGES, start=1):
        records.create(
            SETUP,
            Unit,
            {
                "code": code,
                "name": name,
                "level": "village",
                "kind": "村",
                "parent": towns[town],
                "sort_order": order,
                "typical_batch": batch,
                "analysis_group": groups[group] if group is not None else None,
            },
        )
    q2 = records.create(
        SETUP,
        Period,
        {"code": "2026Q2", "name": "2026年第二季度", "start_date": date(2026, 4, 1),
         "end_date": date(2026, 6, 30), "town_scheme": town_scheme,
         "village_scheme": village_scheme},
    )
    q3 = records.create(
        SETUP,
        Period,
        {"code": "2026Q3", "name": "2026年第三季度", "start_date": date(2026, 7, 1),
         "end_date": date(2026, 9, 30), "town_scheme": town_scheme,
         "village_scheme": village_scheme},
    )
    # The reporter (镇街填报员) of 云路镇: a role bound to a town needs the town first.
    from evaluation.accounts import operations as accounts
    from tests.conftest import PASSWORD

    if db.session.scalar(db.select(User.id).where(User.username == "reporter")) is None:
        accounts.create_user(
            SETUP, "reporter", "reporter", PASSWORD, display_name="测试镇街填报员", unit=towns[1],
            created_at=datetime(2026, 1, 1),  # a fixed time: two worlds store the same events
        )  # fmt: skip
    return World(town_scheme.id, village_scheme.id, q2.id, q3.id)


def open_period(world: World, code: str = "2026Q3") -> Period:
    period = world.period(code)
    periods.open_period(SETUP, period)
    return period


def fill_towns(world: World, period: Period, values=None, actor=None) -> None:
    """Enter every town value of a period (as the assessor unless told otherwise)."""
    from evaluation.scores import operations as ledger

    actor = actor or world.user("assessor")
    for unit_code, row in (values or FULL_TOWN_VALUES).items():
        unit = world.unit(unit_code)
        for indicator_code, value in row.items():
            ledger.set_score(
                actor, period, unit, world.indicator(indicator_code), value, version=None
            )


def fill_villages(world: World, period: Period, values=None, actor=None) -> None:
    """Enter every typical-village value of a period (as the assessor unless told otherwise)."""
    fill_towns(world, period, values or FULL_VILLAGE_VALUES, actor)


def history_actions() -> list[str]:
    from models import HistoryEvent

    return list(db.session.scalars(db.select(HistoryEvent.action).order_by(HistoryEvent.seq)))


def set_ranges(world) -> None:
    """Give E01 and E02 allowed ranges (docs/values-and-ranges.md): E01 (growth, %) allows 0
    to 100; E02 (projects, 个) whole numbers from 0 up."""
    records.update(
        SETUP, world.indicator("E01"),
        {"value_min": Decimal(0), "value_max": Decimal(100), "measure_unit": "%"},
    )
    records.update(
        SETUP, world.indicator("E02"),
        {"value_min": Decimal(0), "integer_only": True, "measure_unit": "个"},
    )

"""Province-scale demo data (``flask seed-demo --scale province``; see docs/demo.md).

Guangdong's 百千万工程 at full size: 122 counties (区县) under the 21 prefecture cities,
1,609 镇街, 26,500 村居 (about one in ten a typical village, batches 1 and 2, reviewed by
one analysis group per city), the district demo's town and village schemes, and 12
monthly periods (2026-01 … 2026-12): eleven approved, the last one open, every town and
typical village scored, with some bonus and penalty items and vetoes.

Written in bulk, but only through the services' bulk forms, which check what the
single-row service checks and build each history event with the same function:

- units and cadres by ``records.create_rows`` (one ``unit.create`` / ``cadre.create``
  event per row, as ``records.create``), the villages' secretaries by
  ``records.update_many`` (``unit.update``, as ``records.update``);
- scores by ``ledger.write_values`` (``set_score``'s checks, one ``score.set`` per value);
- review visits by ``reviews.record_reviews`` (as ``record_review``);
- adjustments, vetoes and the workflow (open, submit, approve with its engine snapshot
  and SHA-256, review cases) by the services themselves.

This module builds no history event itself. Rows are inserted with Core executemany,
never one ORM object per score, so 531,972 scores (towns and typical villages, 12
months) and their events take a minute or two, not hours. The same ``seed`` gives the
same data; only the generated passwords differ.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from evaluation.accounts import operations as accounts
from evaluation.core.numbers import plain
from evaluation.core.states import PeriodStatus
from evaluation.core.writing import InvalidInput, StateError, SystemActor, writing
from evaluation.demo import district as demo
from evaluation.demo.district_data import (
    GIVEN,
    SURNAMES,
    TOWN_SCHEME,
    USERS,
    VILLAGE_SCHEME,
    IndicatorSpec,
)
from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.reviews import operations as reviews
from evaluation.scores import operations as ledger
from models import (
    AnalysisGroup,
    Cadre,
    HistoryEvent,
    Indicator,
    Period,
    RankingSnapshot,
    ReviewCase,
    ReviewRecord,
    Scheme,
    Score,
    Unit,
    User,
    db,
)

__all__ = ["NATIONAL_SAMPLE", "PROVINCE", "ProvinceScale", "refresh_statistics", "seed_province"]

#: ``progress(stage, done, total)``: called as each stage advances.
Progress = Callable[[str, int, int], None]

PROVINCE_CODE = "44"
#: Guangdong's 21 prefecture-level cities: (name, 4-digit division code).
CITIES: list[tuple[str, str]] = [
    ("广州市", "4401"), ("韶关市", "4402"), ("深圳市", "4403"), ("珠海市", "4404"),
    ("汕头市", "4405"), ("佛山市", "4406"), ("江门市", "4407"), ("湛江市", "4408"),
    ("茂名市", "4409"), ("肇庆市", "4412"), ("惠州市", "4413"), ("梅州市", "4414"),
    ("汕尾市", "4415"), ("河源市", "4416"), ("阳江市", "4417"), ("清远市", "4418"),
    ("东莞市", "4419"), ("中山市", "4420"), ("潮州市", "4451"), ("揭阳市", "4452"),
    ("云浮市", "4453"),
]  # fmt: skip
#: Characters sample place names are drawn from (the names are not real places).
PLACE_CHARS = (
    "安宝北昌城大东凤福高广海和河横华黄江金锦康兰乐莲林龙罗梅南宁平埔秀清仁瑞沙山上石"
    "水顺松塘田潭溪西仙新阳洋永玉云樟中竹桃岭湖坑洲湾岗坪"
)

TOWN_SCHEME_CODE = "GD-TOWN-2026"
VILLAGE_SCHEME_CODE = "GD-VILLAGE-2026"

BONUS_REASONS = (
    "承办全省“百千万工程”现场推进会",
    "典型村培育经验获省委农办通报表扬",
    "获评省级乡村振兴示范镇",
    "营商环境改革事项获全省推广",
)
PENALTY_REASONS = (
    "中央环保督察交办问题整改滞后",
    "发生一般安全生产事故被约谈",
    "耕地保护专项督察发现问题",
    "重点项目投资进度连续滞后",
)
VISIT_FINDINGS = (
    "村集体经济项目按计划推进，村“两委”班子履职到位",
    "人居环境整治成效明显，个别巷道保洁需加强",
    "特色产业带动增收，需加快冷链等配套设施建设",
    "矛盾纠纷排查化解机制运行良好",
)
VETO_REASON = "发生群体性信访事件并造成恶劣影响，实行一票否决"


@dataclass(frozen=True)
class ProvinceScale:
    """How big the province is; tests use a small one."""

    counties: int = 122
    towns: int = 1609
    villages: int = 26500
    periods: int = 12
    #: One village in ``typical_every`` is a typical village (典型村).
    typical_every: int = 10
    #: Bulk inserts are split into chunks this large (progress is reported per chunk).
    chunk: int = 10_000


PROVINCE = ProvinceScale()

#: ``seed-demo --scale national-sample`` (docs/demo.md#national-sample): ten provinces' towns
#: (1,220 counties, 16,090 towns) and one open period, for the growth benchmark
#: (docs/rules.md#growth). Villages are left out: every figure it grows (``rank``, the
#: town ranking page, the history export and verification) is a town figure.
NATIONAL_SAMPLE = ProvinceScale(counties=1220, towns=16090, villages=0, periods=1)


def _quiet(stage: str, done: int, total: int) -> None:
    """Report nothing (the default when no progress callable is given)."""


def seed_province(
    *,
    seed: int = demo.DEFAULT_SEED,
    progress: Progress | None = None,
    scale: ProvinceScale = PROVINCE,
    password_factory: Callable[[], str] = accounts.generate_password,
) -> demo.DemoResult:
    """Load the province-scale demo into an empty ledger; return credentials and counts."""
    if scale.periods < 1 or scale.periods > 12:
        raise InvalidInput("省级演示数据的考核周期数须在 1 至 12 之间")
    if demo.has_units():
        raise StateError("数据库中已有行政单元，不再载入演示数据（请使用空数据库）")
    rng = random.Random(seed)  # nosec B311  # seeded demo data, not secrets
    seeder = _ProvinceSeeder(rng, scale, progress or _quiet, password_factory)
    seeder.run()
    return seeder.result


def refresh_statistics() -> None:
    """Refresh the planner's statistics after a bulk load (PostgreSQL: ``ANALYZE``).

    Until autovacuum gets to it, PostgreSQL plans with the statistics of the empty
    tables: a keyset page of the history (``seq > a AND seq <= b ORDER BY seq LIMIT n``)
    then becomes a bitmap scan of the whole remaining table, 500 ms instead of 2 ms.
    SQLite's planner needs no statistics for these queries.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()


# --- the seeder ---------------------------------------------------------------


def _spread(total: int, over: int) -> list[int]:
    """Split ``total`` items over ``over`` owners as evenly as possible."""
    base, extra = divmod(total, over)
    return [base + (1 if k < extra else 0) for k in range(over)]


def _shanghai_today() -> date:
    # A visit may not be dated after today (the rule of reviews.operations.record_review).
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _number(value: float, places: int) -> str:
    # Synthetic values are drawn as floats but enter the ledger as decimal text.
    return f"{value:.{places}f}"


class _ProvinceSeeder(demo.DemoUsers):
    def __init__(self, rng: random.Random, scale: ProvinceScale, progress: Progress, factory):
        self.rng = rng
        self.scale = scale
        self.progress = progress
        self.password_factory = factory
        self.result = demo.DemoResult()
        self.users: dict[str, User] = {}
        self.groups: list[AnalysisGroup] = []
        #: (id, code) of the towns and of the typical villages, in ranking order.
        self.towns: list[tuple[int, str]] = []
        self.typical: list[tuple[int, str]] = []
        #: Each unit's lasting strength in [0.45, 1.0]: rankings drift, they don't reshuffle.
        self.strength: dict[int, float] = {}
        self.schemes: dict[str, Scheme] = {}
        self.indicators: dict[str, list[tuple[Indicator, IndicatorSpec]]] = {}
        self._names: set[str] = set()

    def actor(self, username: str) -> User:
        return self.users[username]

    def run(self) -> None:
        started = time.perf_counter()
        self.create_users()
        admin = self.actor("admin")
        self.create_units(admin)
        self.create_cadres(admin)
        self.create_schemes(admin)
        for month in range(1, self.scale.periods + 1):
            self.run_period(month, last=month == self.scale.periods)
        demo.mark_demo_data(admin)
        refresh_statistics()
        self.count()
        self.result.counts["seconds"] = round(time.perf_counter() - started)

    # --- users and analysis groups ------------------------------------------------

    def create_users(self) -> None:
        bootstrap = SystemActor("seed-demo")
        self.progress("users", 0, len(USERS))
        role, username, display, _ = USERS[0]
        self.ensure_user(bootstrap, role, username, display, None)
        admin = self.actor("admin")
        with writing(admin, "base_data.write"):
            for name, code in CITIES:
                self.groups.append(
                    records.create(
                        admin,
                        AnalysisGroup,
                        {
                            "name": f"{name}研判小组",
                            "leader": self.person_name(),
                            "note": f"负责{name}（{code}）各区县典型村的研判",
                        },
                    )
                )
            for done, (role, username, display, group) in enumerate(USERS[1:], start=2):
                self.ensure_user(
                    admin, role, username, display, None if group is None else self.groups[group]
                )
                self.progress("users", done, len(USERS))

    def person_name(self) -> str:
        # Names are drawn until a new one comes up; the list has about 21,000, so a larger
        # sample (the national one has 32,180 cadres) takes a repeat after 20 draws.
        for _ in range(20):
            name = self.rng.choice(SURNAMES) + "".join(
                self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2)))
            )
            if name not in self._names:
                self._names.add(name)
                return name
        return name

    def place_name(self, suffix: str) -> str:
        return self.rng.choice(PLACE_CHARS) + self.rng.choice(PLACE_CHARS) + suffix

    # --- units ---------------------------------------------------------------------

    def create_units(self, admin) -> None:
        """Insert the towns, then the villages, each row with its ``unit.create`` event."""
        scale = self.scale
        counties = []  # (county code, city index), spread round the cities
        per_city: dict[int, int] = {}
        for k in range(scale.counties):
            city_index = k % len(CITIES)
            per_city[city_index] = per_city.get(city_index, 0) + 1
            counties.append((f"{CITIES[city_index][1]}{per_city[city_index] + 1:02d}", city_index))
        towns_per_county = _spread(scale.towns, scale.counties)
        villages_per_town = _spread(scale.villages, scale.towns)
        total = scale.towns + scale.villages
        with writing(admin, "base_data.write"):
            town_rows: list[dict] = []
            town_city: list[int] = []
            order = 0
            for (county, city_index), count in zip(counties, towns_per_county, strict=True):
                streets = max(1, count // 5)
                for k in range(count):
                    order += 1
                    street = k < streets
                    segment = f"{k + 1:03d}" if street else f"{100 + k:03d}"
                    town_rows.append(
                        {
                            "code": f"{county}{segment}000",
                            "name": self.place_name("街道" if street else "镇"),
                            "level": "town",
                            "kind": "街道" if street else "镇",
                            "county": county,
                            "sort_order": order,
                            "active": True,
                        }
                    )
                    town_city.append(city_index)
            town_ids = records.create_rows(admin, Unit, town_rows)
            self.progress("units", len(town_rows), total)
            self.towns = [(i, row["code"]) for i, row in zip(town_ids, town_rows, strict=True)]

            village_rows: list[dict] = []
            done = len(town_rows)
            for (town_id, town_code), city_index, count in zip(
                self.towns, town_city, villages_per_town, strict=True
            ):
                communities = count // 6
                for k in range(count):
                    order += 1
                    community = k < communities
                    segment = f"{k + 1:03d}" if community else f"{200 + k:03d}"
                    # Only 村 are typical; 社区 are a sixth of all, so draw 村 at 6/5 the share.
                    typical = not community and self.rng.random() < 1.2 / scale.typical_every
                    village_rows.append(
                        {
                            "code": town_code[:9] + segment,
                            "name": self.place_name("社区" if community else "村"),
                            "level": "village",
                            "kind": "社区" if community else "村",
                            "parent_id": town_id,
                            "county": town_code[:6],
                            "sort_order": order,
                            "active": True,
                            # About three in eight typical villages are in the first batch.
                            "typical_batch": (
                                (1 if self.rng.random() < 0.38 else 2) if typical else None
                            ),
                            "analysis_group_id": (
                                self.groups[city_index % len(self.groups)].id if typical else None
                            ),
                        }
                    )
                    if len(village_rows) >= scale.chunk:
                        records.create_rows(admin, Unit, village_rows)
                        done += len(village_rows)
                        self.progress("units", done, total)
                        village_rows = []
            if village_rows:
                records.create_rows(admin, Unit, village_rows)
                done += len(village_rows)
                self.progress("units", done, total)
        self.typical = list(
            db.session.execute(
                select(Unit.id, Unit.code)
                .where(Unit.level == "village", Unit.typical_batch.is_not(None))
                .order_by(Unit.sort_order, Unit.code)
            ).tuples()
        )
        for unit_id, _ in self.towns + self.typical:
            self.strength[unit_id] = min(1.0, max(0.45, self.rng.gauss(0.8, 0.1)))

    # --- cadres -----------------------------------------------------------------------

    def create_cadres(self, admin) -> None:
        """Give each town its 书记 and 镇长 (主任) and each typical village its 领头雁.

        Rows and ``cadre.create`` events by ``records.create_rows``; the villages'
        ``secretary`` is then set by ``records.update_many`` (a ``unit.update`` event each).
        """
        town_codes = {unit_id: code for unit_id, code in self.towns}
        streets = {
            unit_id
            for unit_id, kind in db.session.execute(
                select(Unit.id, Unit.kind).where(Unit.level == "town")
            )
            if kind == "街道"
        }
        plan: list[tuple[int, str, str]] = []  # (unit id, unit code, position)
        for unit_id, code in self.towns:
            street = unit_id in streets
            plan.append((unit_id, code, "街道党工委书记" if street else "镇党委书记"))
            plan.append((unit_id, code, "街道办事处主任" if street else "镇长"))
        plan += [(unit_id, code, "村党组织书记") for unit_id, code in self.typical]
        total = len(plan)
        self.progress("cadres", 0, total)
        with writing(admin, "cadre.write") as session, writing(admin, "base_data.write"):
            for begin in range(0, total, self.scale.chunk):
                part = plan[begin : begin + self.scale.chunk]
                rows = [
                    {
                        "name": self.person_name(),
                        "gender": "女" if self.rng.random() < 0.3 else "男",
                        "unit_id": unit_id,
                        "position": position,
                        "tags": "年轻干部" if self.rng.random() < 0.15 else "",
                        "assignment": "",
                        "mentor_id": None,
                        "active": True,
                    }
                    for unit_id, _, position in part
                ]
                ids = records.create_rows(admin, Cadre, rows)
                secretaries = [
                    (unit_id, cadre_id)
                    for (unit_id, _, _), cadre_id in zip(part, ids, strict=True)
                    if unit_id not in town_codes
                ]
                if secretaries:
                    cadres = {
                        cadre.id: cadre
                        for cadre in session.scalars(
                            select(Cadre).where(Cadre.id.in_([c for _, c in secretaries]))
                        )
                    }
                    records.update_many(
                        admin,
                        Unit,
                        [(unit_id, {"secretary": cadres[c]}) for unit_id, c in secretaries],
                    )
                self.progress("cadres", begin + len(part), total)

    # --- schemes -------------------------------------------------------------------

    def create_schemes(self, admin) -> None:
        """Create and publish the town and village schemes (the district demo's indicators)."""
        specs = [
            (TOWN_SCHEME_CODE, "广东省镇街担当作为考核指标（2026 版）", TOWN_SCHEME),
            (VILLAGE_SCHEME_CODE, "广东省典型村培育创建考核指标（2026 版）", VILLAGE_SCHEME),
        ]
        for done, (code, name, spec) in enumerate(specs, start=1):
            scheme, listed = demo.create_scheme(admin, spec, code=code, name=name)
            self.schemes[spec.level] = scheme
            self.indicators[spec.level] = listed
            self.progress("schemes", done, len(specs))

    # --- periods -------------------------------------------------------------------

    def run_period(self, month: int, *, last: bool) -> None:
        """Create, open and fill one month; submit and approve it unless it is the last."""
        admin, assessor = self.actor("admin"), self.actor("assessor")
        start = date(2026, month, 1)
        end = (date(2026, month + 1, 1) if month < 12 else date(2027, 1, 1)) - timedelta(days=1)
        period = records.create(
            admin,
            Period,
            {
                "code": f"2026-{month:02d}",
                "name": f"2026年{month}月",
                "start_date": start,
                "end_date": end,
                "town_scheme": self.schemes["town"],
                "village_scheme": self.schemes["village"],
            },
        )
        stage = f"period {period.code}"
        periods.open_period(self.actor("supervisor"), period)
        self.enter_scores(assessor, period, stage)
        self.enter_adjustments(assessor, period)
        if month % 3 == 1:
            self.record_visits(self.actor("supervisor"), period)
        if last:
            return
        self.progress(f"{stage} approve", 0, 1)
        periods.submit(assessor, period)
        periods.approve(self.actor("supervisor"), period)
        self.progress(f"{stage} approve", 1, 1)

    def draw(self, unit_id: int, spec: IndicatorSpec) -> str:
        """Draw a unit's raw value for one indicator: its strength plus this month's
        noise, inside the indicator's allowed range."""
        value = self._draw(unit_id, spec)
        if spec.method == "grade" or (spec.value_min is None and spec.value_max is None):
            return value
        number = Decimal(value)
        bounded = spec.bounded(number)
        return value if bounded == number else plain(bounded)

    def _draw(self, unit_id: int, spec: IndicatorSpec) -> str:
        r = min(1.25, max(0.3, self.strength[unit_id] + self.rng.gauss(0, 0.12)))
        if spec.method == "grade":
            return "A" if r >= 0.9 else "B" if r >= 0.75 else "C" if r >= 0.6 else "D"
        if spec.method == "direct":
            points = float(spec.points)
            return _number(points * min(r, 1.0), 1)
        if spec.method == "target":
            target = float(spec.target)
            value = target * r if spec.direction == "higher" else target / r
            return _number(value, spec.places)
        low, high = float(spec.low), float(spec.high)
        share = min(1.0, max(0.0, (r - 0.3) / 0.95))
        if spec.direction == "lower":
            share = 1 - share
        return _number(low + (high - low) * share, spec.places)

    def enter_scores(self, assessor, period: Period, stage: str) -> None:
        """Enter every town's and typical village's values through ``ledger.write_values``.

        That is ``set_score``'s corridor in batches: the same role, period, unit,
        indicator and value checks and one ``score.set`` event per value.
        """
        with writing(assessor, "score.write") as session:
            # One query refreshes the units the commit before expired (not one per unit).
            ids = [unit_id for unit_id, _ in self.towns + self.typical]
            units = {
                unit.id: unit
                for start in range(0, len(ids), 5000)
                for unit in session.scalars(
                    select(Unit).where(Unit.id.in_(ids[start : start + 5000]))
                )
            }
            writes = [
                ledger.ValueWrite(units[unit_id], indicator, self.draw(unit_id, spec))
                for level, listed in (("town", self.towns), ("village", self.typical))
                for unit_id, _ in listed
                for indicator, spec in self.indicators[level]
            ]
            total = len(writes)
            self.progress(f"{stage} scores", 0, total)

            def batch_done(done: int, _total: int) -> None:
                if done % self.scale.chunk < ledger.WRITE_BATCH or done == total:
                    self.progress(f"{stage} scores", done, total)

            ledger.write_values(assessor, period, writes, progress=batch_done)

    def enter_adjustments(self, assessor, period: Period) -> None:
        """Give some towns a bonus or penalty and veto a few, through the ledger services."""
        rng = self.rng
        town_ids = [unit_id for unit_id, _ in self.towns]
        adjusted = rng.sample(town_ids, max(1, len(town_ids) // 60))
        vetoed = rng.sample(town_ids, max(1, len(town_ids) // 800))
        village_ids = [unit_id for unit_id, _ in self.typical]
        village_bonus = rng.sample(village_ids, len(village_ids) // 100) if village_ids else []
        village_veto = [rng.choice(village_ids)] if village_ids else []
        units = self._units(adjusted + vetoed + village_bonus + village_veto)
        with writing(assessor, "score.write"):
            for unit_id in adjusted:
                kind = "bonus" if rng.random() < 0.6 else "penalty"
                reasons = BONUS_REASONS if kind == "bonus" else PENALTY_REASONS
                points = Decimal(rng.randint(5, 30)) / 10
                ledger.add_adjustment(
                    assessor, period, units[unit_id], kind, points, rng.choice(reasons)
                )
            for unit_id in village_bonus:
                points = Decimal(rng.randint(5, 30)) / 10
                ledger.add_adjustment(
                    assessor,
                    period,
                    units[unit_id],
                    "bonus",
                    points,
                    "村集体经济项目获省级资金支持",
                )
            for unit_id in vetoed + village_veto:
                ledger.set_veto(assessor, period, units[unit_id], VETO_REASON)

    def record_visits(self, supervisor, period: Period) -> None:
        """Record a quarter's review visits to most typical villages (``record_reviews``).

        Most villages are visited each quarter, so only some are flagged for want of a
        recent review and the review board stays a working list.
        """
        latest = min(period.end_date, _shanghai_today())
        days = (latest - period.start_date).days
        if days < 0 or not self.typical:
            return
        visited = [(unit_id, code) for unit_id, code in self.typical if self.rng.random() < 0.85]
        visits = []
        for unit_id, _ in visited:
            strength = self.strength[unit_id]
            visits.append(
                reviews.Visit(
                    unit_id=unit_id,
                    date=period.start_date + timedelta(days=self.rng.randint(0, days)),
                    visitors=self.rng.choice(self.groups).leader + "等",
                    findings=self.rng.choice(VISIT_FINDINGS),
                    conclusion="好" if strength >= 0.85 else "较好" if strength >= 0.72 else "一般",
                )
            )
        reviews.record_reviews(supervisor, visits, period=period)
        self.progress(f"period {period.code} review visits", len(visits), len(visits))

    def _units(self, ids: list[int]) -> dict[int, Unit]:
        """Load the few units the adjustments need, not the whole province."""
        query = select(Unit).where(Unit.id.in_(sorted(set(ids))))
        return {unit.id: unit for unit in db.session.scalars(query)}

    # --- summary ---------------------------------------------------------------------

    def count(self) -> None:
        n = demo.count_rows
        self.result.counts = {
            "counties": self.scale.counties,
            **demo.unit_counts(),
            "analysis_groups": n(AnalysisGroup),
            "cadres": n(Cadre),
            "periods": n(Period),
            "approved_periods": n(Period, Period.status == PeriodStatus.APPROVED),
            "scores": n(Score),
            "snapshots": n(RankingSnapshot),
            "review_cases": n(ReviewCase),
            "review_records": n(ReviewRecord),
            "history_events": n(HistoryEvent),
        }

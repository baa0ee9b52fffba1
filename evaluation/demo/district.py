"""The district demo of docs/rules.md#demo-data (``flask seed-demo``): 揭东区, written.

Its tables (towns, villages, users, schemes, periods, staged cases) are in ``district_data``.

Every row goes through the service layer (records, accounts, schemes, periods,
ledger, reviews), so each change carries its history event and ``verify-history``
passes afterwards; the actors are the demo users themselves (base data by the admin,
scores and the submit by the assessor, the approval by the supervisor, reviews by
the analysis groups' reviewers). The scores go in by ``ledger.write_values``, the batched
form of ``ledger.set_score`` under the same checks. It is all one transaction: a failure
leaves the ledger empty. The same ``seed`` gives the same data; only the generated
passwords differ.

The 镇街 are 揭东区's real ones; their codes follow the statistical pattern
(街道 0xx, 镇 1xx) and the villages other than 新桃村, 瑞联村, 汾水村 and 龙珠村 are
sample names. The scores are synthetic and chosen so that, in the latest submitted
period, every reason of docs/rules.md#review-flags occurs for some typical village.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sqlalchemy import func, select

from evaluation.accounts import operations as accounts
from evaluation.annual import demo as annual_demo
from evaluation.core.states import ReviewCaseStatus
from evaluation.core.writing import InvalidInput, StateError, SystemActor, writing
from evaluation.demo.district_data import (
    ADJUSTMENTS,
    DISTRICT_CODE,
    DROPPING_VILLAGE,
    FLAGGED_PERIOD,
    GIVEN,
    GROUPS,
    INCOMPLETE_VILLAGE,
    LOW_VILLAGE,
    NOT_REVIEWED_IN_FLAGGED_PERIOD,
    PERIODS,
    REVIEWED_IN_FLAGGED_PERIOD,
    SURNAMES,
    TOWN_SCHEME,
    TOWNS,
    TYPICAL,
    USERS,
    VETO_REASON,
    VETOED_VILLAGE,
    VILLAGE_ADJUSTMENTS,
    VILLAGE_SCHEME,
    VILLAGES,
    IndicatorSpec,
    PeriodSpec,
    SchemeSpec,
)
from evaluation.history import chain as history
from evaluation.history import records
from evaluation.i18n import SHANGHAI
from evaluation.periods import operations as periods
from evaluation.publication import demo as publication_demo
from evaluation.reporting import demo as reporting_demo
from evaluation.reviews import operations as reviews
from evaluation.schemes import operations as schemes
from evaluation.scores import operations as ledger
from evaluation.surveys import demo as surveys_demo
from models import (
    AnalysisGroup,
    Cadre,
    CadreRecord,
    Dimension,
    Indicator,
    KeyProject,
    Period,
    ProjectUpdate,
    ReviewCase,
    ReviewRecord,
    Scheme,
    Setting,
    Unit,
    User,
    db,
)

DEFAULT_SEED = 2026
#: Who creates the first admin (as ``flask create-user`` would); the admin does the rest.
SEED_ACTOR = SystemActor("seed-demo")
SCALES = ("district", "province", "national-sample")
PROVINCE_NOT_YET = "seed_demo 只载入区级演示数据；省级规模由 province.seed_province 载入"
CREDENTIALS_FILE = "demo-credentials.txt"
#: The setting that makes every page say 演示数据 (evaluation.web.demo_data_loaded).
DEMO_SETTING = "demo_data"


@dataclass
class Credential:
    role: str
    username: str
    password: str


@dataclass
class DemoResult:
    """What the seeder made: the new users' credentials and row counts."""

    credentials: list[Credential] = field(default_factory=list)
    #: Usernames that existed before and kept their passwords.
    kept_users: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    #: The open 民主测评's unused codes, printed on slips by ``flask seed-demo``.
    survey_slips: object = None


def has_units() -> bool:
    """Tell whether the database already holds units (then the demo is not seeded)."""
    return db.session.scalar(select(Unit.id).limit(1)) is not None


def mark_demo_data(actor, loaded: bool = True) -> None:
    """Mark (or unmark) the database as holding demo data: every page then says 演示数据."""
    value = "1" if loaded else "0"
    with writing(actor, "base_data.write") as session:
        row = session.get(Setting, DEMO_SETTING)
        before = None if row is None else row.value
        if before == value:
            return
        if row is None:
            session.add(Setting(key=DEMO_SETTING, value=value))
        else:
            row.value = value
        history.append(
            actor,
            "setting.set",
            "setting",
            DEMO_SETTING,
            before=None if before is None else {"value": before},
            after={"value": value},
        )


def write_credentials(instance_path: str | os.PathLike, credentials: list[Credential]) -> Path:
    """Write ``role username password`` lines to the instance folder, readable by owner only."""
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CREDENTIALS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # the file may predate us with looser bits
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for cred in credentials:
            handle.write(f"{cred.role} {cred.username} {cred.password}\n")
    return path


def seed_demo(
    *,
    scale: str = "district",
    seed: int = DEFAULT_SEED,
    password_factory: Callable[[], str] = accounts.generate_password,
) -> DemoResult:
    """Load the demo data of docs/rules.md#demo-data into an empty ledger; return the new
    credentials.

    All of it is one transaction: a failure anywhere leaves the ledger as it was.
    """
    if scale != "district":
        raise InvalidInput(PROVINCE_NOT_YET)
    seeder = _Seeder(random.Random(seed), password_factory)  # nosec B311  # seeded demo data
    # The services below join this transaction; each still checks its own actor's role.
    with writing(SEED_ACTOR, "user.write"):
        if has_units():
            raise StateError("数据库中已有行政单元，不再载入演示数据（请使用空数据库）")
        seeder.run()
    return seeder.result


def create_scheme(
    admin, spec: SchemeSpec, *, code: str | None = None, name: str | None = None
) -> tuple[Scheme, list[tuple[Indicator, IndicatorSpec]]]:
    """Create a scheme with its dimensions and indicators from ``spec``, and publish it.

    Returns the scheme and its indicators beside their specs, in scheme order.
    """
    listed: list[tuple[Indicator, IndicatorSpec]] = []
    with writing(admin, "scheme.write"):
        scheme = records.create(
            admin,
            Scheme,
            {
                "code": code or spec.code,
                "name": name or spec.name,
                "level": spec.level,
                "total": Decimal(100),
                "bonus_cap": Decimal(5),
                "tie_method": "competition",
            },
        )
        order = 0
        for dim_order, (dim_code, dim_name, indicators) in enumerate(spec.dimensions, start=1):
            dimension = records.create(
                admin,
                Dimension,
                {"scheme": scheme, "code": dim_code, "name": dim_name, "order": dim_order},
            )
            for ind in indicators:
                order += 1
                indicator = records.create(
                    admin,
                    Indicator,
                    {
                        "scheme": scheme,
                        "dimension": dimension,
                        "code": ind.code,
                        "name": ind.name,
                        "points": _d(ind.points),
                        "method": ind.method,
                        "direction": ind.direction,
                        "target": None if ind.target is None else _d(ind.target),
                        "floor": None if ind.floor is None else _d(ind.floor),
                        "value_min": None if ind.value_min is None else _d(ind.value_min),
                        "value_max": None if ind.value_max is None else _d(ind.value_max),
                        "integer_only": ind.integer_only,
                        "measure_unit": ind.measure_unit,
                        "data_source": ind.data_source,
                        "evidence_required": (
                            reporting_demo.EVIDENCE_REQUIRED.get(ind.code, "")
                            if spec.level == "town"
                            else ""
                        ),
                        "rule_text": ind.rule_text,
                        "order": order,
                    },
                )
                listed.append((indicator, ind))
    schemes.publish_scheme(admin, scheme)
    return scheme, listed


# --- the seeder ---------------------------------------------------------------


def _d(text: str | int) -> Decimal:
    return Decimal(str(text))


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def count_rows(model, *where) -> int:
    """How many rows of ``model`` match ``where`` (for a seeder's summary)."""
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def unit_counts() -> dict[str, int]:
    """The units a seeder made: towns, villages, typical villages."""
    return {
        "towns": count_rows(Unit, Unit.level == "town"),
        "villages": count_rows(Unit, Unit.level == "village"),
        "typical_villages": count_rows(Unit, Unit.typical_batch.is_not(None)),
    }


class DemoUsers:
    """The demo users of a seeder, the district's and the province's alike.

    The seeder holds ``users`` (username → User), ``result`` (a DemoResult) and
    ``password_factory``.
    """

    users: dict[str, User]
    result: DemoResult
    password_factory: Callable[[], str]

    def ensure_user(self, actor, role, username, display, group, unit=None) -> None:
        """Create the user with a fresh password (its credential noted), or keep the one
        already there: its role must match, and a reviewer without a group gets this one."""
        existing = db.session.scalar(select(User).where(User.username == username))
        if existing is not None:
            if existing.role != role:
                raise InvalidInput(f"用户名 {username} 已存在且角色不是 {role}，无法载入演示数据")
            if group is not None and existing.group_id is None:
                # A reviewer acts on their own group's villages only.
                records.update(actor, existing, {"group": group})
            self.users[username] = existing
            self.result.kept_users.append(username)
            return
        password = self.password_factory()
        values = {"display_name": display}
        if group is not None:
            values["group"] = group
        if unit is not None:  # a reporter's town (docs/reporting.md)
            values["unit"] = unit
        self.users[username] = accounts.create_user(actor, username, role, password, **values)
        self.result.credentials.append(Credential(role, username, password))


class _Seeder(DemoUsers):
    def __init__(self, rng: random.Random, password_factory: Callable[[], str]):
        self.rng = rng
        self.password_factory = password_factory
        self.result = DemoResult()
        self.users: dict[str, User] = {}
        self.towns: dict[str, Unit] = {}
        self.villages: dict[str, Unit] = {}
        self.groups: list[AnalysisGroup] = []
        self.town_cadres: dict[str, list[Cadre]] = {}
        self.secretaries: dict[str, Cadre] = {}
        self.schemes: dict[str, Scheme] = {}
        self.periods: dict[str, Period] = {}
        #: Names in use, so no cadre shares one with a group leader or another cadre.
        self._names: set[str] = {leader for _, leader, _ in GROUPS}
        self.today = datetime.now(SHANGHAI).date()

    def actor(self, username: str) -> User:
        """Return a demo user to act as: services see who did what, as in real use."""
        return self.users[username]

    def run(self) -> None:
        self.create_admin()
        admin = self.actor("admin")
        self.create_groups(admin)
        self.create_users(admin)
        self.create_units(admin)
        self.create_cadres(admin)
        self.create_projects(admin)
        self.create_project_updates(self.actor("assessor"))
        self.create_schemes(admin)
        self.run_periods()
        self.create_cadre_records(self.actor("supervisor"))
        annual_demo.create(admin, self.periods, self.schemes["town"])
        self.result.survey_slips = surveys_demo.create(
            admin, self.towns, self.town_cadres, self.rng
        )
        reporting_demo.create(self, next(p.code for p in PERIODS if p.status == "open"))
        publication_demo.stage(self)  # after the reporters: they lodge its objections
        mark_demo_data(admin)
        self.count()

    # --- users and groups -----------------------------------------------------

    def create_admin(self) -> None:
        role, username, display, _ = USERS[0]
        self.ensure_user(SEED_ACTOR, role, username, display, None)

    def create_groups(self, admin) -> None:
        for name, leader, towns in GROUPS:
            note = "负责" + "、".join(towns) + "的典型村研判"
            self.groups.append(
                records.create(admin, AnalysisGroup, {"name": name, "leader": leader, "note": note})
            )

    def create_users(self, admin) -> None:
        for role, username, display, group_index in USERS[1:]:
            group = None if group_index is None else self.groups[group_index]
            self.ensure_user(admin, role, username, display, group)

    # --- units ------------------------------------------------------------------

    def create_units(self, admin) -> None:
        group_of_town = {town: i for i, (_, _, towns) in enumerate(GROUPS) for town in towns}
        for order, (name, kind, segment) in enumerate(TOWNS, start=1):
            self.towns[name] = records.create(
                admin,
                Unit,
                {
                    "code": f"{DISTRICT_CODE}{segment}000",
                    "name": name,
                    "level": "town",
                    "kind": kind,
                    "county": DISTRICT_CODE,
                    "sort_order": order,
                },
            )
        order = 0
        for town_name, villages in VILLAGES.items():
            town = self.towns[town_name]
            village_no = community_no = 0
            for name in villages:
                order += 1
                if name.endswith("社区"):
                    community_no += 1
                    kind, suffix = "社区", f"{community_no:03d}"
                else:
                    village_no += 1
                    kind, suffix = "村", f"{200 + village_no:03d}"
                batch = TYPICAL.get(name)
                values = {
                    "code": town.code[:9] + suffix,
                    "name": name,
                    "level": "village",
                    "kind": kind,
                    "parent": town,
                    "county": DISTRICT_CODE,
                    "sort_order": order,
                    "typical_batch": batch,
                }
                if batch is not None:
                    values["analysis_group"] = self.groups[group_of_town[town_name]]
                self.villages[name] = records.create(admin, Unit, values)

    # --- cadres -------------------------------------------------------------------

    def person_name(self) -> str:
        while True:
            given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
            name = self.rng.choice(SURNAMES) + given
            if name not in self._names:
                self._names.add(name)
                return name

    def gender(self) -> str:
        return "女" if self.rng.random() < 0.35 else "男"

    def cadre(self, admin, unit: Unit, position: str, **values) -> Cadre:
        return records.create(
            admin,
            Cadre,
            {
                "name": self.person_name(),
                "gender": self.gender(),
                "unit": unit,
                "position": position,
                **values,
            },
        )

    def create_cadres(self, admin) -> None:
        for name, kind, _ in TOWNS:
            town = self.towns[name]
            street = kind == "街道"
            secretary = self.cadre(admin, town, "街道党工委书记" if street else "镇党委书记")
            chief = self.cadre(admin, town, "街道办事处主任" if street else "镇长")
            deputy = self.cadre(
                admin,
                town,
                "街道党工委副书记" if street else "镇党委副书记",
                tags="后备干部",
                assignment="指挥办",
                mentor=secretary,
            )
            young = self.cadre(
                admin,
                town,
                "街道办事处副主任" if street else "副镇长",
                tags="年轻干部,后备干部",
                assignment="要素专班",
                mentor=chief,
            )
            officer = self.cadre(
                admin,
                town,
                "乡村振兴办主任",
                tags="年轻干部",
                assignment=self.rng.choice(("指挥办", "要素专班")),
                mentor=deputy,
            )
            self.town_cadres[name] = [secretary, chief, deputy, young, officer]
        for village_name in TYPICAL:
            village = self.villages[village_name]
            town_name = village.parent.name
            tags = "年轻干部" if self.rng.random() < 0.3 else ""
            secretary = self.cadre(
                admin,
                village,
                "村党组织书记" if village.kind == "村" else "社区党组织书记",
                tags=tags,
                mentor=self.town_cadres[town_name][2],
            )
            records.update(admin, village, {"secretary": secretary})
            self.secretaries[village_name] = secretary

    # --- key projects (挂图作战) ------------------------------------------------------

    PROJECT_TEMPLATES = (
        "{town}工业园区基础设施提升工程",
        "{town}圩镇人居环境综合整治",
        "{town}高标准农田建设项目",
        "{town}农村生活污水管网延伸工程",
        "{town}公共服务中心改造提升",
        "{town}特色农产品冷链仓储中心",
    )
    VILLAGE_PROJECT_TEMPLATES = (
        "{village}乡村振兴示范带建设",
        "{village}集体经济物业项目",
        "{village}美丽乡村精品线路",
    )

    def create_projects(self, admin) -> None:
        # Each project gets a course (on track, behind, done) that sets its progress and the
        # note of its last update; its status is not stored but derived (docs/rules.md#domain).
        self.projects: list[tuple[KeyProject, date, Decimal, str]] = []
        number = 0
        plan: list[tuple[str, Unit, Cadre]] = []
        for name, _, _ in TOWNS:
            cadres = self.town_cadres[name]
            templates = self.rng.sample(self.PROJECT_TEMPLATES, 2)
            for i, template in enumerate(templates):
                plan.append((template.format(town=name), self.towns[name], cadres[i * 2 + 1]))
        for village_name in list(TYPICAL)[:8]:
            village = self.villages[village_name]
            template = self.rng.choice(self.VILLAGE_PROJECT_TEMPLATES)
            plan.append(
                (template.format(village=village_name), village, self.secretaries[village_name])
            )
        today = PERIODS[-1].end  # the demo's "now": the end of the open period
        for project_name, unit, lead in plan:
            number += 1
            start = date(2025, 7, 1) + timedelta(days=self.rng.randrange(0, 150))
            due = start + timedelta(days=self.rng.randrange(300, 720))
            elapsed = min(Decimal(1), _d((today - start).days) / _d((due - start).days))
            pace = _d(f"{self.rng.uniform(0.9, 1.1):.2f}")
            roll = self.rng.random()
            if due <= today:
                # Past its due date: finished, or overdue and short of it.
                if roll < 0.75:
                    progress, course = Decimal(100), "done"
                else:
                    progress, course = _d(self.rng.randrange(70, 96)), "behind"
            elif roll < 0.12:
                progress, course = Decimal(100), "done"  # finished ahead of time
            elif roll < 0.45:
                lag = _d(f"{self.rng.uniform(0.45, 0.75):.2f}")
                progress, course = _round(elapsed * 100 * lag, 0), "behind"
            else:
                progress = min(_round(elapsed * 100 * pace, 0), Decimal(95))
                course = "on_track"
            project = records.create(
                admin,
                KeyProject,
                {
                    "code": f"GT-{number:03d}",
                    "name": project_name,
                    "unit": unit,
                    "lead_cadre": lead,
                    "due_date": due,
                    "progress": progress,
                },
            )
            self.projects.append((project, start, progress, course))

    def create_project_updates(self, assessor) -> None:
        notes = {
            "on_track": ("完成招标及施工准备", "主体工程施工中", "完成阶段性节点，按计划推进"),
            "behind": ("用地报批未完成，进度滞后", "资金拨付延迟，已约谈施工单位"),
            "done": ("完成竣工验收", "项目投入使用"),
        }
        for project, start, final, course in self.projects:
            steps = self.rng.randint(2, 4)
            end = min(PERIODS[-1].end, project.due_date)
            span = max((end - start).days, steps)
            for step in range(1, steps + 1):
                when = start + timedelta(days=span * step // steps)
                progress = _round(final * step / steps, 0)
                if step < steps:
                    note = notes["on_track"][min(step, 3) - 1]
                else:
                    note = self.rng.choice(notes[course])
                records.create(
                    assessor,
                    ProjectUpdate,
                    {
                        "project": project,
                        "date": when,
                        "progress": progress,
                        "note": note,
                        "recorded_by": assessor.username,
                    },
                )

    # --- schemes --------------------------------------------------------------------

    def create_schemes(self, admin) -> None:
        for spec in (TOWN_SCHEME, VILLAGE_SCHEME):
            self.schemes[spec.level], _ = create_scheme(admin, spec)

    # --- periods and scores -------------------------------------------------------------

    def run_periods(self) -> None:
        """Walk the four periods through the workflow in calendar order, reviews between."""
        admin = self.actor("admin")
        assessor = self.actor("assessor")
        supervisor = self.actor("supervisor")
        for spec in PERIODS:
            self.periods[spec.code] = records.create(
                admin,
                Period,
                {
                    "code": spec.code,
                    "name": spec.name,
                    "start_date": spec.start,
                    "end_date": spec.end,
                    "town_scheme": self.schemes["town"],
                    "village_scheme": self.schemes["village"],
                },
            )
        self.town_strength = {name: self.rng.uniform(0.58, 0.99) for name, _, _ in TOWNS}
        self.village_quality = {name: self.rng.uniform(0.74, 0.95) for name in TYPICAL}
        for index, spec in enumerate(PERIODS):
            period = self.periods[spec.code]
            self.record_reviews(spec)
            self.close_answered_cases()
            periods.open_period(admin, period)
            self.enter_scores(assessor, spec, index)
            if spec.code == annual_demo.SOURCES[-1][0]:
                annual_demo.arrange_boundary_tie(
                    assessor, self.periods, self.schemes["town"], self.towns
                )
            if spec.status in ("submitted", "approved"):
                periods.submit(assessor, period)
            if spec.status == "approved":
                periods.approve(supervisor, period)

    def period_shift(self) -> float:
        return self.rng.uniform(-0.04, 0.04)

    def quality(self, base: float) -> float:
        return min(1.0, max(0.2, base + self.rng.uniform(-0.1, 0.1)))

    def village_base(self, name: str, spec: PeriodSpec) -> float:
        """The village's level in a period: the story of FLAGGED_PERIOD, noise otherwise."""
        story = {
            DROPPING_VILLAGE: {"2025Q4": 0.93, "2026Q1": 0.95, "2026Q2": 0.72, "2026Q3": 0.8},
            LOW_VILLAGE: {"2025Q4": 0.72, "2026Q1": 0.68, "2026Q2": 0.32, "2026Q3": 0.5},
        }
        if name in story:
            return story[name][spec.code]
        return self.village_quality[name] + self.period_shift()

    def enter_scores(self, assessor, spec: PeriodSpec, index: int) -> None:
        period = self.periods[spec.code]
        town_indicators = self.indicators("town")
        village_indicators = self.indicators("village")
        partial = spec.status == "open"
        cells: list[tuple[Unit, Indicator, object]] = []
        for order, (name, _, _) in enumerate(TOWNS):
            base = self.town_strength[name] + self.period_shift() + 0.01 * index
            indicators = town_indicators
            if partial:
                # The open period is under way: most towns done, some half, some not begun.
                if order >= 10:
                    continue
                if order >= 7:
                    indicators = indicators[: len(indicators) // 2]
            for indicator, ind in indicators:
                value = self.sample_value(ind, self.quality(base))
                cells.append((self.towns[name], indicator, value))
        for order, name in enumerate(TYPICAL):
            if partial and order % 3 == 2:
                continue
            base = self.village_base(name, spec)
            for indicator, ind in village_indicators:
                if spec.code == FLAGGED_PERIOD and name == INCOMPLETE_VILLAGE:
                    if ind.method == "grade":
                        continue  # the 暗访 result is not in yet: INCOMPLETE
                value = self.sample_value(ind, self.quality(base))
                cells.append((self.villages[name], indicator, value))
        ledger.write_values(
            assessor,
            period,
            [ledger.ValueWrite(unit, indicator, value) for unit, indicator, value in cells],
        )
        for town, kind, points, reason in ADJUSTMENTS.get(spec.code, []):
            ledger.add_adjustment(assessor, period, self.towns[town], kind, _d(points), reason)
        for name, kind, points, reason in VILLAGE_ADJUSTMENTS.get(spec.code, []):
            ledger.add_adjustment(assessor, period, self.villages[name], kind, _d(points), reason)
        if spec.code == FLAGGED_PERIOD:
            ledger.set_veto(assessor, period, self.villages[VETOED_VILLAGE], VETO_REASON)

    def indicators(self, level: str) -> list[tuple[Indicator, IndicatorSpec]]:
        spec = TOWN_SCHEME if level == "town" else VILLAGE_SCHEME
        by_code = {
            i.code: i
            for i in db.session.scalars(
                select(Indicator).where(Indicator.scheme_id == self.schemes[level].id)
            )
        }
        return [(by_code[i.code], i) for _, _, inds in spec.dimensions for i in inds]

    def sample_value(self, spec: IndicatorSpec, level: float):
        """Return a raw value that earns about ``level`` of the indicator's points,
        inside the indicator's allowed range."""
        value = self._sample_value(spec, level)
        return value if spec.method == "grade" else spec.bounded(value)

    def _sample_value(self, spec: IndicatorSpec, level: float):
        x = _d(f"{level:.4f}")
        if spec.method == "grade":
            for grade, least in (("优", 0.88), ("良", 0.75), ("中", 0.6)):
                if level >= least:
                    return grade
            return "差"
        if spec.method == "direct":
            return min(_round(_d(spec.points) * x, 1), _d(spec.points))
        if spec.method == "relative":
            low, high = _d(spec.low), _d(spec.high)
            return _round(low + (high - low) * x, spec.places)
        target = _d(spec.target)
        wobble = _d(f"{self.rng.uniform(0.95, 1.12):.4f}")
        if spec.direction == "higher":
            return _round(target * x * wobble, spec.places)
        if level > 0.95 and self.rng.random() < 0.5:
            return Decimal(0)  # none at all: full points
        return _round(target / max(x * wobble, Decimal("0.25")), spec.places)

    # --- reviews (研判) ---------------------------------------------------------------------

    FINDINGS = (
        ("村集体经济项目推进顺利，党群服务中心运转规范", "好", "总结经验，在全镇推广"),
        ("人居环境整治有成效，但部分巷道仍有积存垃圾", "较好", "督促村“两委”一周内完成清理"),
        ("产业项目用地手续未办结，进度滞后", "一般", "协调自然资源部门加快审批"),
        ("矛盾纠纷排查台账不全，村干部分工不清", "较差", "约谈村党组织书记，限期整改"),
        ("特色产业带动增收明显，集体经济收入稳步增长", "好", "争取上级资金支持扩大规模"),
    )

    def record_reviews(self, spec: PeriodSpec) -> None:
        """Record the visits made during ``spec``'s quarter, before it is scored."""
        for name in TYPICAL:
            if not self.reviewed_in(name, spec):
                continue
            village = self.villages[name]
            group_index = self.group_index(village.analysis_group_id)
            reviewer = self.reviewer(group_index)
            day = spec.start + timedelta(days=self.rng.randrange(10, (spec.end - spec.start).days))
            findings, conclusion, actions = self.rng.choice(self.FINDINGS)
            if name in (LOW_VILLAGE, DROPPING_VILLAGE) and spec.code == FLAGGED_PERIOD:
                findings, conclusion, actions = self.FINDINGS[2]
            if day > self.today:
                continue  # a clock behind the demo's calendar: no visits from the future
            reviews.record_review(
                reviewer,
                village,
                date=day,
                # The group's leader with the town's deputy secretary, as visits are made.
                visitors=f"{GROUPS[group_index][1]}、{self.town_cadres[village.parent.name][2].name}",
                findings=findings,
                conclusion=conclusion,
                actions=actions,
                next_visit=day + timedelta(days=60),
            )

    def reviewed_in(self, name: str, spec: PeriodSpec) -> bool:
        if spec.code == FLAGGED_PERIOD:
            # Some villages were visited this quarter, some not: NO_RECENT_REVIEW for those.
            if name in NOT_REVIEWED_IN_FLAGGED_PERIOD:
                return False
            if name in REVIEWED_IN_FLAGGED_PERIOD:
                return True
        return self.rng.random() < 0.6

    def close_answered_cases(self) -> None:
        """Close (办结) some open cases whose village has been visited since."""
        cases = db.session.scalars(
            select(ReviewCase)
            .where(ReviewCase.status == ReviewCaseStatus.OPEN, ReviewCase.records.any())
            .order_by(ReviewCase.id)
        ).all()
        for case in cases:
            if self.rng.random() < 0.6:
                reviewer = self.reviewer(self.group_index(case.group_id))
                reviews.close_case(reviewer, case, "已走访核实，问题已整改到位")

    def reviewer(self, group_index: int) -> User:
        """Return the reviewer of an analysis group: they visit its villages."""
        username = next(u for r, u, _, g in USERS if r == "reviewer" and g == group_index)
        return self.actor(username)

    def group_index(self, group_id: int | None) -> int:
        return next(i for i, group in enumerate(self.groups) if group.id == group_id)

    # --- cadre records (担当作为台账) ---------------------------------------------------------

    RECORD_TITLES = {
        "political": (
            ("带头学习贯彻全会精神，开展专题宣讲", "在镇村两级宣讲 6 场，覆盖党员 400 余人次。"),
            ("落实意识形态工作责任制", "牵头排查整改意识形态领域风险隐患，建立工作台账。"),
        ),
        "performance": (
            ("牵头推进重点项目提前完成年度投资", "挂图作战、倒排工期，提前一个月完成投资计划。"),
            ("招商引资签约落地新项目", "带队外出招商 5 次，签约落地项目 2 个。"),
            ("推动村集体经济增收", "盘活闲置物业，村集体经济年收入增加 12 万元。"),
        ),
        "grassroots": (
            ("驻村蹲点解决群众急难愁盼问题", "驻村 30 天，协调解决饮水、道路等问题 9 件。"),
            ("汛期连续驻守榕江堤围一线", "台风期间连续 72 小时驻守堤围，组织转移群众 300 余人。"),
        ),
        "integrity": (
            ("严格执行中央八项规定精神", "带头签订廉洁承诺书，全年无违规违纪问题。"),
            ("规范村级工程项目管理", "推动村级小额工程“四议两公开”全覆盖。"),
        ),
    }
    EVIDENCE = (
        "会议纪要及现场照片",
        "镇党委通报文件",
        "项目进度报表",
        "群众评议表",
        "区纪委回复意见",
    )

    def create_cadre_records(self, supervisor) -> None:
        orientations = list(self.RECORD_TITLES)
        subjects: list[Cadre] = []
        for cadres in self.town_cadres.values():
            subjects.extend(cadres[:1] + cadres[3:4])
        subjects.extend(list(self.secretaries.values())[::2])
        for number, cadre in enumerate(subjects):
            for _ in range(self.rng.choice((1, 2))):
                orientation = orientations[(number + self.rng.randrange(4)) % 4]
                title, detail = self.rng.choice(self.RECORD_TITLES[orientation])
                spec = self.rng.choice(PERIODS)
                day = spec.start + timedelta(days=self.rng.randrange((spec.end - spec.start).days))
                evaluation = self.rng.choices(("好", "较好", "一般", "较差"), (45, 35, 15, 5))[0]
                records.create(
                    supervisor,
                    CadreRecord,
                    {
                        "cadre": cadre,
                        "date": day,
                        "period": self.periods[spec.code],
                        "orientation": orientation,
                        "title": title,
                        "detail": detail,
                        "evaluation": evaluation,
                        "evidence": self.rng.choice(self.EVIDENCE),
                        "recorded_by": supervisor.username,
                    },
                )

    def count(self) -> None:
        n = count_rows
        self.result.counts = {
            **unit_counts(),
            "cadres": n(Cadre),
            "cadre_records": n(CadreRecord),
            "key_projects": n(KeyProject),
            "periods": n(Period),
            "review_records": n(ReviewRecord),
        }

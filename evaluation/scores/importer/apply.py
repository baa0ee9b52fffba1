"""Apply a clean import: the plan of what would change, the report, and ONE write
transaction through the ledger's own rules (docs/rules.md#import-file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from evaluation.core.states import PeriodStatus
from evaluation.core.writing import InvalidInput, NotFound, require, writing
from evaluation.i18n import local_time
from evaluation.scores import operations as ledger
from evaluation.scores.importer.parse import (
    ImportFile,
    ImportRow,
    IndicatorInfo,
    Problem,
    UnitInfo,
    ValueWarning,
    parse_table,
)
from evaluation.scores.importer.read import read_file
from models import Indicator, Period, Score, Unit, db
from models.types import plain
from models.units import LEVELS

# --- the plan: what would change -------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    number: Decimal | None
    grade: str | None
    note: str
    version: int
    score_id: int | None = None
    entered_by: str = ""
    #: Naive UTC, as stored.
    updated_at: datetime | None = None

    @property
    def value(self) -> str:
        return self.grade if self.grade is not None else plain(self.number)


@dataclass(frozen=True)
class Change:
    row: int
    unit: str
    unit_name: str
    indicator: str
    indicator_name: str
    #: None for a new value.
    old_value: str | None
    new_value: str
    old_note: str | None
    new_note: str
    #: The stored version the change is made against (None: a new score).
    version: int | None
    number: Decimal | None
    grade: str | None
    score_id: int | None = None
    #: The overwrite reason, when the change replaces a value the file did not know.
    reason: str | None = None

    @property
    def is_new(self) -> bool:
        return self.version is None

    @property
    def overwrites(self) -> bool:
        return self.reason is not None


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    #: Rows that would undo a later change, or overwrite without being told to.
    refused: list[Problem] = field(default_factory=list)


def _cell_label(row: ImportRow, units, indicators) -> str:
    indicator = indicators[row.indicator]
    return f"{units[row.unit].name}（{row.unit}）/ {row.indicator} {indicator.name}"


def _file_side(row: ImportRow, note: str, old: Stored | None) -> str:
    if old is not None and row.value == old.value and note != old.note:
        return f"文件中为 {row.value}，备注「{note}」（现备注「{old.note}」）"
    return f"文件中为 {row.value}"


KEEP_CURRENT = "请重新下载模板后填写，或清空此行数值以保留现值"


def _stale(row: ImportRow, note: str, old: Stored | None, cell: str, *, since: str) -> Problem:
    """A row made before a later change of its cell: refused, with who changed it when."""
    if old is None:
        message = f"{cell}：{_file_side(row, note, old)}，但该数值{since}已被清除；{KEEP_CURRENT}"
    else:
        message = (
            f"{cell}：{_file_side(row, note, old)}，但该数值{since}已被 {old.entered_by} "
            f"于 {local_time(old.updated_at)} 改为 {old.value}（第 {old.version} 版）；"
            f"{KEEP_CURRENT}"
        )
    return Problem(row.row, row.column, message, "stale")


def _unconfirmed(row: ImportRow, note: str, old: Stored, cell: str) -> Problem:
    """A row without version or export time that would change a stored value."""
    message = (
        f"{cell}：{_file_side(row, note, old)}，现值为 {old.value}（{old.entered_by} 于 "
        f"{local_time(old.updated_at)} 录入）；文件没有版本号和导出时间，修改已有数值须选择"
        "覆盖（导入页面勾选「覆盖已有数值」，命令行加 --overwrite）并填写原因"
    )
    return Problem(row.row, row.column, message, "overwrite")


def plan_changes(
    rows: Iterable[ImportRow],
    stored: Mapping[tuple[str, str], Stored],
    units: Mapping[str, UnitInfo],
    indicators: Mapping[str, IndicatorInfo],
    *,
    exported_at: datetime | None = None,
    overwrite_reason: str | None = None,
) -> Plan:
    """Compare parsed rows with the stored values: what changes, what is the same, and
    which rows are refused.

    A row that changes nothing is fine whatever it states. A row that would change a
    stored cell must know the cell as it is now: its 版本 equals the stored version
    (0: the cell was empty); without a version, the cell was not changed after the
    file's ``exported_at``; a file stating neither may change stored cells only with
    ``overwrite_reason`` (which goes into those changes' history events).
    """
    plan = Plan()
    for row in rows:
        old = stored.get((row.unit, row.indicator))
        note = row.note if row.note is not None else (old.note if old else "")
        if old is not None and (old.number, old.grade, old.note) == (row.number, row.grade, note):
            plan.unchanged += 1
            continue
        reason = None
        changed_since_export = (
            exported_at is not None
            and old is not None
            and old.updated_at is not None
            and old.updated_at > exported_at
        )
        if row.version is not None:
            # A cell cleared and entered again starts again at version 1: the export
            # time tells that version 1 from the one the file was made with.
            if row.version != (old.version if old else 0) or changed_since_export:
                cell = _cell_label(row, units, indicators)
                since = "在您下载模板之后" if row.version == 0 or old is None else ""
                plan.refused.append(_stale(row, note, old, cell, since=since))
                continue
        elif old is not None:
            if exported_at is not None:
                if changed_since_export:
                    cell = _cell_label(row, units, indicators)
                    since = f"在文件导出（{local_time(exported_at)}）之后"
                    plan.refused.append(_stale(row, note, old, cell, since=since))
                    continue
            elif overwrite_reason is None:
                plan.refused.append(
                    _unconfirmed(row, note, old, _cell_label(row, units, indicators))
                )
                continue
            else:
                reason = overwrite_reason
        plan.changes.append(
            Change(
                row=row.row,
                unit=row.unit,
                unit_name=units[row.unit].name,
                indicator=row.indicator,
                indicator_name=indicators[row.indicator].name,
                old_value=old.value if old else None,
                new_value=row.value,
                old_note=old.note if old else None,
                new_note=note,
                version=old.version if old else None,
                number=row.number,
                grade=row.grade,
                score_id=old.score_id if old else None,
                reason=reason,
            )
        )
    return plan


@dataclass
class ImportReport:
    period: str
    period_name: str
    level: str
    dry_run: bool
    #: False when the period is not open (a dry run still shows what would change).
    period_open: bool
    problems: list[Problem] = field(default_factory=list)
    #: Values accepted that look wrong: shown, never blocking.
    warnings: list[ValueWarning] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    blank: int = 0
    applied: bool = False
    #: The template's 导出时间 (naive UTC), when the file states one.
    exported_at: datetime | None = None
    #: How the sheet was read when it is not the plain long layout (e.g. "宽表：表头在第3行…").
    layout: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def new(self) -> int:
        return sum(1 for c in self.changes if c.is_new)

    @property
    def changed(self) -> int:
        return len(self.changes) - self.new

    @property
    def overwritten(self) -> int:
        return sum(1 for c in self.changes if c.overwrites)

    @property
    def needs_overwrite(self) -> bool:
        """Whether some refusal would go away by choosing to overwrite (with a reason)."""
        return any(p.code == "overwrite" for p in self.problems)

    def summary(self) -> str:
        """One line for the CLI and the page."""
        if self.problems:
            return f"发现 {len(self.problems)} 处问题，未写入任何数据"
        counts = f"新增 {self.new} 项，修改 {self.changed} 项，未变 {self.unchanged} 项"
        if self.overwritten:
            counts += f"（其中覆盖已有数值 {self.overwritten} 项）"
        if self.blank:
            counts += f"，空白 {self.blank} 行（保持原值）"
        if self.warnings:
            counts += f"；{len(self.warnings)} 处提示请核对"
        if self.dry_run:
            return f"试导入（未写入）：{counts}"
        return f"已导入：{counts}"


# --- the database side ------------------------------------------------------------------


@dataclass
class Catalog:
    units: dict[str, UnitInfo]
    indicators: dict[str, IndicatorInfo]
    stored: dict[tuple[str, str], Stored]
    unit_rows: dict[str, Unit]
    indicator_rows: dict[str, Indicator]


def find_period(code: str) -> Period:
    period = db.session.scalar(select(Period).where(Period.code == code))
    if period is None:
        raise NotFound(f"没有代码为 {code} 的考核周期")
    return period


def _scheme(period: Period, level: str):
    if level not in LEVELS:
        raise InvalidInput(f"层级须为 {'、'.join(LEVELS)}")
    scheme = period.scheme_for(level)
    if scheme is None:
        raise InvalidInput(f"考核周期「{period.name}」没有{LEVELS[level]}指标方案")
    return scheme


def load_catalog(period: Period, level: str) -> Catalog:
    """Read the period's units, indicators and stored values in three queries."""
    scheme = _scheme(period, level)
    indicator_rows = {
        i.code: i
        for i in db.session.scalars(
            select(Indicator).where(Indicator.scheme_id == scheme.id).order_by(Indicator.order)
        )
    }
    unit_rows = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.level == level))}
    units = {
        u.code: UnitInfo(u.code, u.name, u.level, u.active, u.typical_batch)
        for u in unit_rows.values()
    }
    # Units of the other level only need to be recognised (to say "wrong level").
    for code, name, unit_level in db.session.execute(
        select(Unit.code, Unit.name, Unit.level).where(Unit.level != level)
    ):
        units[code] = UnitInfo(code, name, unit_level)
    indicators = {
        code: IndicatorInfo(
            i.code,
            i.name,
            i.method,
            i.points,
            i.direction,
            i.grade_fractions or None,
            (i.measure_unit or "").strip(),
            i.value_min,
            i.value_max,
            bool(i.integer_only),
        )
        for code, i in indicator_rows.items()
    }
    by_unit_id = {u.id: u.code for u in unit_rows.values()}
    by_indicator_id = {i.id: i.code for i in indicator_rows.values()}
    stored = {}
    if by_indicator_id:
        for (
            score_id,
            unit_id,
            indicator_id,
            number,
            grade,
            note,
            version,
            entered_by,
            updated_at,
        ) in db.session.execute(
            select(
                Score.id,
                Score.unit_id,
                Score.indicator_id,
                Score.number,
                Score.grade,
                Score.note,
                Score.version,
                Score.entered_by,
                Score.updated_at,
            ).where(Score.period_id == period.id, Score.indicator_id.in_(by_indicator_id))
        ):
            if unit_id in by_unit_id:
                key = (by_unit_id[unit_id], by_indicator_id[indicator_id])
                stored[key] = Stored(
                    number, grade, note or "", version, score_id, entered_by or "", updated_at
                )
    return Catalog(units, indicators, stored, unit_rows, indicator_rows)


def _prepare(
    period: Period,
    source: ImportFile,
    level: str,
    *,
    dry_run: bool,
    overwrite_reason: str | None,
) -> tuple[ImportReport, Catalog]:
    catalog = load_catalog(period, level)
    parsed = parse_table(
        source.rows,
        period=period.code,
        units=catalog.units,
        indicators=catalog.indicators,
        level=level,
    )
    report = ImportReport(
        period=period.code,
        period_name=period.name,
        level=level,
        dry_run=dry_run,
        period_open=period.status == PeriodStatus.OPEN,
        warnings=parsed.warnings,
        blank=parsed.blank,
        exported_at=source.exported_at,
        layout=parsed.layout,
    )
    # The good rows are planned even beside bad ones, so the report names every row
    # that would be refused, not only the first kind found.
    plan = plan_changes(
        parsed.rows,
        catalog.stored,
        catalog.units,
        catalog.indicators,
        exported_at=source.exported_at,
        overwrite_reason=overwrite_reason,
    )
    report.problems = sorted(parsed.problems + plan.refused, key=lambda p: p.row)
    if not report.problems:
        report.changes, report.unchanged = plan.changes, plan.unchanged
    return report, catalog


def _overwrite_reason(overwrite: bool, reason: str | None) -> str | None:
    if not overwrite:
        return None
    text = (reason or "").strip()
    if not text:
        message = "选择覆盖已有数值时须填写原因"
        raise InvalidInput(message, details=[{"path": "reason", "message": message}])
    return text


def import_scores(
    actor,
    period_code: str,
    data: bytes,
    *,
    filename: str = "",
    level: str = "town",
    dry_run: bool = False,
    overwrite: bool = False,
    reason: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check an import file and, unless ``dry_run``, apply it all or nothing.

    The report lists every problem (nothing is written when there is one) or the
    changes made / that would be made. ``overwrite`` (with a ``reason``) lets a file
    that states neither versions nor an export time change stored values.
    ``progress(done, total)`` is called while applying, after each batch of changes.
    """
    overwrite_reason = _overwrite_reason(overwrite, reason)
    source = read_file(data, filename)
    if dry_run:
        require(actor, "import.view")
        period = find_period(period_code)
        report, _ = _prepare(period, source, level, dry_run=True, overwrite_reason=overwrite_reason)
        return report
    with writing(actor, "score.write") as session:
        period = find_period(period_code)
        session.refresh(period)
        ledger.require_open(period)
        report, catalog = _prepare(
            period, source, level, dry_run=False, overwrite_reason=overwrite_reason
        )
        if report.problems:
            return report
        _apply_changes(actor, session, period, catalog, report.changes, progress)
        report.applied = True
    return report


def _apply_changes(actor, session, period: Period, catalog: Catalog, changes, progress) -> None:
    """Write the planned changes through the ledger's bulk path (``ledger.write_values``).

    Same rules, columns and ``score.set`` events as ``ledger.set_score``; the caller's
    ``writing`` makes the whole file one transaction: all or nothing.
    """
    ledger.write_values(
        actor,
        period,
        [
            ledger.ValueWrite(
                unit=catalog.unit_rows[change.unit],
                indicator=catalog.indicator_rows[change.indicator],
                value=change.grade if change.grade is not None else change.number,
                note=change.new_note,
                score_id=change.score_id,
                version=change.version,
                old_value=change.old_value,
                old_note=change.old_note,
                reason=change.reason,
            )
            for change in changes
        ],
        progress=progress,
    )

"""评分录入 (``/admin/entry/``): the score grid, bonus/penalty items, vetoes and the
period workflow panel (docs/rules.md#period-workflow, docs/architecture.md#pages-and-doors).

Assessment teams work two ways, so the grid shows either one unit (every indicator of
its scheme, grouped by dimension) or one indicator (every unit of the level). Each
changed cell is its own change through ``scores.operations.set_score`` with the version
the page was drawn with: a stale cell is refused and shown with the current value and
who changed it, while the other cells still save. The page only decides what to show;
roles and the period's state are checked by the services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from evaluation.admin.access import AccessMixin
from evaluation.core.numbers import plain
from evaluation.core.periods import default_period
from evaluation.core.permissions import can
from evaluation.core.states import PERIOD_WORKFLOW, PeriodStatus
from evaluation.core.writing import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceError,
    StateError,
)
from evaluation.i18n import local_time
from evaluation.periods import operations as periods
from evaluation.periods.workflow import take_step, workflow_buttons
from evaluation.ranking import reading
from evaluation.scores import operations as ledger
from evaluation.scores import values
from evaluation.web import int_arg
from forms.entry import (
    AdjustmentForm,
    CellInput,
    ReasonForm,
    VetoForm,
    form_errors,
    parse_grid,
)
from models import Adjustment, Indicator, Period, RankingSnapshot, Score, Unit, Veto, db
from models.ledger import ADJUSTMENT_KINDS
from models.schemes import DIRECTIONS, METHODS
from models.units import LEVELS
from models.users import display_names

#: Units per page in the by-indicator grid (a province has 1,609 towns).
UNITS_PER_PAGE = 100



@dataclass
class Selection:
    """What the page shows: a period, a level, and one unit or one indicator (or neither)."""

    period: Period | None
    level: str = "town"
    unit: Unit | None = None
    indicator: Indicator | None = None
    page: int = 1

    @property
    def scheme(self):
        return self.period.scheme_for(self.level) if self.period is not None else None

    def args(self, **extra) -> dict:
        """Return the query arguments that bring the user back to this selection."""
        args: dict = {}
        if self.period is not None:
            args["period"] = self.period.code
        args["level"] = self.level
        if self.unit is not None:
            args["unit"] = self.unit.code
        elif self.indicator is not None:
            args["indicator"] = self.indicator.code
            if self.page > 1:
                args["page"] = self.page
        args.update(extra)
        return args


@dataclass
class CellFeedback:
    """What happened to one posted cell."""

    status: str  # saved | conflict | invalid | refused
    message: str
    #: What the user typed, kept in the input when the value was refused as invalid.
    value: str = ""
    note: str = ""


@dataclass
class Row:
    """One line of the grid: a unit × indicator cell with its stored score."""

    index: int
    unit: Unit
    indicator: Indicator
    score: Score | None
    points: str | None = None
    feedback: CellFeedback | None = None

    @property
    def shown_value(self) -> str:
        if self.feedback is not None and self.feedback.status == "invalid":
            return self.feedback.value
        return self.score.value if self.score is not None else ""

    @property
    def shown_note(self) -> str:
        if self.feedback is not None and self.feedback.status == "invalid":
            return self.feedback.note
        return self.score.note if self.score is not None else ""


@dataclass
class Progress:
    """Values entered against values expected, overall and per unit / indicator."""

    expected_per_unit: int
    units: int
    by_unit: dict[int, int] = field(default_factory=dict)
    by_indicator: dict[int, int] = field(default_factory=dict)

    @property
    def expected(self) -> int:
        return self.expected_per_unit * self.units

    @property
    def entered(self) -> int:
        return sum(self.by_unit.values())

    @property
    def percent(self) -> int:
        return int(self.entered * 100 / self.expected) if self.expected else 0


def _actor():
    return current_user._get_current_object()


def _selection(values) -> Selection:
    """Resolve the period, level, unit and indicator codes a request names."""
    code = (values.get("period") or "").strip()
    if code:
        period = db.session.scalar(select(Period).where(Period.code == code))
        if period is None:
            abort(404)
    else:
        period = default_period("entry")
    level = values.get("level") or "town"
    if level not in LEVELS:
        abort(404)
    if period is not None and period.scheme_for(level) is None:
        level = "town"
    selection = Selection(period=period, level=level)
    if period is None:
        return selection
    unit_code = (values.get("unit") or "").strip()
    indicator_code = (values.get("indicator") or "").strip()
    if unit_code:
        selection.unit = db.session.scalar(
            select(Unit).where(Unit.code == unit_code, *reading.in_level(level))
        )
        if selection.unit is None:
            abort(404)
    elif indicator_code:
        selection.indicator = db.session.scalar(
            select(Indicator).where(
                Indicator.scheme_id == selection.scheme.id, Indicator.code == indicator_code
            )
        )
        if selection.indicator is None:
            abort(404)
        selection.page = max(1, int_arg("page", values) or 1)
    return selection


def _indicators(scheme) -> list[Indicator]:
    return list(
        db.session.scalars(
            select(Indicator)
            .where(Indicator.scheme_id == scheme.id)
            .order_by(Indicator.order, Indicator.id)
        )
    )


def _progress(selection: Selection, units: list[Unit], indicators: list[Indicator]) -> Progress:
    progress = Progress(expected_per_unit=len(indicators), units=len(units))
    in_scope = select(Unit.id).where(*reading.in_level(selection.level))
    base = (
        select(func.count())
        .select_from(Score)
        .where(
            Score.period_id == selection.period.id,
            Score.indicator_id.in_([i.id for i in indicators]),
            Score.unit_id.in_(in_scope),
        )
    )
    progress.by_unit = {
        unit_id: count
        for count, unit_id in db.session.execute(
            base.add_columns(Score.unit_id).group_by(Score.unit_id)
        )
    }
    progress.by_indicator = {
        indicator_id: count
        for count, indicator_id in db.session.execute(
            base.add_columns(Score.indicator_id).group_by(Score.indicator_id)
        )
    }
    return progress


def _when(moment) -> str:
    """Format a time from a service (datetime or ISO text) in Asia/Shanghai."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment
    return local_time(moment)


def _computed(selection: Selection) -> tuple[dict[str, dict], str | None, bool]:
    """Return the engine's result per unit code, the reason it could not compute (or
    None), and whether the figures come from the approved snapshot."""
    try:
        answer = reading.ranking(selection.period, selection.level)
    except ServiceError as error:
        return {}, error.message, False
    results = {result["unit"]: result for result in answer["results"]}
    return results, None, bool(answer.get("from_snapshot"))


class EntryView(AccessMixin, BaseView):
    """评分录入: the grid, bonus/penalty items, vetoes and the workflow panel."""

    permission = "entry.view"

    # ------------------------------------------------------------------ pages

    @expose("/")
    def index(self):
        return self._render(_selection(request.args))

    @expose("/save", methods=["POST"])
    def save(self):
        selection = _selection(request.form)
        if selection.period is None:
            abort(404)
        cells = [cell for cell in parse_grid(request.form) if cell.changed]
        if not cells:
            flash(_("没有需要保存的修改。"), "info")
            return redirect(url_for(".index", **selection.args()))
        clear_reason = (request.form.get("clear_reason") or "").strip()
        feedback = self._save_cells(selection.period, cells, clear_reason)
        saved = sum(1 for f in feedback.values() if f.status == "saved")
        failed = len(feedback) - saved
        if not failed:
            flash(_("已保存 %(n)s 项。", n=saved), "success")
            return redirect(url_for(".index", **selection.args()))
        statuses = {f.status for f in feedback.values()}
        status = 403 if "refused" in statuses else 409 if "conflict" in statuses else 422
        summary = _summary(feedback)
        return self._render(selection, feedback=feedback, grid_summary=summary), status

    @expose("/adjustment", methods=["POST"])
    def add_adjustment(self):
        selection = self._unit_selection()
        form = AdjustmentForm()
        if not form.validate_on_submit():
            return self._refused_item(_("加减分未添加"), form_errors(form), selection)
        try:
            adjustment = ledger.add_adjustment(
                _actor(),
                selection.period,
                selection.unit,
                form.kind.data,
                form.points.data,
                form.reason.data,
            )
        except ServiceError as error:
            return self._refused_item(_("加减分未添加"), [error.message], selection)
        flash(
            _(
                "已为%(unit)s添加%(kind)s %(points)s 分。",
                unit=selection.unit.name,
                kind=ADJUSTMENT_KINDS[form.kind.data],
                points=plain(adjustment.points),
            ),
            "success",
        )
        return redirect(url_for(".index", **selection.args()))

    @expose("/adjustment/<int:adjustment_id>/remove", methods=["POST"])
    def remove_adjustment(self, adjustment_id: int):
        adjustment = db.session.get(Adjustment, adjustment_id) or abort(404)
        selection = self._item_selection(adjustment)
        form = ReasonForm()
        if not form.validate_on_submit():
            return self._refused_item(_("加减分未删除"), form_errors(form), selection)
        try:
            ledger.remove_adjustment(_actor(), adjustment, form.reason.data)
        except ServiceError as error:
            return self._refused_item(_("加减分未删除"), [error.message], selection)
        flash(_("已删除该加减分项。"), "success")
        return redirect(url_for(".index", **selection.args()))

    @expose("/veto", methods=["POST"])
    def set_veto(self):
        selection = self._unit_selection()
        form = VetoForm()
        if not form.validate_on_submit():
            return self._refused_item(_("一票否决未登记"), form_errors(form), selection)
        try:
            ledger.set_veto(_actor(), selection.period, selection.unit, form.reason.data)
        except ServiceError as error:
            return self._refused_item(_("一票否决未登记"), [error.message], selection)
        flash(_("已对%(unit)s登记一票否决。", unit=selection.unit.name), "success")
        return redirect(url_for(".index", **selection.args()))

    @expose("/veto/<int:veto_id>/remove", methods=["POST"])
    def remove_veto(self, veto_id: int):
        veto = db.session.get(Veto, veto_id) or abort(404)
        selection = self._item_selection(veto)
        form = ReasonForm()
        if not form.validate_on_submit():
            return self._refused_item(_("一票否决未撤销"), form_errors(form), selection)
        try:
            ledger.remove_veto(_actor(), veto, form.reason.data)
        except ServiceError as error:
            return self._refused_item(_("一票否决未撤销"), [error.message], selection)
        flash(_("已撤销一票否决。"), "success")
        return redirect(url_for(".index", **selection.args()))

    @expose("/workflow/<action>", methods=["POST"])
    def workflow(self, action: str):
        if action not in PERIOD_WORKFLOW:
            abort(404)
        selection = _selection(request.form)
        if selection.period is None:
            abort(404)
        problem = take_step(action, selection.period)
        if problem is not None:
            return self._render(selection, workflow_problem=problem), problem["status"]
        return redirect(url_for(".index", **selection.args()))

    # --------------------------------------------------------------- helpers

    def _unit_selection(self) -> Selection:
        selection = _selection(request.form)
        if selection.period is None or selection.unit is None:
            abort(404)
        return selection

    def _item_selection(self, item) -> Selection:
        """Return to the unit view of an adjustment's or veto's unit."""
        level = item.unit.level
        if level == "village" and item.period.village_scheme_id is None:
            level = "town"
        return Selection(period=item.period, level=level, unit=item.unit)

    def _refused_item(self, title: str, messages: list[str], selection: Selection):
        flash(f"{title}：" + "；".join(messages), "error")
        return redirect(url_for(".index", **selection.args()))

    def _save_cells(self, period: Period, cells: list[CellInput], clear_reason: str) -> dict:
        """Save each changed cell as its own change; return what happened per cell.

        ``clear_reason`` is the one reason given for every saved value this save clears.
        """
        actor = _actor()
        units = {
            u.code: u
            for u in db.session.scalars(select(Unit).where(Unit.code.in_({c.unit for c in cells})))
        }
        feedback: dict[tuple[str, str], CellFeedback] = {}
        for cell in cells:
            key = (cell.unit, cell.indicator)
            unit = units.get(cell.unit)
            indicator = _cell_indicator(period, unit, cell.indicator)
            if unit is None or indicator is None:
                feedback[key] = CellFeedback(
                    "invalid", _("单位或指标不存在"), cell.value, cell.note
                )
                continue
            try:
                if cell.value == "":
                    feedback[key] = self._clear_cell(
                        actor, period, unit, indicator, cell, clear_reason
                    )
                    continue
                ledger.set_score(
                    actor,
                    period,
                    unit,
                    indicator,
                    cell.value,
                    note=cell.note,
                    version=cell.version,
                )
                feedback[key] = CellFeedback("saved", _("已保存"))
            except Conflict as error:
                feedback[key] = CellFeedback("conflict", _conflict_message(error, cell))
            except InvalidInput as error:
                feedback[key] = CellFeedback(
                    "invalid", _invalid_message(error), cell.value, cell.note
                )
            except (Forbidden, StateError, NotFound) as error:
                feedback[key] = CellFeedback("refused", error.message, cell.value, cell.note)
            finally:
                # A refused write rolled back; drop stale objects before the next cell.
                db.session.expire_all()
        return feedback

    def _clear_cell(self, actor, period, unit, indicator, cell, reason: str) -> CellFeedback:
        score = db.session.scalar(
            select(Score).where(
                Score.period_id == period.id,
                Score.unit_id == unit.id,
                Score.indicator_id == indicator.id,
            )
        )
        if score is None:
            if cell.version is not None:
                return CellFeedback(
                    "conflict", _("未清除：该值已被他人清除，请刷新后核对。"), cell.value, cell.note
                )
            return CellFeedback("invalid", _("请先填写数值再填写备注"), cell.value, cell.note)
        if cell.version is None:
            raise Conflict(
                _("该值已被他人录入"),
                details={
                    "value": score.value,
                    "version": score.version,
                    "entered_by": score.entered_by,
                    "updated_at": score.updated_at,
                },
            )
        ledger.clear_score(actor, score, version=cell.version, reason=reason)
        return CellFeedback("saved", _("已清除"))

    def _render(
        self,
        selection: Selection,
        *,
        feedback: dict | None = None,
        grid_summary: list[tuple[str, str]] | None = None,
        workflow_problem: dict | None = None,
    ):
        context: dict = {
            "selection": selection,
            "periods": list(
                db.session.scalars(
                    select(Period).order_by(Period.start_date.desc(), Period.id.desc())
                )
            ),
            "levels": LEVELS,
            "methods": METHODS,
            "directions": DIRECTIONS,
            "adjustment_kinds": ADJUSTMENT_KINDS,
            "grid_summary": grid_summary or [],
            "workflow_problem": workflow_problem,
            "allowed_text": values.allowed_text,
        }
        if selection.period is None:
            return self.render("admin/entry.html", **context)
        period = selection.period
        scheme = selection.scheme
        units = reading.level_units(selection.level)
        indicators = _indicators(scheme)
        progress = _progress(selection, units, indicators)
        can_write = can(current_user, "score.write")
        town_names = {}
        if selection.level == "village":
            # A village's name alone is ambiguous across towns; one query, not one per row.
            town_names = dict(
                db.session.execute(select(Unit.id, Unit.name).where(Unit.level == "town")).all()
            )
        context.update(
            scheme=scheme,
            units=units,
            town_names=town_names,
            indicators=indicators,
            progress=progress,
            can_write=can_write,
            editable=can_write and period.status == PeriodStatus.OPEN,
            workflow=self._workflow_context(period),
        )
        feedback = feedback or {}
        rows: list[Row] = []
        unit_pages = 1
        if selection.unit is not None:
            scores = {
                s.indicator_id: s
                for s in db.session.scalars(
                    select(Score).where(
                        Score.period_id == period.id, Score.unit_id == selection.unit.id
                    )
                )
            }
            rows = [
                Row(i, selection.unit, indicator, scores.get(indicator.id))
                for i, indicator in enumerate(indicators)
            ]
        elif selection.indicator is not None:
            unit_pages = max(1, -(-len(units) // UNITS_PER_PAGE))
            selection.page = min(selection.page, unit_pages)
            start = (selection.page - 1) * UNITS_PER_PAGE
            page_units = units[start : start + UNITS_PER_PAGE]
            scores = {
                s.unit_id: s
                for s in db.session.scalars(
                    select(Score).where(
                        Score.period_id == period.id,
                        Score.indicator_id == selection.indicator.id,
                        Score.unit_id.in_([u.id for u in page_units]),
                    )
                )
            }
            rows = [
                Row(i, unit, selection.indicator, scores.get(unit.id))
                for i, unit in enumerate(page_units)
            ]
        computed, computed_problem, from_snapshot = ({}, None, False)
        if rows or selection.unit is not None:
            computed, computed_problem, from_snapshot = _computed(selection)
        for row in rows:
            result = computed.get(row.unit.code)
            if result is not None and row.score is not None:
                row.points = result["indicators"].get(row.indicator.code)
            row.feedback = feedback.get((row.unit.code, row.indicator.code))
        if selection.unit is not None:
            groups = [
                (dimension, [r for r in rows if r.indicator.dimension_id == dimension.id])
                for dimension in scheme.dimensions
            ]
        else:
            groups = [(None, rows)] if rows else []
        context.update(
            rows=rows,
            groups=groups,
            unit_pages=unit_pages,
            computed_problem=computed_problem,
            from_snapshot=from_snapshot,
            unit_result=computed.get(selection.unit.code) if selection.unit else None,
            people=display_names(
                [r.score.entered_by for r in rows if r.score is not None]
                + [period.submitted_by, period.approved_by]
                + [snapshot.created_by for snapshot in context["workflow"]["snapshots"]]
                + [returned.actor if (returned := context["workflow"]["returned"]) else None]
            ),
            local_when=_when,
        )
        if selection.unit is not None:
            context.update(self._unit_items(period, selection.unit))
        return self.render("admin/entry.html", **context)

    def _unit_items(self, period: Period, unit: Unit) -> dict:
        adjustments = list(
            db.session.scalars(
                select(Adjustment)
                .where(Adjustment.period_id == period.id, Adjustment.unit_id == unit.id)
                .order_by(Adjustment.id)
            )
        )
        veto = db.session.scalar(
            select(Veto).where(Veto.period_id == period.id, Veto.unit_id == unit.id)
        )
        item_people = display_names(
            [a.entered_by for a in adjustments] + ([veto.entered_by] if veto else [])
        )
        return {
            "adjustments": adjustments,
            "veto": veto,
            "item_people": item_people,
        }

    def _workflow_context(self, period: Period) -> dict:
        buttons = workflow_buttons(period)
        # Newest first, the town ranking before the village one.
        snapshots = sorted(
            db.session.scalars(
                select(RankingSnapshot)
                .where(RankingSnapshot.period_id == period.id)
                .order_by(RankingSnapshot.id.desc())
            ),
            key=lambda snapshot: snapshot.level != "town",
        )
        return {
            "buttons": buttons,
            "returned": periods.return_note(period),
            "snapshots": [s for s in snapshots if not s.superseded],
            "superseded": [s for s in snapshots if s.superseded],
        }


def _cell_indicator(period: Period, unit: Unit | None, code: str) -> Indicator | None:
    if unit is None:
        return None
    scheme = period.scheme_for(unit.level)
    if scheme is None:
        return None
    return db.session.scalar(
        select(Indicator).where(Indicator.scheme_id == scheme.id, Indicator.code == code)
    )


def _conflict_message(error: Conflict, cell: CellInput) -> str:
    details = error.details if isinstance(error.details, dict) else {}
    current = details.get("value")
    current_text = _("（空）") if current in (None, "") else str(current)
    username = details.get("entered_by") or ""
    display = display_names([username]).get(username, "")
    who = f"{display}（{username}）" if display and display != username else username or _("他人")
    when = _when(details.get("updated_at"))
    typed = cell.value if cell.value else _("（清空）")
    return _(
        "未保存：该值已被 %(who)s 于 %(when)s 改为 %(current)s，"
        "您提交的 %(typed)s 没有覆盖它。请核对后重新填写。",
        who=who,
        when=when or "—",
        current=current_text,
        typed=typed,
    )


def _invalid_message(error: InvalidInput) -> str:
    details = error.details
    if isinstance(details, list) and details:
        extra = [d.get("message", "") if isinstance(d, dict) else str(d) for d in details]
        extra = [m for m in extra if m and m != error.message]
        if extra:
            return f"{error.message}：{'；'.join(extra)}"
    return error.message


def _summary(feedback: dict) -> list[tuple[str, str]]:
    """Say per outcome how many cells it hit, problems first: ``[(alert class, text)]``."""
    counts: dict[str, int] = {}
    for item in feedback.values():
        counts[item.status] = counts.get(item.status, 0) + 1
    lines = {
        "refused": ("danger", _l("%(n)s 项被拒绝，未保存（见标红的单元格）")),
        "conflict": ("warning", _l("%(n)s 项已被他人修改，未保存（见标黄的单元格，已显示当前值）")),
        "invalid": ("danger", _l("%(n)s 项数值有误，未保存（见标红的单元格）")),
        "saved": ("success", _l("已保存 %(n)s 项")),
    }
    return [
        (css, str(text) % {"n": counts[status]})
        for status, (css, text) in lines.items()
        if status in counts
    ]

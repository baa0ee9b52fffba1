"""The 容错纠错 page (docs/publication.md#tolerance): ``/admin/tolerance/``.

A period's cases (a reporter: its own town's), the application form (a reporter for its
town, an admin on a town's behalf), the assessor's findings, the supervisor's
determination, a town's history of cases (``town/<code>``) and, for the admin, the list
of situations. The rules are in ``tolerance.operations``.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from evaluation.admin.access import AccessMixin
from evaluation.core.permissions import can
from evaluation.core.states import PeriodStatus
from evaluation.core.writing import ServiceError
from evaluation.publication import evidence
from evaluation.publication.operations import own_unit_id
from evaluation.tolerance import operations as tolerance
from models import Adjustment, Period, ToleranceCase, Unit, Veto, db


def _periods() -> list[Period]:
    return list(
        db.session.scalars(
            select(Period)
            .where(Period.status != PeriodStatus.DRAFT)
            .order_by(Period.end_date.desc(), Period.id.desc())
        )
    )


def _period(periods: list[Period]) -> Period | None:
    code = request.values.get("period", "").strip()
    if code:
        if "\x00" in code:
            abort(404)
        period = db.session.scalar(select(Period).where(Period.code == code))
        if period is None:
            abort(404)
        return period
    live = [p for p in periods if p.status in (PeriodStatus.OPEN, PeriodStatus.SUBMITTED)]
    return (live or periods or [None])[0]


def _targets(period: Period, unit_id: int | None) -> list[dict]:
    """The penalty items and vetoes a case may be against (one town's for a reporter)."""
    penalties = select(Adjustment).where(
        Adjustment.period_id == period.id, Adjustment.kind == "penalty"
    )
    vetoes = select(Veto).where(Veto.period_id == period.id)
    if unit_id is not None:
        penalties = penalties.where(Adjustment.unit_id == unit_id)
        vetoes = vetoes.where(Veto.unit_id == unit_id)
    items = [
        {
            "value": f"{a.unit.code}:adjustment:{a.id}",
            "label": f"{a.unit.name} · 减分 {a.points}：{a.reason}",
        }
        for a in db.session.scalars(penalties.order_by(Adjustment.id))
    ]
    items += [
        {"value": f"{v.unit.code}:veto:", "label": f"{v.unit.name} · 一票否决：{v.reason}"}
        for v in db.session.scalars(vetoes.order_by(Veto.id))
    ]
    return items


class ToleranceView(AccessMixin, BaseView):
    """容错纠错."""

    permission = "tolerance.view"

    def _unit_filter(self) -> int | None:
        if current_user.role == "reporter":
            return own_unit_id(current_user) or -1
        return None

    def _page(self, period: Period | None, status: int = 200):
        periods = _periods()
        unit_id = self._unit_filter()
        cases = tolerance.period_cases(period, unit_id) if period is not None else []
        may_apply = (
            period is not None
            and can(current_user, "tolerance.apply")
            and period.status in (PeriodStatus.OPEN, PeriodStatus.SUBMITTED)
        )
        return self.render(
            "tolerance/index.html",
            periods=periods,
            period=period,
            cases=cases,
            targets=_targets(period, unit_id) if may_apply else [],
            may_apply=may_apply,
            situations=tolerance.situations(),
            files=evidence.files_of("tolerance_case", [c.id for c in cases]),
            can=can,
        ), status

    @expose("/")
    def index(self):
        return self._page(_period(_periods()))

    def _after(self, period, done: str | None, error: ServiceError | None):
        if error is not None:
            flash(error.message, "error")
            return self._page(period, error.status)
        flash(done, "success")
        return redirect(url_for(".index", period=period.code), code=303)

    @expose("/apply", methods=["POST"])
    def apply(self):
        period = _period([])
        if period is None:
            abort(404)
        unit_code, target, key = (request.form.get("target", "").split(":") + ["", "", ""])[:3]
        unit = (
            None
            if "\x00" in unit_code
            else db.session.scalar(select(Unit).where(Unit.code == unit_code))
        )
        if unit is None:
            abort(404)
        try:
            case = tolerance.apply(
                current_user, period, unit, target, key or None,
                request.form.get("situation"), request.form.get("grounds"),
                request.files.getlist("evidence"),
            )  # fmt: skip
        except ServiceError as error:
            return self._after(period, None, error)
        return self._after(period, f"已提交容错纠错申请（第 {case.id} 号）。", None)

    def _case(self, case_id: int) -> ToleranceCase:
        case = db.session.get(ToleranceCase, case_id) if case_id < 2**63 else None
        if case is None:
            abort(404)
        return case

    @expose("/<int:case_id>/findings", methods=["POST"])
    def findings(self, case_id: int):
        case = self._case(case_id)
        try:
            tolerance.add_findings(current_user, case, request.form.get("findings"))
        except ServiceError as error:
            return self._after(case.period, None, error)
        return self._after(case.period, f"已记录第 {case.id} 号申请的核实情况。", None)

    @expose("/<int:case_id>/determination", methods=["POST"])
    def determination(self, case_id: int):
        case = self._case(case_id)
        try:
            tolerance.determine(
                current_user, case, request.form.get("decision", ""), request.form.get("reason")
            )
        except ServiceError as error:
            return self._after(case.period, None, error)
        return self._after(case.period, f"已认定第 {case.id} 号申请：{case.status_name}。", None)

    @expose("/situations", methods=["POST"])
    def situations(self):
        try:
            tolerance.set_situations(current_user, request.form.get("situations", ""))
        except ServiceError as error:
            flash(error.message, "error")
            return self._page(_period(_periods()), error.status)
        flash("已更新容错情形。", "success")
        return redirect(url_for(".index"), code=303)

    @expose("/town/<code>")
    def town(self, code: str):
        if "\x00" in code:
            abort(404)
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            abort(404)
        own = self._unit_filter()
        if own is not None and own != unit.id:
            abort(403)
        cases = tolerance.town_cases(unit)
        return self.render(
            "tolerance/town.html",
            unit=unit,
            cases=cases,
            files=evidence.files_of("tolerance_case", [c.id for c in cases]),
            can=can,
        )


def register(admin, category) -> None:
    """Add the 容错纠错 page to the admin menu (under ``category``)."""
    admin.add_view(
        ToleranceView(
            name=_l("容错纠错"), category=category, endpoint="tolerance", url="/admin/tolerance"
        )
    )

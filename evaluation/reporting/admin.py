"""镇街报送 pages (docs/reporting.md#pages): the reporter's own town (自评 with evidence,
submit) and the assessors' verification (核实认定). Every write goes through
``reporting.operations``; a refusal comes back as a message on the page.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from evaluation.admin.access import AccessMixin
from evaluation.core.dates import parse_date
from evaluation.core.periods import default_period, periods_in_order
from evaluation.core.permissions import can, reporter_unit
from evaluation.core.states import CLAIM_WORKFLOW, ClaimStatus, TownReportingState
from evaluation.core.writing import ServiceError
from evaluation.reporting import operations as reporting
from evaluation.reporting import pages
from models import Indicator, Period, Unit, db

#: The colour of each reporting state (Bootstrap badges): the dashboard uses them too.
STATE_BADGES = {
    TownReportingState.NOT_STARTED: "secondary",
    TownReportingState.IN_PROGRESS: "info",
    TownReportingState.SUBMITTED: "success",
    TownReportingState.OVERDUE: "danger",
}
CLAIM_BADGES = {
    ClaimStatus.DRAFT: "secondary",
    ClaimStatus.SUBMITTED: "primary",
    ClaimStatus.ACCEPTED: "success",
    ClaimStatus.ADJUSTED: "warning",
    ClaimStatus.RETURNED: "danger",
}


def _period(code: str | None) -> Period | None:
    code = (code or "").strip()
    if code:
        period = db.session.scalar(select(Period).where(Period.code == code))
        if period is None:
            abort(404)
        return period
    return default_period("reporting")


def _indicator(period: Period, code: str) -> Indicator:
    indicator = db.session.scalar(
        select(Indicator).where(
            Indicator.scheme_id == period.town_scheme_id, Indicator.code == (code or "").strip()
        )
    )
    if indicator is None:
        abort(404)
    return indicator


def _unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == (code or "").strip()))
    if unit is None:
        abort(404)
    return unit


def _refused(error: ServiceError) -> None:
    message = error.message
    if isinstance(error, ServiceError) and isinstance(error.details, list) and error.details:
        listed = "；".join(d.get("message", "") for d in error.details if d.get("message"))
        if listed and listed not in message:
            message = f"{message}（{listed}）"
    flash(message, "danger")


class ReportingView(AccessMixin, BaseView):
    """The reporter's own town: one card per indicator (claimed value, statement, the
    evidence it requires and has), days left, submit. Phone first (390 px)."""

    permission = "claim.write"

    def _town(self) -> Unit:
        unit_id = reporter_unit(current_user)
        unit = db.session.get(Unit, unit_id) if unit_id is not None else None
        if unit is None:
            abort(403)
        return unit

    def _back(self, period: Period, anchor: str = ""):
        target = url_for(".index", period=period.code)
        return redirect(f"{target}#{anchor}" if anchor else target, code=303)

    @expose("/")
    def index(self):
        unit = self._town()
        period = _period(request.args.get("period"))
        sheet = pages.town_sheet(period, unit) if period is not None else None
        return self.render(
            "reporting/town.html",
            unit=unit,
            period=period,
            periods=[p for p in periods_in_order("reporting")],
            sheet=sheet,
            days_left=reporting.days_left(period, unit) if period is not None else None,
            due=reporting.due_for(period, unit) if period is not None else None,
            state_badges=STATE_BADGES,
            claim_badges=CLAIM_BADGES,
        )

    @expose("/save", methods=("POST",))
    def save(self):
        unit = self._town()
        period = _period(request.form.get("period"))
        if period is None:
            abort(404)
        indicator = _indicator(period, request.form.get("indicator"))
        version = request.form.get("version", "").strip()
        try:
            reporting.save_claim(
                current_user,
                period,
                unit,
                indicator,
                request.form.get("value", ""),
                request.form.get("statement", ""),
                version=int(version) if version.isdigit() else None,
            )
        except ServiceError as error:
            _refused(error)
        else:
            flash(
                _("已保存 %(code)s %(name)s 的自评", code=indicator.code, name=indicator.name),
                "success",
            )
        return self._back(period, f"claim-{indicator.code}")

    @expose("/evidence", methods=("POST",))
    def evidence(self):
        unit = self._town()
        period = _period(request.form.get("period"))
        if period is None:
            abort(404)
        indicator = _indicator(period, request.form.get("indicator"))
        try:
            reporting.attach_evidence(
                current_user, period, unit, indicator, request.files.get("file")
            )
        except ServiceError as error:
            _refused(error)
        else:
            flash(_("已上传 %(code)s 的佐证材料", code=indicator.code), "success")
        return self._back(period, f"claim-{indicator.code}")

    @expose("/submit", methods=("POST",))
    def submit(self):
        unit = self._town()
        period = _period(request.form.get("period"))
        if period is None:
            abort(404)
        try:
            sent = reporting.submit_town(current_user, period, unit)
        except ServiceError as error:
            _refused(error)
        else:
            flash(_("已报送 %(n)s 项自评，等待考核组核实", n=len(sent)), "success")
        return self._back(period)


class VerificationView(AccessMixin, BaseView):
    """自评核实: per town and indicator the claimed value, its evidence, the assessed
    value and the gap; accept / adjust / return, bulk accept, reopen an overdue town."""

    permission = "claim.review"

    @expose("/")
    def index(self):
        period = _period(request.args.get("period"))
        page = request.args.get("page", "1")
        data = None
        if period is not None:
            data = pages.verification(
                period,
                query=request.args.get("q", ""),
                state=request.args.get("state", ""),
                page=int(page) if page.isdigit() else 1,
            )
        return self.render(
            "reporting/verify.html",
            period=period,
            periods=periods_in_order("reporting"),
            data=data,
            may_verify=can(current_user, "claim.verify"),
            states=TownReportingState,
            state_badges=STATE_BADGES,
            claim_badges=CLAIM_BADGES,
            workflow=CLAIM_WORKFLOW,
        )

    def _back(self, period: Period, unit: Unit | None = None):
        args = {k: v for k, v in request.form.items() if k in ("q", "state", "page") and v}
        target = url_for(".index", period=period.code, **args)
        return redirect(f"{target}#town-{unit.code}" if unit else target, code=303)

    @expose("/verdict", methods=("POST",))
    def verdict(self):
        period = _period(request.form.get("period"))
        if period is None:
            abort(404)
        unit = _unit(request.form.get("unit"))
        indicator = _indicator(period, request.form.get("indicator"))
        decision = request.form.get("decision", "")
        version = request.form.get("version", "").strip()
        try:
            reporting.verdict(
                current_user,
                period,
                unit,
                indicator,
                decision,
                value=request.form.get("value"),
                reason=request.form.get("reason", ""),
                version=int(version) if version.isdigit() else None,
            )
        except ServiceError as error:
            _refused(error)
        else:
            step = CLAIM_WORKFLOW[decision]
            flash(
                _(
                    "%(town)s %(code)s：%(step)s",
                    town=unit.name,
                    code=indicator.code,
                    step=step.label,
                ),
                "success",
            )
        return self._back(period, unit)

    @expose("/bulk", methods=("POST",))
    def bulk(self):
        period = _period(request.form.get("period"))
        if period is None:
            abort(404)
        unit = _unit(request.form.get("unit"))
        try:
            accepted = reporting.bulk_accept(current_user, period, unit)
        except ServiceError as error:
            _refused(error)
        else:
            flash(_("%(town)s：已采纳 %(n)s 项自评", town=unit.name, n=len(accepted)), "success")
        return self._back(period, unit)

    @expose("/reopen", methods=("POST",))
    def reopen(self):
        period = _period(request.form.get("period"))
        if period is None:
            abort(404)
        unit = _unit(request.form.get("unit"))
        until_text = request.form.get("until", "").strip()
        until = parse_date(until_text) if until_text else None
        if until_text and until is None:
            flash(_("日期格式不正确，请写成 2026-10-08"), "danger")
            return self._back(period, unit)
        try:
            reporting.reopen_reporting(
                current_user, period, unit, request.form.get("reason", ""), until
            )
        except ServiceError as error:
            _refused(error)
        else:
            flash(_("已重新开放 %(town)s 的报送", town=unit.name), "success")
        return self._back(period, unit)


def register(admin, category) -> None:
    admin.add_view(
        ReportingView(
            name=_l("镇街报送"), category=category, endpoint="reporting", url="/admin/reporting"
        )
    )
    admin.add_view(
        VerificationView(
            name=_l("自评核实"),
            category=category,
            endpoint="verification",
            url="/admin/verification",
        )
    )

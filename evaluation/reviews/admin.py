"""The typical-village review board (研判看板, docs/rules.md#review-flags,
docs/architecture.md#pages-and-doors ``/admin/review/``).

Every typical village shows, flagged or clear, with the flags the engine computes for
the period. A reviewer sees their own analysis group's villages only: the query is
scoped (``reviews.operations.scope_villages``), not just the template.
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from evaluation.admin.access import AccessMixin
from evaluation.admin.dashboard import display_names
from evaluation.core.periods import default_period
from evaluation.core.permissions import can
from evaluation.core.states import PeriodStatus, ReviewCaseStatus
from evaluation.core.writing import ServiceError
from evaluation.evidence import operations as evidence
from evaluation.i18n import SHANGHAI
from evaluation.periods import operations as period_service
from evaluation.ranking import reading
from evaluation.reviews import operations as reviews
from evaluation.web import int_arg
from forms.reviews import CloseCaseForm, OpenCasesForm, ReviewForm
from models import AnalysisGroup, Period, ReviewCase, ReviewRecord, Unit, db
from models.reviews import PRIORITIES, REASONS

BATCHES = {1: "第一批", 2: "第二批"}
#: Board order: the most urgent first; clear villages last.
PRIORITY_ORDER = {"high": 0, "medium": 1, "low": 2, None: 3}


def chosen_period(code: str | None) -> Period | None:
    """Return the period named in the request, or the default one."""
    if code:
        period = db.session.scalar(select(Period).where(Period.code == code))
        if period is None:
            abort(404)
        return period
    return default_period("review")


def listed_periods() -> list[Period]:
    return list(
        db.session.scalars(
            select(Period)
            .where(Period.status != PeriodStatus.DRAFT)
            .order_by(Period.end_date.desc())
        )
    )


def period_flags(period: Period | None) -> tuple[dict[str, dict], str | None]:
    """Return the period's flags by village code, and a message when they cannot be computed."""
    if period is None:
        return {}, None
    try:
        answer = reading.flags(period)
    except ServiceError as error:
        return {}, error.message
    return {flag["unit"]: flag for flag in answer["flags"]}, None


def last_reviews(unit_ids: list[int], until=None) -> dict[int, object]:
    """Return each village's latest review date, on or before ``until`` when given."""
    if not unit_ids:
        return {}
    query = select(ReviewRecord.unit_id, func.max(ReviewRecord.date)).where(
        ReviewRecord.unit_id.in_(unit_ids)
    )
    if until is not None:
        query = query.where(ReviewRecord.date <= until)
    return dict(db.session.execute(query.group_by(ReviewRecord.unit_id)).all())


class ReviewBoardView(AccessMixin, BaseView):
    permission = "review.view"

    def _render(self, template: str, **context):
        return self.render(
            template,
            batches=BATCHES,
            reasons=REASONS,
            priorities=PRIORITIES,
            case_statuses=ReviewCaseStatus.labels(),
            can_view_cadres=can(current_user, "cadre.view"),
            **context,
        )

    @expose("/")
    def index(self):
        period = chosen_period(request.args.get("period"))
        group_id = int_arg("group")
        batch = int_arg("batch")
        order = request.args.get("order", "priority")

        query = reviews.scope_villages(select(Unit), current_user).options(
            selectinload(Unit.parent),
            selectinload(Unit.analysis_group),
            selectinload(Unit.secretary),
        )
        if group_id is not None:
            query = query.where(Unit.analysis_group_id == group_id)
        if batch in BATCHES:
            query = query.where(Unit.typical_batch == batch)
        villages = list(
            db.session.scalars(query.order_by(Unit.typical_batch, Unit.sort_order, Unit.code))
        )

        flags, flag_error = period_flags(period)
        cases: dict[int, ReviewCase] = {}
        if period is not None and villages:
            cases = {
                case.unit_id: case
                for case in db.session.scalars(
                    select(ReviewCase).where(
                        ReviewCase.period_id == period.id,
                        ReviewCase.unit_id.in_([v.id for v in villages]),
                    )
                )
            }
        # The flags judge the period by the reviews up to its end (docs/rules.md#review-flags); a
        # later visit
        # is shown beside it so the board does not seem to contradict itself.
        ids = [v.id for v in villages]
        latest = last_reviews(ids)
        reviewed = last_reviews(ids, period.end_date) if period is not None else latest
        rows = [
            {
                "village": village,
                "flag": flags.get(village.code),
                "case": cases.get(village.id),
                "last_review": reviewed.get(village.id),
                "later_review": (
                    latest.get(village.id)
                    if latest.get(village.id) != reviewed.get(village.id)
                    else None
                ),
            }
            for village in villages
        ]
        if order == "priority":
            rows.sort(
                key=lambda r: PRIORITY_ORDER.get(r["flag"]["priority"] if r["flag"] else None, 3)
            )
        flagged = [r for r in rows if r["flag"] and r["flag"]["flagged"]]
        summary = {
            "villages": len(rows),
            "flagged": len(flagged),
            "high": sum(1 for r in flagged if r["flag"]["priority"] == "high"),
            "medium": sum(1 for r in flagged if r["flag"]["priority"] == "medium"),
            "low": sum(1 for r in flagged if r["flag"]["priority"] == "low"),
            "open_cases": sum(1 for r in rows if r["case"] and r["case"].status == "open"),
        }
        # Supervisors turn the flags into cases; only flagged villages without one are left.
        uncased = [r for r in flagged if r["case"] is None]
        may_open = period is not None and bool(uncased) and can(current_user, "review.sync")
        groups_query = select(AnalysisGroup).order_by(AnalysisGroup.name)
        if not reviews.sees_all_groups(current_user):
            groups_query = groups_query.where(
                AnalysisGroup.id == (getattr(current_user, "group_id", None) or -1)
            )
        return self._render(
            "admin/review.html",
            period=period,
            periods=listed_periods(),
            rows=rows,
            summary=summary,
            flag_error=flag_error,
            groups=list(db.session.scalars(groups_query)),
            group_id=group_id,
            batch=batch,
            order=order,
            may_open=may_open,
            uncased=len(uncased),
            open_form=OpenCasesForm(period=period.code if period else ""),
            scoped_group=None if reviews.sees_all_groups(current_user) else current_user.group,
        )

    @expose("/open-cases", methods=["POST"])
    def open_cases(self):
        form = OpenCasesForm()
        period = chosen_period(form.period.data)
        if period is None or not form.validate_on_submit():
            abort(400)
        try:
            summary = period_service.sync_review_cases(current_user, period)
        except ServiceError as error:
            if error.status == 403:
                abort(403)
            flash(error.message, "error")
        else:
            flash(
                f"已生成 {len(summary['opened'])} 个研判任务，更新 {len(summary['updated'])} 个",
                "success",
            )
        return redirect(url_for(".index", period=period.code))

    def _village_or_404(self, unit_id: int) -> Unit:
        unit = db.session.get(Unit, unit_id)
        if unit is None or unit.level != "village" or unit.typical_batch is None:
            abort(404)
        return unit

    def _render_village(
        self,
        unit: Unit,
        period: Period | None,
        *,
        review_form=None,
        close_form=None,
        status: int = 200,
    ):
        if not reviews.may_see_village(current_user, unit):
            abort(403)
        flags, flag_error = period_flags(period)
        case = reviews.case_for(period, unit) if period is not None else None
        records = list(
            db.session.scalars(
                select(ReviewRecord)
                .where(ReviewRecord.unit_id == unit.id)
                .options(selectinload(ReviewRecord.case).selectinload(ReviewCase.period))
                .order_by(ReviewRecord.date.desc(), ReviewRecord.id.desc())
            )
        )
        cases = list(
            db.session.scalars(
                select(ReviewCase)
                .join(Period, Period.id == ReviewCase.period_id)
                .where(ReviewCase.unit_id == unit.id)
                .order_by(Period.end_date.desc())
            )
        )
        if review_form is None:
            review_form = ReviewForm(
                period=period.code if period else "", date=datetime.now(SHANGHAI).date()
            )
        # The case a new visit would answer (as reviews.record_review finds it), and the
        # older open cases it may settle.
        answered = case or next((c for c in cases if c.status == ReviewCaseStatus.OPEN), None)
        people = display_names(
            [r.recorded_by for r in records] + [c.closed_by for c in cases if c.closed_by]
        )
        return self._render(
            "admin/review_village.html",
            village=unit,
            period=period,
            periods=listed_periods(),
            flag=flags.get(unit.code),
            flag_error=flag_error,
            case=case,
            close_reason=reviews.close_reason(case) if case is not None else None,
            cases=cases,
            records=records,
            # 佐证材料 of each visit (docs/evidence.md#the-partial)
            record_files=evidence.evidence_for_many("review_record", [r.id for r in records]),
            may_review=reviews.may_review(current_user, unit),
            review_form=review_form,
            close_form=close_form or CloseCaseForm(),
            older_cases=reviews.older_open_cases(unit, answered),
            people=people,
        ), status

    @expose("/village/<int:unit_id>")
    def village(self, unit_id: int):
        unit = self._village_or_404(unit_id)
        return self._render_village(unit, chosen_period(request.args.get("period")))

    @expose("/village/<int:unit_id>/record", methods=["POST"])
    def record(self, unit_id: int):
        unit = self._village_or_404(unit_id)
        form = ReviewForm()
        period = chosen_period(form.period.data)
        status = 422
        if form.validate_on_submit():
            try:
                reviews.record_review(
                    current_user,
                    unit,
                    period=period,
                    date=form.date.data,
                    visitors=form.visitors.data,
                    findings=form.findings.data,
                    conclusion=form.conclusion.data,
                    actions=form.actions.data or "",
                    next_visit=form.next_visit.data,
                    close_older=bool(form.close_older.data),
                )
            except ServiceError as error:
                if not reviews.may_see_village(current_user, unit):
                    abort(error.status)
                flash(error.message, "error")
                status = error.status
            else:
                flash(f"已记录 {unit.name} 的研判", "success")
                return redirect(
                    url_for(".village", unit_id=unit.id, period=period.code if period else None)
                )
        return self._render_village(unit, period, review_form=form, status=status)

    @expose("/case/<int:case_id>/close", methods=["POST"])
    def close(self, case_id: int):
        case = db.session.get(ReviewCase, case_id)
        if case is None:
            abort(404)
        unit, period = case.unit, case.period
        form = CloseCaseForm()
        status = 422
        if form.validate_on_submit():
            try:
                reviews.close_case(current_user, case, form.reason.data)
            except ServiceError as error:
                if not reviews.may_see_village(current_user, unit):
                    abort(error.status)
                flash(error.message, "error")
                status = error.status
            else:
                flash(f"{unit.name} 的研判任务已办结", "success")
                return redirect(url_for(".village", unit_id=unit.id, period=period.code))
        return self._render_village(unit, period, close_form=form, status=status)

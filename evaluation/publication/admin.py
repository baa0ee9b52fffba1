"""The 公示 page (docs/publication.md#pages): ``/admin/publication/``.

- a supervisor sets the window of a submitted period;
- every staff role sees the window, what still blocks approval, the objections (the
  assessor answers them) and the district's figures;
- a town's reporter sees its own figures (and the district ranking when shown) and
  objects to an item, with a photo or a document as evidence;
- ``sheet`` / ``sheet.pdf``: the 公示表 on A4 and as PDF, with the snapshot-to-be hash.

The view reads the request and calls ``publication.operations``; the role and state rules
are there.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from evaluation.admin.access import AccessMixin
from evaluation.core.downloads import content_disposition
from evaluation.core.permissions import can
from evaluation.core.states import PeriodStatus
from evaluation.core.writing import ServiceError
from evaluation.publication import evidence, sheet
from evaluation.publication import operations as publication
from models import Objection, Period, Unit, db


def _periods() -> list[Period]:
    """The periods 公示 concerns: submitted and approved, newest first."""
    return list(
        db.session.scalars(
            select(Period)
            .where(Period.status.in_([PeriodStatus.SUBMITTED, PeriodStatus.APPROVED]))
            .order_by(Period.end_date.desc(), Period.id.desc())
        )
    )


def chosen_period(periods: list[Period]) -> Period | None:
    """``?period=`` (404 when unknown), else the newest submitted period, else the newest."""
    code = request.values.get("period", "").strip()
    if code:
        if "\x00" in code:
            abort(404)
        period = db.session.scalar(select(Period).where(Period.code == code))
        if period is None:
            abort(404)
        return period
    submitted = [p for p in periods if p.status == PeriodStatus.SUBMITTED]
    return (submitted or periods or [None])[0]


def _own_unit() -> Unit | None:
    unit_id = publication.own_unit_id(current_user)
    return db.session.get(Unit, unit_id) if unit_id is not None else None


class PublicationView(AccessMixin, BaseView):
    """公示与异议."""

    permission = "publication.view"

    def _page(self, period: Period | None, status: int = 200):
        periods = _periods()
        window = publication.window_of(publication.current_window(period)) if period else None
        context = {"periods": periods, "period": period, "window": window, "can": can}
        reporter = current_user.role == "reporter"
        unit = _own_unit() if reporter else None
        if period is not None:
            try:
                if reporter:
                    shown = window is not None and window.state != "upcoming"
                    context["town"] = sheet.town_sheet(period, unit) if shown and unit else None
                    context["objections"] = (
                        publication.period_objections(period, unit.id) if unit else []
                    )
                else:
                    context["results"], context["dimensions"] = sheet.district_rows(period)
                    context["blockers"] = publication.approval_blockers(period)
                    context["objections"] = publication.period_objections(period)
            except ServiceError as error:
                flash(error.message, "error")
        shown = context.get("objections") or []
        context["files"] = evidence.files_of("objection", [o.id for o in shown])
        context.update(reporter=reporter, unit=unit, today=publication.today(), age=publication.age)
        return self.render("publication/index.html", **context), status

    @expose("/")
    def index(self):
        return self._page(chosen_period(_periods()))

    def _after(self, period: Period, done: str | None, error: ServiceError | None):
        if error is not None:
            flash(error.message, "error")
            return self._page(period, error.status)
        flash(done, "success")
        return redirect(url_for(".index", period=period.code), code=303)

    @expose("/window", methods=["POST"])
    def window(self):
        period = chosen_period([])
        if period is None:
            abort(404)
        try:
            publication.open_window(
                current_user, period, request.form.get("start"), request.form.get("end"),
                request.form.get("show_ranking") == "1",
            )  # fmt: skip
        except ServiceError as error:
            return self._after(period, None, error)
        return self._after(period, "已设定公示期。", None)

    @expose("/object", methods=["POST"])
    def lodge(self):
        period = chosen_period([])
        if period is None:
            abort(404)
        target, _, key = request.form.get("item", "").partition(":")
        code = request.form.get("unit", "")
        unit = None if "\x00" in code else db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            abort(404)
        try:
            objection = publication.lodge_objection(
                current_user, period, unit, target, key, request.form.get("reason"),
                request.files.getlist("evidence"),
            )  # fmt: skip
        except ServiceError as error:
            return self._after(period, None, error)
        return self._after(period, f"已提出异议（第 {objection.id} 号），请等待考核组答复。", None)

    @expose("/answer/<int:objection_id>", methods=["POST"])
    def answer(self, objection_id: int):
        objection = db.session.get(Objection, objection_id) if objection_id < 2**63 else None
        if objection is None:
            abort(404)
        period = objection.period
        try:
            publication.answer_objection(
                current_user, objection, request.form.get("decision", ""),
                request.form.get("value"), request.form.get("reason"),
            )  # fmt: skip
        except ServiceError as error:
            return self._after(period, None, error)
        return self._after(period, f"已答复第 {objection.id} 号异议。", None)

    def _sheet_context(self) -> dict:
        period = chosen_period([])
        if period is None or period.status not in (PeriodStatus.SUBMITTED, PeriodStatus.APPROVED):
            abort(404)
        window = publication.window_of(publication.current_window(period))
        reporter = current_user.role == "reporter"
        context = {"period": period, "window": window, "reporter": reporter}
        if reporter:
            unit = _own_unit()
            if unit is None or window is None or window.state == "upcoming":
                abort(403)
            context["town"] = sheet.town_sheet(period, unit)
        else:
            context["results"], context["dimensions"] = sheet.district_rows(period)
        context["hash"] = sheet.snapshot_to_be(period)
        return context

    @expose("/sheet")
    def sheet_page(self):
        context = self._sheet_context()
        return render_template("publication/sheet_print.html", footer=None, screen=True, **context)

    @expose("/sheet.pdf")
    def sheet_pdf(self):
        from evaluation.reports import pdf

        context = self._sheet_context()
        period = context["period"]
        stamp = f"{period.code} 公示表 · 排名快照（待审定）SHA-256：{context['hash']}"
        try:
            html = render_template(
                "publication/sheet_print.html", footer=pdf.css_string(stamp), screen=False,
                **context,
            )  # fmt: skip
            content = pdf.html_to_pdf(html)
        except ServiceError as error:
            abort(error.status)
        response = Response(content, mimetype=pdf.PDF_TYPE)
        response.headers["Content-Disposition"] = content_disposition(
            f"{period.name}考核结果公示表-{period.code}.pdf",
            fallback=f"publication-{period.code}.pdf",
        )
        return response


def register(admin, category) -> None:
    """Add the 公示 page to the admin menu (under ``category``)."""
    admin.add_view(
        PublicationView(
            name=_l("公示与异议"),
            category=category,
            endpoint="publication",
            url="/admin/publication",
        )  # fmt: skip
    )

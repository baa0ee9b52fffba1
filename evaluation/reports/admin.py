"""一镇一报告 pages (docs/reports.md#doors): ``/admin/reports/`` (pick a period and a town),
``/admin/reports/town?period=&unit=`` (the report) and ``…/town.docx`` (the same as Word).

The view only reads the request and shows what ``operations.unit_report`` answers; the
role is checked there (and by ``AccessMixin`` for the menu and the door).
"""

from __future__ import annotations

from flask import Response, abort, jsonify, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from evaluation.admin.access import AccessMixin
from evaluation.core.downloads import content_disposition
from evaluation.core.periods import default_period
from evaluation.core.states import PeriodStatus
from evaluation.core.writing import NotFound, ServiceError
from evaluation.ranking import reading
from evaluation.reports import operations
from models import Period, db

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _period_from_request() -> Period | None:
    """``?period=`` (404 for an unknown code); none given: the ranking's default period."""
    code = request.args.get("period", "").strip()
    if not code:
        return default_period("ranking")
    if "\x00" in code:  # names nothing, and PostgreSQL refuses it in a query
        abort(404)
    period = db.session.scalar(select(Period).where(Period.code == code))
    if period is None:
        abort(404)
    return period


def _periods() -> list[Period]:
    return list(
        db.session.scalars(
            select(Period)
            .where(Period.status != PeriodStatus.DRAFT)
            .order_by(Period.end_date.desc(), Period.id.desc())
        )
    )


class TownReportView(AccessMixin, BaseView):
    """一镇一报告: a town's standing, strengths, change and 差距测算, with a chart and DOCX."""

    permission = "report.view"

    @expose("/")
    def index(self):
        period = _period_from_request()
        results, error = [], None
        if period is not None:
            try:
                results = reading.ranking(period, "town")["results"]
            except ServiceError as failure:
                error = failure.message
        return self.render(
            "reports/index.html", period=period, periods=_periods(), results=results, error=error
        )

    def _report(self) -> dict:
        period = _period_from_request()
        unit = request.args.get("unit", "").strip()
        if period is None or not unit:
            abort(404)
        try:
            return operations.unit_report(current_user, period, unit)
        except NotFound:
            abort(404)

    @expose("/town")
    def town(self):
        try:
            report = self._report()
        except ServiceError as error:
            return self.render(
                "reports/index.html", period=None, periods=_periods(), results=[],
                error=error.message,
            ), error.status  # fmt: skip
        return self.render(
            "reports/town.html",
            report=report,
            view=operations.report_view(report),
            reasons=operations.REASON_TEXTS,
            ranking_url=url_for("ranking.index", period=report["period"]),
            docx_url=url_for(".town_docx", period=report["period"], unit=report["unit"]),
            pdf_url=url_for(".town_pdf", period=report["period"], unit=report["unit"]),
        )

    @expose("/notice.docx")
    def notice_docx(self):
        from evaluation.reports import documents

        period = _period_from_request()
        if period is None:
            abort(404)
        try:
            notice = operations.notice_data(current_user, period)
        except ServiceError as error:
            return self.render(
                "reports/index.html", period=period, periods=_periods(), results=[],
                error=error.message,
            ), error.status  # fmt: skip
        response = Response(documents.notice_docx(notice), mimetype=DOCX_TYPE)
        response.headers["Content-Disposition"] = content_disposition(
            documents.notice_filename(notice), fallback=f"notice-{period.code}.docx"
        )
        return response

    @expose("/notice.pdf")
    def notice_pdf(self):
        from evaluation.reports import pdf

        period = _period_from_request()
        if period is None:
            abort(404)
        try:
            notice = operations.notice_data(current_user, period)
            content = pdf.notice_pdf(notice)
        except ServiceError as error:
            return self.render(
                "reports/index.html", period=period, periods=_periods(), results=[],
                error=error.message,
            ), error.status  # fmt: skip
        return _download(content, pdf.PDF_TYPE, pdf.notice_pdf_filename(notice),
                         f"notice-{period.code}.pdf")  # fmt: skip

    @expose("/town.pdf")
    def town_pdf(self):
        from evaluation.reports import pdf

        try:
            report = self._report()
            content = pdf.town_report_pdf(report)
        except ServiceError as error:
            abort(error.status)
        return _download(
            content, pdf.PDF_TYPE, pdf.town_report_pdf_filename(report),
            f"report-{report['period']}-{report['unit']}.pdf",
        )  # fmt: skip

    @expose("/batch", methods=["POST"])
    def batch_start(self):
        """Start the ZIP of every town's report (docs/reports.md#batch); show its progress."""
        from evaluation.reports import batch

        code = request.form.get("period", "").strip()
        period = db.session.scalar(select(Period).where(Period.code == code)) if code else None
        if period is None:
            abort(404)
        try:
            job = batch.start(current_user, period)
        except ServiceError as error:
            return self.render(
                "reports/index.html", period=period, periods=_periods(), results=[],
                error=error.message,
            ), error.status  # fmt: skip
        return redirect(url_for(".batch_page", job=job), code=303)

    def _batch_status(self, job: str) -> dict:
        from evaluation.reports import batch

        try:
            return batch.status(current_user, job)
        except ServiceError as error:
            abort(error.status)

    @expose("/batch/<job>")
    def batch_page(self, job: str):
        return self.render("reports/batch.html", job=self._batch_status(job))

    @expose("/batch/<job>.json")
    def batch_json(self, job: str):
        found = self._batch_status(job)
        keys = ("state", "done", "total", "percent", "current", "error", "period")
        answer = {key: found.get(key) for key in keys}
        if found["state"] == "done":
            answer["download"] = url_for(".batch_zip", job=job)
        return jsonify(answer)

    @expose("/batch/<job>/reports.zip")
    def batch_zip(self, job: str):
        from evaluation.reports import batch

        try:
            path, filename = batch.result(current_user, job)
        except ServiceError as error:
            abort(error.status)
        response = send_file(path, mimetype="application/zip")
        response.headers["Content-Disposition"] = content_disposition(
            filename, fallback=f"reports-{job[:8]}.zip"
        )
        return response

    @expose("/town.docx")
    def town_docx(self):
        from evaluation.reports import documents

        try:
            report = self._report()
        except ServiceError as error:
            abort(error.status)
        content = documents.town_report_docx(report)
        response = Response(content, mimetype=DOCX_TYPE)
        response.headers["Content-Disposition"] = content_disposition(
            documents.town_report_filename(report),
            fallback=f"report-{report['period']}-{report['unit']}.docx",
        )
        return response


def _download(content: bytes, mimetype: str, filename: str, fallback: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, fallback=fallback)
    return response


def register(admin, category) -> None:
    """Add the report pages to the admin menu (under ``category``)."""
    admin.add_view(
        TownReportView(
            name=_l("一镇一报告"), category=category, endpoint="reports", url="/admin/reports"
        )
    )

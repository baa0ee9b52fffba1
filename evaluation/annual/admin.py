"""年度综合考评 pages (docs/annual.md): ``/admin/annual/?annual=`` (the ranking with its
quota notes and the calibration form), ``…/calibrate`` (POST) and ``…/notice.docx``.

The view only reads the request and shows what ``operations`` answers; roles are checked
there (and by ``AccessMixin`` for the menu and the door).
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from evaluation.admin.access import AccessMixin
from evaluation.annual import operations
from evaluation.core.downloads import content_disposition
from evaluation.core.permissions import can
from evaluation.core.writing import NotFound, ServiceError

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class AnnualView(AccessMixin, BaseView):
    """年度综合考评: combined ranking, grade quotas, the supervisor's calibration, 通报."""

    permission = "annual.view"

    def _annual(self, code: str):
        code = code.strip()
        if not code:
            annuals = operations.all_annuals()
            return annuals[0] if annuals else None
        try:
            return operations.find(code)
        except NotFound:
            abort(404)

    def _show(self, annual, error: str | None = None, status: int = 200, form=None):
        answer = None
        if annual is not None:
            try:
                answer = operations.ranking(current_user, annual)
            except ServiceError as failure:  # a source period not approved yet
                error = error or failure.message
        return self.render(
            "annual/index.html", annual=annual, annuals=operations.all_annuals(),
            answer=answer, error=error, form=form or {},
            may_calibrate=can(current_user, "annual.calibrate"),
        ), status  # fmt: skip

    @expose("/")
    def index(self):
        return self._show(self._annual(request.args.get("annual", "")))

    @expose("/calibrate", methods=["POST"])
    def calibrate(self):
        annual = self._annual(request.form.get("annual", "") or "\x00")
        form = {key: request.form.get(key, "") for key in ("unit", "grade", "reason")}
        try:
            name = operations.calibrate(
                current_user, annual, form["unit"], form["grade"], form["reason"]
            )
        except NotFound:
            abort(404)
        except ServiceError as error:
            return self._show(annual, error=error.message, status=error.status, form=form)
        flash(f"已校准：{name}的年度等次为“{form['grade']}”。", "success")
        return redirect(url_for(".index", annual=annual.code))

    @expose("/notice.docx")
    def notice_docx(self):
        from evaluation.annual.notice import notice_data
        from evaluation.reports import documents

        annual = self._annual(request.args.get("annual", ""))
        if annual is None:
            abort(404)
        try:
            notice = notice_data(current_user, annual)
        except ServiceError as error:
            return self._show(annual, error=error.message, status=error.status)
        response = Response(documents.notice_docx(notice), mimetype=DOCX_TYPE)
        response.headers["Content-Disposition"] = content_disposition(
            f"{annual.name}镇街担当作为考核结果通报-{annual.code}.docx",
            fallback=f"notice-{annual.code}.docx",
        )
        return response

    @expose("/notice.pdf")
    def notice_pdf(self):
        from evaluation.annual.notice import notice_data
        from evaluation.reports import pdf

        annual = self._annual(request.args.get("annual", ""))
        if annual is None:
            abort(404)
        try:
            content = pdf.notice_pdf(notice_data(current_user, annual))
        except ServiceError as error:
            return self._show(annual, error=error.message, status=error.status)
        response = Response(content, mimetype=pdf.PDF_TYPE)
        response.headers["Content-Disposition"] = content_disposition(
            f"{annual.name}镇街担当作为考核结果通报-{annual.code}.pdf",
            fallback=f"notice-{annual.code}.pdf",
        )
        return response


def register(admin, category) -> None:
    """Add the annual page to the admin menu (under ``category``)."""
    admin.add_view(
        AnnualView(name=_l("年度综合考评"), category=category, endpoint="annual",
                   url="/admin/annual")
    )  # fmt: skip

"""分数导入 (``/admin/import/``, docs/rules.md#import-file): template download, upload, dry run,
report.

The page only gathers the file and shows the report; ``scores.importer`` checks the
file and applies it all or nothing through the ledger, which checks the role (only
assessors may apply) and the period's state.
"""

from __future__ import annotations

from flask import Response, abort, request, session
from flask_admin import BaseView, expose
from flask_login import current_user

from evaluation.admin.access import AccessMixin
from evaluation.core.downloads import content_disposition
from evaluation.core.periods import periods_in_order
from evaluation.core.permissions import can
from evaluation.core.writing import ServiceError
from evaluation.scores import pending_imports
from evaluation.scores.importer.apply import find_period, import_scores
from evaluation.scores.importer.read import MAX_BYTES
from evaluation.scores.importer.template import template_bytes, template_filename
from forms.importing import ConfirmImportForm, ImportForm
from models import Period
from models.units import LEVELS

#: The report lists at most this many problems, warnings and changes (the counts are
#: complete).
PROBLEMS_SHOWN = 1000
WARNINGS_SHOWN = 500
CHANGES_SHOWN = 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportView(AccessMixin, BaseView):
    permission = "import.view"

    def _periods(self) -> list[Period]:
        return periods_in_order("entry")

    @expose("/", methods=["GET", "POST"])
    def index(self):
        periods = self._periods()
        form = ImportForm()
        form.period.choices = [(p.code, f"{p.name}（{p.code}，{p.status_name}）") for p in periods]
        if request.method == "GET" and request.args.get("period"):
            form.period.data = request.args["period"]
        report, error, status, confirm = None, None, 200, None
        if form.validate_on_submit():
            upload = form.file.data
            data = upload.read(MAX_BYTES + 1)
            try:
                report = import_scores(
                    current_user,
                    form.period.data,
                    data,
                    filename=upload.filename or "",
                    level=form.level.data,
                    dry_run=form.mode.data != "apply",
                    overwrite=form.overwrite.data,
                    reason=form.reason.data,
                )
                confirm = self._hold(report, form, upload.filename or "", data)
            except ServiceError as refused:
                error, status = refused.message, refused.status
            else:
                status = 200 if report.ok else 422
        elif request.method == "POST":
            status = 422
        return self._render(form, periods, report, error, confirm), status

    def _hold(self, report, form, filename: str, data: bytes):
        """After a clean dry run that would change something, keep the file for 确认导入
        (docs/import.md#confirm); return the confirmation form, or None."""
        if not (
            report.dry_run
            and report.ok
            and report.changes
            and report.period_open
            and can(current_user, "score.write")
        ):
            return None
        held = pending_imports.hold(
            current_user,
            period=form.period.data,
            level=form.level.data,
            filename=filename,
            data=data,
            overwrite=bool(form.overwrite.data),
            reason=form.reason.data or "",
        )
        session["pending_import"] = held.token
        return ConfirmImportForm(formdata=None, token=held.token, sha256=held.sha256)

    def _render(self, form, periods, report, error, confirm=None):
        return self.render(
            "admin/import.html",
            form=form,
            periods=periods,
            levels=LEVELS,
            report=report,
            error=error,
            confirm=confirm,
            can_apply=can(current_user, "score.write"),
            problems_shown=PROBLEMS_SHOWN,
            warnings_shown=WARNINGS_SHOWN,
            changes_shown=CHANGES_SHOWN,
        )

    @expose("/confirm", methods=["POST"])
    def confirm(self):
        """确认导入: apply the file of the dry run just shown, checked all over again."""
        periods = self._periods()
        form = ImportForm(formdata=None)
        form.period.choices = [(p.code, f"{p.name}（{p.code}，{p.status_name}）") for p in periods]
        confirm = ConfirmImportForm()
        report, error = None, None
        if not confirm.validate_on_submit():
            error, status = pending_imports.GONE, 400
        elif session.get("pending_import") != confirm.token.data:
            error, status = pending_imports.GONE, 400
        else:
            session.pop("pending_import", None)
            try:
                report = pending_imports.confirm(
                    current_user, confirm.token.data, confirm.sha256.data
                )
            except ServiceError as refused:
                error, status = refused.message, refused.status
            else:
                status = 200 if report.ok else 422
                form.period.data, form.level.data = report.period, report.level
        return self._render(form, periods, report, error), status

    @expose("/template")
    def template(self):
        code = request.args.get("period", "")
        level = request.args.get("level", "town")
        if level not in LEVELS:
            abort(404)
        try:
            period = find_period(code)
            data = template_bytes(period, level)
        except ServiceError as refused:
            abort(refused.status)
        return Response(
            data,
            mimetype=XLSX,
            headers={
                "Content-Disposition": content_disposition(
                    template_filename(period, level)
                ),
                "Cache-Control": "no-store",
            },
        )

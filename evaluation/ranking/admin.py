"""The ranking page (/admin/ranking/): the table, charts, trend, workbook and print sheet."""

from __future__ import annotations

import re

from flask import Response, abort, jsonify, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy import select

from evaluation.admin.access import AccessMixin
from evaluation.core.downloads import content_disposition
from evaluation.core.periods import default_period
from evaluation.core.states import PeriodStatus
from evaluation.core.writing import ServiceError
from evaluation.i18n import local_time
from evaluation.periods.workflow import take_step, workflow_buttons
from evaluation.ranking import reading
from evaluation.ranking.page import (
    LEVEL_TITLES,
    UNCERTAINTY,
    RankingPage,
    build_page,
    chart_data,
    chart_settings,
    period_by_code,
    rank_trend,
)
from evaluation.ranking.workbook import (
    _stamp_lines,
    document_title,
    export_filename,
    indicator_values,
    issuing_body,
    ranking_workbook,
    source_note,
)
from models import Period, db
from models.types import utcnow

#: The page's table stops here unless all rows are asked for (a province has 1,609 towns;
#: the XLSX and the print sheet always hold every row).
TABLE_ROWS = 300
#: The workflow steps the ranking page offers: the supervisor's review of a submitted period.
REVIEW_STEPS = ("return", "approve")


# --- the view -------------------------------------------------------------------------


class RankingView(AccessMixin, BaseView):
    """考核排名: table, charts, XLSX export and an A4 print sheet."""

    permission = "ranking.view"

    @staticmethod
    def _period_and_level() -> tuple[Period | None, str]:
        """Read ``period`` and ``level`` from the query (or a posted form; 404 for an unknown
        one); no period: the default one."""
        code = request.values.get("period", "").strip()
        period = period_by_code(code) if code else default_period("ranking")
        if code and period is None:
            abort(404)
        level = request.values.get("level", "town")
        if level not in LEVEL_TITLES:
            abort(404)
        return period, level

    def _request_page(self, limit: int | None = None) -> tuple[RankingPage | None, dict]:
        period, level = self._period_and_level()
        uncertainty = request.args.get("uncertainty") == "1"
        context: dict = {
            "period": period,
            "level": level,
            "uncertainty": uncertainty,
            "periods": list(
                db.session.scalars(
                    select(Period)
                    .where(Period.status != PeriodStatus.DRAFT)
                    .order_by(Period.end_date.desc(), Period.id.desc())
                )
            ),
            "level_titles": LEVEL_TITLES,
            "error": None,
        }
        if period is None:
            return None, context
        try:
            page = build_page(period, level, uncertainty=uncertainty, limit=limit)
        except ServiceError as error:
            context["error"] = error.message
            return None, context
        return page, context

    @expose("/")
    def index(self):
        return self._show()

    @expose("/workflow/<action>", methods=["POST"])
    def workflow(self, action: str):
        """退回 or 审定并锁定 the period on show, once confirmed in its dialog
        (docs/rules.md#period-workflow)."""
        if action not in REVIEW_STEPS:
            abort(404)
        period, level = self._period_and_level()
        if period is None:
            abort(404)
        problem = take_step(action, period)
        if problem is None:
            return redirect(url_for(".index", period=period.code, level=level))
        return self._show(workflow_problem=problem), problem["status"]

    def _show(self, workflow_problem: dict | None = None):
        printing = request.args.get("print") == "1"
        every_row = printing or request.args.get("all") == "1"
        page, context = self._request_page(limit=None if every_row else TABLE_ROWS)
        if page is not None and printing:
            return self.render(
                "admin/ranking_print.html",
                page=page,
                source=source_note(page),
                stamp=_stamp_lines(page),
                issuing_body=issuing_body(),
                document_title=document_title(page),
                indicator_values=indicator_values(page.period, page.level),
                printed_at=local_time(utcnow(), "%Y-%m-%d %H:%M"),
                printed_by=current_user,
            )
        charts = None
        if page is not None:
            charts = chart_settings(page.period, page.level, page.uncertainty)
        period = context["period"]
        return self.render(
            "admin/ranking.html",
            page=page,
            rows=page.rows if page is not None else [],
            charts=charts,
            source=source_note(page) if page else "",
            review_buttons=workflow_buttons(period, REVIEW_STEPS) if period else [],
            workflow_problem=workflow_problem,
            **context,
        )

    @expose("/charts.json")
    def charts(self):
        period, level = self._period_and_level()
        if period is None:
            abort(404)
        uncertainty = request.args.get("uncertainty") == "1"
        try:
            answer = reading.ranking(
                period, level, sensitivity=UNCERTAINTY if uncertainty else None
            )
        except ServiceError as error:
            return jsonify({"error": error.message}), error.status
        return jsonify(chart_data(period, level, answer, uncertainty))

    @expose("/trend.json")
    def trend(self):
        period, level = self._period_and_level()
        if period is None:
            abort(404)
        return jsonify(rank_trend(period, level))

    @expose("/export.xlsx")
    def export(self):
        page, context = self._request_page()
        if page is None:
            abort(404)
        body = ranking_workbook(page)
        fallback = re.sub(r"[^A-Za-z0-9._-]", "_", f"ranking-{page.period.code}-{page.level}.xlsx")
        return Response(
            body,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "Content-Disposition": content_disposition(export_filename(page), fallback),
                "Cache-Control": "no-store",
            },
        )

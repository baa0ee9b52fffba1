"""The period model view (考核周期): name, dates and schemes; the status moves only through
the workflow (the entry page's panel).
"""

from __future__ import annotations

from flask import flash, url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from wtforms.validators import DataRequired, Length

from evaluation.admin.base import LedgerModelView
from evaluation.core import labels
from models import (
    Period,
    Scheme,
    db,
)
from models.states import PeriodStatus


def _schemes_of(level: str):
    def load():
        return db.session.scalars(
            select(Scheme).where(Scheme.level == level).order_by(Scheme.code)
        ).all()

    return load


# --- 考核周期 ------------------------------------------------------------------------------


class PeriodView(LedgerModelView):
    """Periods: name, dates and schemes here; the status moves only through the workflow."""

    permission = "period.view"
    write_permission = "period.write"
    column_list = [
        "code",
        "name",
        "start_date",
        "end_date",
        "town_scheme",
        "village_scheme",
        "status",
    ]
    form_columns = [
        "code",
        "name",
        "start_date",
        "end_date",
        "report_due",
        "town_scheme",
        "village_scheme",
    ]
    column_labels = labels.column_labels("period")
    column_details_list = [
        *column_list,
        "report_due",
        "submitted_by",
        "submitted_at",
        "approved_by",
        "approved_at",
    ]
    column_choices = {"status": PeriodStatus.choices()}
    # Scheme codes keep the list readable; the names are on the scheme pages.
    column_formatters = {
        "town_scheme": lambda v, c, m, n: m.town_scheme.code if m.town_scheme else "",
        "village_scheme": lambda v, c, m, n: m.village_scheme.code if m.village_scheme else "",
    }
    column_default_sort = ("start_date", True)
    column_sortable_list = ["code", "start_date", "end_date", "status"]
    column_filters = [FilterEqual(Period.status, _l("状态"), options=PeriodStatus.choices())]
    form_args = {
        "code": {
            "validators": [DataRequired("请填写周期代码"), Length(max=16)],
            "description": "如 2026Q3",
        },
        "name": {"description": "如 2026年第三季度"},
        "town_scheme": {
            "query_factory": _schemes_of("town"),
            "validators": [DataRequired("请选择镇街指标方案")],
        },
        "village_scheme": {"query_factory": _schemes_of("village")},
        "report_due": {"description": _l("镇街自评报送的截止日（含当日）；留空则不设截止日")},
    }

    def create_model(self, form):
        period = super().create_model(form)
        if period:
            # The next step is the entry page, where the workflow panel opens the period.
            flash(
                Markup(
                    "考核周期 {code} 已建立（草稿）。"
                    '<a href="{link}" class="alert-link" id="open-new-period">'
                    "打开 {name} 的填报页</a>，在那里开启填报。"
                ).format(
                    code=period.code,
                    name=period.name,
                    link=url_for("entry.index", period=period.code),
                ),
                "success",
            )
        return period

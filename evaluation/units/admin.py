"""Towns, villages and analysis groups: the base data an admin keeps (基础数据)."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual, IntEqualFilter
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import DataRequired, Optional, Regexp

from evaluation.admin.base import LedgerModelView, LiveOptions, choices
from evaluation.core import labels
from models import (
    AnalysisGroup,
    Unit,
    db,
)
from models.units import LEVELS


def _town_options():
    rows = db.session.execute(
        select(Unit.id, Unit.name).where(Unit.level == "town").order_by(Unit.sort_order, Unit.code)
    )
    return [(str(row.id), row.name) for row in rows]


def _group_options():
    rows = db.session.execute(
        select(AnalysisGroup.id, AnalysisGroup.name).order_by(AnalysisGroup.name)
    )
    return [(str(row.id), row.name) for row in rows]


def _towns():
    return db.session.scalars(
        select(Unit).where(Unit.level == "town").order_by(Unit.sort_order, Unit.code)
    ).all()


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


# --- 基础数据 ------------------------------------------------------------------------------

CODE_12_DIGITS = Regexp(r"^\d{12}$", message="区划代码须为 12 位数字（统计用区划代码）")


class UnitLevelView(LedgerModelView):
    """Units of one level: the list, counts and record lookups stay within it."""

    level = "town"
    permission = "base_data.view"
    write_permission = "base_data.write"
    column_labels = labels.column_labels("unit")
    column_searchable_list = ["code", "name"]
    column_default_sort = [("sort_order", False), ("code", False)]
    column_choices = {"level": choices(LEVELS)}

    def get_query(self):
        return super().get_query().filter(Unit.level == self.level)

    def get_count_query(self):
        return super().get_count_query().filter(Unit.level == self.level)

    def get_one(self, id):
        unit = super().get_one(id)
        return unit if unit is not None and unit.level == self.level else None

    def values_for_create(self, form) -> dict:
        return {**self.form_values(form), "level": self.level}


class TownView(UnitLevelView):
    level = "town"
    column_list = ["code", "name", "kind", "county", "sort_order", "active"]
    form_columns = ["code", "name", "kind", "county", "sort_order", "active"]
    column_filters = ["kind", "active"]
    form_choices = {"kind": [("镇", "镇"), ("街道", "街道")]}
    form_args = {"code": {"validators": [CODE_12_DIGITS]}}


class VillageView(UnitLevelView):
    level = "village"
    simple_list_pager = True
    column_list = [
        "code",
        "name",
        "parent",
        "kind",
        "typical_batch",
        "analysis_group",
        "secretary",
        "active",
    ]
    form_columns = [
        "code",
        "name",
        "kind",
        "parent",
        "typical_batch",
        "analysis_group",
        "secretary",
        "county",
        "sort_order",
        "active",
    ]
    column_formatters = {
        "typical_batch": lambda v, c, m, n: labels.TYPICAL_BATCHES.get(m.typical_batch, "")
    }
    column_formatters_detail = column_formatters
    column_formatters_export = column_formatters
    column_filters = [
        IntEqualFilter(Unit.parent_id, _l("所属镇街"), options=LiveOptions(_town_options)),
        IntEqualFilter(
            Unit.typical_batch,
            _l("典型村批次"),
            options=[(str(key), name) for key, name in labels.TYPICAL_BATCHES.items()],
        ),
        IntEqualFilter(Unit.analysis_group_id, _l("研判小组"), options=LiveOptions(_group_options)),
        FilterEqual(Unit.kind, _l("类型"), options=[("村", "村"), ("社区", "社区")]),
        BooleanEqualFilter(Unit.active, _l("启用")),
    ]
    form_choices = {"kind": [("村", "村"), ("社区", "社区")]}
    form_overrides = {"typical_batch": SelectField}
    form_ajax_refs = {"secretary": {"fields": ["name", "position"], "page_size": 20}}
    form_args = {
        "code": {"validators": [CODE_12_DIGITS]},
        "parent": {"query_factory": _towns, "validators": [DataRequired("请选择所属镇街")]},
        "typical_batch": {
            "choices": [("", "不是典型村"), ("1", "第一批"), ("2", "第二批（培育创建）")],
            "coerce": _optional_int,
            "validators": [Optional()],
        },
    }


class AnalysisGroupView(LedgerModelView):
    permission = "base_data.view"
    write_permission = "base_data.write"
    column_list = ["name", "leader", "note"]
    form_columns = ["name", "leader", "note"]
    column_labels = labels.column_labels("analysis_group")
    column_searchable_list = ["name", "leader"]
    form_args = {"name": {"validators": [DataRequired("请填写小组名称")]}}

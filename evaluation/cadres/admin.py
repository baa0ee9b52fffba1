"""The cadre and cadre-record model views (干部管理)."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired

from evaluation.admin.base import LedgerModelView, choices
from evaluation.core import labels
from evaluation.core.writing import InvalidInput
from models import (
    CadreRecord,
)
from models.cadres import EVALUATIONS, ORIENTATIONS

# --- 干部管理 ------------------------------------------------------------------------------


class CadreView(LedgerModelView):
    permission = "cadre.view"
    write_permission = "cadre.write"
    simple_list_pager = True
    column_list = ["name", "gender", "unit", "position", "tags", "assignment", "mentor", "active"]
    form_columns = ["name", "gender", "unit", "position", "tags", "assignment", "mentor", "active"]
    column_labels = labels.column_labels("cadre")
    column_searchable_list = ["name", "position"]
    column_filters = ["unit.name", "position", "tags", "assignment", "active"]
    column_sortable_list = ["name", "position", "active"]
    form_choices = {"gender": [("", "未填"), ("男", "男"), ("女", "女")]}
    form_ajax_refs = {
        "unit": {"fields": ["name", "code"], "page_size": 20},
        "mentor": {"fields": ["name", "position"], "page_size": 20},
    }
    form_args = {
        "name": {"validators": [DataRequired("请填写姓名")]},
        "tags": {"description": "多个标签用逗号分隔，如：年轻干部,后备干部"},
    }

    def service_update(self, model, values: dict) -> None:
        if values.get("mentor") is not None and values["mentor"].id == model.id:
            raise InvalidInput("干部不能与自己结对培养")
        super().service_update(model, values)


class CadreRecordView(LedgerModelView):
    permission = "cadre.view"
    write_permission = "cadre_record.write"
    simple_list_pager = True
    column_list = ["date", "cadre", "orientation", "title", "evaluation", "period", "recorded_by"]
    form_columns = [
        "cadre",
        "date",
        "period",
        "orientation",
        "title",
        "detail",
        "evaluation",
        "evidence",
    ]
    column_details_list = [
        "date",
        "cadre",
        "period",
        "orientation",
        "title",
        "detail",
        "evaluation",
        "evidence",
        "recorded_by",
    ]
    column_export_list = column_details_list
    column_labels = labels.column_labels("cadre_record")
    column_choices = {"orientation": choices(ORIENTATIONS)}
    column_default_sort = ("date", True)
    column_searchable_list = ["title"]
    column_sortable_list = ["date", "orientation", "evaluation"]
    column_filters = [
        FilterEqual(CadreRecord.orientation, _l("导向"), options=choices(ORIENTATIONS)),
        FilterEqual(CadreRecord.evaluation, _l("评价"), options=[(e, e) for e in EVALUATIONS]),
        "cadre.name",
        "date",
    ]
    form_choices = {
        "orientation": choices(ORIENTATIONS),
        "evaluation": [("", "未评价"), *((e, e) for e in EVALUATIONS)],
    }
    form_ajax_refs = {"cadre": {"fields": ["name", "position"], "page_size": 20}}
    form_args = {
        "cadre": {"validators": [DataRequired("请选择干部")]},
        "title": {"validators": [DataRequired("请填写事项")]},
    }

    records_author = True

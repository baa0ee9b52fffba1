"""The key-project and project-progress model views (重点项目)."""

from __future__ import annotations

from wtforms.validators import DataRequired, InputRequired, NumberRange

from evaluation.admin.base import LedgerModelView
from evaluation.core import labels
from evaluation.projects.board import derived_status
from models.states import ProjectStatus

# --- 重点项目 ------------------------------------------------------------------------------

PROGRESS_RANGE = NumberRange(0, 100, message="进度须在 0 到 100 之间")


class KeyProjectView(LedgerModelView):
    permission = "project.view"
    write_permission = "project.write"
    column_list = ["code", "name", "unit", "lead_cadre", "due_date", "progress", "status"]
    # The status is derived, never typed (docs/rules.md#domain): the progress against the
    # due date as of today, as the board shows it (projects.board.project_status).
    form_columns = ["code", "name", "unit", "lead_cadre", "due_date", "progress"]
    column_labels = labels.column_labels("key_project")
    column_formatters = {
        "status": lambda view, context, model, name: ProjectStatus.label_of(derived_status(model))
    }
    column_formatters_export = column_formatters
    column_searchable_list = ["code", "name"]
    column_sortable_list = ["code", "name", "due_date", "progress"]
    column_filters = ["unit.name", "due_date"]
    form_ajax_refs = {
        "unit": {"fields": ["name", "code"], "page_size": 20},
        "lead_cadre": {"fields": ["name", "position"], "page_size": 20},
    }
    form_args = {
        "code": {"validators": [DataRequired("请填写项目编号")]},
        "progress": {"validators": [InputRequired("请填写进度"), PROGRESS_RANGE]},
    }


class ProjectUpdateView(LedgerModelView):
    permission = "project.view"
    write_permission = "project.update"
    simple_list_pager = True
    column_list = ["project", "date", "progress", "note", "recorded_by", "recorded_at"]
    form_columns = ["project", "date", "progress", "note"]
    column_labels = labels.column_labels("project_update")
    column_default_sort = ("date", True)
    column_sortable_list = ["date", "progress", "recorded_at"]
    column_filters = ["project.name", "date"]
    form_ajax_refs = {"project": {"fields": ["code", "name"], "page_size": 20}}
    form_args = {
        "project": {"validators": [DataRequired("请选择重点项目")]},
        "progress": {"validators": [InputRequired("请填写进度"), PROGRESS_RANGE]},
    }

    records_author = True

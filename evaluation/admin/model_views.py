"""Flask-Admin model views of the ledger's base data (docs/architecture.md#pages-and-doors), in
Chinese.

Every view writes through the service layer: ``LedgerModelView`` replaces
Flask-Admin's own create/update/delete (which would ``session.commit()`` straight
from the form) with calls to ``evaluation.services``, so the role check, the
scheme freeze and the history event cannot be skipped from the admin. Reading
needs ``permission``; writing needs ``write_permission``, checked on every write
endpoint (a direct POST by a read-only role gets 403, not a silent redirect).

Exports are CSV (UTF-8 with BOM, for Excel on Chinese Windows) and XLSX, named in
Chinese, with formula-looking text neutralized.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import tablib
from flask import Response, abort, flash, redirect, request, stream_with_context
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual, IntEqualFilter
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import Numeric, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DataError, IntegrityError
from wtforms import DecimalField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from evaluation.accounts import operations as accounts
from evaluation.admin.access import AccessMixin
from evaluation.core.downloads import content_disposition
from evaluation.core.numbers import exact, shown
from evaluation.core.permissions import can
from evaluation.core.spreadsheets import neutralize
from evaluation.core.writing import InvalidInput, ServiceError, writing
from evaluation.history import records
from evaluation.i18n import SHANGHAI, local_time
from evaluation.projects.board import derived_status
from evaluation.schemes import operations as schemes
from evaluation.schemes.messages import default_fractions_text
from models import (
    ROLES,
    AnalysisGroup,
    ApiToken,
    Cadre,
    CadreRecord,
    Dimension,
    Indicator,
    KeyProject,
    Period,
    ProjectUpdate,
    Scheme,
    Unit,
    User,
    db,
)
from models.cadres import EVALUATIONS, ORIENTATIONS
from models.schemes import DIRECTIONS, METHODS, TIE_METHODS
from models.states import PeriodStatus, ProjectStatus, SchemeStatus
from models.units import LEVELS

#: Menu categories, grouped by what each role does. Other modules reuse these objects
#: so their views land in the same menus (a category is keyed by its text).
CATEGORY_BASE = _l("基础数据")
CATEGORY_CADRES = _l("干部管理")
CATEGORY_PROJECTS = _l("重点项目")
CATEGORY_SCHEMES = _l("指标方案")
CATEGORY_PERIODS = _l("考核周期")
CATEGORY_SYSTEM = _l("系统管理")

#: The view functions that change data, or serve only the forms that do (the lookups
#: behind a form's search-as-you-type selects): they need ``write_permission``.
WRITE_VIEWS = frozenset(
    {"create_view", "edit_view", "delete_view", "action_view", "ajax_update", "ajax_lookup"}
)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class LiveOptions:
    """Filter options read from the database when the list page is drawn.

    Flask-Admin evaluates filter options once, at start-up; towns and groups change.
    """

    def __init__(self, load):
        self._load = load

    def __bool__(self) -> bool:
        return True

    def __iter__(self):
        return iter(self._load())


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


def _scheme_options():
    rows = db.session.execute(select(Scheme.id, Scheme.code, Scheme.name).order_by(Scheme.code))
    return [(str(row.id), f"{row.name}（{row.code}）") for row in rows]


def _towns():
    return db.session.scalars(
        select(Unit).where(Unit.level == "town").order_by(Unit.sort_order, Unit.code)
    ).all()


def _schemes_of(level: str):
    def load():
        return db.session.scalars(
            select(Scheme).where(Scheme.level == level).order_by(Scheme.code)
        ).all()

    return load


def _dimensions():
    return db.session.scalars(
        select(Dimension).join(Dimension.scheme).order_by(Scheme.code, Dimension.order)
    ).all()


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def _choices(mapping: dict) -> list[tuple[str, str]]:
    return [(code, label) for code, label in mapping.items()]


def _local_datetime(view, value, name):
    return local_time(value)


def _display_decimal(view, value, name):
    return shown(value)


def _yes_no(view, value, name):
    return "是" if value else "否"


LIST_FORMATTERS = {
    datetime: _local_datetime,
    Decimal: _display_decimal,
    **typefmt.BASE_FORMATTERS,
}
DETAIL_FORMATTERS = {
    datetime: _local_datetime,
    Decimal: _display_decimal,
    **typefmt.DETAIL_FORMATTERS,
    bool: _yes_no,
}


class PlainDecimalField(DecimalField):
    """A decimal input that shows ``6`` as ``6.00``, not as the column's ``6.000000``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("places", None)
        super().__init__(*args, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, Decimal):
            return shown(self.data)
        return "" if self.data is None else str(self.data)


class LedgerModelConverter(AdminModelConverter):
    @converts("Numeric")
    def handle_decimal_types(self, column, field_args, **extra):
        return PlainDecimalField(**field_args)


class _PairsField(StringField):
    """A JSON column typed as ``name=value`` pairs: ``show`` writes them, ``read`` parses."""

    stored_type: type = dict
    show = staticmethod(lambda data: "")
    read = staticmethod(lambda text: None)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.show(self.data) if isinstance(self.data, self.stored_type) else ""

    def process_formdata(self, valuelist) -> None:
        if valuelist:
            self.data = None
            self.data = self.read(valuelist[0])


class GradeFractionsField(_PairsField):
    """Grade fractions typed as ``A=1, B=0.85`` and stored as ``{"A": "1", "B": "0.85"}``."""

    show = staticmethod(schemes.format_grade_fractions)
    read = staticmethod(schemes.parse_grade_fractions)


class GradeBandsField(_PairsField):
    """Grade bands typed as ``好=90, 较好=80, 一般=60, 较差=0``."""

    stored_type = list
    show = staticmethod(schemes.format_grade_bands)
    read = staticmethod(schemes.parse_grade_bands)


class LedgerModelView(AccessMixin, ModelView):
    """A model view whose every write goes through the service layer."""

    #: The permission needed to create, edit, delete or run actions; None: read-only.
    write_permission: str | None = None
    #: Switch a kind of write off for a model regardless of role.
    allow_create = True
    allow_edit = True
    allow_delete = True

    can_view_details = True
    can_export = True
    export_types = ["csv", "xlsx"]
    export_max_rows = 100_000
    page_size = 50
    can_set_page_size = True
    # Inline editing posts to /ajax/update/, which Flask-Admin guards with the list only.
    column_editable_list = ()
    column_display_pk = False
    column_type_formatters = LIST_FORMATTERS
    model_form_converter = LedgerModelConverter
    column_type_formatters_detail = DETAIL_FORMATTERS

    # -- who may write -------------------------------------------------------------------

    def may_write(self) -> bool:
        return self.write_permission is not None and can(current_user, self.write_permission)

    @property
    def can_create(self) -> bool:
        return self.allow_create and self.may_write()

    @property
    def can_edit(self) -> bool:
        return self.allow_edit and self.may_write()

    @property
    def can_delete(self) -> bool:
        return self.allow_delete and self.may_write()

    def _handle_view(self, name, **kwargs):
        response = super()._handle_view(name, **kwargs)
        if response is not None:
            return response
        if name == "ajax_update":
            abort(404)
        if name in WRITE_VIEWS and not self.may_write():
            abort(403)
        return None

    def is_action_allowed(self, name: str) -> bool:
        return self.may_write() and super().is_action_allowed(name)

    def frozen_notice(self, model) -> str | None:
        """Say why ``model`` cannot be changed, to warn before the user types in vain."""
        return None

    def render(self, template, **kwargs):
        model = kwargs.get("model")
        if template == self.edit_template and model is not None and request.method == "GET":
            notice = self.frozen_notice(model)
            if notice:
                flash(notice, "warning")
        return super().render(template, **kwargs)

    # -- writes through the services ---------------------------------------------------

    @property
    def actor(self):
        return current_user._get_current_object()

    def form_values(self, form) -> dict:
        """Return the submitted field values by model attribute, without the CSRF token."""
        return {
            field.name: self._at_column_scale(field.name, field.data)
            for field in form
            if field.type not in ("CSRFTokenField",) and field.name != "csrf_token"
        }

    def _at_column_scale(self, name: str, value):
        """Write ``35.5`` as the ``35.50`` the column stores, so the history shows it so.

        Only exact rescaling: a value with more decimals is left for the rules to refuse.
        """
        column = sa_inspect(self.model).columns.get(name)
        if not isinstance(value, Decimal) or column is None:
            return value
        scale = getattr(column.type, "scale", None)
        if not isinstance(column.type, Numeric) or scale is None:
            return value
        rescaled = value.quantize(Decimal(1).scaleb(-scale))
        return rescaled if rescaled == value else value

    def values_for_create(self, form) -> dict:
        return self.form_values(form)

    def values_for_update(self, form, model) -> dict:
        return self.form_values(form)

    def service_create(self, values: dict):
        return records.create(self.actor, self.model, values)

    def service_update(self, model, values: dict) -> None:
        records.update(self.actor, model, values)

    def service_delete(self, model) -> None:
        records.delete(self.actor, model)

    def _refused(self, error: Exception) -> bool:
        if isinstance(error, ServiceError):
            flash(error.message, "error")
        elif isinstance(error, IntegrityError | DataError):
            flash(
                "保存失败：数据与已有记录冲突或不满足约束"
                "（例如代码重复、日期先后颠倒、仍被其他记录引用）。",
                "error",
            )
        else:
            return False
        return True

    def create_model(self, form):
        try:
            return self.service_create(self.values_for_create(form))
        except (ServiceError, IntegrityError, DataError) as error:
            self._refused(error)
            return False

    def update_model(self, form, model) -> bool:
        try:
            self.service_update(model, self.values_for_update(form, model))
        except (ServiceError, IntegrityError, DataError) as error:
            self._refused(error)
            return False
        return True

    def delete_model(self, model) -> bool:
        try:
            self.service_delete(model)
        except (ServiceError, IntegrityError, DataError) as error:
            self._refused(error)
            return False
        return True

    # -- exports ---------------------------------------------------------------------------

    def get_export_name(self, export_type: str = "csv") -> str:
        """Name the file by the view's Chinese name and today's date in Shanghai."""
        today = datetime.now(SHANGHAI).strftime("%Y%m%d")
        return f"{self.name}_{today}.{export_type}"

    def _ascii_export_name(self, export_type: str) -> str:
        today = datetime.now(SHANGHAI).strftime("%Y%m%d")
        return f"{self.endpoint}_{today}.{export_type}"

    def get_export_value(self, model, name):
        """Return a cell: numbers stay numbers, text is neutralized against formulas."""
        value = super().get_export_value(model, name)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, int | Decimal):
            return value
        if isinstance(value, datetime):
            return local_time(value)
        if isinstance(value, date):
            return value.isoformat()
        return neutralize(str(value))

    def _export_headers(self) -> list[str]:
        return [neutralize(str(label)) for _, label in self._export_columns]

    def _export_rows(self):
        _, data = self._export_data()
        for row in data:
            yield [self.get_export_value(row, column) for column, _ in self._export_columns]

    def _export_csv(self, return_url):
        """Stream CSV with a UTF-8 BOM so Excel on Chinese Windows reads it right."""
        headers = self._export_headers()
        rows = self._export_rows()

        def generate():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            yield "\ufeff"
            writer.writerow(headers)
            for row in rows:
                writer.writerow([exact(v) if isinstance(v, Decimal) else v for v in row])
                if buffer.tell() > 64 * 1024:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        disposition = content_disposition(
            self.get_export_name("csv"), self._ascii_export_name("csv")
        )
        return Response(
            stream_with_context(generate()),
            headers={"Content-Disposition": disposition},
            mimetype="text/csv",
            content_type="text/csv; charset=utf-8",
        )

    def _export_tablib(self, export_type: str, return_url: str):
        if export_type != "xlsx":
            flash(f"不支持的导出格式：{export_type}", "error")
            return redirect(return_url)
        dataset = tablib.Dataset(headers=self._export_headers())
        dataset.title = str(self.name)[:31]
        for row in self._export_rows():
            dataset.append(row)
        disposition = content_disposition(
            self.get_export_name("xlsx"), self._ascii_export_name("xlsx")
        )
        return Response(
            dataset.export("xlsx"),
            headers={"Content-Disposition": disposition},
            mimetype=XLSX_MIMETYPE,
        )


# --- 基础数据 ------------------------------------------------------------------------------

UNIT_LABELS = {
    "code": _l("区划代码"),
    "name": _l("名称"),
    "level": _l("层级"),
    "kind": _l("类型"),
    "parent": _l("所属镇街"),
    "county": _l("区县代码"),
    "sort_order": _l("排序"),
    "active": _l("启用"),
    "typical_batch": _l("典型村批次"),
    "analysis_group": _l("研判小组"),
    "secretary": _l("村党组织书记"),
}
CODE_12_DIGITS = Regexp(r"^\d{12}$", message="区划代码须为 12 位数字（统计用区划代码）")
TYPICAL_BATCHES = {1: _l("第一批"), 2: _l("第二批")}


class UnitLevelView(LedgerModelView):
    """Units of one level: the list, counts and record lookups stay within it."""

    level = "town"
    permission = "base_data.view"
    write_permission = "base_data.write"
    column_labels = UNIT_LABELS
    column_searchable_list = ["code", "name"]
    column_default_sort = [("sort_order", False), ("code", False)]
    column_choices = {"level": _choices(LEVELS)}

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
        "typical_batch": lambda v, c, m, n: TYPICAL_BATCHES.get(m.typical_batch, "")
    }
    column_formatters_detail = column_formatters
    column_formatters_export = column_formatters
    column_filters = [
        IntEqualFilter(Unit.parent_id, _l("所属镇街"), options=LiveOptions(_town_options)),
        IntEqualFilter(
            Unit.typical_batch, _l("典型村批次"), options=[("1", "第一批"), ("2", "第二批")]
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
    column_labels = {"name": _l("小组名称"), "leader": _l("组长"), "note": _l("备注")}
    column_searchable_list = ["name", "leader"]
    form_args = {"name": {"validators": [DataRequired("请填写小组名称")]}}


# --- 干部管理 ------------------------------------------------------------------------------


class CadreView(LedgerModelView):
    permission = "cadre.view"
    write_permission = "cadre.write"
    simple_list_pager = True
    column_list = ["name", "gender", "unit", "position", "tags", "assignment", "mentor", "active"]
    form_columns = ["name", "gender", "unit", "position", "tags", "assignment", "mentor", "active"]
    column_labels = {
        "name": _l("姓名"),
        "gender": _l("性别"),
        "unit": _l("任职单位"),
        "unit.name": _l("任职单位"),
        "position": _l("职务"),
        "tags": _l("标签"),
        "assignment": _l("工作安排"),
        "mentor": _l("结对培养人"),
        "active": _l("在岗"),
    }
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
    column_labels = {
        "date": _l("日期"),
        "cadre": _l("干部"),
        "cadre.name": _l("干部姓名"),
        "period": _l("考核周期"),
        "orientation": _l("导向"),
        "title": _l("事项"),
        "detail": _l("具体表现"),
        "evaluation": _l("评价"),
        "evidence": _l("佐证材料"),
        "recorded_by": _l("记录人"),
    }
    column_choices = {"orientation": _choices(ORIENTATIONS)}
    column_default_sort = ("date", True)
    column_searchable_list = ["title"]
    column_sortable_list = ["date", "orientation", "evaluation"]
    column_filters = [
        FilterEqual(CadreRecord.orientation, _l("导向"), options=_choices(ORIENTATIONS)),
        FilterEqual(CadreRecord.evaluation, _l("评价"), options=[(e, e) for e in EVALUATIONS]),
        "cadre.name",
        "date",
    ]
    form_choices = {
        "orientation": _choices(ORIENTATIONS),
        "evaluation": [("", "未评价"), *((e, e) for e in EVALUATIONS)],
    }
    form_ajax_refs = {"cadre": {"fields": ["name", "position"], "page_size": 20}}
    form_args = {
        "cadre": {"validators": [DataRequired("请选择干部")]},
        "title": {"validators": [DataRequired("请填写事项")]},
    }

    def values_for_create(self, form) -> dict:
        return {**self.form_values(form), "recorded_by": self.actor.username}


# --- 重点项目 ------------------------------------------------------------------------------

PROGRESS_RANGE = NumberRange(0, 100, message="进度须在 0 到 100 之间")


class KeyProjectView(LedgerModelView):
    permission = "project.view"
    write_permission = "project.write"
    column_list = ["code", "name", "unit", "lead_cadre", "due_date", "progress", "status"]
    # The status is derived, never typed (docs/rules.md#domain): the progress against the
    # due date as of today, as the board shows it (projects.board.project_status).
    form_columns = ["code", "name", "unit", "lead_cadre", "due_date", "progress"]
    column_labels = {
        "code": _l("项目编号"),
        "name": _l("项目名称"),
        "unit": _l("所在单位"),
        "unit.name": _l("所在单位"),
        "lead_cadre": _l("牵头干部"),
        "due_date": _l("计划完成"),
        "progress": _l("进度(%)"),
        "status": _l("状态"),
    }
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
    column_labels = {
        "project": _l("重点项目"),
        "project.name": _l("项目名称"),
        "date": _l("日期"),
        "progress": _l("进度(%)"),
        "note": _l("进展情况"),
        "recorded_by": _l("记录人"),
        "recorded_at": _l("记录时间"),
    }
    column_default_sort = ("date", True)
    column_sortable_list = ["date", "progress", "recorded_at"]
    column_filters = ["project.name", "date"]
    form_ajax_refs = {"project": {"fields": ["code", "name"], "page_size": 20}}
    form_args = {
        "project": {"validators": [DataRequired("请选择重点项目")]},
        "progress": {"validators": [InputRequired("请填写进度"), PROGRESS_RANGE]},
    }

    def values_for_create(self, form) -> dict:
        return {**self.form_values(form), "recorded_by": self.actor.username}


# --- 指标方案 ------------------------------------------------------------------------------


class SchemePartView(LedgerModelView):
    """Scheme, dimension and indicator views: warn on the edit page of a frozen scheme."""

    permission = "scheme.view"
    write_permission = "scheme.write"

    def frozen_notice(self, model) -> str | None:
        scheme = model if isinstance(model, Scheme) else model.scheme
        if scheme is not None and scheme.status == "published":
            return schemes.frozen_message(scheme)
        return None


class SchemeView(SchemePartView):
    permission = "scheme.view"
    write_permission = "scheme.write"
    column_list = ["code", "name", "version", "level", "total", "tie_method", "status", "based_on"]
    form_columns = [
        "code",
        "name",
        "level",
        "total",
        "bonus_cap",
        "penalty_cap",
        "tie_method",
        "grades",
    ]
    column_details_list = [
        "code",
        "name",
        "version",
        "level",
        "total",
        "bonus_cap",
        "penalty_cap",
        "tie_method",
        "grades",
        "status",
        "based_on",
    ]
    column_export_list = column_details_list
    column_labels = {
        "code": _l("方案代码"),
        "name": _l("方案名称"),
        "version": _l("版本"),
        "level": _l("适用层级"),
        "total": _l("总分"),
        "bonus_cap": _l("加分上限"),
        "penalty_cap": _l("减分上限"),
        "tie_method": _l("并列排名方式"),
        "grades": _l("等次划分"),
        "status": _l("状态"),
        "based_on": _l("复制自"),
    }
    column_descriptions = {"status": _l("已发布的方案不能修改，需复制为新版本")}
    column_choices = {
        "level": _choices(LEVELS),
        "tie_method": _choices(TIE_METHODS),
        "status": SchemeStatus.choices(),
    }
    column_formatters = {
        "grades": lambda v, c, m, n: schemes.format_grade_bands(m.grades),
        "based_on": lambda v, c, m, n: m.based_on.code if m.based_on else "",
    }
    column_formatters_detail = column_formatters
    column_formatters_export = column_formatters
    column_searchable_list = ["code", "name"]
    column_sortable_list = ["code", "name", "version", "level", "status"]
    column_filters = [
        FilterEqual(Scheme.level, _l("适用层级"), options=_choices(LEVELS)),
        FilterEqual(Scheme.status, _l("状态"), options=SchemeStatus.choices()),
    ]
    form_choices = {"level": _choices(LEVELS), "tie_method": _choices(TIE_METHODS)}
    form_overrides = {"grades": GradeBandsField}
    form_args = {
        "code": {"validators": [DataRequired("请填写方案代码"), Length(max=32)]},
        "total": {"validators": [InputRequired("请填写总分")]},
        "bonus_cap": {"description": "留空表示不设上限"},
        "penalty_cap": {"description": "留空表示不设上限"},
        "grades": {
            "description": "按最低分从高到低，格式：好=90, 较好=80, 一般=60, 较差=0",
            "validators": [DataRequired("请填写等次划分")],
        },
    }

    @action("publish", _l("发布"), _l("发布后方案及其维度、指标都不能再修改。确定发布所选方案？"))
    def action_publish(self, ids) -> None:
        for scheme in self._selected(ids):
            try:
                schemes.publish_scheme(self.actor, scheme)
            except ServiceError as error:
                flash(error.message, "error")
            else:
                flash(f"指标方案 {scheme.code} 已发布", "success")

    @action("copy", _l("复制为新版本"), _l("为所选方案各复制一个新的草稿版本？"))
    def action_copy(self, ids) -> None:
        for scheme in self._selected(ids):
            try:
                new = schemes.copy_scheme(self.actor, scheme, schemes.suggest_copy_code(scheme))
            except ServiceError as error:
                flash(error.message, "error")
            else:
                flash(
                    f"已将 {scheme.code} 复制为新版本 {new.code}（第 {new.version} 版，草稿）",
                    "success",
                )

    def _selected(self, ids) -> list[Scheme]:
        wanted = [int(i) for i in ids if str(i).isdigit()]
        found = db.session.scalars(
            select(Scheme).where(Scheme.id.in_(wanted)).order_by(Scheme.code)
        )
        return list(found)


class DimensionView(SchemePartView):
    permission = "scheme.view"
    write_permission = "scheme.write"
    column_list = ["scheme", "code", "name", "order"]
    form_columns = ["scheme", "code", "name", "order"]
    column_labels = {
        "scheme": _l("指标方案"),
        "code": _l("维度代码"),
        "name": _l("维度名称"),
        "order": _l("排序"),
    }
    column_sortable_list = ["code", "name", "order"]
    column_filters = [
        IntEqualFilter(Dimension.scheme_id, _l("指标方案"), options=LiveOptions(_scheme_options))
    ]
    form_args = {
        "scheme": {"validators": [DataRequired("请选择指标方案")]},
        "code": {"validators": [DataRequired("请填写维度代码")]},
        "name": {"validators": [DataRequired("请填写维度名称")]},
    }


class IndicatorView(SchemePartView):
    permission = "scheme.view"
    write_permission = "scheme.write"
    column_list = [
        "scheme",
        "dimension",
        "code",
        "name",
        "points",
        "method",
        "direction",
        "target",
        "floor",
        "grade_fractions",
    ]
    form_columns = [
        "dimension",
        "code",
        "name",
        "points",
        "method",
        "direction",
        "target",
        "floor",
        "grade_fractions",
        "measure_unit",
        "value_min",
        "value_max",
        "integer_only",
        "data_source",
        "rule_text",
        "order",
    ]
    column_details_list = ["scheme", *form_columns]
    column_export_list = column_details_list
    column_labels = {
        "scheme": _l("指标方案"),
        "dimension": _l("维度"),
        "code": _l("指标代码"),
        "name": _l("指标名称"),
        "points": _l("分值"),
        "method": _l("计分方法"),
        "direction": _l("方向"),
        "target": _l("目标值"),
        "floor": _l("保底比例"),
        "grade_fractions": _l("等次系数"),
        "measure_unit": _l("计量单位"),
        "value_min": _l("允许最小值"),
        "value_max": _l("允许最大值"),
        "integer_only": _l("只允许整数"),
        "data_source": _l("数据来源"),
        "rule_text": _l("评分细则"),
        "order": _l("排序"),
    }
    column_choices = {"method": _choices(METHODS), "direction": _choices(DIRECTIONS)}
    column_formatters = {
        "scheme": lambda v, c, m, n: m.scheme.code,
        "grade_fractions": lambda v, c, m, n: schemes.format_grade_fractions(m.grade_fractions),
    }
    column_formatters_detail = column_formatters
    column_formatters_export = column_formatters
    column_searchable_list = ["code", "name"]
    column_sortable_list = ["code", "name", "points", "method", "order"]
    column_default_sort = [("scheme_id", False), ("order", False)]
    column_filters = [
        IntEqualFilter(Indicator.scheme_id, _l("指标方案"), options=LiveOptions(_scheme_options)),
        FilterEqual(Indicator.method, _l("计分方法"), options=_choices(METHODS)),
    ]
    form_choices = {"method": _choices(METHODS), "direction": _choices(DIRECTIONS)}
    form_overrides = {"grade_fractions": GradeFractionsField}
    form_args = {
        "dimension": {
            "query_factory": _dimensions,
            "get_label": lambda d: f"{d.scheme.code} · {d.code} {d.name}",
            "validators": [DataRequired("请选择维度")],
        },
        "code": {"validators": [DataRequired("请填写指标代码")]},
        "points": {"validators": [InputRequired("请填写分值")]},
        "target": {"description": "目标完成率法必填，须大于 0"},
        "floor": {"description": "横向比较法：最低者仍得的分值比例，0 ≤ 比例 < 1，留空为 0"},
        "grade_fractions": {
            "description": "等次评定法：如 A=1, B=0.85, C=0.7, D=0.5；留空用默认 "
            + default_fractions_text()
        },
        "value_min": {"description": "录入的数值不得小于此值（含）；留空不限。等次评定法不设"},
        "value_max": {"description": "录入的数值不得大于此值（含）；留空不限。如百分率填 100"},
        "integer_only": {"description": "件数、个数等只能录入整数"},
    }


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
    form_columns = ["code", "name", "start_date", "end_date", "town_scheme", "village_scheme"]
    column_labels = {
        "code": _l("周期代码"),
        "name": _l("周期名称"),
        "start_date": _l("开始日期"),
        "end_date": _l("结束日期"),
        "town_scheme": _l("镇街指标方案"),
        "village_scheme": _l("村居指标方案"),
        "status": _l("状态"),
        "submitted_by": _l("提交人"),
        "submitted_at": _l("提交时间"),
        "approved_by": _l("审定人"),
        "approved_at": _l("审定时间"),
    }
    column_details_list = [
        *column_list,
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
    }


# --- 系统管理 ------------------------------------------------------------------------------


class UserView(LedgerModelView):
    """Users: a password on creation, an optional new one on edit; the hash is never shown."""

    permission = "user.view"
    write_permission = "user.write"
    column_list = ["username", "display_name", "role", "group", "active", "created_at"]
    column_details_list = column_list
    column_export_list = column_list
    form_columns = [
        "username",
        "display_name",
        "role",
        "group",
        "active",
        "password",
        "new_password",
    ]
    column_labels = {
        "username": _l("用户名"),
        "display_name": _l("姓名"),
        "role": _l("角色"),
        "group": _l("研判小组"),
        "active": _l("启用"),
        "created_at": _l("创建时间"),
        "password": _l("密码"),
        "new_password": _l("新密码"),
    }
    column_choices = {"role": _choices(ROLES)}
    column_searchable_list = ["username", "display_name"]
    column_sortable_list = ["username", "role", "active", "created_at"]
    column_filters = [
        FilterEqual(User.role, _l("角色"), options=_choices(ROLES)),
        BooleanEqualFilter(User.active, _l("启用")),
    ]
    form_choices = {"role": _choices(ROLES)}
    form_extra_fields = {
        "password": PasswordField(
            _l("密码"),
            validators=[InputRequired("请设置密码"), Length(min=10, message="密码至少 10 位")],
        ),
        "new_password": PasswordField(
            _l("新密码"),
            validators=[Optional(), Length(min=10, message="密码至少 10 位")],
            description="留空则不修改密码",
        ),
    }
    form_args = {
        "username": {"validators": [DataRequired("请填写用户名"), Length(max=64)]},
        "group": {"description": "研判组成员只看到本小组的典型村"},
    }

    def create_form(self, obj=None):
        form = super().create_form(obj)
        del form.new_password
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.password
        return form

    def service_create(self, values: dict):
        username = (values.pop("username") or "").strip()
        return accounts.create_user(
            self.actor, username, values.pop("role"), values.pop("password"), **values
        )

    def service_delete(self, model) -> None:
        if model.id == self.actor.id:
            raise InvalidInput("不能删除当前登录的账号")
        super().service_delete(model)

    def service_update(self, model, values: dict) -> None:
        if model.id == self.actor.id and (
            values.get("role") != model.role or not values.get("active", True)
        ):
            # An administrator who demotes or disables themselves may lock everyone out.
            raise InvalidInput("不能修改当前登录账号自己的角色或停用自己，请由另一位系统管理员操作")
        new_password = values.pop("new_password", None)
        values.pop("password", None)
        # The field changes and the new password commit together or not at all.
        with writing(self.actor, "user.write"):
            records.update(self.actor, model, values)
            if new_password:
                accounts.set_password(self.actor, model, new_password)


class ApiTokenView(LedgerModelView):
    """API tokens: listed and revoked here (made with ``flask create-token``)."""

    permission = "user.view"
    write_permission = "token.write"
    allow_create = False
    allow_edit = False
    allow_delete = False
    column_list = ["name", "user", "created_at", "revoked_at"]
    column_details_list = column_list
    column_export_list = column_list
    column_labels = {
        "name": _l("令牌名称"),
        "user": _l("所属用户"),
        "created_at": _l("创建时间"),
        "revoked_at": _l("吊销时间"),
    }
    column_formatters = {
        "revoked_at": lambda v, c, m, n: (
            local_time(m.revoked_at)
            if m.revoked_at
            else Markup('<span class="badge badge-success">有效</span>')
        )
    }
    column_default_sort = ("created_at", True)
    column_sortable_list = ["name", "created_at", "revoked_at"]

    @action("revoke", _l("吊销"), _l("吊销后该令牌立即失效，且不能恢复。确定吊销？"))
    def action_revoke(self, ids) -> None:
        wanted = [int(i) for i in ids if str(i).isdigit()]
        tokens = db.session.scalars(select(ApiToken).where(ApiToken.id.in_(wanted))).all()
        for token in tokens:
            if token.revoked_at is not None:
                continue
            try:
                accounts.revoke_token(self.actor, token)
            except ServiceError as error:
                flash(error.message, "error")
            else:
                flash(f"令牌 {token.name} 已吊销", "success")


def model_views() -> list[LedgerModelView]:
    """Build the model views (new instances per app), in menu order."""
    return [
        TownView(Unit, db, name=_l("镇街"), category=CATEGORY_BASE, endpoint="town"),
        VillageView(Unit, db, name=_l("村居"), category=CATEGORY_BASE, endpoint="village"),
        AnalysisGroupView(
            AnalysisGroup, db, name=_l("研判小组"), category=CATEGORY_BASE, endpoint="group"
        ),
        CadreView(Cadre, db, name=_l("干部"), category=CATEGORY_CADRES, endpoint="cadre"),
        CadreRecordView(
            CadreRecord,
            db,
            name=_l("担当作为台账"),
            category=CATEGORY_CADRES,
            endpoint="cadre_record",
        ),
        KeyProjectView(
            KeyProject, db, name=_l("重点项目"), category=CATEGORY_PROJECTS, endpoint="project"
        ),
        ProjectUpdateView(
            ProjectUpdate,
            db,
            name=_l("项目进度"),
            category=CATEGORY_PROJECTS,
            endpoint="project_update",
        ),
        SchemeView(Scheme, db, name=_l("指标方案"), category=CATEGORY_SCHEMES, endpoint="scheme"),
        DimensionView(
            Dimension, db, name=_l("维度"), category=CATEGORY_SCHEMES, endpoint="dimension"
        ),
        IndicatorView(
            Indicator, db, name=_l("指标"), category=CATEGORY_SCHEMES, endpoint="indicator"
        ),
        PeriodView(Period, db, name=_l("考核周期"), category=CATEGORY_PERIODS, endpoint="period"),
        UserView(User, db, name=_l("用户"), category=CATEGORY_SYSTEM, endpoint="user"),
        ApiTokenView(ApiToken, db, name=_l("API 令牌"), category=CATEGORY_SYSTEM, endpoint="token"),
    ]

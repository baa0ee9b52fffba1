"""The base of every model view (docs/architecture.md#the-one-write-path): ``LedgerModelView``
and its fields, formatters and exports. Each room's ``admin.py`` holds its own views.

Every view writes through the rooms' operations: ``LedgerModelView`` replaces
Flask-Admin's own create/update/delete (which would ``session.commit()`` straight
from the form) with calls to ``history.records`` (or a room's own operation), so the
role check, the scheme freeze and the history event cannot be skipped from the admin.
Reading needs ``permission``; writing needs ``write_permission``, checked on every write
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
from flask import Response, abort, flash, redirect, stream_with_context
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import DatePickerWidget
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import Numeric
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DataError, IntegrityError
from wtforms import DecimalField, StringField

from evaluation.admin.access import AccessMixin
from evaluation.admin.list_args import ListArgsMixin
from evaluation.core.dates import DATE_HINT
from evaluation.core.downloads import content_disposition
from evaluation.core.numbers import exact, shown
from evaluation.core.permissions import can
from evaluation.core.spreadsheets import neutralize
from evaluation.core.writing import ServiceError
from evaluation.history import records
from evaluation.i18n import SHANGHAI, local_time
from forms.fields import LedgerDateField
from models.types import utcnow

#: The view functions that change data, or serve only the forms that do (the lookups
#: behind a form's search-as-you-type selects): they need ``write_permission``.
WRITE_VIEWS = frozenset(
    {
        "create_view",
        "edit_view",
        "delete_view",
        "action_view",
        "ajax_update",
        "ajax_lookup",
        "new_version_view",
    }
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


def choices(mapping: dict) -> list[tuple[str, str]]:
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

    @converts("Date")
    def convert_date(self, field_args, **extra):
        # The picker (Chinese, static/datepicker_zh.js) writes 2026-10-01; typing works too.
        field_args.setdefault("widget", DatePickerWidget())
        field_args.setdefault("render_kw", {"placeholder": "如 2026-10-01", "autocomplete": "off"})
        if not field_args.get("description"):
            field_args["description"] = f"可填 {DATE_HINT}，或在日历中选择"
        return LedgerDateField(**field_args)


class PairsField(StringField):
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


class LedgerModelView(AccessMixin, ListArgsMixin, ModelView):
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

    #: The model names its last writer (记录人, and 记录时间 when it has one): set on
    #: creation and on every edit, so an edit never shows the earlier writer's name.
    records_author = False

    def values_for_create(self, form) -> dict:
        return self._authored(self.form_values(form))

    def values_for_update(self, form, model) -> dict:
        return self._authored(self.form_values(form))

    def _authored(self, values: dict) -> dict:
        if self.records_author:
            values["recorded_by"] = self.actor.username
            if hasattr(self.model, "recorded_at"):
                values["recorded_at"] = utcnow()
        return values

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
        if isinstance(value, Markup):  # a list page's badge: its text, never its HTML
            return neutralize(value.striptags())
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

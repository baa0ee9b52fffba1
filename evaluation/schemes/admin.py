"""The scheme, dimension and indicator model views (指标方案): a published scheme is frozen."""

from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.validators import DataRequired, InputRequired, Length

from evaluation.admin.base import LedgerModelView, LiveOptions, PairsField, choices
from evaluation.core import labels
from evaluation.core.writing import ServiceError
from evaluation.schemes import operations as schemes
from evaluation.schemes.messages import default_fractions_text
from evaluation.web import int_arg
from evaluation.weights.admin import weights_link
from models import (
    Dimension,
    Indicator,
    Scheme,
    db,
)
from models.schemes import DIRECTIONS, METHODS, TIE_METHODS
from models.states import SchemeStatus
from models.units import LEVELS


def _scheme_options():
    rows = db.session.execute(select(Scheme.id, Scheme.code, Scheme.name).order_by(Scheme.code))
    return [(str(row.id), f"{row.name}（{row.code}）") for row in rows]


def _dimensions():
    return db.session.scalars(
        select(Dimension).join(Dimension.scheme).order_by(Scheme.code, Dimension.order)
    ).all()


class GradeFractionsField(PairsField):
    """Grade fractions typed as ``A=1, B=0.85`` and stored as ``{"A": "1", "B": "0.85"}``."""

    show = staticmethod(schemes.format_grade_fractions)
    read = staticmethod(schemes.parse_grade_fractions)


class GradeBandsField(PairsField):
    """Grade bands typed as ``好=90, 较好=80, 一般=60, 较差=0``."""

    stored_type = list
    show = staticmethod(schemes.format_grade_bands)
    read = staticmethod(schemes.parse_grade_bands)


# --- 指标方案 ------------------------------------------------------------------------------


class SchemePartView(LedgerModelView):
    """Scheme, dimension and indicator views. The edit page of a published scheme (or of
    one of its parts) shows its form read-only, with the scheme's 建立新版本 button
    instead of a save that would be refused (docs/rules.md#domain)."""

    permission = "scheme.view"
    write_permission = "scheme.write"
    edit_template = "admin/scheme_edit.html"
    details_template = "admin/scheme_details.html"

    @staticmethod
    def frozen_scheme(model) -> Scheme | None:
        """Return the published scheme ``model`` belongs to (None while it is a draft)."""
        scheme = model if isinstance(model, Scheme) else getattr(model, "scheme", None)
        if scheme is not None and scheme.status == SchemeStatus.PUBLISHED:
            return scheme
        return None

    def render(self, template, **kwargs):
        model = kwargs.get("model")
        frozen = self.frozen_scheme(model) if model is not None else None
        if frozen is not None and template in (self.edit_template, self.details_template):
            kwargs["frozen_scheme"] = frozen
            kwargs["frozen_notice"] = schemes.frozen_message(frozen)
            kwargs["next_version_code"] = schemes.next_version(frozen)[0]
            form = kwargs.get("form")
            if form is not None:
                for field in form:
                    field.render_kw = {**(field.render_kw or {}), "disabled": True}
        return super().render(template, **kwargs)


class SchemeView(SchemePartView):
    permission = "scheme.view"
    write_permission = "scheme.write"
    column_list = [
        "code", "name", "version", "level", "total", "tie_method", "status", "based_on", "weights",
    ]  # fmt: skip
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
    column_labels = labels.column_labels("scheme")
    column_descriptions = {"status": _l("已发布的方案不能修改，需在方案页面建立新版本")}
    column_choices = {
        "level": choices(LEVELS),
        "tie_method": choices(TIE_METHODS),
        "status": SchemeStatus.choices(),
    }
    column_formatters = {
        "grades": lambda v, c, m, n: schemes.format_grade_bands(m.grades),
        "based_on": lambda v, c, m, n: m.based_on.code if m.based_on else "",
        "weights": weights_link,
    }
    column_formatters_detail = column_formatters
    column_formatters_export = column_formatters
    column_searchable_list = ["code", "name"]
    column_sortable_list = ["code", "name", "version", "level", "status"]
    column_filters = [
        FilterEqual(Scheme.level, _l("适用层级"), options=choices(LEVELS)),
        FilterEqual(Scheme.status, _l("状态"), options=SchemeStatus.choices()),
    ]
    form_choices = {"level": choices(LEVELS), "tie_method": choices(TIE_METHODS)}
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

    @expose("/new-version/", methods=["POST"])
    def new_version_view(self):
        """建立新版本: copy a published scheme as its next version and open the copy's form."""
        scheme = db.session.get(Scheme, int_arg("id", request.form) or 0)
        if scheme is None:
            abort(404)
        try:
            new = schemes.new_version(self.actor, scheme)
        except ServiceError as error:
            flash(error.message, "error")
            return redirect(self.get_url(".details_view", id=scheme.id))
        flash(
            f"已为 {scheme.code} 建立新版本 {new.code}（第 {new.version} 版，草稿），"
            "可在此修改，改好后在方案列表中发布",
            "success",
        )
        return redirect(self.get_url(".edit_view", id=new.id))

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
    column_labels = labels.column_labels("dimension")
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
        "evidence_required",
        "rule_text",
        "order",
    ]
    column_details_list = ["scheme", *form_columns]
    column_export_list = column_details_list
    column_labels = labels.column_labels("indicator")
    column_choices = {"method": choices(METHODS), "direction": choices(DIRECTIONS)}
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
        FilterEqual(Indicator.method, _l("计分方法"), options=choices(METHODS)),
    ]
    form_choices = {"method": choices(METHODS), "direction": choices(DIRECTIONS)}
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

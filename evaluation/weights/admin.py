"""指标权重 (``/admin/weights/``): the weights behind a scheme version's points, and the AHP
form that sets them on a draft (docs/weights.md#in-the-scheme-editor).

The page reads; ``operations`` writes. Buttons that write show only to a role holding
``scheme.write`` (the service checks it again).
"""

from __future__ import annotations

import os

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from evaluation.admin.access import AccessMixin
from evaluation.core.numbers import shown
from evaluation.core.periods import periods_in_order
from evaluation.core.permissions import can
from evaluation.core.writing import InvalidInput, ServiceError
from evaluation.ranking import reading
from evaluation.scoring import weights as weighing
from evaluation.scoring.diagnostics import REDUNDANT
from evaluation.web import int_arg
from evaluation.weights import operations
from evaluation.weights.diagnostics import diagnostics_page
from evaluation.weights.sensitivity import method_sensitivity
from evaluation.weights.whatif import POINTS_FIELD, compare, points_from
from models import Dimension, Scheme, db
from models.states import SchemeStatus
from models.units import LEVELS
from models.weights import AHP_METHODS

ROOM = os.path.dirname(os.path.abspath(__file__))


class WeightsView(AccessMixin, BaseView):
    """The weights of a scheme version: the stored AHP matrices and the form that sets them."""

    permission = "scheme.view"

    def create_blueprint(self, admin):
        self.static_folder = "static"
        blueprint = super().create_blueprint(admin)
        # The room keeps its templates and script beside its code (templates/weights/…,
        # static/diagnostics.js, served at /admin/weights/static/).
        blueprint.root_path = ROOM
        blueprint.template_folder = "templates"
        return blueprint

    def _scheme(self) -> Scheme | None:
        scheme_id = int_arg("scheme", request.values)
        if scheme_id is not None:
            return db.session.get(Scheme, scheme_id)
        return db.session.scalars(
            select(Scheme).order_by(Scheme.status != SchemeStatus.DRAFT, Scheme.code)
        ).first()

    @expose("/")
    def index(self):
        schemes = list(db.session.scalars(select(Scheme).order_by(Scheme.code)))
        scheme = self._scheme()
        targets = []
        judgements = {}
        if scheme is not None:
            judgements = operations.judgements_of(scheme)
            items, parent = operations.items_for(scheme, None)
            targets.append(("", gettext("各维度之间"), items, parent, judgements.get("dimensions")))
            for dimension in scheme.dimensions:
                items, parent = operations.items_for(scheme, dimension)
                targets.append((
                    str(dimension.id),
                    gettext("维度 %(code)s %(name)s 的指标",
                            code=dimension.code, name=dimension.name),
                    items, parent, judgements.get(operations.target_of(dimension)),
                ))  # fmt: skip
        return self.render(
            "weights/index.html",
            schemes=schemes,
            scheme=scheme,
            targets=targets,
            can_write=can(current_user, "scheme.write"),
            methods=AHP_METHODS,
            limit=f"{weighing.CR_LIMIT:.2f}",
        )

    @expose("/ahp", methods=("GET", "POST"))
    def ahp(self):
        scheme = self._scheme()
        if scheme is None:
            flash("请先选择指标方案", "warning")
            return redirect(url_for(".index"))
        dimension = None
        dimension_id = int_arg("dimension", request.values)
        if dimension_id is not None:
            dimension = db.session.get(Dimension, dimension_id)
            if dimension is None or dimension.scheme_id != scheme.id:
                flash("维度不属于所选方案", "error")
                return redirect(url_for(".index", scheme=scheme.id))
        items, parent = operations.items_for(scheme, dimension)
        stored = operations.judgements_of(scheme).get(operations.target_of(dimension))
        errors: list[str] = []
        shown = None
        method = request.values.get("method") or (stored.method if stored else "eigenvector")
        reason = request.form.get("reason", "")
        if request.method == "POST":
            matrix = operations.matrix_from_form(request.form, len(items))
            try:
                if request.form.get("action") == "apply":
                    operations.apply_ahp(self.actor, scheme, dimension, matrix, method, reason)
                    flash("已按判断矩阵设定分值，判断矩阵已随方案保存", "success")
                    return redirect(url_for(".index", scheme=scheme.id))
                shown = operations.preview(scheme, dimension, matrix, method)
                errors = shown.problems
            except InvalidInput as error:
                errors = list(error.details or [error.message])
                try:
                    shown = operations.preview(scheme, dimension, matrix, method)
                except ServiceError:
                    shown = None
            except ServiceError as error:
                errors = [error.message]
        else:
            matrix = stored.matrix if stored and len(stored.matrix) == len(items) else None
        return self.render(
            "weights/ahp.html",
            scheme=scheme,
            dimension=dimension,
            items=items,
            parent=parent,
            matrix=matrix,
            stored=stored,
            shown=shown,
            errors=errors,
            method=method,
            reason=reason,
            methods=AHP_METHODS,
            choices=operations.SAATY_CHOICES,
            cell_text=operations.cell_text,
            limit=f"{weighing.CR_LIMIT:.2f}",
            can_write=can(current_user, "scheme.write") and scheme.status == SchemeStatus.DRAFT,
        )

    @expose("/diagnostics")
    def diagnostics(self):
        periods, period, level = _chosen("ranking")
        page, errors = None, []
        if period is not None:
            try:
                page = diagnostics_page(period, level, pooled=request.args.get("pooled") == "1")
            except ServiceError as error:
                errors = _messages(error)
        return self.render(
            "weights/diagnostics.html",
            periods=periods,
            period=period,
            level=level,
            levels=LEVELS,
            page=page,
            errors=errors,
            redundant=REDUNDANT,
        )

    @expose("/whatif")
    def whatif(self):
        periods, period, level = _chosen("whatif")
        notices = []
        if period is not None and int_arg("period") not in (None, period.id):
            notices.append(gettext("调整模拟只比较已审定的考核周期；已改为最近审定的一期。"))
        if not periods:
            notices.append(gettext("还没有已审定的考核周期，无法做调整模拟。"))
        versions = list(
            db.session.scalars(
                select(Scheme)
                .where(Scheme.level == level)
                .order_by(Scheme.status != SchemeStatus.DRAFT, Scheme.code)
            )
        )
        scheme_id = int_arg("scheme")
        scheme = next((s for s in versions if s.id == scheme_id), versions[0] if versions else None)
        comparison, errors, editable = None, notices, []
        if period is not None and scheme is not None:
            editable = [
                (
                    i["code"],
                    i["name"],
                    shown(i["points"]),
                    request.args.get(POINTS_FIELD + i["code"]),
                )
                for d in reading.scheme_document(scheme)["dimensions"]
                for i in d["indicators"]
            ]
            try:
                comparison = compare(period, level, scheme, points_from(request.args, scheme))
            except ServiceError as error:
                errors = _messages(error)
        return self.render(
            "weights/whatif.html",
            editable=editable,
            points_field=POINTS_FIELD,
            periods=periods,
            period=period,
            level=level,
            levels=LEVELS,
            versions=versions,
            scheme=scheme,
            comparison=comparison,
            errors=errors,
        )

    @expose("/sensitivity")
    def sensitivity(self):
        periods, period, level = _chosen("ranking")
        result, errors = None, []
        if period is not None:
            try:
                result = method_sensitivity(period, level)
            except ServiceError as error:
                errors = _messages(error)
        return self.render(
            "weights/sensitivity.html",
            periods=periods,
            period=period,
            level=level,
            levels=LEVELS,
            result=result,
            errors=errors,
        )

    @property
    def actor(self):
        return current_user._get_current_object()


def weights_link(view, context, model, name) -> Markup:
    """The scheme list's hook: a link to this room's page for the scheme."""
    label = gettext("AHP 设定") if model.status == SchemeStatus.DRAFT else gettext("查看")
    return Markup('<a href="{}">{}</a>').format(url_for("weights.index", scheme=model.id), label)


def _chosen(purpose: str):
    """The periods offered for ``purpose`` (evaluation/core/periods.py), the one asked for
    (else the preferred one) and the level asked for (else towns)."""
    periods = periods_in_order(purpose)
    period_id = int_arg("period")
    period = next((p for p in periods if p.id == period_id), periods[0] if periods else None)
    level = request.args.get("level") if request.args.get("level") in LEVELS else "town"
    return periods, period, level


def _messages(error: ServiceError) -> list[str]:
    """A refusal's messages, one per problem (its details may be texts or dicts)."""
    details = getattr(error, "details", None) or [error.message]
    return [d["message"] if isinstance(d, dict) else d for d in details]

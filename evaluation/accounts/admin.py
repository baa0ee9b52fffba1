"""The user and API-token model views (系统管理)."""

from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from wtforms import PasswordField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from evaluation.accounts import operations as accounts
from evaluation.admin.base import LedgerModelView, choices
from evaluation.core import labels
from evaluation.core.writing import InvalidInput, ServiceError, writing
from evaluation.history import records
from evaluation.i18n import local_time
from models import (
    ROLES,
    ApiToken,
    Unit,
    User,
    db,
)

# --- 系统管理 ------------------------------------------------------------------------------


class UserView(LedgerModelView):
    """Users: a password on creation, an optional new one on edit; the hash is never shown."""

    permission = "user.view"
    write_permission = "user.write"
    column_list = ["username", "display_name", "role", "group", "unit", "active", "created_at"]
    column_details_list = column_list
    column_export_list = column_list
    form_columns = [
        "username",
        "display_name",
        "role",
        "group",
        "unit",
        "active",
        "password",
        "new_password",
    ]
    column_labels = labels.column_labels("user")
    column_choices = {"role": choices(ROLES)}
    column_searchable_list = ["username", "display_name"]
    column_sortable_list = ["username", "role", "active", "created_at"]
    column_filters = [
        FilterEqual(User.role, _l("角色"), options=choices(ROLES)),
        BooleanEqualFilter(User.active, _l("启用")),
    ]
    form_choices = {"role": choices(ROLES)}
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
        # Only a reporter has a unit, and only a town (accounts.operations checks it too).
        "unit": {
            "description": _l("镇街填报员必填，只能看到和填报本镇街；其他角色留空"),
            "query_factory": lambda: db.session.scalars(
                select(Unit)
                .where(Unit.level == "town", Unit.active)
                .order_by(Unit.sort_order, Unit.code)
            ).all(),
        },
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
    column_labels = labels.column_labels("api_token")
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

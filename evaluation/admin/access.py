"""The one access mixin every admin view uses, the index included (docs/rules.md#security)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from evaluation.admin import dashboard
from evaluation.core.permissions import can
from models.reviews import PRIORITIES, REASONS


class AccessMixin:
    """Let a user in when they hold ``permission``; anonymous users go to the login page."""

    #: The permission (``evaluation.core.permissions``) needed to see this view.
    permission = "dashboard.view"

    def is_accessible(self) -> bool:
        return can(current_user, self.permission)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            flash("请先登录。", "warning")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)

    def is_visible(self) -> bool:
        return self.is_accessible()


class DashboardView(AccessMixin, AdminIndexView):
    permission = "dashboard.view"

    @expose("/")
    def index(self):
        return self.render(
            "admin/dashboard.html",
            board=dashboard.dashboard_for(current_user),
            admin_link=dashboard.admin_link,
            priorities=PRIORITIES,
            reasons=REASONS,
        )

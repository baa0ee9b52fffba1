"""Flask-Admin: one ``Admin`` per app, every view behind the same access mixin."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from evaluation.admin.access import DashboardView
from evaluation.security import csp_nonce
from evaluation.web import APP_TITLE


def init_admin(app: Flask) -> Admin:
    """Build the admin and register its views (a new one per app)."""
    admin = Admin(
        app,
        name=APP_TITLE,
        index_view=DashboardView(url="/admin", name=_l("首页")),
        csp_nonce_generator=csp_nonce,
        theme=Bootstrap4Theme(
            swatch="default", fluid=True, base_template="admin/ledger_master.html"
        ),
        # Chinese for the few messages Flask-Admin's own catalog leaves in English.
        translations_path=str(Path(__file__).resolve().parent.parent / "translations"),
    )
    from evaluation.admin.views import register_views

    register_views(admin)
    return admin

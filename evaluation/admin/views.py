"""Model views and custom pages, grouped in menus by what each role does.

Daily work comes first (entry, import, ranking, review: 考核工作), then the auditor's
history, then the base data an admin keeps. Each view shows only to the roles that
hold its permission, so every role sees a short menu of its own.
"""

from __future__ import annotations

from flask_admin import Admin
from flask_babel import lazy_gettext as _l

CATEGORY_WORK = _l("考核工作")


def register_views(admin: Admin) -> None:
    """Register every admin view on ``admin``."""
    from evaluation.admin.cadre_pages import CadreLedgerView
    from evaluation.admin.entry_view import EntryView
    from evaluation.admin.history_view import HistoryView
    from evaluation.admin.import_view import ImportView
    from evaluation.admin.model_views import (
        CATEGORY_CADRES,
        CATEGORY_PROJECTS,
        CATEGORY_SCHEMES,
        model_views,
    )
    from evaluation.admin.project_board import ProjectBoardView
    from evaluation.admin.ranking_view import RankingView
    from evaluation.admin.review_view import ReviewBoardView
    from evaluation.weights.admin import WeightsView

    work = [
        EntryView(
            name=_l("评分录入"), category=CATEGORY_WORK, endpoint="entry", url="/admin/entry"
        ),
        ImportView(
            name=_l("分数导入"), category=CATEGORY_WORK, endpoint="import", url="/admin/import"
        ),
        RankingView(
            name=_l("考核排名"), category=CATEGORY_WORK, endpoint="ranking", url="/admin/ranking"
        ),
        ReviewBoardView(
            name=_l("典型村研判"), category=CATEGORY_WORK, endpoint="review", url="/admin/review"
        ),
    ]
    for view in work:
        admin.add_view(view)
    from evaluation.reports import admin as reports_admin

    reports_admin.register(admin, CATEGORY_WORK)
    from evaluation.annual import admin as annual_admin

    annual_admin.register(admin, CATEGORY_WORK)
    admin.add_view(HistoryView(name=_l("变更历史"), endpoint="history", url="/admin/history"))
    for view in model_views():
        admin.add_view(view)
    admin.add_view(
        WeightsView(
            name=_l("指标权重"), category=CATEGORY_SCHEMES, endpoint="weights", url="/admin/weights"
        )
    )
    admin.add_view(
        CadreLedgerView(
            name=_l("干部台账"),
            category=CATEGORY_CADRES,
            endpoint="cadre_ledger",
            url="/admin/cadre-ledger",
        )
    )
    admin.add_view(
        ProjectBoardView(
            name=_l("挂图作战"),
            category=CATEGORY_PROJECTS,
            endpoint="project_board",
            url="/admin/projects-board",
        )
    )

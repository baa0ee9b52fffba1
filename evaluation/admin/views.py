"""Model views and custom pages, grouped in menus by what each role does."""

from __future__ import annotations

from flask_admin import Admin


def register_views(admin: Admin) -> None:
    """Register every admin view on ``admin``."""
    from evaluation.admin.model_views import model_views

    for view in model_views():
        admin.add_view(view)
    from evaluation.admin.history_view import HistoryView

    admin.add_view(HistoryView(name="变更历史", endpoint="history", url="/admin/history"))
    from evaluation.admin.entry_view import EntryView

    admin.add_view(EntryView(name="评分录入", endpoint="entry", url="/admin/entry"))
    from evaluation.admin.import_view import ImportView

    admin.add_view(ImportView(name="分数导入", endpoint="import", url="/admin/import"))
    from evaluation.admin.ranking_view import RankingView

    admin.add_view(RankingView(name="考核排名", endpoint="ranking", url="/admin/ranking"))
    from evaluation.admin.cadre_pages import CadreLedgerView
    from evaluation.admin.model_views import CATEGORY_CADRES, CATEGORY_PROJECTS
    from evaluation.admin.project_board import ProjectBoardView
    from evaluation.admin.review_view import ReviewBoardView

    admin.add_view(ReviewBoardView(name="典型村研判", endpoint="review", url="/admin/review"))
    admin.add_view(
        CadreLedgerView(
            name="干部台账", category=CATEGORY_CADRES, endpoint="cadre_ledger",
            url="/admin/cadre-ledger",
        )
    )
    admin.add_view(
        ProjectBoardView(
            name="挂图作战", category=CATEGORY_PROJECTS, endpoint="project_board",
            url="/admin/projects-board",
        )
    )

"""Model views and custom pages, grouped in menus by what each role does.

Daily work comes first (entry, import, ranking, review: 考核工作), then the auditor's
history, then the base data an admin keeps. Each view shows only to the roles that
hold its permission, so every role sees a short menu of its own.
"""

from __future__ import annotations

from flask_admin import Admin
from flask_babel import lazy_gettext as _l

#: Menu categories, grouped by what each role does; every room's views land in one of
#: them (a category is keyed by its text).
CATEGORY_WORK = _l("考核工作")
CATEGORY_BASE = _l("基础数据")
CATEGORY_CADRES = _l("干部管理")
CATEGORY_PROJECTS = _l("重点项目")
CATEGORY_SCHEMES = _l("指标方案")
CATEGORY_PERIODS = _l("考核周期")
CATEGORY_SYSTEM = _l("系统管理")


def register_views(admin: Admin) -> None:
    """Register every admin view on ``admin``."""
    from evaluation.cadres.pages import CadreLedgerView
    from evaluation.history.admin import HistoryView
    from evaluation.projects.board import ProjectBoardView
    from evaluation.ranking.admin import RankingView
    from evaluation.reviews.admin import ReviewBoardView
    from evaluation.scores.entry_view import EntryView
    from evaluation.scores.import_view import ImportView
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
    from evaluation.surveys import admin as surveys_admin

    surveys_admin.register(admin, CATEGORY_CADRES)
    from evaluation.publication import admin as publication_admin
    from evaluation.tolerance import admin as tolerance_admin

    publication_admin.register(admin, CATEGORY_WORK)
    tolerance_admin.register(admin, CATEGORY_WORK)
    from evaluation.reporting import admin as reporting_admin

    reporting_admin.register(admin, CATEGORY_WORK)
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


def model_views() -> list:
    """Build the model views of every room (new instances per app), in menu order."""
    from evaluation.accounts.admin import ApiTokenView, UserView
    from evaluation.cadres.admin import CadreRecordView, CadreView
    from evaluation.periods.admin import PeriodView
    from evaluation.projects.admin import KeyProjectView, ProjectUpdateView
    from evaluation.schemes.admin import DimensionView, IndicatorView, SchemeView
    from evaluation.units.admin import AnalysisGroupView, TownView, VillageView
    from models import (
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

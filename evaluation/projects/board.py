"""The key projects board (挂图作战, ``/admin/projects-board/``): progress and status at a glance.

A project's status is derived, never stored or typed: from its progress, its due date and
its first update, as of today (``project_status``), so a project cannot look on track
merely because nobody changed a field. The board, the cadre ledger and the project list
(``/admin/project/``) all show it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import request
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased, selectinload

from evaluation.admin.access import AccessMixin
from evaluation.core.permissions import can
from evaluation.i18n import SHANGHAI
from evaluation.web import int_arg
from models import Cadre, KeyProject, ProjectUpdate, Unit, db
from models.states import ProjectStatus

#: How far (percentage points) progress may trail the elapsed share of time before
#: a project counts as behind.
BEHIND_MARGIN = Decimal(20)
STATUS_BADGES = {"done": "success", "behind": "danger", "on_track": "primary"}


def project_status(
    progress: Decimal, due_date: date | None, today: date, started: date | None = None
) -> str:
    """Return a key project's status: ``done``, ``behind`` or ``on_track``.

    - ``done`` when progress has reached 100 %;
    - ``behind`` when the due date has passed (``today`` is after it), or when progress
      trails the elapsed share of the time between ``started`` (the first progress
      update) and the due date by more than ``BEHIND_MARGIN`` (20) percentage points;
    - ``on_track`` otherwise — also without a due date, and before the first update.

    The elapsed share is ``(today − started) / (due − started) × 100``, exact Decimal.
    """
    progress = Decimal(progress)
    if progress >= 100:
        return "done"
    if due_date is None:
        return "on_track"
    if today > due_date:
        return "behind"
    if started is not None and started < due_date and today > started:
        elapsed = Decimal((today - started).days) * 100 / Decimal((due_date - started).days)
        if elapsed - progress > BEHIND_MARGIN:
            return "behind"
    return "on_track"


def shanghai_today() -> date:
    """Return today's date in Asia/Shanghai (a due date is a local date)."""
    return datetime.now(SHANGHAI).date()


def derived_status(project: KeyProject, today: date | None = None) -> str:
    """Return one project's status as of ``today`` (default: today in Shanghai)."""
    started = project.updates[0].date if project.updates else None
    return project_status(project.progress, project.due_date, today or shanghai_today(), started)


def project_rows(projects: list[KeyProject], today: date) -> list[dict]:
    """Return each project with its computed status, first update date and latest update."""
    updates: dict[int, list[ProjectUpdate]] = {}
    if projects:
        for update in db.session.scalars(
            select(ProjectUpdate)
            .where(ProjectUpdate.project_id.in_([p.id for p in projects]))
            .order_by(ProjectUpdate.date, ProjectUpdate.id)
        ):
            updates.setdefault(update.project_id, []).append(update)
    rows = []
    for project in projects:
        history = updates.get(project.id, [])
        started = history[0].date if history else None
        rows.append(
            {
                "project": project,
                "status": project_status(project.progress, project.due_date, today, started),
                "started": started,
                "latest": history[-1] if history else None,
                "updates": len(history),
            }
        )
    return rows


class ProjectBoardView(AccessMixin, BaseView):
    permission = "project.view"

    @expose("/")
    def index(self):
        town_id = int_arg("town")
        cadre_id = int_arg("cadre")
        status = request.args.get("status", "")
        place = aliased(Unit)
        query = (
            select(KeyProject)
            .outerjoin(place, place.id == KeyProject.unit_id)
            .options(
                selectinload(KeyProject.unit).selectinload(Unit.parent),
                selectinload(KeyProject.lead_cadre),
            )
        )
        if town_id is not None:
            # A village's project belongs to its town too.
            query = query.where(or_(place.id == town_id, place.parent_id == town_id))
        if cadre_id is not None:
            query = query.where(KeyProject.lead_cadre_id == cadre_id)
        projects = list(db.session.scalars(query.order_by(KeyProject.code)))
        today = shanghai_today()
        rows = project_rows(projects, today)
        counts = {key: sum(1 for r in rows if r["status"] == key) for key in ProjectStatus.labels()}
        if status in ProjectStatus.labels():
            rows = [r for r in rows if r["status"] == status]

        towns = list(
            db.session.scalars(
                select(Unit).where(Unit.level == "town").order_by(Unit.sort_order, Unit.code)
            )
        )
        leads = list(
            db.session.scalars(
                select(Cadre)
                .where(Cadre.id.in_(select(KeyProject.lead_cadre_id)))
                .order_by(Cadre.name)
            )
        )
        return self.render(
            "admin/project_board.html",
            rows=rows,
            counts=counts,
            total=sum(counts.values()),
            statuses=ProjectStatus.labels(),
            badges=STATUS_BADGES,
            towns=towns,
            leads=leads,
            town_id=town_id,
            cadre_id=cadre_id,
            status=status,
            today=today,
            can_view_cadres=can(current_user, "cadre.view"),
        )

"""Cadre ledger pages (干部担当作为台账, ``/admin/cadre-ledger/``).

A cadre's records grouped by the 四个导向, their mentor and mentees (结对培养), the key
projects they lead, and — for a town's leaders — the town's rank across periods; plus a
printable A4 ledger sheet. The plain editable tables live at ``/admin/cadre/`` and
``/admin/cadre_record/``; these pages only read.
"""

from __future__ import annotations

from collections import Counter

from flask import abort, request
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, selectinload

from evaluation.admin.access import AccessMixin
from evaluation.core.permissions import can
from evaluation.core.states import PeriodStatus
from evaluation.core.writing import ServiceError
from evaluation.evidence import operations as evidence
from evaluation.grades import any_values, shown_grade
from evaluation.i18n import local_time
from evaluation.projects.board import project_rows, shanghai_today
from evaluation.ranking import reading
from evaluation.web import int_arg
from models import Cadre, CadreRecord, KeyProject, Period, Unit, db
from models.cadres import EVALUATIONS, ORIENTATIONS, town_leader_role
from models.states import ProjectStatus
from models.types import utcnow

PAGE_SIZE = 50


def is_town_leader(cadre: Cadre) -> bool:
    """Tell whether a cadre leads a town (its 书记 or 镇长), whose ranking is theirs too."""
    return town_leader_role(cadre) is not None


def records_by_orientation(records: list[CadreRecord]) -> list[dict]:
    """Group a cadre's records by the 四个导向, newest first, with counts per evaluation."""
    groups = []
    for code, label in ORIENTATIONS.items():
        entries = sorted(
            (r for r in records if r.orientation == code),
            key=lambda r: (r.date, r.id),
            reverse=True,
        )
        tally = Counter(r.evaluation for r in entries if r.evaluation)
        groups.append(
            {
                "code": code,
                "label": label,
                "records": entries,
                "count": len(entries),
                "evaluations": [(grade, tally[grade]) for grade in EVALUATIONS if tally[grade]],
            }
        )
    return groups


def town_rank_trend(town: Unit) -> list[dict]:
    """Return the town's rank, total and grade in each period that has figures, oldest first.

    A period in which no town has any value yet (one just opened) has no figures: its
    ranks and totals are only what missing values default to (docs/missing-values.md).
    """
    trend = []
    periods = db.session.scalars(
        select(Period)
        .where(Period.status != PeriodStatus.DRAFT)
        .order_by(Period.end_date, Period.id)
    )
    for period in periods:
        try:
            answer = reading.ranking(period, "town")
        except ServiceError:
            continue  # a period whose figures cannot be computed yet shows nothing
        results = answer["results"]
        mine = next((r for r in results if r["unit"] == town.code), None)
        if mine is None or not any_values(results):
            continue
        trend.append(
            {
                "period": period,
                "rank": mine["rank"],
                "total": mine["total"],
                "grade": shown_grade(mine),
                "of": len(results),
                "complete": mine["complete"],
            }
        )
    return trend


def with_records(trend: list[dict], records: list[CadreRecord]) -> list[dict]:
    """Put beside each period of a leader's town results the leader's own 担当作为 records
    of that period: those filed under it, or undated by period but dated within it."""
    for row in trend:
        period = row["period"]
        row["records"] = sorted(
            (
                r
                for r in records
                if r.period_id == period.id
                or (r.period_id is None and period.start_date <= r.date <= period.end_date)
            ),
            key=lambda r: (r.date, r.id),
        )
    return trend


class CadreLedgerView(AccessMixin, BaseView):
    permission = "cadre.view"

    @expose("/")
    def index(self):
        town_id = int_arg("town")
        position = request.args.get("position", "").strip()
        tag = request.args.get("tag", "").strip()
        name = request.args.get("q", "").strip()
        page = max(int_arg("page") or 1, 1)

        place = aliased(Unit)
        town = aliased(Unit)
        query = (
            select(Cadre)
            .outerjoin(place, place.id == Cadre.unit_id)
            .outerjoin(town, town.id == place.parent_id)
            .options(
                selectinload(Cadre.unit).selectinload(Unit.parent),
                selectinload(Cadre.mentor),
            )
        )
        if town_id is not None:
            query = query.where(or_(place.id == town_id, place.parent_id == town_id))
        if position:
            query = query.where(Cadre.position == position)
        if tag:
            query = query.where(Cadre.tags.contains(tag, autoescape=True))
        if name:
            query = query.where(Cadre.name.contains(name, autoescape=True))
        # One row more than the page tells whether a next page exists, without a COUNT.
        cadres = list(
            db.session.scalars(
                # Town by town: the town's own cadres first, then its villages'.
                query.order_by(
                    func.coalesce(town.sort_order, place.sort_order),
                    func.coalesce(town.code, place.code),
                    place.level,
                    place.sort_order,
                    Cadre.id,
                )
                .limit(PAGE_SIZE + 1)
                .offset((page - 1) * PAGE_SIZE)
            )
        )
        has_next = len(cadres) > PAGE_SIZE
        cadres = cadres[:PAGE_SIZE]
        ids = [c.id for c in cadres]
        record_counts = dict(
            db.session.execute(
                select(CadreRecord.cadre_id, func.count())
                .where(CadreRecord.cadre_id.in_(ids))
                .group_by(CadreRecord.cadre_id)
            ).all()
        )
        project_counts = dict(
            db.session.execute(
                select(KeyProject.lead_cadre_id, func.count())
                .where(KeyProject.lead_cadre_id.in_(ids))
                .group_by(KeyProject.lead_cadre_id)
            ).all()
        )
        tags = sorted(
            {
                t.strip()
                for text in db.session.scalars(select(Cadre.tags).distinct())
                for t in (text or "").split(",")
                if t.strip()
            }
        )
        return self.render(
            "admin/cadre_index.html",
            cadres=cadres,
            record_counts=record_counts,
            project_counts=project_counts,
            towns=list(
                db.session.scalars(
                    select(Unit).where(Unit.level == "town").order_by(Unit.sort_order, Unit.code)
                )
            ),
            positions=list(
                db.session.scalars(
                    select(Cadre.position).where(Cadre.position != "").distinct().order_by(
                        Cadre.position
                    )
                )
            ),
            tags=tags,
            town_id=town_id,
            position=position,
            tag=tag,
            name=name,
            page=page,
            has_next=has_next,
        )

    def _ledger(self, cadre_id: int) -> dict:
        cadre = db.session.get(Cadre, cadre_id)
        if cadre is None:
            abort(404)
        records = list(
            db.session.scalars(
                select(CadreRecord)
                .where(CadreRecord.cadre_id == cadre.id)
                .options(selectinload(CadreRecord.period))
            )
        )
        mentees = list(
            db.session.scalars(
                select(Cadre)
                .where(Cadre.mentor_id == cadre.id)
                .options(selectinload(Cadre.unit))
                .order_by(Cadre.name)
            )
        )
        projects = list(
            db.session.scalars(
                select(KeyProject)
                .where(KeyProject.lead_cadre_id == cadre.id)
                .options(selectinload(KeyProject.unit))
                .order_by(KeyProject.code)
            )
        )
        leader = is_town_leader(cadre)
        return {
            "cadre": cadre,
            "tags": [t.strip() for t in (cadre.tags or "").split(",") if t.strip()],
            "orientations": records_by_orientation(records),
            "record_total": len(records),
            "mentees": mentees,
            "projects": project_rows(projects, shanghai_today()),
            "statuses": ProjectStatus.labels(),
            "is_town_leader": leader,
            "trend": with_records(town_rank_trend(cadre.unit), records) if leader else [],
            "can_view_projects": can(current_user, "project.view"),
            "can_view_ranking": can(current_user, "ranking.view"),
            "can_view_reports": can(current_user, "report.view"),
            # 佐证材料 of each record (docs/evidence.md#the-partial)
            "record_files": evidence.evidence_for_many("cadre_record", [r.id for r in records]),
            "can_attach": can(current_user, "cadre_record.write"),
        }

    @expose("/<int:cadre_id>")
    def detail(self, cadre_id: int):
        return self.render("admin/cadre_ledger.html", **self._ledger(cadre_id))

    @expose("/<int:cadre_id>/print")
    def sheet(self, cadre_id: int):
        return self.render(
            "admin/cadre_sheet.html",
            printed_at=local_time(utcnow(), "%Y-%m-%d %H:%M"),
            **self._ledger(cadre_id),
        )

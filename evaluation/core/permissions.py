"""Who may do what: every role rule of docs/rules.md#roles-and-permissions, named once.

Views ask ``can(user, "...")`` to decide what to show; services call
``core.writing.require`` with the same names, so a hidden button is never the
only guard.
"""

from __future__ import annotations

from models import ROLES

ALL_ROLES = frozenset(ROLES)
#: Everyone who works at the district: every role but the town's reporter (镇街填报员), who
#: sees its own town only (docs/reporting.md#the-reporter).
STAFF = ALL_ROLES - {"reporter"}

PERMISSIONS: dict[str, frozenset[str]] = {
    # reading
    #: The home page and one's own password: everyone (a reporter's home page shows its
    #: own town's reporting only).
    "dashboard.view": ALL_ROLES,
    "base_data.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    "cadre.view": frozenset({"admin", "supervisor", "auditor", "reviewer"}),
    "scheme.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    #: The period list (admin and API): the district's staff; a reporter sees its own
    #: town's reporting page instead.
    "period.view": STAFF,
    "ranking.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    #: A town's report, its DOCX and the 通报 (docs/reports.md): whoever reads the ranking.
    "report.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    #: 年度综合考评 (docs/annual.md): read like the ranking; defined by the admin,
    #: calibrated by the supervisor.
    "annual.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    "review.view": frozenset({"admin", "supervisor", "auditor", "reviewer"}),
    #: 民主测评 (docs/surveys.md): the surveys' pages and their turnout; the tally only
    #: once a survey is closed (the state is checked by the surveys room).
    "survey.view": frozenset({"admin", "supervisor", "auditor"}),
    "survey.tally": frozenset({"admin", "supervisor", "auditor"}),
    #: See (and, with review.write, act on) every analysis group's villages, not only one's own.
    "review.all_groups": frozenset({"admin", "supervisor", "auditor"}),
    "project.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    "history.view": frozenset({"admin", "auditor"}),
    "history.export": frozenset({"admin", "auditor"}),
    #: Sign a checkpoint of the chain's tail on demand (docs/history.md#checkpoints).
    "history.checkpoint": frozenset({"admin", "auditor"}),
    #: The auditor reads everything, users and token names included (never hashes).
    "user.view": frozenset({"admin", "auditor"}),
    "entry.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    #: The import page and its dry run; applying an import needs score.write.
    "import.view": frozenset({"admin", "assessor"}),
    #: ``GET /api/v1/summary`` (counts of the whole ledger): the staff.
    "api.read": STAFF,
    #: Claims (自评, docs/reporting.md): a reporter its own town's only
    #: (``reporter_unit``); the staff every town's.
    "claim.view": frozenset({"admin", "assessor", "supervisor", "auditor", "reporter"}),
    #: The verification page and the reporting states of every town.
    "claim.review": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    #: Every stored 佐证材料, whatever it supports (docs/evidence.md#who-sees-a-file); the
    #: others see a file through what it is linked to.
    "evidence.view_all": frozenset({"admin", "auditor"}),
    #: Asking for a file over the API: every role, a reporter too; whether the file is
    #: shown is ``evidence.may_see``'s answer (what it supports).
    "evidence.read": ALL_ROLES,
    # writing
    "base_data.write": frozenset({"admin"}),
    "cadre.write": frozenset({"admin"}),
    "cadre_record.write": frozenset({"admin", "supervisor"}),
    "project.write": frozenset({"admin"}),
    "project.update": frozenset({"admin", "assessor", "supervisor"}),
    "scheme.write": frozenset({"admin"}),
    "period.write": frozenset({"admin"}),
    "user.write": frozenset({"admin"}),
    "token.write": frozenset({"admin"}),
    "score.write": frozenset({"assessor"}),
    "period.open": frozenset({"admin", "supervisor"}),
    "period.submit": frozenset({"assessor"}),
    "period.return": frozenset({"supervisor"}),
    "period.approve": frozenset({"supervisor"}),
    "period.reopen": frozenset({"admin"}),
    "annual.write": frozenset({"admin"}),
    #: Set up, publish and close a survey, issue its codes (docs/surveys.md).
    "survey.write": frozenset({"admin"}),
    "annual.calibrate": frozenset({"supervisor"}),
    "review.write": frozenset({"reviewer", "supervisor"}),
    #: A town's own claims: fill in, attach evidence, submit (own town only).
    "claim.write": frozenset({"reporter"}),
    #: Verdicts on submitted claims (accept / adjust / return) and reopening a town's
    #: reporting after the deadline.
    "claim.verify": frozenset({"assessor"}),
    # opening review cases for flagged typical villages (on approval, or by flag-villages --sync)
    "review.sync": frozenset({"admin", "supervisor"}),
    # 公示, 异议 and 容错纠错 (docs/publication.md). A reporter sees and acts for its own
    # town only: the operations check the town, these names check the role.
    "publication.view": frozenset({"admin", "assessor", "supervisor", "auditor", "reporter"}),
    "publication.open": frozenset({"supervisor"}),
    "objection.lodge": frozenset({"reporter"}),
    "objection.answer": frozenset({"assessor"}),
    "tolerance.view": frozenset({"admin", "assessor", "supervisor", "auditor", "reporter"}),
    "tolerance.apply": frozenset({"reporter", "admin"}),
    "tolerance.verify": frozenset({"assessor"}),
    "tolerance.determine": frozenset({"supervisor"}),
    "tolerance.situations": frozenset({"admin"}),
    #: Export the auditor's evidence bundle (flask export-evidence, docs/evidence.md).
    "evidence.export": frozenset({"admin", "auditor"}),
}


def reporter_unit(user) -> int | None:
    """The id of the one town ``user`` may see, when it is a reporter (镇街填报员); None for
    every other role, whose reach the permissions alone decide.

    Everything that shows or writes a town's claims, evidence or values asks this
    (docs/reporting.md#the-reporter). A reporter without a unit (impossible: the
    ``unit_bound`` CHECK) would get -1, a town that does not exist.
    """
    if user is None or getattr(user, "role", None) != "reporter":
        return None
    unit_id = getattr(user, "unit_id", None)
    return unit_id if unit_id is not None else -1


def may_see_unit(user, unit_id: int) -> bool:
    """Tell whether ``user``'s reach includes the town ``unit_id`` (a reporter: its own)."""
    own = reporter_unit(user)
    return own is None or own == unit_id


def can(user, permission: str) -> bool:
    """Tell whether ``user`` (may be anonymous) holds ``permission``."""
    roles = PERMISSIONS[permission]
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", False):
        return False
    return getattr(user, "role", None) in roles

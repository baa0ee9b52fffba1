"""Who may do what: every role rule of docs/rules.md#roles-and-permissions, named once.

Views ask ``can(user, "...")`` to decide what to show; services call
``core.writing.require`` with the same names, so a hidden button is never the
only guard.
"""

from __future__ import annotations

from models import ROLES

ALL_ROLES = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    # reading
    "dashboard.view": ALL_ROLES,
    "base_data.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    "cadre.view": frozenset({"admin", "supervisor", "auditor", "reviewer"}),
    "scheme.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    "period.view": ALL_ROLES,
    "ranking.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    #: A town's report, its DOCX and the 通报 (docs/reports.md): whoever reads the ranking.
    "report.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    #: 年度综合考评 (docs/annual.md): read like the ranking; defined by the admin,
    #: calibrated by the supervisor.
    "annual.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    "review.view": frozenset({"admin", "supervisor", "auditor", "reviewer"}),
    #: See (and, with review.write, act on) every analysis group's villages, not only one's own.
    "review.all_groups": frozenset({"admin", "supervisor", "auditor"}),
    "project.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    "history.view": frozenset({"admin", "auditor"}),
    "history.export": frozenset({"admin", "auditor"}),
    #: The auditor reads everything, users and token names included (never hashes).
    "user.view": frozenset({"admin", "auditor"}),
    "entry.view": frozenset({"admin", "assessor", "supervisor", "auditor"}),
    #: The import page and its dry run; applying an import needs score.write.
    "import.view": frozenset({"admin", "assessor"}),
    "api.read": ALL_ROLES,
    #: Every stored 佐证材料, whatever it supports (docs/evidence.md#who-sees-a-file); the
    #: others see a file through what it is linked to.
    "evidence.view_all": frozenset({"admin", "auditor"}),
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
    "annual.calibrate": frozenset({"supervisor"}),
    "review.write": frozenset({"reviewer", "supervisor"}),
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


def can(user, permission: str) -> bool:
    """Tell whether ``user`` (may be anonymous) holds ``permission``."""
    roles = PERMISSIONS[permission]
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", False):
        return False
    return getattr(user, "role", None) in roles

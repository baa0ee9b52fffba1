from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.types import utcnow

#: The six roles of docs/rules.md#roles-and-permissions, code → Chinese name. Named here once.
ROLES = {
    "admin": _l("系统管理员"),
    "assessor": _l("考核组成员"),
    "supervisor": _l("督导审核"),
    "auditor": _l("审计"),
    "reviewer": _l("研判组成员"),
    "reporter": _l("镇街填报员"),
}
#: The roles bound to one town (``User.unit_id``); every other role has no unit.
UNIT_ROLES = frozenset({"reporter"})
_ROLE_LIST = ", ".join(f"'{r}'" for r in ROLES)
_UNIT_ROLE_LIST = ", ".join(f"'{r}'" for r in sorted(UNIT_ROLES))
#: A reporter has its town; nobody else has one (docs/reporting.md#the-reporter).
UNIT_BOUND_RULE = (
    f"(role IN ({_UNIT_ROLE_LIST}) AND unit_id IS NOT NULL)"
    f" OR (role NOT IN ({_UNIT_ROLE_LIST}) AND unit_id IS NULL)"
)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLE_LIST})", name="role_known"),
        CheckConstraint(UNIT_BOUND_RULE, name="unit_bound"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16))
    #: A reviewer sees the typical villages of this group only.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("analysis_group.id"))
    #: A reporter (镇街填报员) reports for this town only; null for every other role.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    #: argon2id hash; never shown, never written to the history.
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Part of the id every session cookie carries; a new one (logout, password change,
    #: deactivation) ends every session made before (docs/rules.md#security).
    session_nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))

    group = relationship("AnalysisGroup", back_populates="members", foreign_keys=[group_id])
    unit = relationship("Unit", foreign_keys=[unit_id])

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in
        return self.active

    def get_id(self) -> str:  # Flask-Login: what the session cookie names
        return f"{self.id}:{self.session_nonce}"

    @property
    def role_name(self) -> str:
        return str(ROLES.get(self.role, self.role))

    def __str__(self) -> str:
        return self.display_name or self.username


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    name: Mapped[str] = mapped_column(String(64), default="")
    #: SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user = relationship("User")

    def __str__(self) -> str:
        return self.name


class LoginFailure(db.Model):
    """One failed password check, kept in the database so throttling holds across workers
    (docs/rules.md#security)."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``pair:<name>|<address>``: one failed password check of that account from there.
    key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(default=utcnow)


def display_names(usernames) -> dict[str, str]:
    """Map each username given to the name people know that user by: the display name, or
    the username itself when the user has none or is unknown (a system actor)."""
    names = {name for name in usernames if name}
    if not names:
        return {}
    shown = {name: name for name in names}
    rows = db.session.execute(
        select(User.username, User.display_name).where(User.username.in_(names))
    )
    for username, display in rows:
        shown[username] = display or username
    return shown

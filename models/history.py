"""变更历史: the append-only, hash-chained history table (docs/rules.md#history-chain).

Database triggers refuse UPDATE and DELETE on SQLite and PostgreSQL alike; the
same DDL is used by ``create_all`` (tests) and by the Alembic migration.
"""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from models import db


class HistoryEvent(db.Model):
    __tablename__ = "history_event"
    __table_args__ = (
        Index("ix_history_event_period_seq", "period", "seq"),
        Index("ix_history_event_entity_key", "entity", "entity_key"),
        Index("ix_history_event_actor", "actor"),
        Index("ix_history_event_action", "action"),
        Index("ix_history_event_at", "at"),
    )

    #: 1, 2, 3, … without gaps; assigned under the append lock.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    #: UTC time exactly as hashed: ``2026-11-27T08:00:00.123456Z``.
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    entity: Mapped[str] = mapped_column(String(48))
    entity_key: Mapped[str] = mapped_column(String(160))
    period: Mapped[str | None] = mapped_column(String(16))
    #: JSON object of the changed fields before the change (text, as hashed).
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


SQLITE_TRIGGERS = [
    """CREATE TRIGGER history_event_no_update BEFORE UPDATE ON history_event
BEGIN SELECT RAISE(ABORT, 'history_event is append-only'); END""",
    """CREATE TRIGGER history_event_no_delete BEFORE DELETE ON history_event
BEGIN SELECT RAISE(ABORT, 'history_event is append-only'); END""",
]
POSTGRESQL_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION history_event_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'history_event is append-only';
END;
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER history_event_no_update_delete BEFORE UPDATE OR DELETE ON history_event
FOR EACH ROW EXECUTE FUNCTION history_event_append_only()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS history_event_no_update_delete ON history_event",
    "DROP FUNCTION IF EXISTS history_event_append_only()",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS history_event_no_update",
    "DROP TRIGGER IF EXISTS history_event_no_delete",
]


def trigger_statements(dialect: str) -> list[str]:
    """Return the DDL that makes the history table append-only on this dialect."""
    return POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS


for _statement in SQLITE_TRIGGERS:
    event.listen(
        HistoryEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in POSTGRESQL_TRIGGERS:
    event.listen(
        HistoryEvent.__table__,
        "after_create",
        DDL(_statement).execute_if(dialect="postgresql"),
    )

"""变更历史: the append-only, hash-chained history table (docs/rules.md#history-chain).

Database triggers refuse UPDATE, DELETE, TRUNCATE and any INSERT that does not extend
the chain, on SQLite and PostgreSQL alike; the same DDL is used by ``create_all``
(tests) and by the Alembic migrations.
"""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, Index, Integer, String, Text, event
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


class HistoryCheckpoint(db.Model):
    """A signed checkpoint of the chain's tail (docs/history.md#checkpoints): the last
    event's ``seq`` and ``hash`` at ``at``, signed with the installation's Ed25519 key.

    Written at every approval (in its transaction, covering its events), with every
    history export (covering the export's own event) and on demand. The rows are a
    convenience copy: a checkpoint proves a cut tail only from a copy kept outside the
    database (printed on the approval record, saved beside an export).
    """

    __tablename__ = "history_checkpoint"
    __table_args__ = (Index("ix_history_checkpoint_period", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    #: UTC time of the signature, as the history writes times.
    at: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(16))
    #: Base64 of the 64-byte Ed25519 signature.
    signature: Mapped[str] = mapped_column(String(88))
    #: ``approval``, ``export`` or ``on_demand``.
    occasion: Mapped[str] = mapped_column(String(16))
    #: The approved period's code (approvals only).
    period: Mapped[str | None] = mapped_column(String(16))
    made_by: Mapped[str] = mapped_column(String(64))

    def document(self) -> dict:
        """The five fields an auditor keeps (``flask history-checkpoint`` writes the same)."""
        return {
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "key_id": self.key_id,
            "signature": self.signature,
        }


#: The first revision's guard: no UPDATE, no DELETE.
_SQLITE_FIRST = [
    """CREATE TRIGGER history_event_no_update BEFORE UPDATE ON history_event
BEGIN SELECT RAISE(ABORT, 'history_event is append-only'); END""",
    """CREATE TRIGGER history_event_no_delete BEFORE DELETE ON history_event
BEGIN SELECT RAISE(ABORT, 'history_event is append-only'); END""",
]
_POSTGRESQL_FIRST = [
    """CREATE OR REPLACE FUNCTION history_event_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'history_event is append-only';
END;
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER history_event_no_update_delete BEFORE UPDATE OR DELETE ON history_event
FOR EACH ROW EXECUTE FUNCTION history_event_append_only()""",
]
#: Added by revision e7a2c4d9f310 (docs/rules.md#history-chain): an insert must extend
#: the chain — the next ``seq`` after the last and the last event's hash as
#: ``prev_hash`` — so SQLite's ``INSERT OR REPLACE`` (which deletes without firing the
#: DELETE trigger) is refused; PostgreSQL's ``TRUNCATE`` fires no row trigger, hence a
#: statement-level one.
_SQLITE_EXTEND = [
    """CREATE TRIGGER history_event_extend_only BEFORE INSERT ON history_event
WHEN NEW.seq IS NOT COALESCE((SELECT max(seq) FROM history_event), 0) + 1
  OR NEW.prev_hash IS NOT COALESCE(
    (SELECT hash FROM history_event ORDER BY seq DESC LIMIT 1), hex(zeroblob(32)))
BEGIN SELECT RAISE(ABORT, 'history_event is append-only: an insert must extend the chain'); END""",
]
_POSTGRESQL_EXTEND = [
    """CREATE OR REPLACE FUNCTION history_event_extend_only() RETURNS trigger AS $$
DECLARE
  last_seq bigint;
  last_hash varchar;
BEGIN
  SELECT seq, hash INTO last_seq, last_hash FROM history_event ORDER BY seq DESC LIMIT 1;
  IF NEW.seq IS DISTINCT FROM COALESCE(last_seq, 0) + 1
     OR NEW.prev_hash IS DISTINCT FROM COALESCE(last_hash, repeat('0', 64)) THEN
    RAISE EXCEPTION 'history_event is append-only: an insert must extend the chain';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER history_event_extend_only BEFORE INSERT ON history_event
FOR EACH ROW EXECUTE FUNCTION history_event_extend_only()""",
    """CREATE TRIGGER history_event_no_truncate BEFORE TRUNCATE ON history_event
FOR EACH STATEMENT EXECUTE FUNCTION history_event_append_only()""",
]

#: Every guard, as ``create_all`` (tests) makes them; the migrations add them by revision.
SQLITE_TRIGGERS = _SQLITE_FIRST + _SQLITE_EXTEND
POSTGRESQL_TRIGGERS = _POSTGRESQL_FIRST + _POSTGRESQL_EXTEND
#: What each migration adds, by revision.
TRIGGERS_BY_REVISION = {
    "bed63a44549d": {"sqlite": _SQLITE_FIRST, "postgresql": _POSTGRESQL_FIRST},
    "e7a2c4d9f310": {"sqlite": _SQLITE_EXTEND, "postgresql": _POSTGRESQL_EXTEND},
}
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS history_event_no_truncate ON history_event",
    "DROP TRIGGER IF EXISTS history_event_extend_only ON history_event",
    "DROP FUNCTION IF EXISTS history_event_extend_only()",
    "DROP TRIGGER IF EXISTS history_event_no_update_delete ON history_event",
    "DROP FUNCTION IF EXISTS history_event_append_only()",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS history_event_extend_only",
    "DROP TRIGGER IF EXISTS history_event_no_update",
    "DROP TRIGGER IF EXISTS history_event_no_delete",
]


def trigger_statements(dialect: str, revision: str | None = None) -> list[str]:
    """Return the DDL that makes the history table append-only on this dialect: all of
    it, or what the migration ``revision`` adds."""
    if revision is not None:
        return TRIGGERS_BY_REVISION[revision]["postgresql" if dialect == "postgresql" else "sqlite"]
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

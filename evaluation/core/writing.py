"""Errors, actors and the write transaction every service runs in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Table, bindparam, update

from evaluation.core.permissions import can
from evaluation.database import take_write_lock
from models import db


class ServiceError(Exception):
    """A refused change, with a message fit to show the user (Chinese)."""

    status = 400

    def __init__(self, message: str, *, details=None):
        super().__init__(message)
        self.message = message
        self.details = details


class Forbidden(ServiceError):
    """The actor's role may not do this."""

    status = 403


class StateError(ServiceError):
    """The period (or scheme) is not in a state that allows this change."""

    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    """A stale version: ``details`` carries the current value and who changed it."""

    status = 409


class TooManyAttempts(ServiceError):
    """Too many wrong passwords from this address for this account: wait ``retry_after``
    seconds (docs/rules.md#security)."""

    status = 429

    def __init__(self, retry_after: int):
        super().__init__(f"尝试次数过多，请 {retry_after} 秒后再试。")
        self.retry_after = retry_after


class InvalidInput(ServiceError):
    """Bad input; ``details`` lists every problem."""

    status = 422


@dataclass(frozen=True)
class SystemActor:
    """An actor that is not a logged-in user: the CLI, the demo seeder."""

    username: str
    role: str = "admin"
    is_authenticated: bool = True
    is_active: bool = True


def require(actor, permission: str) -> None:
    """Refuse unless ``actor`` holds ``permission``."""
    if not can(actor, permission):
        raise Forbidden("无权执行此操作")


@contextmanager
def writing(actor, permission: str | None = None, *, keep_loaded: bool = False) -> Iterator:
    """Run one serialized write transaction; commit at the end, roll back on error.

    Nested calls join the outer transaction, so a service may call another.

    ``keep_loaded``: the commits that end the read transaction before the lock and the
    write transaction after it leave loaded objects as they are instead of expiring them,
    so a hot path (one value's PUT) does not read back every object it had already read.
    The operation must then re-read under the lock all it depends on — it does so in one
    query (``scores.operations.set_score``) — and the objects it wrote hold exactly what
    was committed (docs/architecture.md#the-one-write-path). On PostgreSQL the read
    transaction then simply goes on into the lock, without a COMMIT, a new connection
    check-out and a BEGIN: at READ COMMITTED every statement after the lock sees all that
    was committed before it.
    """
    if permission is not None:
        require(actor, permission)
    session = db.session
    if session.info.get("writing"):
        yield session
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a write began with unsaved changes outside the service layer")
    inner = session()
    expire = inner.expire_on_commit
    if keep_loaded:
        inner.expire_on_commit = False
    try:
        if not (keep_loaded and _reads_committed(session)):
            # End any read transaction so the lock is taken on fresh data.
            session.commit()
        session.info["writing"] = True
        try:
            take_write_lock(session)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.info.pop("writing", None)
            session.info.pop("history_tail", None)
    finally:
        inner.expire_on_commit = expire


def _reads_committed(session) -> bool:
    """Whether each statement of the session's transaction sees every commit made before
    it (PostgreSQL at READ COMMITTED, its default), so a lock taken mid-transaction needs
    no new transaction to read fresh data. SQLite's write lock needs a new transaction
    (``BEGIN IMMEDIATE``)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    return session.connection().default_isolation_level == "READ COMMITTED"


def in_write(session=None) -> bool:
    """Tell whether the session is inside ``writing``."""
    return bool((session or db.session).info.get("writing"))


def update_rows(session, table: Table, names, rows: list[dict], *, key: str = "_id") -> None:
    """Set the columns ``names`` of many rows of ``table`` in one executemany: each of
    ``rows`` holds its row's id under ``key`` and the new values under their names. The
    bulk writers (``records.update_many``, ``ledger.write_values``) share it."""
    if rows:
        session.execute(
            update(table)
            .where(table.c.id == bindparam(key))
            .values({name: bindparam(name) for name in names}),
            rows,
        )

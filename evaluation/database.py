"""Engine set-up: SQLite pragmas and write serialization on both databases.

Every write transaction (``core.writing.writing``) is serialized: on SQLite it
begins with ``BEGIN IMMEDIATE`` (the write lock, waited for with a busy timeout),
on PostgreSQL it takes a transaction-level advisory lock. That keeps the history
chain from forking and makes the version checks of the ledger race-free.
"""

from __future__ import annotations

import contextvars

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

#: Set by ``core.writing.writing`` just before the write transaction begins.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "write_intent", default=False
)

#: Any constant will do; it names "the ledger's write lock" for PostgreSQL.
ADVISORY_LOCK_KEY = 4_452_030_001
#: The login-throttling counters' lock: logins need not wait for a long import on PostgreSQL.
LOGIN_LOCK_KEY = 4_452_030_002


def configure_engine(engine: Engine) -> None:
    """Install the pragmas and transaction hooks the ledger relies on."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, emit BEGIN (so we can make it IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection):
        if write_intent.get():
            write_intent.set(False)
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def take_write_lock(session, key: int = ADVISORY_LOCK_KEY) -> None:
    """Start the session's write transaction, holding the ledger's write lock (or, on
    PostgreSQL, the advisory lock ``key``)."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        write_intent.set(True)
        try:
            session.execute(text("SELECT 1"))
        finally:
            write_intent.set(False)
    else:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

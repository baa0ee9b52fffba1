"""Which databases ``make bench`` measures, and the side-by-side table of their figures.

SQLite always; PostgreSQL when a server answers. Its URL, first found wins:

1. ``BENCH_PG_URL`` — the bench database itself (created if missing);
2. ``DATABASE_URL`` naming PostgreSQL (``make bench DATABASE_URL=postgresql+psycopg://…``);
3. the server of ``TEST_DATABASE_URL``, with a database of its own, ``ledger_bench``
   (the tests' database is never used);
4. the local server, ``postgresql+psycopg://postgres@127.0.0.1:5432/ledger_bench``.

A database named this way is created when missing; a server that does not answer leaves
the PostgreSQL column out with a message saying why. ``postgresql://`` URLs are read as
``postgresql+psycopg://`` (the driver the project installs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from common import Row, _pad, _width
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BENCH_DATABASE = "ledger_bench"
LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "none": "measured"}

#: ``Row.scope`` values: measured on each database (the default), or the same figure
#: whatever the database (the pure engine), or one that only SQLite has.
PER_DATABASE = "database"
NO_DATABASE = "engine"
SQLITE_ONLY = "sqlite"


def driver_url(url: str) -> str:
    """``postgresql://…`` → ``postgresql+psycopg://…``; other URLs unchanged."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def postgresql_url(environ=os.environ) -> tuple[str, str]:
    """Return the PostgreSQL bench URL and where it came from."""
    if environ.get("BENCH_PG_URL"):
        return driver_url(environ["BENCH_PG_URL"]), "BENCH_PG_URL"
    database_url = driver_url(environ.get("DATABASE_URL", ""))
    if database_url.startswith("postgresql"):
        return database_url, "DATABASE_URL"
    test_url = driver_url(environ.get("TEST_DATABASE_URL", ""))
    if test_url.startswith("postgresql"):
        server = make_url(test_url).set(database=BENCH_DATABASE)
        return server.render_as_string(hide_password=False), "TEST_DATABASE_URL's server"
    return LOCAL_SERVER + BENCH_DATABASE, "the local server"


def ensure_postgresql(url: str) -> str | None:
    """Create the database of ``url`` when its server answers and it is missing.

    Returns None when the database is ready, else why it cannot be used (one line).
    """
    target = make_url(url)
    server = create_engine(
        target.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with server.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            ).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    except Exception as error:  # any failure means: no PostgreSQL column
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"{type(error).__name__}: {first[:200]}"
    finally:
        server.dispose()
    return None


@dataclass
class Column:
    """One database's run: its rows, keyed by (step, position in the step)."""

    dialect: str
    rows: dict[tuple[str, int], Row]


def keyed(step: str, rows: list[Row]) -> dict[tuple[str, int], Row]:
    return {(step, n): row for n, row in enumerate(rows)}


def print_side_by_side(columns: list[Column], order: list[tuple[str, int]], title: str) -> None:
    """Print every row once with each database's figure, floor, target and verdict.

    A row of the pure engine (``scope`` "engine") is measured once and says so in the other
    column; a SQLite-only row says so in the PostgreSQL column.
    """
    head = ["figure"]
    for column in columns:
        name = NAMES[column.dialect]
        head += [name, "floor (same run)", "target", "ok"]
    lines: list[list[str]] = []
    notes: list[str] = []
    for key in order:
        present = [c.rows[key] for c in columns if key in c.rows]
        if not present:
            continue
        first = present[0]
        figure = first.figure
        scope = getattr(first, "scope", PER_DATABASE)
        line = [figure + (" (no database)" if scope == NO_DATABASE else "")]
        for column in columns:
            row = column.rows.get(key)
            if row is None:
                if scope == NO_DATABASE:
                    line += ["(measured once, left)", "", "", ""]
                elif scope == SQLITE_ONLY and column.dialect != "sqlite":
                    line += ["(SQLite only)", "", "", ""]
                else:
                    line += ["(not measured)", "", "", "NO"]
                continue
            ok = "—" if row.ok is None else ("yes" if row.ok else "NO")
            line += [row.measured, row.floor, row.target, ok]
            if row.note:
                notes.append(f"  {figure.strip()} — {NAMES[column.dialect]}: {row.note}")
            if row.figure != figure:
                notes.append(f"  {figure.strip()} — {NAMES[column.dialect]}: “{row.figure}”")
        lines.append(line)
    widths = [max(_width(h), *(_width(line[n]) for line in lines)) for n, h in enumerate(head)]
    print(title)
    print(" | ".join(_pad(h, w) for h, w in zip(head, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for line in lines:
        print(" | ".join(_pad(c, w) for c, w in zip(line, widths, strict=True)).rstrip())
    if notes:
        print("\nnotes:")
        print("\n".join(notes))
    print(flush=True)

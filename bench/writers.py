"""Benchmark 8 concurrent API writers against gunicorn (docs/rules.md#scale-targets).

gunicorn serves the bench database on 127.0.0.1; 8 threads, each with its own
keep-alive connection and the assessor's API token, PUT scores into the open period:

- each round, a writer sets three cells of its own town (no contention, as most entry
  is), then increments ONE counter cell shared by all eight (read-modify-write with
  ``version``: on 409 it takes the current value and version from the answer and
  tries again).

No lost update: the counter's final value is its start plus the number of successful
increments, and its version grew by exactly that number. No 5xx. The p95 of every PUT
is the figure; the floor is the p95 of ``GET /api/v1/periods`` (token check and a tiny
query) under the same 8 threads. Bounded: ``--requests`` rounds per writer and
``--limit`` seconds. Run from the repository root::

    .venv/bin/python bench/writers.py [--keep] [--workers 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from common import ROOT, Row, add_arguments, app_context, prepare, print_rows, seconds
from sqlalchemy import select, text

from evaluation.accounts import operations as accounts
from models import Indicator, Period, Unit, User, db

PERIOD = "2026-12"
#: A target-method indicator; the counter steps by a cent so a run's few hundred increments
#: stay inside its allowed range (-50 to 100 in the demo).
COUNTER_INDICATOR = "A01"
COUNTER_STEP = Decimal("0.01")
#: Each writer also keeps its own town's three cells up to date (no contention there).
OWN_INDICATORS = ("A03", "A05", "B04")
WRITERS = 8
P95_TARGET = 0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Tally:
    put_times: list[float] = field(default_factory=list)
    #: PUTs to a writer's own cells (a subset of ``put_times``).
    own_times: list[float] = field(default_factory=list)
    get_times: list[float] = field(default_factory=list)
    increments: int = 0
    conflicts: int = 0
    server_errors: int = 0
    other_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body=None) -> tuple[int, dict | list, float]:
        data = None if body is None else json.dumps(body)
        start = time.perf_counter()
        self.connection.request(method, path, body=data, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - start
        try:
            parsed = json.loads(payload or b"null", parse_float=Decimal)
        except ValueError:
            parsed = {"raw": payload[:200].decode("utf-8", "replace")}
        return response.status, parsed, elapsed


def current_of(answer: dict) -> tuple[Decimal | None, int | None]:
    details = answer.get("details") or {}
    value = details.get("value")
    return (None if value is None else Decimal(value)), details.get("version")


def writer(port, token, counter_path, own_paths, requests, deadline, tally: Tally, index: int):
    client = Client(port, token)
    value, version = None, None
    own_versions: dict[str, int | None] = dict.fromkeys(own_paths)
    for step in range(requests):
        if time.perf_counter() > deadline:
            break
        # Cells of its own: the write path without contention, as most entry is.
        for path in own_paths:
            status, answer, elapsed = client.request(
                "PUT",
                path,
                {"value": str(50 + index + step), "note": "", "version": own_versions[path]},
            )
            _count(tally, "own", status, elapsed, answer)
            if status == 200:
                own_versions[path] = answer["version"]
            elif status == 409:
                own_versions[path] = current_of(answer)[1]
        # The shared counter: read-modify-write guarded by its version.
        while time.perf_counter() < deadline:
            new_value = "1" if value is None else str(value + COUNTER_STEP)
            status, answer, elapsed = client.request(
                "PUT", counter_path, {"value": new_value, "note": "", "version": version}
            )
            _count(tally, "put", status, elapsed, answer)
            if status == 200:
                value, version = Decimal(answer["value"]), answer["version"]
                with tally.lock:
                    tally.increments += 1
                break
            if status == 409:
                value, version = current_of(answer)
                with tally.lock:
                    tally.conflicts += 1
                continue
            break
        status, answer, elapsed = client.request("GET", "/api/v1/periods")
        _count(tally, "get", status, elapsed, answer)


def _count(tally: Tally, kind: str, status: int, elapsed: float, answer) -> None:
    with tally.lock:
        if kind == "get":
            tally.get_times.append(elapsed)
        else:
            tally.put_times.append(elapsed)
            if kind == "own":
                tally.own_times.append(elapsed)
        if status >= 500:
            tally.server_errors += 1
        elif status not in (200, 409):
            tally.other_errors.append(f"{status} {str(answer)[:120]}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (0 when it is gone or unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields 14 and 15 of proc(5), counted from the one after the command's ")" as 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(server_pid: int) -> list[int]:
    """The gunicorn master's worker processes."""
    try:
        text = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


def database_pids(bench) -> list[int]:
    """PostgreSQL: the server processes serving the bench database (the app servers'
    pooled connections); SQLite: none (its work is done inside the app servers)."""
    if bench.dialect != "postgresql":
        return []
    with app_context(bench):
        return list(
            db.session.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        )


def cpu_of(pids) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in pids}


def used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings (a process new since ``before`` counts from 0)."""
    return sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items())


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0


def measure(bench, *, workers: int = 4, requests: int = 20, limit: float = 90.0) -> list[Row]:
    """Run 8 writers against gunicorn and check for lost updates and 5xx."""
    with app_context(bench):
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assessor = db.session.scalar(select(User).where(User.username == "assessor"))
        token = accounts.create_token(admin, assessor, "bench-writers")
        period = db.session.scalar(select(Period).where(Period.code == PERIOD))
        towns = db.session.scalars(
            select(Unit.code).where(Unit.level == "town").order_by(Unit.sort_order).limit(9)
        ).all()
        assert db.session.scalar(
            select(Indicator.id).where(
                Indicator.scheme_id == period.town_scheme_id, Indicator.code == COUNTER_INDICATOR
            )
        )
    port = free_port()
    log = Path(bench.folder) / "gunicorn.log"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--no-control-socket",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=bench.environment(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(port, token)
        base = f"/api/v1/periods/{PERIOD}/scores"
        counter_path = f"{base}/{towns[0]}/{COUNTER_INDICATOR}"
        probe = Client(port, token)
        status, answer, _ = probe.request(
            "PUT", counter_path, {"value": "0", "note": "", "version": None}
        )
        start_value, start_version = current_of(answer) if status == 409 else (None, None)
        tally = Tally()
        # CPU the app servers and (PostgreSQL) the database processes use during the run:
        # what a request costs whatever else the machine is doing.
        app_before = cpu_of(worker_pids(server.pid))
        database_before = cpu_of(database_pids(bench))
        deadline = time.perf_counter() + limit
        threads = [
            threading.Thread(
                target=writer,
                args=(
                    port,
                    token,
                    counter_path,
                    [f"{base}/{towns[k + 1]}/{code}" for code in OWN_INDICATORS],
                    requests,
                    deadline,
                    tally,
                    k,
                ),
            )
            for k in range(WRITERS)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        app_cpu = used(app_before, cpu_of(worker_pids(server.pid)))
        database_cpu = used(database_before, cpu_of(database_pids(bench)))
        status, answer, _ = probe.request(
            "PUT", counter_path, {"value": "0", "note": "", "version": None}
        )
        end_value, end_version = current_of(answer)
    finally:
        server.terminate()
        server.wait(timeout=30)
    # The writers start from the stored value, whatever it was (the counter restarts at 1
    # only when they find none), so compare the growth of the version and of the value.
    version_growth = (end_version or 0) - (start_version or 0)
    lost = tally.increments - version_growth
    value_ok = start_value is None or end_value == start_value + COUNTER_STEP * tally.increments
    puts = len(tally.put_times)
    requests_made = puts + len(tally.get_times)
    worst = p95(tally.put_times)
    ok = lost == 0 and value_ok and tally.server_errors == 0 and worst < P95_TARGET
    note = (
        f"{puts:,} PUTs in {seconds(wall)} by {WRITERS} writers on {workers} gunicorn workers; "
        f"{tally.increments} increments of the shared cell, {tally.conflicts} conflicts (409) "
        f"retried; p95 of own-cell PUTs {seconds(p95(tally.own_times))}; "
        f"CPU per request {cpu_per_request(app_cpu, database_cpu, requests_made, bench)}"
    )
    if tally.other_errors:
        note += f"; other answers: {tally.other_errors[:2]}"
    return [
        Row(
            f"{WRITERS} concurrent API writers, p95 of PUT",
            seconds(worst),
            f"< {seconds(P95_TARGET)}",
            f"p95 GET /periods {seconds(p95(tally.get_times))}",
            ok,
            note,
        ),
        Row(
            "  lost updates / 5xx",
            f"{lost} lost, {tally.server_errors} 5xx",
            "0 lost, 0 5xx",
            "",
            lost == 0 and value_ok and tally.server_errors == 0,
            f"counter {start_value} → {end_value}, version {start_version} → {end_version}",
        ),
    ]


def cpu_per_request(app_cpu: float, database_cpu: float, requests: int, bench) -> str:
    """The app servers' (and PostgreSQL's) CPU per request of the run, PUTs and GETs."""
    if not requests:
        return "—"
    answer = f"app {app_cpu / requests * 1000:.1f} ms"
    if bench.dialect == "postgresql":
        answer += f" + database {database_cpu / requests * 1000:.1f} ms"
    return answer


def _wait_for(port: int, token: str, timeout: float = 180) -> None:
    until = time.perf_counter() + timeout
    while time.perf_counter() < until:
        try:
            status, _, _ = Client(port, token).request("GET", "/api/v1/periods")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--requests", type=int, default=20, help="rounds per writer")
    parser.add_argument("--limit", type=float, default=90.0, help="stop after N seconds")
    arguments = parser.parse_args()
    bench = prepare(arguments)
    try:
        print_rows(
            measure(
                bench,
                workers=arguments.workers,
                requests=arguments.requests,
                limit=arguments.limit,
            )
        )
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()

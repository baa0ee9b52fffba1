"""Benchmark the verification page (自评核实) of a province period (docs/reporting.md#scale).

A SQLite file in a temporary folder holds 1,609 towns, the demo's 19-indicator town
scheme, an open period with a deadline, and for every town a claim on every indicator
(30,571 claims) in a mix of states, an assessed value for half of them and a photo linked
to every fifth claim. The towns and scheme go through the operations (``records``,
``create_scheme``); the claims, scores and evidence rows are bulk inserted (bench data:
what the page reads, not how it was written). The figure is the server time of
``GET /admin/verification/?period=…`` through the Flask test client as an assessor: the
first page, a page deep in the list, one town by name, and the overdue filter — one
warm-up, then the median of five. Target: < 200 ms (docs/reporting.md#scale).

Run from the repository root::

    .venv/bin/python bench/reporting.py [--towns 1609]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from common import Row, print_rows, seconds
from sqlalchemy import insert, select

from evaluation import create_app
from evaluation.accounts import operations as accounts
from evaluation.core.writing import SystemActor, writing
from evaluation.demo.district import create_scheme
from evaluation.demo.district_data import TOWN_SCHEME
from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.reporting import operations as reporting
from models import Claim, Evidence, EvidenceLink, Indicator, Period, Score, Unit, db

TARGET = 0.2
RUNS = 5
PASSWORD = "bench-password-2026"
ACTOR = SystemActor("bench")
STATES = ("draft", "submitted", "accepted", "adjusted", "returned")


def build(app, towns: int) -> str:
    with app.app_context():
        db.create_all()
        accounts.create_user(ACTOR, "admin", "admin", PASSWORD)
        admin = db.session.scalar(select(accounts.User).where(accounts.User.username == "admin"))
        accounts.create_user(admin, "assessor", "assessor", PASSWORD)
        scheme, _ = create_scheme(admin, TOWN_SCHEME)
        rows = [
            {"code": f"44{n:010d}", "name": f"第{n}镇", "level": "town", "kind": "镇",
             "sort_order": n, "county": f"44{n // 20:04d}"}
            for n in range(1, towns + 1)
        ]  # fmt: skip
        unit_ids = records.create_rows(admin, Unit, rows)
        period = records.create(
            admin, Period,
            {"code": "P2026Q3", "name": "2026年第三季度（省）",
             "start_date": reporting.local_today() - timedelta(days=60),
             "end_date": reporting.local_today() + timedelta(days=30),
             "town_scheme": scheme, "report_due": reporting.local_today() - timedelta(days=1)},
        )  # fmt: skip
        periods.open_period(admin, period)
        indicators = list(
            db.session.scalars(select(Indicator).where(Indicator.scheme_id == scheme.id))
        )
        claims, scores = [], []
        now = reporting.utcnow()
        for k, unit_id in enumerate(unit_ids):
            if k % 7 == 6:
                continue  # a town that has not begun
            for j, ind in enumerate(indicators):
                grade = next(iter(ind.fractions)) if ind.method == "grade" else None
                number = None if grade else Decimal(1 + (k + j) % 5)
                status = STATES[(k + j) % len(STATES)]
                claims.append({
                    "period_id": period.id, "unit_id": unit_id, "indicator_id": ind.id,
                    "number": number, "grade": grade, "statement": "自评说明", "status": status,
                    "version": 1, "updated_by": "bench", "updated_at": now,
                    "verdict_reason": "核减" if status in ("returned", "adjusted") else "",
                })  # fmt: skip
                if k % 2 == 0:
                    scores.append({
                        "period_id": period.id, "unit_id": unit_id, "indicator_id": ind.id,
                        "number": number, "grade": grade, "note": "", "entered_by": "bench",
                        "updated_at": now, "version": 1,
                    })  # fmt: skip
        with writing(ACTOR):
            db.session.execute(insert(Claim), claims)
            db.session.execute(insert(Score), scores)
            claim_ids = list(db.session.scalars(select(Claim.id).order_by(Claim.id)))
            evidence_rows = [
                {"sha256": hashlib.sha256(str(i).encode()).hexdigest(), "size": 2048,
                 "media_type": "image/jpeg", "original_name": f"照片{i}.jpg",
                 "uploaded_by": "bench", "uploaded_at": now}
                for i in range(len(claim_ids) // 5 + 1)
            ]  # fmt: skip
            db.session.execute(insert(Evidence), evidence_rows)
            evidence_ids = list(db.session.scalars(select(Evidence.id).order_by(Evidence.id)))
            db.session.execute(
                insert(EvidenceLink),
                [
                    {"evidence_id": evidence_ids[i // 5], "target_type": "claim",
                     "target_id": claim_id, "name": "照片.jpg", "linked_by": "bench",
                     "linked_at": now}
                    for i, claim_id in enumerate(claim_ids) if i % 5 == 0
                ],
            )  # fmt: skip
        print(f"  built: {towns:,} towns, {len(claims):,} claims, {len(scores):,} scores")
        code = "P2026Q3"
        db.session.remove()
        return code


def server_time(client, url: str) -> tuple[float, int]:
    response = client.get(url)
    status = response.status_code
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        status = response.status_code
    times.sort()
    return times[len(times) // 2], status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=1609)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ledger-bench-reporting-"))
    try:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
                "SECRET_KEY": "bench-secret-key",
                "WTF_CSRF_ENABLED": False,
                "PASSWORD_HASH_FAST": True,
                "EVIDENCE_STORE": str(folder / "evidence"),
            }
        )
        started = time.perf_counter()
        code = build(app, arguments.towns)
        print(f"  built in {seconds(time.perf_counter() - started)}", flush=True)
        client = app.test_client()
        client.post("/login", data={"username": "assessor", "password": PASSWORD})
        base = f"/admin/verification/?period={code}"
        rows = []
        for label, url in (
            ("verification page, first 10 towns", base),
            ("verification page, page 60", f"{base}&page=60"),
            ("verification page, one town by name", f"{base}&q=第1234镇"),
            ("verification page, overdue filter", f"{base}&state=overdue"),
        ):
            median, status = server_time(client, url)
            rows.append(
                Row(
                    f"{label} ({arguments.towns:,} towns)",
                    seconds(median) + ("" if status == 200 else f" (HTTP {status})"),
                    f"< {seconds(TARGET)}",
                    "",
                    median < TARGET and status == 200,
                )
            )
        floor, _ = server_time(client, "/account/password")
        for row in rows:
            row.floor = f"password form {seconds(floor)}"
        print_rows(rows, title="自评核实 (server time, median of 5)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

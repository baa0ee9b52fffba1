"""Time the weights room's read pages at province scale (docs/weights.md#what-if).

The what-if page (a period's 1,609 towns scored under another scheme version, beside the
ranking as it stands), the diagnostics page and the method-sensitivity page (one engine
run per alternative choice; the target is the what-if's), through the Flask test client as the
supervisor: one warm-up request, then the median of a few. Runs against a database that
``flask seed-demo --scale province`` has filled (a scratch copy: the supervisor's
password is set and a draft version of the town scheme is added)::

    DATABASE_URL=sqlite:////tmp/province.db .venv/bin/python bench/weights_pages.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from evaluation import create_app  # noqa: E402
from evaluation.accounts import operations as accounts  # noqa: E402
from evaluation.core.periods import default_period  # noqa: E402
from evaluation.core.writing import SystemActor  # noqa: E402
from evaluation.history import records  # noqa: E402
from evaluation.schemes import operations as schemes  # noqa: E402
from models import Indicator, Scheme, User, db  # noqa: E402

TARGET = 2.0
RUNS = 5
PASSWORD = "bench-weights-1234"
SETUP = SystemActor("bench")


def main() -> None:
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to a database filled by seed-demo --scale province")
    app = create_app({"PASSWORD_HASH_FAST": True, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        supervisor = db.session.scalar(select(User).where(User.username == "supervisor"))
        accounts.set_password(SETUP, supervisor, PASSWORD)
        published = db.session.scalar(
            select(Scheme).where(Scheme.level == "town", Scheme.status == "published")
        )
        draft = db.session.scalar(select(Scheme).where(Scheme.code == "BENCH-WHATIF"))
        if draft is None:
            draft = schemes.copy_scheme(SETUP, published, "BENCH-WHATIF")
            first, second = db.session.scalars(
                select(Indicator).where(Indicator.scheme_id == draft.id).order_by(Indicator.order)
            ).all()[:2]
            # Move a point from the first indicator to the second: some towns move.
            records.update(SETUP, first, {"points": first.points - 1})
            records.update(SETUP, second, {"points": second.points + 1})
        period = default_period("ranking")
        urls = {
            "what-if": f"/admin/weights/whatif?period={period.id}&level=town&scheme={draft.id}",
            "diagnostics": f"/admin/weights/diagnostics?period={period.id}&level=town",
            "sensitivity": f"/admin/weights/sensitivity?period={period.id}&level=town",
        }
        db.session.remove()
    client = app.test_client()
    client.post("/login", data={"username": "supervisor", "password": PASSWORD})
    for name, url in urls.items():
        assert client.get(url).status_code == 200, name  # warm-up
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
        median = statistics.median(times)
        verdict = "ok" if median < TARGET else "MISSED"
        print(f"{name:12} median {median:.3f} s of {RUNS} (target < {TARGET} s): {verdict}")


if __name__ == "__main__":
    main()

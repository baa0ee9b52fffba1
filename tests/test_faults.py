"""Faults (docs/rules.md#security): a writer killed mid-approval, hostile uploads.

The killed import is tested in tests/test_import.py; here the approval, which writes the
most kinds of rows in one transaction (superseded flags, snapshots, the period's status,
its history event, review cases).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from openpyxl import Workbook

from evaluation.core.writing import InvalidInput
from evaluation.history import chain as history
from evaluation.periods import operations as periods
from evaluation.scores.importer.read import _read_sheet_xml, read_table
from models import HistoryEvent, Period, RankingSnapshot, ReviewCase, db
from tests.conftest import user
from tests.ledger_world import build_world, fill_towns, fill_villages, open_period

ROOT = Path(__file__).resolve().parent.parent

#: Runs in the killed process: approve 2026Q3 as the supervisor, but stop for good at STAGE
#: with everything so far flushed into the open transaction, and say so on stdout. The pause
#: is a patch of the periods module, so no switch in the application is needed.
APPROVER = """
import sys, time
from evaluation import create_app
from evaluation.periods import operations as periods
from models import Period, User, db

stage, url = sys.argv[1], sys.argv[2]

def stop(what):
    db.session.flush()
    print(what, flush=True)
    time.sleep(300)

if stage == "snapshot":
    store = periods._store_snapshot
    def _store_snapshot(actor, period, level):
        snapshot = store(actor, period, level)
        stop("snapshot written")
        return snapshot
    periods._store_snapshot = _store_snapshot
else:
    sync = periods.sync_review_cases
    def sync_review_cases(actor, period):
        stop("approval event written")
        return sync(actor, period)
    periods.sync_review_cases = sync_review_cases

app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret-key"})
with app.app_context():
    period = db.session.scalar(db.select(Period).where(Period.code == "2026Q3"))
    supervisor = db.session.scalar(db.select(User).where(User.username == "supervisor"))
    periods.approve(supervisor, period)
print("approved", flush=True)
"""


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def period_state() -> tuple:
    period = db.session.scalar(db.select(Period).where(Period.code == "2026Q3"))
    return period.status, period.approved_by, period.approved_at


def kill_while_stopped(url: str, stage: str) -> str:
    """Start APPROVER, wait until it has stopped at ``stage``, SIGKILL it; return its line."""
    process = subprocess.Popen(
        [sys.executable, "-c", APPROVER, stage, url],
        cwd=ROOT,
        env={key: value for key, value in os.environ.items() if key != "DATABASE_URL"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(120, process.kill)  # never hang the suite
    timer.start()
    try:
        line = process.stdout.readline().strip()
        assert line.endswith("written"), f"the approval never stopped: {process.stderr.read()}"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        timer.cancel()
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    return line


@pytest.mark.slow
@pytest.mark.parametrize(
    "stage, said",
    [("snapshot", "snapshot written"), ("event", "approval event written")],
)
def test_killed_approval_leaves_the_period_submitted_and_a_retry_succeeds(app, stage, said):
    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period)
        fill_villages(world, period)
        periods.submit(user("assessor"), period)
        before = {
            "state": period_state(),
            "events": count(HistoryEvent),
            "snapshots": count(RankingSnapshot),
            "cases": count(ReviewCase),
        }
        db.session.remove()

    assert kill_while_stopped(app.config["SQLALCHEMY_DATABASE_URI"], stage) == said

    with app.app_context():
        assert period_state() == before["state"] == ("submitted", None, None)
        assert count(HistoryEvent) == before["events"]
        assert count(RankingSnapshot) == before["snapshots"] == 0
        assert count(ReviewCase) == before["cases"]
        assert "period.approve" not in history_actions()
        verification = history.verify()
        assert verification.ok, verification.message

        # The dead writer's lock is gone with it: the same approval now goes through.
        started = time.monotonic()
        period = db.session.scalar(db.select(Period).where(Period.code == "2026Q3"))
        periods.approve(user("supervisor"), period)
        assert time.monotonic() - started < 30
        db.session.remove()
        assert period_state()[:2] == ("approved", "supervisor")
        levels = sorted(db.session.scalars(db.select(RankingSnapshot.level)))
        assert levels == ["town", "village"]
        assert history_actions()[before["events"] :][0] == "period.approve"
        assert history_actions().count("period.approve") == 1
        verification = history.verify()
        assert verification.ok, verification.message


def history_actions() -> list[str]:
    return list(db.session.scalars(db.select(HistoryEvent.action).order_by(HistoryEvent.seq)))


# --- hostile uploads ----------------------------------------------------------------------

#: Ten levels of ten: a billion "a"s if expanded.
BILLION_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [<!ENTITY a0 "aaaaaaaaaa">'
    + "".join(f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10))
    + "]>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE worksheet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
)


def hostile_workbook(prolog: str, entity: str) -> bytes:
    """A real workbook whose sheet declares ``prolog`` and uses ``&entity;`` in a cell."""
    workbook = Workbook()
    # An ASCII marker: with lxml installed, openpyxl may write Chinese as character references.
    workbook.active.append(["ENTITY_HERE", "单位代码"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                body = text[text.index("<worksheet") :].replace("ENTITY_HERE", f"&{entity};", 1)
                assert f"&{entity};" in body
                data = (prolog + body).encode("utf-8")
            target.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "prolog, entity, words",
    [(BILLION_LAUGHS, "a9", "amplification"), (EXTERNAL_ENTITY, "secret", "undefined entity")],
)
def test_hostile_workbook_is_refused_quickly_without_expanding_entities(prolog, entity, words):
    """The stdlib XML reading of uploads (the importer's "XML safety" note) refuses both."""
    data = hostile_workbook(prolog, entity)
    with pytest.raises(ElementTree.ParseError, match=words):
        _read_sheet_xml(data)
    started = time.monotonic()
    with pytest.raises(InvalidInput, match="XLSX"):
        read_table(data, "hostile.xlsx")
    assert time.monotonic() - started < 5

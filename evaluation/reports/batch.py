"""All towns' reports of a period as one ZIP of DOCX files, made in the background
(docs/reports.md#batch).

A province period has 1,609 towns, about 0.3 s each (the report, its chart and its
document: some 9 minutes), so the work runs in a thread of the server process that was
asked, and the page polls its progress. Progress and result live in files under ``REPORT_BATCH_DIR``
(default ``instance/report-batches``), so any server process can answer the poll and
serve the download; a job belongs to the user who started it (another gets 404).

Nothing is written to the database: the documents are made from the ledger as it stands,
read through ``operations.unit_reports`` (``report.view``, like each single report).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import time
import zipfile
from pathlib import Path

from flask import current_app

from evaluation.core.states import PeriodStatus
from evaluation.core.writing import NotFound, StateError, require
from models import Period, User, db

#: A job's folder is removed a day after it was started (with the next job started).
KEEP_SECONDS = 24 * 3600
#: A running job whose progress has not moved for this long has died with its process.
STALLED_SECONDS = 300
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _root(*, create: bool = False) -> Path:
    folder = current_app.config.get("REPORT_BATCH_DIR") or os.path.join(
        current_app.instance_path, "report-batches"
    )
    path = Path(folder)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def _write_status(folder: Path, status: dict) -> None:
    status["updated"] = time.time()
    part = folder / "status.json.part"
    part.write_text(json.dumps(status, ensure_ascii=False), encoding="utf-8")
    os.replace(part, folder / "status.json")  # a poll never reads half a file


def _clean_old(root: Path) -> None:
    now = time.time()
    for folder in root.iterdir():
        try:
            started = json.loads((folder / "status.json").read_text("utf-8"))["started"]
        except (OSError, ValueError, KeyError):
            started = folder.stat().st_mtime
        if now - started > KEEP_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)


def _running(root: Path, owner: int, period_code: str) -> str | None:
    """The id of the owner's job for this period that is still running, if any."""
    now = time.time()
    for folder in root.iterdir():
        try:
            found = json.loads((folder / "status.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if (
            found.get("owner") == owner
            and found.get("period") == period_code
            and found.get("state") == "running"
            and now - found.get("updated", 0) <= STALLED_SECONDS
        ):
            return found["job"]
    return None


def archive_name(period: Period) -> str:
    return f"{period.name}镇街考核报告-{period.code}.zip"


def start(actor, period: Period, level: str = "town") -> str:
    """Start making every town's report of ``period``; return the job's id.

    Refused (StateError) for a period in draft; Forbidden without ``report.view``.
    """
    require(actor, "report.view")
    if period.status == PeriodStatus.DRAFT:
        raise StateError(f"考核周期 {period.code} 尚未开始，没有可出的报告")
    root = _root(create=True)
    _clean_old(root)
    running = _running(root, actor.id, period.code)
    if running is not None:  # pressed again (or from another tab): the same job, not a second
        return running
    job = secrets.token_urlsafe(18)
    folder = root / job
    folder.mkdir()
    _write_status(
        folder,
        {"job": job, "owner": actor.id, "period": period.code, "period_name": period.name,
         "filename": archive_name(period), "state": "running", "done": 0, "total": None,
         "error": None, "started": time.time()},
    )  # fmt: skip
    app = current_app._get_current_object()
    thread = threading.Thread(
        target=_run, args=(app, folder, actor.id, period.id, level), daemon=True,
        name=f"report-batch-{job[:8]}",
    )  # fmt: skip
    thread.start()
    current_app.extensions.setdefault("report_batches", {})[job] = thread  # tests may join it
    return job


def _run(app, folder: Path, user_id: int, period_id: int, level: str) -> None:
    from evaluation.reports import documents, operations

    status = json.loads((folder / "status.json").read_text("utf-8"))
    part = folder / "reports.zip.part"
    with app.app_context():
        try:
            user = db.session.get(User, user_id)
            period = db.session.get(Period, period_id)
            with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as archive:
                for done, (total, report) in enumerate(
                    operations.unit_reports(user, period, level), start=1
                ):
                    name = f"{report['rank']:04d}-{documents.town_report_filename(report)}"
                    archive.writestr(name, documents.town_report_docx(report))
                    status.update(done=done, total=total, current=report["name"])
                    _write_status(folder, status)
            os.replace(part, folder / "reports.zip")
            status.update(state="done", current=None)
            if status["total"] is None:
                status["total"] = 0
        except Exception as error:  # the page must say it failed, not poll forever
            app.logger.exception("report batch %s failed", status["job"])
            message = getattr(error, "message", None) or "生成报告时出错，请稍后重试或联系管理员"
            status.update(state="failed", error=message)
        finally:
            db.session.remove()
            app.extensions.get("report_batches", {}).pop(status["job"], None)
        _write_status(folder, status)


def status(actor, job: str) -> dict:
    """The job's progress for its owner: ``state`` (running, done, failed, stalled),
    ``done`` of ``total`` towns, the town being made, and the error when it failed."""
    require(actor, "report.view")
    if not _JOB_ID.match(job or ""):
        raise NotFound("没有这个批量任务")
    try:
        found = json.loads((_root() / job / "status.json").read_text("utf-8"))
    except (OSError, ValueError):
        raise NotFound("没有这个批量任务（或已过期）") from None
    if found.get("owner") != actor.id:
        raise NotFound("没有这个批量任务")
    if found["state"] == "running" and time.time() - found["updated"] > STALLED_SECONDS:
        found["state"] = "stalled"
        found["error"] = "任务已中断（服务进程已重启），请重新生成"
    found["percent"] = int(100 * found["done"] / found["total"]) if found["total"] else 0
    return found


def result(actor, job: str) -> tuple[Path, str]:
    """The finished ZIP's path and its download name (NotFound until it is done)."""
    found = status(actor, job)
    path = _root() / job / "reports.zip"
    if found["state"] != "done" or not path.exists():
        raise NotFound("报告尚未生成完毕")
    return path, found["filename"]

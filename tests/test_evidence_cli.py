"""``export-evidence`` and ``verify-evidence`` (docs/evidence.md#the-auditors-bundle)."""

from __future__ import annotations

import csv
import hashlib
import json
import os

import pytest
from sqlalchemy import select

from evaluation.evidence import operations as evidence
from evaluation.evidence.store import current_store
from models import HistoryEvent, Period, Unit, db
from tests import evidence_files as files
from tests.conftest import user
from tests.ledger_world import build_world


@pytest.fixture
def bundle(app):
    with app.app_context():
        world = build_world()
        period = world.period()
        town = db.session.scalar(select(Unit).where(Unit.code == "445203100000"))
        pdf = evidence.add_evidence(
            user("assessor"),
            files.pdf(),
            filename="=验收报告.pdf",
            target_type="score",
            target_id=11,
            unit_id=town.id,
            period_id=period.id,
            indicator="E01",
        )
        photo = evidence.add_evidence(
            user("assessor"),
            files.jpeg(),
            filename="现场照片.jpg",
            target_type="score",
            target_id=12,
            unit_id=town.id,
            period_id=period.id,
            indicator="U02",
        )
        other = db.session.scalar(select(Period).where(Period.code == "2026Q2"))
        evidence.add_evidence(
            user("assessor"),
            files.png(),
            filename="上期.png",
            target_type="score",
            target_id=13,
            period_id=other.id,
        )
        made = {"pdf": pdf.sha256, "photo": photo.sha256, "root": current_store().root}
        db.session.remove()
    return made


def test_export_writes_the_files_and_the_manifest(runner, bundle, tmp_path):
    out = tmp_path / "bundle"
    result = runner.invoke(args=["export-evidence", "--period", "2026Q3", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "已导出 2 个文件" in result.output
    with open(out / "manifest.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "sha256",
        "size",
        "media_type",
        "name",
        "unit",
        "indicator",
        "linked_to",
        "uploaded_by",
        "uploaded_at",
    ]
    assert [
        (r["name"], r["unit"], r["indicator"], r["linked_to"], r["media_type"]) for r in rows
    ] == [
        ("'=验收报告.pdf", "445203100000", "E01", "score/11", "application/pdf"),
        ("现场照片.jpg", "445203100000", "U02", "score/12", "image/jpeg"),
    ]
    for row in rows:
        [stored] = [p for p in (out / "files").iterdir() if p.name.startswith(row["sha256"])]
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == row["sha256"]
        assert stored.stat().st_size == int(row["size"])
        assert row["uploaded_by"] == "assessor" and row["uploaded_at"].endswith("Z")


def test_the_manifest_matches_the_history(app, runner, bundle, tmp_path):
    out = tmp_path / "bundle"
    runner.invoke(args=["export-evidence", "--period", "2026Q3", "--output", str(out)])
    with open(out / "manifest.csv", encoding="utf-8-sig", newline="") as handle:
        rows = {(r["sha256"], r["linked_to"], int(r["size"])) for r in csv.DictReader(handle)}
    with app.app_context():
        events = db.session.scalars(
            select(HistoryEvent).where(
                HistoryEvent.action == "evidence.add", HistoryEvent.period == "2026Q3"
            )
        ).all()
        recorded = set()
        for event in events:
            after = json.loads(event.after)
            recorded.add(
                (after["sha256"], f"{after['target_type']}/{after['target_id']}", after["size"])
            )
    assert rows == recorded


def test_export_refuses_an_unknown_period_and_a_used_directory(runner, bundle, tmp_path):
    result = runner.invoke(
        args=["export-evidence", "--period", "2099Q1", "--output", str(tmp_path)]
    )
    assert result.exit_code == 1 and "2099Q1" in result.output
    out = tmp_path / "b"
    assert (
        runner.invoke(
            args=["export-evidence", "--period", "2026Q3", "--output", str(out)]
        ).exit_code
        == 0
    )
    again = runner.invoke(args=["export-evidence", "--period", "2026Q3", "--output", str(out)])
    assert again.exit_code == 1 and "manifest.csv" in again.output


def test_verify_passes_on_a_whole_store(runner, bundle):
    result = runner.invoke(args=["verify-evidence"])
    assert result.exit_code == 0, result.output
    assert "3 个文件哈希一致" in result.output and "3 条 evidence.add" in result.output


def _place(root, sha):
    return root / sha[:2] / sha[2:]


def test_verify_names_an_altered_and_a_missing_file(runner, bundle):
    altered = _place(bundle["root"], bundle["pdf"])
    os.chmod(altered, 0o644)
    altered.write_bytes(altered.read_bytes() + b"% tampered")
    _place(bundle["root"], bundle["photo"]).unlink()
    result = runner.invoke(args=["verify-evidence"])
    assert result.exit_code == 1
    assert f"被改动：{bundle['pdf']}（=验收报告.pdf）" in result.output
    assert f"缺失：{bundle['photo']}（现场照片.jpg）" in result.output
    export = runner.invoke(
        args=["export-evidence", "--period", "2026Q3", "--output", str(bundle["root"].parent / "x")]
    )
    assert export.exit_code == 1 and bundle["pdf"] in export.output


def test_verify_names_a_link_without_its_event(app, runner, bundle):
    with app.app_context():
        from models import EvidenceLink

        link = db.session.scalars(select(EvidenceLink)).first()
        db.session.add(
            EvidenceLink(
                evidence_id=link.evidence_id,
                target_type="score",
                target_id=99,
                name="偷偷加的.pdf",
                linked_by="nobody",
            )
        )
        db.session.commit()
    result = runner.invoke(args=["verify-evidence"])
    assert result.exit_code == 1 and "score/99" in result.output and "evidence.add" in result.output

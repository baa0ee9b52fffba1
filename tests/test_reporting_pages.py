"""The reporting pages: the reporter's own town and the assessors' verification."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from evaluation.history import records
from evaluation.reporting import operations as reporting
from models import Claim, Score, db
from tests import evidence_files
from tests.conftest import PASSWORD
from tests.ledger_world import SETUP, build_world, open_period

YUNLU = "445203100000"


@pytest.fixture
def world(app):
    with app.app_context():
        world = build_world()
        period = open_period(world)
        records.update(SETUP, period, {"report_due": reporting.local_today() + timedelta(days=4)})
        db.session.execute(
            text("UPDATE indicator SET evidence_required = '验收报告' WHERE code = 'E01'")
        )
        db.session.commit()
        db.session.remove()


def signed_in(app, name):
    client = app.test_client()
    assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 302
    return client


def save(client, indicator, value, statement="", version=""):
    return client.post(
        "/admin/reporting/save",
        data={"period": "2026Q3", "indicator": indicator, "value": value,
              "statement": statement, "version": version},
        follow_redirects=True,
    )  # fmt: skip


def test_the_reporter_fills_in_attaches_and_submits_its_town(app, world):
    client = signed_in(app, "reporter")
    page = client.get("/admin/reporting/").get_data(as_text=True)
    assert "云路镇" in page and "距报送截止还有 4 天" in page
    assert "须附佐证材料：验收报告" in page
    assert 'name="viewport"' in page
    page = save(client, "E01", "6.9", "新增两个项目").get_data(as_text=True)
    assert "已保存 E01 地区生产总值增速 的自评" in page
    assert "填报中" in page
    page = save(client, "U02", "31").get_data(as_text=True)  # over the indicator's 30
    assert "U02" in page and "alert-danger" in page
    refused = client.post(
        "/admin/reporting/submit", data={"period": "2026Q3"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "以下指标须附佐证材料，尚未上传：E01 地区生产总值增速" in refused
    upload = client.post(
        "/admin/reporting/evidence",
        data={"period": "2026Q3", "indicator": "E01",
              "file": (io.BytesIO(evidence_files.jpeg()), "现场照片.jpg")},
        content_type="multipart/form-data", follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "已上传 E01 的佐证材料" in upload and "现场照片.jpg" in upload
    assert 'accept="image/*,application/pdf"' in upload and "capture=" in upload
    sent = client.post(
        "/admin/reporting/submit", data={"period": "2026Q3"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已报送 1 项自评" in sent and "已报送" in sent
    with app.app_context():
        assert db.session.scalar(select(Claim.status)) == "submitted"


def test_a_stale_form_says_the_current_value(app, world):
    client = signed_in(app, "reporter")
    save(client, "U02", "20")
    save(client, "U02", "22", version="1")
    page = save(client, "U02", "25", version="1").get_data(as_text=True)
    assert "改为 22" in page and "第 2 版" in page


def test_the_assessor_verifies_on_its_page(app, world):
    reporter = signed_in(app, "reporter")
    save(reporter, "U02", "28", "说明文字")
    save(reporter, "E02", "9")
    reporter.post("/admin/reporting/submit", data={"period": "2026Q3"})
    assessor = signed_in(app, "assessor")
    page = assessor.get("/admin/verification/?period=2026Q3").get_data(as_text=True)
    assert "云路镇" in page and "说明文字" in page and "全部采纳（2 项）" in page
    base = {"period": "2026Q3", "unit": YUNLU}
    page = assessor.post(
        "/admin/verification/verdict",
        data={**base, "indicator": "U02", "decision": "adjust", "value": "25", "reason": ""},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "请填写理由" in page
    assessor.post(
        "/admin/verification/verdict",
        data={**base, "indicator": "U02", "decision": "adjust", "value": "25", "reason": "核减"},
    )
    page = assessor.get("/admin/verification/?period=2026Q3").get_data(as_text=True)
    assert ">-3<" in page  # assessed 25 against claimed 28
    page = assessor.post("/admin/verification/bulk", data=base, follow_redirects=True).get_data(
        as_text=True
    )
    assert "云路镇：已采纳 1 项自评" in page
    with app.app_context():
        values = dict(db.session.execute(select(Score.indicator_id, Score.number)).all())
        assert sorted(str(v.normalize()) for v in values.values()) == ["25", "9"]
    # The reporter sees the assessed value and the reason on its own page.
    mine = reporter.get("/admin/reporting/").get_data(as_text=True)
    assert "考核组意见：核减" in mine and "核定值" in mine


def test_each_page_is_its_roles_own(app, world):
    assert signed_in(app, "reporter").get("/admin/verification/").status_code == 403
    assert signed_in(app, "assessor").get("/admin/reporting/").status_code == 403
    assert signed_in(app, "auditor").get("/admin/verification/").status_code == 200


def test_the_dashboards_show_the_reporting(app, world):
    reporter = signed_in(app, "reporter")
    home = reporter.get("/admin/").get_data(as_text=True)
    assert "距报送截止还有 4 天" in home and "未开始" in home
    assert "考核排名" not in home and "当前考核周期" not in home
    save(reporter, "U02", "20")
    assessor = signed_in(app, "assessor").get("/admin/").get_data(as_text=True)
    assert "镇街报送情况" in assessor
    assert 'data-state="not_started"' in assessor
    assert "未开始 2" in assessor and "填报中 1" in assessor and "逾期 0" in assessor
    assert "没有逾期的镇街" in assessor
    with app.app_context():
        from models import Period

        period = db.session.scalar(select(Period).where(Period.code == "2026Q3"))
        records.update(SETUP, period, {"report_due": reporting.local_today() - timedelta(days=2)})
        db.session.remove()
    assessor = signed_in(app, "assessor").get("/admin/").get_data(as_text=True)
    assert "逾期 3" in assessor and "逾期未报送的镇街（3 个）" in assessor
    assert "已超过报送截止日 2 天" in reporter.get("/admin/").get_data(as_text=True)
    supervisor = signed_in(app, "supervisor").get("/admin/").get_data(as_text=True)
    assert "逾期 3" in supervisor and "逾期未报送的镇街" not in supervisor  # the assessor's list

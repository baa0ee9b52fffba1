"""The 公示 and 容错纠错 pages (docs/publication.md#pages) for the staff roles: the window
form, the district's figures, the 公示表 with the snapshot-to-be hash (the hash the
approval then stores), the cases page and a town's history of cases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from evaluation.periods import operations as periods
from evaluation.publication import operations as publication
from evaluation.ranking import reading
from evaluation.scores import operations as ledger
from models import Adjustment, User, db
from tests.conftest import PASSWORD
from tests.ledger_world import build_world, fill_towns, fill_villages, open_period

YUNLU = "445203100000"


@pytest.fixture
def submitted(app):
    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period)
        fill_villages(world, period)
        ledger.add_adjustment(
            world.user("assessor"), period, world.unit(YUNLU), "penalty", "4", "信访事项处置不力"
        )
        periods.submit(world.user("assessor"), period)
        db.session.remove()
    return app


def login(client, username):
    client.post("/logout")
    return client.post("/login", data={"username": username, "password": PASSWORD})


def test_the_supervisor_opens_the_window_and_the_staff_see_it(submitted, client):
    today = publication.today()
    login(client, "assessor")
    refused = client.post(
        "/admin/publication/window?period=2026Q3",
        data={"start": today.isoformat(), "end": today.isoformat()},
    )
    assert refused.status_code == 403
    login(client, "supervisor")
    bad = client.post(
        "/admin/publication/window?period=2026Q3",
        data={"start": today.isoformat(), "end": (today - timedelta(days=1)).isoformat()},
    )
    assert bad.status_code == 422
    assert "公示结束日期不能早于开始日期" in bad.get_data(as_text=True)
    done = client.post(
        "/admin/publication/window?period=2026Q3",
        data={"start": today.isoformat(), "end": (today + timedelta(days=4)).isoformat(),
              "show_ranking": "1"},
        follow_redirects=True,
    )  # fmt: skip
    page = done.get_data(as_text=True)
    assert "已设定公示期" in page
    assert "剩余 5 天" in page
    assert "审定前尚待办结：公示期未结束" in page
    for role in ("admin", "assessor", "auditor"):
        login(client, role)
        page = client.get("/admin/publication/?period=2026Q3").get_data(as_text=True)
        assert "云路镇" in page and "公示期" in page
    login(client, "supervisor")
    home = client.get("/admin/").get_data(as_text=True)
    assert "公示中，至" in home


def test_the_sheet_carries_the_hash_the_approval_stores(submitted, client):
    login(client, "supervisor")
    sheet = client.get("/admin/publication/sheet?period=2026Q3").get_data(as_text=True)
    assert "2026年第三季度镇街担当作为考核结果公示表" in sheet
    shown = re.search(r"SHA-256：([0-9a-f]{64})", sheet).group(1)
    with submitted.app_context():
        period = db.session.scalar(db.select(periods.Period).where(periods.Period.code == "2026Q3"))
        approver = db.session.scalar(db.select(User).where(User.username == "supervisor"))
        snapshot = periods.approve(approver, period)
        assert snapshot.sha256 == shown
        db.session.remove()


def test_the_sheet_as_pdf(submitted, client):
    from pathlib import Path

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium is not installed")
    login(client, "auditor")
    answer = client.get("/admin/publication/sheet.pdf?period=2026Q3")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert answer.data.startswith(b"%PDF")
    assert "attachment" in answer.headers["Content-Disposition"]


def test_a_case_through_the_pages(submitted, client):
    with submitted.app_context():
        item = db.session.scalar(db.select(Adjustment))
        item_id = item.id
        before = next(r for r in reading.ranking(item.period)["results"] if r["unit"] == YUNLU)[
            "total"
        ]
        db.session.remove()
    login(client, "admin")
    page = client.get("/admin/tolerance/?period=2026Q3").get_data(as_text=True)
    assert "信访事项处置不力" in page and "为推动发展的无意过失" in page
    import io

    from tests.evidence_files import pdf

    applied = client.post(
        "/admin/tolerance/apply?period=2026Q3",
        data={"target": f"{YUNLU}:adjustment:{item_id}", "situation": "为推动发展的无意过失",
              "grounds": "为推进项目落地，程序上有疏漏",
              "evidence": (io.BytesIO(pdf()), "情况说明.pdf")},
        content_type="multipart/form-data", follow_redirects=True,
    )  # fmt: skip
    assert "已提交容错纠错申请（第 1 号）" in applied.get_data(as_text=True)
    assert "附件：情况说明.pdf" in applied.get_data(as_text=True)
    empty = client.post(
        "/admin/tolerance/apply?period=2026Q3",
        data={"target": f"{YUNLU}:adjustment:{item_id}", "situation": "为推动发展的无意过失",
              "grounds": " "},
    )  # fmt: skip
    assert empty.status_code == 422 and "请填写申请理由" in empty.get_data(as_text=True)
    login(client, "supervisor")
    early = client.post("/admin/tolerance/1/determination", data={"decision": "upheld",
                                                                  "reason": "认定"})  # fmt: skip
    assert early.status_code == 409
    login(client, "assessor")
    client.post("/admin/tolerance/1/findings", data={"findings": "经核实属实"})
    login(client, "supervisor")
    done = client.post(
        "/admin/tolerance/1/determination", data={"decision": "upheld", "reason": "符合情形"},
        follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "认定容错" in done
    with submitted.app_context():
        period = db.session.scalar(db.select(periods.Period).where(periods.Period.code == "2026Q3"))
        after = next(r for r in reading.ranking(period)["results"] if r["unit"] == YUNLU)["total"]
        assert float(after) == float(before) + 4
        db.session.remove()
    history = client.get(f"/admin/tolerance/town/{YUNLU}").get_data(as_text=True)
    assert "云路镇的容错纠错记录" in history and "符合情形" in history


def test_an_objection_with_a_refused_file_leaves_nothing(submitted, client):
    import io

    from models import Evidence, Objection
    from tests.evidence_files import HTML, jpeg

    today = publication.today()
    login(client, "supervisor")
    client.post(
        "/admin/publication/window?period=2026Q3",
        data={"start": today.isoformat(), "end": today.isoformat()},
    )
    login(client, "reporter")
    page = client.get("/admin/publication/?period=2026Q3").get_data(as_text=True)
    assert "云路镇" in page and "剩余 1 天" in page
    refused = client.post(
        "/admin/publication/object?period=2026Q3",
        data={"unit": YUNLU, "item": "indicator:U02", "reason": "偏低",
              "evidence": (io.BytesIO(HTML), "验收报告.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert refused.status_code == 422
    with submitted.app_context():
        assert db.session.scalar(db.select(db.func.count(Objection.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Evidence.id))) == 0
        db.session.remove()
    # a NUL anywhere in a request is the app-wide 400; another town is refused
    assert client.post("/admin/publication/object?period=2026Q3",
                       data={"unit": "4452\x00", "item": "indicator:U02",
                             "reason": "偏低"}).status_code == 400  # fmt: skip
    other = client.post(
        "/admin/publication/object?period=2026Q3",
        data={"unit": "445203001000", "item": "indicator:U02", "reason": "偏低"},
    )
    assert other.status_code == 403 and "只能对本镇街的考核结果提出异议" in other.get_data(
        as_text=True
    )
    done = client.post(
        "/admin/publication/object?period=2026Q3",
        data={"unit": YUNLU, "item": "indicator:U02", "reason": "偏低",
              "evidence": (io.BytesIO(jpeg()), "现场.jpg")},
        content_type="multipart/form-data", follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "已提出异议（第" in done and "现场.jpg" in done
    # the reporter sees its own town only: no district table, no other town's objections
    assert "publication-results" not in done

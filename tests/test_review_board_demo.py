"""The review board, cadre pages and projects board on the demo ledger (docs/rules.md#demo-data).

The demo is seeded once per backend (2025Q4 and 2026Q1 approved, 2026Q2 submitted with
every §7 flag, 2026Q3 open); the tests only read it.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from evaluation.demo.district import seed_demo
from models import Cadre, KeyProject, Unit, User, db
from models.reviews import REASONS
from tests.conftest import BACKENDS, PASSWORD, database_url, test_app


@pytest.fixture(scope="module", params=BACKENDS)
def demo_app(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"desk-demo-{request.param}")
    app = test_app(database_url(request.param, tmp), tmp / "instance")
    with app.app_context():
        seed_demo(password_factory=lambda: PASSWORD)
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def page(app, username: str, path: str) -> str:
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD})
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def board_codes(html: str) -> list[str]:
    return re.findall(r'data-village="(\d{12})"', html)


def test_board_shows_all_21_typical_villages_with_every_flag(demo_app):
    html = page(demo_app, "supervisor", "/admin/review/")
    assert "2026年第二季度（2026Q2" in html  # the latest submitted period by default
    assert len(board_codes(html)) == 21
    for label in REASONS.values():
        assert str(label) in html, label
    for colour, text in (("danger", "高"), ("warning", "中"), ("info", "低"), ("success", "正常")):
        assert re.search(rf'badge-{colour}"[^>]*>{text}<', html), text
    assert "第一批" in html and "第二批" in html


def test_demo_reviewer_sees_their_group_only(demo_app):
    with demo_app.app_context():
        reviewer = db.session.scalar(select(User).where(User.username == "reviewer"))
        own = set(
            db.session.scalars(
                select(Unit.code).where(
                    Unit.typical_batch.is_not(None), Unit.analysis_group_id == reviewer.group_id
                )
            )
        )
    assert 0 < len(own) < 21
    html = page(demo_app, "reviewer", "/admin/review/?period=2026Q2")
    assert set(board_codes(html)) == own


def test_town_secretary_ledger_on_the_demo(demo_app):
    with demo_app.app_context():
        secretary = db.session.scalar(
            select(Cadre).where(Cadre.position == "镇党委书记").order_by(Cadre.id).limit(1)
        )
        cadre_id, town = secretary.id, secretary.unit.name
    html = page(demo_app, "supervisor", f"/admin/cadre-ledger/{cadre_id}")
    for orientation in ("political", "performance", "grassroots", "integrity"):
        assert f'id="orientation-{orientation}"' in html
    assert f"{town} 历次考核排名" in html
    trend = re.search(r'<table class="table table-sm rank-trend">.*?</table>', html, re.S).group(0)
    assert len(re.findall(r"\d+ / 13", trend)) == 4
    sheet = page(demo_app, "auditor", f"/admin/cadre-ledger/{cadre_id}/print")
    assert "干部担当作为台账" in sheet and "演示数据" in sheet


def test_projects_board_on_the_demo(demo_app):
    with demo_app.app_context():
        total = len(db.session.scalars(select(KeyProject.id)).all())
    html = page(demo_app, "supervisor", "/admin/projects-board/")
    statuses = re.findall(r'data-project="[^"]+" data-status="(\w+)"', html)
    assert len(statuses) == total >= 30
    assert set(statuses) <= {"done", "behind", "on_track"}

"""The reporter (镇街填报员): bound to one town on every door, and by the database itself."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from evaluation.accounts import operations as accounts
from evaluation.core.permissions import may_see_unit, reporter_unit
from evaluation.core.writing import InvalidInput
from models import User, db
from tests.conftest import PASSWORD
from tests.ledger_world import SETUP, build_world

YUNLU = "445203100000"
YUJIAO = "445203101000"
VILLAGE = "445203100201"


@pytest.fixture
def world(app):
    with app.app_context():
        build_world()
        db.session.remove()


def test_create_user_binds_a_reporter_to_its_town(app, runner, world):
    result = runner.invoke(
        args=["create-user", "yujiao", "--role", "reporter", "--unit", YUJIAO, "--password-stdin"],
        input="a-long-password-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "已创建用户 yujiao（镇街填报员，玉滘镇）" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "yujiao"))
        assert user.unit.code == YUJIAO
        assert reporter_unit(user) == user.unit_id
        assert may_see_unit(user, user.unit_id)
        assert not may_see_unit(user, user.unit_id + 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "reporter"], "镇街填报员须绑定所在镇街"),
        (["--role", "reporter", "--unit", VILLAGE], "不是启用的镇街"),
        (["--role", "reporter", "--unit", "999999999999"], "没有代码为 999999999999 的单位"),
        (["--role", "assessor", "--unit", YUNLU], "只有镇街填报员绑定单位"),
    ],
)
def test_create_user_refuses_a_reporter_without_a_town_and_a_unit_for_anyone_else(
    app, runner, world, args, message
):
    result = runner.invoke(args=["create-user", "someone", *args])
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "someone")) is None


def test_other_roles_have_no_reporter_unit(app, world):
    with app.app_context():
        for name in ("admin", "assessor", "supervisor", "auditor", "reviewer"):
            user = db.session.scalar(select(User).where(User.username == name))
            assert reporter_unit(user) is None
            assert may_see_unit(user, 12345)
        assert reporter_unit(None) is None


def test_the_database_refuses_a_reporter_without_a_unit_and_a_unit_on_another_role(app, world):
    with app.app_context():
        town_id = db.session.scalar(text(f"SELECT id FROM unit WHERE code = '{YUNLU}'"))
        for role, unit in (("reporter", None), ("assessor", town_id)):
            with pytest.raises(IntegrityError):
                db.session.execute(
                    text(
                        "INSERT INTO user_account (username, display_name, role, unit_id,"
                        " active, password_hash, created_at, session_nonce) VALUES"
                        " ('x', '', :role, :unit, true, '', CURRENT_TIMESTAMP, 'n')"
                    ),
                    {"role": role, "unit": unit},
                )
                db.session.commit()
            db.session.rollback()


def test_changing_a_reporter_to_another_role_needs_the_unit_cleared(app, world):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "reporter"))
        with pytest.raises(InvalidInput, match="只有镇街填报员绑定单位"):
            accounts.records.update(SETUP, user, {"role": "assessor"})
        accounts.records.update(SETUP, user, {"role": "assessor", "unit": None})
        assert db.session.get(User, user.id).unit_id is None


def test_the_admin_form_creates_a_reporter_with_its_town(app, client, auth, world):
    auth.login("admin")
    with app.app_context():
        town_id = db.session.scalar(text(f"SELECT id FROM unit WHERE code = '{YUJIAO}'"))
    form = client.get("/admin/user/new/").get_data(as_text=True)
    assert "所在镇街" in form and "玉滘镇" in form
    assert "新桃村" not in form  # a village is no reporter's unit
    base = {"username": "yj", "active": "y", "password": PASSWORD}
    refused = client.post("/admin/user/new/", data={**base, "role": "reporter"})
    assert "镇街填报员须绑定所在镇街" in refused.get_data(as_text=True)
    response = client.post("/admin/user/new/", data={**base, "role": "reporter", "unit": town_id})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "yj"))
        assert user.role == "reporter" and user.unit.name == "玉滘镇"


def test_a_reporter_signs_in_to_its_own_home_page_and_nothing_else(app, client, auth, world):
    assert auth.login("reporter").status_code == 302
    home = client.get("/admin/")
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    for elsewhere in ("考核排名", "变更历史", "用户管理", "分数填报"):
        assert elsewhere not in page, elsewhere

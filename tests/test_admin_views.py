"""The Flask-Admin model views: every write goes through the services and leaves one
history event; read-only roles are refused on every write endpoint; exports are Chinese,
Excel-safe files; Flask-Admin's own buttons speak Chinese (and English on request)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import func, select

from evaluation.accounts import operations as accounts
from evaluation.admin.base import LedgerModelView
from evaluation.core.permissions import can
from evaluation.core.writing import SystemActor
from evaluation.history import chain as history
from evaluation.history import records
from evaluation.schemes import operations as schemes
from models import (
    AnalysisGroup,
    ApiToken,
    Cadre,
    CadreRecord,
    Dimension,
    HistoryEvent,
    Indicator,
    KeyProject,
    Period,
    ProjectUpdate,
    Scheme,
    Unit,
    User,
    db,
)

SETUP = SystemActor("test-setup")


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture
def base(app) -> dict[str, int]:
    """A small world: a town, a group, a cadre, a village, a draft scheme, a period."""
    return build_base(app)


def build_base(app) -> dict[str, int]:
    """Build the small world through the services; return the rows' ids."""
    with app.app_context():
        town = records.create(
            SETUP,
            Unit,
            {"code": "445203100000", "name": "曲溪街道", "level": "town", "kind": "街道"},
        )
        group = records.create(SETUP, AnalysisGroup, {"name": "第一研判小组", "leader": "张三"})
        cadre = records.create(
            SETUP, Cadre, {"name": "李四", "unit": town, "position": "街道党工委书记"}
        )
        village = records.create(
            SETUP,
            Unit,
            {
                "code": "445203100201",
                "name": "新桃村",
                "level": "village",
                "kind": "村",
                "parent": town,
                "typical_batch": 1,
                "analysis_group": group,
            },
        )
        scheme = records.create(
            SETUP, Scheme, {"code": "T2026", "name": "镇街考核方案", "level": "town"}
        )
        dimension = records.create(
            SETUP, Dimension, {"scheme": scheme, "code": "D1", "name": "镇域经济发展", "order": 1}
        )
        indicator = records.create(
            SETUP,
            Indicator,
            {
                "dimension": dimension,
                "code": "I1",
                "name": "地区生产总值增速",
                "points": Decimal("100"),
                "method": "direct",
            },
        )
        project = records.create(
            SETUP,
            KeyProject,
            {"code": "P1", "name": "产业园一期", "unit": town, "progress": Decimal("10")},
        )
        period = records.create(
            SETUP,
            Period,
            {
                "code": "2026Q3",
                "name": "2026年第三季度",
                "start_date": date(2026, 7, 1),
                "end_date": date(2026, 9, 30),
                "town_scheme": scheme,
            },
        )
        ids = {
            "town": town.id,
            "group": group.id,
            "cadre": cadre.id,
            "village": village.id,
            "scheme": scheme.id,
            "dimension": dimension.id,
            "indicator": indicator.id,
            "project": project.id,
            "period": period.id,
        }
        db.session.remove()
    return ids


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(HistoryEvent))


def events_after(seq: int) -> list[dict]:
    return list(history.iter_events(where=[HistoryEvent.seq > seq]))


def flashed_errors(response) -> str:
    return response.get_data(as_text=True)


# --- create, edit, delete through every view -------------------------------------------


@dataclass
class Case:
    endpoint: str
    model: type
    entity: str
    create: dict
    edit: dict
    #: Expected subset of the create event's ``after``.
    created: dict
    #: Expected ``before`` / ``after`` of the edit event.
    changed_before: dict
    changed_after: dict
    find: dict = field(default_factory=dict)


def cases(ids) -> list[Case]:
    return [
        Case(
            "town",
            Unit,
            "unit",
            {
                "code": "445203101000",
                "name": "云路镇",
                "kind": "镇",
                "sort_order": "2",
                "active": "y",
            },
            {"name": "云路镇（更名）"},
            {"code": "445203101000", "level": "town", "kind": "镇", "active": True},
            {"name": "云路镇"},
            {"name": "云路镇（更名）"},
            {"code": "445203101000"},
        ),
        Case(
            "village",
            Unit,
            "unit",
            {
                "code": "445203101201",
                "name": "瑞联村",
                "kind": "村",
                "parent": str(ids["town"]),
                "typical_batch": "2",
                "analysis_group": str(ids["group"]),
                "secretary": str(ids["cadre"]),
                "sort_order": "0",
                "active": "y",
            },
            {"typical_batch": ""},
            {
                "level": "village",
                "parent": "445203100000",
                "typical_batch": 2,
                "analysis_group": "第一研判小组",
                "secretary": str(ids["cadre"]),
            },
            {"typical_batch": 2},
            {"typical_batch": None},
            {"code": "445203101201"},
        ),
        Case(
            "group",
            AnalysisGroup,
            "analysis_group",
            {"name": "第二研判小组", "leader": "王五", "note": ""},
            {"leader": "赵六"},
            {"name": "第二研判小组", "leader": "王五"},
            {"leader": "王五"},
            {"leader": "赵六"},
            {"name": "第二研判小组"},
        ),
        Case(
            "cadre",
            Cadre,
            "cadre",
            {
                "name": "陈七",
                "gender": "女",
                "unit": str(ids["town"]),
                "position": "镇长",
                "tags": "年轻干部",
                "assignment": "指挥办",
                "mentor": str(ids["cadre"]),
                "active": "y",
            },
            {"position": "镇党委书记"},
            {"name": "陈七", "unit": "445203100000", "mentor": str(ids["cadre"])},
            {"position": "镇长"},
            {"position": "镇党委书记"},
            {"name": "陈七"},
        ),
        Case(
            "cadre_record",
            CadreRecord,
            "cadre_record",
            {
                "cadre": str(ids["cadre"]),
                "date": "2026-08-01",
                "period": str(ids["period"]),
                "orientation": "performance",
                "title": "防汛抢险",
                "detail": "连续三昼夜值守",
                "evaluation": "好",
                "evidence": "",
            },
            {"evaluation": "较好"},
            {"orientation": "performance", "recorded_by": "admin", "date": "2026-08-01"},
            {"evaluation": "好"},
            {"evaluation": "较好"},
            {"title": "防汛抢险"},
        ),
        Case(
            "project",
            KeyProject,
            "key_project",
            {
                "code": "P2",
                "name": "污水管网",
                "unit": str(ids["town"]),
                "lead_cadre": str(ids["cadre"]),
                "due_date": "2026-12-31",
                "progress": "20",
            },
            {"progress": "35.5"},
            {"code": "P2", "lead_cadre": str(ids["cadre"])},
            {"progress": "20.00"},
            {"progress": "35.50"},
            {"code": "P2"},
        ),
        Case(
            "project_update",
            ProjectUpdate,
            "project_update",
            {
                "project": str(ids["project"]),
                "date": "2026-08-15",
                "progress": "30",
                "note": "开工",
            },
            {"note": "主体完工"},
            {"project": "P1", "recorded_by": "admin", "note": "开工"},
            {"note": "开工"},
            {"note": "主体完工"},
            {"note": "开工"},
        ),
        Case(
            "scheme",
            Scheme,
            "scheme",
            {
                "code": "V2026",
                "name": "村居考核方案",
                "level": "village",
                "total": "100",
                "bonus_cap": "5",
                "tie_method": "dense",
                "grades": "好=90, 较好=80, 一般=60, 较差=0",
            },
            {"grades": "好=95，较好=85，一般=60，较差=0"},
            {
                "code": "V2026",
                "status": "draft",
                "tie_method": "dense",
                "grades": [
                    {"name": "好", "min": "90"},
                    {"name": "较好", "min": "80"},
                    {"name": "一般", "min": "60"},
                    {"name": "较差", "min": "0"},
                ],
            },
            {
                "grades": [
                    {"name": "好", "min": "90"},
                    {"name": "较好", "min": "80"},
                    {"name": "一般", "min": "60"},
                    {"name": "较差", "min": "0"},
                ]
            },
            {
                "grades": [
                    {"name": "好", "min": "95"},
                    {"name": "较好", "min": "85"},
                    {"name": "一般", "min": "60"},
                    {"name": "较差", "min": "0"},
                ]
            },
            {"code": "V2026"},
        ),
        Case(
            "dimension",
            Dimension,
            "dimension",
            {"scheme": str(ids["scheme"]), "code": "D2", "name": "城乡融合", "order": "2"},
            {"name": "城乡融合发展"},
            {"scheme": "T2026", "code": "D2"},
            {"name": "城乡融合"},
            {"name": "城乡融合发展"},
            {"code": "D2"},
        ),
        Case(
            "indicator",
            Indicator,
            "indicator",
            {
                "dimension": str(ids["dimension"]),
                "code": "I2",
                "name": "村集体经济",
                "points": "10",
                "method": "grade",
                "direction": "higher",
                "grade_fractions": "A=1, B=0.8",
                "order": "2",
            },
            {"points": "12.5"},
            {
                "scheme": "T2026",
                "dimension": "T2026/D1",
                "method": "grade",
                "grade_fractions": {"A": "1", "B": "0.8"},
            },
            {"points": "10.00"},
            {"points": "12.50"},
            {"code": "I2"},
        ),
        Case(
            "period",
            Period,
            "period",
            {
                "code": "2026Q4",
                "name": "2026年第四季度",
                "start_date": "2026-10-01",
                "end_date": "2026-12-31",
                "town_scheme": str(ids["scheme"]),
            },
            {"name": "2026年四季度"},
            {"code": "2026Q4", "town_scheme": "T2026", "status": "draft"},
            {"name": "2026年第四季度"},
            {"name": "2026年四季度"},
            {"code": "2026Q4"},
        ),
        Case(
            "user",
            User,
            "user",
            {
                "username": "newbie",
                "display_name": "新同事",
                "role": "assessor",
                "active": "y",
                "password": "a-long-password-1",
            },
            {"display_name": "新同事（考核组）"},
            {"username": "newbie", "role": "assessor", "active": True},
            {"display_name": "新同事"},
            {"display_name": "新同事（考核组）"},
            {"username": "newbie"},
        ),
    ]


CASE_ENDPOINTS = [
    "town",
    "village",
    "group",
    "cadre",
    "cadre_record",
    "project",
    "project_update",
    "scheme",
    "dimension",
    "indicator",
    "period",
    "user",
]


def _find(case: Case):
    query = select(case.model)
    for name, value in case.find.items():
        query = query.where(getattr(case.model, name) == value)
    return db.session.scalars(query).one_or_none()


def _form_of(obj, case: Case) -> dict:
    """The edit form as a browser would post it: the create data, changed by ``edit``."""
    data = {k: v for k, v in case.create.items() if k != "password"}
    data.update(case.edit)
    return data


@pytest.mark.parametrize("endpoint", CASE_ENDPOINTS)
def test_admin_lists_creates_edits_and_deletes_with_one_event_each(
    app, client, auth, base, endpoint
):
    case = next(c for c in cases(base) if c.endpoint == endpoint)
    auth.login("admin")
    listing = client.get(f"/admin/{endpoint}/")
    assert listing.status_code == 200
    assert client.get(f"/admin/{endpoint}/new/").status_code == 200

    with app.app_context():
        seq = event_count()
    created = client.post(f"/admin/{endpoint}/new/", data=case.create)
    assert created.status_code == 302, created.get_data(as_text=True)[-3000:]
    with app.app_context():
        obj = _find(case)
        assert obj is not None
        pk = obj.id
        (event,) = events_after(seq)
        assert event["action"] == f"{case.entity}.create"
        assert event["actor"] == "admin"
        assert event["before"] is None
        for key, value in case.created.items():
            assert event["after"][key] == value, key
        assert "password_hash" not in event["after"]
        seq = event_count()

    assert client.get(f"/admin/{endpoint}/edit/?id={pk}").status_code == 200
    assert client.get(f"/admin/{endpoint}/details/?id={pk}").status_code == 200
    edited = client.post(f"/admin/{endpoint}/edit/?id={pk}", data=_form_of(obj, case))
    assert edited.status_code == 302, edited.get_data(as_text=True)[-3000:]
    with app.app_context():
        (event,) = events_after(seq)
        assert event["action"] == f"{case.entity}.update"
        before, after = dict(event["before"]), dict(event["after"])
        if hasattr(case.model, "recorded_at"):  # 记录时间 follows the last edit
            assert before.pop("recorded_at") < after.pop("recorded_at")
        assert before == case.changed_before
        assert after == case.changed_after
        seq = event_count()

    deleted = client.post(f"/admin/{endpoint}/delete/", data={"id": str(pk)})
    assert deleted.status_code == 302
    with app.app_context():
        assert db.session.get(case.model, pk) is None
        (event,) = events_after(seq)
        assert event["action"] == f"{case.entity}.delete"
        assert event["after"] is None
        assert event["before"]


def test_town_view_only_shows_and_opens_towns(client, auth, base):
    auth.login("admin")
    page = client.get("/admin/town/").get_data(as_text=True)
    assert "曲溪街道" in page
    assert "新桃村" not in page
    assert "列表 (1)" in page  # the count is of towns, not of every unit
    # A village cannot be opened (or edited) through the town view.
    response = client.get(f"/admin/town/edit/?id={base['village']}")
    assert response.status_code == 302
    villages = client.get("/admin/village/").get_data(as_text=True)
    assert "新桃村" in villages and "第一批" in villages


def test_village_filters_by_town_batch_and_group(app, client, auth, base):
    with app.app_context():
        other_town = records.create(
            SETUP,
            Unit,
            {"code": "445203102000", "name": "磐东街道", "level": "town", "kind": "街道"},
        )
        records.create(
            SETUP,
            Unit,
            {
                "code": "445203102201",
                "name": "汾水村",
                "level": "village",
                "kind": "村",
                "parent": other_town,
            },
        )
    auth.login("admin")
    page = client.get("/admin/village/").get_data(as_text=True)
    for label in ("所属镇街", "典型村批次", "研判小组"):
        assert label in page
    assert "新桃村" in page and "汾水村" in page
    # Filter arguments are flt<position>_<filter index>, in column_filters order.
    by_town = client.get(f"/admin/village/?flt0_0={base['town']}").get_data(as_text=True)
    assert "新桃村" in by_town and "汾水村" not in by_town
    by_batch = client.get("/admin/village/?flt0_1=1").get_data(as_text=True)
    assert "新桃村" in by_batch and "汾水村" not in by_batch
    by_group = client.get(f"/admin/village/?flt0_2={base['group']}").get_data(as_text=True)
    assert "新桃村" in by_group and "汾水村" not in by_group


def test_user_password_is_hashed_and_never_in_history_or_pages(app, client, auth):
    auth.login("admin")
    with app.app_context():
        seq = event_count()
    client.post(
        "/admin/user/new/",
        data={
            "username": "newbie",
            "role": "reviewer",
            "active": "y",
            "password": "first-password-1",
        },
    )
    with app.app_context():
        newbie = db.session.scalars(select(User).where(User.username == "newbie")).one()
        assert newbie.password_hash.startswith("$argon2id$")
        assert accounts.check_password(newbie, "first-password-1")
        pk = newbie.id
        old_hash = newbie.password_hash
    response = client.post(
        f"/admin/user/edit/?id={pk}",
        data={
            "username": "newbie",
            "role": "reviewer",
            "active": "y",
            "new_password": "second-password-2",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        newbie = db.session.get(User, pk)
        assert accounts.check_password(newbie, "second-password-2")
        events = events_after(seq)
        assert [e["action"] for e in events] == ["user.create", "user.password_set"]
        text = repr(events)
        assert old_hash not in text and newbie.password_hash not in text
        assert "argon2" not in text and "password" not in repr([e["after"] for e in events])
    for url in (f"/admin/user/details/?id={pk}", "/admin/user/", f"/admin/user/edit/?id={pk}"):
        page = client.get(url).get_data(as_text=True)
        assert "$argon2" not in page
    export = client.get("/admin/user/export/csv/").get_data(as_text=True)
    assert "argon2" not in export
    # Leaving the new password blank keeps the old one and writes no password event.
    with app.app_context():
        seq = event_count()
    client.post(
        f"/admin/user/edit/?id={pk}",
        data={"username": "newbie", "role": "reviewer", "active": "y", "new_password": ""},
    )
    with app.app_context():
        assert events_after(seq) == []
        assert accounts.check_password(db.session.get(User, pk), "second-password-2")


def test_user_form_offers_chinese_role_names(client, auth):
    auth.login("admin")
    page = client.get("/admin/user/new/").get_data(as_text=True)
    for name in ("系统管理员", "考核组成员", "督导审核", "审计", "研判组成员"):
        assert name in page
    assert 'name="new_password"' not in page
    edit = client.get("/admin/user/edit/?id=1").get_data(as_text=True)
    assert 'name="new_password"' in edit and 'name="password"' not in edit


def test_token_list_revokes_and_never_shows_the_hash(app, client, auth):
    with app.app_context():
        owner = db.session.scalars(select(User).where(User.username == "auditor")).one()
        token = accounts.create_token(SETUP, owner, "审计接口")
        digest = accounts.token_digest(token)
        token_id = db.session.scalars(select(ApiToken.id)).one()
        seq = event_count()
    auth.login("admin")
    page = client.get("/admin/token/").get_data(as_text=True)
    assert "审计接口" in page and digest not in page and "有效" in page
    assert digest not in client.get(f"/admin/token/details/?id={token_id}").get_data(as_text=True)
    assert digest not in client.get("/admin/token/export/csv/").get_data(as_text=True)
    assert client.get("/admin/token/new/").status_code == 302  # no creation here
    response = client.post(
        "/admin/token/action/", data={"action": "revoke", "rowid": [str(token_id)]}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None
        (event,) = events_after(seq)
        assert event["action"] == "api_token.update"
        assert digest not in repr(event)
    api = client.get("/api/v1/summary", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_a_refused_write_is_flashed_in_chinese_and_records_nothing(app, client, auth, base):
    auth.login("admin")
    with app.app_context():
        seq = event_count()
    # Points with three decimals would be rounded away by the database: refused instead.
    response = client.post(
        "/admin/indicator/new/",
        data={
            "dimension": str(base["dimension"]),
            "code": "I9",
            "name": "x",
            "points": "1.234",
            "method": "direct",
            "direction": "higher",
            "order": "0",
        },
        follow_redirects=True,
    )
    assert "最多两位小数" in response.get_data(as_text=True)
    # A duplicate code hits the database's unique constraint: a Chinese message, no 500.
    duplicate = client.post(
        "/admin/group/new/", data={"name": "第一研判小组"}, follow_redirects=True
    )
    assert duplicate.status_code == 200
    with app.app_context():
        assert event_count() == seq


# --- who may write --------------------------------------------------------------------


def ledger_views(app) -> list[LedgerModelView]:
    admin = app.extensions["admin"][0]
    return [v for v in admin._views if isinstance(v, LedgerModelView)]


ROLES_WITHOUT_ADMIN = ["assessor", "supervisor", "auditor", "reviewer"]


@pytest.mark.parametrize("role", ROLES_WITHOUT_ADMIN)
def test_roles_without_write_permission_get_403_on_every_write_endpoint(
    app, client, auth, base, role
):
    auth.login(role)
    with app.app_context():
        seq = event_count()
        actor = db.session.scalars(select(User).where(User.username == role)).one()
        refused = [
            v
            for v in ledger_views(app)
            if v.write_permission and not can(actor, v.write_permission)
        ]
        allowed = [
            v for v in ledger_views(app) if v.write_permission and can(actor, v.write_permission)
        ]
    assert refused
    for view in refused:
        base_url = f"/admin/{view.endpoint}"
        for method, url, data in (
            ("post", f"{base_url}/new/", {"name": "x", "code": "x"}),
            ("get", f"{base_url}/new/", None),
            ("post", f"{base_url}/edit/?id=1", {"name": "x"}),
            ("post", f"{base_url}/delete/", {"id": "1"}),
            ("post", f"{base_url}/action/", {"action": "delete", "rowid": ["1"]}),
        ):
            response = getattr(client, method)(url, data=data)
            assert response.status_code == 403, (role, method, url)
    for view in allowed:
        page = client.get(f"/admin/{view.endpoint}/new/")
        assert page.status_code == 200, (role, view.endpoint)
    with app.app_context():
        assert event_count() == seq


def test_supervisor_records_cadre_entries_but_cannot_touch_cadres(app, client, auth, base):
    auth.login("supervisor")
    response = client.post(
        "/admin/cadre_record/new/",
        data={
            "cadre": str(base["cadre"]),
            "date": "2026-09-01",
            "orientation": "grassroots",
            "title": "驻村走访",
            "evaluation": "较好",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        record = db.session.scalars(select(CadreRecord)).one()
        assert record.recorded_by == "supervisor"
    assert client.post("/admin/cadre/new/", data={"name": "x"}).status_code == 403


def test_read_only_role_sees_no_create_button(client, auth, base):
    auth.login("auditor")
    page = client.get("/admin/town/").get_data(as_text=True)
    assert "曲溪街道" in page
    assert "/admin/town/new/" not in page
    assert "/admin/town/edit/" not in page


def test_anonymous_users_are_sent_to_login(client):
    for url in ("/admin/town/", "/admin/scheme/new/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    response = client.post("/admin/town/new/", data={"name": "x"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_inline_edit_endpoint_is_closed(client, auth, base):
    auth.login("admin")
    response = client.post(
        "/admin/town/ajax/update/", data={"list_form_pk": str(base["town"]), "name": "x"}
    )
    assert response.status_code == 404


# --- schemes: frozen once published, publish reports all, copy ------------------------


def publish(app, scheme_id: int) -> None:
    with app.app_context():
        schemes.publish_scheme(SETUP, db.session.get(Scheme, scheme_id))


def test_published_scheme_refuses_edits_through_the_admin(app, client, auth, base):
    publish(app, base["scheme"])
    auth.login("admin")
    with app.app_context():
        seq = event_count()
    attempts = [
        client.post(
            f"/admin/scheme/edit/?id={base['scheme']}",
            data={
                "code": "T2026",
                "name": "改名",
                "level": "town",
                "total": "100",
                "tie_method": "competition",
                "grades": "好=90, 较差=0",
            },
            follow_redirects=True,
        ),
        client.post(
            f"/admin/indicator/edit/?id={base['indicator']}",
            data={
                "dimension": str(base["dimension"]),
                "code": "I1",
                "name": "x",
                "points": "100",
                "method": "direct",
                "direction": "higher",
                "order": "0",
            },
            follow_redirects=True,
        ),
        client.post(
            "/admin/indicator/new/",
            data={
                "dimension": str(base["dimension"]),
                "code": "I2",
                "name": "x",
                "points": "1",
                "method": "direct",
                "direction": "higher",
                "order": "0",
            },
            follow_redirects=True,
        ),
        client.post(
            "/admin/dimension/new/",
            data={"scheme": str(base["scheme"]), "code": "D9", "name": "x", "order": "9"},
            follow_redirects=True,
        ),
        client.post(
            "/admin/dimension/delete/", data={"id": str(base["dimension"])}, follow_redirects=True
        ),
        client.post(
            "/admin/scheme/delete/", data={"id": str(base["scheme"])}, follow_redirects=True
        ),
    ]
    for response in attempts:
        assert "已发布，不能再修改" in response.get_data(as_text=True)
    with app.app_context():
        assert event_count() == seq
        scheme = db.session.get(Scheme, base["scheme"])
        assert scheme.name == "镇街考核方案"
        assert db.session.get(Indicator, base["indicator"]).name == "地区生产总值增速"


def test_publish_through_the_admin_action(app, client, auth, base):
    auth.login("admin")
    with app.app_context():
        seq = event_count()
    response = client.post(
        "/admin/scheme/action/",
        data={"action": "publish", "rowid": [str(base["scheme"])]},
        follow_redirects=True,
    )
    assert "已发布" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Scheme, base["scheme"]).status == "published"
        (event,) = events_after(seq)
        assert event["action"] == "scheme.publish"
        assert event["entity_key"] == "T2026"
        assert event["before"] == {"status": "draft"}
        assert event["after"] == {"status": "published"}


def test_new_version_button_makes_a_draft_copy_with_its_parts(app, client, auth, base):
    publish(app, base["scheme"])
    auth.login("admin")
    with app.app_context():
        seq = event_count()
    response = client.post("/admin/scheme/new-version/", data={"id": str(base["scheme"])})
    assert response.status_code == 302
    with app.app_context():
        new = db.session.scalars(select(Scheme).where(Scheme.code == "T2026-v2")).one()
    # The copy's own form opens, editable, saying what happened.
    assert response.headers["Location"].endswith(f"/admin/scheme/edit/?id={new.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已为 T2026 建立新版本 T2026-v2（第 2 版，草稿）" in page
    assert 'id="new-version"' not in page and 'value="保存"' in page
    with app.app_context():
        new = db.session.scalars(select(Scheme).where(Scheme.code == "T2026-v2")).one()
        assert (new.status, new.version, new.based_on.code) == ("draft", 2, "T2026")
        assert [d.code for d in new.dimensions] == ["D1"]
        assert [(i.code, i.points, i.dimension.code) for i in new.indicators] == [
            ("I1", Decimal("100.00"), "D1")
        ]
        (event,) = events_after(seq)
        assert event["action"] == "scheme.copy"
        assert event["entity_key"] == "T2026-v2"
        assert event["before"] == {"copied_from": "T2026", "version": 1}
        assert event["after"]["based_on"] == "T2026"
        assert event["after"]["indicators"][0]["code"] == "I1"
        new_id = new.id
        indicator_id = new.indicators[0].id
        dimension_id = new.dimensions[0].id
    # The copy is a draft: it can be changed and then published.
    edited = client.post(
        f"/admin/indicator/edit/?id={indicator_id}",
        data={
            "dimension": str(dimension_id),
            "code": "I1",
            "name": "地区生产总值增速（新口径）",
            "points": "100",
            "method": "direct",
            "direction": "higher",
            "order": "0",
        },
    )
    assert edited.status_code == 302
    with app.app_context():
        assert db.session.get(Indicator, indicator_id).name == "地区生产总值增速（新口径）"
        assert db.session.get(Indicator, base["indicator"]).name == "地区生产总值增速"
        schemes.publish_scheme(SETUP, db.session.get(Scheme, new_id))
        assert db.session.get(Scheme, new_id).status == "published"
        assert db.session.get(Scheme, base["scheme"]).status == "published"


# --- exports ---------------------------------------------------------------------------


def _disposition_name(response) -> str:
    header = response.headers["Content-Disposition"]
    assert header.startswith("attachment;")
    match = re.search(r"filename\*=UTF-8''(\S+)", header)
    assert match, header
    assert re.search(r'filename=("[\x20-\x7e]+"|[!#-~]+;)', header), header
    return unquote(match.group(1))


def _formula_town(app):
    with app.app_context():
        records.create(
            SETUP,
            Unit,
            {
                "code": "445203109000",
                "name": '=HYPERLINK("http://x")',
                "level": "town",
                "kind": "镇",
                "county": "+86",
                "sort_order": 7,
            },
        )


def test_csv_export_has_bom_chinese_name_and_neutralized_formulas(app, client, auth, base):
    _formula_town(app)
    auth.login("admin")
    response = client.get("/admin/town/export/csv/")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    name = _disposition_name(response)
    assert re.fullmatch(r"镇街_\d{8}\.csv", name), name
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["区划代码", "名称", "类型"]
    evil = next(r for r in rows if r[0] == "445203109000")
    assert evil[1] == '\'=HYPERLINK("http://x")'
    assert evil[3] == "'+86"
    assert evil[4] == "7"
    assert evil[5] == "是"


def test_xlsx_export_keeps_numbers_and_neutralizes_text(app, client, auth, base):
    _formula_town(app)
    auth.login("admin")
    response = client.get("/admin/town/export/xlsx/")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert re.fullmatch(r"镇街_\d{8}\.xlsx", _disposition_name(response))
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("区划代码", "名称", "类型")
    evil = next(r for r in rows if r[0] == "445203109000")
    assert evil[1] == '\'=HYPERLINK("http://x")'
    assert evil[4] == 7
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_exports_of_every_view_are_named_in_chinese(app, client, auth, base):
    auth.login("admin")
    for view in ledger_views(app):
        for kind in ("csv", "xlsx"):
            response = client.get(f"/admin/{view.endpoint}/export/{kind}/")
            assert response.status_code == 200, (view.endpoint, kind)
            name = _disposition_name(response)
            assert name.startswith(str(view.name)) and name.endswith(f".{kind}")
            response.close()
    project = client.get("/admin/project/export/xlsx/")
    sheet = openpyxl.load_workbook(io.BytesIO(project.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][5] == 10  # progress stays a number
    assert rows[1][6] == "正常推进"


# --- language -------------------------------------------------------------------------


def test_admin_speaks_chinese_by_default(client, auth, base):
    auth.login("admin")
    page = client.get("/admin/town/").get_data(as_text=True)
    for text in ("列表", "创建", "导出", "基础数据", "镇街", "区划代码", "指标方案", "系统管理"):
        assert text in page, text
    form = client.get("/admin/town/new/").get_data(as_text=True)
    assert "保存" in form


def test_english_switch_translates_flask_admin_and_our_labels(client, auth, base):
    auth.login("admin")
    client.get("/lang/en")
    page = client.get("/admin/town/").get_data(as_text=True)
    for text in ("List", "Create", "Export", "Base data", "Towns", "Division code"):
        assert text in page, text
    assert "区划代码" not in page
    client.get("/lang/zh_CN")
    assert "区划代码" in client.get("/admin/town/").get_data(as_text=True)


def test_admin_forms_carry_the_csrf_token_when_protection_is_on(app, client, auth, base):
    auth.login("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    listing = client.get("/admin/town/").get_data(as_text=True)
    assert 'name="csrf_token"' in listing  # row delete forms and the actions form
    form = client.get("/admin/town/new/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form) or re.search(
        r'name="csrf_token" value="([^"]+)"', form
    )
    assert token, "the create form has no CSRF token"
    data = {"code": "445203101000", "name": "云路镇", "kind": "镇", "sort_order": "0"}
    assert client.post("/admin/town/new/", data=data).status_code == 400
    created = client.post("/admin/town/new/", data={**data, "csrf_token": token.group(1)})
    assert created.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Unit).where(Unit.code == "445203101000")) is not None


def test_an_admin_cannot_delete_demote_or_disable_themselves(app, client, auth):
    auth.login("admin")
    with app.app_context():
        me = db.session.scalars(select(User).where(User.username == "admin")).one().id
        seq = event_count()
    demote = client.post(
        f"/admin/user/edit/?id={me}",
        data={"username": "admin", "role": "auditor", "active": "y"},
        follow_redirects=True,
    )
    assert "不能修改当前登录账号自己的角色" in demote.get_data(as_text=True)
    delete = client.post("/admin/user/delete/", data={"id": str(me)}, follow_redirects=True)
    assert "不能删除当前登录的账号" in delete.get_data(as_text=True)
    with app.app_context():
        assert event_count() == seq
        assert db.session.get(User, me).role == "admin"


def test_indicator_range_is_edited_in_the_admin_and_recorded(app, client, auth, base):
    auth.login("admin")
    form = client.get("/admin/indicator/new/").get_data(as_text=True)
    for label in ("允许最小值", "允许最大值", "只允许整数"):
        assert label in form
    with app.app_context():
        seq = event_count()
    fields = {
        "dimension": str(base["dimension"]),
        "code": "I7",
        "name": "重复信访事项",
        "points": "1",
        "method": "relative",
        "direction": "lower",
        "measure_unit": "件",
        "order": "7",
    }
    created = client.post(
        "/admin/indicator/new/",
        data={**fields, "value_min": "0", "value_max": "50", "integer_only": "y"},
    )
    assert created.status_code == 302
    with app.app_context():
        indicator = db.session.scalar(db.select(Indicator).where(Indicator.code == "I7"))
        assert (indicator.value_min, indicator.value_max, indicator.integer_only) == (
            Decimal("0"), Decimal("50"), True,
        )
        (event,) = events_after(seq)
        assert event["action"] == "indicator.create"
        assert (event["after"]["value_min"], event["after"]["value_max"]) == (
            "0.000000", "50.000000",
        )
        assert event["after"]["integer_only"] is True
        indicator_id, seq = indicator.id, event_count()
    # A minimum above the maximum is refused in Chinese, and nothing is recorded.
    refused = client.post(
        f"/admin/indicator/edit/?id={indicator_id}",
        data={**fields, "value_min": "60", "value_max": "50", "integer_only": "y"},
        follow_redirects=True,
    )
    assert "指标 I7的允许最小值 60 大于允许最大值 50" in refused.get_data(as_text=True)
    with app.app_context():
        assert event_count() == seq
        assert db.session.get(Indicator, indicator_id).value_min == Decimal("0")
    # Published, the range is frozen like every other field.
    with app.app_context():
        records.update(SETUP, db.session.get(Indicator, base["indicator"]), {"points": Decimal(99)})
        publish(app, base["scheme"])
        seq = event_count()
    frozen = client.post(
        f"/admin/indicator/edit/?id={indicator_id}",
        data={**fields, "value_min": "0", "value_max": "100"},
        follow_redirects=True,
    )
    assert "已发布，不能再修改" in frozen.get_data(as_text=True)
    with app.app_context():
        assert event_count() == seq
        assert db.session.get(Indicator, indicator_id).value_max == Decimal("50")


def test_the_token_export_holds_text_not_html(app, client, auth):
    """The list shows 有效 as a badge; the CSV says 有效."""
    import csv
    import io

    from evaluation.accounts import operations as accounts
    from tests.conftest import SEED_ACTOR, user

    with app.app_context():
        accounts.create_token(SEED_ACTOR, user("auditor"), "审计接口")
    auth.login("admin")
    response = client.get("/admin/token/export/csv/")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "<" not in text and "badge" not in text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1][0] == "审计接口" and rows[1][-1] == "有效"

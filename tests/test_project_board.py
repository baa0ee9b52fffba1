"""Key projects (挂图作战): the status rule and the board ``/admin/projects-board/``."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select

from evaluation.history import records
from evaluation.projects.board import project_status
from models import Cadre, KeyProject, ProjectUpdate, Unit, db
from tests.conftest import PASSWORD, SEED_ACTOR

TODAY = date(2026, 6, 30)


# --- the status rule ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("progress", "due", "started", "expected"),
    [
        # Done at 100 %, even late.
        ("100", date(2026, 1, 1), date(2025, 1, 1), "done"),
        ("100.00", None, None, "done"),
        # The due date has passed: behind, however close to done.
        ("99", date(2026, 6, 29), date(2026, 1, 1), "behind"),
        # Due today is not yet late.
        ("90", date(2026, 6, 30), date(2026, 1, 1), "on_track"),
        # Half the time gone (Jan 1 .. Dec 1 is 334 days, 180 elapsed ≈ 53.9 %).
        ("34", date(2026, 12, 1), date(2026, 1, 1), "on_track"),  # trails by 19.9
        ("33", date(2026, 12, 1), date(2026, 1, 1), "behind"),  # trails by 20.9
        ("80", date(2026, 12, 1), date(2026, 1, 1), "on_track"),  # ahead
        # Exactly 20 points behind is not "more than 20": 100 days of 200 gone = 50 %.
        ("30", date(2026, 10, 8), date(2026, 3, 22), "on_track"),
        ("29.99", date(2026, 10, 8), date(2026, 3, 22), "behind"),
        # Without a first update or a due date only the other rules apply.
        ("0", date(2026, 12, 1), None, "on_track"),
        ("0", None, date(2025, 1, 1), "on_track"),
        # The first update is today: no time has elapsed yet.
        ("0", date(2026, 12, 1), TODAY, "on_track"),
    ],
)
def test_project_status(progress, due, started, expected):
    assert project_status(Decimal(progress), due, TODAY, started) == expected


def test_project_status_exact_boundary_days():
    # 100 of 200 days elapsed: 50 % of time; 30 % progress trails by exactly 20.
    started, due = date(2026, 1, 1), date(2026, 7, 20)
    today = date(2026, 4, 11)
    assert (today - started).days * 2 == (due - started).days
    assert project_status(Decimal("30"), due, today, started) == "on_track"
    assert project_status(Decimal("29.99"), due, today, started) == "behind"


# --- the board --------------------------------------------------------------------------


def build_projects() -> None:
    towns = [
        records.create(
            SEED_ACTOR,
            Unit,
            {"code": code, "name": name, "level": "town", "kind": "镇", "sort_order": i},
        )
        for i, (code, name) in enumerate((("445203100000", "云路镇"), ("445203102000", "龙尾镇")))
    ]
    village = records.create(
        SEED_ACTOR,
        Unit,
        {"code": "445203102201", "name": "龙珠村", "level": "village", "kind": "村",
         "parent": towns[1]},
    )
    chief = records.create(
        SEED_ACTOR, Cadre, {"name": "王镇长", "unit": towns[0], "position": "镇长"}
    )
    secretary = records.create(
        SEED_ACTOR, Cadre, {"name": "李书记", "unit": village, "position": "村党组织书记"}
    )
    plan = [
        # code, name, unit, lead, due, progress, updates [(date, progress, note)]
        ("GT-001", "云路镇工业园区基础设施提升工程", towns[0], chief, date(2099, 12, 31), "100",
         [(date(2026, 1, 10), "40", "完成招标"), (date(2026, 5, 1), "100", "完成竣工验收")]),
        ("GT-002", "云路镇高标准农田建设项目", towns[0], chief, date(2020, 12, 31), "60",
         [(date(2020, 1, 1), "60", "用地报批未完成，进度滞后")]),
        ("GT-003", "龙珠村乡村振兴示范带建设", village, secretary, date(2099, 12, 31), "10",
         [(date(2026, 3, 1), "10", "主体工程施工中")]),
    ]
    for code, name, unit, lead, due, progress, updates in plan:
        project = records.create(
            SEED_ACTOR,
            KeyProject,
            {"code": code, "name": name, "unit": unit, "lead_cadre": lead, "due_date": due,
             "progress": Decimal(progress)},
        )
        for day, value, note in updates:
            records.create(
                SEED_ACTOR,
                ProjectUpdate,
                {"project": project, "date": day, "progress": Decimal(value), "note": note},
            )
    db.session.remove()


@pytest.fixture
def projects(app):
    with app.app_context():
        build_projects()
    return app


def shown(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-project="([^"]+)" data-status="(\w+)"', html))


def test_board_shows_progress_status_and_latest_note(projects, client, auth):
    auth.login("assessor")
    html = client.get("/admin/projects-board/").get_data(as_text=True)
    assert shown(html) == {"GT-001": "done", "GT-002": "behind", "GT-003": "on_track"}
    assert "完成竣工验收" in html and "完成招标" not in html  # the latest note only
    assert 'style="width: 100%"' in html and 'style="width: 60%"' in html
    assert "已完成" in html and "滞后" in html and "正常推进" in html
    assert "龙尾镇 · 龙珠村" in html


def test_board_filters_by_town_lead_cadre_and_status(projects, client, auth):
    with projects.app_context():
        longwei = db.session.scalar(select(Unit.id).where(Unit.name == "龙尾镇"))
        chief = db.session.scalar(select(Cadre.id).where(Cadre.name == "王镇长"))
    auth.login("supervisor")
    # A village's project belongs to its town.
    html = client.get(f"/admin/projects-board/?town={longwei}").get_data(as_text=True)
    assert set(shown(html)) == {"GT-003"}
    html = client.get(f"/admin/projects-board/?cadre={chief}").get_data(as_text=True)
    assert set(shown(html)) == {"GT-001", "GT-002"}
    html = client.get(f"/admin/projects-board/?cadre={chief}&status=behind").get_data(
        as_text=True
    )
    assert set(shown(html)) == {"GT-002"}


def test_board_is_closed_to_reviewers(projects, client, auth):
    auth.login("reviewer")
    assert client.get("/admin/projects-board/").status_code == 403


@pytest.mark.parametrize("value", ["²", "١٢", "-1", "1.5", ""])
def test_a_mistyped_number_in_the_query_string_shows_the_unfiltered_pages(
    projects, client, auth, value
):
    """One reader of whole-number arguments (``evaluation.web.int_arg``) on every page:
    ``²`` is a digit to ``str.isdigit`` but not to ``int``."""
    auth.login("supervisor")
    html = client.get("/admin/projects-board/", query_string={"town": value, "cadre": value})
    assert html.status_code == 200
    assert set(shown(html.get_data(as_text=True))) == {"GT-001", "GT-002", "GT-003"}
    for url, name in PAGE_NUMBERS:
        assert client.get(url, query_string={name: value}).status_code == 200, (url, name)


PAGE_NUMBERS = (
    ("/admin/projects-board/", "town"),
    ("/admin/projects-board/", "cadre"),
    ("/admin/cadre-ledger/", "town"),
    ("/admin/cadre-ledger/", "page"),
    ("/admin/review/", "group"),
    ("/admin/review/", "batch"),
)


@pytest.mark.parametrize("value", ["2147483648", "99999999999999999999"])
def test_a_number_past_the_32_bit_ids_is_refused_naming_it(projects, client, auth, value):
    """Ids are 32-bit: a larger one is no typo but a forged request, a 400 that says which
    argument (it was a 500 in the database)."""
    auth.login("supervisor")
    for url, name in PAGE_NUMBERS:
        response = client.get(url, query_string={name: value})
        assert response.status_code == 400, (url, name)
        assert f"参数「{name}」的数值超出范围" in response.get_data(as_text=True)


def test_the_project_list_shows_the_derived_status_and_no_form_sets_it(projects, client, auth):
    """One status: derived (``project_status``), shown alike on the board and the project
    list; it is not stored and no form offers it."""
    auth.login("admin")
    with projects.app_context():
        behind = db.session.scalar(select(KeyProject).where(KeyProject.code == "GT-002"))
        behind_id = behind.id
        columns = [c["name"] for c in inspect(db.engine).get_columns("key_project")]
        assert "progress" in columns and "status" not in columns
    board = shown(client.get("/admin/projects-board/").get_data(as_text=True))
    assert board["GT-002"] == "behind"
    listed = client.get("/admin/project/?search=GT-002").get_data(as_text=True)
    (row,) = [r for r in listed.split("<tr")[1:] if "GT-002" in r.split("</tr>")[0] and "<td" in r]
    assert "滞后" in row and "正常推进" not in row
    form = client.get(f"/admin/project/edit/?id={behind_id}").get_data(as_text=True)
    assert 'name="progress"' in form and 'name="status"' not in form


def test_an_edit_by_a_supervisor_names_the_supervisor_as_recorder(projects, app):
    """记录人 is who wrote the update last: a supervisor's edit of an assessor's update
    must not go on showing the assessor."""
    from models import HistoryEvent

    assessor, supervisor = app.test_client(), app.test_client()
    assessor.post("/login", data={"username": "assessor", "password": PASSWORD})
    supervisor.post("/login", data={"username": "supervisor", "password": PASSWORD})
    with app.app_context():
        project = db.session.scalar(select(KeyProject).where(KeyProject.code == "GT-002"))
        project_id = project.id
    form = {"project": str(project_id), "date": "2026-11-20", "progress": "70", "note": "主体封顶"}
    assert assessor.post("/admin/project_update/new/", data=form).status_code == 302
    with app.app_context():
        update = db.session.scalar(select(ProjectUpdate).where(ProjectUpdate.note == "主体封顶"))
        update_id, first_recorded_at = update.id, update.recorded_at
        assert update.recorded_by == "assessor"
    edited = {**form, "progress": "75", "note": "主体封顶，督导核实为 75%"}
    response = supervisor.post(f"/admin/project_update/edit/?id={update_id}", data=edited)
    assert response.status_code == 302
    with app.app_context():
        update = db.session.get(ProjectUpdate, update_id)
        assert (update.recorded_by, update.progress) == ("supervisor", Decimal("75.00"))
        assert update.recorded_at >= first_recorded_at
        event = db.session.scalar(
            select(HistoryEvent).where(HistoryEvent.action == "project_update.update")
        )
        assert event.actor == "supervisor"
        assert '"recorded_by":"assessor"' in event.before
        assert '"recorded_by":"supervisor"' in event.after
    html = supervisor.get("/admin/project_update/").get_data(as_text=True)
    row = html[html.index("主体封顶，督导核实") :][:2000]
    assert "supervisor" in row or "测试督导审核" in row

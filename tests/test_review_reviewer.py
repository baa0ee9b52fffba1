"""The reviewer's pages as a reviewer works them (docs/rules.md#review-flags): a conclusion is
chosen, never preselected; people shown by their names; older open cases of the village settled
by a new review on request, each with its event."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.reviews import operations as reviews
from models import HistoryEvent, Period, ReviewCase, ReviewRecord, db
from tests.conftest import SEED_ACTOR, user
from tests.test_review_board import build_board_world, events, period, review_form, unit


@pytest.fixture
def world(app):
    """The review board's world: two groups, six typical villages, 2026Q2 open."""
    with app.app_context():
        build_board_world()
    return app


def _conclusion_select(page: str) -> str:
    match = re.search(r'<select[^>]*name="conclusion".*?</select>', page, re.S)
    assert match, "no conclusion select"
    return match.group(0)


def test_no_conclusion_is_preselected(world, client, auth):
    with world.app_context():
        village_id = unit("新桃村").id
    auth.login("reviewer")
    page = client.get(f"/admin/review/village/{village_id}?period=2026Q2").get_data(as_text=True)
    select_html = _conclusion_select(page)
    assert "selected" not in select_html
    assert re.search(r'<option[^>]*value=""[^>]*>请选择</option>', select_html)
    assert " required" in select_html
    assert select_html.index('value=""') < select_html.index('value="好"')


@pytest.mark.parametrize("role", ["reviewer", "supervisor"])
def test_a_review_without_a_conclusion_is_refused_in_chinese(world, client, auth, role):
    with world.app_context():
        village_id = unit("新桃村").id
        before = events()
    auth.login(role)
    response = client.post(
        f"/admin/review/village/{village_id}/record", data=review_form(conclusion="")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请选择研判结论" in page
    assert "Not a valid choice" not in page and "This field is required" not in page
    with world.app_context():
        assert db.session.scalar(select(ReviewRecord.id)) is None and events() == before
        with pytest.raises(reviews.InvalidInput, match="请选择研判结论"):
            reviews.record_review(
                user("reviewer"), unit("新桃村"), date=date(2026, 6, 1), visitors="甲",
                findings="乙", conclusion="",
            )  # fmt: skip


def test_the_village_page_names_people_by_their_display_names(world, client, auth):
    with world.app_context():
        periods.sync_review_cases(user("supervisor"), period())
        village = unit("东湖村")
        village_id = village.id
        reviews.record_review(
            user("reviewer"), village, period=period(), date=date(2026, 6, 2),
            visitors="林泽鹏", findings="情况良好", conclusion="较好",
        )  # fmt: skip
        reviews.close_case(user("reviewer"), reviews.case_for(period(), village), "复查通过")
    auth.login("supervisor")
    page = client.get(f"/admin/review/village/{village_id}?period=2026Q2").get_data(as_text=True)
    assert "已由 测试研判组成员 于" in page
    records_table = page.split('id="review-records"')[1].split("</table>")[0]
    assert "测试研判组成员" in records_table
    assert not re.search(r">\s*reviewer\s*<", page)


# --- older open cases ----------------------------------------------------------------------


def _second_period_with_cases() -> Period:
    """2026Q3 open with every typical village's case (no values: all incomplete)."""
    q2 = period()
    periods.sync_review_cases(user("supervisor"), q2)
    q3 = records.create(
        SEED_ACTOR,
        Period,
        {"code": "2026Q3", "name": "2026年第三季度", "start_date": date(2026, 7, 1),
         "end_date": date(2026, 9, 30), "town_scheme": q2.town_scheme,
         "village_scheme": q2.village_scheme},
    )  # fmt: skip
    periods.open_period(SEED_ACTOR, q3)
    periods.sync_review_cases(user("supervisor"), q3)
    return q3


def _status(code: str, unit_name: str) -> str:
    return db.session.scalar(
        select(ReviewCase.status)
        .join(Period, Period.id == ReviewCase.period_id)
        .where(Period.code == code, ReviewCase.unit_id == unit(unit_name).id)
    )


@pytest.mark.parametrize("role", ["reviewer", "supervisor"])
def test_a_new_review_settles_older_open_cases_when_asked(world, client, auth, role):
    with world.app_context():
        _second_period_with_cases()
        village_id = unit("西岭村").id
        assert _status("2026Q2", "西岭村") == _status("2026Q3", "西岭村") == "open"
        before = events()
    auth.login(role)
    page = client.get(f"/admin/review/village/{village_id}?period=2026Q3").get_data(as_text=True)
    offer = page.split('id="close-older"')[1].split("</div>")[0]
    assert "同时办结本村以往各期未办结的研判任务" in offer and "2026年第二季度" in offer
    response = client.post(
        f"/admin/review/village/{village_id}/record",
        data=review_form(period="2026Q3", date="2026-07-20", next_visit="", close_older="y"),
    )
    assert response.status_code == 302
    with world.app_context():
        assert _status("2026Q2", "西岭村") == "closed"
        assert _status("2026Q3", "西岭村") == "open"  # the case this visit answers stays open
        assert events() == before + 2
        close = db.session.scalar(
            select(HistoryEvent).where(HistoryEvent.action == "review.close")
        )
        assert (close.entity, close.entity_key, close.period, close.actor) == (
            "review_case", "2026Q2/445203100203", "2026Q2", role,
        )  # fmt: skip
        assert close.reason == "已由 2026-07-20 的研判记录一并办结（结论：一般）"
        # The other villages' older cases are untouched.
        assert _status("2026Q2", "东湖村") == "open"
    page = client.get(f"/admin/review/village/{village_id}?period=2026Q3").get_data(as_text=True)
    assert 'id="close-older"' not in page  # nothing older left to offer


def test_without_the_box_older_cases_stay_open(world, client, auth):
    with world.app_context():
        _second_period_with_cases()
        village_id = unit("西岭村").id
    auth.login("reviewer")
    response = client.post(
        f"/admin/review/village/{village_id}/record",
        data=review_form(period="2026Q3", date="2026-07-20", next_visit=""),
    )
    assert response.status_code == 302
    with world.app_context():
        assert _status("2026Q2", "西岭村") == "open"
        assert db.session.scalar(
            select(HistoryEvent.seq).where(HistoryEvent.action == "review.close")
        ) is None


@pytest.mark.parametrize("who", ["reviewer2", "auditor", "assessor"])
def test_others_cannot_settle_a_groups_cases(world, client, auth, who):
    """Another group's reviewer, and roles that do not review, change nothing."""
    with world.app_context():
        _second_period_with_cases()
        village_id = unit("西岭村").id  # first group's
        before = events()
    auth.login(who)
    response = client.post(
        f"/admin/review/village/{village_id}/record",
        data=review_form(period="2026Q3", date="2026-07-20", next_visit="", close_older="y"),
    )
    assert response.status_code == 403
    with world.app_context():
        assert _status("2026Q2", "西岭村") == "open" and events() == before


def test_a_visits_photos_are_for_its_group_only(world, client, auth):
    """佐证材料 of a review record (docs/evidence.md): the group's reviewer attaches and
    sees them on the village page; another group's reviewer may neither attach nor
    download."""
    import io

    from tests import evidence_files

    with world.app_context():
        village = unit("西岭村")  # first group's
        record = reviews.record_review(
            user("reviewer"), village, date=date(2026, 6, 3), visitors="甲",
            findings="道路硬化", conclusion="好",
        )  # fmt: skip
        record_id, village_id = record.id, village.id
    page = f"/admin/review/village/{village_id}"
    photo = evidence_files.jpeg()

    def attach():
        return client.post(
            "/evidence/attach",
            data={
                "target_type": "review_record", "target_id": str(record_id), "next": page,
                "file": (io.BytesIO(photo), "走访照片.jpg"),
            },
            content_type="multipart/form-data",
        )  # fmt: skip

    auth.login("reviewer2")
    assert attach().status_code == 403
    auth.logout()
    auth.login("reviewer")
    assert 'name="target_type" value="review_record"' in client.get(page).get_data(as_text=True)
    assert attach().status_code == 303
    html = client.get(page).get_data(as_text=True)
    assert "走访照片.jpg" in html and "拍摄时间 2026-09-18 10:20" in html
    sha = re.search(r'data-sha256="([0-9a-f]{64})"', html).group(1)
    assert client.get(f"/evidence/{sha}").status_code == 200
    auth.logout()
    auth.login("reviewer2")
    assert client.get(f"/evidence/{sha}").status_code == 403

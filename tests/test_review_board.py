"""The typical-village review board (docs/rules.md#review-flags,
docs/architecture.md#pages-and-doors ``/admin/review/``) and its services."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from evaluation.core.writing import Forbidden, InvalidInput, StateError
from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.reviews import operations as reviews
from evaluation.scores import operations as ledger
from models import (
    AnalysisGroup,
    Cadre,
    Dimension,
    HistoryEvent,
    Indicator,
    Period,
    ReviewCase,
    ReviewRecord,
    Scheme,
    Unit,
    db,
)
from tests.conftest import PASSWORD, SEED_ACTOR, user

#: code, name, town index, batch, group index, V01 value (None = missing)
VILLAGES = [
    ("445203100201", "新桃村", 0, 1, 0, "95"),
    ("445203100202", "东湖村", 0, 1, 0, "88"),
    ("445203100203", "西岭村", 0, 2, 0, "50"),
    ("445203101204", "瑞联村", 1, 1, 1, "92"),
    ("445203101205", "汾水村", 1, 2, 1, "72"),
    ("445203101206", "龙珠村", 1, 2, 1, None),
]
ORDINARY = ("445203101207", "普通村")


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(action: str | None = None) -> int:
    where = [HistoryEvent.action == action] if action else []
    return count(HistoryEvent, *where)


def unit(name: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.name == name))


def period(code: str = "2026Q2") -> Period:
    return db.session.scalar(select(Period).where(Period.code == code))


def build_board_world() -> None:
    """Two groups, two towns, six typical villages and one ordinary, one open period."""
    groups = [
        records.create(SEED_ACTOR, AnalysisGroup, {"name": name, "leader": leader})
        for name, leader in (("第一研判小组", "林泽鹏"), ("第二研判小组", "黄晓敏"))
    ]
    towns = [
        records.create(
            SEED_ACTOR,
            Unit,
            {"code": code, "name": name, "level": "town", "kind": "镇", "sort_order": i},
        )
        for i, (code, name) in enumerate((("445203100000", "云路镇"), ("445203101000", "玉湖镇")))
    ]
    for order, (code, name, town, batch, group, _) in enumerate(VILLAGES, start=1):
        village = records.create(
            SEED_ACTOR,
            Unit,
            {
                "code": code,
                "name": name,
                "level": "village",
                "kind": "村",
                "parent": towns[town],
                "sort_order": order,
                "typical_batch": batch,
                "analysis_group": groups[group],
            },
        )
        secretary = records.create(
            SEED_ACTOR,
            Cadre,
            {"name": f"{name[:2]}书记", "unit": village, "position": "村党组织书记"},
        )
        records.update(SEED_ACTOR, village, {"secretary": secretary})
    records.create(
        SEED_ACTOR,
        Unit,
        {"code": ORDINARY[0], "name": ORDINARY[1], "level": "village", "kind": "村",
         "parent": towns[1], "sort_order": 99},
    )
    schemes = {}
    for level, code in (("town", "T"), ("village", "V")):
        scheme = records.create(
            SEED_ACTOR,
            Scheme,
            {"code": f"{code}26", "name": f"{code} 方案", "level": level, "total": Decimal(100)},
        )
        dimension = records.create(
            SEED_ACTOR, Dimension, {"scheme": scheme, "code": code, "name": "综合", "order": 1}
        )
        # The scheme rules query while the new indicator is not yet in the session.
        with db.session.no_autoflush:
            records.create(
                SEED_ACTOR,
                Indicator,
                {"scheme": scheme, "dimension": dimension, "code": f"{code}01",
                 "name": "综合得分", "points": Decimal(100), "method": "direct", "order": 1},
            )
        schemes[level] = scheme
    q2 = records.create(
        SEED_ACTOR,
        Period,
        {"code": "2026Q2", "name": "2026年第二季度", "start_date": date(2026, 4, 1),
         "end_date": date(2026, 6, 30), "town_scheme": schemes["town"],
         "village_scheme": schemes["village"]},
    )
    periods.open_period(SEED_ACTOR, q2)
    assessor = user("assessor")
    indicator = db.session.scalar(select(Indicator).where(Indicator.code == "V01"))
    for code, _, _, _, _, value in VILLAGES:
        if value is not None:
            village = db.session.scalar(select(Unit).where(Unit.code == code))
            ledger.set_score(assessor, q2, village, indicator, value, version=None)
    first, second = groups
    records.update(SEED_ACTOR, user("reviewer"), {"group": first})
    from evaluation.accounts import operations as accounts

    accounts.create_user(SEED_ACTOR, "reviewer2", "reviewer", PASSWORD, group=second)
    db.session.remove()


@pytest.fixture
def world(app):
    with app.app_context():
        build_board_world()
    return app


def board_codes(html: str) -> list[str]:
    return re.findall(r'data-village="(\d{12})"', html)


def badge(row: str) -> tuple[str, str]:
    """Return the colour and text of a row's priority badge."""
    match = re.search(r'<span class="badge badge-(\w+)"[^>]*>([^<]+)</span>', row)
    assert match, row
    return match.group(1), match.group(2)


def row_of(html: str, code: str) -> str:
    match = re.search(rf'<tr[^>]*data-village="{code}".*?</tr>', html, re.S)
    assert match, code
    return match.group(0)


# --- the board ---------------------------------------------------------------------


def test_board_lists_every_typical_village_with_chinese_flags(world, client, auth):
    auth.login("supervisor")
    response = client.get("/admin/review/?period=2026Q2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert sorted(board_codes(html)) == sorted(v[0] for v in VILLAGES)
    assert ORDINARY[0] not in html
    low = row_of(html, "445203100203")  # 西岭村, 50 points
    assert "得分偏低" in low and "排名靠后" in low and "近期未研判" in low
    assert badge(low) == ("danger", "高")
    missing = row_of(html, "445203101206")  # 龙珠村, no value
    # No value at all: incomplete, not scored low or bottom as if it had earned 0.
    assert "数据不全" in missing and "得分偏低" not in missing and "排名靠后" not in missing
    assert badge(missing) == ("warning", "中")
    total = r'<td data-label="总分" class="num total">0.00 <span[^>]*>（数据不全）</span></td>'
    assert re.search(total, missing)
    top = row_of(html, "445203100201")  # 新桃村, 95 points, never reviewed
    assert "近期未研判" in top and badge(top) == ("info", "低") and "得分偏低" not in top
    assert "第一批" in top and "云路镇" in top and "第一研判小组" in top and "新桃书记" in top
    assert "95.00" in top
    # Most urgent first.
    assert board_codes(html).index("445203100203") < board_codes(html).index("445203100201")


def test_an_empty_village_is_not_what_makes_another_bottom(world, client, auth):
    auth.login("supervisor")
    html = client.get("/admin/review/?period=2026Q2").get_data(as_text=True)
    # Among the five villages with a value (95, 92, 88, 72, 50), fewer than three are
    # worse than 88, 72 and 50. 龙珠村's empty 0.00 does not count as a worse one (it
    # would have lifted 东湖村, 88, off the bottom).
    bottom = [code for code in board_codes(html) if "排名靠后" in row_of(html, code)]
    assert sorted(bottom) == ["445203100202", "445203100203", "445203101205"]


def test_the_village_page_says_its_data_is_incomplete(world, client, auth):
    with world.app_context():
        village_id = unit("龙珠村").id
    auth.login("reviewer2")
    page = client.get(f"/admin/review/village/{village_id}?period=2026Q2").get_data(as_text=True)
    assert re.search(r'本期总分</dt><dd class="col-8">0.00 <span[^>]*>（数据不全）</span>', page)
    assert "得分偏低" not in page


def test_board_filters_by_group_and_batch(world, client, auth):
    auth.login("supervisor")
    with world.app_context():
        second_id = db.session.scalar(
            select(AnalysisGroup.id).where(AnalysisGroup.name == "第二研判小组")
        )
    html = client.get(f"/admin/review/?period=2026Q2&group={second_id}").get_data(as_text=True)
    assert sorted(board_codes(html)) == ["445203101204", "445203101205", "445203101206"]
    html = client.get("/admin/review/?period=2026Q2&batch=1").get_data(as_text=True)
    assert sorted(board_codes(html)) == ["445203100201", "445203100202", "445203101204"]


def test_default_period_is_the_latest_submitted_or_approved(world, client, auth):
    with world.app_context():
        q2 = period()
        records.create(
            SEED_ACTOR,
            Period,
            {"code": "2026Q3", "name": "2026年第三季度", "start_date": date(2026, 7, 1),
             "end_date": date(2026, 9, 30), "town_scheme": q2.town_scheme,
             "village_scheme": q2.village_scheme},
        )
    auth.login("supervisor")
    html = client.get("/admin/review/").get_data(as_text=True)
    # No period is submitted or approved: the open one is shown, not the later draft.
    assert "2026年第二季度（2026Q2" in html


def test_reviewer_sees_only_their_groups_villages(world, client, auth):
    auth.login("reviewer")
    html = client.get("/admin/review/?period=2026Q2").get_data(as_text=True)
    assert sorted(board_codes(html)) == ["445203100201", "445203100202", "445203100203"]
    assert "瑞联村" not in html
    # Asking for the other group's villages by filter gives nothing either.
    with world.app_context():
        second_id = db.session.scalar(
            select(AnalysisGroup.id).where(AnalysisGroup.name == "第二研判小组")
        )
    html = client.get(f"/admin/review/?period=2026Q2&group={second_id}").get_data(as_text=True)
    assert board_codes(html) == []
    with world.app_context():
        other = unit("瑞联村").id
        own = unit("新桃村").id
    assert client.get(f"/admin/review/village/{other}?period=2026Q2").status_code == 403
    assert client.get(f"/admin/review/village/{own}?period=2026Q2").status_code == 200


def test_roles_without_review_view_are_kept_out(world, client, auth):
    auth.login("assessor")
    assert client.get("/admin/review/").status_code == 403
    auth.logout()
    assert client.get("/admin/review/").status_code == 302  # to the login page


# --- recording and closing -------------------------------------------------------------


def review_form(**overrides) -> dict:
    form = {
        "period": "2026Q2",
        "date": "2026-06-20",
        "visitors": "林泽鹏、陈树坤",
        "findings": "集体经济收入下滑，村道修缮滞后",
        "conclusion": "一般",
        "actions": "督促制定增收方案",
        "next_visit": "2026-08-01",
    }
    form.update(overrides)
    return form


def test_reviewer_of_another_group_is_refused_and_nothing_is_written(world, client, auth):
    with world.app_context():
        target = unit("新桃村")
        target_id = target.id
        before = events()
        with pytest.raises(Forbidden):
            reviews.record_review(
                user("reviewer2"), target, date=date(2026, 6, 1), visitors="黄晓敏",
                findings="越组研判", conclusion="好",
            )
        db.session.rollback()
        assert count(ReviewRecord) == 0 and events() == before
    auth.login("reviewer2")
    response = client.post(f"/admin/review/village/{target_id}/record", data=review_form())
    assert response.status_code == 403
    with world.app_context():
        assert count(ReviewRecord) == 0 and events() == before


def test_group_reviewer_records_a_review_on_the_board(world, client, auth):
    with world.app_context():
        village_id = unit("西岭村").id
        before = events()
    auth.login("reviewer")
    page = client.get(f"/admin/review/village/{village_id}?period=2026Q2").get_data(as_text=True)
    assert "记录研判" in page
    response = client.post(f"/admin/review/village/{village_id}/record", data=review_form())
    assert response.status_code == 302
    with world.app_context():
        record = db.session.scalar(select(ReviewRecord))
        assert (record.conclusion, record.recorded_by, record.date) == (
            "一般", "reviewer", date(2026, 6, 20)
        )
        assert record.case_id is None  # no case was opened for the period yet
        assert events() == before + 1 and events("review.record") == 1
        event = db.session.scalar(select(HistoryEvent).order_by(HistoryEvent.seq.desc()))
        # Not attached to a case, the record belongs to no period in the history.
        assert event.entity == "review_record" and event.period is None
    page = client.get(f"/admin/review/village/{village_id}?period=2026Q2").get_data(as_text=True)
    assert "集体经济收入下滑" in page and "2026-06-20" in page
    board = client.get("/admin/review/?period=2026Q2").get_data(as_text=True)
    assert "2026-06-20" in row_of(board, "445203100203")


def test_invalid_review_is_shown_back_and_not_written(world, client, auth):
    with world.app_context():
        village_id = unit("新桃村").id
        before = events()
    auth.login("reviewer")
    response = client.post(
        f"/admin/review/village/{village_id}/record",
        data=review_form(next_visit="2026-06-01"),
    )
    assert response.status_code == 422
    assert "下次走访日期须晚于本次研判日期" in response.get_data(as_text=True)
    response = client.post(
        f"/admin/review/village/{village_id}/record", data=review_form(findings="")
    )
    assert response.status_code == 422
    with world.app_context():
        assert count(ReviewRecord) == 0 and events() == before
        with pytest.raises(InvalidInput):
            reviews.record_review(
                user("reviewer"), unit("新桃村"), date=date(2026, 6, 1), visitors="甲",
                findings="乙", conclusion="优秀",
            )


def test_supervisor_opens_cases_records_and_closes_one(world, client, auth):
    auth.login("supervisor")
    html = client.get("/admin/review/?period=2026Q2").get_data(as_text=True)
    assert "生成研判任务" in html
    response = client.post("/admin/review/open-cases", data={"period": "2026Q2"})
    assert response.status_code == 302
    with world.app_context():
        flagged = count(ReviewCase, ReviewCase.period_id == period().id)
        assert flagged == len(VILLAGES)  # nobody was reviewed: every village is flagged
        village = unit("瑞联村")
        village_id = village.id
        case = reviews.case_for(period(), village)
        case_id = case.id
        assert case.group.name == "第二研判小组"
        before = events()
    html = client.get("/admin/review/?period=2026Q2").get_data(as_text=True)
    assert "生成研判任务" not in html and "研判中" in row_of(html, "445203101204")

    response = client.post(f"/admin/review/village/{village_id}/record", data=review_form())
    assert response.status_code == 302
    with world.app_context():
        record = db.session.scalar(select(ReviewRecord))
        assert record.case_id == case_id and record.recorded_by == "supervisor"
        assert events() == before + 1
        event = db.session.scalar(select(HistoryEvent).order_by(HistoryEvent.seq.desc()))
        assert (event.action, event.period) == ("review.record", "2026Q2")

    response = client.post(f"/admin/review/case/{case_id}/close", data={"reason": "整改到位"})
    assert response.status_code == 302
    with world.app_context():
        case = db.session.get(ReviewCase, case_id)
        assert (case.status, case.closed_by) == ("closed", "supervisor")
        assert events() == before + 2 and events("review.close") == 1
        event = db.session.scalar(select(HistoryEvent).order_by(HistoryEvent.seq.desc()))
        assert (event.entity_key, event.reason) == ("2026Q2/445203101204", "整改到位")
        assert event.period == "2026Q2"
        with pytest.raises(StateError):
            reviews.close_case(user("supervisor"), case, "再次办结")
        db.session.rollback()
        assert events() == before + 2
    page = client.get(f"/admin/review/village/{village_id}?period=2026Q2").get_data(as_text=True)
    assert "已办结" in page and "办结研判任务" not in page and "办结理由：整改到位" in page


def test_group_reviewer_closes_own_case_but_not_another_groups(world, client, auth):
    with world.app_context():
        periods.sync_review_cases(user("supervisor"), period())
        own = reviews.case_for(period(), unit("东湖村"))
        other = reviews.case_for(period(), unit("汾水村"))
        own_id, other_id = own.id, other.id
        record = reviews.record_review(
            user("reviewer"), unit("东湖村"), period=period(), date=date(2026, 6, 2),
            visitors="林泽鹏", findings="情况良好", conclusion="较好",
        )
        assert record.case_id == own_id
        before = events()
    auth.login("reviewer")
    assert client.post(
        f"/admin/review/case/{other_id}/close", data={"reason": "越组办结"}
    ).status_code == 403
    with world.app_context():
        assert db.session.get(ReviewCase, other_id).status == "open"
        assert events() == before
    assert client.post(
        f"/admin/review/case/{own_id}/close", data={"reason": "已走访，情况良好"}
    ).status_code == 302
    with world.app_context():
        assert db.session.get(ReviewCase, own_id).status == "closed"
        assert events() == before + 1


def test_reviewer_cannot_open_cases(world, client, auth):
    auth.login("reviewer")
    html = client.get("/admin/review/?period=2026Q2").get_data(as_text=True)
    assert "生成研判任务" not in html
    assert client.post("/admin/review/open-cases", data={"period": "2026Q2"}).status_code == 403
    with world.app_context():
        assert count(ReviewCase) == 0


def test_case_history_lists_records_newest_first(world, client, auth):
    with world.app_context():
        village = unit("新桃村")
        village_id = village.id
        for day, findings in ((date(2026, 5, 3), "第一次走访"), (date(2026, 6, 9), "第二次走访")):
            reviews.record_review(
                user("reviewer"), village, date=day, visitors="林泽鹏", findings=findings,
                conclusion="好",
            )
    auth.login("auditor")  # reads every group, records nothing
    page = client.get(f"/admin/review/village/{village_id}?period=2026Q2").get_data(as_text=True)
    assert page.index("第二次走访") < page.index("第一次走访")
    assert "保存研判记录" not in page
    # The review within 90 days of the period's end clears NO_RECENT_REVIEW.
    board = client.get("/admin/review/?period=2026Q2").get_data(as_text=True)
    row = row_of(board, "445203100201")
    assert "近期未研判" not in row and badge(row) == ("success", "正常")


def test_a_visit_answers_the_outstanding_case_of_an_earlier_period(world):
    with world.app_context():
        q2 = period()
        periods.sync_review_cases(user("supervisor"), q2)
        q3 = records.create(
            SEED_ACTOR,
            Period,
            {"code": "2026Q3", "name": "2026年第三季度", "start_date": date(2026, 7, 1),
             "end_date": date(2026, 9, 30), "town_scheme": q2.town_scheme,
             "village_scheme": q2.village_scheme},
        )
        village = unit("东湖村")
        record = reviews.record_review(
            user("reviewer"), village, period=q3, date=date(2026, 8, 1), visitors="林泽鹏",
            findings="回访", conclusion="较好",
        )
        assert record.case is reviews.case_for(q2, village)
        assert record.case.period.code == "2026Q2"

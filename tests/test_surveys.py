"""民主测评 (docs/surveys.md): setting up, codes, the vote and its refusals, one code one
ballot under a race, throttling, the tally, the cadre ledger record."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from evaluation.core.writing import InvalidInput, StateError
from evaluation.surveys import operations as surveys
from evaluation.surveys import tally as counting
from models import CadreRecord, HistoryEvent, Survey, SurveyBallot, SurveyCode, db
from tests.conftest import user
from tests.survey_world import SETUP, ballot, build_town, codes_for, form, make_survey

EVERY_GOOD = ("excellent", "competent", "competent", "basic")


def stored() -> tuple[int, int]:
    """(ballots stored, codes spent)."""
    return (
        db.session.scalar(select(func.count()).select_from(SurveyBallot)),
        db.session.scalar(select(func.count()).where(SurveyCode.spent)),
    )


# --- setting up ------------------------------------------------------------------------


def test_weights_must_add_up_to_100_and_scores_fall(ctx):
    _, cadres = build_town()
    start = surveys.utcnow()
    base = {
        "title": "测评", "target_kind": "cadre", "opens_at": start,
        "closes_at": start + timedelta(days=1), "targets": [{"cadre": cadres[0]}],
    }  # fmt: skip
    with pytest.raises(InvalidInput) as error:
        surveys.create_survey(SETUP, **base, groups=[("班子成员", "40", 1), ("群众代表", "50", 1)])
    assert "各群体权重之和须恰为 100，现为 90" in error.value.message
    with pytest.raises(InvalidInput) as error:
        surveys.create_survey(
            SETUP, **base, groups=[("班子成员", "100", 1)],
            options=[("excellent", "优秀", "100"), ("competent", "称职", "100"),
                     ("basic", "基本称职", "60"), ("incompetent", "不称职", "0")],
        )  # fmt: skip
    assert "分值须从优秀到不称职依次降低" in error.value.message
    with pytest.raises(InvalidInput) as error:
        surveys.create_survey(SETUP, **{**base, "targets": []}, groups=[("班子成员", "100", 1)])
    assert "至少选择一个测评对象" in error.value.message
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 0


def test_codes_are_long_random_without_look_alikes_and_stored_hashed(ctx):
    survey = make_survey()
    codes = codes_for(survey, count=50)
    assert len(set(codes)) == 50
    for code in codes:
        assert len(code) >= 10
        assert not set(code) & set("0O1IL")
        assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]+", code)
    hashes = set(db.session.scalars(select(SurveyCode.code_hash)))
    assert len(hashes) == 50 and not hashes & set(codes)
    # The event says how many, never which.
    event = db.session.scalar(select(HistoryEvent).where(HistoryEvent.action == "survey.codes"))
    assert '"count":50' in event.after and not any(c in event.after for c in codes)


def test_only_the_admin_sets_up_a_survey(ctx):
    from evaluation.core.writing import Forbidden

    survey = make_survey(publish=False)
    with pytest.raises(Forbidden):
        surveys.publish(user("supervisor"), survey)


# --- voting through the pages ------------------------------------------------------------


def test_a_voter_opens_the_slip_votes_confirms_and_is_thanked(app, client):
    with app.app_context():
        survey = make_survey()
        code = codes_for(survey, count=1)[0]
        survey_id, names = survey.id, [t.name for t in survey.targets]
        data = form(survey, code, *EVERY_GOOD, confirmed=False)
    page = client.get(f"/vote?code={code.lower()}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and all(name in text for name in names)
    assert "张建国的述职" in text and "“优秀”最多评 2 个" in text
    assert page.headers["Cache-Control"] == "no-store"
    confirm = client.post("/vote", data=data)
    assert confirm.status_code == 200 and "确认提交选票？" in confirm.get_data(as_text=True)
    with app.app_context():
        assert stored() == (0, 0)  # asking for a confirmation stores nothing
    cast = client.post("/vote", data={**data, "confirmed": "1"})
    assert cast.status_code == 303 and cast.headers["Location"].endswith("/vote/thanks")
    thanks = client.get("/vote/thanks").get_data(as_text=True)
    assert "感谢您的参与" in thanks and code not in thanks
    with app.app_context():
        assert stored() == (1, 1)
        row = db.session.scalar(select(SurveyBallot))
        assert row.survey_id == survey_id
        assert sorted(row.choices.values()) == sorted(EVERY_GOOD)


def refused(client, data_or_url, expected: str, status: int):
    if isinstance(data_or_url, str):
        response = client.get(data_or_url)
    else:
        response = client.post("/vote", data=data_or_url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert expected in response.get_data(as_text=True)
    return response


def test_bad_ballots_are_refused_in_chinese_storing_nothing_and_spending_no_code(app, client):
    with app.app_context():
        survey = make_survey()
        code, other = codes_for(survey, count=2)
        first = str(survey.targets[0].id)
        good = form(survey, code, *EVERY_GOOD)
        over_cap = form(survey, code, "excellent", "excellent", "excellent", "basic")
    refused(client, "/vote?code=ABCDEFGHJKMN", "测评码无效", 422)
    refused(client, {**good, "code": "ABCDEFGHJKMN"}, "测评码无效", 422)
    refused(client, over_cap, "最多只能评 2 个，您评了 3 个", 422)
    missing = {k: v for k, v in good.items() if k != f"t{first}"}
    refused(client, missing, "尚未评价：张建国", 422)
    refused(client, {**good, "t999999": "excellent"}, "不属于本次测评的对象", 422)
    refused(client, {**good, f"t{first}": "superb"}, "无效的评价等次", 422)
    with app.app_context():
        assert stored() == (0, 0)
    # The ballot comes back with the voter's choices kept.
    again = client.post("/vote", data=over_cap).get_data(as_text=True)
    assert again.count("checked") == 4
    # A cast ballot, then the same form replayed, and the same code's slip again.
    assert client.post("/vote", data=good).status_code == 303
    refused(client, good, "该测评码已经投过票", 409)
    refused(client, f"/vote?code={code}", "该测评码已经投过票", 409)
    with app.app_context():
        assert stored() == (1, 1)
        # The other code is untouched and still works.
        assert surveys.look_up_code(other, address="x")[0].id == survey.id


def test_a_survey_not_yet_open_or_closed_takes_no_vote(app, client):
    with app.app_context():
        early = make_survey(opens_in=timedelta(days=1), title="尚未开始的测评")
        early_code = codes_for(early, count=1)[0]
        early_form = form(early, early_code, *EVERY_GOOD)
        late = make_survey(
            opens_in=timedelta(days=-3), lasts=timedelta(days=1), title="已过期的测评"
        )
        late_code = codes_for(late, count=1)[0]
        late_form = form(late, late_code, *EVERY_GOOD)
        shut = make_survey(title="已结束的测评")
        shut_code = codes_for(shut, count=1)[0]
        shut_form = form(shut, shut_code, *EVERY_GOOD)
        surveys.close(SETUP, shut)
        draft = make_survey(publish=False, title="草稿测评")
        draft_code = codes_for(draft, count=1)[0]
    refused(client, f"/vote?code={early_code}", "本次测评尚未开始", 403)
    refused(client, early_form, "本次测评尚未开始", 403)
    refused(client, late_form, "不能再投票", 403)
    refused(client, f"/vote?code={shut_code}", "不能再投票", 403)
    refused(client, shut_form, "不能再投票", 403)
    refused(client, f"/vote?code={draft_code}", "本次测评尚未开始", 403)
    with app.app_context():
        assert stored() == (0, 0)


def test_a_code_from_another_survey_is_unknown_to_this_one(app, client):
    with app.app_context():
        one = make_survey(title="甲")
        two = make_survey(title="乙")
        code = codes_for(two, count=1)[0]
        data = {**form(one, codes_for(one, count=1)[0], *EVERY_GOOD), "code": code}
    refused(client, data, "测评码无效", 422)
    with app.app_context():
        assert stored() == (0, 0)


def test_wrong_codes_are_throttled_per_address_with_a_clear_message(app, client):
    app.config.update(VOTE_FREE_FAILURES=3, VOTE_BACKOFF_SECONDS=60)
    with app.app_context():
        survey = make_survey()
        code = codes_for(survey, count=1)[0]
    for _ in range(3):
        refused(client, "/vote?code=ABCDEFGHJKMN", "测评码无效", 422)
    refused(client, "/vote?code=ABCDEFGHJKMN", "输入错误的测评码次数过多，请", 429)
    # Even the right code waits at this address …
    refused(client, f"/vote?code={code}", "输入错误的测评码次数过多", 429)
    # … but not at another one.
    other = app.test_client()
    page = other.get(f"/vote?code={code}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert page.status_code == 200


def test_wrong_codes_are_throttled_per_survey_across_addresses(app, client):
    app.config.update(VOTE_SURVEY_FREE_FAILURES=4, VOTE_BACKOFF_SECONDS=60)
    with app.app_context():
        survey = make_survey()
        code = codes_for(survey, count=1)[0]
        bad = {**form(survey, code, *EVERY_GOOD), "code": "ABCDEFGHJKMN"}
    for n in range(4):
        response = client.post("/vote", data=bad, environ_base={"REMOTE_ADDR": f"10.1.0.{n}"})
        assert response.status_code == 422
    response = client.post("/vote", data=bad, environ_base={"REMOTE_ADDR": "10.1.0.99"})
    assert response.status_code == 429 and "次数过多" in response.get_data(as_text=True)


# --- one code, one ballot ----------------------------------------------------------------


def test_sixteen_simultaneous_submissions_of_one_code_store_one_ballot(app):
    with app.app_context():
        survey = make_survey()
        code = codes_for(survey, count=1)[0]
        choices = ballot(survey, *EVERY_GOOD)
        db.session.remove()
    start = threading.Barrier(16)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit():
        with app.app_context():
            start.wait()
            try:
                surveys.cast_ballot(code, choices, address="127.0.0.1")
                outcome = "stored"
            except surveys.UsedCode:
                outcome = "used"
            except Exception as error:  # noqa: BLE001 - reported below
                outcome = repr(error)
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=submit) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["stored"] + ["used"] * 15, outcomes
    with app.app_context():
        assert stored() == (1, 1)
        votes = db.session.scalar(select(func.count()).where(HistoryEvent.action == "survey.vote"))
        assert votes == 1


# --- anonymity ---------------------------------------------------------------------------


def test_a_ballot_cannot_be_linked_back_to_its_code_from_any_table(app, client):
    """Vote with three known codes, then look for anything that ties a ballot to its code:
    the code, its hash, its row id or the ballot's id in any other row of any table, a
    time on the ballot or on the code, an order of arrival."""
    from sqlalchemy import inspect, text

    with app.app_context():
        survey = make_survey()
        codes = codes_for(survey, count=3)
        cast = [("excellent", "competent", "basic", "basic"),
                ("competent", "competent", "competent", "incompetent"),
                ("basic", "excellent", "excellent", "competent")]  # fmt: skip
        for code, options in zip(codes, cast, strict=True):
            surveys.cast_ballot(code, ballot(survey, *options), address="192.0.2.7")
        engine = db.engine
        # The ballot row: survey, group, choices and a random id, nothing else.
        columns = {c["name"] for c in inspect(engine).get_columns("survey_ballot")}
        assert columns == {"id", "survey_id", "group_id", "choices"}
        code_columns = {c["name"] for c in inspect(engine).get_columns("survey_code")}
        assert code_columns == {"id", "survey_id", "group_id", "code_hash", "spent"}
        ballots = db.session.execute(select(SurveyBallot.id)).scalars().all()
        assert all(re.fullmatch(r"[0-9a-f]{32}", b) for b in ballots)
        code_rows = db.session.execute(select(SurveyCode.id, SurveyCode.code_hash)).all()
        secrets_ = set(codes) | {h for _, h in code_rows}
        # Every value of every row of every other table.
        found = []
        for table in inspect(engine).get_table_names():
            with engine.connect() as conn:
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                    for value in row:
                        value = str(value)
                        if table != "survey_code" and any(s in value for s in secrets_):
                            found.append((table, "code", value[:80]))
                        if table != "survey_ballot" and any(b in value for b in ballots):
                            found.append((table, "ballot", value[:80]))
                        if "192.0.2.7" in value:
                            found.append((table, "address", value[:80]))
        assert found == []
        # The vote events name the survey only: no choices, no code, no group.
        events = db.session.scalars(
            select(HistoryEvent).where(HistoryEvent.action == "survey.vote")
        ).all()
        assert len(events) == 3
        assert all(e.before is None and e.after is None and e.entity_key == str(survey.id)
                   for e in events)  # fmt: skip
        # No hidden order of arrival on SQLite: the ballot table has no rowid.
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn, pytest.raises(Exception, match="rowid"):
                conn.execute(text("SELECT rowid FROM survey_ballot"))


def test_closing_rewrites_ballots_and_codes_out_of_the_order_of_voting(app):
    with app.app_context():
        survey = make_survey(cap=None)
        for code in reversed(codes_for(survey, count=6)):  # spent against the order of issue
            surveys.cast_ballot(code, ballot(survey, *EVERY_GOOD), address="x")
        surveys.close(SETUP, survey)
        ids = db.session.scalars(select(SurveyBallot.id)).all()
        assert len(ids) == 6
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy import text

            physical = (
                db.session.execute(text("SELECT id FROM survey_ballot ORDER BY ctid"))
                .scalars()
                .all()
            )
            assert physical == sorted(ids)
            codes = (
                db.session.execute(text("SELECT id FROM survey_code ORDER BY ctid")).scalars().all()
            )
            assert codes == sorted(codes)


# --- the tally ---------------------------------------------------------------------------


def test_the_tally_is_worked_out_by_hand(app):
    """张建国: 班子成员 (40) 优秀+称职 → mean 90; 中层干部 (35) 基本称职 → 60; 群众代表 (25)
    称职, 称职, 基本称职 → 220/3. Score 0.40×90 + 0.35×60 + 0.25×220/3 = 36 + 21 + 18.333…
    = 75.33. 优秀 1 of 6 = 16.67 %; 称职以上 4 of 6 = 66.67 %; 不称职 0."""
    with app.app_context():
        survey = make_survey()
        votes = {
            "班子成员": ["excellent", "competent"],
            "中层干部": ["basic"],
            "群众代表": ["competent", "competent", "basic"],
        }
        for group, options in votes.items():
            for option in options:
                code = codes_for(survey, group, 1)[0]
                rest = ("incompetent", "competent", "competent")
                surveys.cast_ballot(code, ballot(survey, option, *rest), address="x")
        with pytest.raises(StateError, match="测评结束后才能查看计票结果"):
            surveys.tally(user("supervisor"), survey)
        surveys.close(user("admin"), survey)
        result = surveys.tally(user("auditor"), survey)
        first = result["targets"][0]
        assert first["name"] == "张建国"
        assert first["score"] == "75.33"
        assert first["excellent_rate"] == "16.67"
        assert first["competent_rate"] == "66.67"
        assert first["incompetent"] == 0
        assert first["counts"] == {"excellent": 1, "competent": 3, "basic": 2, "incompetent": 0}
        assert [(g["name"], g["ballots"], g["mean"]) for g in first["groups"]] == [
            ("班子成员", 2, "90.00"), ("中层干部", 1, "60.00"), ("群众代表", 3, "73.33"),
        ]  # fmt: skip
        second = result["targets"][1]  # 不称职 from everyone: 0 points, 6 votes
        assert (second["score"], second["incompetent"], second["competent_rate"]) == (
            "0.00",
            6,
            "0.00",
        )
        # The result sits in the cadre ledger, one record per target.
        records = db.session.scalars(
            select(CadreRecord).where(CadreRecord.orientation == "survey").order_by(CadreRecord.id)
        ).all()
        assert [r.cadre.name for r in records] == ["张建国", "李卫东", "王秀英", "陈志强"]
        assert "综合得分 75.33" in records[0].detail and "优秀率 16.67%" in records[0].detail
        assert records[0].title == "民主测评：2026年度云路镇领导干部民主测评"


def test_a_group_without_ballots_leaves_the_others_weights_scaled():
    rows = counting.tally_rows(
        [(1, "甲")],
        [(10, "班子成员", Decimal("40")), (11, "群众代表", Decimal("60"))],
        [("excellent", "优秀", Decimal(100)), ("competent", "称职", Decimal(80)),
         ("basic", "基本称职", Decimal(60)), ("incompetent", "不称职", Decimal(0))],
        [(10, {"1": "competent"})],
    )  # fmt: skip
    assert rows[0]["score"] == "80.00"
    assert rows[0]["groups"][1] == {
        "name": "群众代表", "weight": "60", "ballots": 0,
        "counts": {"excellent": 0, "competent": 0, "basic": 0, "incompetent": 0}, "mean": None,
    }  # fmt: skip


def test_rounding_is_half_up_from_the_exact_value():
    # 称职 scored 80.25 and 不称职 0 in one group of weight 100: 40.125 → 40.13 (half up).
    options = [
        ("excellent", "优秀", Decimal("100")),
        ("competent", "称职", Decimal("80.25")),
        ("basic", "基本称职", Decimal("60")),
        ("incompetent", "不称职", Decimal(0)),
    ]
    rows = counting.tally_rows(
        [(1, "甲")], [(10, "全体", Decimal("100"))], options,
        [(10, {"1": "competent"}), (10, {"1": "incompetent"})],
    )  # fmt: skip
    assert rows[0]["score"] == "40.13"  # 80.25 / 2 = 40.125 → half up


def test_the_tally_api_answers_after_close_only(app, client):
    from evaluation.accounts import operations as accounts

    with app.app_context():
        survey = make_survey()
        code = codes_for(survey, count=1)[0]
        surveys.cast_ballot(code, ballot(survey, *EVERY_GOOD), address="x")
        token = accounts.create_token(SETUP, user("supervisor"))
        survey_id = survey.id
    headers = {"Authorization": f"Bearer {token}"}
    early = client.get(f"/api/v1/surveys/{survey_id}/tally", headers=headers)
    assert early.status_code == 403 and "测评结束后" in early.get_json()["error"]
    with app.app_context():
        surveys.close(SETUP, db.session.get(Survey, survey_id))
    answer = client.get(f"/api/v1/surveys/{survey_id}/tally", headers=headers)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["survey"]["ballots"] == 1
    assert body["targets"][0]["counts"]["excellent"] == 1
    assert client.get("/api/v1/surveys/999/tally", headers=headers).status_code == 404


def test_the_tally_workbook_neutralizes_formulas(app, client, auth):
    from io import BytesIO

    from openpyxl import load_workbook

    with app.app_context():
        survey = make_survey(title='=HYPERLINK("http://x")')
        surveys.close(SETUP, survey)
        survey_id = survey.id
    auth.login("auditor")
    response = client.get(f"/admin/surveys/{survey_id}/tally.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    assert sheet["A1"].value.startswith("'=")
    assert sheet["A3"].value == "测评对象"
    totals = [row for row in sheet.iter_rows(values_only=True) if row[2] == "合计"]
    assert [row[0] for row in totals] == ["张建国", "李卫东", "王秀英", "陈志强"]


def test_the_pages_set_up_publish_and_close(app, client, auth):
    with app.app_context():
        _, cadres = build_town()
        ids = [str(c.id) for c in cadres[:2]]
    auth.login("admin")
    data = {
        "title": "页面测评", "target_kind": "cadre", "cadres": ids,
        "opens_at": "2026-01-01T09:00", "closes_at": "2099-12-31T18:00",
        "group_name_0": "班子成员", "group_weight_0": "60", "group_codes_0": "5",
        "group_name_1": "群众代表", "group_weight_1": "30", "group_codes_1": "5",
        "option_label_excellent": "优秀", "option_score_excellent": "100",
        "option_label_competent": "称职", "option_score_competent": "80",
        "option_label_basic": "基本称职", "option_score_basic": "60",
        "option_label_incompetent": "不称职", "option_score_incompetent": "0",
        "excellent_cap": "1",
    }  # fmt: skip
    blank = client.get("/admin/surveys/new").get_data(as_text=True)
    # A cadre reads "name · unit position"; the lists say how to pick several with a mouse.
    assert ">张建国 · 云路镇 镇党委书记</option>" in blank
    assert "按住 Ctrl（Mac 上为 ⌘）点选可选多个" in blank
    bad = client.post("/admin/surveys/new", data=data)
    assert bad.status_code == 422 and "现为 90" in bad.get_data(as_text=True)
    made = client.post("/admin/surveys/new", data={**data, "group_weight_1": "40"})
    assert made.status_code == 302
    detail = made.headers["Location"]
    with app.app_context():
        survey = db.session.scalar(select(Survey))
        target = survey.targets[0]
        assert survey.opens_at.hour == 1  # 09:00 in Beijing is 01:00 UTC
    saved = client.post(f"/admin/surveys/{survey.id}/report",
                        data={"target": target.id, "report": "一年来，我……"})  # fmt: skip
    assert saved.status_code == 302
    assert client.post(f"/admin/surveys/{survey.id}/publish").status_code == 302
    late = client.post(
        f"/admin/surveys/{survey.id}/report", data={"target": target.id, "report": "x"}
    )
    assert late.status_code == 403 and "述职内容不能再改" in late.get_data(as_text=True)
    page = client.get(detail).get_data(as_text=True)
    assert "已发布" in page and "一年来，我……" in page and "测评结束后才能查看计票结果" in page
    assert client.post(f"/admin/surveys/{survey.id}/close").status_code == 302
    page = client.get(detail).get_data(as_text=True)
    assert "已结束" in page and 'id="tally-table"' in page and "tally-data" in page
    # The grades read "优秀 100 分"; the chart's axis is named in the page's language and
    # the tally table keeps its cells on one line (it scrolls sideways on a phone).
    assert "优秀 100 分、称职 80 分" in page
    chart = json.loads(page.split('id="tally-data">')[1].split("</script>")[0])
    assert chart["axisName"] == "票数"
    assert 'class="table table-sm table-bordered text-nowrap" id="tally-table"' in page
    with client.session_transaction() as browser_session:
        browser_session["lang"] = "en"
    page = client.get(detail).get_data(as_text=True)
    assert "100 pts" in page and " 分" not in page.split('id="survey-turnout"')[0]
    chart = json.loads(page.split('id="tally-data">')[1].split("</script>")[0])
    assert chart["axisName"] == "Votes"
    auth.logout()
    auth.login("supervisor")
    assert client.post(f"/admin/surveys/{survey.id}/publish").status_code == 403


def test_without_script_the_server_asks_to_confirm_and_back_keeps_the_choices(app, client):
    with app.app_context():
        survey = make_survey()
        code = codes_for(survey, count=1)[0]
        data = form(survey, code, *EVERY_GOOD, confirmed=False)
    confirm = client.post("/vote", data=data).get_data(as_text=True)
    assert "张建国" in confirm and "基本称职" in confirm and 'value="1"' in confirm
    back = client.post("/vote", data={**data, "edit": "1"})
    assert back.status_code == 200 and back.get_data(as_text=True).count("checked") == 4
    with app.app_context():
        assert stored() == (0, 0)


def test_the_codes_page_stores_nothing_when_the_slips_cannot_be_printed(app, client, auth):
    with app.app_context():
        survey = make_survey()
        survey_id = survey.id
    auth.login("admin")
    app.config["CHROMIUM_PATH"] = "/nonexistent/chromium"
    failed = client.post(
        f"/admin/surveys/{survey_id}/codes", data={"group": "群众代表", "count": "5"}
    )
    assert failed.status_code == 503 and "无法生成 PDF" in failed.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyCode)) == 0
    refused_ = client.post(
        f"/admin/surveys/{survey_id}/codes", data={"group": "群众代表", "count": "x"}
    )
    assert refused_.status_code == 422 and "数量须为整数" in refused_.get_data(as_text=True)


OPTIONS = [
    ("excellent", "优秀", Decimal("100")),
    ("competent", "称职", Decimal("80")),
    ("basic", "基本称职", Decimal("60")),
    ("incompetent", "不称职", Decimal("0")),
]
SCORES = {key: score for key, _, score in OPTIONS}
WEIGHTS = {10: Decimal("40"), 11: Decimal("35"), 12: Decimal("25")}


@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(WEIGHTS)), st.sampled_from(sorted(SCORES))),
        min_size=1,
        max_size=60,
    )
)
@settings(max_examples=150, deadline=None)
def test_the_score_is_the_weighted_mean_of_the_groups_that_voted(votes):
    """Worked out another way: Decimal at 50 digits, rounded half up by ``quantize``."""
    from decimal import ROUND_HALF_UP, localcontext

    rows = counting.tally_rows(
        [(1, "甲")],
        [(g, f"群体{g}", w) for g, w in WEIGHTS.items()],
        OPTIONS,
        [(g, {"1": option}) for g, option in votes],
    )
    row = rows[0]
    with localcontext() as context:
        context.prec = 50
        voted = {g for g, _ in votes}
        weighted = sum(
            WEIGHTS[g]
            * sum(SCORES[o] for h, o in votes if h == g)
            / sum(1 for h, _ in votes if h == g)
            for g in voted
        )
        expected = (weighted / sum(WEIGHTS[g] for g in voted)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    assert row["score"] == format(expected, "f")
    assert sum(row["counts"].values()) == row["ballots"] == len(votes)
    good = sum(1 for _, o in votes if o in ("excellent", "competent"))
    assert Decimal(row["competent_rate"]) == (Decimal(100 * good) / len(votes)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    assert row["incompetent"] == sum(1 for _, o in votes if o == "incompetent")


def test_naming_a_made_up_survey_does_not_escape_the_throttle(app, client):
    app.config.update(VOTE_SURVEY_FREE_FAILURES=3, VOTE_BACKOFF_SECONDS=60)
    with app.app_context():
        survey = make_survey()
        bad = {**form(survey, codes_for(survey, count=1)[0], *EVERY_GOOD), "code": "ABCDEFGHJKMN"}
    for n in range(3):
        made_up = {**bad, "survey": str(1000 + n)}
        response = client.post("/vote", data=made_up, environ_base={"REMOTE_ADDR": f"10.2.0.{n}"})
        assert response.status_code == 422
    response = client.post(
        "/vote", data={**bad, "survey": "2000"}, environ_base={"REMOTE_ADDR": "10.2.0.99"}
    )
    assert response.status_code == 429

"""The JSON API /api/v1 (docs/architecture.md#json-api): status codes, exact keys, the score
door."""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest

from evaluation import scoring
from evaluation.accounts import operations as accounts
from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.scores import operations as ledger
from models import RankingSnapshot, Score, db
from tests.ledger_world import (
    SETUP,
    build_world,
    fill_towns,
    fill_villages,
    open_period,
    set_ranges,
)

SCORE_KEYS = {"unit", "indicator", "value", "points", "note", "version", "entered_by",
              "updated_at"}
EVENT_KEYS = {"seq", "at", "actor", "action", "entity", "entity_key", "period", "before",
              "after", "reason", "prev_hash", "hash"}


@pytest.fixture
def api(app):
    """Build the small ledger, open 2026Q3 and hand out a token per role."""
    with app.app_context():
        world = build_world()
        open_period(world)
        tokens = {
            role: accounts.create_token(SETUP, world.user(role))
            for role in ("admin", "assessor", "supervisor", "auditor", "reviewer")
        }
        db.session.remove()
    client = app.test_client()

    class Api:
        def __init__(self):
            self.world = world
            self.app = app

        def get(self, path, role="assessor", **kwargs):
            return client.get(f"/api/v1{path}", headers=self.headers(role), **kwargs)

        def put(self, path, body, role="assessor"):
            return client.put(f"/api/v1{path}", json=body, headers=self.headers(role))

        def put_text(self, path, text, role="assessor"):
            """PUT a body exactly as written (JSON a dict cannot say, such as 1e3)."""
            return client.put(
                f"/api/v1{path}", data=text, content_type="application/json",
                headers=self.headers(role),
            )

        def headers(self, role):
            return {"Authorization": f"Bearer {tokens[role]}"} if role else {}

    return Api()


def yunlu_e01(value, version=None, **extra):
    return {"value": value, "version": version, **extra}


PUT_E01 = "/periods/2026Q3/scores/445203100000/E01"


# --- authentication -------------------------------------------------------------------


def test_requests_without_a_valid_token_get_401_json(api):
    for response in (
        api.get("/periods/2026Q3/ranking", role=None),
        api.put(PUT_E01, yunlu_e01("5"), role=None),
        api.get("/history", role=None),
    ):
        assert response.status_code == 401
        assert response.json["status"] == 401
        assert "令牌" in response.json["error"]


def test_openapi_document_is_public_and_describes_every_endpoint(api):
    response = api.get("/openapi.json", role=None)
    assert response.status_code == 200
    document = response.json
    assert document["openapi"] == "3.1.0"
    documented = {
        (path, method) for path, ops in document["paths"].items() for method in ops
    }
    for rule in api.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_0-9]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is not documented"
    put = document["paths"]["/api/v1/periods/{code}/scores/{unit_code}/{indicator_code}"]["put"]
    assert set(put["responses"]) == {"200", "401", "403", "404", "409", "422"}


# --- scheme, ranking, flags ---------------------------------------------------------------


def test_scheme_is_the_engine_form_with_exact_numbers(api):
    response = api.get("/periods/2026Q3/scheme")
    assert response.status_code == 200
    scheme = response.json
    assert set(scheme) == {"total", "bonus_cap", "penalty_cap", "tie_method", "grades",
                           "dimensions"}
    assert scheme["total"] == 100
    e01 = scheme["dimensions"][0]["indicators"][0]
    assert set(e01) == {"code", "name", "points", "method", "direction", "target", "floor",
                        "grade_fractions"}
    assert (e01["code"], e01["target"], e01["method"]) == ("E01", 6.5, "target")
    # Fed back to the engine as text, it computes.
    document = scoring.loads(response.get_data(as_text=True))
    result = scoring.compute({"scheme": document, "units": [{"code": "X"}]})
    assert result["results"][0]["total"] == "0.00"

    village = api.get("/periods/2026Q3/scheme?level=village").json
    assert [i["code"] for i in village["dimensions"][0]["indicators"]] == ["V01", "V02"]
    assert api.get("/periods/2099Q1/scheme").status_code == 404
    assert api.get("/periods/2026Q3/scheme?level=county").status_code == 422
    assert api.get("/periods/2026Q3/scheme", role="reviewer").status_code == 403


def test_ranking_answers_live_then_from_the_approved_snapshot(api):
    with api.app.app_context():
        world = api.world
        period = world.period()
        fill_towns(world, period)
    live = api.get("/periods/2026Q3/ranking")
    assert live.status_code == 200
    assert set(live.json) == {"period", "level", "status", "from_snapshot", "snapshot_hash",
                              "results"}
    assert (live.json["status"], live.json["from_snapshot"], live.json["snapshot_hash"]) == (
        "open", False, None,
    )
    assert [r["name"] for r in live.json["results"]] == ["曲溪街道", "云路镇", "玉滘镇"]
    assert [r["total"] for r in live.json["results"]] == ["100.00", "79.00", "67.00"]

    with api.app.app_context():
        world = api.world
        period = world.period()
        fill_villages(world, period)
        periods.submit(world.user("assessor"), period)
        periods.approve(world.user("supervisor"), period)
        stored_hash = db.session.scalar(
            db.select(RankingSnapshot.sha256).where(RankingSnapshot.level == "town")
        )
    locked = api.get("/periods/2026Q3/ranking", role="auditor")
    assert (locked.json["status"], locked.json["from_snapshot"]) == ("approved", True)
    assert locked.json["snapshot_hash"] == stored_hash
    assert locked.json["results"] == live.json["results"]
    village = api.get("/periods/2026Q3/ranking?level=village").json
    assert [r["name"] for r in village["results"]] == ["新桃村", "瑞联村", "汾水村"]
    assert api.get("/periods/2026Q3/ranking", role="reviewer").status_code == 403


def test_flags_list_every_typical_village_and_reviewers_see_their_group(api):
    with api.app.app_context():
        world = api.world
        group = world.unit("瑞联村").analysis_group
        records.update(SETUP, world.user("reviewer"), {"group": group})
        db.session.remove()
    everyone = api.get("/periods/2026Q3/flags", role="supervisor")
    assert everyone.status_code == 200
    assert everyone.json["period"] == "2026Q3"
    assert [f["name"] for f in everyone.json["flags"]] == ["新桃村", "瑞联村", "汾水村"]
    first = everyone.json["flags"][0]
    # No village value is in: incomplete (medium), not scored low as if it got 0.
    assert first["flagged"] is True and first["priority"] == "medium"
    assert first["reasons"] == ["INCOMPLETE", "NO_RECENT_REVIEW"]
    assert first["complete"] is False
    own = api.get("/periods/2026Q3/flags", role="reviewer")
    assert [f["name"] for f in own.json["flags"]] == ["瑞联村"]
    assert api.get("/periods/2026Q3/flags", role="assessor").status_code == 403


# --- scores ----------------------------------------------------------------------------------


def test_scores_list_values_as_strings_with_points(api):
    with api.app.app_context():
        world = api.world
        fill_towns(world, world.period())
    response = api.get("/periods/2026Q3/scores?unit=445203100000", role="auditor")
    assert response.status_code == 200
    rows = response.json
    assert [r["indicator"] for r in rows] == ["E01", "E02", "U01", "U02"]
    assert all(set(r) == SCORE_KEYS for r in rows)
    e01 = rows[0]
    assert (e01["value"], e01["points"], e01["version"], e01["entered_by"]) == (
        "5.2", "16.00", 1, "assessor",
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", e01["updated_at"])
    by_indicator = api.get("/periods/2026Q3/scores?indicator=U01").json
    assert [(r["unit"], r["value"], r["points"]) for r in by_indicator] == [
        ("445203001000", "A", "30.00"),
        ("445203100000", "B", "25.50"),
        ("445203101000", "C", "21.00"),
    ]
    assert api.get("/periods/2026Q3/scores?level=village").json == []
    assert api.get("/periods/2026Q3/scores?unit=999999999999").status_code == 404
    assert api.get("/periods/2026Q3/scores?indicator=V01").status_code == 404
    assert api.get("/periods/2026Q3/scores", role="reviewer").status_code == 403


def test_put_creates_then_updates_a_score(api):
    created = api.put(PUT_E01, yunlu_e01(5.2, note="快报"))
    assert created.status_code == 200
    body = created.json
    assert set(body) == SCORE_KEYS | {"changed"}
    assert (body["value"], body["points"], body["version"], body["note"], body["changed"]) == (
        "5.2", "16.00", 1, "快报", True,
    )
    updated = api.put(PUT_E01, yunlu_e01("6.5", version=1))
    assert updated.status_code == 200
    # No note given: the stored one stays.
    assert (updated.json["version"], updated.json["points"], updated.json["note"]) == (
        2, "20.00", "快报",
    )
    same = api.put(PUT_E01, yunlu_e01("6.50", version=2))
    assert (same.status_code, same.json["version"], same.json["changed"]) == (200, 2, False)


def test_put_with_a_stale_version_gets_409_with_the_current_value(api):
    api.put(PUT_E01, yunlu_e01("5.2"))
    api.put(PUT_E01, yunlu_e01("6", version=1))
    stale = api.put(PUT_E01, yunlu_e01("4", version=1))
    assert stale.status_code == 409
    details = stale.json["details"]
    assert (details["value"], details["version"], details["entered_by"]) == ("6", 2, "assessor")
    assert "6" in stale.json["error"]
    again = api.put(PUT_E01, yunlu_e01("4"))
    assert again.status_code == 409
    listed = api.get("/periods/2026Q3/scores?unit=445203100000&indicator=E01").json
    assert [(r["value"], r["version"]) for r in listed] == [("6", 2)]


def test_put_with_a_version_from_before_a_clear_gets_409(api):
    """Cleared and entered again, a cell does not start over at version 1."""
    api.put(PUT_E01, yunlu_e01("5.2"))
    with api.app.app_context():
        score = db.session.scalar(db.select(Score))
        ledger.clear_score(api.world.user("assessor"), score, version=1, reason="录错")
        db.session.remove()
    again = api.put(PUT_E01, yunlu_e01("6"))
    assert (again.status_code, again.json["version"]) == (200, 3)
    stale = api.put(PUT_E01, yunlu_e01("4", version=1))
    assert stale.status_code == 409
    listed = api.get("/periods/2026Q3/scores?unit=445203100000&indicator=E01").json
    assert [(r["value"], r["version"]) for r in listed] == [("6", 3)]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (PUT_E01, {"value": "六点五", "version": None}, "value"),
        ("/periods/2026Q3/scores/445203100000/U01", {"value": "S", "version": None}, "value"),
        ("/periods/2026Q3/scores/445203100000/U02", {"value": 31, "version": None}, "value"),
        (PUT_E01, {"value": None, "version": None}, "value"),
        (PUT_E01, {"value": "5", "version": "1"}, "version"),
        (PUT_E01, {"value": "5", "version": True}, "version"),
        (PUT_E01, {"value": "5", "version": None, "note": 7}, "note"),
        (PUT_E01, ["5"], ""),
    ],
)
def test_put_with_an_invalid_value_gets_422_listing_the_problem(api, path, body, field):
    response = api.put(path, body)
    assert response.status_code == 422
    assert response.json["status"] == 422
    assert field in [problem["path"] for problem in response.json["details"]]
    assert response.json["errors"] == response.json["details"]
    assert api.get("/periods/2026Q3/scores").json == []


def test_put_outside_the_indicator_rule_gets_422_with_the_rule(api):
    with api.app.app_context():
        set_ranges(api.world)
        db.session.remove()
    refusals = [
        (api.put(PUT_E01, yunlu_e01(150)),
         "「E01 地区生产总值增速」的数值须在 0 至 100 之间（%），收到 150"),
        (api.put("/periods/2026Q3/scores/445203100000/E02", yunlu_e01("1.5")),
         "「E02 招商引资项目落地数」的数值须为整数，收到 1.5"),
        (api.put_text(PUT_E01, '{"value": 1e3, "version": null}'),
         "「E01 地区生产总值增速」的数值须写成普通数字（如 1000），不接受科学计数法，收到 1e3"),
        (api.put_text(PUT_E01, '{"value": 5.0E+1, "version": null}'),
         "「E01 地区生产总值增速」的数值须写成普通数字（如 1000），不接受科学计数法，收到 5.0E+1"),
        (api.put_text(PUT_E01, '{"value": "Infinity", "version": null}'),
         "「E01 地区生产总值增速」的数值须为有限的数字，收到 Infinity"),
    ]
    for response, message in refusals:
        assert response.status_code == 422, message
        assert response.json["error"] == message
        assert response.json["details"] == [{"path": "value", "message": message}]
    # A bare NaN is not JSON a client should send: the request schema refuses it first.
    nan = api.put_text(PUT_E01, '{"value": NaN, "version": null}')
    assert nan.status_code == 422
    assert nan.json["details"][0]["path"] == "value"
    assert api.get("/periods/2026Q3/scores").json == []
    accepted = api.put_text(PUT_E01, '{"value": 99.50, "version": null}')
    assert accepted.status_code == 200 and accepted.json["value"] == "99.5"


def test_put_is_refused_403_for_roles_and_closed_periods(api):
    for role in ("admin", "supervisor", "auditor", "reviewer"):
        response = api.put(PUT_E01, yunlu_e01("5"), role=role)
        assert response.status_code == 403, role
    draft = api.put("/periods/2026Q2/scores/445203100000/E01", yunlu_e01("5"))
    assert draft.status_code == 403
    assert "草稿" in draft.json["error"]
    assert api.get("/periods/2026Q2/scores").json == []


def test_put_to_unknown_period_unit_or_indicator_gets_404(api):
    assert api.put("/periods/2099Q1/scores/445203100000/E01", yunlu_e01("5")).status_code == 404
    assert api.put("/periods/2026Q3/scores/445203999999/E01", yunlu_e01("5")).status_code == 404
    assert api.put("/periods/2026Q3/scores/445203100000/Z99", yunlu_e01("5")).status_code == 404
    # A village indicator does not exist for a town.
    assert api.put("/periods/2026Q3/scores/445203100000/V01", yunlu_e01("5")).status_code == 404


def test_exact_decimal_survives_the_api(api):
    response = api.put("/periods/2026Q3/scores/445203100000/U02", yunlu_e01(26.675))
    assert response.json["value"] == "26.675"
    assert response.json["points"] == "26.68"  # half-up, as a float would not give
    with api.app.app_context():
        world = api.world
        points = ledger.score_points(world.period(), world.unit("云路镇"), world.indicator("U02"))
        assert points == Decimal("26.68")


def test_racing_api_writers_never_lose_an_update(api):
    api.put(PUT_E01, yunlu_e01("5"))
    writers = 6
    barrier = threading.Barrier(writers)
    statuses: list[int] = []

    def write(n: int) -> None:
        barrier.wait(timeout=10)
        response = api.put(PUT_E01, yunlu_e01(f"6.{n}", version=1))
        statuses.append(response.status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200] + [409] * (writers - 1)
    listed = api.get("/periods/2026Q3/scores?unit=445203100000&indicator=E01").json
    assert listed[0]["version"] == 2
    events = api.get("/history?period=2026Q3&limit=1000", role="auditor").json["events"]
    sets = [e for e in events if e["action"] == "score.set"]
    assert len(sets) == 2
    assert sets[-1]["after"]["value"] == listed[0]["value"]


# --- history ------------------------------------------------------------------------------


def test_history_pages_by_seq_for_auditors_only(api):
    api.put(PUT_E01, yunlu_e01("5"))
    api.put(PUT_E01, yunlu_e01("6", version=1))
    first = api.get("/history?limit=3", role="auditor")
    assert first.status_code == 200
    events = first.json["events"]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert all(set(e) == EVENT_KEYS for e in events)
    assert first.json["next_after_seq"] == 3
    seen = list(events)
    after = first.json["next_after_seq"]
    while after is not None:
        page = api.get(f"/history?after_seq={after}&limit=3", role="admin").json
        seen += page["events"]
        after = page["next_after_seq"]
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    assert seen[-1]["action"] == "score.set"
    assert seen[-1]["after"] == {"value": "6", "note": ""}
    only_q3 = api.get("/history?period=2026Q3&limit=1000", role="auditor").json["events"]
    assert {e["period"] for e in only_q3} == {"2026Q3"}
    assert api.get("/history?limit=1001", role="auditor").status_code == 422
    assert api.get("/history?after_seq=x", role="auditor").status_code == 422
    for role in ("assessor", "supervisor", "reviewer"):
        assert api.get("/history", role=role).status_code == 403


def test_a_disabled_users_token_no_longer_opens_the_api(api):
    assert api.get("/summary", role="auditor").status_code == 200
    with api.app.app_context():
        records.update(SETUP, api.world.user("auditor"), {"active": False})
    refused = api.get("/summary", role="auditor")
    assert refused.status_code == 401 and "error" in refused.get_json()


def test_ranking_says_which_grade_a_reader_sees(api):
    with api.app.app_context():
        fill_towns(api.world, api.world.period())
    towns = api.get("/periods/2026Q3/ranking").json["results"]
    assert [(r["grade"], r["grade_shown"]) for r in towns] == [
        ("好", "好"), ("一般", "一般"), ("一般", "一般"),
    ]
    # No village value is in: the engine's grade stays, the reader is told 数据不全.
    villages = api.get("/periods/2026Q3/ranking?level=village").json["results"]
    assert [(r["grade"], r["complete"], r["grade_shown"]) for r in villages] == [
        ("较差", False, "数据不全")
    ] * 3

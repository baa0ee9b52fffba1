"""AHP in the scheme editor (docs/weights.md#in-the-scheme-editor): a pairwise matrix over
a draft scheme version's dimensions or over one dimension's indicators sets their points,
the matrix, method and CR are stored with the version and shown once it is published;
CR > 0.10 needs a reason; only an admin may apply; every write leaves its events."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from evaluation.core.writing import Forbidden, InvalidInput, StateError, SystemActor
from evaluation.history import records
from evaluation.schemes import operations as schemes
from evaluation.weights import operations
from models import Dimension, HistoryEvent, Indicator, Scheme, WeightJudgement, db
from tests.conftest import user
from tests.ledger_world import build_world

SETUP = SystemActor("test-setup")
# A → B strongly, B → C strongly, yet C → A strongly: as inconsistent as a matrix gets.
CYCLE = [[1, 9, "1/9"], [None, 1, 9], [None, None, 1]]


@pytest.fixture
def world(app):
    with app.app_context():
        built = build_world()
        db.session.remove()
    return built


def _scheme() -> Scheme:
    return db.session.scalar(select(Scheme).where(Scheme.code == "T26"))


def _dimension(code: str) -> Dimension:
    return db.session.scalar(
        select(Dimension).where(Dimension.code == code, Dimension.scheme_id == _scheme().id)
    )


def _points() -> dict[str, str]:
    rows = db.session.scalars(select(Indicator).where(Indicator.scheme_id == _scheme().id))
    return {i.code: str(i.points) for i in rows}


def _actions(after_seq: int = 0) -> list[str]:
    return list(
        db.session.scalars(
            select(HistoryEvent.action)
            .where(HistoryEvent.seq > after_seq)
            .order_by(HistoryEvent.seq)
        )
    )


def _last_seq() -> int:
    return db.session.scalar(select(db.func.max(HistoryEvent.seq))) or 0


def test_a_matrix_over_a_dimension_sets_its_indicators_points(app, world, ctx):
    seq = _last_seq()
    # E01 is 3 times as important as E02: weights 3/4 and 1/4 of E's 40 points.
    row = operations.apply_ahp(user("admin"), _scheme(), _dimension("E"), [[1, 3], [None, 1]])
    assert _points() == {"E01": "30.00", "E02": "10.00", "U01": "30.00", "U02": "30.00"}
    assert row.matrix == [["1", "3"], ["1/3", "1"]]
    assert row.weights == ["0.750000", "0.250000"] and row.points == ["30.00", "10.00"]
    assert row.cr == 0 and row.reason is None and row.method == "eigenvector"
    assert _actions(seq) == ["indicator.update", "indicator.update", "scheme.weights"]
    event = db.session.scalar(select(HistoryEvent).where(HistoryEvent.action == "scheme.weights"))
    assert event.entity_key == "T26" and json.loads(event.after)["cr"] == "0"
    change = db.session.scalar(
        select(HistoryEvent).where(HistoryEvent.action == "indicator.update")
    )
    assert json.loads(change.before) == {"points": "20.00"} and "层次分析法" in change.reason


def test_a_matrix_over_the_dimensions_spreads_each_share_over_its_indicators(app, world, ctx):
    # E is a third as important as U: E gets 25 of 100, U 75; inside each dimension the
    # indicators keep their proportions (20 : 20 and 30 : 30).
    operations.apply_ahp(user("admin"), _scheme(), None, [[1, "1/3"], [None, 1]], "geometric")
    assert _points() == {"E01": "12.50", "E02": "12.50", "U01": "37.50", "U02": "37.50"}
    assert schemes.validate_scheme(_scheme()) == []  # still adds up to the total
    stored = operations.judgements_of(_scheme())["dimensions"]
    assert stored.items == [
        {"code": "E", "name": "镇域经济发展"},
        {"code": "U", "name": "城乡融合"},
    ]
    assert stored.method == "geometric" and stored.parent_points == Decimal(100)


def test_applying_again_replaces_the_stored_matrix(app, world, ctx):
    operations.apply_ahp(user("admin"), _scheme(), _dimension("E"), [[1, 3], [None, 1]])
    operations.apply_ahp(user("admin"), _scheme(), _dimension("E"), [[1, "1/4"], [None, 1]])
    assert _points()["E01"] == "8.00" and _points()["E02"] == "32.00"
    assert db.session.scalar(select(db.func.count(WeightJudgement.id))) == 1


def _third_indicator() -> None:
    records.create(SETUP, Indicator, {
        "scheme": _scheme(), "dimension": _dimension("E"), "code": "E03", "name": "税收增速",
        "points": Decimal(10), "method": "direct", "order": 3,
    })  # fmt: skip


def test_an_inconsistent_matrix_needs_a_reason(app, world, ctx):
    _third_indicator()
    before, seq = _points(), _last_seq()
    with pytest.raises(InvalidInput) as refused:
        operations.apply_ahp(user("admin"), _scheme(), _dimension("E"), CYCLE)
    assert refused.value.details[0].startswith("一致性比率 CR = ")
    assert "大于 0.10" in refused.value.details[0]
    assert refused.value.details[1] == "CR 大于 0.10 的判断矩阵须填写采用理由"
    assert _points() == before and _last_seq() == seq  # nothing written
    row = operations.apply_ahp(
        user("admin"), _scheme(), _dimension("E"), CYCLE, reason="三项互相制约，按会议决定"
    )
    assert row.cr > Decimal("0.1") and row.reason == "三项互相制约，按会议决定"
    # The cycle is symmetric: each of the three gets a third of E's 50 points.
    assert sorted(_points()[c] for c in ("E01", "E02", "E03")) == ["16.66", "16.67", "16.67"]
    event = db.session.scalar(select(HistoryEvent).where(HistoryEvent.action == "scheme.weights"))
    assert event.reason == "三项互相制约，按会议决定"


def test_a_published_scheme_refuses_and_a_non_admin_may_not(app, world, ctx):
    with pytest.raises(Forbidden):
        operations.apply_ahp(user("assessor"), _scheme(), _dimension("E"), [[1, 3], [None, 1]])
    schemes.publish_scheme(SETUP, _scheme())
    with pytest.raises(StateError, match="已发布"):
        operations.apply_ahp(user("admin"), _scheme(), _dimension("E"), [[1, 3], [None, 1]])
    assert _points()["E01"] == "20.00"


def test_a_bad_matrix_is_named_by_the_items_it_compares(app, world, ctx):
    _third_indicator()
    with pytest.raises(InvalidInput) as refused:
        operations.apply_ahp(user("admin"), _scheme(), _dimension("E"),
                             [[1, 3, None], [None, 1, 0], [None, None, 1]])  # fmt: skip
    assert refused.value.details == [
        "“E02 招商引资项目落地数”比“E03 税收增速”0 必须大于 0（萨蒂标度为 1/9 到 9）",
        "“E01 地区生产总值增速”比“E03 税收增速”的判断尚未选择",
    ]


# --- the pages ------------------------------------------------------------------------------


def _ids(app) -> tuple[int, int]:
    with app.app_context():
        return _scheme().id, _dimension("E").id


def test_admin_previews_then_applies_through_the_form(app, world, client, auth):
    scheme_id, dimension_id = _ids(app)
    auth.login("admin")
    page = client.get(f"/admin/weights/?scheme={scheme_id}").get_data(as_text=True)
    assert "两两比较（AHP）" in page and "分值为手工填写，没有判断矩阵。" in page
    url = f"/admin/weights/ahp?scheme={scheme_id}&dimension={dimension_id}"
    form = client.get(url).get_data(as_text=True)
    assert 'name="a_0_1"' in form and "E01" in form and "E02" in form
    shown = client.post(url, data={"a_0_1": "3", "method": "eigenvector", "action": "preview"})
    text = shown.get_data(as_text=True)
    assert "CR = 0.000" in text and "75.0%" in text and "30.00" in text
    with app.app_context():
        assert _points()["E01"] == "20.00"  # a preview writes nothing
    done = client.post(url, data={"a_0_1": "3", "method": "eigenvector", "action": "apply"})
    assert done.status_code == 302
    with app.app_context():
        assert _points()["E01"] == "30.00"
    page = client.get(f"/admin/weights/?scheme={scheme_id}").get_data(as_text=True)
    assert "一致性可接受" in page and "75.0%" in page


def test_the_form_refuses_an_inconsistent_matrix_without_a_reason(app, world, client, auth):
    with app.app_context():
        _third_indicator()
    scheme_id, dimension_id = _ids(app)
    auth.login("admin")
    url = f"/admin/weights/ahp?scheme={scheme_id}&dimension={dimension_id}"
    cells = {"a_0_1": "9", "a_0_2": "1/9", "a_1_2": "9", "method": "eigenvector"}
    refused = client.post(url, data={**cells, "action": "apply"}).get_data(as_text=True)
    assert "CR 大于 0.10 的判断矩阵须填写采用理由" in refused and "一致性不足" in refused
    done = client.post(url, data={**cells, "action": "apply", "reason": "会议决定"})
    assert done.status_code == 302


def test_the_published_version_shows_its_matrix_read_only(app, world, client, auth):
    with app.app_context():
        operations.apply_ahp(user("admin"), _scheme(), _dimension("E"), [[1, 3], [None, 1]])
        schemes.publish_scheme(SETUP, _scheme())
    scheme_id, dimension_id = _ids(app)
    auth.login("auditor")
    page = client.get(f"/admin/weights/?scheme={scheme_id}").get_data(as_text=True)
    assert "判断矩阵与方案一同冻结" in page and "CR = 0.000" in page and "1/3" in page
    assert "两两比较（AHP）</a>" not in page
    auth.logout()
    auth.login("admin")
    page = client.get(f"/admin/weights/?scheme={scheme_id}").get_data(as_text=True)
    assert "两两比较（AHP）</a>" not in page  # frozen for the admin too
    url = f"/admin/weights/ahp?scheme={scheme_id}&dimension={dimension_id}"
    answer = client.post(url, data={"a_0_1": "5", "action": "apply"}).get_data(as_text=True)
    assert "已发布，不能再修改" in answer
    with app.app_context():
        assert _points()["E01"] == "30.00"


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("assessor", 200), ("supervisor", 200), ("auditor", 200), ("reviewer", 403),
])  # fmt: skip
def test_who_sees_the_weights_page(app, world, client, auth, role, status):
    auth.login(role)
    assert client.get("/admin/weights/").status_code == status


def test_an_assessor_may_preview_but_not_apply(app, world, client, auth):
    scheme_id, dimension_id = _ids(app)
    auth.login("assessor")
    url = f"/admin/weights/ahp?scheme={scheme_id}&dimension={dimension_id}"
    page = client.get(url).get_data(as_text=True)
    assert "采用并设定分值" not in page
    answer = client.post(url, data={"a_0_1": "3", "action": "apply"}).get_data(as_text=True)
    assert "权限" in answer
    with app.app_context():
        assert _points()["E01"] == "20.00"


def test_the_scheme_list_links_to_the_weights_page(app, world, client, auth):
    scheme_id, _ = _ids(app)
    auth.login("admin")
    page = client.get("/admin/scheme/").get_data(as_text=True)
    assert f"/admin/weights/?scheme={scheme_id}" in page


def test_the_history_page_reads_the_weights_event(app, world, client, auth):
    with app.app_context():
        operations.apply_ahp(user("admin"), _scheme(), _dimension("E"), [[1, 3], [None, 1]])
    auth.login("auditor")
    page = client.get("/admin/history/").get_data(as_text=True)
    assert "层次分析法设定分值" in page
    assert "一致性比率 CR" in page and "判断矩阵" in page and "特征向量法" not in page


def test_deleting_a_draft_dimension_takes_its_matrix_with_it(app, world, ctx):
    operations.apply_ahp(user("admin"), _scheme(), _dimension("E"), [[1, 3], [None, 1]])
    operations.apply_ahp(user("admin"), _scheme(), None, [[1, 1], [None, 1]])
    dimension = _dimension("E")
    for indicator in list(
        db.session.scalars(select(Indicator).where(Indicator.dimension_id == dimension.id))
    ):
        records.delete(SETUP, indicator)
    records.delete(SETUP, _dimension("E"))
    # The matrix over E's indicators goes with E; the one over the dimensions stays, as
    # applied (its items name E, which the page then shows as no longer in the scheme).
    assert list(operations.judgements_of(_scheme())) == ["dimensions"]


def test_a_new_version_keeps_the_matrices_behind_its_copied_points(app, world, client, auth):
    with app.app_context():
        operations.apply_ahp(user("admin"), _scheme(), _dimension("E"), [[1, 3], [None, 1]])
        operations.apply_ahp(user("admin"), _scheme(), None, [[1, "1/3"], [None, 1]])
        schemes.publish_scheme(SETUP, _scheme())
        published_id = _scheme().id
    auth.login("admin")
    # The 建立新版本 button on the published version's form.
    answer = client.post("/admin/scheme/new-version/", data={"id": str(published_id)})
    assert answer.status_code == 302
    with app.app_context():
        draft = db.session.scalar(select(Scheme).where(Scheme.based_on_id == published_id))
        assert draft.status == "draft"
        copied = operations.judgements_of(draft)
        new_e = db.session.scalar(
            select(Dimension).where(Dimension.scheme_id == draft.id, Dimension.code == "E")
        )
        # The matrix over E's indicators now hangs on the draft's own E, the one over the
        # dimensions on the draft; the published version keeps its own two.
        assert sorted(copied) == sorted(["dimensions", f"dimension:{new_e.id}"])
        over_e = copied[f"dimension:{new_e.id}"]
        assert over_e.dimension_id == new_e.id and over_e.matrix == [["1", "3"], ["1/3", "1"]]
        assert over_e.weights == ["0.750000", "0.250000"] and over_e.points == ["30.00", "10.00"]
        assert copied["dimensions"].method == "eigenvector"
        assert copied["dimensions"].points == ["25.00", "75.00"]
        assert len(operations.judgements_of(_scheme())) == 2
        event = db.session.scalar(select(HistoryEvent).where(HistoryEvent.action == "scheme.copy"))
        assert json.loads(event.after)["weight_judgements"] == [
            {"compared": "dimension:E", "items": ["E01", "E02"],
             "weight_method": "eigenvector", "cr": "0"},
            {"compared": "dimensions", "items": ["E", "U"],
             "weight_method": "eigenvector", "cr": "0"},
        ]  # fmt: skip
        draft_id, e_id = draft.id, new_e.id
    # The draft's weights page shows the copied matrix, and it can be applied again there.
    page = client.get(f"/admin/weights/ahp?scheme={draft_id}&dimension={e_id}")
    assert '<option value="3" selected>' in page.get_data(as_text=True)


def test_the_form_refuses_too_few_or_too_many_items_in_chinese(app, world, client, auth):
    with app.app_context():
        # U keeps one indicator; E gets 14 more (16 in all, one more than Saaty's RI covers).
        records.delete(SETUP, db.session.scalar(select(Indicator).where(Indicator.code == "U02")))
        records.update(SETUP, _scheme(), {"total": Decimal(70)})
        for n in range(3, 17):
            records.create(SETUP, Indicator, {
                "scheme": _scheme(), "dimension": _dimension("E"), "code": f"E{n:02}",
                "name": f"指标{n}", "points": Decimal(1), "method": "direct", "order": n,
            })  # fmt: skip
        scheme_id, e_id, u_id = _scheme().id, _dimension("E").id, _dimension("U").id
        before = _points()
    auth.login("admin")
    url = f"/admin/weights/ahp?scheme={scheme_id}&dimension={u_id}"
    answer = client.post(url, data={"action": "apply"}).get_data(as_text=True)
    assert "至少需要 2 项才能两两比较（现有 1 项）" in answer
    cells = {f"a_{i}_{j}": "1" for i in range(16) for j in range(i + 1, 16)}
    url = f"/admin/weights/ahp?scheme={scheme_id}&dimension={e_id}"
    answer = client.post(url, data={**cells, "action": "apply"}).get_data(as_text=True)
    assert "判断矩阵须有 2 到 15 项（现有 16 项）" in answer
    with app.app_context():
        assert _points() == before and operations.judgements_of(_scheme()) == {}

"""年度综合考评 through the ledger (docs/annual.md): defining it, its ranking with the
quota and the boundary tie, calibration by the supervisor, the page and the 通报.

The small ledger (tests/ledger_world.py), worked by hand. E02 is 10 everywhere, so every
town gets its 20 points (hi = lo). Both periods:
  云路镇, 玉滘镇: E01 6.5 → 20, E02 20, U01 A → 30, U02 25 → 95.00.
  曲溪街道: 2026Q3 100.00 (U02 30); 2026Q2 U02 20 → 90.00.
2026Y = 2026Q2 × 40 + 2026Q3 × 60: 曲溪 (3600 + 6000)/100 = 96.00, 云路 and 玉滘 95.00,
tied at rank 2. Bands 好 ≥ 90 …: all three 好 by their totals. Quota 好 ≤ 67 % of 3 =
2.01 → 2: 曲溪 fits; the tie group of two would make 3 → both go down to 较好.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from evaluation.annual import operations
from evaluation.core.writing import Forbidden, InvalidInput, StateError
from evaluation.periods import operations as periods
from models import AnnualCalibration, AnnualPeriod, HistoryEvent, Scheme, db
from tests.conftest import PASSWORD
from tests.ledger_world import SETUP as SETUP_ACTOR
from tests.ledger_world import build_world, fill_towns, fill_villages, open_period
from tests.test_reports import pdf_fonts

QUXI, YUNLU, YUJIAO = "445203001000", "445203100000", "445203101000"
TIED = {"E01": "6.5", "E02": "10", "U01": "A", "U02": "25"}
Q3 = {QUXI: {"E01": "6.5", "E02": "10", "U01": "A", "U02": "30"}, YUNLU: TIED, YUJIAO: TIED}
Q2 = {**Q3, QUXI: {"E01": "6.5", "E02": "10", "U01": "A", "U02": "20"}}


def _approve(world, code, values):
    period = open_period(world, code)
    fill_towns(world, period, values)
    fill_villages(world, period)
    periods.submit(world.user("assessor"), period)
    periods.approve(world.user("supervisor"), period)
    return period


def _define(world, quotas=None, weights=("40", "60")):
    scheme = db.session.get(Scheme, world.town_scheme_id)
    return operations.create_annual(
        world.user("admin"), code="2026Y", name="2026年度综合考评", scheme=scheme,
        sources=[(world.period("2026Q2"), weights[0]), (world.period("2026Q3"), weights[1])],
        quotas={"好": "67"} if quotas is None else quotas,
    )  # fmt: skip


@pytest.fixture
def world(app):
    with app.app_context():
        world = build_world()
        _approve(world, "2026Q2", Q2)
        _approve(world, "2026Q3", Q3)
        _define(world)
        yield world


def _ranking(world, role="auditor"):
    return operations.ranking(world.user(role), operations.find("2026Y"))


def test_the_annual_ranking_worked_by_hand(world):
    answer = _ranking(world)
    assert [
        (r["name"], r["parts"], r["total"], r["rank"], r["grade_by_score"], r["grade"], r["tie"])
        for r in answer["results"]
    ] == [
        ("曲溪街道", {"2026Q2": "90.00", "2026Q3": "100.00"}, "96.00", 1, "好", "好", False),
        ("云路镇", {"2026Q2": "95.00", "2026Q3": "95.00"}, "95.00", 2, "好", "较好", True),
        ("玉滘镇", {"2026Q2": "95.00", "2026Q3": "95.00"}, "95.00", 2, "好", "较好", True),
    ]
    assert answer["limits"] == {"好": 2}
    assert answer["notes"] == [
        "“好”名额为参评单位的 67%，即 2 个；超出名额的 2 个单位按名次降为“较好”。"
        "其中云路镇、玉滘镇并列第 2 名，跨越名额界线，整组降为“较好”。"
    ]


def test_weights_and_quotas_are_checked_when_defined(app, world):
    scheme = db.session.get(Scheme, world.town_scheme_id)
    admin = world.user("admin")
    cases = [
        ({"weights": ("40", "59.99")}, "各周期权重之和须恰为 100"),
        ({"weights": ("40.001", "59.999")}, "权重最多两位小数"),
        ({"weights": ("0", "100")}, "权重须大于 0"),
        ({"weights": ("abc", "100")}, "权重不是数字"),
        ({"quotas": {"较差": "10"}}, "最低等次不设名额限制"),
        ({"quotas": {"优秀": "10"}}, "名额限制指向不存在的等次"),
        ({"quotas": {"好": "120"}}, "名额比例须在 0（不含）到 100 之间"),
    ]
    for change, said in cases:
        weights = change.get("weights", ("40", "60"))
        with pytest.raises(InvalidInput) as refused:
            operations.create_annual(
                admin, code="2026Y2", name="再一个", scheme=scheme,
                sources=[(world.period("2026Q2"), weights[0]),
                         (world.period("2026Q3"), weights[1])],
                quotas=change.get("quotas", {}),
            )  # fmt: skip
        assert said in refused.value.message, (change, refused.value.message)
    with pytest.raises(InvalidInput, match="已存在"):
        _define(world)
    q2 = world.period("2026Q2")
    with pytest.raises(InvalidInput, match="同一考核周期不能列出两次"):
        operations.create_annual(
            admin, code="2026Y3", name="x", scheme=scheme, sources=[(q2, "50"), (q2, "50")],
            quotas={},
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="须选用镇街方案"):
        operations.create_annual(
            admin, code="2026Y4", name="x", scheme=db.session.get(Scheme, world.village_scheme_id),
            sources=[(q2, "100")], quotas={},
        )  # fmt: skip
    with pytest.raises(Forbidden):
        operations.create_annual(
            world.user("supervisor"), code="2027Y", name="x", scheme=scheme,
            sources=[(world.period("2026Q2"), "100")], quotas={},
        )  # fmt: skip
    assert db.session.scalar(select(db.func.count()).select_from(AnnualPeriod)) == 1
    event = db.session.scalar(
        select(HistoryEvent).where(HistoryEvent.action == "annual_period.create")
    )
    assert event.actor == "admin" and event.entity_key == "2026Y"
    assert json.loads(event.after)["sources"] == [
        {"period": "2026Q2", "weight": "40.00"}, {"period": "2026Q3", "weight": "60.00"}
    ]  # fmt: skip


def test_no_ranking_while_a_source_period_is_not_approved(app):
    with app.app_context():
        world = build_world()
        _approve(world, "2026Q2", Q2)
        _define(world)
        with pytest.raises(StateError, match="2026Q3"):
            _ranking(world)


def test_calibration_one_band_within_the_quota_with_a_reason(world):
    annual = operations.find("2026Y")
    supervisor = world.user("supervisor")
    # 云路 up to 好: 好 then holds 曲溪 and 云路 = 2 ≤ 2.
    operations.calibrate(supervisor, annual, YUNLU, "好", "全年重点任务完成突出")
    answer = _ranking(world)
    assert [(r["name"], r["quota_grade"], r["grade"]) for r in answer["results"]] == [
        ("曲溪街道", "好", "好"), ("云路镇", "较好", "好"), ("玉滘镇", "较好", "较好"),
    ]  # fmt: skip
    assert answer["results"][1]["calibration"] == {
        "grade": "好", "reason": "全年重点任务完成突出", "by": "supervisor"
    }  # fmt: skip
    event = db.session.scalar(
        select(HistoryEvent).where(HistoryEvent.action == "annual_period.calibrate")
    )
    assert (event.entity_key, json.loads(event.before), json.loads(event.after), event.reason) == (
        f"2026Y/{YUNLU}", {"grade": "较好"}, {"grade": "好", "quota_grade": "较好"},
        "全年重点任务完成突出",
    )  # fmt: skip
    # 玉滘 up too: 好 would hold 3 > 2.
    with pytest.raises(InvalidInput, match="超出该等次的名额限制：“好”最多 2 个，校准后将有 3 个"):
        operations.calibrate(supervisor, annual, YUJIAO, "好", "同样突出")
    # two bands down from 较好: refused; one band: allowed.
    with pytest.raises(InvalidInput, match="只能上调或下调一个等次"):
        operations.calibrate(supervisor, annual, YUJIAO, "较差", "x")
    with pytest.raises(InvalidInput, match="须写明理由"):
        operations.calibrate(supervisor, annual, YUJIAO, "一般", "   ")
    for role in ("admin", "assessor", "auditor", "reviewer"):
        with pytest.raises(Forbidden):
            operations.calibrate(world.user(role), annual, YUJIAO, "一般", "x")
    operations.calibrate(supervisor, annual, YUJIAO, "一般", "督查发现问题整改不力")
    assert [r["grade"] for r in _ranking(world)["results"]] == ["好", "好", "一般"]
    assert db.session.scalar(select(db.func.count()).select_from(AnnualCalibration)) == 2


def _client(app, role):
    client = app.test_client()
    assert client.post("/login", data={"username": role, "password": PASSWORD}).status_code == 302
    return client


def test_the_page_says_the_quota_and_the_tie(app, world):
    html = _client(app, "auditor").get("/admin/annual/?annual=2026Y").get_data(as_text=True)
    assert "其中云路镇、玉滘镇并列第 2 名，跨越名额界线，整组降为“较好”。" in html
    assert "并列跨界整组降档" in html
    assert "“好”不超过 67%（2 个）" in html
    assert 'id="calibrate-form"' not in html  # the auditor reads, does not calibrate
    assert 'id="calibrate-form"' in _client(app, "supervisor").get("/admin/annual/").get_data(
        as_text=True
    )


def test_calibrating_on_the_page(app, world):
    client = _client(app, "supervisor")
    page = client.get("/admin/annual/?annual=2026Y").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"csrf_token": token, "annual": "2026Y", "unit": YUJIAO, "grade": "好", "reason": "x"}
    response = client.post("/admin/annual/calibrate", data={**form, "unit": YUNLU})
    assert response.status_code == 302
    refused = client.post("/admin/annual/calibrate", data=form)
    assert refused.status_code == 422
    assert "超出该等次的名额限制" in refused.get_data(as_text=True)
    assert (
        client.post("/admin/annual/calibrate", data={**form, "annual": "2099Y"}).status_code == 404
    )
    auditor = _client(app, "auditor")
    page = auditor.get("/admin/annual/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0] if "csrf_token" in page else ""
    answer = auditor.post("/admin/annual/calibrate", data={**form, "csrf_token": token})
    assert answer.status_code == 403


def test_the_annual_notice_uses_the_quarterly_builder(app, world):
    from docx import Document

    operations.calibrate(world.user("supervisor"), operations.find("2026Y"), YUNLU, "好", "突出")
    response = _client(app, "auditor").get("/admin/annual/notice.docx?annual=2026Y")
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    text = [p.text for p in document.paragraphs]
    assert "关于2026年度综合考评镇街“担当作为”考核结果的通报" in text
    rows = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert rows == [
        ["名次", "镇街", "2026年第二季度（权重 40.00）", "2026年第三季度（权重 60.00）", "总分",
         "等次"],
        ["1", "曲溪街道", "90.00", "100.00", "96.00", "好"],
        ["2", "云路镇", "95.00", "95.00", "95.00", "好"],
        ["2", "玉滘镇", "95.00", "95.00", "95.00", "较好"],
    ]  # fmt: skip
    assert any("云路镇等次由“较好”校准为“好”，理由：突出。" in t for t in text)
    assert any("整组降为“较好”" in t for t in text)
    assert "共 3 个镇街：“好”2 个，“较好”1 个，“一般”0 个，“较差”0 个。" in text
    assert "年度结果 SHA-256" in document.sections[0].footer.paragraphs[0].text


def test_the_annual_notice_as_pdf_says_what_the_docx_says(app, world):
    from pypdf import PdfReader

    operations.calibrate(world.user("supervisor"), operations.find("2026Y"), YUNLU, "好", "突出")
    client = _client(app, "auditor")
    assert 'href="/admin/annual/notice.pdf?annual=2026Y"' in client.get(
        "/admin/annual/?annual=2026Y"
    ).get_data(as_text=True)
    response = client.get("/admin/annual/notice.pdf?annual=2026Y")
    assert response.status_code == 200, response.get_data(as_text=True)[-500:]
    assert response.mimetype == "application/pdf"
    assert "filename=notice-2026Y.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    lines = [line.strip() for line in text.splitlines()]
    assert "关于2026年度综合考评镇街“担当作为”考核结果的通报" in lines
    assert "1 曲溪街道 90.00 100.00 96.00 好" in lines
    assert "2 云路镇 95.00 95.00 95.00 好" in lines
    assert "2 玉滘镇 95.00 95.00 95.00 较好" in lines
    assert "云路镇等次由“较好”校准为“好”，理由：突出。" in text.replace("\n", "")
    assert "年度结果 SHA-256" in text
    # only WenQuanYi, embedded (the quarterly notice's check, tests/test_reports.py)
    assert pdf_fonts(reader) == {("/AAAAAA+WenQuanYiMicroHei", True)}


def test_reading_and_bad_requests(app, world):
    assert _client(app, "reviewer").get("/admin/annual/").status_code == 403
    auditor = _client(app, "auditor")
    assert auditor.get("/admin/annual/?annual=2099Y").status_code == 404
    assert auditor.get("/admin/annual/?annual=%00").status_code == 400  # the NUL guard
    assert auditor.get("/admin/annual/notice.docx?annual=2099Y").status_code == 404
    assert auditor.get("/admin/annual/notice.pdf?annual=2099Y").status_code == 404
    with pytest.raises(Forbidden):
        _ranking(world, "reviewer")


def test_a_quota_exact_decimal(world):
    assert operations.quotas_of(operations.find("2026Y")) == {"好": Decimal("67")}


#: POST /admin/annual/calibrate (云路 up to 好, within the quota) by role: only the supervisor.
#:                  admin assessor supervisor auditor reviewer anonymous
CALIBRATE = {"admin": 403, "assessor": 403, "supervisor": 302, "auditor": 403, "reviewer": 403,
             "anonymous": "LOGIN"}  # fmt: skip


@pytest.mark.parametrize("role", list(CALIBRATE))
def test_the_calibration_door_by_role(app, world, role):
    client = _client(app, role) if role != "anonymous" else app.test_client()
    form = {"annual": "2026Y", "unit": YUNLU, "grade": "好", "reason": "突出"}
    response = client.post("/admin/annual/calibrate", data=form)
    got = response.status_code
    if got == 302 and response.headers["Location"].startswith("/login"):
        got = "LOGIN"
    assert got == CALIBRATE[role]
    grades = [r["grade"] for r in _ranking(world)["results"]]
    assert grades == (["好", "好", "较好"] if role == "supervisor" else ["好", "较好", "较好"])


def test_the_command_line_defines_an_annual_period(app):
    with app.app_context():
        world = build_world()
        _approve(world, "2026Q2", Q2)
        _approve(world, "2026Q3", Q3)
        runner = app.test_cli_runner()
        args = ["create-annual", "2026Y", "--name", "2026年度综合考评", "--scheme", "T26"]
        refused = runner.invoke(args=[*args, "--source", "2026Q2=40", "--source", "2026Q3=50"])
        assert refused.exit_code == 1
        assert "各周期权重之和须恰为 100，现为 90" in refused.output
        unknown = runner.invoke(args=[*args, "--source", "2099Q1=100"])
        assert unknown.exit_code == 1 and "没有考核周期 2099Q1" in unknown.output
        done = runner.invoke(
            args=[*args, "--source", "2026Q2=40", "--source", "2026Q3=60", "--quota", "好=67"]
        )
        assert done.exit_code == 0, done.output
        assert "已设立 2026年度综合考评（2026Y）" in done.output
        answer = _ranking(world)
        assert [r["total"] for r in answer["results"]] == ["96.00", "95.00", "95.00"]
        assert answer["limits"] == {"好": 2}


def test_a_town_missing_from_a_period_counts_zero_there_and_says_so(app):
    """玉滘镇, inactive while 2026Q3 was scored, is absent from its snapshot: 0 there."""
    from evaluation.history import records

    with app.app_context():
        world = build_world()
        _approve(world, "2026Q2", Q2)
        records.update(SETUP_ACTOR, world.unit(YUJIAO), {"active": False})
        period = open_period(world, "2026Q3")
        fill_towns(world, period, {QUXI: Q3[QUXI], YUNLU: TIED})
        fill_villages(world, period)
        periods.submit(world.user("assessor"), period)
        periods.approve(world.user("supervisor"), period)
        records.update(SETUP_ACTOR, world.unit(YUJIAO), {"active": True})
        _define(world)
        answer = _ranking(world)
        # 玉滘: (40 × 95 + 60 × 0)/100 = 38.00, grade 较差.
        yujiao = next(r for r in answer["results"] if r["unit"] == YUJIAO)
        assert (yujiao["total"], yujiao["missing"], yujiao["parts"]["2026Q3"]) == (
            "38.00",
            ["2026Q3"],
            None,
        )
        client = _client(app, "auditor")
        assert "缺 2026Q3" in client.get("/admin/annual/").get_data(as_text=True)

"""Cadre ledger pages (``/admin/cadre-ledger/``): the 四个导向, 结对培养, projects and trend."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.scores import operations as ledger
from models import Cadre, CadreRecord, Dimension, Indicator, KeyProject, Period, Scheme, Unit, db
from models.cadres import town_leaders
from tests.conftest import SEED_ACTOR, user

TOWNS = (("445203100000", "云路镇"), ("445203101000", "玉湖镇"), ("445203102000", "龙尾镇"))
#: period code → town values (V01 of a 100-point direct scheme), in TOWNS order
TOWN_VALUES = {"2026Q1": ("70", "90", "80"), "2026Q2": ("95", "85", "60")}


def build_cadres() -> None:
    towns = [
        records.create(
            SEED_ACTOR,
            Unit,
            {"code": code, "name": name, "level": "town", "kind": "镇", "sort_order": i},
        )
        for i, (code, name) in enumerate(TOWNS)
    ]
    village = records.create(
        SEED_ACTOR,
        Unit,
        {"code": "445203100201", "name": "新桃村", "level": "village", "kind": "村",
         "parent": towns[0], "typical_batch": 1},
    )

    def cadre(name, unit, position, **values):
        return records.create(
            SEED_ACTOR, Cadre, {"name": name, "unit": unit, "position": position, **values}
        )

    secretary = cadre("陈书记", towns[0], "镇党委书记", gender="男")
    deputy = cadre("林副书记", towns[0], "镇党委副书记", tags="后备干部", assignment="指挥办",
                   mentor=secretary)
    cadre("黄副镇长", towns[0], "副镇长", tags="年轻干部,后备干部", assignment="要素专班",
          mentor=secretary)
    cadre("郑书记", village, "村党组织书记", tags="年轻干部", mentor=deputy)
    cadre("吴镇长", towns[2], "镇长")

    entries = [
        (secretary, "political", date(2026, 3, 1), "带头学习贯彻全会精神", "好"),
        (secretary, "performance", date(2026, 4, 2), "牵头完成园区招商签约", "好"),
        (secretary, "performance", date(2026, 6, 5), "推进高标准农田建设", "较好"),
        (secretary, "grassroots", date(2026, 5, 9), "驻村走访困难群众", "较好"),
        (deputy, "integrity", date(2026, 5, 20), "廉政谈话全覆盖", "好"),
    ]
    for who, orientation, day, title, evaluation in entries:
        records.create(
            SEED_ACTOR,
            CadreRecord,
            {"cadre": who, "orientation": orientation, "date": day, "title": title,
             "evaluation": evaluation, "detail": f"{title}的具体情况", "recorded_by": "supervisor"},
        )
    records.create(
        SEED_ACTOR,
        KeyProject,
        {"code": "GT-001", "name": "云路镇工业园区基础设施提升工程", "unit": towns[0],
         "lead_cadre": secretary, "due_date": date(2099, 12, 31), "progress": Decimal("45")},
    )

    scheme = records.create(
        SEED_ACTOR, Scheme, {"code": "T26", "name": "镇街方案", "level": "town", "total": 100}
    )
    dimension = records.create(
        SEED_ACTOR, Dimension, {"scheme": scheme, "code": "T", "name": "综合", "order": 1}
    )
    with db.session.no_autoflush:  # the scheme rules query before the indicator is added
        indicator = records.create(
            SEED_ACTOR,
            Indicator,
            {"scheme": scheme, "dimension": dimension, "code": "T01", "name": "综合得分",
             "points": Decimal(100), "method": "direct", "order": 1},
        )
    starts = {"2026Q1": (date(2026, 1, 1), date(2026, 3, 31)),
              "2026Q2": (date(2026, 4, 1), date(2026, 6, 30))}
    for code, values in TOWN_VALUES.items():
        start, end = starts[code]
        period = records.create(
            SEED_ACTOR,
            Period,
            {"code": code, "name": f"2026年{code[-1]}季度", "start_date": start,
             "end_date": end, "town_scheme": scheme},
        )
        periods.open_period(SEED_ACTOR, period)
        for town, value in zip(towns, values, strict=True):
            ledger.set_score(user("assessor"), period, town, indicator, value, version=None)
    db.session.remove()


@pytest.fixture
def cadres(app):
    with app.app_context():
        build_cadres()
    return app


def cadre_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Cadre.id).where(Cadre.name == name))


def section(html: str, orientation: str) -> str:
    match = re.search(
        rf'id="orientation-{orientation}".*?(?=id="orientation-|<h3)', html, re.S
    )
    assert match, orientation
    return match.group(0)


def test_ledger_groups_records_by_the_four_orientations(cadres, client, auth):
    auth.login("supervisor")
    html = client.get(f"/admin/cadre-ledger/{cadre_id(cadres, '陈书记')}").get_data(as_text=True)
    political = section(html, "political")
    performance = section(html, "performance")
    assert "政治导向" in political and "带头学习贯彻全会精神" in political
    assert 'class="count">2<' in performance
    assert "牵头完成园区招商签约" in performance and "推进高标准农田建设" in performance
    assert "好 1" in performance and "较好 1" in performance
    # Newest first within an orientation.
    assert performance.index("推进高标准农田建设") < performance.index("牵头完成园区招商签约")
    assert "驻村走访困难群众" in section(html, "grassroots")
    integrity = section(html, "integrity")
    assert 'class="count">0<' in integrity and "暂无记录" in integrity
    assert "廉政谈话全覆盖" not in html  # the deputy's record stays on the deputy's page


def test_ledger_shows_mentor_and_mentees(cadres, client, auth):
    auth.login("reviewer")  # reviewers read cadre pages too
    html = client.get(f"/admin/cadre-ledger/{cadre_id(cadres, '林副书记')}").get_data(as_text=True)
    mentor = re.search(r'class="col-8 mentor">(.*?)</dd>', html, re.S).group(1)
    mentees = re.search(r'class="col-8 mentees">(.*?)</dd>', html, re.S).group(1)
    assert "陈书记" in mentor
    assert "郑书记" in mentees and "黄副镇长" not in mentees
    assert "指挥办" in html and "后备干部" in html
    html = client.get(f"/admin/cadre-ledger/{cadre_id(cadres, '陈书记')}").get_data(as_text=True)
    mentees = re.search(r'class="col-8 mentees">(.*?)</dd>', html, re.S).group(1)
    assert "林副书记" in mentees and "黄副镇长" in mentees


def test_town_leader_sees_projects_and_the_towns_rank_trend(cadres, client, auth):
    auth.login("supervisor")
    html = client.get(f"/admin/cadre-ledger/{cadre_id(cadres, '陈书记')}").get_data(as_text=True)
    assert "云路镇工业园区基础设施提升工程" in html and 'style="width: 45%"' in html
    trend = re.search(r'<table class="table table-sm rank-trend">.*?</table>', html, re.S).group(0)
    # 云路镇: 70 of (70, 90, 80) is third; 95 of (95, 85, 60) is first.
    assert re.findall(r"(\d) / 3", trend) == ["3", "1"]
    assert "95.00" in trend and "echarts.min.js" in html
    # A deputy is not a town leader: no trend.
    html = client.get(f"/admin/cadre-ledger/{cadre_id(cadres, '林副书记')}").get_data(as_text=True)
    assert "历次考核排名" not in html


def trend_rows(html: str) -> dict[str, str]:
    """The rank-trend table's rows by period code."""
    table = re.search(r'<table class="table table-sm rank-trend">.*?</table>', html, re.S).group(0)
    return dict(re.findall(r'<tr data-period="([^"]+)">(.*?)</tr>', table, re.S))


def cells(row: str) -> list[str]:
    """A row's cells as text (tags dropped, blanks squeezed)."""
    found = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in found]


@pytest.mark.parametrize("role", ["admin", "supervisor", "auditor", "reviewer"])
def test_a_leaders_town_results_stand_beside_their_records_of_each_period(
    cadres, client, auth, role
):
    auth.login(role)
    html = client.get(f"/admin/cadre-ledger/{cadre_id(cadres, '陈书记')}").get_data(as_text=True)
    rows = trend_rows(html)
    assert list(rows) == ["2026Q1", "2026Q2"]
    # 云路镇 2026Q1: 70 of (70, 90, 80), third, 一般 (60–80); the one record dated in Q1.
    assert cells(rows["2026Q1"]) == [
        "2026年1季度 填报中", "3 / 3", "70.00", "一般", "2026-03-01 带头学习贯彻全会精神（好）"
    ]
    # 2026Q2: 95 of (95, 85, 60), first, 好; its three records oldest first.
    assert cells(rows["2026Q2"])[1:] == [
        "1 / 3", "95.00", "好",
        "2026-04-02 牵头完成园区招商签约（好） 2026-05-09 驻村走访困难群众（较好） "
        "2026-06-05 推进高标准农田建设（较好）",
    ]  # fmt: skip
    report = 'href="/admin/reports/town?period=2026Q2&amp;unit=445203100000"'
    # the period links to the town's report for those who may read reports (not reviewers)
    assert (report in rows["2026Q2"]) is (role != "reviewer")
    # a head of another town: that town's results, and no records of their own
    html = client.get(f"/admin/cadre-ledger/{cadre_id(cadres, '吴镇长')}").get_data(as_text=True)
    rows = trend_rows(html)
    assert [cells(row)[1:] for row in rows.values()] == [
        ["2 / 3", "80.00", "较好", "无"], ["3 / 3", "60.00", "一般", "无"]
    ]


def test_printable_sheet(cadres, client, auth):
    auth.login("auditor")
    response = client.get(f"/admin/cadre-ledger/{cadre_id(cadres, '陈书记')}/print")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "@page { size: A4 portrait" in html
    for text in ("政治导向", "实绩导向", "基层导向", "廉洁导向", "带头学习贯彻全会精神",
                 "云路镇工业园区基础设施提升工程", "45%", "审核人"):
        assert text in html


def test_index_filters_by_town_position_and_tag(cadres, client, auth):
    auth.login("supervisor")

    def names(query: str = "") -> set[str]:
        html = client.get(f"/admin/cadre-ledger/{query}").get_data(as_text=True)
        return set(re.findall(r'data-cadre="\d+">\s*<td><a [^>]*>([^<]+)</a>', html))

    assert names() == {"陈书记", "林副书记", "黄副镇长", "郑书记", "吴镇长"}
    with cadres.app_context():
        yunlu = db.session.scalar(select(Unit.id).where(Unit.name == "云路镇"))
    # A village cadre belongs to its town.
    assert names(f"?town={yunlu}") == {"陈书记", "林副书记", "黄副镇长", "郑书记"}
    assert names("?position=镇长") == {"吴镇长"}
    assert names("?tag=年轻干部") == {"黄副镇长", "郑书记"}
    assert names(f"?town={yunlu}&tag=后备干部") == {"林副书记", "黄副镇长"}
    assert names("?q=书记") == {"陈书记", "林副书记", "郑书记"}


def test_cadre_pages_are_closed_to_assessors(cadres, client, auth):
    auth.login("assessor")
    assert client.get("/admin/cadre-ledger/").status_code == 403
    assert client.get(f"/admin/cadre-ledger/{cadre_id(cadres, '陈书记')}").status_code == 403


def test_unknown_cadre_is_404(cadres, client, auth):
    auth.login("supervisor")
    assert client.get("/admin/cadre-ledger/99999").status_code == 404
    with cadres.app_context():
        assert db.session.scalar(select(KeyProject.code)) == "GT-001"


def add_period(code: str, start: date, end: date, values: dict[str, str]) -> None:
    """Open a period on the town scheme and enter the given towns' T01 values."""
    scheme = db.session.scalar(select(Scheme).where(Scheme.code == "T26"))
    period = records.create(
        SEED_ACTOR,
        Period,
        {"code": code, "name": f"2026年{code[-1]}季度", "start_date": start, "end_date": end,
         "town_scheme": scheme},
    )
    periods.open_period(SEED_ACTOR, period)
    indicator = db.session.scalar(select(Indicator).where(Indicator.code == "T01"))
    for name, value in values.items():
        town = db.session.scalar(select(Unit).where(Unit.name == name))
        ledger.set_score(user("assessor"), period, town, indicator, value, version=None)
    db.session.remove()


def rank_rows(html: str) -> list[list[str]]:
    """The rank history's rows on the ledger page, each as its cells' text."""
    table = re.search(r'<table class="table table-sm rank-trend">.*?</table>', html, re.S)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(0).split("<tbody>")[1], re.S)
    return [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split())
         for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in rows
    ]


def test_a_period_without_any_value_is_left_off_the_rank_history(cadres, client, auth):
    with cadres.app_context():
        # Just opened: no town has a value. Without the rule it read "1/3 0.00 较差".
        add_period("2026Q3", date(2026, 7, 1), date(2026, 9, 30), {})
    secretary = cadre_id(cadres, "陈书记")
    auth.login("supervisor")
    html = client.get(f"/admin/cadre-ledger/{secretary}").get_data(as_text=True)
    assert [row[0] for row in rank_rows(html)] == ["2026年1季度 填报中", "2026年2季度 填报中"]
    assert "2026年3季度" not in html
    sheet = client.get(f"/admin/cadre-ledger/{secretary}/print").get_data(as_text=True)
    assert "2026年2季度" in sheet and "2026年3季度" not in sheet
    assert ">0.00<" not in sheet


def test_a_town_missing_values_shows_incomplete_data_not_a_grade(cadres, client, auth):
    with cadres.app_context():
        # The other towns are in; 云路镇 (陈书记's town) has nothing yet.
        others = {name: "90" for _, name in TOWNS if name != "云路镇"}
        add_period("2026Q3", date(2026, 7, 1), date(2026, 9, 30), others)
    secretary = cadre_id(cadres, "陈书记")
    auth.login("auditor")
    html = client.get(f"/admin/cadre-ledger/{secretary}").get_data(as_text=True)
    assert rank_rows(html)[-1] == ["2026年3季度 填报中", "3 / 3", "0.00", "数据不全", "无"]
    sheet = client.get(f"/admin/cadre-ledger/{secretary}/print").get_data(as_text=True)
    last = re.findall(r"<tr><td>2026年3季度</td>(.*?)</tr>", sheet, re.S)
    assert last and "数据不全" in last[0] and "较差" not in last[0]


def test_town_leaders_are_the_exact_positions_on_every_page(cadres, client, auth):
    """One reading of who leads a town (``models.cadres.town_leaders``): the ranking's
    书记 / 镇长 columns and the cadre ledger's rank trend agree; deputies, assistants and
    office heads never count, however their position is worded."""
    others = (("周主任", "乡村振兴办主任"), ("钱助理", "镇长助理"), ("孙副书记", "党委副书记"))
    with cadres.app_context():
        town = db.session.scalar(select(Unit).where(Unit.name == "云路镇"))
        code = town.code
        for name, position in others:
            records.create(SEED_ACTOR, Cadre, {"name": name, "unit": town, "position": position})
        assert town_leaders([code, TOWNS[2][0]]) == {
            code: {"secretaries": ["陈书记"], "heads": []},
            TOWNS[2][0]: {"secretaries": [], "heads": ["吴镇长"]},
        }
        db.session.remove()
    auth.login("supervisor")
    html = client.get("/admin/ranking/?period=2026Q1").get_data(as_text=True)
    row = re.search(rf'<tr data-unit="{code}".*?</tr>', html, re.S).group(0)
    assert "陈书记" in row
    for name in ("林副书记", "黄副镇长", *(name for name, _ in others)):
        assert name not in row, name
        ledger_page = client.get(f"/admin/cadre-ledger/{cadre_id(cadres, name)}")
        assert "历次考核排名" not in ledger_page.get_data(as_text=True), name
    assert "历次考核排名" in client.get(
        f"/admin/cadre-ledger/{cadre_id(cadres, '吴镇长')}"
    ).get_data(as_text=True)


def test_a_records_evidence_shows_and_the_record_keepers_may_add_more(cadres, client, auth):
    """佐证材料 on a cadre record (docs/evidence.md#the-partial): listed with its photo
    facts; the upload form for those who keep records (admin, supervisor), not the auditor."""
    import io

    from evaluation.evidence import operations as evidence
    from models import CadreRecord
    from tests import evidence_files
    from tests.conftest import user

    with cadres.app_context():
        record = db.session.scalar(
            select(CadreRecord).where(CadreRecord.title == "驻村走访困难群众")
        )
        record_id = record.id
        evidence.add_evidence(
            user("supervisor"), evidence_files.jpeg(), filename="走访照片.jpg",
            target_type="cadre_record", target_id=record_id,
        )  # fmt: skip
    page = f"/admin/cadre-ledger/{cadre_id(cadres, '陈书记')}"
    auth.login("auditor")
    html = client.get(page).get_data(as_text=True)
    grassroots = section(html, "grassroots")
    assert "走访照片.jpg" in grassroots and "拍摄时间 2026-09-18 10:20" in grassroots
    assert "位置 23.55010, 116.37280" in grassroots
    assert "evidence/attach" not in html
    auth.logout()
    auth.login("supervisor")
    html = client.get(page).get_data(as_text=True)
    assert 'name="target_type" value="cadre_record"' in section(html, "grassroots")
    answer = client.post(
        "/evidence/attach",
        data={
            "target_type": "cadre_record", "target_id": str(record_id), "next": page,
            "file": (io.BytesIO(evidence_files.pdf()), "谈话记录.pdf"),
        },
        content_type="multipart/form-data",
    )  # fmt: skip
    assert answer.status_code == 303
    assert "谈话记录.pdf" in section(client.get(page).get_data(as_text=True), "grassroots")

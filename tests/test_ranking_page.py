"""考核排名 page (docs/architecture.md#pages-and-doors): table, change column, chart data, XLSX,
print sheet, access.

The demo ledger is seeded once per backend (seeding walks four periods through the
whole service layer, 5–12 s) and every test here only reads it.
"""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from evaluation.core.spreadsheets import neutralize
from evaluation.demo.district import seed_demo
from evaluation.history import records
from evaluation.ranking import reading
from evaluation.ranking.page import RankChange, rank_change
from models import Cadre, Period, Scheme, Unit, User, db
from tests.conftest import BACKENDS, PASSWORD, database_url, test_app

FORMULA_NAME = "=HYPERLINK(1)"


@pytest.fixture(scope="module", params=BACKENDS)
def demo_app(request, tmp_path_factory):
    """The demo ledger (13 towns, 4 periods: 2 approved, 1 submitted, 1 open), plus a
    镇长 renamed to what a spreadsheet would run as a formula."""
    tmp = tmp_path_factory.mktemp(f"ranking-{request.param}")
    app = test_app(database_url(request.param, tmp), tmp / "instance")
    with app.app_context():
        seed_demo(password_factory=lambda: PASSWORD)
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        town = db.session.scalar(select(Unit).where(Unit.name == "月城镇"))
        head = db.session.scalar(
            select(Cadre).where(Cadre.unit_id == town.id, Cadre.position == "镇长")
        )
        records.update(admin, head, {"name": FORMULA_NAME})
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def login(app, username: str = "supervisor"):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def expected_ranking(app, code: str, level: str = "town") -> dict:
    with app.app_context():
        period = db.session.scalar(select(Period).where(Period.code == code))
        answer = reading.ranking(period, level)
        db.session.remove()
    return answer


class TableReader(HTMLParser):
    """Collect the ranking table's rows: each a dict of cell class → text."""

    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []
        self._cell: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-unit" in attrs:
            self.rows.append({"unit": attrs["data-unit"], "rank": int(attrs["data-rank"])})
        elif tag == "td" and self.rows:
            classes = (attrs.get("class") or "").split()
            known = {"total", "grade", "change", "unit-name", "completeness", "interval"}
            self._cell = next((c for c in classes if c in known), None)
            if self._cell:
                self.rows[-1][self._cell] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        if tag == "table":
            self._cell = None

    def handle_data(self, data):
        if self._cell and self.rows:
            self.rows[-1][self._cell] += data.strip()


def table_rows(html: str) -> list[dict]:
    reader = TableReader()
    reader.feed(html)
    return reader.rows


def chart_settings(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="ranking-data">(.*?)</script>', html, re.S
    )
    assert match, "the chart settings block is missing"
    return json.loads(match.group(1))


def chart_json(client, html: str) -> dict:
    """Fetch the chart figures the way ranking.js does: from the URL the page names."""
    response = client.get(chart_settings(html)["charts_url"])
    assert response.status_code == 200
    return response.get_json()


def test_rank_change_labels():
    assert rank_change(3, 5, had_previous=True).label == "↑2"
    assert rank_change(5, 3, had_previous=True).label == "↓2"
    assert rank_change(4, 4, had_previous=True).label == "–"
    assert rank_change(4, None, had_previous=True).label == "新"
    assert rank_change(4, None, had_previous=False) == RankChange(None)


def test_neutralize_formula_text():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralize(text) == "'" + text
    assert neutralize("曲溪街道") == "曲溪街道"


def test_approved_period_lists_towns_in_rank_order_from_snapshot(demo_app):
    expected = expected_ranking(demo_app, "2026Q1")
    assert expected["from_snapshot"] and expected["snapshot_hash"]
    html = login(demo_app).get("/admin/ranking/?period=2026Q1").get_data(as_text=True)

    rows = table_rows(html)
    assert len(rows) == 13
    assert [r["unit"] for r in rows] == [r["unit"] for r in expected["results"]]
    assert [r["rank"] for r in rows] == [r["rank"] for r in expected["results"]]
    assert [r["total"] for r in rows] == [r["total"] for r in expected["results"]]
    assert [r["grade"] for r in rows] == [r["grade"] for r in expected["results"]]
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)
    assert expected["snapshot_hash"] in html
    assert "审定时保存的排名快照" in html
    assert "已审定" in html


def test_default_period_is_the_one_waiting_for_review(demo_app):
    # 2026Q2 is submitted, 2026Q1 the latest approved: the page opens where the review is.
    html = login(demo_app).get("/admin/ranking/").get_data(as_text=True)
    assert "2026年第二季度（2026Q2）镇街排名" in html


def test_change_column_against_previous_period(demo_app):
    previous = {r["unit"]: r["rank"] for r in expected_ranking(demo_app, "2026Q1")["results"]}
    current = expected_ranking(demo_app, "2026Q2")
    html = login(demo_app).get("/admin/ranking/?period=2026Q2").get_data(as_text=True)

    shown = {r["unit"]: r["change"] for r in table_rows(html)}
    for result in current["results"]:
        steps = previous[result["unit"]] - result["rank"]
        label = f"↑{steps}" if steps > 0 else f"↓{-steps}" if steps < 0 else "–"
        assert shown[result["unit"]] == label, result["name"]
    assert any(label.startswith("↑") for label in shown.values())
    assert any(label.startswith("↓") for label in shown.values())
    assert "2026年第一季度（2026Q1）比较" in html


def test_first_period_has_no_change_to_show(demo_app):
    html = login(demo_app).get("/admin/ranking/?period=2025Q4").get_data(as_text=True)
    assert {r["change"] for r in table_rows(html)} == {""}
    assert "没有可比较的上一考核周期" in html


def test_chart_data_contains_every_town_and_the_trend(demo_app):
    client = login(demo_app)
    html = client.get("/admin/ranking/?period=2026Q2").get_data(as_text=True)
    settings = chart_settings(html)
    assert settings["trend_url"] == "/admin/ranking/trend.json?period=2026Q2&level=town"
    assert settings["charts_url"] == "/admin/ranking/charts.json?period=2026Q2&level=town"
    charts = chart_json(client, html)
    expected = expected_ranking(demo_app, "2026Q2")["results"]

    assert [u["unit"] for u in charts["units"]] == [r["unit"] for r in expected]
    assert {u["name"] for u in charts["units"]} == {r["name"] for r in expected}
    assert [u["total"] for u in charts["units"]] == [r["total"] for r in expected]
    assert [d["name"] for d in charts["dimensions"]] == ["镇域经济发展", "城乡融合", "乡村振兴"]
    assert len(charts["indicators"]) == 19
    # the page loads ECharts from the app itself, never from a CDN
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert "/static/ranking.js" in html
    assert "cdn" not in html.lower()


def test_trend_gives_each_town_its_rank_in_every_period_so_far(demo_app):
    ranks = {
        code: {r["unit"]: r["rank"] for r in expected_ranking(demo_app, code)["results"]}
        for code in ("2025Q4", "2026Q1", "2026Q2")
    }
    response = login(demo_app).get("/admin/ranking/trend.json?period=2026Q2&level=town")
    assert response.status_code == 200
    trend = response.get_json()
    assert [p["code"] for p in trend["periods"]] == ["2025Q4", "2026Q1", "2026Q2"]
    assert len(trend["series"]) == 13
    for series in trend["series"]:
        assert series["ranks"] == [ranks[code][series["unit"]] for code in ranks]


def test_echarts_is_served_with_its_licence(demo_app):
    client = demo_app.test_client()
    script = client.get("/static/vendor/echarts/echarts.min.js")
    assert script.status_code == 200 and len(script.data) > 500_000
    script.close()
    licence = client.get("/static/vendor/echarts/LICENSE")
    assert b"Apache License" in licence.data
    licence.close()


def test_uncertainty_adds_rank_intervals(demo_app):
    client = login(demo_app)
    html = client.get("/admin/ranking/?period=2026Q2&uncertainty=1").get_data(as_text=True)
    rows = table_rows(html)
    assert len(rows) == 13
    assert all(re.match(r"^[\d.]+–[\d.]+（[\d.]+）", r["interval"]) for r in rows)
    charts = chart_json(client, html)
    assert charts["uncertainty"] is True
    for unit in charts["units"]:
        interval = unit["sensitivity"]
        assert interval["q5_rank"] <= interval["median_rank"] <= interval["q95_rank"]
    assert 'id="chart-uncertainty"' in html


def test_responsible_cadres_are_the_secretary_and_the_head(demo_app):
    with demo_app.app_context():
        town = db.session.scalar(select(Unit).where(Unit.name == "锡场镇"))
        cadres = {
            c.position: c.name
            for c in db.session.scalars(select(Cadre).where(Cadre.unit_id == town.id))
        }
        code = town.code
        db.session.remove()
    html = login(demo_app).get("/admin/ranking/?period=2026Q1").get_data(as_text=True)
    row = re.search(rf'<tr data-unit="{code}".*?</tr>', html, re.S).group(0)
    assert cadres["镇党委书记"] in row
    assert cadres["镇长"] in row
    assert cadres["副镇长"] not in row
    assert cadres["镇党委副书记"] not in row


def test_village_level_ranks_the_typical_villages(demo_app):
    expected = expected_ranking(demo_app, "2026Q2", "village")
    client = login(demo_app)
    html = client.get("/admin/ranking/?period=2026Q2&level=village").get_data(as_text=True)
    rows = table_rows(html)
    assert len(rows) == 21
    assert [r["unit"] for r in rows] == [r["unit"] for r in expected["results"]]
    assert "典型村排名" in html and "领头雁" in html
    assert len(chart_json(client, html)["units"]) == 21


def test_xlsx_export_keeps_numbers_and_neutralizes_text(demo_app):
    expected = expected_ranking(demo_app, "2026Q1")["results"]
    response = login(demo_app).get("/admin/ranking/export.xlsx?period=2026Q1")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" in disposition
    assert "%E9%95%87%E8%A1%97" in disposition  # 镇街, percent-encoded per RFC 5987

    book = load_workbook(io.BytesIO(response.data))
    sheet = book["排名"]
    header = [c.value for c in sheet[2]]  # row 1 is the title
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 13
    column = {name.split("（")[0]: header.index(name) for name in header}
    for row, result in zip(rows, expected, strict=True):
        assert row[column["名次"]] == result["rank"]
        assert isinstance(row[column["总分"]], int | float)
        assert Decimal(str(row[column["总分"]])).quantize(Decimal("0.01")) == Decimal(
            result["total"]
        )
        assert isinstance(row[column["镇域经济发展"]], int | float)
        assert row[column["镇街"]] == result["name"]
    heads = [row[column["镇长/主任"]] for row in rows]
    assert "'" + FORMULA_NAME in heads
    assert not any(h.startswith("=") for h in heads)
    about = dict(book["说明"].iter_rows(values_only=True))
    assert "演示数据" in about  # the file says it holds sample data
    assert about["状态"] == "已审定"
    assert len(about["快照 SHA-256"]) == 64


def test_print_view_has_the_approval_stamp(demo_app):
    expected = expected_ranking(demo_app, "2026Q1")
    html = login(demo_app).get("/admin/ranking/?period=2026Q1&print=1").get_data(as_text=True)
    assert "size: A4 landscape" in html
    assert 'id="approval-stamp"' in html
    assert expected["snapshot_hash"] in html
    # People by the names readers know them by, not by their login names.
    assert "<tr><th>审定人</th><td>督导组 蔡丽华</td></tr>" in html
    assert "（supervisor）" not in html and "（assessor）" not in html
    assert "navbar" not in html  # no navigation on the sheet
    assert len(table_rows(html)) == 13


def test_print_view_of_an_unapproved_period_says_so(demo_app):
    html = login(demo_app).get("/admin/ranking/?period=2026Q2&print=1").get_data(as_text=True)
    assert "本期尚未审定" in html
    assert "快照 SHA-256" not in html


def test_unknown_period_is_not_found(demo_app):
    client = login(demo_app)
    assert client.get("/admin/ranking/?period=1999Q1").status_code == 404
    assert client.get("/admin/ranking/?level=county").status_code == 404
    assert client.get("/admin/ranking/charts.json?period=1999Q1").status_code == 404
    assert client.get("/admin/ranking/charts.json?level=county").status_code == 404


@pytest.mark.parametrize("role", ["assessor", "auditor", "admin", "supervisor"])
def test_readers_of_rankings_may_open_the_page(demo_app, role):
    client = login(demo_app, role)
    assert client.get("/admin/ranking/").status_code == 200
    assert client.get("/admin/ranking/export.xlsx").status_code == 200
    assert client.get("/admin/ranking/charts.json").status_code == 200


def test_reviewer_is_refused_and_anonymous_sent_to_login(demo_app):
    reviewer = login(demo_app, "reviewer")
    assert reviewer.get("/admin/ranking/").status_code == 403
    assert reviewer.get("/admin/ranking/export.xlsx").status_code == 403
    assert reviewer.get("/admin/ranking/?print=1").status_code == 403
    assert reviewer.get("/admin/ranking/trend.json").status_code == 403
    assert reviewer.get("/admin/ranking/charts.json").status_code == 403
    assert demo_app.test_client().get("/admin/ranking/charts.json").status_code in (302, 401)
    anonymous = demo_app.test_client().get("/admin/ranking/?period=2026Q1")
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]


def test_a_long_ranking_shows_its_first_rows_and_offers_every_row(demo_app, monkeypatch):
    from evaluation.ranking import admin as ranking_admin

    monkeypatch.setattr(ranking_admin, "TABLE_ROWS", 5)
    client = login(demo_app)
    expected = [r["unit"] for r in expected_ranking(demo_app, "2026Q2")["results"]]
    html = client.get("/admin/ranking/?period=2026Q2").get_data(as_text=True)
    assert [r["unit"] for r in table_rows(html)] == expected[:5]
    assert "表中列出前 5 名（共 13 个单位）" in html
    every = client.get("/admin/ranking/?period=2026Q2&all=1").get_data(as_text=True)
    assert [r["unit"] for r in table_rows(every)] == expected
    assert 'id="rows-cut"' not in every
    # The charts, the print sheet and the XLSX always hold every unit.
    assert len(chart_json(client, html)["units"]) == 13
    printed = client.get("/admin/ranking/?period=2026Q2&print=1").get_data(as_text=True)
    assert "共 13 个单位" in printed
    book = load_workbook(io.BytesIO(client.get("/admin/ranking/export.xlsx?period=2026Q2").data))
    assert book.active.max_row == 2 + 13  # the title, the header, every town


#: The demo's open period 2026Q3: the towns with values still missing, by total (桂岭镇
#: only the three values its claims gave (docs/reporting.md#demo), 龙尾镇 only its bonus,
#: 白塔镇 none at all).
INCOMPLETE_TOWNS_2026Q3 = ["月城镇", "霖磐镇", "埔田镇", "桂岭镇", "龙尾镇", "白塔镇"]


def test_incomplete_towns_show_incomplete_data_instead_of_a_grade(demo_app):
    expected = expected_ranking(demo_app, "2026Q3")["results"]
    names = {r["unit"]: r["name"] for r in expected}
    client = login(demo_app)
    html = client.get("/admin/ranking/?period=2026Q3").get_data(as_text=True)
    rows = table_rows(html)
    shown = {names[r["unit"]]: r["grade"] for r in rows}
    assert [n for n, grade in shown.items() if grade == "数据不全"] == INCOMPLETE_TOWNS_2026Q3
    assert "较差" not in [shown[n] for n in INCOMPLETE_TOWNS_2026Q3]
    # A complete town keeps its grade.
    first = expected[0]
    assert first["complete"] and shown[first["name"]] == first["grade"] != "数据不全"

    # The print sheet and the chart figures say the same.
    sheet = client.get("/admin/ranking/?period=2026Q3&print=1").get_data(as_text=True)
    printed = {names[r["unit"]]: r["grade"] for r in table_rows(sheet)}
    assert printed == shown
    charts = {u["name"]: (u["grade"], u["complete"]) for u in chart_json(client, html)["units"]}
    assert charts["白塔镇"] == ("数据不全", False)
    assert charts[first["name"]] == (first["grade"], True)


def test_incomplete_towns_show_incomplete_data_in_the_xlsx(demo_app):
    response = login(demo_app).get("/admin/ranking/export.xlsx?period=2026Q3")
    sheet = load_workbook(io.BytesIO(response.data))["排名"]
    header = [c.value for c in sheet[2]]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    grade = {row[header.index("镇街")]: row[header.index("等次")] for row in rows}
    assert [n for n, g in grade.items() if g == "数据不全"] == INCOMPLETE_TOWNS_2026Q3
    assert "较差" not in [grade[n] for n in INCOMPLETE_TOWNS_2026Q3]


def test_an_incomplete_typical_village_shows_incomplete_data(demo_app):
    html = login(demo_app).get("/admin/ranking/?period=2026Q2&level=village")
    expected = expected_ranking(demo_app, "2026Q2", "village")["results"]
    names = {r["unit"]: r["name"] for r in expected}
    shown = {names[r["unit"]]: r["grade"] for r in table_rows(html.get_data(as_text=True))}
    # 马头村 lacks its 暗访 grade: its total 71.45 would read 一般.
    assert shown["马头村"] == "数据不全"
    assert sum(1 for g in shown.values() if g == "数据不全") == 1


def test_an_approval_over_missing_values_carries_its_note_on_page_print_and_xlsx(app):
    from evaluation.periods import operations as workflow
    from tests.ledger_world import build_world, fill_towns

    with app.app_context():
        world = build_world()
        q3 = world.period()
        workflow.open_period(world.user("admin"), q3)
        fill_towns(world, q3)
        workflow.submit(world.user("assessor"), q3)
        workflow.approve(world.user("supervisor"), q3, override_reason="典型村数据下季度补录")
        db.session.remove()
    client = login(app)
    page = client.get("/admin/ranking/?period=2026Q3&level=village").get_data(as_text=True)
    assert '<div id="approval-note">审定说明：典型村数据下季度补录</div>' in page
    assert {r["grade"] for r in table_rows(page)} == {"数据不全"}
    sheet = client.get("/admin/ranking/?period=2026Q3&level=village&print=1")
    assert "<tr><th>审定说明</th><td>典型村数据下季度补录</td></tr>" in sheet.get_data(as_text=True)
    book = load_workbook(io.BytesIO(client.get("/admin/ranking/export.xlsx?period=2026Q3").data))
    assert dict(book["说明"].iter_rows(values_only=True))["审定说明"] == "典型村数据下季度补录"


def test_a_period_approved_complete_has_no_approval_note(demo_app):
    html = login(demo_app).get("/admin/ranking/?period=2026Q1").get_data(as_text=True)
    assert "已审定" in html and "approval-note" not in html and "审定说明" not in html


def test_the_rank_trend_leaves_out_a_period_without_any_value(app):
    from evaluation.periods import operations as workflow
    from tests.ledger_world import build_world, fill_towns

    with app.app_context():
        world = build_world()
        workflow.open_period(world.user("admin"), world.period("2026Q2"))  # nothing entered
        q3 = world.period()
        workflow.open_period(world.user("admin"), q3)
        fill_towns(world, q3)
        db.session.remove()
    trend = login(app).get("/admin/ranking/trend.json?period=2026Q3").get_json()
    assert trend["periods"] == [{"code": "2026Q3", "name": "2026年第三季度"}]
    assert [(s["name"], s["ranks"]) for s in trend["series"]] == [
        ("曲溪街道", [1]), ("云路镇", [2]), ("玉滘镇", [3]),
    ]


# --- the sheet handed to a leader: XLSX and print (docs/architecture.md#pages-and-doors) -


def test_xlsx_is_a_titled_bordered_landscape_sheet_with_an_indicator_detail(demo_app):
    client = login(demo_app)
    response = client.get("/admin/ranking/export.xlsx?period=2026Q1")
    assert "%E5%B7%B2%E5%AE%A1%E5%AE%9A.xlsx" in response.headers["Content-Disposition"]  # 已审定
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["排名", "指标明细", "说明"]
    sheet = book["排名"]
    assert sheet["A1"].value == "2026年第一季度镇街担当作为考核排名（已审定）"
    assert any(str(r) .startswith("A1:") for r in sheet.merged_cells.ranges)
    header = [c.value for c in sheet[2]]
    assert len(header) == len(set(header)), "no column twice"
    assert "名次变化" not in header and "较上期" in header
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$2"
    assert sheet["A3"].border.left.style == "thin" and sheet["A2"].font.bold
    assert sheet.freeze_panes == "A3"

    detail = book["指标明细"]
    expected = expected_ranking(demo_app, "2026Q1")
    with demo_app.app_context():
        from evaluation.ranking.page import scheme_layout

        period = db.session.scalar(select(Period).where(Period.code == "2026Q1"))
        _, indicators = scheme_layout(period, "town")
        db.session.remove()
    assert len(indicators) == 19
    assert detail.print_title_rows == "$1:$3"
    assert detail.page_setup.orientation == "landscape"
    top = [c.value for c in detail[2]]
    assert top[:3] == ["名次", "单位代码", "镇街"] and top[-1] == "总分"
    assert top[3].startswith(f"{indicators[0]['code']} {indicators[0]['name']}（")
    assert [c.value for c in detail[3]][3:5] == ["数值", "得分"]
    first = expected["results"][0]
    row = [c.value for c in detail[4]]
    assert row[:3] == [first["rank"], first["unit"], first["name"]]
    points = row[4 : 3 + 2 * 19 : 2]
    assert [Decimal(str(p)).quantize(Decimal("0.01")) for p in points] == [
        Decimal(first["indicators"][i["code"]]) for i in indicators
    ]
    assert all(v is not None for v in row[3 : 3 + 2 * 19 : 2])  # an approved, complete town
    assert detail.max_row == 3 + 13


def test_a_draft_xlsx_says_so_in_its_name_and_title(demo_app):
    response = login(demo_app).get("/admin/ranking/export.xlsx?period=2026Q3")
    disposition = response.headers["Content-Disposition"]
    # _草稿_未审定.xlsx, percent-encoded
    assert "_%E8%8D%89%E7%A8%BF_%E6%9C%AA%E5%AE%A1%E5%AE%9A.xlsx" in disposition
    title = load_workbook(io.BytesIO(response.data))["排名"]["A1"].value
    assert title.startswith("2026年第三季度镇街担当作为考核排名（") and "未审定，仅供参考" in title


def test_print_sheet_is_titled_as_a_document_with_an_indicator_page(demo_app):
    client = login(demo_app)
    html = client.get("/admin/ranking/?period=2026Q1&print=1").get_data(as_text=True)
    assert "<title>2026年第一季度镇街担当作为考核排名（已审定）</title>" in html
    assert '<p class="issuer" id="issuing-body">中共揭阳市揭东区委组织部</p>' in html
    assert "状态：已审定" in html
    assert 'id="indicator-page"' in html and "page-break-before: always" in html
    assert html.count("data-indicators-of=") == 13
    assert html.count("<th>数值</th><th>得分</th>") == 19
    # The footer names the printing user by display name, not login name.
    assert "打印：督导组 蔡丽华 · " in html
    draft = client.get("/admin/ranking/?period=2026Q3&print=1").get_data(as_text=True)
    assert "未审定，仅供参考）</title>" in draft


def test_the_issuing_body_is_a_setting(demo_app):
    from models import Setting

    with demo_app.app_context():
        db.session.add(Setting(key="issuing_body", value="中共某区委组织部"))
        db.session.commit()
        db.session.remove()
    try:
        html = login(demo_app).get("/admin/ranking/?period=2026Q1&print=1").get_data(as_text=True)
        assert '<p class="issuer" id="issuing-body">中共某区委组织部</p>' in html
    finally:
        with demo_app.app_context():
            db.session.delete(db.session.get(Setting, "issuing_body"))
            db.session.commit()
            db.session.remove()


def test_xlsx_header_is_formula_guarded(app):
    """A dimension named like a formula stays text in the ranking workbook's header."""
    from tests.ledger_world import build_world, fill_towns, open_period

    formula = '=HYPERLINK("http://evil.example/","点此")'
    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period)
        scheme = db.session.get(Scheme, world.town_scheme_id)
        scheme.dimensions[0].name = formula  # as an admin's typing would leave it
        db.session.commit()
        db.session.remove()
    response = login(app).get("/admin/ranking/export.xlsx?period=2026Q3")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    header = [cell.value for cell in book.worksheets[0][2]]
    guarded = [value for value in header if value and "HYPERLINK" in value]
    assert guarded == ["'" + formula + "（40分）"]
    assert not any(
        str(cell.value).startswith("=") for row in book.worksheets[0].iter_rows() for cell in row
    )

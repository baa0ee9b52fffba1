"""A town's report through the ledger (docs/reports.md): the API, the page and the DOCX.

The small ledger (tests/ledger_world.py), worked by hand. 2026Q3:
曲溪街道 E01 6.5 → 20, E02 10 (the highest) → 20, U01 A → 30, U02 30: 100.00, rank 1, 好;
云路镇   E01 5.2 → 16, E02 4 (the lowest) → 20 × 0.6 = 12, U01 B → 25.5, U02 25.5:
         79.00, rank 2, 一般;
玉滘镇   E01 3.25 → 10, E02 7 → 20 × (0.6 + 0.4 × 0.5) = 16, U01 C → 21, U02 20: 67.00, 3.
2026Q2 as 2026Q3 except 云路镇 E01 6.5 (20) and U02 20: 77.50, rank 2.
"""

from __future__ import annotations

import pytest

from evaluation.accounts import operations as accounts
from models import db
from tests.ledger_world import FULL_TOWN_VALUES, SETUP, build_world, fill_towns, open_period

YUNLU = "445203100000"
Q2_VALUES = {
    **FULL_TOWN_VALUES,
    YUNLU: {"E01": "6.5", "E02": "4", "U01": "B", "U02": "20"},
}


@pytest.fixture
def ledger(app):
    """2026Q2 and 2026Q3 open and filled; a token per role."""
    with app.app_context():
        world = build_world()
        fill_towns(world, open_period(world, "2026Q2"), Q2_VALUES)
        fill_towns(world, open_period(world, "2026Q3"))
        tokens = {
            role: accounts.create_token(SETUP, world.user(role))
            for role in ("admin", "assessor", "supervisor", "auditor", "reviewer")
        }
        db.session.remove()
    return app, tokens


def get(ledger, path, role="supervisor"):
    app, tokens = ledger
    return app.test_client().get(path, headers={"Authorization": f"Bearer {tokens[role]}"})


def test_the_report_of_yunlu_worked_by_hand(ledger):
    response = get(ledger, f"/api/v1/periods/2026Q3/units/{YUNLU}/report")
    assert response.status_code == 200
    report = response.json
    assert (report["unit"], report["name"], report["period"]) == (YUNLU, "云路镇", "2026Q3")
    assert (report["total"], report["rank"], report["grade"], report["units"]) == (
        "79.00", 2, "一般", 3,
    )  # fmt: skip
    assert report["next_grade"] == "较好"
    assert [(i["code"], i["points"], i["max"], i["rank_among"], i["value"])
            for i in report["indicators"]] == [
        ("E01", "16.00", "20.00", 2, "5.2"),
        ("E02", "12.00", "20.00", 3, "4"),
        ("U01", "25.50", "30.00", 2, "B"),
        ("U02", "25.50", "30.00", 2, "25.5"),
    ]  # fmt: skip
    # Four indicators: two of each. Ranks 2, 3, 2, 2; shares 0.80, 0.60, 0.85, 0.85.
    assert report["strengths"] == ["U01", "U02"]
    assert report["weaknesses"] == ["E02", "E01"]


def test_the_change_since_2026q2_adds_up(ledger):
    change = get(ledger, f"/api/v1/periods/2026Q3/units/{YUNLU}/report").json["change"]
    assert change == {
        "previous_total": "77.50",
        "previous_rank": 2,
        "total": "1.50",
        "indicators": {"E01": "-4.00", "E02": "0.00", "U01": "0.00", "U02": "5.50"},
        "bonus": "0.00",
        "penalty": "0.00",
        "floor": "0.00",
    }


def test_the_gaps_of_yunlu_worked_by_hand(ledger):
    gaps = {g["indicator"]: g for g in get(
        ledger, f"/api/v1/periods/2026Q3/units/{YUNLU}/report"
    ).json["gaps"]}
    # Rank 1 needs 100 (+21): no single indicator has that much room.
    assert {g["next_rank_reason"] for g in gaps.values()} == {"not_enough"}
    # 较好 needs 80 (+1).
    # E01: 20 × v / 6.5 ≥ 16.995 → v ≥ 5.523375 → 5.53 (5.52 gives 16.98).
    assert gaps["E01"]["value_for_next_grade"] == "5.53"
    assert gaps["E01"]["change_for_next_grade"] == "0.33"
    # E02: 云路镇 stays the lowest (0 of the range) up to 7; above, lo = 7:
    # 20 × (0.6 + 0.4 (v − 7) / 3) ≥ 12.995 → v ≥ 7.373125 → 7.38 (7.37 gives 12.99).
    assert gaps["E02"]["value_for_next_grade"] == "7.38"
    assert gaps["U01"]["value_for_next_grade"] == "A"  # 30: 83.50
    assert gaps["U02"]["value_for_next_grade"] == "26.5"
    assert gaps["U02"]["grade_at_value"] == "较好"


def test_the_first_town_has_no_next_rank_and_no_previous_in_2026q2(ledger):
    report = get(ledger, "/api/v1/periods/2026Q2/units/445203001000/report").json
    assert report["change"] is None and report["previous_period"] is None
    assert {g["next_rank_reason"] for g in report["gaps"]} == {"first"}
    assert {g["next_grade_reason"] for g in report["gaps"]} == {"top_grade"}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/periods/2026Q3/units/445203999999/report", 404),  # no such town
        ("/api/v1/periods/2026Q3/units/445203100201/report", 404),  # a village, not a town
        ("/api/v1/periods/2099Q1/units/445203100000/report", 404),
        ("/api/v1/periods/2026Q3/units/445203100000/report?level=city", 422),
    ],
)
def test_bad_requests(ledger, path, status):
    response = get(ledger, path)
    assert response.status_code == status
    assert "error" in response.json


# -- the page and the DOCX -------------------------------------------------------------


def signed_in(app, role="supervisor"):
    from tests.conftest import PASSWORD

    client = app.test_client()
    assert client.post("/login", data={"username": role, "password": PASSWORD}).status_code == 302
    return client


def test_the_page_shows_the_report_in_chinese(ledger):
    app, _ = ledger
    page = signed_in(app).get(f"/admin/reports/town?period=2026Q3&unit={YUNLU}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2026年第三季度云路镇“担当作为”考核报告" in html
    assert 'id="report-total">79.00<' in html
    assert "未审定，仅供参考" in html
    # 差距测算 in words: E01 from 5.2 to 5.53 (+0.33) reaches 较好; rank 1 is out of reach.
    assert "5.53（+0.33）" in html
    assert "仅靠该指标不足以提升" in html
    assert "进入“较好”等次" in html
    assert "评为「A」" in html
    # the change, split: E01 −4.00, U02 +5.50, total +1.50
    assert ">-4.00<" in html and ">+5.50<" in html and ">+1.50<" in html
    assert 'id="report-data"' in html and "vendor/echarts/echarts.min.js" in html


def test_the_ranking_page_links_each_town_to_its_report(ledger):
    app, _ = ledger
    html = signed_in(app).get("/admin/ranking/?period=2026Q3").get_data(as_text=True)
    assert f'href="/admin/reports/town?period=2026Q3&amp;unit={YUNLU}"' in html
    printed = signed_in(app).get("/admin/ranking/?period=2026Q3&print=1").get_data(as_text=True)
    assert "/admin/reports/town" not in printed  # the print sheet stays plain


def test_the_index_lists_the_towns_by_rank(ledger):
    app, _ = ledger
    html = signed_in(app, "assessor").get("/admin/reports/?period=2026Q3").get_data(as_text=True)
    assert html.index("曲溪街道") < html.index("云路镇") < html.index("玉滘镇")


@pytest.mark.parametrize(
    "query",
    [
        "period=2026Q3&unit=445203999999",
        "period=2026Q3&unit=445203100201",  # a village
        "period=2099Q1&unit=445203100000",
        "period=2026Q3",
    ],
)
def test_the_page_and_the_docx_answer_404_for_what_does_not_exist(ledger, query):
    app, _ = ledger
    client = signed_in(app)
    assert client.get(f"/admin/reports/town?{query}").status_code == 404
    assert client.get(f"/admin/reports/town.docx?{query}").status_code == 404
    assert client.get(f"/admin/reports/town.pdf?{query}").status_code == 404


@pytest.mark.parametrize("query", ["period=2026Q3&unit=%00", "period=%00&unit=445203100000"])
def test_a_nul_in_the_query_is_refused_with_the_app_wide_400(ledger, query):
    """NUL is refused before any page reads it (docs/rules.md#security), reports included."""
    app, _ = ledger
    client = signed_in(app)
    for door in ("town", "town.docx", "town.pdf", "notice.pdf"):
        response = client.get(f"/admin/reports/{door}?{query}")
        assert response.status_code == 400
        assert "空字符" in response.get_data(as_text=True)


def test_the_docx_carries_the_same_figures_under_a_chinese_name(ledger):
    import io

    from docx import Document

    app, _ = ledger
    response = signed_in(app, "auditor").get(
        f"/admin/reports/town.docx?period=2026Q3&unit={YUNLU}"
    )
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    # 2026年第三季度云路镇考核报告-2026Q3_未审定.docx, RFC 5987 encoded, ASCII fallback
    assert "filename*=UTF-8''2026%E5%B9%B4" in disposition
    assert "filename=report-2026Q3-445203100000.docx" in disposition
    document = Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "2026年第三季度云路镇“担当作为”考核情况报告" in text
    assert "总分 79.00 分" in text and "排名第 2 名" in text and "“一般”" in text
    assert "总分变化 +1.50 分" in text
    cells = [[c.text for c in row.cells] for t in document.tables for row in t.rows]
    assert ["镇域经济发展", "E01 地区生产总值增速（短板）", "5.2", "16.00", "20.00", "80.0%",
            "15.33", "2/3"] in cells  # average (20 + 16 + 10) / 3  # fmt: skip
    assert ["E01 地区生产总值增速", "5.2", "仅靠该指标不足以提升", "5.53（+0.33）"] in cells
    assert ["总分变化", "+1.50"] in cells
    assert len(document.inline_shapes) == 1  # the chart of each indicator's share
    # Chinese text is in the CJK font in Word too (not the theme's 宋体).
    assert 'w:eastAsia="WenQuanYi Micro Hei"' in document.element.xml


# -- the 通报 -----------------------------------------------------------------------------


def approve_q3(app) -> str:
    """Approve 2026Q3 (villages filled first); return its town snapshot's SHA-256."""
    from evaluation.periods import operations as periods
    from models import RankingSnapshot, Setting
    from tests.ledger_world import fill_villages

    with app.app_context():
        world = build_world_again()
        period = world.period()
        fill_villages(world, period)
        periods.submit(world.user("assessor"), period)
        periods.approve(world.user("supervisor"), period)
        db.session.add(Setting(key="issuing_body", value="中共测试区委组织部"))
        db.session.commit()
        digest = db.session.scalar(
            db.select(RankingSnapshot.sha256).where(RankingSnapshot.level == "town")
        )
        db.session.remove()
    return digest


def build_world_again():
    """The ledger's World for a fixture that already built it (ids read back)."""
    from models import Period, Scheme
    from tests.ledger_world import World

    def scheme_id(code):
        return db.session.scalar(db.select(Scheme.id).where(Scheme.code == code))

    def period_id(code):
        return db.session.scalar(db.select(Period.id).where(Period.code == code))

    return World(scheme_id("T26"), scheme_id("V26"), period_id("2026Q2"), period_id("2026Q3"))


def test_the_notice_of_an_approved_period(ledger):
    import io

    from docx import Document

    app, _ = ledger
    digest = approve_q3(app)
    client = signed_in(app, "auditor")
    index = client.get("/admin/reports/?period=2026Q3").get_data(as_text=True)
    assert 'href="/admin/reports/notice.docx?period=2026Q3"' in index
    response = client.get("/admin/reports/notice.docx?period=2026Q3")
    assert response.status_code == 200
    assert "filename=notice-2026Q3.docx" in response.headers["Content-Disposition"]
    document = Document(io.BytesIO(response.data))
    text = [p.text for p in document.paragraphs]
    assert text[0] == "中共测试区委组织部"
    assert text[1] == "关于2026年第三季度镇街“担当作为”考核结果的通报"
    assert "共 3 个镇街：“好”1 个，“较好”0 个，“一般”2 个，“较差”0 个。" in text
    rows = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert rows == [
        ["名次", "镇街", "镇域经济发展", "城乡融合", "加分", "减分", "总分", "等次"],
        ["1", "曲溪街道", "40.00", "60.00", "0.00", "0.00", "100.00", "好"],
        ["2", "云路镇", "28.00", "51.00", "0.00", "0.00", "79.00", "一般"],
        ["3", "玉滘镇", "26.00", "41.00", "0.00", "0.00", "67.00", "一般"],
    ]
    # the same figures as the API's ranking
    api = get(ledger, "/api/v1/periods/2026Q3/ranking").json["results"]
    assert [[r["name"], r["total"], r["grade"]] for r in api] == [
        [row[1], row[6], row[7]] for row in rows[1:]
    ]
    assert document.sections[0].footer.paragraphs[0].text.endswith(digest)
    assert len(digest) == 64
    assert len(document.inline_shapes) == 1  # the chart


def test_no_notice_before_approval(ledger):
    app, _ = ledger
    client = signed_in(app)
    response = client.get("/admin/reports/notice.docx?period=2026Q3")
    assert response.status_code == 403
    assert "尚未审定，不能出具通报" in response.get_data(as_text=True)
    assert client.get("/admin/reports/notice.docx?period=2099Q1").status_code == 404
    reviewer = signed_in(app, "reviewer")
    assert reviewer.get("/admin/reports/notice.docx?period=2026Q3").status_code == 403


def test_an_approved_report_says_whether_it_agrees_with_the_snapshot(ledger):
    from evaluation.history import records
    from models import Unit

    app, _ = ledger
    approve_q3(app)
    path = f"/api/v1/periods/2026Q3/units/{YUNLU}/report"
    assert get(ledger, path).json["snapshot_agrees"] is True
    with app.app_context():
        qu_xi = db.session.scalar(db.select(Unit).where(Unit.code == "445203001000"))
        records.update(SETUP, qu_xi, {"active": False})  # retired after the approval
        db.session.remove()
    report = get(ledger, path).json
    assert (report["rank"], report["snapshot_agrees"]) == (1, False)
    html = signed_in(app).get(f"/admin/reports/town?period=2026Q3&unit={YUNLU}")
    assert 'id="report-snapshot-differs"' in html.get_data(as_text=True)


def test_a_live_period_has_no_snapshot_to_agree_with(ledger):
    assert get(ledger, f"/api/v1/periods/2026Q3/units/{YUNLU}/report").json[
        "snapshot_agrees"
    ] is None


def pdf_fonts(reader) -> set[str]:
    """The base fonts of every page whose glyphs are embedded in the PDF (a font named
    but not embedded would leave the reader to substitute one, or show boxes)."""
    found = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                descriptor = descriptor.get_object() if descriptor is not None else {}
                embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                found.add((str(font.get("/BaseFont", font.get("/Subtype"))), embedded))
    return found


def test_the_notice_as_pdf(ledger):
    import io

    from pypdf import PdfReader

    app, _ = ledger
    digest = approve_q3(app)
    client = signed_in(app, "assessor")
    index = client.get("/admin/reports/?period=2026Q3").get_data(as_text=True)
    assert 'href="/admin/reports/notice.pdf?period=2026Q3"' in index
    ranking = client.get("/admin/ranking/?period=2026Q3").get_data(as_text=True)
    assert 'href="/admin/reports/notice.pdf?period=2026Q3"' in ranking
    assert 'href="/admin/reports/notice.docx?period=2026Q3"' in ranking
    response = client.get("/admin/reports/notice.pdf?period=2026Q3")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "filename=notice-2026Q3.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    for page in reader.pages:  # A4
        box = page.mediabox
        assert (round(box.width * 25.4 / 72), round(box.height * 25.4 / 72)) == (210, 297)
    text = "\n".join(page.extract_text() for page in reader.pages)
    lines = [line.strip() for line in text.splitlines()]
    assert "中共测试区委组织部" in lines
    assert "关于2026年第三季度镇街“担当作为”考核结果的通报" in lines
    assert "1 曲溪街道 40.00 60.00 0.00 0.00 100.00 好" in lines
    assert "2 云路镇 28.00 51.00 0.00 0.00 79.00 一般" in lines
    assert "3 玉滘镇 26.00 41.00 0.00 0.00 67.00 一般" in lines
    assert "共 3 个镇街：“好”1 个，“较好”0 个，“一般”2 个，“较差”0 个。" in lines
    assert digest in text.replace("\n", "")
    # only WenQuanYi, embedded: no font left for the reader to substitute (tofu)
    assert pdf_fonts(reader) == {("/AAAAAA+WenQuanYiMicroHei", True)}


def test_no_notice_pdf_before_approval_nor_for_a_reviewer(ledger):
    app, _ = ledger
    client = signed_in(app)
    response = client.get("/admin/reports/notice.pdf?period=2026Q3")
    assert response.status_code == 403
    assert "尚未审定，不能出具通报" in response.get_data(as_text=True)
    assert client.get("/admin/reports/notice.pdf?period=2099Q1").status_code == 404
    approve_q3(app)
    reviewer = signed_in(app, "reviewer")
    assert reviewer.get("/admin/reports/notice.pdf?period=2026Q3").status_code == 403


def test_the_town_report_as_pdf(ledger):
    import io

    from pypdf import PdfReader

    app, _ = ledger
    client = signed_in(app, "supervisor")
    page = client.get(f"/admin/reports/town?period=2026Q3&unit={YUNLU}").get_data(as_text=True)
    assert f'href="/admin/reports/town.pdf?period=2026Q3&amp;unit={YUNLU}"' in page
    response = client.get(f"/admin/reports/town.pdf?period=2026Q3&unit={YUNLU}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "2026年第三季度云路镇“担当作为”考核情况报告" in text
    assert "（考核周期尚未审定，数据仅供参考）" in text
    assert "总分 79.00 分（加分 0.00，减分 0.00），在 3 个镇街中排名第 2 名，等次为“一般”。" in text
    assert "总分变化 +1.50 分" in text
    assert pdf_fonts(reader) == {("/AAAAAA+WenQuanYiMicroHei", True)}
    assert client.get("/admin/reports/town.pdf?period=2026Q3&unit=999").status_code == 404
    assert signed_in(app, "reviewer").get(
        f"/admin/reports/town.pdf?period=2026Q3&unit={YUNLU}"
    ).status_code == 403


def finished(app, job: str) -> None:
    """Wait for a batch job's thread (started by the request) to end."""
    thread = app.extensions.get("report_batches", {}).get(job)
    if thread is not None:
        thread.join(120)
        assert not thread.is_alive()


def test_a_batch_of_every_towns_report_as_a_zip_with_its_progress(ledger, tmp_path):
    import io
    import zipfile

    from docx import Document

    app, _ = ledger
    app.config["REPORT_BATCH_DIR"] = str(tmp_path / "batches")
    client = signed_in(app, "auditor")
    index = client.get("/admin/reports/?period=2026Q3").get_data(as_text=True)
    assert "批量生成全部 3 个镇街的报告（ZIP）" in index
    response = client.post("/admin/reports/batch", data={"period": "2026Q3"})
    assert response.status_code == 303
    page_url = response.headers["Location"]
    job = page_url.rsplit("/", 1)[1]
    finished(app, job)
    status = client.get(f"/admin/reports/batch/{job}.json").json
    assert status == {
        "state": "done", "done": 3, "total": 3, "percent": 100, "current": None, "error": None,
        "period": "2026Q3", "download": f"/admin/reports/batch/{job}/reports.zip",
    }  # fmt: skip
    page = client.get(page_url).get_data(as_text=True)
    assert 'id="batch-bar"' in page and "已完成：3 个镇街。" in page
    download = client.get(status["download"])
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "filename=reports-" in download.headers["Content-Disposition"]
    content = download.data
    download.close()  # send_file's open file
    archive = zipfile.ZipFile(io.BytesIO(content))
    names = archive.namelist()
    assert names == [
        "0001-2026年第三季度曲溪街道考核报告-2026Q3_未审定.docx",
        "0002-2026年第三季度云路镇考核报告-2026Q3_未审定.docx",
        "0003-2026年第三季度玉滘镇考核报告-2026Q3_未审定.docx",
    ]
    # each the same document as the town's own DOCX (same figures)
    yunlu = Document(io.BytesIO(archive.read(names[1])))
    text = [p.text for p in yunlu.paragraphs]
    assert text[0] == "2026年第三季度云路镇“担当作为”考核情况报告"
    assert any("在 3 个镇街中排名第 2 名，等次为“一般”" in line for line in text)
    # someone else's job is not theirs to see or fetch
    other = signed_in(app, "supervisor")
    assert other.get(f"/admin/reports/batch/{job}.json").status_code == 404
    assert other.get(status["download"]).status_code == 404
    assert other.get(f"/admin/reports/batch/{job}").status_code == 404
    assert client.get("/admin/reports/batch/not-a-job.json").status_code == 404


def test_a_batch_is_refused_without_the_right_or_a_period(ledger, tmp_path):
    app, _ = ledger
    app.config["REPORT_BATCH_DIR"] = str(tmp_path / "batches")
    reviewer = signed_in(app, "reviewer")
    assert reviewer.post("/admin/reports/batch", data={"period": "2026Q3"}).status_code == 403
    client = signed_in(app, "admin")
    assert client.post("/admin/reports/batch", data={"period": "2099Q1"}).status_code == 404
    assert client.post("/admin/reports/batch", data={}).status_code == 404
    assert not (tmp_path / "batches").exists() or not any((tmp_path / "batches").iterdir())


def test_a_failed_batch_says_so_instead_of_polling_forever(ledger, tmp_path, monkeypatch):
    from evaluation.reports import documents

    app, _ = ledger
    app.config["REPORT_BATCH_DIR"] = str(tmp_path / "batches")

    def broken(report):
        raise OSError("disk full")

    monkeypatch.setattr(documents, "town_report_docx", broken)
    client = signed_in(app, "assessor")
    job = client.post("/admin/reports/batch", data={"period": "2026Q3"}).headers["Location"]
    job = job.rsplit("/", 1)[1]
    finished(app, job)
    status = client.get(f"/admin/reports/batch/{job}.json").json
    assert status["state"] == "failed"
    assert status["error"] == "生成报告时出错，请稍后重试或联系管理员"
    assert "download" not in status
    assert client.get(f"/admin/reports/batch/{job}/reports.zip").status_code == 404


def test_the_batch_reads_the_period_once_and_reports_exactly_as_one_by_one(ledger):
    from evaluation.reports import operations
    from models import Period, User

    app, _ = ledger
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "auditor"))
        period = db.session.scalar(db.select(Period).where(Period.code == "2026Q3"))
        batch = list(operations.unit_reports(user, period))
        assert [count for count, _ in batch] == [3, 3, 3]
        assert [r["rank"] for _, r in batch] == [1, 2, 3]
        for _, report in batch:
            assert report == operations.unit_report(user, period, report["unit"])
        db.session.remove()


def test_pressing_again_while_a_batch_runs_shows_the_same_job(ledger, tmp_path):
    import json
    import time

    app, _ = ledger
    app.config["REPORT_BATCH_DIR"] = str(tmp_path)
    client = signed_in(app, "supervisor")
    with app.app_context():
        from models import User

        owner = db.session.scalar(db.select(User.id).where(User.username == "supervisor"))
        other = db.session.scalar(db.select(User.id).where(User.username == "auditor"))
    for job, who, period, updated in (
        ("running-job-of-supervisor", owner, "2026Q3", time.time()),
        ("running-job-of-the-auditor", other, "2026Q3", time.time()),
        ("supervisor-job-of-2026Q2x", owner, "2026Q2", time.time()),
        ("stalled-job-of-supervisor", owner, "2026Q3", time.time() - 3600),
    ):
        (tmp_path / job).mkdir()
        (tmp_path / job / "status.json").write_text(json.dumps(
            {"job": job, "owner": who, "period": period, "state": "running", "done": 1,
             "total": 3, "updated": updated, "started": updated, "error": None}
        ))  # fmt: skip
    response = client.post("/admin/reports/batch", data={"period": "2026Q3"})
    assert response.headers["Location"].endswith("/admin/reports/batch/running-job-of-supervisor")
    (tmp_path / "running-job-of-supervisor" / "status.json").unlink()
    response = client.post("/admin/reports/batch", data={"period": "2026Q3"})
    job = response.headers["Location"].rsplit("/", 1)[1]
    assert job not in {"running-job-of-the-auditor", "stalled-job-of-supervisor"}
    finished(app, job)
    stalled = client.get("/admin/reports/batch/stalled-job-of-supervisor.json").json
    assert stalled["state"] == "stalled" and stalled["error"].startswith("任务已中断")


def test_a_report_follows_a_changed_value_at_once(ledger):
    """The parsed and scored period is kept per process by history keys: a new value is a
    new key, so the next report shows it (docs/reports.md#speed)."""
    from evaluation.scores import operations as scores
    from models import Indicator, Period, Score, Unit

    app, _ = ledger
    path = f"/api/v1/periods/2026Q3/units/{YUNLU}/report"
    assert get(ledger, path).json["total"] == "79.00"
    with app.app_context():
        world = build_world_again()
        period = db.session.scalar(db.select(Period).where(Period.code == "2026Q3"))
        unit = db.session.scalar(db.select(Unit).where(Unit.code == YUNLU))
        indicator = db.session.scalar(db.select(Indicator).where(Indicator.code == "U02"))
        score = db.session.scalar(
            db.select(Score).where(
                Score.period_id == period.id, Score.unit_id == unit.id,
                Score.indicator_id == indicator.id,
            )
        )  # fmt: skip
        scores.set_score(
            world.user("assessor"), period, unit, indicator, "27.5", version=score.version
        )
        db.session.remove()
    report = get(ledger, path).json
    assert (report["total"], report["rank"]) == ("81.00", 2)
    assert next(i for i in report["indicators"] if i["code"] == "U02")["points"] == "27.50"


def test_the_pdf_footer_cannot_end_its_style_sheet(app):
    """The footer sits in CSS (a page-margin box), where HTML escaping does not apply: a
    period code with quotes, a backslash or ``</style>`` stays one CSS string."""
    from evaluation.reports.pdf import css_string

    hostile = 'Q3"; } </style><script>alert(1)</script>\\\n'
    text = str(css_string(hostile))
    assert text == (
        '"Q3\\22 ; } \\3c /style\\3e \\3c script\\3e alert(1)\\3c /script\\3e \\5c \\a "'
    )
    assert "<" not in text and text.count('"') == 2


def test_without_chromium_the_pdf_says_why_and_the_docx_still_works(ledger, tmp_path):
    app, _ = ledger
    approve_q3(app)
    app.config["CHROMIUM_PATH"] = str(tmp_path / "no-chromium")
    client = signed_in(app, "supervisor")
    response = client.get("/admin/reports/notice.pdf?period=2026Q3")
    assert response.status_code == 503
    assert f"未找到 Chromium（{tmp_path / 'no-chromium'}），无法生成 PDF" in response.get_data(
        as_text=True
    )
    assert client.get(f"/admin/reports/town.pdf?period=2026Q3&unit={YUNLU}").status_code == 503
    assert client.get("/admin/reports/notice.docx?period=2026Q3").status_code == 200


def test_a_hung_print_is_stopped_at_its_time_limit(ledger, tmp_path):
    import time

    app, _ = ledger
    hung = tmp_path / "hung-chromium"
    hung.write_text("#!/bin/sh\nsleep 60 &\nsleep 60\n")
    hung.chmod(0o755)
    app.config.update(CHROMIUM_PATH=str(hung), PDF_TIMEOUT=1)
    client = signed_in(app, "supervisor")
    started = time.monotonic()
    response = client.get(f"/admin/reports/town.pdf?period=2026Q3&unit={YUNLU}")
    assert response.status_code == 503
    assert time.monotonic() - started < 20  # not the 60 s the script would take

"""Records an auditor can read (docs/rules.md#history-chain): filters by name and label, exports
with Chinese headers, Beijing time and names beside codes, filtered exports marked, an exported
JSONL checked against the chain, codes shown by their Chinese labels."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from evaluation.history import chain as history
from evaluation.history import exports
from evaluation.scores import operations as ledger
from models import HistoryEvent, Score, db
from tests.conftest import PASSWORD
from tests.ledger_world import build_world, fill_towns, open_period

YUNLU = "445203100000"  # 云路镇
E01 = "E01"  # 地区生产总值增速


@pytest.fixture
def world(app):
    """The small ledger, 2026Q3 open, every town value entered by the assessor, one cleared."""
    with app.app_context():
        w = build_world()
        period = open_period(w)
        fill_towns(w, period)
        score = db.session.scalar(
            select(Score).where(
                Score.unit_id == w.unit(YUNLU).id, Score.indicator_id == w.indicator(E01).id
            )
        )
        ledger.clear_score(w.user("assessor"), score, version=score.version, reason="录错了")
        db.session.remove()
    return app


def keys(flt: exports.HistoryFilter) -> list[tuple[str, str]]:
    return [(row.action, row.entity_key) for row in exports.iter_rows(flt)]


# --- filters ----------------------------------------------------------------------------


def test_filter_by_unit_name_finds_its_events(world):
    with world.app_context():
        by_name = keys(exports.HistoryFilter(unit="云路镇"))
        by_code = keys(exports.HistoryFilter(unit=YUNLU))
    assert by_name == by_code
    assert ("unit.create", YUNLU) in by_name
    assert ("score.clear", f"{YUNLU}/E01") in by_name
    assert {key for _, key in by_name} >= {YUNLU, f"{YUNLU}/E02", f"{YUNLU}/U01", f"{YUNLU}/U02"}
    assert all(key.startswith(YUNLU) for _, key in by_name)


def test_filter_by_indicator_name_and_by_display_name(world):
    with world.app_context():
        indicator = keys(exports.HistoryFilter(indicator="地区生产总值增速"))
        person = keys(exports.HistoryFilter(actor="测试考核组成员"))
        login = keys(exports.HistoryFilter(actor="assessor"))
    assert indicator and all(key.endswith("/E01") for _, key in indicator)
    # 12 values entered by the assessor, one of them cleared.
    assert person == login and len(person) == 13
    assert {action for action, _ in person} == {"score.set", "score.clear"}


def test_filter_by_action_label_and_entering_includes_clears(world):
    with world.app_context():
        entered = keys(exports.HistoryFilter(action="录入分数"))
        cleared = keys(exports.HistoryFilter(action="清除分数"))
        opened = keys(exports.HistoryFilter(action="开启填报"))
        by_code = keys(exports.HistoryFilter(action="score.set"))
    assert [a for a, _ in entered].count("score.set") == 12
    assert ("score.clear", f"{YUNLU}/E01") in entered
    assert cleared == [("score.clear", f"{YUNLU}/E01")]
    assert opened == [("period.open", "2026Q3")]
    assert len(by_code) == 12 and ("score.clear", f"{YUNLU}/E01") not in by_code


def test_history_page_filters_by_names_for_the_auditor(world, client, auth):
    auth.login("auditor", PASSWORD)
    page = client.get("/admin/history/", query_string={"unit": "云路镇", "action": "录入分数"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count(f"{YUNLU}/") == 5  # four entries and the clear
    assert "清除分数" in text and "录入分数" in text
    assert "445203001000/" not in text


# --- what the page shows ----------------------------------------------------------------


def test_history_page_shows_names_and_labels_instead_of_codes(world, client, auth):
    auth.login("auditor", PASSWORD)
    text = client.get("/admin/history/", query_string={"unit": YUNLU}).get_data(as_text=True)
    assert "测试考核组成员" in text  # the assessor's display name beside the login
    assert "云路镇" in text and "地区生产总值增速" in text  # names beside the key
    assert "<code>score.set</code>" not in text
    row = text.split(f"{YUNLU}/E01")[0].rsplit("<tr>", 1)[1]
    assert "分数" in row and "云路镇" in row


def test_review_case_shows_its_label(world, client, auth):
    with world.app_context():
        with_case = exports.HistoryFilter()
        from evaluation.core.writing import SystemActor, writing

        actor = SystemActor("test-setup")
        with writing(actor):
            history.append(
                actor, "review_case.open", "review_case", "2026Q3/445203100201",
                period="2026Q3", after={"reasons": ["LOW_SCORE", "DROP"], "priority": "high"},
            )  # fmt: skip
            history.append(
                actor, "review.close", "review_case", "2026Q3/445203100201", period="2026Q3",
                before={"status": "open"}, after={"status": "closed"}, reason="整改到位",
            )  # fmt: skip
        assert keys(with_case)
    auth.login("auditor", PASSWORD)
    text = client.get("/admin/history/", query_string={"unit": "新桃村"}).get_data(as_text=True)
    assert "研判任务" in text and "办结研判任务" in text
    assert "研判中 → 已办结" in text
    assert "生成研判任务" in text and "得分偏低、得分大幅下降" in text
    assert re.search(r"优先级：</span>\s*高\s*</div>", text)
    assert ">review_case " not in text and "open → closed" not in text
    assert "LOW_SCORE" not in text and ">high<" not in text.replace(" ", "")


def test_dashboard_events_show_labels_and_display_names(world, client, auth):
    auth.login("auditor", PASSWORD)
    text = client.get("/admin/").get_data(as_text=True)
    panel = text.split('id="panel-events"')[1].split("</section>")[0]
    assert "清除分数" in panel and "测试考核组成员" in panel and "云路镇" in panel
    assert "<code>score.clear</code>" not in panel and ">assessor<" not in panel


# --- exports ------------------------------------------------------------------------------


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_export_has_names_beside_codes_in_beijing_time(world, client, auth):
    auth.login("auditor", PASSWORD)
    data = client.post("/admin/history/export/csv").get_data()
    rows = _csv_rows(data)
    assert rows[0][:4] == ["序号", "时间（北京时间）", "操作人账号", "操作人"]
    clear = next(row for row in rows if row[4] == "score.clear")
    assert clear[2:12] == [
        "assessor", "测试考核组成员", "score.clear", "清除分数", "score", "分数",
        f"{YUNLU}/E01", "云路镇", "地区生产总值增速", "2026Q3",
    ]  # fmt: skip
    with world.app_context():
        at = db.session.scalar(select(HistoryEvent.at).where(HistoryEvent.action == "score.clear"))
    hour = (int(at[11:13]) + 8) % 24
    assert clear[1][11:13] == f"{hour:02d}" and clear[1][13:] == at[13:19]
    # A whole export starts with the header: no warning line.
    assert not data.decode("utf-8-sig").startswith("注意")


def test_export_is_chinese_for_a_user_reading_english(world, client, auth):
    auth.login("auditor", PASSWORD)
    client.get("/lang/en")
    rows = _csv_rows(client.post("/admin/history/export/csv").get_data())
    clear = next(row for row in rows if row[4] == "score.clear")
    assert clear[5] == "清除分数" and clear[7] == "分数"


def test_page_export_in_utc_on_request(world, client, auth):
    auth.login("auditor", PASSWORD)
    page = client.get("/admin/history/").get_data(as_text=True)
    assert 'name="utc" value="1"' in page
    rows = _csv_rows(client.post("/admin/history/export/csv", data={"utc": "1"}).get_data())
    assert rows[0][1] == "时间（UTC）"
    with world.app_context():
        first = db.session.scalar(select(HistoryEvent.at).where(HistoryEvent.seq == 1))
    assert rows[1][1] == first[:10] + " " + first[11:19]


def test_cli_export_in_utc_on_request(world, runner, tmp_path):
    target = tmp_path / "h.csv"
    result = runner.invoke(args=["export-history", "--format", "csv", "--output", str(target),
                                 "--utc"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = _csv_rows(target.read_bytes())
    assert rows[0][1] == "时间（UTC）"
    with world.app_context():
        first = db.session.scalar(select(HistoryEvent.at).where(HistoryEvent.seq == 1))
    assert rows[1][1] == first[:10] + " " + first[11:19]


def test_xlsx_export_has_widths_a_frozen_header_and_names(world, client, auth, tmp_path):
    auth.login("auditor", PASSWORD)
    path = tmp_path / "h.xlsx"
    path.write_bytes(client.post("/admin/history/export/xlsx").get_data())
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["变更历史"]  # a whole export: no note sheet
    sheet = workbook["变更历史"]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 19  # the time fits
    assert sheet.column_dimensions["J"].width >= 12  # 单位名称
    assert sheet["A1"].font.b
    header = [cell.value for cell in sheet[1]]
    assert header[9:11] == ["单位名称", "指标名称"]
    names = {row[9] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert {"云路镇", "曲溪街道", "玉滘镇"} <= names


def test_filtered_exports_say_they_are_not_a_chain(world, client, auth, tmp_path):
    auth.login("auditor", PASSWORD)
    page = client.get("/admin/history/", query_string={"unit": "云路镇"}).get_data(as_text=True)
    assert "不是完整的哈希链" in page
    assert "不是完整的哈希链" not in client.get("/admin/history/").get_data(as_text=True)

    csv_data = client.post("/admin/history/export/csv", data={"unit": "云路镇"}).get_data()
    first = _csv_rows(csv_data)[0][0]
    assert first.startswith("注意：这是按条件筛选的导出（单位=云路镇）")
    assert "不是完整的哈希链" in first

    response = client.post("/admin/history/export/xlsx", data={"unit": "云路镇"})
    assert "filtered" in response.headers["Content-Disposition"]
    path = tmp_path / "f.xlsx"
    path.write_bytes(response.get_data())
    workbook = load_workbook(path, read_only=True)
    assert workbook.sheetnames[0] == "说明"
    note = next(workbook["说明"].iter_rows(values_only=True))[0]
    assert "不是完整的哈希链" in note
    workbook.close()


def test_jsonl_keeps_the_twelve_canonical_fields(world, client, auth):
    auth.login("auditor", PASSWORD)
    lines = client.post("/admin/history/export/jsonl").get_data(as_text=True).splitlines()
    fields = ["seq", "at", "actor", "action", "entity", "entity_key", "period", "before",
              "after", "reason", "prev_hash", "hash"]  # fmt: skip
    events = [json.loads(line) for line in lines]
    assert all(list(event) == fields for event in events)
    assert all(event["at"].endswith("Z") for event in events)  # UTC, as hashed


def test_export_refused_to_other_roles(world, client, auth):
    for role in ("reviewer", "assessor", "supervisor"):
        auth.login(role, PASSWORD)
        assert client.post("/admin/history/export/csv").status_code == 403
        auth.logout()


# --- checking an exported file ---------------------------------------------------------------


def _jsonl(client) -> bytes:
    return client.post("/admin/history/export/jsonl").get_data()


def _check(client, data: bytes, name: str = "history.jsonl"):
    """Upload ``data`` as the form's file (the body built here, held in memory)."""
    boundary = "----h22boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post(
        "/admin/history/check-file",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_an_untouched_export_matches_the_chain(world, client, auth, role):
    auth.login(role, PASSWORD)
    data = _jsonl(client)
    count = len(data.splitlines())
    response = _check(client, data)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"第 1–{count} 号共 {count} 条事件逐条相符" in text
    assert 'id="check-file-result"' in text and "alert-success" in text


def test_a_changed_event_is_named(world, client, auth):
    auth.login("auditor", PASSWORD)
    lines = _jsonl(client).splitlines()
    event = json.loads(lines[6])
    event["reason"] = "改过"
    lines[6] = json.dumps(event, ensure_ascii=False).encode("utf-8")
    text = _check(client, b"\n".join(lines)).get_data(as_text=True)
    assert "第一处不同：第 7 号事件" in text and "文件被改动过" in text


def test_a_rehashed_forgery_still_differs_from_the_database(world, client, auth):
    """A file whose chain was recomputed after a change agrees with itself, not with the store."""
    auth.login("auditor", PASSWORD)
    events = [json.loads(line) for line in _jsonl(client).splitlines()]
    events[4]["reason"] = "伪造"
    prev = events[3]["hash"]
    for event in events[4:]:
        event["prev_hash"] = prev
        event["hash"] = prev = history.chain_hash(prev, event)
    data = "\n".join(json.dumps(e, ensure_ascii=False) for e in events).encode("utf-8")
    text = _check(client, data).get_data(as_text=True)
    assert "第一处不同：第 5 号事件" in text and "数据库中的记录不同" in text


def test_a_filtered_export_is_not_a_chain(world, client, auth):
    auth.login("auditor", PASSWORD)
    data = client.post("/admin/history/export/jsonl", data={"unit": "玉滘镇"}).get_data()
    text = _check(client, data).get_data(as_text=True)
    assert "不是完整的哈希链" in text and "alert-danger" in text


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b'{"seq": 1}\n{not json\n', "第 1 行缺少字段"),
        (None, "第 3 行不是有效的 JSON"),
        (b"[1, 2]\n", "第 1 行不是一个事件"),
        (b"\xff\xfe\n", "第 1 行不是 UTF-8 文本"),
    ],
)
def test_bad_lines_are_refused_with_their_number(world, client, auth, content, said):
    auth.login("auditor", PASSWORD)
    if content is None:
        content = b"\n".join(_jsonl(client).splitlines()[:2] + [b"{oops"])
    response = _check(client, content)
    assert response.status_code == 422
    assert said in response.get_data(as_text=True)


def test_an_empty_or_missing_file_is_refused(world, client, auth):
    auth.login("auditor", PASSWORD)
    assert "文件中没有事件" in _check(client, b"").get_data(as_text=True)
    response = client.post("/admin/history/check-file", data={})
    assert response.status_code == 422 and "请选择要校验的 JSONL 文件" in response.get_data(
        as_text=True
    )


def test_an_oversized_file_is_refused_without_reading_it(world, client, auth, monkeypatch):
    monkeypatch.setattr(history, "CHECK_MAX_BYTES", 1024 * 1024)
    auth.login("auditor", PASSWORD)
    response = _check(client, b"{}\n" * (600 * 1024))
    assert response.status_code == 413
    assert "文件过大（上限 1 MB）" in response.get_data(as_text=True)
    # Under the request's limit but over the file's: refused while reading, not after.
    response = _check(client, b"\n" * (1024 * 1024 + 1000))
    assert response.status_code == 422
    assert "文件过大（上限 1 MB）" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["reviewer", "assessor", "supervisor"])
def test_checking_a_file_is_refused_to_other_roles(world, client, auth, role):
    auth.login(role, PASSWORD)
    assert _check(client, b"{}\n").status_code == 403

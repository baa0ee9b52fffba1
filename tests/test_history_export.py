"""History exports (CSV / XLSX / JSONL) and the auditor's history page (docs/rules.md#history-chain,
docs/architecture.md#pages-and-doors)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from evaluation.core.downloads import content_disposition
from evaluation.core.spreadsheets import FORMULA_STARTS, neutralize
from evaluation.core.writing import Forbidden, SystemActor, writing
from evaluation.history import chain as history
from evaluation.history import exports
from models import HistoryEvent, db
from tests.conftest import PASSWORD, user

ADMIN = SystemActor("export-admin")
TWELVE = [
    "seq",
    "at",
    "actor",
    "action",
    "entity",
    "entity_key",
    "period",
    "before",
    "after",
    "reason",
    "prev_hash",
    "hash",
]
#: The CSV/XLSX columns, written out: Chinese headers, names and labels beside the codes.
HEADERS = [
    "序号",
    "时间（北京时间）",
    "操作人账号",
    "操作人",
    "操作代码",
    "操作",
    "对象类型代码",
    "对象类型",
    "对象代码",
    "单位名称",
    "指标名称",
    "考核周期",
    "原值",
    "新值",
    "原因",
    "前一哈希",
    "哈希",
]
REASON, KEY, BEFORE, AFTER = 14, 8, 12, 13
NASTY = ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"]


def add_events() -> None:
    """Score-like events in two periods, with formula-like text and known times."""
    with writing(ADMIN):
        history.append(
            ADMIN,
            "score.set",
            "score",
            "445203100000/A01",
            period="2026Q3",
            before={"number": "1.50"},
            after={"number": "2.25", "note": '=HYPERLINK("http://x")'},
            reason="+修正",
            at=datetime(2026, 9, 30, 15, 59, tzinfo=UTC),  # 2026-09-30 23:59 in Shanghai
        )
        history.append(
            ADMIN,
            "score.set",
            "score",
            "445203100000/B02",
            period="2026Q3",
            after={"grade": "优"},
            at=datetime(2026, 9, 30, 16, 1, tzinfo=UTC),  # 2026-10-01 00:01 in Shanghai
        )
        history.append(
            SystemActor("other"),
            "score.set",
            "score",
            "445203101000/A01",
            period="2026Q4",
            after={"number": "3"},
            reason="@note",
        )
        for n, text in enumerate(NASTY):
            history.append(ADMIN, "unit.update", "unit", f"44520320{n:04d}", reason=text)


def chain_ok(events: list[dict]) -> bool:
    """Re-verify a chain from scratch, without the application's hashing code."""
    prev = "0" * 64
    for expected, event in enumerate(events, start=1):
        if event["seq"] != expected or event["prev_hash"] != prev:
            return False
        hashed = {k: event[k] for k in TWELVE[:10]}
        text = json.dumps(hashed, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        if hashlib.sha256((prev + text).encode("utf-8")).hexdigest() != event["hash"]:
            return False
        prev = event["hash"]
    return True


def collect(export: exports.Export) -> bytes:
    return b"".join(export.chunks)


# --- the formats --------------------------------------------------------------------


def test_csv_has_bom_header_and_neutralized_formulas(ctx):
    add_events()
    data = collect(exports.export_history(ADMIN, "csv", exports.HistoryFilter()))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == HEADERS
    reasons = [row[REASON] for row in rows[1:]]
    for text in NASTY + ["+修正", "@note"]:
        assert "'" + text in reasons
    assert all(not cell.startswith(FORMULA_STARTS) for row in rows for cell in row)
    score = next(row for row in rows[1:] if row[KEY] == "445203100000/A01")
    # before/after as compact JSON text, decimals as strings.
    assert score[BEFORE] == '{"number":"1.50"}'
    assert json.loads(score[AFTER]) == {"note": '=HYPERLINK("http://x")', "number": "2.25"}
    # Beijing time: 15:59 UTC is 23:59 in Beijing; the action and entity in Chinese too.
    assert score[1:9] == [
        "2026-09-30 23:59:00", "export-admin", "", "score.set", "录入分数", "score", "分数",
        "445203100000/A01",
    ]  # fmt: skip
    assert [int(row[0]) for row in rows[1:]] == list(range(1, len(rows)))


def test_xlsx_keeps_numbers_and_neutralizes_text(ctx, tmp_path):
    add_events()
    path = tmp_path / "history.xlsx"
    path.write_bytes(collect(exports.export_history(ADMIN, "xlsx", exports.HistoryFilter())))
    workbook = load_workbook(path, read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    workbook.close()
    assert list(rows[0]) == HEADERS
    seqs = [row[0] for row in rows[1:]]
    assert all(isinstance(seq, int) for seq in seqs)
    assert seqs == list(range(1, len(rows)))
    reasons = [row[REASON] for row in rows[1:]]
    for text in NASTY[:4] + ["+修正", "@note"]:
        assert "'" + text in reasons
    for row in rows[1:]:
        for cell in row[1:]:
            assert cell is None or not str(cell).startswith(("=", "+", "-", "@"))


def test_xlsx_keeps_markup_and_line_breaks_and_drops_illegal_characters(ctx, tmp_path):
    with writing(ADMIN):
        history.append(ADMIN, "unit.update", "unit", "X", reason="<b>&amp;</b>\r\n\x01 end ")
    path = tmp_path / "history.xlsx"
    path.write_bytes(collect(exports.export_history(ADMIN, "xlsx", exports.HistoryFilter())))
    workbook = load_workbook(path, read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    workbook.close()
    assert rows[-2][REASON] == "<b>&amp;</b>\r\n\ufffd end "


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(ctx, tmp_path):
    add_events()
    path = tmp_path / "history.xlsx"
    readable = exports.Readable(exports.Names.load())
    rows = exports.iter_rows(exports.HistoryFilter())
    count = exports.write_xlsx(rows, str(path), readable, sheet_rows=4)
    workbook = load_workbook(path, read_only=True)
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets]
    names = workbook.sheetnames
    workbook.close()
    assert names[:2] == ["变更历史", "变更历史（2）"]
    assert all(rows[0] == tuple(HEADERS) and 1 < len(rows) <= 4 for rows in sheets)
    seqs = [row[0] for rows in sheets for row in rows[1:]]
    assert seqs == list(range(1, count + 1))


def test_xlsx_formula_is_stored_as_text(ctx, tmp_path):
    add_events()
    path = tmp_path / "history.xlsx"
    path.write_bytes(collect(exports.export_history(ADMIN, "xlsx", exports.HistoryFilter())))
    sheet = load_workbook(path).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_jsonl_reverifies_without_the_app(ctx):
    add_events()
    data = collect(exports.export_history(ADMIN, "jsonl", exports.HistoryFilter()))
    lines = data.decode("utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    assert all(list(event) == TWELVE for event in events)
    assert chain_ok(events)
    score = next(e for e in events if e["entity_key"] == "445203100000/A01")
    assert score["before"] == {"number": "1.50"}  # an object, not a string
    assert score["reason"] == "+修正"  # JSONL is verbatim: no spreadsheet neutralizing
    # The export's own event closes the file: one consistent cut of the chain.
    assert events[-1]["action"] == "history.export"

    events[2]["reason"] = "tampered"
    assert not chain_ok(events)


def test_export_is_logged_with_its_filters(ctx):
    add_events()
    flt = exports.HistoryFilter(period="2026Q3", actor="export-admin")
    export = exports.export_history(ADMIN, "csv", flt)
    logged = db.session.scalar(select(HistoryEvent).where(HistoryEvent.seq == export.up_to))
    assert (logged.action, logged.actor, logged.entity_key) == (
        "history.export",
        ADMIN.username,
        "csv",
    )
    assert json.loads(logged.after) == {
        "filters": {"actor": "export-admin", "period": "2026Q3"},
        "format": "csv",
    }
    collect(export)
    assert history.verify().ok


def test_export_refused_without_permission(ctx):
    add_events()
    count = db.session.scalar(select(db.func.count()).select_from(HistoryEvent))
    with pytest.raises(Forbidden):
        exports.export_history(user("assessor"), "jsonl", exports.HistoryFilter())
    assert db.session.scalar(select(db.func.count()).select_from(HistoryEvent)) == count


# --- filters ------------------------------------------------------------------------


def keys(flt: exports.HistoryFilter) -> list[str]:
    return [row.entity_key for row in exports.iter_rows(flt)]


def test_filters(ctx):
    add_events()
    assert keys(exports.HistoryFilter(period="2026Q3")) == ["445203100000/A01", "445203100000/B02"]
    assert keys(exports.HistoryFilter(unit="445203100000")) == [
        "445203100000/A01",
        "445203100000/B02",
    ]
    assert keys(exports.HistoryFilter(indicator="A01")) == ["445203100000/A01", "445203101000/A01"]
    assert keys(exports.HistoryFilter(actor="other")) == ["445203101000/A01"]
    assert len(keys(exports.HistoryFilter(action="unit.update"))) == len(NASTY)
    # Dates are Shanghai calendar days: 15:59 UTC on 30 Sep is still 30 Sep there.
    day = exports.HistoryFilter.from_args({"date_from": "2026-09-30", "date_to": "2026-09-30"})
    assert keys(day) == ["445203100000/A01"]
    next_day = exports.HistoryFilter.from_args({"date_from": "2026-10-01", "period": "2026Q3"})
    assert keys(next_day) == ["445203100000/B02"]
    # LIKE wildcards in a filter are taken literally.
    assert keys(exports.HistoryFilter(unit="4452031%")) == []


def test_small_batches_stream_everything(ctx):
    add_events()
    all_rows = list(exports.iter_rows(exports.HistoryFilter(), batch=2))
    assert [row.seq for row in all_rows] == list(range(1, len(all_rows) + 1))


# --- CLI ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_export_history_command(app, runner, tmp_path, fmt):
    with app.app_context():
        add_events()
    output = tmp_path / f"history.{fmt}"
    result = runner.invoke(args=["export-history", "--format", fmt, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "已导出" in result.output
    assert output.stat().st_size > 0
    if fmt == "jsonl":
        events = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
        assert chain_ok(events)
        assert events[-1]["action"] == "history.export" and events[-1]["actor"] == "cli"


def test_export_history_command_by_period(app, runner, tmp_path):
    with app.app_context():
        add_events()
    output = tmp_path / "q3.jsonl"
    result = runner.invoke(
        args=["export-history", "--period", "2026Q3", "--format", "jsonl", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
    assert {e["period"] for e in events} == {"2026Q3"}


def test_export_history_command_rejects_unknown_format(runner, tmp_path):
    result = runner.invoke(
        args=["export-history", "--format", "pdf", "--output", str(tmp_path / "x")]
    )
    assert result.exit_code != 0


# --- the page -----------------------------------------------------------------------


def test_history_page_for_auditor_only(app, client, auth):
    auth.login("assessor", PASSWORD)
    assert client.get("/admin/history/").status_code == 403
    auth.logout()
    auth.login("auditor", PASSWORD)
    page = client.get("/admin/history/")
    assert page.status_code == 200
    assert "变更历史" in page.get_data(as_text=True)


def test_history_page_shows_changes_newest_first(app, client, auth):
    with app.app_context():
        add_events()
    auth.login("auditor", PASSWORD)
    text = client.get("/admin/history/?period=2026Q3").get_data(as_text=True)
    assert "1.50 → 2.25" in text
    assert "+修正" in text
    assert "2026-09-30 23:59:00" in text  # shown in Asia/Shanghai
    assert text.index("445203100000/B02") < text.index("445203100000/A01")


def test_history_page_escapes_user_text(app, client, auth):
    with app.app_context():
        with writing(ADMIN):
            history.append(ADMIN, "unit.update", "unit", "X", reason="<script>alert(1)</script>")
    auth.login("auditor", PASSWORD)
    text = client.get("/admin/history/").get_data(as_text=True)
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)" in text


def test_history_page_keyset_pages(app, client, auth):
    with app.app_context():
        with writing(ADMIN):
            for n in range(exports.PAGE_SIZE + 10):
                history.append(ADMIN, "unit.update", "unit", f"U{n:03d}")
        newest = db.session.scalar(select(db.func.max(HistoryEvent.seq)))
    auth.login("auditor", PASSWORD)
    first = client.get("/admin/history/?action=unit.update").get_data(as_text=True)
    assert "较早" in first and "较新" not in first
    assert "U059" in first and "U009" not in first
    older_seq = newest - exports.PAGE_SIZE + 1
    second = client.get(f"/admin/history/?action=unit.update&before={older_seq}")
    text = second.get_data(as_text=True)
    assert "U009" in text and "U010" not in text and "较新" in text
    assert "较早" not in text
    back = client.get(f"/admin/history/?action=unit.update&after={older_seq - 1}")
    assert "U059" in back.get_data(as_text=True)


def test_verify_button(app, client, auth):
    with app.app_context():
        add_events()
    auth.login("auditor", PASSWORD)
    ok = client.post("/admin/history/verify").get_data(as_text=True)
    assert "哈希链校验通过" in ok
    from tests.test_history_chain import tamper

    with app.app_context():
        tamper(("UPDATE history_event SET reason = 'x' WHERE seq = 7", {}))
    bad = client.post("/admin/history/verify").get_data(as_text=True)
    assert "校验失败：第 7 号事件" in bad


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_download_from_page(app, client, auth, fmt):
    with app.app_context():
        add_events()
    auth.login("auditor", PASSWORD)
    response = client.post(f"/admin/history/export/{fmt}", data={"period": "2026Q3"})
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name.startswith("变更历史-2026Q3-") and name.endswith("." + fmt)
    assert "filename=history-2026Q3-" in disposition  # the ASCII name for old clients
    assert response.headers["Content-Type"].startswith(exports.MIMETYPES[fmt].split(";")[0])
    data = response.get_data()
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf")
    with app.app_context():
        last = db.session.scalar(select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1))
        assert (last.action, last.actor) == ("history.export", "auditor")


def test_download_refused_by_get_and_for_other_roles(app, client, auth):
    auth.login("auditor", PASSWORD)
    assert client.get("/admin/history/export/csv").status_code == 405
    auth.logout()
    auth.login("supervisor", PASSWORD)
    assert client.post("/admin/history/export/csv").status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_export_matching_nothing_is_still_a_valid_file(ctx, tmp_path, fmt):
    flt = exports.HistoryFilter(period="1999Q1")
    data = collect(exports.export_history(ADMIN, fmt, flt))
    if fmt == "csv":
        lines = data.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("注意：这是按条件筛选的导出（考核周期=1999Q1）")
        assert lines[1:] == [",".join(HEADERS)]
    elif fmt == "jsonl":
        assert data == b""
    else:
        path = tmp_path / "empty.xlsx"
        path.write_bytes(data)
        workbook = load_workbook(path, read_only=True)
        assert workbook.sheetnames == ["说明", "变更历史"]
        assert list(workbook["变更历史"].iter_rows(values_only=True)) == [tuple(HEADERS)]
        workbook.close()


def test_changes_read_as_field_old_new():
    from evaluation.history.admin import action_label, field_changes

    changed = {"before": {"note": "", "value": "1.50"}, "after": {"note": "核实", "value": "2.25"}}
    assert field_changes(changed) == [("数值", "1.50", "2.25"), ("备注", "（空白）", "核实")]
    created = {"before": None, "after": {"note": "", "value": "优", "active": True}}
    assert field_changes(created) == [("数值", None, "优"), ("启用", None, "是")]
    deleted = {"before": {"name": "第一研判组"}, "after": None}
    assert field_changes(deleted) == [("名称", "第一研判组", None)]
    assert action_label("score.set") == "录入分数"
    assert action_label("cadre.update") == "修改干部"
    assert action_label("review.close") == "办结研判任务"
    # A state shows its label, not its code.
    closed = {"entity": "review_case", "before": {"status": "open"}, "after": {"status": "closed"}}
    assert field_changes(closed) == [("状态", "研判中", "已办结")]


def test_verify_and_export_need_the_csrf_token(app, client, auth):
    auth.login("auditor", PASSWORD)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/admin/history/verify").status_code == 400
    assert client.post("/admin/history/export/csv").status_code == 400
    page = client.get("/admin/history/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/admin/history/verify", data={"csrf_token": token})
    assert response.status_code == 200 and "哈希链校验通过" in response.get_data(as_text=True)


def test_export_history_command_says_why_it_cannot_write(runner, tmp_path):
    target = tmp_path / "missing-dir" / "history.csv"
    result = runner.invoke(args=["export-history", "--format", "csv", "--output", str(target)])
    assert result.exit_code == 1
    assert "无法写入" in result.output and "Traceback" not in result.output


_text = st.one_of(st.none(), st.text(alphabet=st.characters(codec="utf-8"), max_size=12))


@given(
    actor=_text.filter(lambda t: t is not None),
    key=_text.filter(lambda t: t is not None),
    period=_text,
    reason=_text,
    note=st.text(max_size=12),
)
def test_csv_lines_are_what_the_csv_module_writes(actor, key, period, reason, note):
    """The hand-built CSV line quotes and neutralizes exactly as ``csv.writer`` would."""
    after = json.dumps({"note": note}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    row = (7, "2026-11-27T08:00:00.123456Z", actor, "score.set", "score", key, period,
           None, after, reason, "0" * 64, "f" * 64)  # fmt: skip
    unit = key.partition("/")[0]
    names = exports.Names(
        people={actor: "=" + actor}, units={unit: "@" + unit}, indicators={"x": "-1"}
    )
    readable = exports.Readable(names)
    cells = readable.cells(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    assert exports.csv_line(cells) + "\r\n" == buffer.getvalue()
    assert readable.csv_line(row) + "\r\n" == buffer.getvalue()
    assert cells[1] == "2026-11-27 16:00:00"
    for cell in cells[1:]:
        assert not cell.startswith(FORMULA_STARTS)


def test_one_formula_guard_for_every_export():
    """The history export, the model views and the ranking workbook share one guard."""
    from evaluation.admin import base
    from evaluation.ranking import workbook

    assert base.neutralize is neutralize
    assert workbook.neutralize is neutralize
    readable = exports.Readable(exports.Names(people={}, units={}, indicators={}))
    at = "2026-11-27T08:00:00Z"
    for start in FORMULA_STARTS:
        text = start + "HYPERLINK(1)"
        assert neutralize(text) == "'" + text
        cells = readable.cells((1, at, text, "a", "e", "k", None, None, None, text, "p", "h"))
        assert cells[2] == cells[REASON] == "'" + text
        cells = readable.cells((1, at, "x", "a", "e", text, None, None, None, None, "p", "h"))
        assert "'" + start in exports.csv_line(cells)
    assert neutralize(-5) == -5 and neutralize("5-1") == "5-1"


@pytest.mark.parametrize(
    "name",
    ["变更历史-2026Q3-20261127-1600.csv", "镇街排名 2026Q3.xlsx", "history.jsonl", 'a "b".csv'],
)
def test_download_names_are_written_as_flask_writes_them(app, name):
    """Every download's header is the one ``send_file(download_name=...)`` writes (RFC 6266,
    RFC 5987 for a Chinese name), so a browser saves the file under its Chinese name."""
    from flask import send_file
    from werkzeug.http import parse_options_header

    with app.test_request_context():
        flask_header = send_file(io.BytesIO(b""), as_attachment=True, download_name=name).headers[
            "Content-Disposition"
        ]
    assert content_disposition(name) == flask_header
    disposition, options = parse_options_header(content_disposition(name, "x.csv"))
    assert disposition == "attachment" and options["filename"] == name


def test_survey_and_evidence_events_read_in_chinese():
    """The history page names a 民主测评's and a 佐证材料's fields in Chinese, its rater group
    as 测评人群体 (not 研判组), what it rates by name and its times in Beijing time."""
    from evaluation.history.admin import field_changes

    created = {
        "entity": "survey",
        "before": None,
        "after": {
            "title": "2026年度民主测评",
            "target_kind": "leadership",
            "opens_at": "2026-12-01T19:00:27.460290Z",
            "closes_at": "2026-12-15T20:00:00.000000Z",
            "excellent_cap": 2,
        },
    }
    assert field_changes(created) == [
        ("标题", None, "2026年度民主测评"),
        ("测评对象类型", None, "镇街领导班子"),
        ("每张选票“优秀”上限", None, "2"),
        ("投票开始", None, "2026-12-02 03:00"),
        ("投票截止", None, "2026-12-16 04:00"),
    ]
    codes = {"entity": "survey", "before": None, "after": {"group": "班子成员", "count": 5}}
    assert field_changes(codes) == [("测评人群体", None, "班子成员"), ("数量", None, "5")]
    added = {
        "entity": "evidence",
        "before": None,
        "after": {
            "name": "照片.jpg",
            "media_type": "image/jpeg",
            "size": 10240,
            "target_type": "cadre_record",
            "target_id": 7,
        },
    }
    assert field_changes(added) == [
        ("名称", None, "照片.jpg"),
        ("文件类型", None, "image/jpeg"),
        ("文件大小（字节）", None, "10240"),
        ("佐证对象", None, "干部纪实"),
        ("佐证对象编号", None, "7"),
    ]


def test_a_vote_names_its_actor_as_the_anonymous_rater(app):
    """A 民主测评 vote has no account behind it: the history page says 匿名测评人."""
    from evaluation.history.exports import Names

    names = Names(people={"admin": "系统管理员"}, units={}, indicators={})
    with app.test_request_context():
        assert names.person("anonymous-voter") == "匿名测评人"
        assert names.person("admin") == "系统管理员"
        assert names.person("nobody") == ""

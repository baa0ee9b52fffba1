"""Score import (docs/rules.md#import-file): template, parser, report, all-or-nothing apply,
doors."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, insert, select

from evaluation.core.writing import Forbidden, InvalidInput, StateError, SystemActor
from evaluation.history import chain as history
from evaluation.history import records
from evaluation.i18n import local_time
from evaluation.scores import operations as ledger
from evaluation.scores.importer.apply import import_scores
from evaluation.scores.importer.parse import INFO_SHEET, IndicatorInfo, UnitInfo, parse_table
from evaluation.scores.importer.read import _read_xlsx_with_openpyxl, read_file, read_table
from evaluation.scores.importer.template import rule_comment, template_bytes
from models import HistoryEvent, Score, Unit, db
from tests.conftest import PASSWORD
from tests.ledger_world import (
    FULL_TOWN_VALUES,
    SETUP,
    build_world,
    fill_towns,
    open_period,
    set_ranges,
)

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["考核周期", "单位代码", "单位名称", "指标代码", "指标名称", "数值", "备注"]


# --- helpers ----------------------------------------------------------------------------


def csv_bytes(rows, header=HEADER, *, bom=True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def full_rows(period="2026Q3", values=None):
    """One row per town × indicator with the full town values, names beside codes."""
    values = values or FULL_TOWN_VALUES
    return [
        [period, unit, "名称", indicator, "指标", value, ""]
        for unit, row in values.items()
        for indicator, value in row.items()
    ]


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(HistoryEvent))


def score_rows(period_code="2026Q3") -> dict[tuple[str, str], tuple[str, str]]:
    from models import Indicator, Period

    rows = db.session.execute(
        select(Unit.code, Indicator.code, Score.number, Score.grade, Score.note)
        .join(Unit, Unit.id == Score.unit_id)
        .join(Indicator, Indicator.id == Score.indicator_id)
        .join(Period, Period.id == Score.period_id)
        .where(Period.code == period_code)
    ).all()
    return {
        (u, i): (g if g is not None else format(n.normalize(), "f"), note)
        for u, i, n, g, note in rows
    }


@pytest.fixture
def world(ctx):
    world = build_world()
    open_period(world)
    return world


def assessor(world):
    return world.user("assessor")


def run(
    world,
    data: bytes,
    *,
    filename="scores.csv",
    dry_run=False,
    period="2026Q3",
    actor=None,
    reason=None,
):
    """Import as the assessor; ``reason`` overwrites values a hand-made file changes."""
    overwrite = {} if reason is None else {"overwrite": True, "reason": reason}
    return import_scores(
        actor or assessor(world), period, data, filename=filename, dry_run=dry_run, **overwrite
    )


# --- the happy path ---------------------------------------------------------------------


def test_csv_import_with_chinese_headers_and_bom(world):
    before = event_count()
    report = run(world, csv_bytes(full_rows()))
    assert report.ok and report.applied
    assert (report.new, report.changed, report.unchanged) == (12, 0, 0)
    stored = score_rows()
    assert stored[("445203100000", "U02")] == ("25.5", "")
    assert stored[("445203001000", "U01")] == ("A", "")
    assert event_count() == before + 12
    assert history.verify().ok


def test_english_headers_without_bom_any_order_and_extra_columns(world):
    header = ["Note", "value", "INDICATOR_CODE", "Unit_Code", "period", "unit_name"]
    rows = [["首次", "5.2", "E01", "445203100000", "2026Q3", "云路镇"]]
    report = run(world, csv_bytes(rows, header, bom=False))
    assert report.ok and report.new == 1
    assert score_rows()[("445203100000", "E01")] == ("5.2", "首次")


def test_xlsx_import_with_numbers_typed_as_numbers(world):
    rows = [
        ["2026Q3", 445203100000, "云路镇", "U02", "典型村", 25.5, None],
        ["2026Q3", 445203100000, "云路镇", "E02", "项目", 4, None],
        # 0.1 + 0.2 computed in Excel reads as what the user saw: 0.3
        ["2026Q3", 445203101000, "玉滘镇", "U02", "典型村", 0.1 + 0.2, None],
        ["2026Q3", "445203101000", "玉滘镇", "U01", "环境", "b", None],
    ]
    report = run(world, xlsx_bytes(rows), filename="scores.xlsx")
    assert report.ok, [str(p) for p in report.problems]
    stored = score_rows()
    assert stored[("445203100000", "U02")][0] == "25.5"
    assert stored[("445203100000", "E02")][0] == "4"
    assert stored[("445203101000", "U02")][0] == "0.3"
    assert stored[("445203101000", "U01")][0] == "B"


def test_identical_reimport_changes_nothing_and_writes_no_event(world):
    run(world, csv_bytes(full_rows()))
    before = event_count()
    report = run(world, xlsx_bytes(full_rows()), filename="again.xlsx")
    assert report.ok and report.changes == [] and report.unchanged == 12
    assert event_count() == before


def test_changes_are_made_against_current_versions(world):
    run(world, csv_bytes(full_rows()))
    rows = full_rows()
    rows[3][5] = "28"  # 曲溪街道 U02 30 → 28
    rows[0][6] = "核实后"  # a note only
    report = run(world, csv_bytes(rows), reason="复核更正")
    assert (report.new, report.changed, report.unchanged) == (0, 2, 10)
    changes = {(c.unit, c.indicator): (c.old_value, c.new_value) for c in report.changes}
    assert changes[("445203001000", "U02")] == ("30", "28")
    score = db.session.scalar(
        select(Score).join(Unit).where(Unit.code == "445203001000", Score.number == 28)
    )
    assert score.version == 2
    assert score_rows()[("445203001000", "E01")] == ("6.5", "核实后")


def test_blank_values_and_missing_note_column_leave_cells_alone(world):
    run(world, csv_bytes([["2026Q3", "445203100000", "", "U02", "", "25.5", "原备注"]]))
    header = ["考核周期", "单位代码", "指标代码", "数值"]
    rows = [["2026Q3", "445203100000", "U02", "26"], ["2026Q3", "445203100000", "U01", ""]]
    report = run(world, csv_bytes(rows, header), reason="复核更正")
    assert report.ok and report.changed == 1 and report.blank == 1
    assert score_rows()[("445203100000", "U02")] == ("26", "原备注")
    assert ("445203100000", "U01") not in score_rows()


def test_dry_run_writes_nothing_and_lists_changes(world):
    run(world, csv_bytes(full_rows()[:2]))
    before, stored = event_count(), score_rows()
    rows = full_rows()
    rows[0][5] = "6"
    report = run(world, csv_bytes(rows), dry_run=True, reason="复核更正")
    assert report.ok and report.dry_run and not report.applied
    assert (report.new, report.changed, report.unchanged) == (10, 1, 1)
    first = report.changes[0]
    assert (first.unit, first.indicator, first.old_value, first.new_value) == (
        "445203001000",
        "E01",
        "6.5",
        "6",
    )
    assert "试导入" in report.summary()
    assert event_count() == before and score_rows() == stored


# --- the error report -------------------------------------------------------------------


def problems_of(report) -> list[tuple[int, str]]:
    return [(p.row, p.column) for p in report.problems]


def test_error_report_names_every_bad_row_and_column(world):
    rows = [
        ["2026Q3", "445203100000", "", "E01", "", "5.2", ""],  # 2 good
        ["2026Q3", "445203999999", "", "E01", "", "5", ""],  # 3 unknown unit
        ["2026Q3", "445203100000", "", "X99", "", "5", ""],  # 4 unknown indicator
        ["2026Q3", "445203100000", "", "E02", "", "五", ""],  # 5 bad number
        ["2026Q3", "445203100000", "", "U01", "", "甲", ""],  # 6 bad grade
        ["2026Q3", "445203100000", "", "U02", "", "30.5", ""],  # 7 out of range (0..30)
        ["2026Q3", "445203100000", "", "E01", "", "5.3", ""],  # 8 duplicate of row 2
        ["2026Q2", "445203101000", "", "E01", "", "5", ""],  # 9 wrong period
        ["2026Q3", "445203100201", "", "E01", "", "5", ""],  # 10 a village: wrong level
        ["2026Q3", "445203101000", "", "U02", "", "-1", ""],  # 11 out of range (negative)
        ["", "", "", "", "", "", ""],  # blank row: ignored
        ["2026Q3", "445203101000", "", "E02", "", "1.1234567", ""],  # 13 too many decimals
    ]
    report = run(world, csv_bytes(rows))
    assert not report.ok and not report.applied
    assert problems_of(report) == [
        (3, "单位代码"),
        (4, "指标代码"),
        (5, "数值"),
        (6, "数值"),
        (7, "数值"),
        (8, "指标代码"),
        (9, "考核周期"),
        (10, "单位代码"),
        (11, "数值"),
        (13, "数值"),
    ]
    text = [str(p) for p in report.problems]
    assert text[0] == "第3行 单位代码：单位代码 445203999999 不存在"
    assert "与第2行重复" in text[5]
    assert "2026Q2" in text[6] and "2026Q3" in text[6]
    assert "镇街" in text[7]
    assert "0 至 30" in text[4]
    # All or nothing: the good row 2 was not written either.
    assert score_rows() == {}
    assert "未写入任何数据" in report.summary()


def test_dry_run_lists_values_outside_the_indicator_rule_and_writes_nothing(world):
    set_ranges(world)
    before = event_count()
    rows = [
        ["2026Q3", "445203100000", "", "E01", "", "150", ""],  # 2 above the range
        ["2026Q3", "445203100000", "", "E02", "", "1.5", ""],  # 3 not a whole number
        ["2026Q3", "445203101000", "", "E01", "", "1e3", ""],  # 4 exponent
        ["2026Q3", "445203101000", "", "E02", "", "4", ""],  # 5 good
        ["2026Q3", "445203001000", "", "E01", "", "-5", ""],  # 6 below the range
    ]
    for dry_run in (True, False):
        report = run(world, csv_bytes(rows), dry_run=dry_run)
        assert not report.ok and not report.applied
        assert [str(p) for p in report.problems] == [
            "第2行 数值：「E01 地区生产总值增速」的数值须在 0 至 100 之间（%），收到 150",
            "第3行 数值：「E02 招商引资项目落地数」的数值须为整数，收到 1.5",
            "第4行 数值：「E01 地区生产总值增速」的数值须写成普通数字（如 1000），"
            "不接受科学计数法，收到 1e3",
            "第6行 数值：「E01 地区生产总值增速」的数值须在 0 至 100 之间（%），收到 -5",
        ]
        assert score_rows() == {} and event_count() == before
    # An XLSX number cell is a number, whatever Excel shows: 1.5 is still refused.
    report = run(world, xlsx_bytes([["2026Q3", "445203100000", "", "E02", "", 1.5, ""]]),
                 filename="scores.xlsx", dry_run=True)
    assert [str(p) for p in report.problems] == [
        "第2行 数值：「E02 招商引资项目落地数」的数值须为整数，收到 1.5",
    ]


def test_missing_and_repeated_columns_are_reported_on_the_header(world):
    header = ["考核周期", "单位代码", "value", "数值"]
    report = run(world, csv_bytes([["2026Q3", "445203100000", "1", "2"]], header))
    assert problems_of(report) == [(1, "数值"), (1, "指标代码")]
    assert "缺少此列" in str(report.problems[1])


def test_one_bad_row_writes_nothing(world):
    rows = full_rows()
    rows[7][5] = "abc"
    before = event_count()
    report = run(world, csv_bytes(rows))
    assert problems_of(report) == [(9, "数值")]
    assert score_rows() == {} and event_count() == before


def test_unreadable_files_are_refused(world):
    # Neither UTF-8 nor GB18030 (GBK CSV files are read: see the office-made sheets).
    with pytest.raises(InvalidInput, match="UTF-8 或 GBK"):
        run(world, "考核周期,单位代码\n".encode() + b"\xff\xfe")
    with pytest.raises(InvalidInput, match="XLSX"):
        run(world, b"PK\x03\x04 not really a zip", filename="x.xlsx")
    with pytest.raises(InvalidInput, match=".xls"):
        run(world, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", filename="old.xls")


# --- who and when -----------------------------------------------------------------------


def test_refused_in_a_period_that_is_not_open(world):
    before = event_count()
    with pytest.raises(StateError):
        run(world, csv_bytes(full_rows("2026Q2")), period="2026Q2")
    assert score_rows("2026Q2") == {} and event_count() == before
    # A dry run still shows what would change, and says the period is closed.
    report = run(world, csv_bytes(full_rows("2026Q2")), period="2026Q2", dry_run=True)
    assert report.ok and not report.period_open and report.new == 12


def test_refused_for_roles_other_than_assessor(world):
    before = event_count()
    for role in ("admin", "supervisor", "auditor", "reviewer"):
        with pytest.raises(Forbidden):
            run(world, csv_bytes(full_rows()), actor=world.user(role))
    assert score_rows() == {} and event_count() == before
    # Admins may dry-run; auditors may not even do that.
    assert run(world, csv_bytes(full_rows()), actor=world.user("admin"), dry_run=True).ok
    with pytest.raises(Forbidden):
        run(world, csv_bytes(full_rows()), actor=world.user("auditor"), dry_run=True)


def test_failure_midway_leaves_the_database_as_before(world, monkeypatch):
    fill_towns(world, world.period())
    before_events, before_scores = event_count(), score_rows()
    values = {u: {i: "1" for i in ("E01", "E02", "U02")} for u in FULL_TOWN_VALUES}
    rows = full_rows(values=values)
    rows.append(["2026Q3", "445203101000", "", "U01", "", "D", "新"])
    real = history.append_many
    batches = []

    def failing(*args, **kwargs):
        batches.append(1)
        if len(batches) == 3:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    # Small batches, so two are written (scores and events) before the third fails.
    monkeypatch.setattr(ledger, "WRITE_BATCH", 3)
    monkeypatch.setattr(history, "append_many", failing)
    with pytest.raises(RuntimeError, match="power cut"):
        run(world, csv_bytes(rows), reason="复核更正")
    db.session.remove()
    assert len(batches) == 3
    assert score_rows() == before_scores and event_count() == before_events
    assert history.verify().ok


def test_import_writes_what_set_score_writes(world):
    """The batched apply leaves the same scores and events as ledger.set_score."""
    q2 = open_period(world, "2026Q2")
    q3 = world.period()
    first = {"445203100000": {"E01": "5.2", "U01": "B"}, "445203101000": {"U02": "20"}}
    second = {"445203100000": {"E01": "5.3", "U01": "B"}, "445203101000": {"U02": "21"}}
    def stored(period, unit, indicator):
        return db.session.scalar(
            select(Score).where(
                Score.period_id == period.id,
                Score.unit_id == world.unit(unit).id,
                Score.indicator_id == world.indicator(indicator).id,
            )
        )

    for values, note in ((first, "初录"), (second, "复核")):
        # The file states each cell's version, as the template does (0: no value yet).
        rows = [
            [r[0], r[1], "", r[3], "", r[5], note, getattr(stored(q2, r[1], r[3]), "version", 0)]
            for r in full_rows("2026Q2", values)
        ]
        assert run(world, csv_bytes(rows, [*HEADER, "版本"]), period="2026Q2").ok
        for unit, row in values.items():
            for indicator, value in row.items():
                current = stored(q3, unit, indicator)
                ledger.set_score(
                    assessor(world),
                    q3,
                    world.unit(unit),
                    world.indicator(indicator),
                    value,
                    note=note,
                    version=current.version if current else None,
                )

    def scores(period):
        return sorted(
            (s.unit.code, s.indicator.code, s.value, s.note, s.version, s.entered_by)
            for s in db.session.scalars(select(Score).where(Score.period_id == period.id))
        )

    def events(code):
        return [
            (e.action, e.entity, e.entity_key, e.before, e.after, e.reason)
            for e in db.session.scalars(
                select(HistoryEvent).where(HistoryEvent.period == code).order_by(HistoryEvent.seq)
            )
            if e.action == "score.set"
        ]

    assert scores(q2) == scores(q3)
    assert events("2026Q2") == events("2026Q3")
    assert len(events("2026Q2")) == 6


# --- the template -----------------------------------------------------------------------


def test_template_lists_every_town_and_indicator_with_rules_and_values(world):
    period = world.period()
    fill_towns(world, period)
    workbook = load_workbook(io.BytesIO(template_bytes(period)))
    sheet = workbook["分数导入"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [*HEADER, "版本"]
    assert len(rows) == 1 + 3 * 4
    by_cell = {(r[1], r[3]): r for r in rows[1:]}
    assert by_cell[("445203100000", "U02")][5] == 25.5
    assert by_cell[("445203100000", "U01")][5] == "B"
    assert by_cell[("445203100000", "U01")][2] == "云路镇"
    assert all(r[0] == "2026Q3" for r in rows[1:])
    comment = sheet.cell(row=2, column=5).comment
    assert comment is not None and "满分" in comment.text
    assert "指标说明" in workbook.sheetnames


def test_template_comment_says_what_the_indicator_allows(world):
    records.update(
        SETUP, world.indicator("E02"),
        {"value_min": Decimal(0), "integer_only": True, "measure_unit": "个"},
    )
    assert rule_comment(world.indicator("E02")).splitlines() == [
        "E02 招商引资项目落地数",
        "横向比较，满分 20 分",
        "计量单位：个",
        "允许填写：不小于 0（个），整数",
    ]


def test_template_never_writes_formulas(world):
    from evaluation.history import records
    from tests.ledger_world import SETUP

    period = world.period()
    records.update(SETUP, world.unit("445203100000"), {"name": '=HYPERLINK("x")'})
    unit, indicator = world.unit("445203101000"), world.indicator("U02")
    ledger.set_score(assessor(world), period, unit, indicator, "20", note="=1+1", version=None)
    sheet = load_workbook(io.BytesIO(template_bytes(period)))["分数导入"]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert '=HYPERLINK("x")' in [c.value for c in cells]
    before = event_count()
    report = run(world, template_bytes(period), filename="t.xlsx")
    assert report.ok and report.changes == []
    assert event_count() == before


def test_template_round_trip_is_an_identical_reimport(world):
    period = world.period()
    fill_towns(world, period)
    before = event_count()
    report = run(world, template_bytes(period), filename="template.xlsx")
    assert report.ok and report.changes == [] and report.unchanged == 12
    assert event_count() == before


# --- the CLI ----------------------------------------------------------------------------


def test_cli_dry_run_and_apply(app, runner, tmp_path):
    with app.app_context():
        world = build_world()
        open_period(world)
        db.session.remove()
    path = tmp_path / "scores.csv"
    path.write_bytes(csv_bytes(full_rows()))
    dry = runner.invoke(args=["import-scores", str(path), "--period", "2026Q3", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "新增 12 项" in dry.output and "→ 25.5" in dry.output
    with app.app_context():
        assert score_rows() == {}
    done = runner.invoke(args=["import-scores", str(path), "--period", "2026Q3"])
    assert done.exit_code == 0, done.output
    assert "已导入" in done.output
    with app.app_context():
        assert len(score_rows()) == 12
        assert (
            db.session.scalar(select(HistoryEvent.actor).order_by(HistoryEvent.seq.desc()).limit(1))
            == "cli"
        )


def test_cli_reports_bad_rows_and_fails(app, runner, tmp_path):
    with app.app_context():
        open_period(build_world())
        db.session.remove()
    rows = full_rows()
    rows[2][3] = "Z01"
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(rows))
    result = runner.invoke(args=["import-scores", str(path), "--period", "2026Q3"])
    assert result.exit_code == 1
    assert "第4行 指标代码" in result.output
    closed = runner.invoke(args=["import-scores", str(path), "--period", "2026Q2"])
    assert closed.exit_code == 1 and "填报中" in closed.output


@pytest.mark.slow
def test_killed_import_leaves_the_database_as_before(app, tmp_path):
    """kill -9 the CLI while it is writing: nothing it wrote survives."""
    towns = 3000
    with app.app_context():
        world = build_world()
        open_period(world)
        db.session.execute(
            insert(Unit),
            [
                {"code": f"4452039{n:05d}", "name": f"测试镇{n}", "level": "town", "kind": "镇"}
                for n in range(towns)
            ],
        )
        db.session.commit()
        before_events = event_count()
        db.session.remove()
    values = {
        f"4452039{n:05d}": {"E01": "5", "E02": "3", "U01": "A", "U02": "20"} for n in range(towns)
    }
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes(full_rows(values=values)))
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FLASK_APP": "wsgi.py",
        "SECRET_KEY": "test-secret-key",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "import-scores", str(path), "--period", "2026Q3"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(120, process.kill)  # never hang the suite
    timer.start()
    try:
        began = ""
        for line in process.stderr:
            if line.startswith("正在写入"):
                began = line
                break
        assert began, "the import never began writing"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        timer.cancel()
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    with app.app_context():
        assert score_rows() == {}
        assert event_count() == before_events
        assert history.verify().ok


# --- the page ---------------------------------------------------------------------------


@pytest.fixture
def web_world(app):
    with app.app_context():
        world = build_world()
        open_period(world)
        db.session.remove()
    return world


def test_import_page_visible_to_assessors_and_admins_only(app, client, auth, web_world):
    for role, status in (("assessor", 200), ("admin", 200), ("auditor", 403), ("reviewer", 403)):
        auth.login(role, PASSWORD)
        assert client.get("/admin/import/").status_code == status, role
        auth.logout()


def test_page_template_download(app, client, auth, web_world):
    auth.login("assessor", PASSWORD)
    response = client.get("/admin/import/template?period=2026Q3")
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert len(rows) == 13
    # Uploaded back, the report says when the template was made.
    text = upload(client, response.data, filename="t.xlsx").get_data(as_text=True)
    assert 'id="import-exported-at"' in text and "文件为本系统导出的模板，导出时间：" in text


def upload(client, data: bytes, *, filename="scores.csv", mode="dry_run", period="2026Q3"):
    return client.post(
        "/admin/import/",
        data={
            "period": period,
            "level": "town",
            "mode": mode,
            "file": (io.BytesIO(data), filename),
        },
        content_type="multipart/form-data",
    )


def test_page_dry_run_then_apply(app, client, auth, web_world):
    auth.login("assessor", PASSWORD)
    dry = upload(client, csv_bytes(full_rows()))
    text = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "新增 12 项" in text and "试导入" in text
    with app.app_context():
        assert score_rows() == {}
    done = upload(client, csv_bytes(full_rows()), mode="apply")
    assert "已导入" in done.get_data(as_text=True)
    with app.app_context():
        assert len(score_rows()) == 12


def test_page_lists_problems_in_chinese(app, client, auth, web_world):
    auth.login("assessor", PASSWORD)
    rows = full_rows()
    rows[4][5] = "很多"
    text = upload(client, csv_bytes(rows), mode="apply").get_data(as_text=True)
    assert "第6行" in text and "数值" in text and "未写入任何数据" in text
    with app.app_context():
        assert score_rows() == {}


def test_page_refuses_apply_for_admin(app, client, auth, web_world):
    auth.login("admin", PASSWORD)
    response = upload(client, csv_bytes(full_rows()), mode="apply")
    assert response.status_code == 403
    with app.app_context():
        assert score_rows() == {}


# --- the parser, as a property ----------------------------------------------------------

UNITS = {f"4452031{n:05d}": UnitInfo(f"4452031{n:05d}", f"镇{n}", "town") for n in range(5)}
INDICATORS = {
    "D1": IndicatorInfo("D1", "直接", "direct", Decimal("30")),
    "T1": IndicatorInfo("T1", "目标", "target", Decimal("20")),
    "R1": IndicatorInfo("R1", "横向", "relative", Decimal("20")),
    "G1": IndicatorInfo("G1", "等次", "grade", Decimal("30")),
    "P1": IndicatorInfo("P1", "增速", "target", Decimal("10"), measure_unit="%"),
}
ENGLISH = {
    "考核周期": "period",
    "单位代码": "unit_code",
    "指标代码": "indicator_code",
    "数值": "value",
    "备注": "note",
}


def value_for(indicator: str):
    if indicator == "G1":
        return st.sampled_from(["A", "B", "C", "D", "优", "良", "中", "差"])
    if indicator == "P1":  # measured in %: with or without a percent sign, all the same
        number = st.decimals(min_value=-100, max_value=1000, places=2)
        signs = st.sampled_from(["", "%", " %", "％"])
        return st.tuples(number, signs).map(lambda pair: f"{pair[0]}{pair[1]}")
    bounds = {"D1": (0, 30)}.get(indicator, (-(10**6), 10**6))
    return st.decimals(
        min_value=bounds[0], max_value=bounds[1], places=3, allow_nan=False, allow_infinity=False
    )


#: Any note the ledger keeps (a NUL is refused: tests/test_import_limits.py).
NOTE_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8
)


@st.composite
def import_files(draw):
    cells = draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(UNITS)), st.sampled_from(sorted(INDICATORS))),
            unique=True,
            max_size=20,
        )
    )
    rows = [
        (unit, indicator, draw(value_for(indicator)), draw(NOTE_TEXT.map(str.strip)))
        for unit, indicator in cells
    ]
    columns = draw(
        st.permutations(["考核周期", "单位代码", "指标代码", "数值", "备注", "单位名称"])
    )
    names = []
    for column in columns:
        if column in ENGLISH and draw(st.booleans()):
            name = "".join(c.upper() if draw(st.booleans()) else c for c in ENGLISH[column])
        else:
            name = column
        names.append(name)
    return rows, list(columns), names


def cell_of(column: str, row) -> object:
    unit, indicator, value, note = row
    return {
        "考核周期": "2026Q3",
        "单位代码": unit,
        "指标代码": indicator,
        "数值": value if isinstance(value, str) else str(value),
        "备注": note,
        "单位名称": UNITS[unit].name,
    }[column]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(import_files(), st.booleans())
def test_parser_reads_back_what_was_written(case, as_csv):
    rows, columns, names = case
    body = [[cell_of(column, row) for column in columns] for row in rows]
    if as_csv:
        table = read_table(csv_bytes(body, names, bom=bool(len(rows) % 2)))
    else:
        table = [names, *body]
    parsed = parse_table(table, period="2026Q3", units=UNITS, indicators=INDICATORS)
    assert parsed.problems == []
    assert len(parsed.rows) == len(rows)
    for got, (unit, indicator, value, note) in zip(parsed.rows, rows, strict=True):
        assert (got.unit, got.indicator, got.note) == (unit, indicator, note)
        if indicator == "G1":
            assert got.grade == value and got.number is None
        elif indicator == "P1":
            assert got.number == Decimal(value.rstrip("%％ ")) and got.grade is None
        else:
            assert got.number == value and got.grade is None


def test_upload_needs_the_csrf_token(app, client, auth, web_world):
    auth.login("assessor", PASSWORD)
    app.config["WTF_CSRF_ENABLED"] = True
    response = upload(client, csv_bytes(full_rows()), mode="apply")
    assert response.status_code in (400, 422)
    with app.app_context():
        assert score_rows() == {}


def test_village_import_takes_typical_villages_only(world):
    header = ["考核周期", "单位代码", "指标代码", "数值"]
    rows = [
        ["2026Q3", "445203100201", "V01", "40"],  # 新桃村, typical: fine
        ["2026Q3", "445203100201", "V02", "良"],
        ["2026Q3", "445203100204", "V01", "30"],  # 普通村: not typical
        ["2026Q3", "445203100000", "V01", "30"],  # a town
        ["2026Q3", "445203101202", "E01", "3"],  # a town indicator
    ]
    data = csv_bytes(rows, header)
    report = import_scores(
        assessor(world), "2026Q3", data, filename="v.csv", level="village", dry_run=True
    )
    assert problems_of(report) == [(4, "单位代码"), (5, "单位代码"), (6, "指标代码")]
    assert "不是典型村" in str(report.problems[0])
    fixed = csv_bytes(rows[:2], header)
    done = import_scores(assessor(world), "2026Q3", fixed, level="village")
    assert done.applied and done.new == 2
    assert score_rows()[("445203100201", "V02")] == ("良", "")


# --- percent cells and "88%" text -------------------------------------------------------


def percent_indicator(world, code="E01"):
    """Measure E01 (地区生产总值增速, target 6.5) in %, as growth rates are."""
    from evaluation.history import records
    from tests.ledger_world import SETUP

    records.update(SETUP, world.indicator(code), {"measure_unit": "%"})


def formatted_xlsx(rows, header=HEADER) -> bytes:
    """An XLSX whose rows are ``[..., (value, number_format), ...]`` where formatted."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for number, row in enumerate(rows, start=2):
        for column, item in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column)
            if isinstance(item, tuple):
                cell.value, cell.number_format = item
            else:
                cell.value = item
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_percent_cells_of_a_percent_indicator_read_as_the_percentage_shown(world):
    percent_indicator(world)
    rows = [
        ["2026Q3", "445203001000", "", "E01", "", (0.95, "0%"), ""],  # typed 95%
        ["2026Q3", "445203100000", "", "E01", "", (0.0725, "0.00%"), ""],  # typed 7.25%
        ["2026Q3", "445203101000", "", "E01", "", (-0.012, "0.0%;[Red]-0.0%"), ""],
        # A literal "%" in quotes shows the number as it is: no × 100.
        ["2026Q3", "445203001000", "", "E02", "", (8, '0"%"'), ""],
    ]
    data = formatted_xlsx(rows)
    report = run(world, data, filename="growth.xlsx")
    assert report.ok, [str(p) for p in report.problems]
    assert report.warnings == []
    stored = score_rows()
    assert stored[("445203001000", "E01")] == ("95", "")
    assert stored[("445203100000", "E01")] == ("7.25", "")
    assert stored[("445203101000", "E01")] == ("-1.2", "")
    assert stored[("445203001000", "E02")] == ("8", "")
    # The fast XML reader and the openpyxl fallback read the same cells.
    assert read_table(data) == _read_xlsx_with_openpyxl(data).rows


def test_percent_text_of_a_percent_indicator_reads_as_the_number(world):
    percent_indicator(world)
    rows = [
        ["2026Q3", "445203001000", "", "E01", "", "88%", ""],
        ["2026Q3", "445203100000", "", "E01", "", "6.5 %", ""],
        ["2026Q3", "445203101000", "", "E01", "", "12.25％", ""],
    ]
    report = run(world, csv_bytes(rows))
    assert report.ok, [str(p) for p in report.problems]
    stored = score_rows()
    assert stored[("445203001000", "E01")] == ("88", "")
    assert stored[("445203100000", "E01")] == ("6.5", "")
    assert stored[("445203101000", "E01")] == ("12.25", "")


def test_percentages_for_an_indicator_not_measured_in_percent_are_refused(world):
    percent_indicator(world)
    rows = [
        ["2026Q3", "445203001000", "", "U02", "", (0.2, "0%"), ""],  # 2 direct, cell 20%
        ["2026Q3", "445203100000", "", "U02", "", "20%", ""],  # 3 direct, text
        ["2026Q3", "445203101000", "", "U01", "", "85%", ""],  # 4 grade
        ["2026Q3", "445203101000", "", "E01", "", "abc%", ""],  # 5 not a number
        ["2026Q3", "445203001000", "", "E01", "", "95", ""],  # 6 fine
    ]
    report = run(world, formatted_xlsx(rows), filename="bad.xlsx")
    assert [str(p) for p in report.problems] == [
        "第2行 数值：指标 U02 不以 % 计量，但该单元格是百分比格式（显示为 20%）；"
        "请将单元格格式改为「常规」或「数值」后填写",
        "第3行 数值：指标 U02 不以 % 计量，数值不能填百分数（收到 20%）",
        "第4行 数值：指标 U01 不以 % 计量，数值不能填百分数（收到 85%）",
        "第5行 数值：「E01 地区生产总值增速」的数值须为数字，收到 abc%",
    ]
    assert score_rows() == {}


def test_a_fraction_for_a_percent_indicator_is_warned_about_not_refused(world):
    percent_indicator(world)
    rows = [
        ["2026Q3", "445203001000", "", "E01", "", "0.95", ""],  # 2 likely 95%
        ["2026Q3", "445203100000", "", "E01", "", "0.5%", ""],  # 3 said with a %: meant
        ["2026Q3", "445203101000", "", "E01", "", "1", ""],  # 4 not strictly inside 0..1
        ["2026Q3", "445203101000", "", "U02", "", "0.5", ""],  # 5 points, not %: fine
    ]
    dry = run(world, csv_bytes(rows), dry_run=True)
    assert dry.ok and dry.new == 4
    assert [(w.row, w.column, w.kind) for w in dry.warnings] == [(2, "数值", "percent_fraction")]
    assert str(dry.warnings[0]) == (
        "第2行 数值：指标 E01 以 % 计量，0.95 介于 0 与 1 之间，可能是把 95% 填成了小数；"
        "如应为 95%，请填 95 或 95%"
    )
    assert dry.summary() == "试导入（未写入）：新增 4 项，修改 0 项，未变 0 项；1 处提示请核对"
    done = run(world, csv_bytes(rows))
    assert done.applied
    assert score_rows()[("445203001000", "E01")] == ("0.95", "")
    assert score_rows()[("445203100000", "E01")] == ("0.5", "")


def test_page_and_cli_dry_runs_show_the_warnings(app, client, auth, runner, web_world, tmp_path):
    with app.app_context():
        percent_indicator(web_world)
    rows = [["2026Q3", "445203001000", "", "E01", "", "0.95", ""]]
    auth.login("assessor", PASSWORD)
    page = upload(client, csv_bytes(rows)).get_data(as_text=True)
    assert 'id="import-warnings"' in page
    assert "第2行 数值：指标 E01 以 % 计量，0.95 介于 0 与 1 之间" in page
    path = tmp_path / "fraction.csv"
    path.write_bytes(csv_bytes(rows))
    dry = runner.invoke(args=["import-scores", str(path), "--period", "2026Q3", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "提示：第2行 数值：指标 E01 以 % 计量，0.95 介于 0 与 1 之间" in dry.output
    with app.app_context():
        assert score_rows() == {}


# --- stale files: versions, export time, explicit overwrite ------------------------------

#: A colleague who corrects a value after the template was downloaded.
COLLEAGUE = SystemActor("wangli", role="assessor")


def stored_score(world, unit: str, indicator: str) -> Score:
    return db.session.scalar(
        select(Score).where(
            Score.period_id == world.period().id,
            Score.unit_id == world.unit(unit).id,
            Score.indicator_id == world.indicator(indicator).id,
        )
    )


def correct(world, unit: str, indicator: str, value: str, note: str) -> Score:
    """The colleague's correction on the entry page (against the current version)."""
    current = stored_score(world, unit, indicator)
    return ledger.set_score(
        COLLEAGUE,
        world.period(),
        world.unit(unit),
        world.indicator(indicator),
        value,
        note=note,
        version=current.version if current else None,
    )


def edit_template(data: bytes, edits: dict[tuple[str, str], object], *, drop_versions=False):
    """Change 数值 of template rows (unit, indicator) as a user does in Excel."""
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook["分数导入"]
    for row in sheet.iter_rows(min_row=2):
        key = (row[1].value, row[3].value)
        if key in edits:
            row[5].value = edits[key]
    if drop_versions:
        sheet.delete_cols(8)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_row(data: bytes, unit: str, indicator: str) -> int:
    sheet = load_workbook(io.BytesIO(data))["分数导入"]
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if (row[1], row[3]) == (unit, indicator):
            return number
    raise AssertionError((unit, indicator))


def test_template_tells_how_to_fill_in_a_percent_indicator(world):
    percent_indicator(world)
    sheet = load_workbook(io.BytesIO(template_bytes(world.period())))["指标说明"]
    rules = {row[0]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert "数值填百分数：95% 填 95 或 95% 均可（0.95 表示 0.95%）" in rules["E01"].splitlines()
    assert "数值填百分数" not in rules["E02"]


def test_template_carries_versions_and_its_export_time(world):
    fill_towns(world, world.period())
    correct(world, "445203100000", "U02", "26", "复核")
    data = template_bytes(world.period())
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook["分数导入"]
    assert sheet.column_dimensions["H"].hidden
    versions = {(r[1], r[3]): r[7] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert versions[("445203100000", "U02")] == 2
    assert versions[("445203100000", "E01")] == 1
    info = workbook[INFO_SHEET]
    assert info.sheet_state == "hidden"
    assert info["A1"].value == "导出时间"
    assert read_file(data).exported_at == datetime.strptime(
        info["B1"].value, "%Y-%m-%dT%H:%M:%S.%fZ"
    )


def test_stale_template_row_is_refused_naming_who_changed_it(world):
    fill_towns(world, world.period())
    data = template_bytes(world.period())  # U02 of 云路镇 is 25.5 (version 1)
    score = correct(world, "445203100000", "U02", "26", "复核更正")
    # The user fills in another cell and uploads the old template.
    uploaded = edit_template(data, {("445203101000", "E01"): 3.5})
    stale_row = template_row(data, "445203100000", "U02")
    before = event_count()
    for dry_run in (True, False):
        report = run(world, uploaded, filename="old.xlsx", dry_run=dry_run)
        assert [str(p) for p in report.problems] == [
            f"第{stale_row}行 数值：云路镇（445203100000）/ U02 典型村培育创建成效："
            f"文件中为 25.5，但该数值已被 wangli 于 {local_time(score.updated_at)} "
            "改为 26（第 2 版）；请重新下载模板后填写，或清空此行数值以保留现值"
        ]
        assert not report.applied and report.changes == []
    assert event_count() == before
    assert score_rows()[("445203100000", "U02")] == ("26", "复核更正")
    assert score_rows()[("445203101000", "E01")] == ("3.25", "")
    # Clearing the stale row's value keeps the correction and lets the rest in.
    kept = edit_template(uploaded, {("445203100000", "U02"): None})
    report = run(world, kept, filename="old.xlsx")
    assert report.applied and (report.changed, report.unchanged, report.blank) == (1, 10, 1)
    assert score_rows()[("445203100000", "U02")] == ("26", "复核更正")
    assert score_rows()[("445203101000", "E01")] == ("3.5", "")


def test_template_cell_empty_at_export_is_refused_once_someone_filled_it(world):
    data = template_bytes(world.period())  # nothing entered: every version 0
    score = correct(world, "445203100000", "U02", "26", "")
    uploaded = edit_template(data, {("445203100000", "U02"): 20, ("445203100000", "E01"): 5})
    report = run(world, uploaded, filename="old.xlsx")
    row = template_row(data, "445203100000", "U02")
    assert [str(p) for p in report.problems] == [
        f"第{row}行 数值：云路镇（445203100000）/ U02 典型村培育创建成效：文件中为 20，"
        f"但该数值在您下载模板之后已被 wangli 于 {local_time(score.updated_at)} "
        "改为 26（第 1 版）；请重新下载模板后填写，或清空此行数值以保留现值"
    ]
    assert score_rows() == {("445203100000", "U02"): ("26", "")}
    # A fresh template knows the value: the same edit goes in.
    fresh = edit_template(template_bytes(world.period()), {("445203100000", "U02"): 20})
    assert run(world, fresh, filename="new.xlsx").applied
    assert score_rows()[("445203100000", "U02")] == ("20", "")


def test_a_value_cleared_and_entered_again_is_not_taken_for_the_exported_one(world):
    fill_towns(world, world.period())
    data = template_bytes(world.period())  # U02 of 云路镇: 25.5, version 1
    ledger.clear_score(
        COLLEAGUE, stored_score(world, "445203100000", "U02"), version=1, reason="录错"
    )
    # Entered again, the cell continues after its two changes (set, clear): version 3.
    score = correct(world, "445203100000", "U02", "26", "重新录入")
    assert score.version == 3
    uploaded = edit_template(data, {("445203101000", "E01"): 3.5})
    report = run(world, uploaded, filename="old.xlsx")
    row = template_row(data, "445203100000", "U02")
    assert [str(p) for p in report.problems] == [
        f"第{row}行 数值：云路镇（445203100000）/ U02 典型村培育创建成效：文件中为 25.5，"
        f"但该数值已被 wangli 于 {local_time(score.updated_at)} 改为 26（第 3 版）；"
        "请重新下载模板后填写，或清空此行数值以保留现值"
    ]
    assert score_rows()[("445203100000", "U02")] == ("26", "重新录入")


def test_a_file_without_versions_is_checked_against_its_export_time(world):
    fill_towns(world, world.period())
    data = template_bytes(world.period())
    score = correct(world, "445203100000", "U02", "26", "复核更正")
    # The 版本 column deleted; the hidden sheet still says when the file was made.
    edits = {("445203101000", "E01"): 3.5}
    uploaded = edit_template(data, edits, drop_versions=True)
    exported_at = read_file(data).exported_at
    report = run(world, uploaded, filename="old.xlsx")
    row = template_row(data, "445203100000", "U02")
    assert [str(p) for p in report.problems] == [
        f"第{row}行 数值：云路镇（445203100000）/ U02 典型村培育创建成效：文件中为 25.5，"
        f"但该数值在文件导出（{local_time(exported_at)}）之后已被 wangli 于 "
        f"{local_time(score.updated_at)} 改为 26（第 2 版）；"
        "请重新下载模板后填写，或清空此行数值以保留现值"
    ]
    # Without the stale row, a change to a value older than the file needs no overwrite.
    kept = edit_template(uploaded, {("445203100000", "U02"): None})
    report = run(world, kept, filename="old.xlsx")
    assert report.applied and report.changed == 1 and report.overwritten == 0
    assert score_rows()[("445203101000", "E01")] == ("3.5", "")
    assert score_rows()[("445203100000", "U02")] == ("26", "复核更正")


def test_hand_made_file_changes_stored_values_only_with_an_overwrite_reason(world):
    fill_towns(world, world.period())
    correct(world, "445203100000", "U02", "26", "复核更正")
    score = stored_score(world, "445203100000", "U02")
    header = ["考核周期", "单位代码", "指标代码", "数值"]
    rows = [
        ["2026Q3", "445203100000", "U02", "25.5"],  # 2 would undo the correction
        ["2026Q3", "445203100000", "E01", "5.2"],  # 3 same as stored: fine
        ["2026Q3", "445203101000", "E01", "3.5"],  # 4 changes 3.25
    ]
    data = csv_bytes(rows, header)
    before = event_count()
    report = run(world, data)
    assert [str(p) for p in report.problems] == [
        "第2行 数值：云路镇（445203100000）/ U02 典型村培育创建成效：文件中为 25.5，"
        f"现值为 26（wangli 于 {local_time(score.updated_at)} 录入）；"
        "文件没有版本号和导出时间，修改已有数值须选择覆盖"
        "（导入页面勾选「覆盖已有数值」，命令行加 --overwrite）并填写原因",
        "第4行 数值：玉滘镇（445203101000）/ E01 地区生产总值增速：文件中为 3.5，"
        f"现值为 3.25（assessor 于 "
        f"{local_time(stored_score(world, '445203101000', 'E01').updated_at)} 录入）；"
        "文件没有版本号和导出时间，修改已有数值须选择覆盖"
        "（导入页面勾选「覆盖已有数值」，命令行加 --overwrite）并填写原因",
    ]
    assert report.needs_overwrite
    assert event_count() == before and score_rows()[("445203100000", "U02")] == ("26", "复核更正")
    with pytest.raises(InvalidInput, match="选择覆盖已有数值时须填写原因"):
        import_scores(assessor(world), "2026Q3", data, overwrite=True, reason="  ")
    # Overwriting, with a reason that every overwritten value's event carries.
    rows.append(["2026Q3", "445203001000", "E02", "11"])  # 5 changes 10
    report = run(world, csv_bytes(rows, header), reason="以区统计局终审数据为准")
    assert report.applied
    assert (report.new, report.changed, report.unchanged, report.overwritten) == (0, 3, 1, 3)
    events = db.session.execute(
        select(HistoryEvent.entity_key, HistoryEvent.reason)
        .where(HistoryEvent.seq > before)
        .order_by(HistoryEvent.seq)
    ).all()
    assert [tuple(e) for e in events] == [
        ("445203100000/U02", "以区统计局终审数据为准"),
        ("445203101000/E01", "以区统计局终审数据为准"),
        ("445203001000/E02", "以区统计局终审数据为准"),
    ]
    assert score_rows()[("445203100000", "U02")] == ("25.5", "复核更正")
    # The same file again changes nothing, overwrite or not.
    after = event_count()
    again = run(world, csv_bytes(rows, header))
    assert again.ok and again.changes == [] and again.unchanged == 4
    assert event_count() == after


def test_overwrite_reason_goes_to_overwritten_values_only(world):
    fill_towns(world, world.period(), values={"445203100000": {"U02": "25.5"}})
    header = ["考核周期", "单位代码", "指标代码", "数值"]
    rows = [["2026Q3", "445203100000", "U02", "24"], ["2026Q3", "445203100000", "E01", "5"]]
    before = event_count()
    report = run(world, csv_bytes(rows, header), reason="更正笔误")
    assert (report.new, report.changed, report.overwritten) == (1, 1, 1)
    reasons = db.session.execute(
        select(HistoryEvent.entity_key, HistoryEvent.reason).where(HistoryEvent.seq > before)
    ).all()
    assert sorted(tuple(r) for r in reasons) == [
        ("445203100000/E01", None),
        ("445203100000/U02", "更正笔误"),
    ]


def test_bad_version_cells_are_reported(world):
    rows = [
        ["2026Q3", "445203100000", "", "U02", "", "20", "", "二"],
        ["2026Q3", "445203100000", "", "E01", "", "5", "", "-1"],
        ["2026Q3", "445203101000", "", "E01", "", "5", "", ""],  # no version: fine (new)
    ]
    report = run(world, csv_bytes(rows, [*HEADER, "version"]))
    assert [str(p) for p in report.problems] == [
        "第2行 版本：版本号须为非负整数（由模板自动填写，请勿修改此列）",
        "第3行 版本：版本号须为非负整数（由模板自动填写，请勿修改此列）",
    ]
    assert score_rows() == {}


def test_cli_overwrite_needs_a_reason(app, runner, tmp_path):
    with app.app_context():
        world = build_world()
        open_period(world)
        fill_towns(world, world.period())
        db.session.remove()
    path = tmp_path / "hand.csv"
    header = ["考核周期", "单位代码", "指标代码", "数值"]
    path.write_bytes(csv_bytes([["2026Q3", "445203100000", "U02", "24"]], header))
    args = ["import-scores", str(path), "--period", "2026Q3"]
    refused = runner.invoke(args=args)
    assert refused.exit_code == 1
    expected = (
        "第2行 数值：云路镇（445203100000）/ U02 典型村培育创建成效：文件中为 24，现值为 25.5"
    )
    assert expected in refused.output
    assert "命令行加 --overwrite" in refused.output
    no_reason = runner.invoke(args=[*args, "--overwrite"])
    assert no_reason.exit_code == 1 and "选择覆盖已有数值时须填写原因" in no_reason.output
    done = runner.invoke(args=[*args, "--overwrite", "--reason", "更正笔误"])
    assert done.exit_code == 0, done.output
    assert "（其中覆盖已有数值 1 项）" in done.output
    with app.app_context():
        assert score_rows()[("445203100000", "U02")] == ("24", "")
        last = db.session.scalar(select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1))
        assert (last.entity_key, last.reason) == ("445203100000/U02", "更正笔误")


def test_page_overwrite_checkbox_and_reason(app, client, auth, web_world):
    with app.app_context():
        fill_towns(web_world, web_world.period())
        db.session.remove()
    header = ["考核周期", "单位代码", "指标代码", "数值"]
    data = csv_bytes([["2026Q3", "445203100000", "U02", "24"]], header)
    auth.login("assessor", PASSWORD)
    refused = upload(client, data, mode="apply")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="import-overwrite-hint"' in text and "文件中为 24，现值为 25.5" in text

    def overwrite(reason):
        return client.post(
            "/admin/import/",
            data={
                "period": "2026Q3",
                "level": "town",
                "mode": "apply",
                "overwrite": "y",
                "reason": reason,
                "file": (io.BytesIO(data), "hand.csv"),
            },
            content_type="multipart/form-data",
        )

    blank = overwrite("")
    assert blank.status_code == 422
    assert "选择覆盖已有数值时须填写原因" in blank.get_data(as_text=True)
    done = overwrite("以镇街复核表为准")
    assert done.status_code == 200
    assert "已导入：新增 0 项，修改 1 项，未变 0 项（其中覆盖已有数值 1 项）" in done.get_data(
        as_text=True
    )
    with app.app_context():
        assert score_rows()[("445203100000", "U02")] == ("24", "")
        last = db.session.scalar(select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1))
        assert last.reason == "以镇街复核表为准"


# --- office-made sheets: wide layout, title rows, names, GBK (docs/import.md#layouts) ---


def office_workbook(
    rows=None, *, e01_percent=True, title="2026年第三季度镇街考核数据", total_row=True
) -> bytes:
    """A wide sheet as an office keeps it: a merged title in A1, a two-row header (序号
    and 单位 merged down, dimension names merged over their indicators), towns by name,
    E01 typed as percentages (0.052 shown as 5.20%), a 合计 row at the bottom."""
    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"] = title
    sheet.merge_cells("A1:F1")
    sheet["A2"], sheet["B2"], sheet["C2"], sheet["E2"] = "序号", "单位", "镇域经济发展", "城乡融合"
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:B3")
    sheet.merge_cells("C2:D2")
    sheet.merge_cells("E2:F2")
    # Code and name, the name alone, the code alone, a name with its unit in brackets.
    for column, text in zip("CDEF", ("E01 地区生产总值增速", "招商引资项目落地数", "U01",
                                     "典型村培育创建成效（分）"), strict=True):
        sheet[f"{column}3"] = text
    rows = rows or [
        (1, "曲溪街道", 0.065, 10, "A", 30),
        (2, "云路镇", 0.052, 4, "B", 25.5),
        (3, "玉滘镇", 0.0325, 7, "C", 20),
    ]
    for offset, row in enumerate(rows):
        for column, value in zip("ABCDEF", row, strict=True):
            cell = sheet[f"{column}{4 + offset}"]
            cell.value = value
            if column == "C" and e01_percent and isinstance(value, float):
                cell.number_format = "0.00%"
    if total_row:
        last = 4 + len(rows)
        sheet[f"A{last}"] = "合计"
        sheet.merge_cells(f"A{last}:B{last}")
        sheet[f"D{last}"] = 21
        sheet[f"F{last}"] = 75.5
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_wide_office_workbook_imports_like_the_long_template(world):
    percent_indicator(world)
    report = run(world, office_workbook(), filename="镇街考核.xlsx")
    assert report.ok, [str(p) for p in report.problems]
    assert report.applied and (report.new, report.changed) == (12, 0)
    assert report.warnings == []
    assert "宽表" in report.layout and "第3行" in report.layout
    assert score_rows() == {
        (unit, indicator): (value, "")
        for unit, row in FULL_TOWN_VALUES.items()
        for indicator, value in row.items()
    }
    assert history.verify().ok


def test_wide_sheet_errors_name_the_sheet_row_and_the_column_header(world):
    percent_indicator(world)
    rows = [
        (1, "曲溪街道", 0.065, 10, "A", 30),
        (2, "云路镇", 0.052, "很多", "B", 25.5),
        (3, "不存在镇", 0.0325, 7, "C", 20),
        (4, "玉滘镇", 0.0325, 7, "C", 99),
    ]
    report = run(world, office_workbook(rows), filename="镇街考核.xlsx", dry_run=True)
    messages = [str(p) for p in report.problems]
    assert messages[0].startswith("第5行 招商引资项目落地数：")
    assert messages[1] == "第6行 单位：单位 不存在镇 不存在"
    assert messages[2].startswith("第7行 典型村培育创建成效（分）：")
    assert len(messages) == 3 and score_rows() == {}


def test_wide_sheet_takes_codes_and_refuses_an_ambiguous_name(world):
    records.update(SETUP, world.unit("445203101000"), {"name": "云路镇"})
    rows = [["单位代码", "E02", "U02"], ["445203101000", 7, 20], ["云路镇", 4, 25.5]]
    report = import_scores(
        assessor(world), "2026Q3", xlsx_bytes(rows[1:], rows[0]), filename="w.xlsx",
        dry_run=True,
    )
    assert [str(p) for p in report.problems] == [
        "第3行 单位代码：名称「云路镇」对应多个镇街（445203100000、445203101000），请改填单位代码"
    ]


def test_wide_sheet_changing_stored_values_needs_overwrite_and_reason(world):
    fill_towns(world, world.period())
    rows = [(1, "云路镇", 0.052, 5, "B", 25.5)]
    data = office_workbook(rows, e01_percent=False)
    refused = run(world, data, filename="w.xlsx")
    assert [(p.row, p.column, p.code) for p in refused.problems] == [
        (4, "E01 地区生产总值增速", "overwrite"),
        (4, "招商引资项目落地数", "overwrite"),
    ]
    # E01 is not measured in % here: 0.052 is a plain number, a change like any other.
    done = run(world, data, filename="w.xlsx", reason="以镇街报表为准")
    assert done.applied and done.overwritten == 2
    assert score_rows()[("445203100000", "E02")] == ("5", "")


def test_long_file_with_a_title_row_and_town_names(world):
    rows = [
        ["2026年第三季度分数", None, None, None],
        ["考核周期", "单位代码", "指标代码", "数值"],
        ["2026Q3", "云路镇", "E02", 4],
        ["2026Q3", "无此镇", "E02", 4],
    ]
    report = run(world, xlsx_bytes(rows[1:], rows[0]), filename="l.xlsx", dry_run=True)
    assert [str(p) for p in report.problems] == ["第4行 单位代码：单位代码 无此镇 不存在"]
    ok = run(world, xlsx_bytes(rows[1:3], rows[0]), filename="l.xlsx")
    assert ok.applied and score_rows() == {("445203100000", "E02"): ("4", "")}


def test_gbk_csv_from_excel_on_chinese_windows(world):
    text = "单位,E02,U01\r\n云路镇,4,B\r\n曲溪街道,10,A\r\n合计,14,\r\n"
    report = run(world, text.encode("gbk"), filename="镇街.csv")
    assert report.ok, [str(p) for p in report.problems]
    assert score_rows() == {
        ("445203100000", "E02"): ("4", ""),
        ("445203100000", "U01"): ("B", ""),
        ("445203001000", "E02"): ("10", ""),
        ("445203001000", "U01"): ("A", ""),
    }
    # The long layout too, and UTF-8 without a BOM still reads as UTF-8.
    long = "考核周期,单位代码,指标代码,数值\r\n2026Q3,玉滘镇,E02,7\r\n"
    assert run(world, long.encode("gb18030"), filename="l.csv").new == 1
    assert run(world, "单位,E02\n玉滘镇,7\n".encode(), filename="u.csv").unchanged == 1


def test_a_sheet_of_neither_layout_points_at_the_template(world):
    rows = [["名单"], ["张三", "李四"], ["王五", 3]]
    report = run(world, xlsx_bytes(rows[1:], rows[0]), filename="x.xlsx", dry_run=True)
    assert len(report.problems) == 1
    message = str(report.problems[0])
    assert message.startswith("第1行 表头：无法识别表格格式") and "下载模板" in message


def test_page_dry_run_of_a_wide_sheet_says_how_it_was_read(app, client, auth, web_world):
    with app.app_context():
        percent_indicator(web_world)
        db.session.remove()
    auth.login("assessor", PASSWORD)
    text = upload(client, office_workbook(), filename="镇街考核.xlsx").get_data(as_text=True)
    assert "新增 12 项" in text and 'id="import-layout"' in text and "表头在第3行" in text


# --- 确认导入: the dry run's file kept on the server (docs/import.md#confirm) -------------


def confirm_fields(html: str) -> dict:
    import re

    form = html[html.index('id="import-confirm"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', form))


def test_confirm_applies_the_dry_run_file_without_choosing_it_again(app, client, auth, web_world):
    with app.app_context():
        percent_indicator(web_world)
        db.session.remove()
    auth.login("assessor", PASSWORD)
    dry = upload(client, office_workbook(), filename="镇街考核.xlsx")
    html = dry.get_data(as_text=True)
    assert dry.status_code == 200 and 'id="import-confirm"' in html and "确认导入" in html
    fields = confirm_fields(html)
    assert set(fields) >= {"token", "sha256"}  # and csrf_token when CSRF is on
    with app.app_context():
        from models import PendingImport

        held = db.session.get(PendingImport, fields["token"])
        assert held.username == "assessor" and held.sha256 == fields["sha256"]
        assert score_rows() == {}
        db.session.remove()
    done = client.post("/admin/import/confirm", data=fields)
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "已导入：新增 12 项" in done.get_data(as_text=True)
    with app.app_context():
        assert len(score_rows()) == 12
        assert db.session.get(PendingImport, fields["token"]) is None
    # A token is used once.
    again = client.post("/admin/import/confirm", data=fields)
    assert again.status_code in (400, 422) and "已失效" in again.get_data(as_text=True)


def test_confirm_refuses_a_tampered_expired_or_foreign_token(app, client, auth, web_world):
    from datetime import timedelta

    from models import PendingImport

    auth.login("assessor", PASSWORD)
    fields = confirm_fields(upload(client, csv_bytes(full_rows())).get_data(as_text=True))
    for changed in ({"token": fields["token"][:-2] + "xx"}, {"sha256": "0" * 64}):
        refused = client.post("/admin/import/confirm", data={**fields, **changed})
        assert refused.status_code in (400, 422)
        assert "已失效" in refused.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(PendingImport, fields["token"])
        if row is not None:  # a tampered try may use the token up: both are refusals
            row.expires_at = row.expires_at - timedelta(hours=1)
            db.session.commit()
        db.session.remove()
    fields = confirm_fields(upload(client, csv_bytes(full_rows())).get_data(as_text=True))
    with app.app_context():
        row = db.session.get(PendingImport, fields["token"])
        row.expires_at = row.expires_at - timedelta(hours=1)
        db.session.commit()
        db.session.remove()
    expired = client.post("/admin/import/confirm", data=fields)
    assert expired.status_code in (400, 422) and "已失效" in expired.get_data(as_text=True)
    # Another assessor's session cannot use the token.
    fields = confirm_fields(upload(client, csv_bytes(full_rows())).get_data(as_text=True))
    auth.logout()
    with app.app_context():
        from evaluation.accounts import operations as accounts

        accounts.create_user(SETUP, "assessor2", "assessor", PASSWORD)
        db.session.remove()
    auth.login("assessor2", PASSWORD)
    foreign = client.post("/admin/import/confirm", data=fields)
    assert foreign.status_code in (400, 422) and "已失效" in foreign.get_data(as_text=True)
    with app.app_context():
        assert score_rows() == {}


def test_confirm_checks_the_file_again_against_values_changed_since(app, client, auth, web_world):
    header = ["考核周期", "单位代码", "指标代码", "数值"]
    auth.login("assessor", PASSWORD)
    data = csv_bytes([["2026Q3", "445203100000", "U02", "24"]], header)
    fields = confirm_fields(upload(client, data, filename="hand.csv").get_data(as_text=True))
    with app.app_context():
        fill_towns(web_world, web_world.period())  # a colleague enters the value meanwhile
        db.session.remove()
    refused = client.post("/admin/import/confirm", data=fields)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "文件中为 24，现值为 25.5" in text
    with app.app_context():
        assert score_rows()[("445203100000", "U02")] == ("25.5", "")


def test_no_confirm_button_for_a_dry_run_with_problems_or_for_admins(app, client, auth, web_world):
    auth.login("assessor", PASSWORD)
    rows = full_rows()
    rows[4][5] = "很多"
    assert 'id="import-confirm"' not in upload(client, csv_bytes(rows)).get_data(as_text=True)
    auth.logout()
    auth.login("admin", PASSWORD)
    assert 'id="import-confirm"' not in upload(client, csv_bytes(full_rows())).get_data(
        as_text=True
    )


def test_wide_parser_skips_summary_rows_but_not_a_unit_named_like_one():
    units = {
        "445203100000": UnitInfo("445203100000", "云路镇", "town"),
        "445203199000": UnitInfo("445203199000", "合计镇", "town"),
    }
    table = [
        ("序号", "镇街", "D1"),
        (1, "云路镇", 10),
        (2, "合计镇", 12),
        ("全区合计", None, 22),
        (None, "平均值：", 11),
        ("注：D1 为直接评分", None, None),
    ]
    parsed = parse_table(table, period="2026Q3", units=units, indicators=INDICATORS)
    assert parsed.problems == []
    assert [(r.row, r.unit, r.indicator, r.value, r.column) for r in parsed.rows] == [
        (2, "445203100000", "D1", "10", "D1"),
        (3, "445203199000", "D1", "12", "D1"),
    ]


def test_cli_imports_a_gbk_wide_csv(app, runner, tmp_path):
    with app.app_context():
        world = build_world()
        open_period(world)
        db.session.remove()
    path = tmp_path / "镇街.csv"
    path.write_bytes("镇街,招商引资项目落地数\r\n玉滘镇,7\r\n合计,7\r\n".encode("gbk"))
    done = runner.invoke(args=["import-scores", str(path), "--period", "2026Q3"])
    assert done.exit_code == 0, done.output
    assert "读取方式：宽表：表头在第1行，1 个指标列" in done.output and "新增 1 项" in done.output
    with app.app_context():
        assert score_rows() == {("445203101000", "E02"): ("7", "")}


def test_wide_header_below_a_dimension_row_named_like_an_indicator():
    indicators = {**INDICATORS, "X1": IndicatorInfo("X1", "城乡融合", "direct", Decimal("10"))}
    units = {"445203100000": UnitInfo("445203100000", "云路镇", "town")}
    table = [
        ("单位", "城乡融合", None, None),  # 单位 merged down; a dimension over D1, T1.
        (None, "D1.直接", "T1 目标", "城乡融合（分）"),
        ("云路镇", 10, 5, 8),
    ]
    parsed = parse_table(table, period="2026Q3", units=units, indicators=indicators)
    assert parsed.problems == []
    assert [(r.indicator, r.value) for r in parsed.rows] == [("D1", "10"), ("T1", "5"), ("X1", "8")]

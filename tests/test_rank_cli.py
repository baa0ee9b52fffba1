"""``flask rank`` and ``flask flag-villages`` (docs/architecture.md#command-line)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from evaluation.commands.ranking import display_width
from evaluation.periods import operations as periods
from evaluation.scores import operations as ledger
from models import ReviewCase, db
from tests.ledger_world import build_world, fill_towns, open_period


@pytest.fixture
def world(app):
    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period)
        db.session.remove()
    return world


def approve(app, world):
    with app.app_context():
        period = world.period()
        periods.submit(world.user("assessor"), period)
        snapshot = periods.approve(
            world.user("supervisor"), period, override_reason="典型村数据另行报送"
        )
        sha = snapshot.sha256
        db.session.remove()
    return sha


def column_end(line: str, text: str) -> int:
    """The terminal column where ``text`` ends on ``line``."""
    return display_width(line[: line.index(text) + len(text)])


def test_display_width_counts_chinese_as_two_columns():
    assert display_width("曲溪街道") == 8
    assert display_width("A1") == 2
    assert display_width("（否决）") == 8


def test_rank_table_aligns_chinese_names_and_numbers(runner, world):
    result = runner.invoke(args=["rank", "--period", "2026Q3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2026年第三季度（2026Q3）镇街排名 · 填报中"
    assert "实时计算" in lines[1]
    header, rule, *rows = lines[2:]
    for title in ("排名", "代码", "名称", "镇域经济发展", "城乡融合", "加分", "减分", "总分",
                  "等次", "完整"):
        assert title in header
    assert set(rule) <= {"-", " "}
    assert [row.split()[2] for row in rows] == ["曲溪街道", "云路镇", "玉滘镇"]
    totals = ["100.00", "79.00", "67.00"]
    # Numbers are right-aligned under their header whatever the width of the names.
    for row, total in zip(rows, totals, strict=True):
        assert column_end(row, total) == column_end(header, "总分")
        assert row.split()[0] in {"1", "2", "3"}
    # The first subtotal lines up after names of different widths (曲溪街道 vs 云路镇).
    assert len({column_end(row, row.split()[3]) for row in rows}) == 1
    assert rows[0].split()[-2:] == ["好", "是"]


def test_rank_says_when_it_reads_the_approved_snapshot(app, runner, world):
    sha = approve(app, world)
    result = runner.invoke(args=["rank", "--period", "2026Q3"])
    assert result.exit_code == 0, result.output
    assert "已审定" in result.output.splitlines()[0]
    assert f"来自审定快照 SHA-256 {sha}" in result.output


def test_rank_json_is_the_ranking_answer(app, runner, world):
    sha = approve(app, world)
    result = runner.invoke(args=["rank", "--period", "2026Q3", "--format", "json"])
    assert result.exit_code == 0
    answer = json.loads(result.output)
    assert set(answer) == {"period", "level", "status", "from_snapshot", "snapshot_hash",
                           "results"}
    assert (answer["from_snapshot"], answer["snapshot_hash"]) == (True, sha)
    assert [(r["rank"], r["name"], r["total"], r["grade"]) for r in answer["results"]] == [
        (1, "曲溪街道", "100.00", "好"),
        (2, "云路镇", "79.00", "一般"),
        (3, "玉滘镇", "67.00", "一般"),
    ]


def test_rank_csv_has_one_row_per_town(runner, world):
    result = runner.invoke(args=["rank", "--period", "2026Q3", "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["rank", "unit", "name", "E", "U", "bonus", "penalty", "total", "grade",
                       "vetoed", "complete", "missing"]
    assert rows[2] == ["2", "445203100000", "云路镇", "28.00", "51.00", "0.00", "0.00", "79.00",
                       "一般", "false", "true", ""]
    assert len(rows) == 4


def test_rank_village_level_lists_typical_villages_with_missing_values(runner, world):
    result = runner.invoke(args=["rank", "--period", "2026Q3", "--level", "village"])
    assert result.exit_code == 0, result.output
    assert "典型村排名" in result.output
    for name in ("新桃村", "瑞联村", "汾水村"):
        assert name in result.output
    assert "普通村" not in result.output
    assert "缺 2 项" in result.output


def test_rank_table_and_csv_show_incomplete_units_without_a_grade(app, runner, world):
    with app.app_context():
        period = world.period()
        ledger.set_score(
            world.user("assessor"), period, world.unit("新桃村"), world.indicator("V01"), "45",
            version=None,
        )
        db.session.remove()
    result = runner.invoke(args=["rank", "--period", "2026Q3", "--level", "village"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()[4:]]
    # rank, code, name, V, bonus, penalty, total, grade, complete
    assert [row[2:] for row in rows] == [
        ["新桃村", "45.00", "0.00", "0.00", "45.00", "数据不全", "缺", "1", "项"],
        ["瑞联村", "0.00", "0.00", "0.00", "0.00", "数据不全", "缺", "2", "项"],
        ["汾水村", "0.00", "0.00", "0.00", "0.00", "数据不全", "缺", "2", "项"],
    ]
    assert "较差" not in result.output

    as_csv = runner.invoke(args=["rank", "--period", "2026Q3", "--level", "village",
                                 "--format", "csv"])
    rows = list(csv.reader(io.StringIO(as_csv.output)))
    assert rows[1] == ["1", "445203100201", "新桃村", "45.00", "0.00", "0.00", "45.00",
                       "数据不全", "false", "false", "V02"]

    # The JSON keeps the engine's fields as they are: grade and complete side by side.
    as_json = runner.invoke(args=["rank", "--period", "2026Q3", "--level", "village",
                                  "--format", "json"])
    first = json.loads(as_json.output)["results"][0]
    assert (first["grade"], first["complete"], first["missing"]) == ("较差", False, ["V02"])


def test_rank_of_an_unknown_period_fails_in_one_line(runner, world):
    result = runner.invoke(args=["rank", "--period", "2099Q1"])
    assert result.exit_code != 0
    assert result.output.strip().count("\n") == 0
    assert "2099Q1" in result.output


def test_flag_villages_table_json_and_sync(app, runner, world):
    result = runner.invoke(args=["flag-villages", "--period", "2026Q3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "典型村研判提示" in lines[0]
    # No village value is in: each is incomplete (medium), not scored low as if it got 0.
    assert any("新桃村" in line and "第一研判组" in line and "中" in line for line in lines)
    assert "得分偏低" not in result.output and "数据不全" in result.output
    assert lines[-1] == "共 3 个典型村，其中 3 个需研判"

    as_json = runner.invoke(args=["flag-villages", "--period", "2026Q3", "--format", "json"])
    flags = json.loads(as_json.output)["flags"]
    assert [f["unit"] for f in flags] == ["445203100201", "445203101202", "445203001203"]
    assert [(f["reasons"], f["priority"], f["complete"]) for f in flags] == [
        (["INCOMPLETE", "NO_RECENT_REVIEW"], "medium", False)
    ] * 3

    synced = runner.invoke(args=["flag-villages", "--period", "2026Q3", "--sync"])
    assert synced.exit_code == 0, synced.output
    assert "研判案：新开 3 个" in synced.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ReviewCase)) == 3
    again = runner.invoke(args=["flag-villages", "--period", "2026Q3", "--sync"])
    assert "新开 0 个，更新 0 个，保留 3 个" in again.output

    unknown = runner.invoke(args=["flag-villages", "--period", "2099Q1"])
    assert unknown.exit_code != 0 and "2099Q1" in unknown.output

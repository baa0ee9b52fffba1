"""One name per field (docs/rules.md#history-chain, "Labels"): an admin list's column header
and the history page's line for the same field read the same Chinese word.

The words below are written out, not read from ``evaluation/core/labels.py``: they are what
a person sees on the town, village, indicator and period lists, and the history page must
say the same when it shows the creation of such a record.
"""

from __future__ import annotations

import re

import pytest

from evaluation.core import labels
from evaluation.history import records
from tests.conftest import PASSWORD
from tests.ledger_world import build_world

#: (admin list, history filter showing one such record's creation, words both show)
CASES = [
    (
        "/admin/town/",
        {"unit": "445203100000"},  # 云路镇
        ["区划代码", "名称", "类型", "区县代码", "排序"],
    ),
    (
        "/admin/village/",
        {"unit": "445203100201"},  # 新桃村
        ["区划代码", "名称", "所属镇街", "典型村批次", "研判小组"],
    ),
    (
        "/admin/indicator/",
        {"indicator": "E01"},
        ["指标方案", "维度", "指标代码", "指标名称", "分值", "计分方法", "方向", "目标值"],
    ),
    (
        "/admin/period/",
        {"period": "2026Q3"},
        ["周期代码", "周期名称", "开始日期", "结束日期", "镇街指标方案", "村居指标方案"],
    ),
]


@pytest.fixture
def world(app):
    with app.app_context():
        build_world()


def headers(page: str) -> set[str]:
    """The text of each column header of an admin list."""
    cells = re.findall(r"<th[^>]*>(.*?)</th>", page, flags=re.S)
    return {re.sub(r"<[^>]+>|\s+", "", cell) for cell in cells}


def history_fields(page: str) -> set[str]:
    """The field names on the history page's lines ("名称：云路镇")."""
    return set(re.findall(r'<span class="text-muted">([^<：]+)：</span>', page))


@pytest.mark.parametrize(("listing", "history_filter", "words"), CASES)
def test_list_header_and_history_line_use_the_same_word(
    world, client, auth, listing, history_filter, words
):
    auth.login("auditor", PASSWORD)
    shown_in_list = headers(client.get(listing).get_data(as_text=True))
    shown_in_history = history_fields(
        client.get("/admin/history/", query_string=history_filter).get_data(as_text=True)
    )
    for word in words:
        assert word in shown_in_list, (listing, word, shown_in_list)
        assert word in shown_in_history, (listing, word, shown_in_history)


def test_dimensions_are_called_the_same_everywhere(world, client, auth):
    """The spec's 三大方面 are 维度 on every page: the menu, the indicator list, the history."""
    auth.login("admin", PASSWORD)
    assert "维度" in headers(client.get("/admin/indicator/").get_data(as_text=True))
    assert "方面" not in headers(client.get("/admin/indicator/").get_data(as_text=True))
    history = client.get("/admin/history/", query_string={"indicator": "E01"})
    assert "维度：" in history.get_data(as_text=True)
    assert "方面：" not in history.get_data(as_text=True)


def test_every_admin_list_reads_its_headers_from_the_one_table(app):
    """Each model view's columns are named as the history names the same entity's field."""
    checked = 0
    with app.test_request_context():
        for view in app.extensions["admin"][0]._views:
            model = getattr(view, "model", None)
            if model not in records.SPECS:
                continue
            entity = records.spec_for(model).entity
            for column, header in view._list_columns:
                assert str(header) == labels.field_label(entity, column), (view.endpoint, column)
                checked += 1
    assert checked > 50

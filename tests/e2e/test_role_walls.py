"""Role walls in Chromium (docs/rules.md#roles-and-permissions, docs/rules.md#security): a page a
role may not see answers 403 in Chinese,
its menu entry is hidden, and a visitor who is not logged in is sent to the login page."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from tests.e2e.conftest import login, screenshot

WALLS = [
    ("assessor", ["/admin/history/", "/admin/user/"]),
    ("reviewer", ["/admin/ranking/", "/admin/entry/"]),
]


@pytest.mark.parametrize(("role", "paths"), WALLS, ids=[role for role, _ in WALLS])
def test_a_role_meets_403_in_chinese(page, live_server, tmp_path, role, paths):
    login(page, live_server, role)
    nav = page.inner_text("nav")
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, path
        assert "403 · 无权访问" in page.inner_text("h1")
        assert "请联系系统管理员" in page.inner_text("body")
        assert page.locator("a:has-text('返回首页')").count() == 1
    screenshot(page, tmp_path, f"j5-walls-{role}-403")
    # The menu does not offer what the wall refuses.
    hidden = {"assessor": ["变更历史", "用户"], "reviewer": ["考核排名", "评分录入"]}[role]
    for name in hidden:
        assert name not in nav, name


def test_anonymous_is_sent_to_login(page, live_server, tmp_path):
    for path in ("/admin/", "/admin/entry/", "/admin/history/"):
        page.goto(f"{live_server.url}{path}")
        assert "/login" in page.url, path
        assert f"next={path}" in unquote(page.url), page.url
        assert page.locator("input[name=username]").count() == 1
    screenshot(page, tmp_path, "j5-walls-anonymous-login")

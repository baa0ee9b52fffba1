"""Logging in through the real login page in Chromium."""

from tests.e2e.conftest import login


def test_each_role_logs_in_and_reaches_its_dashboard(page, live_server, tmp_path):
    for role, name in [("admin", "系统管理员"), ("auditor", "审计")]:
        login(page, live_server, role)
        assert page.url.endswith("/admin/")
        assert name in page.inner_text("nav")
        page.screenshot(path=str(tmp_path / f"dashboard-{role}.png"), full_page=True)
        page.click("#user-menu")
        page.click("text=退出登录")
        page.wait_for_url("**/login")


def test_wrong_password_is_told_in_chinese(page, live_server):
    login(page, live_server, "admin", "not-the-password")
    assert "/login" in page.url
    assert "用户名或密码不正确" in page.inner_text("body")

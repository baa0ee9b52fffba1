from tests.conftest import PASSWORD


def test_login_page_is_chinese(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "担当作为考核评价台账" in response.get_data(as_text=True)


def test_login_reaches_dashboard(client, auth):
    response = auth.login("admin", PASSWORD)
    assert response.status_code == 302
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "系统管理员" in page.get_data(as_text=True)


def test_anonymous_visitor_is_asked_to_log_in(client):
    response = client.get("/admin/entry/", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == "/login"
    assert "请先登录" in page

"""Security promises of docs/rules.md#security: CSRF, throttling, hashing, cookies, headers,
redirects."""

import pytest

from evaluation import create_app
from evaluation.accounts import operations as accounts
from evaluation.auth import safe_next
from models import LoginFailure, db
from tests.conftest import PASSWORD, user


def test_password_is_stored_as_argon2id(ctx):
    stored = user("admin").password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert accounts.check_password(user("admin"), PASSWORD)
    assert not accounts.check_password(user("admin"), PASSWORD + "x")


def test_production_hasher_meets_owasp_minimum():
    hasher = accounts._DEFAULT_HASHER
    # OWASP: argon2id with at least 19 MiB memory and 2 iterations (or stronger).
    assert hasher.memory_cost >= 19 * 1024
    assert hasher.time_cost >= 2


def test_wrong_password_is_refused_in_chinese(client, auth):
    response = auth.login("admin", "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_account_is_locked_after_repeated_failures(app, client, auth):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert auth.login("assessor", "nope").status_code == 401
    locked = auth.login("assessor", PASSWORD)
    assert locked.status_code == 429
    assert "已暂时锁定" in locked.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    # Another account from another address is unaffected.
    other = client.post(
        "/login",
        data={"username": "auditor", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert other.status_code == 302


def test_address_is_locked_after_failures_on_many_accounts(app, auth):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    for name in ("u1", "u2", "u3"):
        auth.login(name, "nope")
    response = auth.login("supervisor", PASSWORD)
    assert response.status_code == 429


def test_failures_are_kept_in_the_database_for_all_workers(app, auth):
    auth.login("auditor", "nope")
    with app.app_context():
        keys = set(db.session.scalars(db.select(LoginFailure.key)))
    assert "user:auditor" in keys
    assert any(key.startswith("addr:") for key in keys)


def test_successful_login_clears_account_failures(app, client, auth):
    auth.login("auditor", "nope")
    assert auth.login("auditor", PASSWORD).status_code == 302
    with app.app_context():
        assert db.session.scalar(
            db.select(LoginFailure.id).where(LoginFailure.key == "user:auditor")
        ) is None


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/admin/period/", "/admin/period/"),
        ("https://evil.example/", None),
        ("//evil.example/x", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_next_stays_on_site(target, expected):
    assert safe_next(target) == expected


def test_login_honours_on_site_next_only(client):
    ok = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "next": "/admin/?x=1"}
    )
    assert ok.headers["Location"] == "/admin/?x=1"
    client.post("/logout")
    evil = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert evil.headers["Location"] == "/admin/"


def test_session_cookie_flags(client, auth):
    response = auth.login("admin", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_secure_cookie_when_configured(monkeypatch, tmp_path):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_error_pages_are_generic(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "页面不存在" in body
    assert "Traceback" not in body and "werkzeug" not in body.lower()


def test_unexpected_error_shows_no_internals(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom-test")
    def boom():
        raise RuntimeError("SELECT secret FROM internals")

    response = client.get("/boom-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "系统内部错误" in body
    assert "SELECT" not in body and "RuntimeError" not in body


def test_csrf_is_enforced_when_enabled(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert refused.status_code == 400
    assert client.get("/admin/").status_code == 302

    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    accepted = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert accepted.status_code == 302
    # Logging out is a POST and needs the token too.
    assert client.post("/logout").status_code == 400


def test_logout_requires_post(client, auth):
    auth.login("admin", PASSWORD)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/admin/").status_code == 302


def test_user_changes_own_password(app, client, auth):
    auth.login("assessor", PASSWORD)
    weak = client.post(
        "/account/password", data={"current": PASSWORD, "new": "short", "confirm": "short"}
    )
    assert "至少 10 位" in weak.get_data(as_text=True)
    wrong = client.post(
        "/account/password",
        data={"current": "not-it", "new": "a-new-long-password", "confirm": "a-new-long-password"},
    )
    assert "当前密码不正确" in wrong.get_data(as_text=True)
    done = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "a-new-long-password", "confirm": "a-new-long-password"},
    )
    assert done.status_code == 302
    client.post("/logout")
    assert client.post(
        "/login", data={"username": "assessor", "password": "a-new-long-password"}
    ).status_code == 302
    with app.app_context():
        from models import HistoryEvent

        event = db.session.scalar(
            db.select(HistoryEvent).where(HistoryEvent.action == "user.password_change")
        )
        assert event is not None and event.entity_key == "assessor"
        assert "argon2" not in (event.before or "") + (event.after or "")


def test_inactive_user_cannot_log_in(app, client):
    with app.app_context():
        from evaluation.history import records
        from tests.conftest import SEED_ACTOR

        records.update(SEED_ACTOR, user("reviewer"), {"active": False})
    response = client.post("/login", data={"username": "reviewer", "password": PASSWORD})
    assert response.status_code == 401

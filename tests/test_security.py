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


def login_from(client, username: str, password: str, address: str = "10.0.0.1", **headers):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def age_failures(app, seconds: int) -> None:
    """Move every counted failure ``seconds`` into the past (instead of sleeping)."""
    from datetime import timedelta

    with app.app_context():
        for failure in db.session.scalars(db.select(LoginFailure)):
            failure.at -= timedelta(seconds=seconds)
        db.session.commit()


def test_failures_make_this_address_wait_for_this_account_only(app, client):
    free = app.config["LOGIN_FREE_FAILURES"]
    for _ in range(free):
        assert login_from(client, "assessor", "nope").status_code == 401
    held = login_from(client, "assessor", PASSWORD)
    assert held.status_code == 429
    assert held.headers["Retry-After"] == "30"
    assert "请 30 秒后再试" in held.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    # The real user, from their own address, gets in with the right password.
    assert login_from(app.test_client(), "assessor", PASSWORD, "10.9.9.9").status_code == 302
    # Other accounts from the same address are not held up.
    assert login_from(app.test_client(), "auditor", PASSWORD).status_code == 302


def test_the_wait_doubles_with_each_further_failure_and_ends(app, client):
    free = app.config["LOGIN_FREE_FAILURES"]
    for _ in range(free):
        login_from(client, "assessor", "nope")
    age_failures(app, 31)  # the first wait (30 s) is over: one more guess is checked
    assert login_from(client, "assessor", "nope").status_code == 401
    assert login_from(client, "assessor", PASSWORD).headers["Retry-After"] == "60"
    age_failures(app, 61)
    assert login_from(client, "assessor", PASSWORD).status_code == 302


def test_many_failing_accounts_from_one_address_lock_out_no_one(app, client):
    """Behind one office NAT, one person's typos must not lock the others out."""
    for n in range(25):
        assert login_from(client, f"u{n}", "nope").status_code == 401
    assert login_from(app.test_client(), "supervisor", PASSWORD).status_code == 302


def test_forwarded_for_is_ignored_unless_a_proxy_is_configured(app, client):
    free = app.config["LOGIN_FREE_FAILURES"]
    assert app.config["PROXY_FIX_X_FOR"] == 0
    for n in range(free):
        login_from(client, "assessor", "nope", "10.0.0.1", **{"X-Forwarded-For": f"1.2.3.{n}"})
    # A made-up X-Forwarded-For does not get the attacker a fresh address.
    spoofed = login_from(client, "assessor", "nope", "10.0.0.1", **{"X-Forwarded-For": "9.9.9.9"})
    assert spoofed.status_code == 429


def test_behind_a_configured_proxy_each_client_has_its_own_address(tmp_path):
    proxied = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}",
            "SECRET_KEY": "k",
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_FAST": True,
            "PROXY_FIX_X_FOR": 1,
        }
    )
    with proxied.app_context():
        db.create_all()
        accounts.create_user(accounts_actor(), "assessor", "assessor", PASSWORD)
        db.session.remove()
    client = proxied.test_client()
    nginx = "127.0.0.1"  # every request reaches the app from the proxy
    for _ in range(proxied.config["LOGIN_FREE_FAILURES"]):
        login_from(client, "assessor", "nope", nginx, **{"X-Forwarded-For": "203.0.113.5"})
    assert login_from(
        client, "assessor", PASSWORD, nginx, **{"X-Forwarded-For": "203.0.113.5"}
    ).status_code == 429
    assert login_from(
        client, "assessor", PASSWORD, nginx, **{"X-Forwarded-For": "198.51.100.7"}
    ).status_code == 302
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


def accounts_actor():
    from evaluation.core.writing import SystemActor

    return SystemActor("test-setup")


def test_the_current_password_check_is_throttled_too(app, client, auth):
    auth.login("auditor")
    new = "another-long-pass"
    wrong = {"current": "not-my-password", "new": new, "confirm": new}
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        response = client.post("/account/password", data=wrong)
        assert "当前密码不正确" in response.get_data(as_text=True)
    held = client.post("/account/password", data={**wrong, "current": PASSWORD})
    assert held.status_code == 429
    assert "秒后再试" in held.get_data(as_text=True)
    with app.app_context():
        assert accounts.check_password(user("auditor"), PASSWORD)  # unchanged


def test_failures_are_kept_in_the_database_for_all_workers(app, auth):
    auth.login("auditor", "nope")
    with app.app_context():
        keys = set(db.session.scalars(db.select(LoginFailure.key)))
    assert keys == {"pair:auditor|127.0.0.1"}


def test_successful_login_clears_the_failures_of_that_address(app, client, auth):
    auth.login("auditor", "nope")
    login_from(app.test_client(), "auditor", "nope", "10.1.1.1")
    assert auth.login("auditor", PASSWORD).status_code == 302
    with app.app_context():
        keys = list(db.session.scalars(db.select(LoginFailure.key)))
    assert keys == ["pair:auditor|10.1.1.1"]


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


# --- sessions end at logout, password change and deactivation (docs/rules.md#security) ---


def _copied_cookie(app, client) -> str:
    """The session cookie as an attacker would copy it from a logged-in browser."""
    return client.get_cookie("session").value


def _with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_a_copied_cookie_dies_at_logout(app, client, auth):
    auth.login("auditor")
    stolen = _copied_cookie(app, client)
    assert _with_cookie(app, stolen).get("/admin/").status_code == 200
    auth.logout()
    response = _with_cookie(app, stolen).get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_copied_cookie_dies_at_password_change(app, client, auth):
    auth.login("auditor")
    stolen = _copied_cookie(app, client)
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "another-long-pass", "confirm": "another-long-pass"},
    )
    assert response.status_code == 302
    # The one who changed it stays signed in; the copy does not.
    assert client.get("/admin/").status_code == 200
    assert _with_cookie(app, stolen).get("/admin/").status_code == 302


def test_a_copied_cookie_dies_when_an_admin_sets_the_password_or_deactivates(app, auth):
    victim = app.test_client()
    victim.post("/login", data={"username": "auditor", "password": PASSWORD})
    stolen = _copied_cookie(app, victim)
    with app.app_context():
        accounts.set_password(user("admin"), user("auditor"), "brand-new-password")
    assert _with_cookie(app, stolen).get("/admin/").status_code == 302

    victim = app.test_client()
    victim.post("/login", data={"username": "reviewer", "password": PASSWORD})
    stolen = _copied_cookie(app, victim)
    assert _with_cookie(app, stolen).get("/admin/").status_code == 200
    with app.app_context():
        from evaluation.history import records

        records.update(user("admin"), user("reviewer"), {"active": False})
        records.update(user("admin"), user("reviewer"), {"active": True})
    assert _with_cookie(app, stolen).get("/admin/").status_code == 302


def test_the_session_nonce_stays_out_of_the_history(app, client, auth):
    from models import HistoryEvent

    auth.login("admin")
    new = {"current": PASSWORD, "new": "x" * 12, "confirm": "x" * 12}
    assert client.post("/account/password", data=new).status_code == 302
    with app.app_context():
        texts = [f"{e.before}{e.after}" for e in db.session.scalars(db.select(HistoryEvent))]
        nonce = user("admin").session_nonce
    assert not any(nonce in text for text in texts)


# --- smaller findings: caching, dropped connections --------------------------------------


def test_pages_for_a_signed_in_user_are_never_stored(app, client, auth):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    auth.login("auditor")
    for url in ("/admin/", "/admin/history/", "/admin/user/", "/account/password"):
        response = client.get(url)
        assert response.headers.get("Cache-Control") == "no-store", url
    static = client.get("/static/ledger.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()
    with app.app_context():
        token = accounts.create_token(user("admin"), user("auditor"))
    answer = app.test_client().get("/api/v1/periods", headers={"Authorization": f"Bearer {token}"})
    assert answer.headers.get("Cache-Control") == "no-store"


def test_a_connection_dropped_by_the_database_is_replaced_not_a_500(app, client, auth):
    """PostgreSQL restarts and idle timeouts end connections the pool still holds."""
    from sqlalchemy import text

    auth.login("auditor")
    assert client.get("/admin/history/").status_code == 200
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has no server to drop connections")
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        from sqlalchemy import create_engine

        killer = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
        with killer.connect() as conn:  # a connection of its own, outside the app's pool
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ))
        killer.dispose()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/admin/history/").status_code == 200


def _script_policy(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("script-src"))


@pytest.mark.parametrize(
    ("role", "urls"),
    [
        ("admin", ["/admin/", "/admin/user/", "/admin/user/new/", "/admin/town/", "/admin/token/"]),
        ("auditor", ["/admin/history/", "/admin/ranking/", "/admin/cadre-ledger/"]),
        ("assessor", ["/admin/entry/", "/admin/import/", "/account/password"]),
    ],
)
def test_no_inline_script_runs_without_this_responses_nonce(app, client, auth, role, urls):
    """CSP without 'unsafe-inline': every inline script carries the response's nonce, and
    no page has an inline handler (onclick=…) the browser would now refuse."""
    import re

    pages = [client.get("/login")]
    auth.login(role)
    pages += [client.get(url) for url in urls]
    nonces = set()
    for response in pages:
        assert response.status_code == 200, response.request.path
        policy = _script_policy(response)
        assert "'unsafe-inline'" not in policy
        nonce = re.fullmatch(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{16,})'", policy).group(1)
        nonces.add(nonce)
        html = response.get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            if "src=" in tag or 'type="application/json"' in tag:
                continue
            assert f'nonce="{nonce}"' in tag, (response.request.path, tag)
        assert not re.findall(r"<[^>]+\son[a-z]+\s*=", html), response.request.path
    assert len(nonces) == len(pages)  # a fresh nonce per response

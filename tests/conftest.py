"""Fixtures: a fresh app and database per test, on SQLite and (when
``TEST_DATABASE_URL`` is set) on PostgreSQL too; users of every role."""

from __future__ import annotations

import os
import tempfile

import pytest
from sqlalchemy import create_engine, text

from evaluation import create_app
from evaluation.accounts import operations as accounts
from evaluation.core.writing import SystemActor
from models import ROLES, db
from models.users import UNIT_ROLES

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
PASSWORD = "correct-horse-battery"
SEED_ACTOR = SystemActor("test-setup")
#: The history signing key of test apps without an instance folder of their own, made
#: once per test run: never the project's instance/ key (docs/history.md#checkpoints).
KEY_FOLDER = tempfile.mkdtemp(prefix="ledger-test-keys-")


def reset_postgresql(url: str) -> None:
    """Drop everything in the test database's public schema."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def database_url(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger-test.sqlite3'}"
    url = os.environ["TEST_DATABASE_URL"]
    reset_postgresql(url)
    return url


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


def test_app(url: str, instance=None):
    """Create a test app on ``url`` with an empty schema (instance folder optional)."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            "FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION": True,
            "PASSWORD_HASH_FAST": True,
            "HISTORY_SIGNING_KEY": os.path.join(KEY_FOLDER, "history-signing-key.pem"),
        }
    )
    if instance is not None:
        # Demo credentials go to the instance folder: keep the project's own out of tests.
        app.instance_path = str(instance)
        app.config["HISTORY_SIGNING_KEY"] = None  # the instance folder's own key
    with app.app_context():
        db.create_all()
        db.session.remove()
    return app


test_app.__test__ = False  # a helper, not a test


@pytest.fixture
def app(backend, tmp_path):
    app = test_app(database_url(backend, tmp_path))
    # 佐证材料 go to the test's own folder, never the project's instance/evidence.
    app.config["EVIDENCE_STORE"] = str(tmp_path / "evidence")
    with app.app_context():
        for role in ROLES:
            if role in UNIT_ROLES:  # a reporter needs its town: tests.ledger_world makes it
                continue
            display_name = f"测试{ROLES[role]}"
            accounts.create_user(SEED_ACTOR, role, role, PASSWORD, display_name=display_name)
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str = "admin", password: str = PASSWORD):
        return self._client.post(
            "/login", data={"username": username, "password": password}, follow_redirects=False
        )

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.remove()


def user(username: str):
    """Return the test user with this name (inside an app context)."""
    from models import User

    return db.session.scalar(db.select(User).where(User.username == username))

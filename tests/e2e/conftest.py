"""Browser tests: the system Chromium driven by Playwright against a live server.

Skipped with a stated reason when Chromium is absent, unless ``E2E_REQUIRED=1``.
Playwright never downloads a browser here: it launches ``/usr/bin/chromium``.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from evaluation import create_app
from evaluation.accounts import operations as accounts
from evaluation.demo.district import seed_demo
from models import ROLES, db
from models.users import UNIT_ROLES
from tests.conftest import PASSWORD, SEED_ACTOR

CHROMIUM = Path("/usr/bin/chromium")
#: Every journey's screenshots are copied here too, for a person to look at after the run.
SHOTS = Path("/tmp/journeys")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    reason = None
    if not CHROMIUM.exists():
        reason = "Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            reason = "the playwright package is not installed"
    if reason:
        if os.environ.get("E2E_REQUIRED") == "1":
            pytest.fail(f"browser tests are required (E2E_REQUIRED=1) but {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


def build_live_app(tmp_path, *, seed=None):
    """Create an app on a fresh SQLite file with the five role users (or demo data)."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
            "SECRET_KEY": "e2e-secret",
            "PASSWORD_HASH_FAST": True,
            "WTF_CSRF_ENABLED": True,
        }
    )
    with app.app_context():
        db.create_all()
        if seed is None:
            for role in ROLES:
                if role in UNIT_ROLES:  # a reporter needs its town: tests.ledger_world makes it
                    continue
                name = str(ROLES[role])
                accounts.create_user(SEED_ACTOR, role, role, PASSWORD, display_name=name)
        else:
            seed(app)
        db.session.remove()
    return app


@pytest.fixture
def live_server(tmp_path):
    server = LiveServer(build_live_app(tmp_path)).start()
    yield server
    server.stop()
    with server.app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """The demo ledger (docs/rules.md#demo-data) seeded once; each demo_server starts on its own
    copy."""
    folder = tmp_path_factory.mktemp("demo-seed")
    app = build_live_app(folder, seed=lambda app: seed_demo(password_factory=lambda: PASSWORD))
    with app.app_context():
        db.engine.dispose()  # closes the file, so the copy below is complete
    return folder / "e2e.sqlite3"


@pytest.fixture
def demo_server(demo_database, tmp_path):
    """A live server on a fresh copy of the demo ledger: journeys that write stay apart.

    The demo users log in with ``tests.conftest.PASSWORD``.
    """
    yield from serve_demo_copy(demo_database, tmp_path)


def serve_demo_copy(demo_database: Path, folder: Path):
    """Serve a copy of the seeded demo ledger from ``folder`` until the fixture ends."""
    shutil.copyfile(demo_database, folder / "e2e.sqlite3")
    server = LiveServer(build_live_app(folder, seed=lambda app: None)).start()
    yield server
    server.stop()
    with server.app.app_context():
        db.engine.dispose()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def login(page, server, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login page."""
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def logout(page) -> None:
    page.click("#user-menu")
    page.click("text=退出登录")
    page.wait_for_url("**/login")


def screenshot(page, tmp_path, name: str) -> Path:
    """Save a full-page screenshot under the test's folder and copy it to /tmp/journeys/."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SHOTS / path.name)
    return path

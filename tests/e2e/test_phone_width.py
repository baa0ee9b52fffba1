"""The review pages and the dashboard on a phone, 390 px wide (docs/accessibility.md): no sideways
scrolling, tables shown as cards, axe-core clean; screenshots in /tmp/journeys/ to look at."""

from __future__ import annotations

import shutil

import pytest

from models import db
from tests.e2e.conftest import LiveServer, build_live_app, login, screenshot
from tests.e2e.test_accessibility import assert_no_violations

WIDTH = 390


@pytest.fixture(scope="module")
def phone_server(demo_database, tmp_path_factory):
    folder = tmp_path_factory.mktemp("phone")
    shutil.copyfile(demo_database, folder / "e2e.sqlite3")
    server = LiveServer(build_live_app(folder, seed=lambda app: None)).start()
    yield server
    server.stop()
    with server.app.app_context():
        db.engine.dispose()


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def assert_no_sideways_scroll(page) -> None:
    widths = page.evaluate(
        "() => ({page: document.documentElement.scrollWidth, body: document.body.scrollWidth,"
        " view: window.innerWidth})"
    )
    assert widths["view"] == WIDTH
    assert widths["page"] <= WIDTH and widths["body"] <= WIDTH, (page.url, widths)


def assert_cards(page, table: str) -> None:
    """The table's rows are laid out as blocks (cards) each cell labelled by its column."""
    shown = page.evaluate(
        """(selector) => {
          const table = document.querySelector(selector);
          const row = table.querySelector('tbody tr');
          const cell = row.querySelector('td[data-label]');
          return {row: getComputedStyle(row).display, cell: getComputedStyle(cell).display,
                  label: getComputedStyle(cell, '::before').content};
        }""",
        table,
    )
    assert shown["row"] == "block" and shown["cell"] == "block", shown
    assert shown["label"] not in ("none", "normal", ""), shown


def open_as(page, server, user: str, path: str) -> None:
    login(page, server, user)
    page.goto(f"{server.url}{path}")
    page.wait_for_load_state("networkidle")


def test_review_board_and_village_page_on_a_phone(phone, phone_server, tmp_path):
    open_as(phone, phone_server, "reviewer", "/admin/review/")
    assert_no_sideways_scroll(phone)
    assert_cards(phone, "table.review-board")
    assert_no_violations(phone)
    screenshot(phone, tmp_path, "phone-review-board")

    phone.click("table.review-board tbody tr a")
    phone.wait_for_load_state("networkidle")
    assert "/admin/review/village/" in phone.url
    assert_no_sideways_scroll(phone)
    assert phone.locator("select[name=conclusion]").input_value() == ""
    assert_no_violations(phone)
    screenshot(phone, tmp_path, "phone-review-village")

    # The same page at a desktop width: still clean, the records a table again.
    phone.set_viewport_size({"width": 1400, "height": 900})
    assert phone.evaluate(
        "() => getComputedStyle(document.querySelector('#review-records tbody tr')).display"
    ) == "table-row"
    assert_no_violations(phone)


@pytest.mark.parametrize(
    ("user", "table"),
    [
        ("reviewer", "#panel-cases table"),
        ("supervisor", "#panel-flagged table"),
        ("auditor", "#panel-events table"),
    ],
)
def test_dashboard_on_a_phone(phone, phone_server, tmp_path, user, table):
    open_as(phone, phone_server, user, "/admin/")
    assert_no_sideways_scroll(phone)
    assert_cards(phone, table)
    assert_no_violations(phone)
    screenshot(phone, tmp_path, f"phone-dashboard-{user}")


@pytest.mark.parametrize(
    ("user", "path"),
    [
        ("auditor", "/admin/history/"),
        ("supervisor", "/admin/surveys/"),
        ("supervisor", "/admin/surveys/1"),
        ("admin", "/admin/surveys/2"),
        ("admin", "/admin/ranking/?period=2026Q1"),
    ],
)
def test_history_surveys_and_an_approved_ranking_on_a_phone(phone, phone_server, user, path):
    """The history page with its checkpoint panel, the 民主测评 pages (the tally scrolls inside
    its own box) and an approved period's ranking with its signed checkpoint: nothing makes
    the page itself scroll sideways."""
    open_as(phone, phone_server, user, path)
    assert phone.url.endswith(path)
    assert_no_sideways_scroll(phone)

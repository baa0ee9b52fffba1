"""民主测评 in the browser (docs/surveys.md): a rater opens the slip's address on a 390 px
phone, votes (the 优秀 cap holds as they click), confirms, is thanked; the same code is then
refused; after the close the supervisor's tally matches the ballot. Screenshots in
/tmp/journeys/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from evaluation.surveys import operations as surveys
from models import Survey, db
from tests.e2e.conftest import login, screenshot
from tests.e2e.test_accessibility import assert_no_violations
from tests.survey_world import SETUP, codes_for, make_survey

WIDTH = 390


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_a_rater_votes_on_a_phone_and_the_tally_matches(live_server, phone, page, tmp_path):
    app = live_server.app
    with app.app_context():
        survey = make_survey(cap=2)
        code = codes_for(survey, "群众代表", 1)[0]
        survey_id = survey.id
        targets = [(t.id, t.name) for t in survey.targets]
        db.session.remove()
    # The slip's QR code opens the ballot with the code filled in.
    phone.goto(f"{live_server.url}/vote?code={code}")
    expect(phone.locator("#survey-title")).to_have_text("2026年度云路镇领导干部民主测评")
    widths = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == WIDTH
    phone.locator(f"#target-{targets[0][0]} summary").click()
    expect(phone.locator(f"#target-{targets[0][0]} .report-text")).to_have_text("张建国的述职")
    screenshot(phone, tmp_path, "survey-ballot-phone")
    assert_no_violations(phone)

    def choose(target_id: int, option: str) -> None:
        phone.locator(f"#target-{target_id} .choice-{option} span").click()

    choose(targets[0][0], "excellent")
    choose(targets[1][0], "excellent")
    # At the cap the other targets' 优秀 can no longer be chosen.
    expect(phone.locator(f"#target-{targets[2][0]} .choice-excellent input")).to_be_disabled()
    expect(phone.locator("#excellent-count")).to_contain_text("优秀 2/2（已满）")
    # Submitting with a target left out marks it, and nothing is sent.
    phone.locator("#submit-ballot").click()
    expect(phone.locator(f"#target-{targets[2][0]}")).to_have_class(re.compile("missing"))
    choose(targets[2][0], "competent")
    choose(targets[3][0], "basic")
    phone.locator("#submit-ballot").click()
    dialog = phone.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("合计：优秀 2，称职 1，基本称职 1")
    screenshot(phone, tmp_path, "survey-confirm-phone")
    phone.locator("#confirm-cast").click()
    phone.wait_for_url("**/vote/thanks")
    expect(phone.locator("#thanks")).to_contain_text("感谢您的参与")
    assert code not in phone.content()
    screenshot(phone, tmp_path, "survey-thanks-phone")
    assert_no_violations(phone)

    # The same slip again: refused, in Chinese.
    phone.goto(f"{live_server.url}/vote?code={code}")
    expect(phone.locator("#vote-message")).to_have_text(
        "该测评码已经投过票，每个测评码只能投票一次。"
    )
    screenshot(phone, tmp_path, "survey-used-code-phone")
    assert_no_violations(phone)

    with app.app_context():
        surveys.close(SETUP, db.session.get(Survey, survey_id))
        db.session.remove()
    login(page, live_server, "supervisor")
    page.goto(f"{live_server.url}/admin/surveys/{survey_id}")
    totals = page.locator("#tally-table tr.tally-total")
    expect(totals).to_have_count(4)
    # One ballot from 群众代表 (weight 25; the other groups cast none): each target's
    # score is its option's score.
    expected = [
        ("张建国", "100.00"),
        ("李卫东", "100.00"),
        ("王秀英", "80.00"),
        ("陈志强", "60.00"),
    ]
    for (target_id, name), (want_name, score) in zip(targets, expected, strict=True):
        assert name == want_name
        row = page.locator(f"#tally-table tr.tally-total[data-target='{target_id}']")
        expect(row.locator(".tally-score")).to_have_text(score)
    expect(page.locator("#tally-chart")).to_have_attribute("data-rendered", "1")
    screenshot(page, tmp_path, "survey-tally")

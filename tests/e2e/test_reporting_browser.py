"""镇街报送 in the browser (docs/reporting.md): the reporter fills and submits its town with a
photo and a PDF from a phone-sized window; the assessor accepts some, adjusts one with a
reason and returns one; the reporter fixes and resubmits; the assessor accepts; the entry
page and the ranking show the assessed values. Screenshots in /tmp/journeys/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from evaluation.accounts import operations as accounts
from evaluation.history import records
from evaluation.periods import operations as periods
from evaluation.reporting import demo as samples
from evaluation.reporting import operations as reporting
from evaluation.scores import operations as ledger
from models import ROLES, Period, db
from models.users import UNIT_ROLES
from tests.conftest import PASSWORD, SEED_ACTOR
from tests.e2e.conftest import LiveServer, build_live_app, login, screenshot
from tests.ledger_world import FULL_TOWN_VALUES, build_world

YUNLU = "445203100000"
WIDTH = 390


def seed(app) -> None:
    for role in ROLES:
        if role not in UNIT_ROLES:
            accounts.create_user(SEED_ACTOR, role, role, PASSWORD, display_name=str(ROLES[role]))
    world = build_world()
    period = db.session.scalar(db.select(Period).where(Period.code == "2026Q3"))
    periods.open_period(SEED_ACTOR, period)
    records.update(SEED_ACTOR, period, {"report_due": reporting.local_today() + timedelta(days=3)})
    db.session.execute(
        text("UPDATE indicator SET evidence_required = '项目清单、验收报告' WHERE code = 'E01'")
    )
    db.session.commit()
    assessor = world.user("assessor")
    for code, values in FULL_TOWN_VALUES.items():
        if code == YUNLU:
            continue  # 云路镇 reports its own
        for indicator, value in values.items():
            ledger.set_score(
                assessor, period, world.unit(code), world.indicator(indicator), value, version=None
            )


@pytest.fixture
def server(tmp_path):
    server = LiveServer(build_live_app(tmp_path, seed=seed)).start()
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


def no_sideways_scroll(page) -> None:
    widths = page.evaluate(
        "() => ({page: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    assert widths["page"] <= widths["view"] == WIDTH, widths


def save_claim(phone, code: str, value: str, statement: str = "") -> None:
    card = f"#claim-{code}"
    if phone.locator(f"{card} select[name=value]").count():
        phone.select_option(f"{card} select[name=value]", value)
    else:
        phone.fill(f"{card} input[name=value]", value)
    if statement:
        phone.fill(f"{card} textarea[name=statement]", statement)
    phone.click(f"{card} .claim-form button")
    phone.wait_for_load_state("networkidle")
    assert "的自评" in phone.inner_text(".alert-success"), phone.inner_text("body")


def upload(phone, code: str, path) -> None:
    phone.set_input_files(f"#file-{code}", str(path))
    phone.click(f"#claim-{code} .evidence-upload button")
    phone.wait_for_load_state("networkidle")
    assert f"已上传 {code} 的佐证材料" in phone.inner_text("body")


def verdict(page, code: str, decision: str, *, value: str = "", reason: str = "") -> None:
    row = f"#row-{YUNLU}-{code}"
    if value:
        page.fill(f"#adjust-value-{YUNLU}-{code}", value)
    if reason:
        page.fill(f"#reason-{YUNLU}-{code}", reason)
    page.click(f"{row} button.verdict-{decision}")
    page.wait_for_load_state("networkidle")


def test_a_town_reports_and_the_assessor_verifies(browser, phone, page, server, tmp_path):
    url = server.url
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(samples.sample_photo("2026:09:20 09:41:07", 23.5672, 116.3914))
    report = tmp_path / "验收报告.pdf"
    report.write_bytes(samples.sample_pdf("acceptance report"))

    # 1. The reporter, on a phone: every indicator, a refused submit, a photo and a PDF.
    login(phone, server, "reporter")
    assert "距报送截止还有 3 天" in phone.inner_text("#own-days-left")
    for wall in ("/admin/ranking/", "/admin/entry/", "/admin/verification/", "/admin/period/"):
        assert phone.goto(f"{url}{wall}").status == 403, wall
    phone.goto(f"{url}/admin/")
    phone.click("text=填写和报送本镇街自评")
    phone.wait_for_url("**/admin/reporting/**")
    assert "须附佐证材料：项目清单、验收报告" in phone.inner_text("#claim-E01")
    assert phone.locator("#file-E01").count() == 0  # no claim yet, no upload
    save_claim(phone, "E01", "6.9", "新增两个项目投产")
    assert phone.get_attribute("#file-E01", "accept") == "image/*,application/pdf"
    assert phone.get_attribute("#file-E01", "capture") == "environment"
    save_claim(phone, "E02", "9")
    save_claim(phone, "U01", "A", "整治全覆盖")
    save_claim(phone, "U02", "28")
    phone.click("#submit-town button")
    phone.wait_for_load_state("networkidle")
    assert "以下指标须附佐证材料，尚未上传：E01 地区生产总值增速" in phone.inner_text("body")
    upload(phone, "E01", report)
    upload(phone, "U01", photo)
    assert phone.locator("#claim-U01 img.evidence-thumb").count() == 1
    assert "拍摄时间 2026-09-20 09:41" in phone.inner_text("#claim-U01")
    no_sideways_scroll(phone)
    screenshot(phone, tmp_path, "r1-reporter-phone-filled")
    phone.click("#submit-town button")
    phone.wait_for_load_state("networkidle")
    assert "已报送 4 项自评" in phone.inner_text("body")
    assert phone.inner_text("#town-state") == "已报送"
    no_sideways_scroll(phone)
    screenshot(phone, tmp_path, "r2-reporter-phone-submitted")

    # 2. The assessor: accepts two, adjusts one with a reason, returns one.
    login(page, server, "assessor")
    page.goto(f"{url}/admin/verification/?period=2026Q3")
    town = page.inner_text(f"#town-{YUNLU}")
    assert "云路镇" in town and "新增两个项目投产" in town and "验收报告.pdf" in town
    assert page.locator(f"#town-{YUNLU} img.evidence-thumb").count() == 1
    pdf_link = page.locator(f"#row-{YUNLU}-E01 a", has_text="在浏览器中查看")
    assert "inline=1" in pdf_link.get_attribute("href")
    verdict(page, "E01", "accept")
    verdict(page, "E02", "accept")
    verdict(page, "U02", "adjust", value="25", reason="两处创建点未验收，核减 3 分")
    verdict(page, "U01", "return", reason="照片看不清整治范围，请补拍")
    row = page.inner_text(f"#row-{YUNLU}-U02")
    assert "28" in row and "25" in row and "-3" in row and "已调整" in row
    assert "退回补充" in page.inner_text(f"#row-{YUNLU}-U01")
    screenshot(page, tmp_path, "r3-assessor-verified")

    # 3. The reporter reads why, fixes the returned claim and sends it again.
    phone.goto(f"{url}/admin/reporting/")
    assert "考核组意见：照片看不清整治范围，请补拍" in phone.inner_text("#claim-U01")
    assert "考核组意见：两处创建点未验收，核减 3 分" in phone.inner_text("#claim-U02")
    save_claim(phone, "U01", "B", "补拍整治前后照片")
    phone.click("#submit-town button")
    phone.wait_for_load_state("networkidle")
    assert "已报送 1 项自评" in phone.inner_text("body")
    screenshot(phone, tmp_path, "r4-reporter-resubmitted")

    # 4. The assessor accepts it: every claim settled, the scores in place.
    page.goto(f"{url}/admin/verification/?period=2026Q3")
    verdict(page, "U01", "accept")
    assert "已采纳" in page.inner_text(f"#row-{YUNLU}-U01")
    page.goto(f"{url}/admin/entry/?period=2026Q3&level=town&unit={YUNLU}")
    assert page.input_value(f"#cell-{YUNLU}-E01 input[type=number]") == "6.9"
    assert page.input_value(f"#cell-{YUNLU}-E02 input[type=number]") == "9"
    assert page.input_value(f"#cell-{YUNLU}-U02 input[type=number]") == "25"
    assert page.input_value(f"#cell-{YUNLU}-U01 select") == "B"
    screenshot(page, tmp_path, "r5-entry-assessed")
    page.goto(f"{url}/admin/ranking/?period=2026Q3")
    ranking = page.inner_text("body")
    assert "云路镇" in ranking
    screenshot(page, tmp_path, "r6-ranking")
    # The history names the claim on the score it became.
    with server.app.app_context():
        import json

        from models import HistoryEvent

        events = db.session.scalars(
            db.select(HistoryEvent).where(
                HistoryEvent.action == "score.set", HistoryEvent.entity_key.like(f"{YUNLU}/%")
            )
        ).all()
        assert len(events) == 4 and all("claim" in json.loads(e.after) for e in events)

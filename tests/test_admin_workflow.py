"""The administrator's side of the workflow (docs/rules.md#domain, docs/rules.md#dates): a
published scheme's 建立新版本 button and read-only form, the link to a new period's entry
page, dates as people type them, a Chinese date picker, and every message in Chinese."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from evaluation.core.dates import parse_date
from evaluation.schemes import operations as schemes
from models import HistoryEvent, Period, Scheme, db
from tests.test_admin_views import SETUP, build_base, publish

PERIOD_FORM = "/admin/period/new/"


@pytest.fixture
def base(app) -> dict[str, int]:
    return build_base(app)


def flashes(client) -> list[tuple[str, str]]:
    """Take the messages flashed so far (category, text), as the next page would show them."""
    with client.session_transaction() as session:
        return [(category, str(text)) for category, text in session.pop("_flashes", [])]


def scheme_by_code(code: str) -> Scheme | None:
    return db.session.scalar(select(Scheme).where(Scheme.code == code))


# --- a published scheme ------------------------------------------------------------------


def test_a_published_scheme_s_form_is_read_only_with_the_new_version_button(
    app, client, auth, base
):
    publish(app, base["scheme"])
    auth.login("admin")
    page = client.get(f"/admin/scheme/edit/?id={base['scheme']}").get_data(as_text=True)
    assert "指标方案 T2026（第 1 版）已发布，不能再修改" in page
    button = r'<button type="submit"[^>]*id="new-version">建立新版本（T2026-v2，草稿）'
    assert re.search(button, page)
    assert 'action="/admin/scheme/new-version/"' in page
    # The fields are there to read, but disabled, and nothing offers to save them.
    assert re.search(r'<input[^>]*disabled[^>]*id="name"[^>]*value="镇街考核方案"', page)
    assert 'class="admin-form"' not in page and 'value="保存"' not in page
    details = client.get(f"/admin/scheme/details/?id={base['scheme']}").get_data(as_text=True)
    assert 'id="new-version"' in details
    # A part of the published scheme: read-only too, the scheme's button beside it.
    indicator = client.get(f"/admin/indicator/edit/?id={base['indicator']}").get_data(
        as_text=True
    )
    assert "建立新版本（T2026-v2，草稿）" in indicator and 'value="保存"' not in indicator


def test_a_draft_scheme_s_form_saves_and_offers_no_new_version(app, client, auth, base):
    auth.login("admin")
    page = client.get(f"/admin/scheme/edit/?id={base['scheme']}").get_data(as_text=True)
    assert 'value="保存"' in page and 'id="new-version"' not in page
    assert not re.search(r'<input[^>]*disabled[^>]*id="name"', page)


def test_the_new_version_is_a_button_not_a_bulk_action(app, client, auth, base):
    publish(app, base["scheme"])
    auth.login("admin")
    listing = client.get("/admin/scheme/").get_data(as_text=True)
    assert "复制为新版本" not in listing and "发布" in listing
    client.post("/admin/scheme/action/", data={"action": "copy", "rowid": [str(base["scheme"])]})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Scheme)) == 1


def test_each_new_version_takes_the_next_free_number(app, client, auth, base):
    publish(app, base["scheme"])
    auth.login("admin")
    client.post("/admin/scheme/new-version/", data={"id": str(base["scheme"])})
    assert flashes(client) == [
        (
            "success",
            "已为 T2026 建立新版本 T2026-v2（第 2 版，草稿），可在此修改，改好后在方案列表中发布",
        )
    ]
    # v2 exists: the next copy of the first version is v3, numbered 3 as well.
    page = client.get(f"/admin/scheme/edit/?id={base['scheme']}").get_data(as_text=True)
    assert "建立新版本（T2026-v3，草稿）" in page
    client.post("/admin/scheme/new-version/", data={"id": str(base["scheme"])})
    with app.app_context():
        v2, v3 = scheme_by_code("T2026-v2"), scheme_by_code("T2026-v3")
        assert (v2.version, v3.version) == (2, 3)
        assert v3.based_on.code == "T2026"
        # A copy of v3 replaces the suffix rather than stacking it.
        schemes.publish_scheme(SETUP, v3)
        assert schemes.next_version(v3) == ("T2026-v4", 4)


@pytest.mark.parametrize("role", ["supervisor", "auditor"])
def test_only_an_administrator_makes_a_new_version(app, client, auth, base, role):
    publish(app, base["scheme"])
    auth.login(role)
    details = client.get(f"/admin/scheme/details/?id={base['scheme']}")
    if details.status_code == 200:  # roles that may read schemes see no button
        assert 'id="new-version"' not in details.get_data(as_text=True)
    response = client.post("/admin/scheme/new-version/", data={"id": str(base["scheme"])})
    assert response.status_code == 403
    with app.app_context():
        assert scheme_by_code("T2026-v2") is None


def test_new_version_of_an_unknown_scheme_is_not_found(app, client, auth, base):
    auth.login("admin")
    assert client.post("/admin/scheme/new-version/", data={"id": "9999"}).status_code == 404
    assert client.post("/admin/scheme/new-version/", data={"id": "x"}).status_code == 404


# --- a new period --------------------------------------------------------------------------


def period_form(base, **dates) -> dict:
    return {
        "code": "2026Q4",
        "name": "2026年第四季度",
        "start_date": "2026-10-01",
        "end_date": "2026-12-31",
        "town_scheme": str(base["scheme"]),
        **dates,
    }


def test_a_new_period_links_to_its_entry_page(app, client, auth, base):
    auth.login("admin")
    response = client.post(PERIOD_FORM, data=period_form(base))
    assert response.status_code == 302
    messages = flashes(client)
    assert ("success", "创建记录成功。") in messages
    (link,) = [text for _, text in messages if "open-new-period" in text]
    assert "考核周期 2026Q4 已建立（草稿）" in link
    href = re.search(r'href="([^"]+)"', link).group(1)
    assert href == "/admin/entry/?period=2026Q4"
    entry = client.get(href).get_data(as_text=True)
    assert "2026年第四季度" in entry and 'id="open-open"' in entry  # 开启填报, confirmed


@pytest.mark.parametrize("typed", ["2026/10/1", "2026-10-01", "2026.10.1", "2026/10/01"])
def test_period_dates_are_accepted_as_people_type_them(app, client, auth, base, typed):
    auth.login("admin")
    response = client.post(PERIOD_FORM, data=period_form(base, start_date=typed))
    assert response.status_code == 302
    with app.app_context():
        period = db.session.scalar(select(Period).where(Period.code == "2026Q4"))
        assert period.start_date == date(2026, 10, 1)


@pytest.mark.parametrize("typed", ["2026-13-01", "10/1/2026", "26/10/1", "明年十月"])
def test_a_wrong_date_is_refused_naming_the_format(app, client, auth, base, typed):
    auth.login("admin")
    with app.app_context():
        seq = db.session.scalar(select(func.max(HistoryEvent.seq)))
    response = client.post(PERIOD_FORM, data=period_form(base, start_date=typed))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"无法识别的日期“{typed}”，请按 2026-10-01、2026/10/1 或 2026.10.1 的格式填写" in page
    assert "Not a valid date" not in page
    with app.app_context():
        assert db.session.scalar(select(func.max(HistoryEvent.seq))) == seq


def test_parse_date_reads_the_office_forms_and_nothing_else():
    assert parse_date("2026年10月1日") == date(2026, 10, 1)
    assert parse_date("２０２６／１０／１") == date(2026, 10, 1)  # full-width, as IMEs type
    assert parse_date(" 2026-2-28 ") == date(2026, 2, 28)
    for text in ("2026-2-30", "2026", "", None, "2026-10-01T00:00", "20261001"):
        assert parse_date(text) is None, text


def test_date_inputs_use_the_chinese_picker(app, client, auth, base):
    auth.login("admin")
    page = client.get(PERIOD_FORM).get_data(as_text=True)
    start = re.search(r'<input[^>]*id="start_date"[^>]*>', page).group(0)
    assert 'data-role="datepicker"' in start and 'placeholder="如 2026-10-01"' in start
    assert "可填 2026-10-01、2026/10/1 或 2026.10.1，或在日历中选择" in page
    # The Chinese wrapper comes after the picker's script and before the page is ready.
    picker = page.index("daterangepicker.js")
    chinese = page.index("/static/datepicker_zh.js")
    assert picker < chinese
    response = client.get("/static/datepicker_zh.js")
    script = response.get_data(as_text=True)
    response.close()
    assert '"确定"' in script and '"取消"' in script and '"10月"' in script


# --- messages in Chinese ---------------------------------------------------------------------


ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{3,}[^。]*\.")


def messages(client, response) -> list[str]:
    """What the user reads after a request: the next page's flashes after a redirect, else
    the alerts and field errors of the page itself."""
    if response.status_code == 302:
        return [text for _, text in flashes(client)]
    page = response.get_data(as_text=True)
    alerts = re.findall(
        r'class="alert alert-[a-z]+ alert-dismissable">.*?</button>(.*?)</div>', page, re.S
    )
    errors = re.findall(r'<ul class="form-text text-danger ">(.*?)</ul>', page, re.S)
    return [re.sub(r"<[^>]+>|\s+", "", text) for text in alerts + errors]


def test_flask_admin_s_own_messages_come_out_in_chinese(app, client, auth, base):
    auth.login("admin")
    said = []

    def do(response):
        said.extend(messages(client, response))

    do(client.post(PERIOD_FORM, data=period_form(base)))  # created
    do(client.post(PERIOD_FORM, data=period_form(base)))  # the same code again: refused
    do(client.post(PERIOD_FORM, data=period_form(base, code="2026Q9", end_date="2026-09-01")))
    with app.app_context():
        period_id = db.session.scalar(select(Period.id).where(Period.code == "2026Q4"))
    edit = f"/admin/period/edit/?id={period_id}"
    do(client.post(edit, data=period_form(base, name="四季度")))  # saved
    do(client.post(edit, data=period_form(base, end_date="2026-09-01")))  # ends before it starts
    do(client.post(edit, data=period_form(base, end_date="2026/13/1")))  # no such date
    do(client.get("/admin/period/edit/?id=9999"))  # no such record
    do(client.post("/admin/period/delete/", data={"id": str(period_id)}))  # deleted
    do(client.post("/admin/scheme/delete/", data={"id": str(base["scheme"])}))  # in use
    expected = ["创建记录成功。", "已经存在。", "创建记录失败。", "保存记录成功", "保存记录失败。",
                "无法识别的日期“2026/13/1”", "记录不存在。", "1 条记录被成功删除。",
                "已被考核周期 2026Q3 使用，不能删除"]
    for text in expected:
        assert any(text in message for message in said), (text, "\n".join(said))
    for message in said:
        assert not ENGLISH_SENTENCE.search(re.sub(r"<[^>]+>", "", message)), message

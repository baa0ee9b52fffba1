"""Hostile input is refused with a clear 4xx and a Chinese message, never a 500
(docs/rules.md#security): numbers past the database's integers, NUL bytes, lone
surrogates, JSON nested too deeply."""

from __future__ import annotations

import pytest

from evaluation.accounts import operations as accounts
from models import db
from tests.conftest import PASSWORD
from tests.ledger_world import SETUP, build_world, open_period

HUGE = str(2**63)  # one past a signed 64-bit integer
HUGER = "9" * 30


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_world()
        open_period(w)
        tokens = {
            role: accounts.create_token(SETUP, w.user(role)) for role in ("assessor", "auditor")
        }
        db.session.remove()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is an answer to look at, not a raise
    return tokens


def signed_in(app, username: str):
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD})
    return client


@pytest.mark.parametrize("number", [HUGE, HUGER])
@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("auditor", "/admin/history/?after={n}"),
        ("auditor", "/admin/history/?before={n}"),
        ("admin", "/admin/town/?page={n}"),
        ("admin", "/admin/user/?page={n}&page_size={n}&sort={n}&desc={n}"),
        ("admin", "/admin/village/?flt0_0={n}"),
        ("admin", "/admin/village/?flt1_1={n}"),
        ("supervisor", "/admin/review/?group={n}"),
        ("assessor", "/admin/entry/?indicator=E01&page={n}"),
    ],
)
def test_numbers_past_the_databases_integers_are_refused_with_400(app, world, role, url, number):
    response = signed_in(app, role).get(url.format(n=number))
    assert response.status_code == 400, url
    html = response.get_data(as_text=True)
    assert "数值超出范围" in html


def test_the_refusal_names_the_argument(app, world):
    response = signed_in(app, "auditor").get(f"/admin/history/?after={HUGE}")
    assert "参数「after」的数值超出范围" in response.get_data(as_text=True)


def test_the_largest_number_the_database_holds_is_still_read(app, world):
    response = signed_in(app, "auditor").get(f"/admin/history/?after={2**63 - 1}")
    assert response.status_code == 200
    response = signed_in(app, "admin").get(f"/admin/town/?page={2**31 - 1}")
    assert response.status_code == 200


@pytest.mark.parametrize(("typed", "notice"), [("12a", "无效的筛选器值"), ("١٢", "数值无效")])
def test_a_mistyped_village_filter_says_it_was_not_applied(app, world, typed, notice):
    response = signed_in(app, "admin").get(f"/admin/village/?flt0_0={typed}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert notice in html
    # Unfiltered: every village is listed.
    for name in ("新桃村", "瑞联村", "汾水村", "普通村"):
        assert name in html


def test_after_seq_past_64_bits_is_refused_by_the_api(app, world):
    response = app.test_client().get(
        f"/api/v1/history?after_seq={HUGE}",
        headers={"Authorization": f"Bearer {world['auditor']}"},
    )
    assert response.status_code == 422
    assert response.json["details"][0]["path"] == "after_seq"


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("admin", "/admin/town/?search=a%00b"),
        ("admin", "/admin/user/?search=%00"),
        ("admin", "/admin/cadre/?search=%00"),
        ("admin", "/admin/project/?search=%00"),
        ("admin", "/admin/cadre_record/?search=%00"),
        ("auditor", "/admin/history/?actor=a%00b"),
        ("auditor", "/admin/history/?q=%00"),
    ],
)
def test_a_nul_byte_in_a_search_is_refused_in_chinese(app, world, role, url):
    response = signed_in(app, role).get(url)
    assert response.status_code == 400
    assert "空字符（NUL）" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_note_on_the_entry_page_is_refused(app, world):
    client = signed_in(app, "assessor")
    response = client.post(
        "/admin/entry/save",
        data={
            "period": "2026Q3", "level": "town", "unit": "445203100000",
            "cells-0-unit": "445203100000", "cells-0-indicator": "U02", "cells-0-value": "5",
            "cells-0-note": "a\x00b", "cells-0-version": "", "cells-0-orig_value": "",
            "cells-0-orig_note": "",
        },
    )
    assert response.status_code == 400
    assert "空字符（NUL）" in response.get_data(as_text=True)


PUT = "/api/v1/periods/2026Q3/scores/445203100000/U02"


@pytest.mark.parametrize(
    "body",
    [
        '{"value": "5", "note": "a\\u0000b", "version": null}',
        '{"value": "5", "note": "\\ud800", "version": null}',
    ],
)
def test_a_note_the_database_cannot_keep_is_refused_by_the_api(app, world, body):
    response = app.test_client().put(
        PUT, data=body, content_type="application/json",
        headers={"Authorization": f"Bearer {world['assessor']}"},
    )
    assert response.status_code == 422
    assert response.json["details"][0]["path"] == "note"
    assert "NUL" in response.json["details"][0]["message"]


def test_json_nested_too_deeply_is_bad_input(app, world):
    response = app.test_client().put(
        PUT, data="[" * 100_000, content_type="application/json",
        headers={"Authorization": f"Bearer {world['assessor']}"},
    )
    assert response.status_code == 422
    assert "JSON 对象" in response.json["error"]


# --- one limit for a score's note, whatever the door (finding 8) -------------------------

LONG_NOTE = "长" * 501
FULL_NOTE = "满" * 500


def stored_note(app, unit: str = "445203100000", indicator: str = "U02") -> str | None:
    from models import Indicator, Score, Unit

    with app.app_context():
        note = db.session.scalar(
            db.select(Score.note).join(Unit, Score.unit_id == Unit.id)
            .join(Indicator, Score.indicator_id == Indicator.id)
            .where(Unit.code == unit, Indicator.code == indicator)
        )
        db.session.remove()
    return note


def test_the_api_refuses_a_note_over_500_characters(app, world):
    headers = {"Authorization": f"Bearer {world['assessor']}"}
    client = app.test_client()
    response = client.put(PUT, json={"value": "5", "note": LONG_NOTE, "version": None},
                          headers=headers)
    assert response.status_code == 422
    assert response.json["details"] == [
        {"path": "note", "message": "备注不能超过 500 个字（收到 501 个字）"}
    ]
    assert stored_note(app) is None
    response = client.put(PUT, json={"value": "5", "note": FULL_NOTE, "version": None},
                          headers=headers)
    assert response.status_code == 200
    assert stored_note(app) == FULL_NOTE


def test_the_entry_grid_refuses_a_note_over_500_characters(app, world):
    client = signed_in(app, "assessor")
    cell = {
        "cells-0-unit": "445203100000", "cells-0-indicator": "U02", "cells-0-value": "5",
        "cells-0-version": "", "cells-0-orig_value": "", "cells-0-orig_note": "",
    }
    form = {"period": "2026Q3", "level": "town", "unit": "445203100000", **cell}
    response = client.post("/admin/entry/save", data={**form, "cells-0-note": LONG_NOTE},
                           follow_redirects=True)
    assert "备注不能超过 500 个字" in response.get_data(as_text=True)
    assert stored_note(app) is None
    page = client.get("/admin/entry/?period=2026Q3&unit=445203100000")
    assert 'maxlength="500"' in page.get_data(as_text=True)


def test_the_import_refuses_a_note_over_500_characters_naming_row_and_column(app, world):
    from evaluation.scores.importer.apply import import_scores
    data = (
        "考核周期,单位代码,指标代码,数值,备注\n"
        f"2026Q3,445203100000,U02,5,{LONG_NOTE}\n"
        f"2026Q3,445203101000,U02,6,{FULL_NOTE}\n"
    ).encode()
    with app.app_context():
        from tests.conftest import user

        report = import_scores(user("assessor"), "2026Q3", data, filename="s.csv")
        assert [(p.row, p.column, p.message) for p in report.problems] == [
            (2, "备注", "备注不能超过 500 个字（收到 501 个字）")
        ]
        db.session.remove()
    assert stored_note(app) is None

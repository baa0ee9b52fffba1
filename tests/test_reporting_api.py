"""镇街报送 over /api/v1: the same rules as the web (docs/reporting.md#api)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from evaluation.accounts import operations as accounts
from evaluation.history import records
from evaluation.reporting import operations as reporting
from models import User, db
from tests import evidence_files
from tests.ledger_world import SETUP, build_world, open_period

YUNLU = "445203100000"
YUJIAO = "445203101000"
BASE = "/api/v1/periods/2026Q3/claims"


@pytest.fixture
def api(app):
    with app.app_context():
        world = build_world()
        period = open_period(world)
        records.update(SETUP, period, {"report_due": reporting.local_today() + timedelta(days=2)})
        db.session.execute(
            text("UPDATE indicator SET evidence_required = '验收报告' WHERE code = 'E01'")
        )
        db.session.commit()
        tokens = {
            u.username: accounts.create_token(SETUP, u, "t")
            for u in db.session.scalars(select(User))
        }
        db.session.remove()
    client = app.test_client()

    def call(method, path, who, **kwargs):
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        return client.open(path, method=method, headers=headers, **kwargs)

    return call


def test_a_reporter_puts_uploads_and_submits_over_the_api(api):
    put = api(
        "PUT", f"{BASE}/{YUNLU}/E01", "reporter", json={"value": 6.8, "statement": "两个项目"}
    )
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["value"] == "6.8" and put.get_json()["version"] == 1
    refused = api("POST", f"{BASE}/{YUNLU}/submit", "reporter")
    assert refused.status_code == 422
    assert refused.get_json()["details"][0]["path"] == "E01"
    upload = api(
        "POST", f"{BASE}/{YUNLU}/E01/evidence", "reporter",
        data={"file": (io.BytesIO(evidence_files.pdf()), "验收报告.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert upload.status_code == 201, upload.get_json()
    body = upload.get_json()
    assert body["media_type"] == "application/pdf" and body["name"] == "验收报告.pdf"
    assert len(body["sha256"]) == 64 and body["size"] > 0
    bad = api(
        "POST", f"{BASE}/{YUNLU}/E01/evidence", "reporter",
        data={"file": (io.BytesIO(evidence_files.HTML), "报告.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert bad.status_code == 422
    sent = api("POST", f"{BASE}/{YUNLU}/submit", "reporter")
    assert sent.status_code == 200 and sent.get_json() == {"unit": YUNLU, "submitted": ["E01"]}
    mine = api("GET", BASE, "reporter").get_json()
    assert [(c["indicator"], c["status"], c["evidence"]) for c in mine] == [
        ("E01", "submitted", [body["sha256"]])
    ]
    assert mine[0]["assessed_value"] is None


def test_the_api_refuses_as_the_web_does(api):
    assert api("PUT", f"{BASE}/{YUJIAO}/E01", "reporter", json={"value": 1}).status_code == 403
    assert api("GET", f"{BASE}?unit={YUJIAO}", "reporter").status_code == 403
    assert api("PUT", f"{BASE}/{YUNLU}/E01", "assessor", json={"value": 1}).status_code == 403
    assert api("PUT", f"{BASE}/{YUNLU}/E01", "reporter", json={"value": "x"}).status_code == 422
    assert api("PUT", f"{BASE}/{YUNLU}/E01", "reporter", json={"value": 5}).status_code == 200
    stale = api("PUT", f"{BASE}/{YUNLU}/E01", "reporter", json={"value": 6, "version": 9})
    assert stale.status_code == 409 and stale.get_json()["details"]["value"] == "5"
    assert api("GET", BASE, "reviewer").status_code == 403
    assert api("PUT", f"{BASE}/{YUNLU}/Z99", "reporter", json={"value": 1}).status_code == 404


def test_the_assessor_gives_verdicts_over_the_api(api):
    api("PUT", f"{BASE}/{YUNLU}/U02", "reporter", json={"value": "28"})
    api("PUT", f"{BASE}/{YUNLU}/E02", "reporter", json={"value": 9})
    api("POST", f"{BASE}/{YUNLU}/submit", "reporter")
    verdict = f"{BASE}/{YUNLU}/U02/verdict"
    assert api("POST", verdict, "reporter", json={"decision": "accept"}).status_code == 403
    no_reason = api("POST", verdict, "assessor", json={"decision": "adjust", "value": "25"})
    assert no_reason.status_code == 422
    bad = api("POST", verdict, "assessor", json={"decision": "maybe"})
    assert bad.status_code == 422
    adjusted = api(
        "POST", verdict, "assessor", json={"decision": "adjust", "value": "25", "reason": "核减"}
    )
    assert adjusted.status_code == 200, adjusted.get_json()
    assert adjusted.get_json()["assessed_value"] == "25"
    assert adjusted.get_json()["status"] == "adjusted"
    again = api("POST", verdict, "assessor", json={"decision": "accept"})
    assert again.status_code == 409
    staff = api("GET", f"{BASE}?unit={YUNLU}", "auditor").get_json()
    assert {c["indicator"]: c["assessed_value"] for c in staff} == {"E02": None, "U02": "25"}
    scores = api("GET", f"/api/v1/periods/2026Q3/scores?unit={YUNLU}", "assessor").get_json()
    assert [(s["indicator"], s["value"]) for s in scores] == [("U02", "25")]


def test_the_claims_are_in_the_openapi_document(api):
    document = api("GET", "/api/v1/openapi.json", "admin").get_json()
    paths = document["paths"]
    assert "/api/v1/periods/{code}/claims" in paths
    assert "put" in paths["/api/v1/periods/{code}/claims/{unit_code}/{indicator_code}"]
    upload = paths["/api/v1/periods/{code}/claims/{unit_code}/{indicator_code}/evidence"]
    assert "201" in upload["post"]["responses"]
    assert "post" in paths["/api/v1/periods/{code}/claims/{unit_code}/submit"]
    assert "post" in paths["/api/v1/periods/{code}/claims/{unit_code}/{indicator_code}/verdict"]

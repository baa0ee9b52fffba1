"""The API against its own OpenAPI document, checked by schemathesis (docs/api.md).

schemathesis reads ``GET /api/v1/openapi.json`` from the app (no server), makes requests
its schema allows and requests it forbids, and runs all its checks on every answer:
no 5xx, documented status codes and content types, answers that fit their schemas, 405
with ``Allow``, forbidden data refused, allowed data not refused with 400/422, and a
request without the token refused. It runs once as a reader (auditor) and once as a
writer (assessor) on the small ledger with 2026Q3 open.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from evaluation.accounts import operations as accounts
from models import db
from tests.ledger_world import SETUP, build_world, fill_towns, open_period

ROLES = ("auditor", "assessor")
PUT_PATH = "/api/v1/periods/{code}/scores/{unit_code}/{indicator_code}"
#: A real period, unit and indicator of the small ledger, for requests that should reach it.
REAL_PATH = {"code": "2026Q3", "unit_code": "445203100000", "indicator_code": "U02"}


@pytest.fixture
def ledger(app):
    """The small ledger with 2026Q3 open and the towns' values in, and a token per role."""
    with app.app_context():
        world = build_world()
        fill_towns(world, open_period(world))
        tokens = {role: accounts.create_token(SETUP, world.user(role)) for role in ROLES}
        db.session.remove()
    return app, tokens


def api_schema(ledger, role: str):
    """The app's own document, with ``role``'s token sent as the bearer security says."""
    app, tokens = ledger
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.update(headers={"Authorization": f"Bearer {tokens[role]}"})
    return schema


@pytest.fixture
def reader_schema(ledger):
    return api_schema(ledger, "auditor")


@pytest.fixture
def writer_schema(ledger):
    return api_schema(ledger, "assessor")


reader = schemathesis.pytest.from_fixture("reader_schema")
writer = schemathesis.pytest.from_fixture("writer_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    """schemathesis 4.32.5 reads ``request.node._nodeid``, which pytest 9 no longer has.

    It only uses it to name each operation's sub-test in reports; give it the node's id.
    """
    request.node._nodeid = request.node.nodeid


# --- the document and the door agree -------------------------------------------------------


def test_the_document_is_the_schemas_with_bearer_security(ledger):
    app, _ = ledger
    document = app.test_client().get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "flask create-token 生成的令牌",
    }
    assert document["security"] == [{"bearer": []}]
    assert document["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    body = document["components"]["schemas"]["ScoreChange"]
    assert body["required"] == ["value"]
    version = body["properties"]["version"]["anyOf"]
    assert {"type": "null"} in version
    assert [s["minimum"] for s in version if s.get("type") == "integer"] == [1]
    put = document["paths"][PUT_PATH]["put"]
    assert [p["name"] for p in put["parameters"]] == ["code", "unit_code", "indicator_code"]


@pytest.mark.parametrize(
    ("body", "status", "path"),
    [
        ({"value": "5", "version": 0}, 422, "version"),  # the schema says minimum 1
        ({"value": "5", "version": -3}, 422, "version"),
        ({"value": "5", "version": 1.5}, 422, "version"),
        ({"value": "5", "version": 7}, 409, None),  # not the current version (none yet)
        ({"value": "5"}, 200, None),  # version left out is null: a new value
        ({"value": "5", "note": "a\x00b", "version": None}, 422, "note"),
    ],
)
def test_put_version_is_null_or_at_least_1(ledger, body, status, path):
    app, tokens = ledger
    response = app.test_client().put(
        "/api/v1/periods/2026Q3/scores/445203100201/V01",  # 新桃村, no value yet
        json=body,
        headers={"Authorization": f"Bearer {tokens['assessor']}"},
    )
    assert response.status_code == status
    if path is not None:
        assert [p["path"] for p in response.json["details"]] == [path]
        assert response.json["errors"] == response.json["details"]


def test_a_body_that_is_not_json_is_refused_like_any_malformed_body(ledger):
    app, tokens = ledger
    response = app.test_client().put(
        "/api/v1/periods/2026Q3/scores/445203100201/V01",
        data='{"value": "5", "version": null}',
        headers={"Authorization": f"Bearer {tokens['assessor']}", "Content-Type": "text/plain"},
    )
    assert response.status_code == 422
    assert [p["path"] for p in response.json["details"]] == [""]


def test_405_names_the_allowed_methods_and_stays_json(ledger):
    app, tokens = ledger
    client = app.test_client()
    response = client.delete(
        "/api/v1/periods/2026Q3/scores/445203100201/V01",
        headers={"Authorization": f"Bearer {tokens['assessor']}"},
    )
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"PUT", "OPTIONS"}
    assert response.json == {"error": "不支持的请求方式", "status": 405}
    allowed = client.post("/api/v1/summary").headers["Allow"]
    assert set(allowed.split(", ")) == {"GET", "HEAD", "OPTIONS"}
    page = client.post("/")  # a web page answers 405 with Allow too, as an HTML page
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
    assert page.mimetype == "text/html"


FUZZ = settings(
    max_examples=30,
    derandomize=True,  # the same requests on every run
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.slow
@reader.parametrize()
@FUZZ
def test_a_reader_gets_what_the_document_says(case):
    case.call_and_validate()


@pytest.mark.slow
@writer.parametrize()
@FUZZ
def test_a_writer_gets_what_the_document_says(case):
    case.call_and_validate()


@pytest.fixture
def writer_on_real_paths_schema(ledger):
    """The writer's schema with the path pinned to 2026Q3, 云路镇 and U02 (direct, 0–30).

    Here the requests reach the ledger. One answer the document cannot foresee is
    allowed: whether a value fits its indicator (a grade or a number, within the
    indicator's points and 14 integer digits) depends on the indicator named in the
    path, so a schema-valid value such as -1e35 is refused with 422, as docs/api.md says.
    Every other check stays as strict as above.
    """
    schema = api_schema(ledger, "assessor")
    schema.config.update(parameters=dict(REAL_PATH))
    acceptance = schema.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "422"]
    return schema


writer_on_real_paths = schemathesis.pytest.from_fixture("writer_on_real_paths_schema")


@pytest.mark.slow
@writer_on_real_paths.parametrize()
@FUZZ
def test_a_writer_reaching_real_scores_gets_what_the_document_says(case):
    case.call_and_validate()

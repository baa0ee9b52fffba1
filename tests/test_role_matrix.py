"""The role matrix: every door, as anonymous and as each role, against a table written out.

The expected answers below are literal. They were written from the roles of
docs/rules.md#roles-and-permissions (what each role does) and the pages of
docs/architecture.md, then checked against the running app; they are deliberately
NOT computed from ``evaluation.core.permissions`` or from the permission a view declares,
so a wrong permission there makes a cell here fail.

Where the rules are silent (for instance whether an assessor may read the cadre
list), the cell records today's behaviour: changing it is then a decision someone
makes on purpose, by editing this table.

Cells: ``200`` the page answers; ``403`` refused; ``LOGIN`` a redirect to the login
page (anonymous on the web); ``401`` no valid token (anonymous on the API).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from evaluation.accounts import operations as accounts
from evaluation.annual import operations as annual
from evaluation.history import records
from evaluation.surveys import operations as surveys
from models import AnalysisGroup, User, db
from tests.conftest import PASSWORD
from tests.ledger_world import SETUP, build_world, fill_towns, open_period

LOGIN = "LOGIN"
COLUMNS = ("admin", "assessor", "supervisor", "auditor", "reviewer", "reporter", "anonymous")

#: Web doors. ``{xintao}`` is a typical village of the reviewer's own analysis group,
#: ``{ruilian}`` one of the other group's.
# fmt: off
#:                                   admin assessor supervisor auditor reviewer reporter anonymous
PAGES: dict[str, tuple] = {
    # the dashboard: every role has one (rules: §8.1 /admin/)
    "/admin/":                            (200, 200, 200, 200, 200, 200, LOGIN),
    # base data: the admin keeps it, the auditor reads everything; the rest: today's answer
    "/admin/town/":                       (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/village/":                    (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/cadre/":                      (200, 403, 200, 200, 200, 403, LOGIN),
    "/admin/cadre_record/":               (200, 403, 200, 200, 200, 403, LOGIN),
    "/admin/group/":                      (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/project/":                    (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/project_update/":             (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/scheme/":                     (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/dimension/":                  (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/indicator/":                  (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/weights/":                    (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/weights/diagnostics":         (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/weights/whatif":              (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/weights/sensitivity":         (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/period/":                     (200, 200, 200, 200, 200, 403, LOGIN),
    # users and tokens: the admin's; the auditor reads everything
    "/admin/user/":                       (200, 403, 403, 200, 403, 403, LOGIN),
    "/admin/token/":                      (200, 403, 403, 200, 403, 403, LOGIN),
    # creating base data, schemes and users is the admin's alone
    "/admin/town/new/":                   (200, 403, 403, 403, 403, 403, LOGIN),
    "/admin/village/new/":                (200, 403, 403, 403, 403, 403, LOGIN),
    "/admin/cadre/new/":                  (200, 403, 403, 403, 403, 403, LOGIN),
    "/admin/group/new/":                  (200, 403, 403, 403, 403, 403, LOGIN),
    "/admin/scheme/new/":                 (200, 403, 403, 403, 403, 403, LOGIN),
    "/admin/indicator/new/":              (200, 403, 403, 403, 403, 403, LOGIN),
    "/admin/user/new/":                   (200, 403, 403, 403, 403, 403, LOGIN),
    # the rules are silent on these three: today's answers
    "/admin/project/new/":                (200, 403, 403, 403, 403, 403, LOGIN),
    "/admin/period/new/":                 (200, 403, 403, 403, 403, 403, LOGIN),
    "/admin/cadre_record/new/":           (200, 403, 200, 403, 403, 403, LOGIN),
    "/admin/project_update/new/":         (200, 200, 200, 403, 403, 403, LOGIN),
    # daily work
    "/admin/entry/":                      (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/entry/?period=2026Q3":        (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/import/":                     (200, 200, 403, 403, 403, 403, LOGIN),
    "/admin/import/template?period=2026Q3": (200, 200, 403, 403, 403, 403, LOGIN),
    "/admin/ranking/":                    (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/ranking/?period=2026Q3":      (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/ranking/export.xlsx?period=2026Q3": (200, 200, 200, 200, 403, 403, LOGIN),
    # a town's report and its DOCX read like the ranking (docs/reports.md)
    "/admin/reports/":                    (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/reports/town?period=2026Q3&unit=445203100000": (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/reports/town.docx?period=2026Q3&unit=445203100000": (200, 200, 200, 200, 403, 403, LOGIN),  # noqa: E501
    # the 通报 is for an approved period only; 2026Q3 is open here (tests/test_reports.py)
    "/admin/reports/notice.docx?period=2026Q3": (403, 403, 403, 403, 403, 403, LOGIN),
    "/admin/reports/notice.pdf?period=2026Q3": (403, 403, 403, 403, 403, 403, LOGIN),
    "/admin/reports/town.pdf?period=2026Q3&unit=445203100000": (200, 200, 200, 200, 403, 403, LOGIN),  # noqa: E501
    # a batch's progress is its starter's only: a job nobody started is 404 to a reader
    "/admin/reports/batch/no-such-job-0123456789.json": (404, 404, 404, 404, 403, 403, LOGIN),
    # 年度综合考评 reads like the ranking; 2026Y lists 2026Q3, open here, so no 通报 yet
    "/admin/annual/":                     (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/annual/?annual=2026Y":        (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/annual/notice.docx?annual=2026Y": (403, 403, 403, 403, 403, 403, LOGIN),
    "/admin/annual/notice.pdf?annual=2026Y": (403, 403, 403, 403, 403, 403, LOGIN),
    "/admin/review/":                     (200, 403, 200, 200, 200, 403, LOGIN),
    "/admin/review/village/{xintao}":     (200, 403, 200, 200, 200, 403, LOGIN),
    "/admin/review/village/{ruilian}":    (200, 403, 200, 200, 403, 403, LOGIN),
    # 镇街报送 (docs/reporting.md): the reporter's own town; verification for the staff
    "/admin/reporting/":                  (403, 403, 403, 403, 403, 200, LOGIN),
    "/admin/verification/":               (200, 200, 200, 200, 403, 403, LOGIN),
    "/admin/history/":                    (200, 403, 403, 200, 403, 403, LOGIN),
    # the boards
    "/admin/cadre-ledger/":               (200, 403, 200, 200, 200, 403, LOGIN),
    "/admin/projects-board/":             (200, 200, 200, 200, 403, 403, LOGIN),
    # 公示 and 容错纠错 (docs/publication.md): the staff who read results, and the reporter
    # for its own town (云路镇); 2026Q3 is open, so it has no 公示表 yet (404)
    "/admin/publication/":                (200, 200, 200, 200, 403, 200, LOGIN),
    "/admin/publication/?period=2026Q3":  (200, 200, 200, 200, 403, 200, LOGIN),
    "/admin/publication/sheet?period=2026Q3": (404, 404, 404, 404, 403, 404, LOGIN),
    "/admin/tolerance/":                  (200, 200, 200, 200, 403, 200, LOGIN),
    "/admin/tolerance/town/445203100000": (200, 200, 200, 200, 403, 200, LOGIN),
    "/admin/tolerance/town/445203001000": (200, 200, 200, 200, 403, 403, LOGIN),
    # 民主测评 (docs/surveys.md): the admin sets it up; supervisor, admin and auditor read it
    # and its tally once closed (survey 1 is closed here); voting needs no login at all
    "/admin/surveys/":                    (200, 403, 200, 200, 403, 403, LOGIN),
    "/admin/surveys/new":                 (200, 403, 403, 403, 403, 403, LOGIN),
    "/admin/surveys/1":                   (200, 403, 200, 200, 403, 403, LOGIN),
    "/admin/surveys/1/tally.xlsx":        (200, 403, 200, 200, 403, 403, LOGIN),
    "/vote":                              (200, 200, 200, 200, 200, 200, 200),
    "/vote/thanks":                       (200, 200, 200, 200, 200, 200, 200),
    # signed checkpoints (docs/history.md#checkpoints): the public key is the auditor's
    # and the admin's to hand out; no checkpoint exists yet in this ledger, hence 404
    "/admin/history/public-key.pem":      (200, 403, 403, 200, 403, 403, LOGIN),
    "/admin/history/checkpoint.json":     (404, 403, 403, 404, 403, 403, LOGIN),
    # 佐证材料 of a score: whoever reads the entry page (docs/evidence.md#who-sees-a-file);
    # a reporter sees its own town's claims' files only
    "/evidence/{pdf}":                    (200, 200, 200, 200, 403, 403, LOGIN),
    "/evidence/{pdf}?inline=1":           (200, 200, 200, 200, 403, 403, LOGIN),
    "/evidence/{photo}/thumb":            (200, 200, 200, 200, 403, 403, LOGIN),
}

#: API reads with each role's token (anonymous: no Authorization header).
#:                                   admin assessor supervisor auditor reviewer reporter anonymous
API: dict[str, tuple] = {
    "/api/v1/summary":                    (200, 200, 200, 200, 200, 403, 401),
    "/api/v1/periods":                    (200, 200, 200, 200, 200, 403, 401),
    "/api/v1/periods/2026Q3/scheme":      (200, 200, 200, 200, 403, 403, 401),
    "/api/v1/periods/2026Q3/ranking":     (200, 200, 200, 200, 403, 403, 401),
    # a town's report reads like the ranking (docs/reports.md)
    "/api/v1/periods/2026Q3/units/445203100000/report": (200, 200, 200, 200, 403, 403, 401),
    "/api/v1/periods/2026Q3/flags":       (200, 403, 200, 200, 200, 403, 401),
    "/api/v1/periods/2026Q3/scores":      (200, 200, 200, 200, 403, 403, 401),
    # claims (docs/reporting.md): the staff every town's, a reporter its own (none here)
    "/api/v1/periods/2026Q3/claims":     (200, 200, 200, 200, 403, 200, 401),
    "/api/v1/periods/2026Q3/claims?unit=445203101000": (200, 200, 200, 200, 403, 403, 401),
    "/api/v1/history":                    (200, 403, 403, 200, 403, 403, 401),
    "/api/v1/openapi.json":               (200, 200, 200, 200, 200, 200, 200),
    # 公示, 异议 and 容错纠错: a reporter sees its own town's (docs/publication.md#api)
    "/api/v1/periods/2026Q3/publication": (200, 200, 200, 200, 403, 200, 401),
    "/api/v1/periods/2026Q3/objections":  (200, 200, 200, 200, 403, 200, 401),
    "/api/v1/periods/2026Q3/tolerance-cases": (200, 200, 200, 200, 403, 200, 401),
    # a closed survey's tally (survey 1 is closed here; docs/surveys.md#tally)
    "/api/v1/surveys/1/tally":            (200, 403, 200, 200, 403, 403, 401),
}

#: The one score door of the API: only the assessor enters scores (open period).
PUT_SCORE = "/api/v1/periods/2026Q3/scores/445203100000/U02"
#:                                   admin assessor supervisor auditor reviewer reporter anonymous
PUT_SCORE_EXPECTED = (403, 200, 403, 403, 403, 403, 401)

#: A town's claim (自评): only its own reporter writes it (docs/reporting.md).
PUT_CLAIM = "/api/v1/periods/2026Q3/claims/445203100000/U02"
#:                                   admin assessor supervisor auditor reviewer reporter anonymous
PUT_CLAIM_EXPECTED = (403, 403, 403, 403, 403, 200, 401)

#: Starting the batch of every town's report (a POST; 303 to its progress page).
POST_BATCH = "/admin/reports/batch"
#:                                   admin assessor supervisor auditor reviewer reporter anonymous
POST_BATCH_EXPECTED = (303, 303, 303, 303, 403, 403, LOGIN)

#: API writes of docs/publication.md, each on a fresh ledger (2026Q2 draft, 2026Q3 open).
#: Opening a period: admin or supervisor. An objection: the reporter alone, for its own
#: town — refused 409 here because 2026Q3 is not in 公示. An answer: the assessor alone —
#: 404 here because there is no objection 1. A 容错 application: the reporter or the admin.
#:                                   admin assessor supervisor auditor reviewer reporter anonymous
API_WRITES: dict[tuple[str, str], tuple] = {
    ("/api/v1/periods/2026Q2/workflow/open", "{}"): (200, 403, 200, 403, 403, 403, 401),
    ("/api/v1/periods/2026Q3/objections",
     '{"unit": "445203100000", "indicator": "U02", "reason": "偏低"}'):
                                          (403, 403, 403, 403, 403, 409, 401),
    ("/api/v1/objections/1/answer", '{"decision": "maintain", "reason": "维持"}'):
                                          (403, 404, 403, 403, 403, 403, 401),
    ("/api/v1/periods/2026Q3/tolerance-cases",
     '{"unit": "445203100000", "veto": true, "situation": "为推动发展的无意过失",'
     ' "grounds": "理由"}'):
                                          (404, 403, 403, 403, 403, 404, 401),
}

#: Signing a checkpoint on demand (a POST; 303 back to the history page).
POST_CHECKPOINT = "/admin/history/checkpoint"
#:                                   admin assessor supervisor auditor reviewer reporter anonymous
POST_CHECKPOINT_EXPECTED = (303, 403, 403, 303, 403, 403, LOGIN)
#: The API's evidence file (not JSON when it answers 200); the file supports a score.
EVIDENCE_API = "/api/v1/evidence/{pdf}"
#:                                   admin assessor supervisor auditor reviewer reporter anonymous
EVIDENCE_API_EXPECTED = (200, 200, 200, 200, 403, 403, 401)
# fmt: on


@pytest.fixture
def ledger(app):
    """The small ledger with 2026Q3 open and filled, the reviewer in the first group."""
    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period)
        first = db.session.scalar(select(AnalysisGroup).where(AnalysisGroup.name == "第一研判组"))
        records.update(SETUP, world.user("reviewer"), {"group": first})
        annual.create_annual(
            SETUP, code="2026Y", name="2026年度综合考评", scheme=period.town_scheme,
            sources=[(period, "100")], quotas={"好": "20"},
        )  # fmt: skip
        survey = surveys.create_survey(
            SETUP, title="云路镇领导班子民主测评", target_kind="leadership",
            opens_at=datetime(2026, 11, 1), closes_at=datetime(2026, 11, 2),
            groups=[("班子成员", "40", 1), ("群众代表", "60", 1)],
            targets=[{"unit": world.unit("云路镇")}],
        )  # fmt: skip
        surveys.publish(SETUP, survey)
        surveys.close(SETUP, survey)
        assert survey.id == 1
        ids = {
            "xintao": world.unit("新桃村").id,  # first group
            "ruilian": world.unit("瑞联村").id,  # second group
        }
        from evaluation.evidence import operations as evidence
        from models import Score
        from tests import evidence_files

        score = db.session.scalars(select(Score).order_by(Score.id)).first()
        for key, data, name in (
            ("pdf", evidence_files.pdf(), "验收报告.pdf"),
            ("photo", evidence_files.jpeg(), "现场.jpg"),
        ):
            ids[key] = evidence.add_evidence(
                world.user("assessor"), data, filename=name, target_type="score",
                target_id=score.id, period_id=period.id,
            ).sha256  # fmt: skip
        tokens = {
            u.role: accounts.create_token(SETUP, u, f"{u.role}-token")
            for u in db.session.scalars(select(User))
        }
        db.session.remove()
    return ids, tokens


def signed_in_client(app, role: str):
    client = app.test_client()
    if role != "anonymous":
        response = client.post("/login", data={"username": role, "password": PASSWORD})
        assert response.status_code == 302, role
    return client


def answer(response) -> object:
    if response.status_code == 302 and response.headers["Location"].startswith("/login"):
        return LOGIN
    return response.status_code


def test_the_table_is_well_formed():
    for table in (PAGES, API):
        for door, row in table.items():
            assert len(row) == len(COLUMNS), door


def test_every_admin_view_has_a_row(app):
    """A page added later fails here until someone writes down who may open it."""
    admin = app.extensions["admin"][0]
    for view in [admin.index_view, *admin._views]:
        index = f"{view.url.rstrip('/')}/"
        assert index in PAGES, f"{index} ({type(view).__name__}) has no row in PAGES"


@pytest.mark.parametrize("role", COLUMNS)
def test_web_doors_answer_each_role_as_the_table_says(app, ledger, role):
    ids, _ = ledger
    client = signed_in_client(app, role)
    wrong = []
    for door, row in PAGES.items():
        response = client.get(door.format(**ids))
        if answer(response) != row[COLUMNS.index(role)]:
            wrong.append((door, row[COLUMNS.index(role)], answer(response)))
    assert not wrong, f"{role}: (door, expected, got) {wrong}"


@pytest.mark.parametrize("role", COLUMNS)
def test_api_reads_answer_each_role_as_the_table_says(app, ledger, role):
    _, tokens = ledger
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role != "anonymous" else {}
    wrong = []
    for door, row in API.items():
        response = client.get(door, headers=headers)
        assert response.is_json, (role, door)
        if response.status_code != row[COLUMNS.index(role)]:
            wrong.append((door, row[COLUMNS.index(role)], response.status_code))
        if response.status_code in (401, 403):
            assert "error" in response.get_json(), (role, door)
    assert not wrong, f"{role}: (door, expected, got) {wrong}"


def test_api_refuses_a_bad_or_foreign_token_with_401(app, ledger):
    client = app.test_client()
    for door, row in API.items():
        if row[COLUMNS.index("anonymous")] != 401:
            continue  # a public document such as openapi.json
        for headers in ({"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
            response = client.get(door, headers=headers)
            assert response.status_code == 401, (door, headers)
            assert response.is_json and "error" in response.get_json()


@pytest.mark.parametrize("role", COLUMNS)
def test_only_the_assessor_puts_a_score(app, ledger, role):
    _, tokens = ledger
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role != "anonymous" else {}
    current = client.get(
        "/api/v1/periods/2026Q3/scores?unit=445203100000&indicator=U02",
        headers={"Authorization": f"Bearer {tokens['assessor']}"},
    ).get_json()
    body = {"value": "12.5", "note": "", "version": current[0]["version"]}
    response = client.put(PUT_SCORE, json=body, headers=headers)
    assert response.status_code == PUT_SCORE_EXPECTED[COLUMNS.index(role)], response.get_json()


@pytest.mark.parametrize("role", COLUMNS)
def test_only_the_towns_reporter_puts_its_claim(app, ledger, role):
    _, tokens = ledger
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role != "anonymous" else {}
    response = app.test_client().put(PUT_CLAIM, json={"value": "20"}, headers=headers)
    assert response.status_code == PUT_CLAIM_EXPECTED[COLUMNS.index(role)], response.get_json()


def get_rules(app, prefix: str) -> list:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith(prefix) and "GET" in rule.methods and not rule.arguments
        ),
        key=lambda rule: rule.rule,
    )


def test_anonymous_users_are_sent_to_login_from_every_admin_page(app, client):
    """Every argument-free admin GET, the rows above and the rest, sends strangers away."""
    for rule in get_rules(app, "/admin/"):
        response = client.get(rule.rule)
        assert answer(response) == LOGIN, rule.rule


def test_every_admin_page_renders_in_english_too(app, client):
    """A translated label with a broken placeholder would only fail in English."""
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    client.get("/lang/en")
    for rule in get_rules(app, "/admin/"):
        response = client.get(rule.rule)
        assert response.status_code < 500, rule.rule
    page = client.get("/admin/town/").get_data(as_text=True)
    assert "Towns" in page and "Division code" in page


@pytest.mark.parametrize("role", COLUMNS)
def test_starting_a_batch_of_reports_answers_each_role_as_the_table_says(
    app, ledger, role, tmp_path
):
    app.config["REPORT_BATCH_DIR"] = str(tmp_path)
    client = signed_in_client(app, role)
    response = client.post(POST_BATCH, data={"period": "2026Q3"})
    assert answer(response) == POST_BATCH_EXPECTED[COLUMNS.index(role)]
    if response.status_code == 303:  # let the job end before the database goes
        job = response.headers["Location"].rsplit("/", 1)[1]
        thread = app.extensions.get("report_batches", {}).get(job)
        if thread is not None:
            thread.join(120)


@pytest.mark.parametrize("role", COLUMNS)
def test_signing_a_checkpoint_answers_each_role_as_the_table_says(app, ledger, role):
    client = signed_in_client(app, role)
    response = client.post(POST_CHECKPOINT)
    assert answer(response) == POST_CHECKPOINT_EXPECTED[COLUMNS.index(role)]


@pytest.mark.parametrize("role", COLUMNS)
def test_the_api_evidence_file_answers_each_role_as_the_table_says(app, ledger, role):
    ids, tokens = ledger
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role != "anonymous" else {}
    response = app.test_client().get(EVIDENCE_API.format(**ids), headers=headers)
    assert response.status_code == EVIDENCE_API_EXPECTED[COLUMNS.index(role)]


@pytest.mark.parametrize("role", COLUMNS)
def test_publication_writes_answer_each_role_as_the_table_says(app, ledger, role):
    _, tokens = ledger
    client = app.test_client()
    headers = {"Content-Type": "application/json"}
    if role != "anonymous":
        headers["Authorization"] = f"Bearer {tokens[role]}"
    wrong = []
    for (door, body), row in API_WRITES.items():
        response = client.post(door, data=body, headers=headers)
        if response.status_code != row[COLUMNS.index(role)]:
            wrong.append((door, row[COLUMNS.index(role)], response.status_code))
    assert not wrong, f"{role}: (door, expected, got) {wrong}"

"""The role matrix: every admin page and every API read, as anonymous and as each role.

Nothing here is a copied table. The routes come from ``app.url_map`` (every GET rule
without arguments under ``/admin/`` and ``/api/v1/``), and the expectation comes from
the permission the view itself declares (``AccessMixin.permission``, plus
``write_permission`` for a model view's write pages) or, for the API, the permission
its ``token_required`` wrapper closes over. Pages added later are covered as they land.
"""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy import select

from evaluation.admin.model_views import WRITE_VIEWS
from evaluation.permissions import can
from evaluation.services import accounts
from evaluation.services.core import SystemActor
from models import ROLES, User, db
from tests.conftest import PASSWORD

SETUP = SystemActor("test-setup")


def get_rules(app, prefix: str) -> list:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith(prefix) and "GET" in rule.methods and not rule.arguments
        ),
        key=lambda rule: rule.rule,
    )


def admin_view_for(app, endpoint: str):
    """Return the Flask-Admin view serving ``endpoint`` (``town.index_view`` → the town view)."""
    admin = app.extensions["admin"][0]
    blueprint, _, function = endpoint.partition(".")
    for view in [admin.index_view, *admin._views]:
        if view.endpoint == blueprint:
            return view, function
    return None, function


def required_permissions(view, function: str) -> list[str]:
    """The permissions a GET of this page needs, as the view declares them."""
    needed = [getattr(view, "permission", None)]
    if function in WRITE_VIEWS and getattr(view, "write_permission", None):
        needed.append(view.write_permission)
    return [p for p in needed if p]


def api_permission(app, endpoint: str) -> str | None:
    """The permission an API view's ``token_required`` wrapper closes over (None: public)."""
    function = app.view_functions[endpoint]
    return inspect.getclosurevars(function).nonlocals.get("permission")


def users_by_role(app) -> dict[str, User]:
    with app.app_context():
        users = {u.role: u for u in db.session.scalars(select(User))}
        for user in users.values():
            db.session.expunge(user)
    return users


def test_the_matrix_covers_every_view_of_the_admin(app):
    """Guard the walker itself: it must find the pages of §8.1 and resolve each to a view."""
    rules = get_rules(app, "/admin/")
    paths = {rule.rule for rule in rules}
    for path in (
        "/admin/",
        "/admin/town/",
        "/admin/village/",
        "/admin/cadre/",
        "/admin/group/",
        "/admin/project/",
        "/admin/user/",
        "/admin/scheme/",
        "/admin/indicator/",
        "/admin/period/",
        "/admin/town/new/",
    ):
        assert path in paths, path
    for rule in rules:
        if rule.endpoint == "admin.static":
            continue
        view, _ = admin_view_for(app, rule.endpoint)
        assert view is not None, rule.rule
        assert getattr(view, "permission", None), f"{rule.rule} declares no permission"


def test_anonymous_users_are_sent_to_login_from_every_admin_page(app, client):
    for rule in get_rules(app, "/admin/"):
        response = client.get(rule.rule)
        assert response.status_code == 302, rule.rule
        assert response.headers["Location"].startswith("/login"), rule.rule


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_reaches_exactly_the_admin_pages_its_permissions_allow(app, client, role):
    users = users_by_role(app)
    client.post("/login", data={"username": role, "password": PASSWORD})
    checked = 0
    for rule in get_rules(app, "/admin/"):
        view, function = admin_view_for(app, rule.endpoint)
        if view is None:
            continue
        allowed = all(can(users[role], p) for p in required_permissions(view, function))
        response = client.get(rule.rule)
        where = (role, rule.rule, response.status_code)
        if allowed:
            assert response.status_code not in (401, 403), where
            assert response.status_code < 500, where
            if response.status_code == 302:
                assert not response.headers["Location"].startswith("/login"), where
        else:
            assert response.status_code == 403, where
        checked += 1
    assert checked > 20


@pytest.fixture
def tokens(app) -> dict[str, str]:
    with app.app_context():
        return {
            u.role: accounts.create_token(SETUP, u, f"{u.role}-token")
            for u in db.session.scalars(select(User))
        }


def test_api_refuses_requests_without_a_valid_token_in_json(app, client):
    rules = get_rules(app, "/api/v1/")
    endpoints = {rule.endpoint for rule in rules}
    assert {"api.summary", "api.periods"} <= endpoints
    for rule in rules:
        if api_permission(app, rule.endpoint) is None:
            continue  # a public document such as openapi.json
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
            response = client.get(rule.rule, headers=headers)
            assert response.status_code == 401, (rule.rule, headers)
            assert response.is_json and "error" in response.get_json()


@pytest.mark.parametrize("role", list(ROLES))
def test_api_reads_follow_the_roles(app, client, tokens, role):
    users = users_by_role(app)
    for rule in get_rules(app, "/api/v1/"):
        permission = api_permission(app, rule.endpoint)
        if permission is None:
            continue
        response = client.get(rule.rule, headers={"Authorization": f"Bearer {tokens[role]}"})
        expected = 200 if can(users[role], permission) else 403
        assert response.status_code == expected, (role, rule.rule, permission)
        assert response.is_json


def test_every_admin_page_renders_in_english_too(app, client):
    """A translated label with a broken placeholder would only fail in English."""
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    client.get("/lang/en")
    for rule in get_rules(app, "/admin/"):
        response = client.get(rule.rule)
        assert response.status_code < 500, rule.rule
    page = client.get("/admin/town/").get_data(as_text=True)
    assert "Towns" in page and "Division code" in page

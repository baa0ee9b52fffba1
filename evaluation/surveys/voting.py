"""The voting pages (docs/surveys.md#voting): ``/vote`` without a login.

``GET /vote`` asks for a code; ``GET /vote?code=…`` (the slip's QR code) shows the ballot of
that code's survey; ``POST /vote`` checks the ballot, asks for a confirmation (in the page
with ``static/vote.js``, or on a page of its own without JavaScript) and casts it;
``GET /vote/thanks`` thanks the voter and says nothing else. Every refusal is a Chinese
message and stores nothing.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, url_for

from evaluation.core.writing import InvalidInput, ServiceError, TooManyAttempts
from evaluation.surveys import operations

bp = Blueprint("vote", __name__)


@bp.after_request
def _private(response):
    # A code in the address and a ballot on the screen: kept by no cache, sent to no one.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _address() -> str:
    return request.remote_addr or ""


def _choices(form) -> dict[str, str]:
    """The ballot's choices: every ``t<target id>`` field of the form."""
    return {
        key[1:]: value
        for key, value in form.items()
        if key.startswith("t") and key[1:].isascii() and key[1:].isdigit() and len(key) < 12
    }


def _code_page(message: str | None = None, status: int = 200, code: str = ""):
    return render_template("surveys/vote_code.html", message=message, code=code), status


def _ballot_page(survey, group, code: str, choices=None, message=None, status: int = 200):
    return render_template(
        "surveys/vote_ballot.html", survey=survey, group=group, code=code,
        choices=choices or {}, message=message, window=operations.voting_window(survey),
    ), status  # fmt: skip


@bp.get("/vote")
def ballot():
    code = request.args.get("code", "")
    if not code.strip():
        return _code_page()
    try:
        survey, group = operations.look_up_code(code, address=_address())
    except TooManyAttempts as error:
        return _code_page(error.message, 429)
    except ServiceError as error:
        return _code_page(error.message, error.status, code=code)
    return _ballot_page(survey, group, operations.normalize_code(code))


@bp.post("/vote")
def cast():
    form = request.form
    code = operations.normalize_code(form.get("code", ""))
    choices = _choices(form)
    if form.get("edit") == "1" or form.get("confirmed") != "1":
        return _review(code, choices, edit=form.get("edit") == "1")
    try:
        operations.cast_ballot(code, choices, address=_address(), survey_id=form.get("survey"))
    except InvalidInput as error:
        return _ballot_again(code, choices, error.message, error.status)
    except TooManyAttempts as error:
        return _code_page(error.message, 429)
    except ServiceError as error:  # unknown or used code, survey not open
        return _code_page(error.message, error.status)
    return redirect(url_for("vote.thanks"), 303)


def _review(code: str, choices: dict, *, edit: bool):
    """Without the page's script (or to change a choice): check the ballot and show it
    back for a confirmation; nothing is stored."""
    try:
        survey, group = operations.look_up_code(code, address=_address())
    except TooManyAttempts as error:
        return _code_page(error.message, 429)
    except ServiceError as error:
        return _code_page(error.message, error.status)
    if edit:
        return _ballot_page(survey, group, code, choices)
    problems = operations.ballot_problems(survey, choices)
    if problems:
        return _ballot_page(survey, group, code, choices, problems[0], 422)
    labels = {o.key: o.label for o in survey.options}
    rows = [(t, labels[choices[str(t.id)]]) for t in survey.targets]
    return render_template(
        "surveys/vote_confirm.html", survey=survey, group=group, code=code, choices=choices,
        rows=rows,
    )  # fmt: skip


def _ballot_again(code: str, choices: dict, message: str, status: int):
    """The ballot again, the voter's choices kept, with what was wrong."""
    try:
        survey, group = operations.look_up_code(code, address=_address())
    except TooManyAttempts as error:
        return _code_page(error.message, 429)
    except ServiceError:
        return _code_page(message, status)
    return _ballot_page(survey, group, code, choices, message, status)


@bp.get("/vote/thanks")
def thanks():
    return render_template("surveys/vote_thanks.html")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

"""Site-wide page furniture: the demo-data mark, language switch, root redirect."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from evaluation.auth import safe_next
from evaluation.core.labels import action_label, entity_label
from evaluation.core.numbers import plain
from evaluation.grades import shown_grade
from evaluation.i18n import local_time
from evaluation.scores.values import NOTE_MAX
from evaluation.security import Refused
from models import Setting, db

bp = Blueprint("web", __name__)

APP_TITLE = _l("担当作为考核评价台账")


#: The largest number a query string may name: ids are 32-bit integers in every database.
LARGEST_ARG = 2**31 - 1
#: The largest history ``seq`` (a signed 64-bit column).
LARGEST_SEQ = 2**63 - 1


def int_arg(name: str, values=None, *, largest: int = LARGEST_ARG) -> int | None:
    """Read a whole number from the query string (or ``values``), for ids and page numbers.

    None when the argument is absent or not plain ASCII digits (``²`` and ``١`` are digits
    to ``str.isdigit`` but not to ``int``): a mistyped filter shows the unfiltered page.
    A number larger than ``largest`` (``LARGEST_ARG``; ``LARGEST_SEQ`` for history
    positions) is no typo but a request no page makes: it is refused with a 400 that
    names the argument (it was a 500 in the database, docs/rules.md#security).
    """
    text = ((request.args if values is None else values).get(name) or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text) if len(text) <= len(str(largest)) else largest + 1
    if number > largest:
        raise Refused(400, too_large_message(name, largest))
    return number


def too_large_message(name: str, largest: int) -> str:
    """The refusal of a number past what the database can hold."""
    return _("参数「%(name)s」的数值超出范围（最大 %(largest)s）", name=name, largest=largest)


def demo_data_loaded() -> bool:
    """Tell whether the sample data of ``seed-demo`` are loaded."""
    row = db.session.get(Setting, "demo_data")
    return row is not None and row.value == "1"


def init_app(app: Flask) -> None:
    """Register the page furniture."""
    app.register_blueprint(bp)
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["shown_grade"] = shown_grade
    app.jinja_env.globals["plain"] = plain
    # One label table for the codes the history stores (evaluation/core/labels.py).
    app.jinja_env.globals["action_label"] = action_label
    app.jinja_env.globals["entity_label"] = entity_label
    app.jinja_env.globals["NOTE_MAX"] = NOTE_MAX

    @app.context_processor
    def _furniture():
        locale = get_locale()
        return {
            "app_title": APP_TITLE,
            "demo_data": demo_data_loaded(),
            "current_locale": str(locale) if locale else "zh_CN",
        }


@bp.route("/")
def root():
    return redirect(url_for("admin.index"))


@bp.route("/lang/<lang>")
def language(lang: str):
    if lang in ("zh_CN", "en"):
        session["lang"] = lang
    return redirect(safe_next(request.args.get("next")) or url_for("admin.index"))

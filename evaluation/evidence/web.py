"""The evidence doors of the web: a file's download, a photo's thumbnail, and the list
partial other pages include (docs/evidence.md#downloads).

``GET /evidence/<sha256>`` answers the file as an attachment under its original name,
``nosniff``; ``?inline=1`` lets the browser's own viewer open a PDF or an image, never
anything else. 403 unless ``operations.may_see``.
"""

from __future__ import annotations

import io

from flask import Blueprint, Flask, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from PIL import Image, ImageOps

from evaluation.auth import safe_next
from evaluation.core.downloads import content_disposition
from evaluation.core.writing import ServiceError
from evaluation.evidence import operations
from evaluation.evidence.sniff import JPEG, KIND_NAMES, PDF, PNG
from evaluation.evidence.store import chunks, current_store, human_size
from evaluation.security import Refused
from models import CadreRecord, Evidence, EvidenceLink, ProjectUpdate, ReviewRecord, Score, db

bp = Blueprint("evidence", __name__, template_folder="templates")

#: What a browser may show in its own viewer (``?inline=1``); everything else downloads.
INLINE_TYPES = frozenset({PDF, JPEG, PNG})
#: The longest side of a thumbnail, in pixels.
THUMB_SIDE = 240
#: A PDF shown inline gets its own policy: the page's ``object-src 'none'`` would stop
#: the browser's PDF viewer; scripts and frames stay shut out.
INLINE_CSP = "default-src 'none'; object-src 'self'; img-src 'self'; style-src 'unsafe-inline'"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.filters["filesize"] = human_size
    app.jinja_env.globals["evidence_kind"] = lambda media_type: KIND_NAMES.get(
        media_type, media_type
    )


def visible_or_abort(sha256: str, user) -> Evidence:
    """The evidence with this hash if ``user`` may see it: 404 when there is none, 403
    when they may not (login first when nobody is signed in)."""
    found = operations.find(sha256)
    if found is None:
        abort(404)
    if not operations.may_see(user, found):
        abort(403)
    return found


def file_response(found: Evidence, *, inline: bool = False) -> Response:
    """The stored file, streamed in chunks, as an attachment under its original name
    (inline only for a PDF or an image when asked), with ``nosniff``."""
    store = current_store()
    try:
        body = chunks(store, found.sha256)
        first = next(body, b"")
    except FileNotFoundError:
        abort(404)

    def stream():
        yield first
        yield from body

    shown = inline and found.media_type in INLINE_TYPES
    response = Response(stream(), mimetype=found.media_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(found.size)
    response.headers["Content-Disposition"] = content_disposition(
        found.original_name, kind="inline" if shown else "attachment"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["ETag"] = f'"{found.sha256}"'
    if shown and found.media_type == PDF:
        response.headers["Content-Security-Policy"] = INLINE_CSP
    return response


def _signed_in():
    if not current_user.is_authenticated:
        flash(_("请先登录。"), "warning")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


@bp.get("/evidence/<sha256>")
def download(sha256: str):
    """A stored file: attachment, or inline (``?inline=1``) for a PDF or an image."""
    if (away := _signed_in()) is not None:
        return away
    found = visible_or_abort(sha256, current_user)
    return file_response(found, inline=request.args.get("inline") == "1")


@bp.get("/evidence/<sha256>/thumb")
def thumbnail(sha256: str):
    """A small JPEG of a photo (no EXIF: the position is shown as text, not carried)."""
    if (away := _signed_in()) is not None:
        return away
    found = visible_or_abort(sha256, current_user)
    if found.media_type not in (JPEG, PNG):
        abort(404)
    with current_store().open(found.sha256) as source:
        data = io.BytesIO(source.read())
    with Image.open(data) as image:
        if image.format == "JPEG":
            image.draft("RGB", (THUMB_SIDE, THUMB_SIDE))
        image.thumbnail((THUMB_SIDE, THUMB_SIDE))
        # A phone stores a portrait photo sideways with an Orientation tag: turn it.
        small = ImageOps.exif_transpose(image).convert("RGB")
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    response = Response(out.getvalue(), mimetype="image/jpeg")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


def _score_facts(target_id: int):
    score = db.session.get(Score, target_id)
    if score is None:
        return None
    indicator = score.indicator.code if getattr(score, "indicator", None) else None
    return score.unit_id, score.period_id, indicator


def _record_facts(model, unit_of):
    def facts(target_id: int):
        row = db.session.get(model, target_id)
        return None if row is None else (unit_of(row), getattr(row, "period_id", None), None)

    return facts


#: The targets this door attaches to (the rooms with pages of their own, such as the
#: reporting room's claims, attach through their own routes): id → (unit, period,
#: indicator), None when there is no such row.
ATTACHABLE = {
    "score": _score_facts,
    "cadre_record": _record_facts(CadreRecord, lambda r: r.cadre.unit_id if r.cadre else None),
    "review_record": _record_facts(ReviewRecord, lambda r: r.unit_id),
    "project_update": _record_facts(ProjectUpdate, lambda r: r.project.unit_id),
}


def _back(default: str):
    return redirect(safe_next(request.form.get("next")) or default, code=303)


@bp.post("/evidence/attach")
def attach():
    """Upload a file for a score, a cadre record, a review record or a project update
    (form: ``target_type``, ``target_id``, ``file``, ``next``); back to ``next``."""
    if (away := _signed_in()) is not None:
        return away
    kind = request.form.get("target_type", "")
    facts_of = ATTACHABLE.get(kind)
    target = request.form.get("target_id", "")
    if facts_of is None or not (target.isascii() and target.isdigit()) or len(target) > 10:
        abort(404)
    facts = facts_of(int(target))
    if facts is None:
        abort(404)
    unit_id, period_id, indicator = facts
    # Whoever attaches must see the target too (a reviewer: only their group's villages).
    probe = EvidenceLink(target_type=kind, target_id=int(target), unit_id=unit_id)
    if not operations.may_see_link(current_user, probe):
        abort(403)
    try:
        found = operations.add_evidence(
            current_user,
            request.files.get("file"),
            target_type=kind,
            target_id=int(target),
            unit_id=unit_id,
            period_id=period_id,
            indicator=indicator,
        )
    except ServiceError as error:
        # Back to the page with the reason when it named itself; else the error page
        # with the status (413 too large, 422 refused type, 403).
        if error.status != 403 and safe_next(request.form.get("next")):
            flash(error.message, "danger")
            return _back(url_for("admin.index"))
        raise Refused(error.status, error.message) from None
    flash(_("已上传佐证材料：%(name)s", name=found.original_name), "success")
    return _back(url_for("admin.index"))


@bp.post("/evidence/unlink")
def unlink():
    """End a link (form: ``link_id``, ``reason``, ``next``); the file stays."""
    if (away := _signed_in()) is not None:
        return away
    link_id = request.form.get("link_id", "")
    if not (link_id.isascii() and link_id.isdigit()) or len(link_id) > 10:
        abort(404)
    try:
        operations.unlink_evidence(current_user, int(link_id), request.form.get("reason", ""))
    except ServiceError as error:
        if error.status in (403, 404):
            abort(error.status)
        flash(error.message, "danger")
        return _back(url_for("admin.index"))
    flash(_("已撤下佐证材料（文件仍保留，可在变更历史中查到）"), "success")
    return _back(url_for("admin.index"))

"""The evidence doors of the web: a file's download, a photo's thumbnail, and the list
partial other pages include (docs/evidence.md#downloads).

``GET /evidence/<sha256>`` answers the file as an attachment under its original name,
``nosniff``; ``?inline=1`` lets the browser's own viewer open a PDF or an image, never
anything else. 403 unless ``operations.may_see``.
"""

from __future__ import annotations

import io

from flask import Blueprint, Flask, Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from PIL import Image

from evaluation.core.downloads import content_disposition
from evaluation.evidence import operations
from evaluation.evidence.sniff import JPEG, KIND_NAMES, PDF, PNG
from evaluation.evidence.store import chunks, current_store, human_size
from models import Evidence

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
        flash("请先登录。", "warning")
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
        small = image.convert("RGB")
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    response = Response(out.getvalue(), mimetype="image/jpeg")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response

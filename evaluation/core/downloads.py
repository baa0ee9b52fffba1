"""The download header every file the ledger serves carries (RFC 6266, RFC 5987)."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from werkzeug.http import dump_options_header

#: RFC 5987 attr-chars besides letters and digits: left as they are in ``filename*``.
_ATTR_CHARS = "!#$&+-.^_`|~"


def content_disposition(
    filename: str, fallback: str | None = None, *, kind: str = "attachment"
) -> str:
    """Return the attachment header for a download named ``filename``.

    The header Flask's ``send_file(..., download_name=filename)`` writes, made by
    werkzeug's own header writer (RFC 6266): an ASCII name as it is; any other as
    ``filename*=UTF-8''…`` (RFC 5987, what browsers save under) with an ASCII
    ``filename`` for old clients — ``fallback`` when given, else werkzeug's (the name's
    ASCII letters after NFKD). Streamed exports cannot go through ``send_file``, so every
    download asks this function. ``kind="inline"`` only for a PDF or an image the browser
    shows in its own viewer (docs/evidence.md#downloads).
    """
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        if fallback is None:
            fallback = unicodedata.normalize("NFKD", filename)
        fallback = fallback.encode("ascii", "ignore").decode("ascii")
        names = {"filename": fallback, "filename*": "UTF-8''" + quote(filename, safe=_ATTR_CHARS)}
    else:
        names = {"filename": filename}
    if kind not in ("attachment", "inline"):
        raise ValueError("a download is an attachment or, for a PDF or an image, inline")
    return dump_options_header(kind, names)

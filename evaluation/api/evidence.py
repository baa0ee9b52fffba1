"""``GET /api/v1/evidence/<sha256>``: a stored 佐证材料, for whoever may see something it
supports (docs/evidence.md#downloads)."""

from __future__ import annotations

from functools import wraps

from flask import g

from evaluation.api import bp, spec, token_required
from evaluation.api.schemas import ERROR_TEXTS, DocumentedResponse, Error
from evaluation.core.writing import Forbidden, NotFound
from evaluation.evidence import operations
from evaluation.evidence.web import file_response

FILE_ANSWERS = DocumentedResponse(
    HTTP_200=None,
    **{f"HTTP_{code}": (Error, ERROR_TEXTS[code]) for code in (401, 403)},
    HTTP_404=(Error, "没有这个文件"),
)


def _file(sha256: str):
    """佐证材料文件：附件下载（原文件名，nosniff）；调用者须能查看它所佐证的事项，否则 403"""
    found = operations.find(sha256)
    if found is None:
        raise NotFound("没有这个文件")
    if not operations.may_see(g.api_user, found):
        raise Forbidden("无权查看这份佐证材料")
    return file_response(found)


#: spectree documents the operation from this; the route below does not run through its
#: check, which would read the whole streamed file into memory to validate it.
_documented = spec.validate(
    resp=FILE_ANSWERS,
    path_parameter_descriptions={"sha256": "文件内容的 SHA-256（64 位小写十六进制）"},
    tags=["佐证材料"],
)(_file)


@bp.get("/evidence/<sha256>")
@token_required("evidence.read")
@wraps(_documented)
def evidence_file(sha256: str):
    return _file(sha256)

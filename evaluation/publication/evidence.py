"""Evidence for objections and 容错 cases: the evidence room's store (docs/evidence.md),
when it is installed; until then an upload is refused rather than dropped."""

from __future__ import annotations

from evaluation.core.writing import InvalidInput


def attach(actor, uploads, *, objection=None, case=None) -> list:
    """Store each upload as evidence of ``objection`` or ``case``; empty uploads are skipped."""
    files = [upload for upload in uploads or [] if upload and upload.filename]
    if not files:
        return []
    raise InvalidInput("佐证材料暂不可上传", details=[{"path": "evidence", "message": "未启用"}])

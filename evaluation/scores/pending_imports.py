"""确认导入: a clean dry run's file kept until the user confirms it (docs/import.md#confirm).

The dry run stores the uploaded bytes in the ``pending_import`` table under a random
token (with the file's SHA-256, the user, the period, level and overwrite choice), so
the confirmation does not upload the file again and any app process can answer it.
Confirming reads the bytes back — only for the same user, before expiry, with the same
SHA-256 — and hands them to ``import_scores``, which checks everything again
and applies the file all or nothing. A token is used once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete

from evaluation.core.writing import InvalidInput, require
from evaluation.scores.importer.apply import ImportReport, import_scores
from models import PendingImport, db
from models.types import utcnow

#: How long a dry run may wait for its confirmation.
LIFETIME = timedelta(minutes=30)
GONE = "待确认的导入文件已失效（已使用、已过期或不属于您），请重新上传文件试导入"


@dataclass(frozen=True)
class Held:
    token: str
    sha256: str


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hold(
    actor, *, period: str, level: str, filename: str, data: bytes, overwrite: bool, reason: str
) -> Held:
    """Keep a file whose dry run was clean; return its token. Expired files and the
    user's earlier ones are removed (one pending file per user)."""
    require(actor, "score.write")
    now = utcnow()
    db.session.execute(
        delete(PendingImport).where(
            (PendingImport.expires_at < now) | (PendingImport.username == actor.username)
        )
    )
    held = Held(secrets.token_urlsafe(32), sha256_of(data))
    db.session.add(
        PendingImport(
            token=held.token,
            username=actor.username,
            period_code=period,
            level=level,
            filename=filename[:255],
            overwrite=overwrite,
            reason=reason or "",
            data=data,
            sha256=held.sha256,
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    db.session.commit()
    return held


def confirm(actor, token: str, sha256: str) -> ImportReport:
    """Apply a held file: the same checks as any import (``import_scores``), once."""
    require(actor, "score.write")
    row = db.session.get(PendingImport, token) if token else None
    if (
        row is None
        or row.username != actor.username
        or row.expires_at < utcnow()
        or not secrets.compare_digest(row.sha256, sha256 or "")
        or sha256_of(row.data) != row.sha256
    ):
        raise InvalidInput(GONE)
    period, level, filename = row.period_code, row.level, row.filename
    overwrite, reason, data = row.overwrite, row.reason, row.data
    db.session.delete(row)  # used once, whatever the outcome
    db.session.commit()
    return import_scores(
        actor,
        period,
        data,
        filename=filename,
        level=level,
        overwrite=overwrite,
        reason=reason or None,
    )

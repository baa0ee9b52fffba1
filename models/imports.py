"""An uploaded import file kept between its dry run and its 确认导入 (docs/import.md#confirm)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.types import utcnow


class PendingImport(db.Model):
    """The bytes of a file whose dry run was clean, under a random token.

    Kept in the database so that whichever app process answers the confirmation finds
    it; tied to the user who uploaded it (and to their session), checked against its
    SHA-256, removed when used or expired. Not ledger data: no history event.
    """

    __tablename__ = "pending_import"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    period_code: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255), default="")
    overwrite: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)

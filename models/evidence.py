"""佐证材料: a stored file (``Evidence``, once per content) and what it supports
(``EvidenceLink``) (docs/evidence.md).

A file is addressed by its SHA-256 and never changed or deleted by the app; a link is
added with an ``evidence.add`` event and ended, never deleted, with ``evidence.unlink``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.states import EvidenceTarget
from models.types import utcnow

#: Degrees with six decimals: about 0.1 m, more than a phone's GPS knows.
Degrees = Numeric(9, 6, asdecimal=True)


class Evidence(db.Model):
    """One stored file: its hash, size, the type its content shows, the first name it
    came under, who uploaded it first and, for photos, the EXIF time and position."""

    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(128))
    original_name: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: DateTimeOriginal of a photo, as the camera wrote it (local time, no zone).
    exif_taken_at: Mapped[datetime | None] = mapped_column(DateTime)
    exif_lat: Mapped[Decimal | None] = mapped_column(Degrees)
    exif_lon: Mapped[Decimal | None] = mapped_column(Degrees)

    links = relationship("EvidenceLink", back_populates="evidence", order_by="EvidenceLink.id")

    @property
    def is_image(self) -> bool:
        return self.media_type in ("image/jpeg", "image/png")

    def __str__(self) -> str:
        return self.original_name


class EvidenceLink(db.Model):
    """A file linked to what it supports (``target_type`` + ``target_id``), with the
    unit, period and indicator the auditor's manifest names. Unlinking sets
    ``unlinked_at``/``unlinked_by``/``unlink_reason``; the row stays."""

    __tablename__ = "evidence_link"
    __table_args__ = (
        EvidenceTarget.check("target_type", "target_known"),
        CheckConstraint("(unlinked_at IS NULL) = (unlinked_by IS NULL)", name="unlinked_by_and_at"),
        Index("ix_evidence_link_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int] = mapped_column(BigInteger)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    period_id: Mapped[int | None] = mapped_column(ForeignKey("period.id"), index=True)
    #: The indicator's code, for the manifest (null when the target has none).
    indicator: Mapped[str | None] = mapped_column(String(32))
    #: The name the file came under for this link (the same content may come twice).
    name: Mapped[str] = mapped_column(String(255))
    linked_by: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    unlinked_by: Mapped[str | None] = mapped_column(String(64))
    unlinked_at: Mapped[datetime | None] = mapped_column(DateTime)
    unlink_reason: Mapped[str | None] = mapped_column(Text)

    evidence = relationship("Evidence", back_populates="links")
    unit = relationship("Unit")
    period = relationship("Period")

    @property
    def active(self) -> bool:
        return self.unlinked_at is None

    def __str__(self) -> str:
        return f"{self.target_type}/{self.target_id}: {self.name}"

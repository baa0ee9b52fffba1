"""佐证材料: add a file to what it supports, unlink it, and tell who may see it
(docs/evidence.md).

``add_evidence`` streams the upload into a temporary file (hashed, cut off at
``EVIDENCE_MAX_BYTES``), decides its type by content (``sniff``), reads a photo's EXIF,
and then, in one ``core.writing.writing`` transaction, puts the file in the store (once
per content), writes the ``Evidence`` row if the content is new, the ``EvidenceLink`` and
the ``evidence.add`` event. The row is written only after the file is in place, so a row
never names a missing file; a failed upload leaves no temporary file behind.

Who may see a file is asked of the rooms: each kind of target registers a function
``(user, link) -> bool`` (``register_visibility``); a user sees a file when one of its
live links says yes, or holds ``evidence.view_all``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from evaluation.core.permissions import can
from evaluation.core.writing import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    require,
    writing,
)
from evaluation.evidence import sniff as sniffing
from evaluation.evidence.exif import PhotoFacts, read_exif
from evaluation.evidence.store import Received, current_store, receive
from evaluation.history import chain as history
from models import Evidence, EvidenceLink, Period, Unit, db
from models.states import EvidenceTarget
from models.types import utcnow

__all__ = [
    "EvidenceTarget",
    "add_evidence",
    "evidence_for",
    "evidence_for_many",
    "evidence_for_period",
    "find",
    "link_evidence",
    "may_see",
    "may_see_link",
    "receive_upload",
    "register_permission",
    "register_visibility",
    "unlink_evidence",
]

Visibility = Callable[[Any, EvidenceLink], bool]

#: target type → who may see a file linked to such a target (filled by the rooms).
_VISIBILITY: dict[str, Visibility] = {}
#: target type → the permission adding or unlinking evidence needs when the caller names
#: none (filled by the rooms; a caller may always pass its own).
_PERMISSIONS: dict[str, str] = {}

REASON_MAX = 500


def register_visibility(target_type: str, fn: Visibility) -> None:
    """Say who may see a file linked to a ``target_type``: ``fn(user, link) -> bool``.

    The room that owns the target calls this once at import (claims: the reporting
    room); a later call for the same type replaces the earlier one.
    """
    _VISIBILITY[EvidenceTarget(target_type).value] = fn


def register_permission(target_type: str, permission: str) -> None:
    """Name the permission that adds or unlinks evidence of ``target_type`` by default."""
    _PERMISSIONS[EvidenceTarget(target_type).value] = permission


def may_see_link(user, link: EvidenceLink) -> bool:
    """Tell whether ``user`` may see what ``link`` supports (and so its file)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if can(user, "evidence.view_all"):
        return True
    fn = _VISIBILITY.get(link.target_type)
    return bool(fn is not None and fn(user, link))


def may_see(user, evidence: Evidence) -> bool:
    """Tell whether ``user`` may download ``evidence``: ``evidence.view_all``, or one of
    its live links is to something the user may see (docs/evidence.md#who-sees-a-file)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if can(user, "evidence.view_all"):
        return True
    return any(link.active and may_see_link(user, link) for link in evidence.links)


def find(sha256: str) -> Evidence | None:
    """The stored file with this hash (lower-case hex), or None."""
    text = (sha256 or "").strip().lower()
    if len(text) != 64:
        return None
    return db.session.scalar(select(Evidence).where(Evidence.sha256 == text))


def evidence_for(
    target_type: str, target_id: int, *, include_unlinked: bool = False
) -> list[EvidenceLink]:
    """The links of one target, oldest first, each with its ``evidence`` loaded."""
    return evidence_for_many(target_type, [target_id], include_unlinked=include_unlinked).get(
        target_id, []
    )


def evidence_for_many(
    target_type: str, target_ids: Iterable[int], *, include_unlinked: bool = False
) -> dict[int, list[EvidenceLink]]:
    """The links of many targets of one type at once (a page of claims): ``{id: [link…]}``
    for the targets that have any."""
    ids = sorted({int(i) for i in target_ids})
    found: dict[int, list[EvidenceLink]] = {}
    if not ids:
        return found
    kind = EvidenceTarget(target_type).value
    for start in range(0, len(ids), 500):
        query = (
            select(EvidenceLink)
            .options(joinedload(EvidenceLink.evidence))
            .where(
                EvidenceLink.target_type == kind,
                EvidenceLink.target_id.in_(ids[start : start + 500]),
            )
            .order_by(EvidenceLink.id)
        )
        if not include_unlinked:
            query = query.where(EvidenceLink.unlinked_at.is_(None))
        for link in db.session.scalars(query):
            found.setdefault(link.target_id, []).append(link)
    return found


def evidence_for_period(
    target_type: str, period_id: int, *, include_unlinked: bool = False
) -> dict[int, list[EvidenceLink]]:
    """Every link of one target type in a period, in one query (a province's claims):
    ``{target_id: [link…]}``. Only links written with their ``period_id``."""
    query = (
        select(EvidenceLink)
        .options(joinedload(EvidenceLink.evidence))
        .where(
            EvidenceLink.target_type == EvidenceTarget(target_type).value,
            EvidenceLink.period_id == period_id,
        )
        .order_by(EvidenceLink.id)
    )
    if not include_unlinked:
        query = query.where(EvidenceLink.unlinked_at.is_(None))
    found: dict[int, list[EvidenceLink]] = {}
    for link in db.session.scalars(query):
        found.setdefault(link.target_id, []).append(link)
    return found


# --- adding ---------------------------------------------------------------------------


@dataclass
class Checked:
    """An upload received, hashed and sniffed, waiting in a temporary file to be stored."""

    received: Received
    name: str
    facts: PhotoFacts

    @property
    def sha256(self) -> str:
        return self.received.sha256

    @property
    def size(self) -> int:
        return self.received.size

    @property
    def media_type(self) -> str:
        return self.received.media_type

    def discard(self) -> None:
        self.received.discard()


def _stream_and_name(upload, filename: str | None) -> tuple[BinaryIO, str]:
    if upload is None:
        raise InvalidInput("没有选择文件", details=[{"path": "file", "message": "没有选择文件"}])
    if isinstance(upload, bytes | bytearray):
        return io.BytesIO(upload), filename or ""
    stream = getattr(upload, "stream", None)
    if stream is not None and hasattr(upload, "filename"):  # werkzeug FileStorage
        return stream, filename or upload.filename or ""
    if hasattr(upload, "read"):
        return upload, filename or Path(str(getattr(upload, "name", "") or "")).name
    raise TypeError("upload must be a FileStorage, a binary stream or bytes")


def receive_upload(upload, *, filename: str | None = None) -> Checked:
    """Stream ``upload`` into a temporary file and check it: size, type by content, a
    clean name and a photo's EXIF. Raises ``TooLarge`` (413) or ``InvalidInput`` (422) and
    keeps nothing; the caller stores it with ``add_evidence`` (or ``discard()``\\ s it)."""
    stream, name = _stream_and_name(upload, filename)
    config = current_app.config
    store = current_store()
    received = receive(stream, store.temp_dir, int(config["EVIDENCE_MAX_BYTES"]))
    try:
        received.media_type = sniffing.sniff(received.path, sniffing.ZipLimits.from_config(config))
        facts = (
            read_exif(received.path)
            if received.media_type in (sniffing.JPEG, sniffing.PNG)
            else PhotoFacts()
        )
    except BaseException:
        received.discard()
        raise
    return Checked(received, sniffing.clean_name(name, received.media_type), facts)


def _permission(target_type: str, permission: str | None) -> str:
    chosen = permission or _PERMISSIONS.get(target_type)
    if chosen is None:
        raise Forbidden("无权为此类事项上传佐证材料")
    return chosen


def add_evidence(
    actor,
    upload,
    *,
    target_type: str,
    target_id: int,
    unit_id: int | None = None,
    period_id: int | None = None,
    indicator: str | None = None,
    permission: str | None = None,
    filename: str | None = None,
) -> Evidence:
    """Store ``upload`` (a werkzeug ``FileStorage``, a binary stream with ``filename``,
    bytes, or an already ``Checked`` upload) and link it to ``target_type``/``target_id``.

    The actor needs ``permission`` (else the target type's registered one); the caller
    checks the target itself (its town, its state) — in its own ``writing`` transaction
    if it wants the check and the link to stand or fall together. Returns the
    ``Evidence`` (an existing row when the same content was stored before). Linking the
    same file to the same target twice adds nothing.
    """
    kind = EvidenceTarget(target_type).value
    chosen = _permission(kind, permission)
    require(actor, chosen)  # before reading a byte of the file
    checked = upload if isinstance(upload, Checked) else receive_upload(upload, filename=filename)
    try:
        with writing(actor, chosen):
            evidence = _stored(actor, checked)
            _link(
                actor,
                evidence,
                kind,
                target_id,
                name=checked.name,
                unit_id=unit_id,
                period_id=period_id,
                indicator=indicator,
            )
    finally:
        checked.discard()
    return evidence


def link_evidence(
    actor,
    evidence: Evidence,
    *,
    target_type: str,
    target_id: int,
    unit_id: int | None = None,
    period_id: int | None = None,
    indicator: str | None = None,
    permission: str | None = None,
    name: str | None = None,
) -> EvidenceLink:
    """Link an already stored file to another target (say, a claim's evidence to the
    score it became), with its own ``evidence.add`` event."""
    kind = EvidenceTarget(target_type).value
    chosen = _permission(kind, permission)
    with writing(actor, chosen):
        return _link(
            actor,
            evidence,
            kind,
            target_id,
            name=name or evidence.original_name,
            unit_id=unit_id,
            period_id=period_id,
            indicator=indicator,
        )


def _stored(actor, checked: Checked) -> Evidence:
    """Put the file in the store, then find or write its row (inside ``writing``)."""
    current_store().put(checked.received)
    evidence = db.session.scalar(select(Evidence).where(Evidence.sha256 == checked.sha256))
    if evidence is not None:
        return evidence
    evidence = Evidence(
        sha256=checked.sha256,
        size=checked.size,
        media_type=checked.media_type,
        original_name=checked.name,
        uploaded_by=actor.username,
        uploaded_at=utcnow(),
        exif_taken_at=checked.facts.taken_at,
        exif_lat=checked.facts.lat,
        exif_lon=checked.facts.lon,
    )
    db.session.add(evidence)
    db.session.flush()
    return evidence


def _link(
    actor,
    evidence: Evidence,
    kind: str,
    target_id: int,
    *,
    name: str,
    unit_id: int | None,
    period_id: int | None,
    indicator: str | None,
) -> EvidenceLink:
    existing = db.session.scalar(
        select(EvidenceLink).where(
            EvidenceLink.evidence_id == evidence.id,
            EvidenceLink.target_type == kind,
            EvidenceLink.target_id == int(target_id),
            EvidenceLink.unlinked_at.is_(None),
        )
    )
    if existing is not None:
        return existing
    unit = db.session.get(Unit, unit_id) if unit_id is not None else None
    period = db.session.get(Period, period_id) if period_id is not None else None
    if unit_id is not None and unit is None:
        raise NotFound("没有这个单位")
    if period_id is not None and period is None:
        raise NotFound("没有这个考核周期")
    link = EvidenceLink(
        evidence_id=evidence.id,
        target_type=kind,
        target_id=int(target_id),
        unit_id=unit_id,
        period_id=period_id,
        indicator=indicator or None,
        name=name,
        linked_by=actor.username,
        linked_at=utcnow(),
    )
    db.session.add(link)
    db.session.flush()
    history.append(
        actor,
        "evidence.add",
        "evidence",
        evidence.sha256,
        period=period.code if period else None,
        after={
            "sha256": evidence.sha256,
            "size": evidence.size,
            "media_type": evidence.media_type,
            "name": name,
            "target_type": kind,
            "target_id": int(target_id),
            "unit": unit.code if unit else None,
            "indicator": indicator or None,
        },
    )
    return link


# --- unlinking ------------------------------------------------------------------------


def unlink_evidence(actor, link_id: int, reason: str, *, permission: str | None = None):
    """End a link (the file and its row stay): ``evidence.unlink`` with the reason.

    The actor needs the target type's permission and must be able to see the target;
    a reason is required; a link already ended is a conflict (409).
    """
    reason = (reason or "").strip()
    link = db.session.get(EvidenceLink, link_id)
    if link is None:
        raise NotFound("没有这条佐证材料")
    chosen = _permission(link.target_type, permission)
    with writing(actor, chosen) as session:
        link = session.get(EvidenceLink, link_id)
        session.refresh(link)
        if not may_see_link(actor, link):
            raise Forbidden("无权撤下这份佐证材料")
        if not reason:
            raise InvalidInput(
                "撤下佐证材料须说明原因", details=[{"path": "reason", "message": "不能为空"}]
            )
        if len(reason) > REASON_MAX:
            raise InvalidInput(
                f"原因不能超过 {REASON_MAX} 个字",
                details=[{"path": "reason", "message": f"不能超过 {REASON_MAX} 个字"}],
            )
        if not link.active:
            raise Conflict(
                "这份佐证材料已被撤下",
                details={"unlinked_by": link.unlinked_by, "unlinked_at": link.unlinked_at},
            )
        link.unlinked_by = actor.username
        link.unlinked_at = utcnow()
        link.unlink_reason = reason
        history.append(
            actor,
            "evidence.unlink",
            "evidence",
            link.evidence.sha256,
            period=link.period.code if link.period else None,
            before={
                "target_type": link.target_type,
                "target_id": link.target_id,
                "name": link.name,
            },
            reason=reason,
        )
    return link


# --- the built-in targets -------------------------------------------------------------


def _sees_review_record(user, link: EvidenceLink) -> bool:
    from evaluation.reviews.operations import may_see_village
    from models import ReviewRecord

    record = db.session.get(ReviewRecord, link.target_id)
    return record is not None and record.unit is not None and may_see_village(user, record.unit)


register_visibility("score", lambda user, link: can(user, "entry.view"))
register_visibility("cadre_record", lambda user, link: can(user, "cadre.view"))
register_visibility("project_update", lambda user, link: can(user, "project.view"))
register_visibility("review_record", _sees_review_record)
register_permission("score", "score.write")
register_permission("cadre_record", "cadre_record.write")
register_permission("project_update", "project.update")
register_permission("review_record", "review.write")

"""Evidence (佐证材料) of objections and 容错 cases, kept in the evidence room's store
(docs/evidence.md): attached inside the objection's or case's own transaction, so a
refused file leaves no objection behind; seen by whoever sees the objection or case (a
reporter: its own town's only)."""

from __future__ import annotations

from evaluation.core.permissions import can, may_see_unit
from evaluation.evidence import operations as evidence


def _own_town(user, link) -> bool:
    return link.unit_id is not None and may_see_unit(user, link.unit_id)


def attach(actor, uploads, *, objection=None, case=None) -> list:
    """Store each upload as evidence of ``objection`` or ``case``; empty uploads are skipped."""
    files = [upload for upload in uploads or [] if upload and getattr(upload, "filename", None)]
    target = objection if objection is not None else case
    kind = "objection" if objection is not None else "tolerance_case"
    permission = "objection.lodge" if objection is not None else "tolerance.apply"
    return [
        evidence.add_evidence(
            actor,
            upload,
            target_type=kind,
            target_id=target.id,
            unit_id=target.unit_id,
            period_id=target.period_id,
            indicator=target.target_key
            if objection is not None and target.target_type == "indicator"
            else None,
            permission=permission,
        )
        for upload in files
    ]


def files_of(kind: str, target_ids: list[int]) -> dict[int, list]:
    """The live evidence links of objections or cases, by id, oldest first."""
    if not target_ids:
        return {}
    return evidence.evidence_for_many(kind, target_ids)


evidence.register_visibility(
    "objection", lambda user, link: can(user, "publication.view") and _own_town(user, link)
)
evidence.register_visibility(
    "tolerance_case", lambda user, link: can(user, "tolerance.view") and _own_town(user, link)
)
evidence.register_permission("objection", "objection.lodge")
evidence.register_permission("tolerance_case", "tolerance.apply")

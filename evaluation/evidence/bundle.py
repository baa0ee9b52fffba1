"""The auditor's evidence bundle and the store's check (docs/evidence.md#the-auditors-bundle).

``export_period`` copies a period's linked files out of the store into ``DIR/files/`` and
writes ``DIR/manifest.csv``; ``verify_store`` re-hashes every stored file and checks the
rows against the history's ``evidence.add`` events.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from evaluation.core.spreadsheets import neutralize
from evaluation.core.writing import InvalidInput, NotFound
from evaluation.evidence.sniff import EXTENSIONS
from evaluation.evidence.store import copy_out, current_store, rehash
from evaluation.history.chain import format_at, iter_events
from models import Evidence, EvidenceLink, HistoryEvent, Period, db

MANIFEST_COLUMNS = (
    "sha256",
    "size",
    "media_type",
    "name",
    "unit",
    "indicator",
    "linked_to",
    "uploaded_by",
    "uploaded_at",
)


def bundle_file_name(evidence: Evidence) -> str:
    """``files/<sha256><.ext>``: a bundle's file is named by its content."""
    return f"{evidence.sha256}{EXTENSIONS.get(evidence.media_type, ('',))[0]}"


def _period_links(period: Period) -> Iterator[EvidenceLink]:
    query = (
        select(EvidenceLink)
        .options(joinedload(EvidenceLink.evidence), joinedload(EvidenceLink.unit))
        .where(EvidenceLink.period_id == period.id, EvidenceLink.unlinked_at.is_(None))
        .order_by(EvidenceLink.id)
    )
    yield from db.session.scalars(query)


@dataclass
class Exported:
    files: int = 0
    rows: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)


def export_period(period_code: str, output: Path) -> Exported:
    """Write the period's live links' files and ``manifest.csv`` into ``output`` (created
    if missing; it must not hold a manifest already). A file missing from the store or
    no longer matching its hash is named in ``problems`` and left out."""
    period = db.session.scalar(select(Period).where(Period.code == period_code))
    if period is None:
        raise NotFound(f"没有代码为 {period_code} 的考核周期")
    output = Path(output)
    if (output / "manifest.csv").exists():
        raise InvalidInput(f"{output} 中已有 manifest.csv，请换一个空目录")
    files_dir = output / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    store = current_store()
    done = Exported()
    written: dict[str, bool] = {}
    with open(output / "manifest.csv", "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MANIFEST_COLUMNS)
        for link in _period_links(period):
            evidence = link.evidence
            if evidence.sha256 not in written:
                written[evidence.sha256] = _copy(store, evidence, files_dir, done)
            if not written[evidence.sha256]:
                continue
            writer.writerow(
                [
                    evidence.sha256,
                    evidence.size,
                    evidence.media_type,
                    neutralize(link.name),
                    link.unit.code if link.unit else "",
                    neutralize(link.indicator or ""),
                    f"{link.target_type}/{link.target_id}",
                    neutralize(link.linked_by),
                    format_at(link.linked_at),
                ]
            )
            done.rows += 1
    return done


def _copy(store, evidence: Evidence, files_dir: Path, done: Exported) -> bool:
    target = files_dir / bundle_file_name(evidence)
    part = target.with_name(target.name + ".part")
    try:
        with open(part, "wb") as out:
            digest = copy_out(store, evidence.sha256, out)
    except FileNotFoundError:
        part.unlink(missing_ok=True)
        done.problems.append(
            f"缺失：{evidence.sha256}（{evidence.original_name}）存储中没有这个文件"
        )
        return False
    if digest != evidence.sha256:
        part.unlink(missing_ok=True)
        done.problems.append(
            f"被改动：{evidence.sha256}（{evidence.original_name}）的内容与其哈希不符"
        )
        return False
    part.replace(target)
    done.files += 1
    done.bytes += evidence.size
    return True


@dataclass
class Verified:
    files: int = 0
    links: int = 0
    events: int = 0
    problems: list[str] = field(default_factory=list)
    #: Stored files no row names (a transaction that rolled back after the file was in
    #: place): kept, never deleted, and not an error.
    unregistered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_store() -> Verified:
    """Re-hash every stored file; check rows, links and ``evidence.add`` events agree."""
    store = current_store()
    found = Verified()
    known: dict[str, Evidence] = {}
    for evidence in db.session.scalars(select(Evidence).order_by(Evidence.id)):
        known[evidence.sha256] = evidence
        digest = rehash(store, evidence.sha256)
        label = f"{evidence.sha256}（{evidence.original_name}）"
        if digest is None:
            found.problems.append(f"缺失：{label} 存储中没有这个文件")
        elif digest != evidence.sha256:
            found.problems.append(f"被改动：{label} 的内容与其哈希不符")
        found.files += 1
    # Every add event names a stored row, with the same size and type ...
    added: dict[tuple[str, str, int], int] = {}
    for event in iter_events(where=[HistoryEvent.action == "evidence.add"]):
        found.events += 1
        after = event["after"] or {}
        sha = after.get("sha256", event["entity_key"])
        evidence = known.get(sha)
        if evidence is None:
            found.problems.append(
                f"变更历史第 {event['seq']} 号事件登记的 {sha} 没有对应的文件记录"
            )
            continue
        if (after.get("size"), after.get("media_type")) != (evidence.size, evidence.media_type):
            found.problems.append(
                f"变更历史第 {event['seq']} 号事件登记的 {sha} 大小或类型与文件记录不符"
                f"（事件：{json.dumps([after.get('size'), after.get('media_type')])}，"
                f"记录：{json.dumps([evidence.size, evidence.media_type])}）"
            )
        key = (sha, str(after.get("target_type")), int(after.get("target_id") or 0))
        added[key] = added.get(key, 0) + 1
    # ... and every link has its add event.
    for link in db.session.scalars(
        select(EvidenceLink).options(joinedload(EvidenceLink.evidence)).order_by(EvidenceLink.id)
    ):
        found.links += 1
        key = (link.evidence.sha256, link.target_type, link.target_id)
        if added.get(key, 0) > 0:
            added[key] -= 1
        else:
            found.problems.append(
                f"关联 {link.target_type}/{link.target_id} 的 {link.evidence.sha256}"
                f"（{link.name}）在变更历史中没有 evidence.add 事件"
            )
    found.unregistered = [sha for sha in store.hashes() if sha not in known]
    return found

"""The evidence store (docs/evidence.md): add, stored once, links, unlink, who sees."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import select

from evaluation.core.writing import Conflict, Forbidden, InvalidInput
from evaluation.evidence import operations as evidence
from evaluation.evidence.store import current_store
from models import Evidence, EvidenceLink, HistoryEvent, db
from tests import evidence_files as files
from tests.conftest import user
from tests.ledger_world import build_world


@pytest.fixture
def world(ctx):
    return build_world()


def _events(action):
    return db.session.scalars(
        select(HistoryEvent).where(HistoryEvent.action == action).order_by(HistoryEvent.seq)
    ).all()


def test_a_pdf_is_stored_by_its_hash_linked_and_recorded(world):
    data = files.pdf()
    period = world.period()
    found = evidence.add_evidence(
        user("assessor"),
        io.BytesIO(data),
        filename="验收报告.pdf",
        target_type="score",
        target_id=7,
        period_id=period.id,
        indicator="E01",
    )
    digest = hashlib.sha256(data).hexdigest()
    assert found.sha256 == digest
    assert found.size == len(data)
    assert found.media_type == "application/pdf"
    assert found.original_name == "验收报告.pdf"
    assert found.uploaded_by == "assessor"
    path = current_store().path(digest)
    assert path.read_bytes() == data
    assert path.parent.name == digest[:2] and path.name == digest[2:]
    links = evidence.evidence_for("score", 7)
    assert [(lk.evidence.sha256, lk.name, lk.indicator) for lk in links] == [
        (digest, "验收报告.pdf", "E01")
    ]
    [event] = _events("evidence.add")
    assert event.entity == "evidence" and event.entity_key == digest
    assert event.period == "2026Q3"
    assert f'"size":{len(data)}' in event.after
    assert '"media_type":"application/pdf"' in event.after


def test_the_same_content_twice_is_stored_once(world):
    data = files.png()
    first = evidence.add_evidence(
        user("assessor"), data, filename="a.png", target_type="score", target_id=1
    )
    second = evidence.add_evidence(
        user("assessor"), data, filename="b.png", target_type="score", target_id=2
    )
    again = evidence.add_evidence(
        user("assessor"), data, filename="c.png", target_type="score", target_id=2
    )
    assert first.id == second.id == again.id
    assert db.session.scalar(select(db.func.count()).select_from(Evidence)) == 1
    # two links (the third was the same file on the same target: nothing new)
    assert db.session.scalar(select(db.func.count()).select_from(EvidenceLink)) == 2
    assert len(_events("evidence.add")) == 2
    assert list(current_store().hashes()) == [first.sha256]
    assert list(current_store().temp_dir.iterdir()) == []


def test_who_sees_a_file_follows_what_it_supports(world):
    found = evidence.add_evidence(
        user("assessor"), files.pdf(), filename="x.pdf", target_type="score", target_id=3
    )
    seen = {
        name: evidence.may_see(user(name), found)
        for name in ("admin", "assessor", "supervisor", "auditor", "reviewer")
    }
    assert seen == {
        "admin": True,
        "assessor": True,
        "supervisor": True,
        "auditor": True,
        "reviewer": False,
    }
    assert evidence.may_see(None, found) is False


def test_a_role_without_the_permission_stores_nothing(world):
    with pytest.raises(Forbidden):
        evidence.add_evidence(
            user("reviewer"), files.pdf(), filename="x.pdf", target_type="score", target_id=3
        )
    assert db.session.scalar(select(db.func.count()).select_from(Evidence)) == 0
    assert list(current_store().hashes()) == []


def test_unlinking_is_an_event_and_keeps_the_file(world):
    found = evidence.add_evidence(
        user("assessor"), files.pdf(), filename="x.pdf", target_type="score", target_id=3
    )
    [link] = evidence.evidence_for("score", 3)
    with pytest.raises(InvalidInput):
        evidence.unlink_evidence(user("assessor"), link.id, "  ")
    evidence.unlink_evidence(user("assessor"), link.id, "传错了文件")
    assert evidence.evidence_for("score", 3) == []
    [ended] = evidence.evidence_for("score", 3, include_unlinked=True)
    assert ended.unlinked_by == "assessor" and ended.unlink_reason == "传错了文件"
    [event] = _events("evidence.unlink")
    assert event.reason == "传错了文件" and event.entity_key == found.sha256
    assert current_store().has(found.sha256)
    with pytest.raises(Conflict):
        evidence.unlink_evidence(user("assessor"), link.id, "再撤一次")
    # nobody but admin/auditor sees a file whose only link is ended
    assert evidence.may_see(user("assessor"), db.session.get(Evidence, found.id)) is False
    assert evidence.may_see(user("auditor"), db.session.get(Evidence, found.id)) is True


def test_a_registered_visibility_decides_for_its_target(world):
    calls = []

    def only_supervisor(u, link):
        calls.append(link.target_id)
        return u.role == "supervisor"

    evidence.register_visibility("claim", only_supervisor)
    evidence.register_permission("claim", "score.write")
    try:
        found = evidence.add_evidence(
            user("assessor"), files.pdf(), filename="x.pdf", target_type="claim", target_id=9
        )
        assert evidence.may_see(user("supervisor"), found) is True
        assert evidence.may_see(user("assessor"), found) is False
        assert calls == [9, 9]
    finally:
        evidence._VISIBILITY.pop("claim", None)
        evidence._PERMISSIONS.pop("claim", None)

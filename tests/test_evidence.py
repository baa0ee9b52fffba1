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


def _nothing_kept():
    assert db.session.scalar(select(db.func.count()).select_from(Evidence)) == 0
    assert db.session.scalar(select(db.func.count()).select_from(EvidenceLink)) == 0
    assert _events("evidence.add") == []
    store = current_store()
    assert list(store.hashes()) == []
    assert not store.temp_dir.exists() or list(store.temp_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (files.HTML, "报告.pdf"),
        (files.ELF, "报告.pdf"),
        (files.PE, "报告.pdf"),
        (b"", "空.pdf"),
        (files.plain_zip(), "表.xlsx"),
    ],
    ids=["html", "elf", "pe", "empty", "zip"],
)
def test_a_refused_file_leaves_nothing(world, data, name):
    with pytest.raises(InvalidInput) as caught:
        evidence.add_evidence(
            user("assessor"), data, filename=name, target_type="score", target_id=1
        )
    assert caught.value.status == 422
    _nothing_kept()


def test_a_file_over_the_limit_is_413_and_nothing_is_kept(app, world):
    from evaluation.evidence.store import TooLarge

    app.config["EVIDENCE_MAX_BYTES"] = 1000
    with pytest.raises(TooLarge) as caught:
        evidence.add_evidence(
            user("assessor"),
            b"%PDF-1.4\n" + b"x" * 1000,
            filename="大.pdf",
            target_type="score",
            target_id=1,
        )
    assert caught.value.status == 413
    assert "上限" in caught.value.message
    _nothing_kept()


class Dropped(io.RawIOBase):
    """A connection that dies after some chunks."""

    def __init__(self, data: bytes, fail_after: int):
        self.data = io.BytesIO(data)
        self.left = fail_after

    def readable(self):
        return True

    def read(self, size=-1):
        if self.left <= 0:
            raise ConnectionResetError("client went away")
        self.left -= 1
        return self.data.read(size)


def test_an_upload_killed_mid_stream_leaves_no_half_file_and_no_row(world):
    big = files.pdf() + b"%" + b"0" * (3 * 1024 * 1024)
    with pytest.raises(ConnectionResetError):
        evidence.add_evidence(
            user("assessor"), Dropped(big, 3), filename="a.pdf", target_type="score", target_id=1
        )
    _nothing_kept()


def test_a_failure_after_the_file_is_in_place_rolls_back_row_link_and_event(world, monkeypatch):
    from evaluation.history import chain

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(chain, "append", broken)
    with pytest.raises(RuntimeError):
        evidence.add_evidence(
            user("assessor"), files.pdf(), filename="a.pdf", target_type="score", target_id=1
        )
    assert db.session.scalar(select(db.func.count()).select_from(Evidence)) == 0
    assert db.session.scalar(select(db.func.count()).select_from(EvidenceLink)) == 0
    # The file itself may stay (content-addressed, never deleted): verify-evidence lists it.
    assert list(current_store().temp_dir.iterdir()) == []


def test_a_photo_keeps_its_exif_time_and_position(world):
    from datetime import datetime
    from decimal import Decimal

    found = evidence.add_evidence(
        user("assessor"),
        files.jpeg(taken="2026:09:18 10:20:30", lat=23.5501, lon=-116.3728),
        filename="现场.jpg",
        target_type="score",
        target_id=1,
    )
    assert found.media_type == "image/jpeg"
    assert found.exif_taken_at == datetime(2026, 9, 18, 10, 20, 30)
    assert abs(found.exif_lat - Decimal("23.5501")) < Decimal("0.00001")
    assert abs(found.exif_lon - Decimal("-116.3728")) < Decimal("0.00001")
    plain = evidence.add_evidence(
        user("assessor"),
        files.jpeg(taken=None, lat=None, lon=None, color=(1, 2, 3)),
        filename="无.jpg",
        target_type="score",
        target_id=1,
    )
    assert (plain.exif_taken_at, plain.exif_lat, plain.exif_lon) == (None, None, None)


def test_a_hostile_name_is_cleaned_before_it_is_kept(world):
    found = evidence.add_evidence(
        user("assessor"),
        files.pdf(),
        filename="../../../项目\r\n清单.pdf",
        target_type="score",
        target_id=1,
    )
    assert found.original_name == "项目清单.pdf"


def test_a_periods_links_come_in_one_reading(world):
    period = world.period()
    for target, data in ((1, files.pdf()), (2, files.png()), (2, files.jpeg())):
        evidence.add_evidence(
            user("assessor"), data, filename="f", target_type="score", target_id=target,
            period_id=period.id,
        )  # fmt: skip
    evidence.add_evidence(
        user("assessor"), files.pdf("other"), filename="f", target_type="score", target_id=3
    )
    found = evidence.evidence_for_period("score", period.id)
    assert {key: [lk.evidence.media_type for lk in links] for key, links in found.items()} == {
        1: ["application/pdf"],
        2: ["image/png", "image/jpeg"],
    }

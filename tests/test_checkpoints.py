"""Signed checkpoints of the history (docs/history.md#checkpoints): the key, the commands,
the approval's checkpoint, and verify-history --checkpoint naming a cut or rewritten tail,
a forged signature and a foreign key."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from contextlib import contextmanager
from io import BytesIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from evaluation.core.writing import SystemActor
from evaluation.history import chain, checkpoints, exports
from evaluation.periods import operations as periods
from models import HistoryCheckpoint, HistoryEvent, db
from models.history import SQLITE_DROP, trigger_statements
from tests.ledger_world import build_world, fill_towns, fill_villages

ADMIN = SystemActor("admin-test")


@pytest.fixture
def key_file(app, tmp_path):
    """A fresh key path for this test (the shared test key is left alone)."""
    path = tmp_path / "keys" / "history-signing-key.pem"
    app.config["HISTORY_SIGNING_KEY"] = str(path)
    return path


def add_events(count: int) -> None:
    with chain_writing():
        for n in range(count):
            chain.append(ADMIN, "unit.update", "unit", f"U{n}", after={"name": f"单位{n}"})


@contextmanager
def chain_writing():
    from evaluation.core.writing import writing

    with writing(ADMIN):
        yield


@contextmanager
def guard_off():
    """Bypass the append-only triggers as an attacker with the database file or a superuser
    would: SQLite drops them, PostgreSQL disables them (ALTER TABLE … DISABLE TRIGGER)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE history_event DISABLE TRIGGER USER"))
        yield connection
        connection.execute(text("ALTER TABLE history_event ENABLE TRIGGER USER"))
    else:
        for statement in SQLITE_DROP:
            connection.execute(text(statement))
        yield connection
        for statement in trigger_statements("sqlite"):
            connection.execute(text(statement))
    db.session.commit()


def verify(runner, *args):
    return runner.invoke(args=["verify-history", *args])


def write_checkpoint(runner, path) -> dict:
    result = runner.invoke(args=["history-checkpoint", "--output", str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(path.read_text("utf-8"))


# --- the key -----------------------------------------------------------------------


def test_key_is_made_on_first_use_private_to_its_owner_and_never_replaced(app, runner, key_file):
    assert not key_file.exists()
    first = runner.invoke(args=["history-public-key"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("-----BEGIN PUBLIC KEY-----")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    stored = key_file.read_bytes()
    assert b"PRIVATE KEY" in stored
    again = runner.invoke(args=["history-public-key"])
    assert again.output == first.output
    assert key_file.read_bytes() == stored
    with app.app_context():
        checkpoints._create_key(str(key_file))  # a racing process: the first key stays
    assert key_file.read_bytes() == stored
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]


def test_checkpoint_file_names_the_last_event_and_its_signature_checks_with_openssl_terms(
    app, runner, key_file, tmp_path
):
    with app.app_context():
        add_events(3)
    found = write_checkpoint(runner, tmp_path / "cp.json")
    assert list(found) == ["seq", "hash", "at", "key_id", "signature"]
    with app.app_context():
        last = db.session.scalar(db.select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1))
        # The command logs who asked, and the checkpoint covers that event too.
        assert (last.action, last.actor) == ("history.checkpoint", "cli")
        assert (found["seq"], found["hash"]) == (last.seq, last.hash)
    # Checked by hand, as an auditor without the app would: the key's raw bytes, the
    # canonical JSON of the four fields, base64.
    pem = runner.invoke(args=["history-public-key"]).output.encode()
    key = serialization.load_pem_public_key(pem)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert found["key_id"] == hashlib.sha256(raw).hexdigest()[:16]
    message = json.dumps(
        {"at": found["at"], "hash": found["hash"], "key_id": found["key_id"], "seq": last.seq},
        separators=(",", ":"),
    ).encode()
    key.verify(base64.b64decode(found["signature"]), message)  # raises if it does not hold


# --- the approval ------------------------------------------------------------------


def test_approval_writes_a_checkpoint_that_covers_its_own_events(app, ctx):
    world = build_world()
    period = world.period()
    periods.open_period(world.user("admin"), period)
    fill_towns(world, period)
    fill_villages(world, period)
    periods.submit(world.user("assessor"), period)
    periods.approve(world.user("supervisor"), period)
    rows = db.session.scalars(db.select(HistoryCheckpoint)).all()
    assert [(r.occasion, r.period, r.made_by) for r in rows] == [
        ("approval", "2026Q3", "supervisor")
    ]
    last = db.session.scalar(db.select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1))
    assert (rows[0].seq, rows[0].hash) == (last.seq, last.hash)
    approve = db.session.scalar(
        db.select(HistoryEvent).where(HistoryEvent.action == "period.approve")
    )
    assert approve.seq <= rows[0].seq
    key = checkpoints.public_key()
    assert checkpoints.check(rows[0].document(), key).ok


def test_a_refused_approval_leaves_no_checkpoint(app, ctx):
    world = build_world()
    period = world.period()
    periods.open_period(world.user("admin"), period)
    fill_towns(world, period)
    periods.submit(world.user("assessor"), period)
    with pytest.raises(periods.MissingValues):
        periods.approve(world.user("supervisor"), period)
    assert db.session.scalars(db.select(HistoryCheckpoint)).all() == []


# --- verify-history --checkpoint ---------------------------------------------------


def test_intact_history_passes_with_its_checkpoint(app, runner, tmp_path):
    with app.app_context():
        add_events(3)
    path = tmp_path / "cp.json"
    found = write_checkpoint(runner, path)
    result = verify(runner, "--checkpoint", str(path))
    assert result.exit_code == 0, result.output
    assert "签名有效" in result.output
    assert f"第 {found['seq']} 号事件的哈希与检查点一致" in result.output
    # Events after a checkpoint are no problem: the chain only grew.
    with app.app_context():
        add_events(2)
    assert verify(runner, "--checkpoint", str(path)).exit_code == 0


def test_cut_tail_passes_the_chain_but_not_the_checkpoint(app, runner, tmp_path):
    with app.app_context():
        add_events(6)
    path = tmp_path / "cp.json"
    last = write_checkpoint(runner, path)["seq"]
    kept = last - 3
    with app.app_context():
        with guard_off() as connection:
            connection.execute(text("DELETE FROM history_event WHERE seq > :kept"), {"kept": kept})
        assert db.session.scalar(db.select(db.func.max(HistoryEvent.seq))) == kept
    plain = verify(runner)
    assert plain.exit_code == 0  # the chain alone cannot see its tail cut off
    result = verify(runner, "--checkpoint", str(path))
    assert result.exit_code == 1
    assert "末尾被截去" in result.output
    assert f"数据库只到第 {kept} 号，缺少 3 条事件（第 {kept + 1}–{last} 号）" in result.output


def test_rewritten_and_rehashed_event_is_named_at_the_checkpoint(app, runner, tmp_path):
    with app.app_context():
        add_events(5)
    path = tmp_path / "cp.json"
    found = write_checkpoint(runner, path)
    with app.app_context():
        # Rewrite event 2 and re-hash every event after it: the chain verifies again.
        events = list(chain.iter_events())
        events[1]["after"] = {"name": "改过的名称"}
        prev = events[0]["hash"]
        with guard_off() as connection:
            for event in events[1:]:
                event["prev_hash"] = prev
                event["hash"] = prev = chain.chain_hash(prev, event)
                connection.execute(
                    text(
                        "UPDATE history_event SET after = :after, prev_hash = :p, hash = :h "
                        "WHERE seq = :seq"
                    ),
                    {
                        "after": json.dumps(event["after"], ensure_ascii=False,
                                            sort_keys=True, separators=(",", ":")),
                        "p": event["prev_hash"],
                        "h": event["hash"],
                        "seq": event["seq"],
                    },
                )  # fmt: skip
    assert verify(runner).exit_code == 0
    result = verify(runner, "--checkpoint", str(path))
    assert result.exit_code == 1
    assert f"第 {found['seq']} 号事件与检查点不符" in result.output
    assert "改写" in result.output


def test_forged_signature_is_refused(app, runner, tmp_path):
    with app.app_context():
        add_events(2)
    path = tmp_path / "cp.json"
    found = write_checkpoint(runner, path)
    # Someone moves the checkpoint back to hide a cut tail, keeping the old signature.
    forged = {**found, "seq": 1}
    with app.app_context():
        forged["hash"] = db.session.scalar(
            db.select(HistoryEvent.hash).where(HistoryEvent.seq == 1)
        )
    path.write_text(json.dumps(forged), "utf-8")
    result = verify(runner, "--checkpoint", str(path))
    assert result.exit_code == 1
    assert "检查点签名无效" in result.output
    # A signature that is not even base64.
    path.write_text(json.dumps({**found, "signature": "不是签名"}), "utf-8")
    assert "检查点签名无效" in verify(runner, "--checkpoint", str(path)).output


def test_checkpoint_signed_by_another_key_is_refused(app, runner, tmp_path):
    with app.app_context():
        add_events(2)
    path = tmp_path / "cp.json"
    found = write_checkpoint(runner, path)
    # A checkpoint made with a key of the attacker's own, claiming the real key's id.
    other = Ed25519PrivateKey.generate()
    claimed = {name: found[name] for name in ("seq", "hash", "at", "key_id")}
    claimed["signature"] = base64.b64encode(other.sign(checkpoints.signed_text(claimed))).decode()
    path.write_text(json.dumps(claimed), "utf-8")
    result = verify(runner, "--checkpoint", str(path))
    assert result.exit_code == 1 and "检查点签名无效" in result.output
    # The auditor's own copy of a public key that is not this installation's.
    pem = other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_path = tmp_path / "other.pem"
    key_path.write_bytes(pem)
    path.write_text(json.dumps(found), "utf-8")
    result = verify(runner, "--checkpoint", str(path), "--public-key", str(key_path))
    assert result.exit_code == 1
    assert "另一把密钥" in result.output
    # With the right public key file it passes.
    right = tmp_path / "right.pem"
    right.write_text(runner.invoke(args=["history-public-key"]).output, "utf-8")
    ok = verify(runner, "--checkpoint", str(path), "--public-key", str(right))
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not json", "不是有效的 JSON"),
        (b"[1, 2]", "应为一个 JSON 对象"),
        (b'{"seq": 1}', "缺少字段：hash、at、key_id、signature"),
        (b'{"seq": "1", "hash": "", "at": "", "key_id": "", "signature": ""}', "seq 不是"),
    ],
)
def test_unreadable_checkpoint_file_is_one_line(app, runner, tmp_path, content, message):
    path = tmp_path / "cp.json"
    path.write_bytes(content)
    result = verify(runner, "--checkpoint", str(path))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_public_key_file_that_is_not_a_key_is_refused(app, runner, tmp_path):
    path = tmp_path / "cp.json"
    write_checkpoint(runner, path)
    bad = tmp_path / "bad.pem"
    bad.write_text("hello", "utf-8")
    result = verify(runner, "--checkpoint", str(path), "--public-key", str(bad))
    assert result.exit_code == 1 and "公钥文件无法读取" in result.output


def test_verifying_makes_no_key(app, runner, key_file, tmp_path):
    path = tmp_path / "cp.json"
    path.write_text(
        json.dumps({"seq": 0, "hash": "0" * 64, "at": "", "key_id": "x", "signature": ""}),
        "utf-8",
    )
    result = verify(runner, "--checkpoint", str(path))
    assert result.exit_code == 1 and "没有签名密钥文件" in result.output
    assert not key_file.exists()


# --- exports -----------------------------------------------------------------------


def test_an_export_is_accompanied_by_the_checkpoint_of_its_own_event(app, runner, tmp_path):
    with app.app_context():
        add_events(2)
    output = tmp_path / "history.jsonl"
    result = runner.invoke(args=["export-history", "--format", "jsonl", "--output", str(output)])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
    assert all(len(event) == 12 for event in events)  # the JSONL stays twelve fields
    found = json.loads((tmp_path / "history.jsonl.checkpoint.json").read_text("utf-8"))
    assert (found["seq"], found["hash"]) == (events[-1]["seq"], events[-1]["hash"])
    assert (
        verify(runner, "--checkpoint", str(tmp_path / "history.jsonl.checkpoint.json")).exit_code
        == 0
    )
    with app.app_context():
        assert exports.export_checkpoint(events[-1]["seq"]) == found


# --- pages -------------------------------------------------------------------------


def approved_world(app):
    with app.app_context():
        world = build_world()
        period = world.period()
        periods.open_period(world.user("admin"), period)
        fill_towns(world, period)
        fill_villages(world, period)
        periods.submit(world.user("assessor"), period)
        periods.approve(world.user("supervisor"), period)
        row = checkpoints.of_approval("2026Q3")
        document = row.document()
        db.session.remove()
    return document


def test_auditor_makes_downloads_and_checks_a_checkpoint_on_the_history_page(
    app, client, auth, runner, tmp_path
):
    auth.login("auditor")
    page = client.get("/admin/history/").get_data(as_text=True)
    assert 'id="checkpoint-panel"' in page and "尚无检查点" in page
    assert client.get("/admin/history/checkpoint.json").status_code == 404
    response = client.post("/admin/history/checkpoint")
    assert response.status_code == 303
    page = client.get("/admin/history/").get_data(as_text=True)
    assert "已生成签名检查点" in page
    download = client.get("/admin/history/checkpoint.json")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    found = json.loads(download.get_data(as_text=True))
    with app.app_context():
        last = db.session.scalar(db.select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1))
        assert (last.action, last.actor) == ("history.checkpoint", "auditor")
        assert (found["seq"], found["hash"]) == (last.seq, last.hash)
    assert f"第 {found['seq']} 号事件" in page and found["signature"] in page
    pem = client.get("/admin/history/public-key.pem")
    assert pem.status_code == 200
    assert pem.get_data(as_text=True) == runner.invoke(args=["history-public-key"]).output
    (tmp_path / "cp.json").write_bytes(download.data)
    (tmp_path / "key.pem").write_bytes(pem.data)
    result = verify(runner, "--checkpoint", str(tmp_path / "cp.json"), "--public-key",
                    str(tmp_path / "key.pem"))  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("role", ["assessor", "supervisor", "reviewer"])
def test_other_roles_cannot_make_a_checkpoint(app, client, auth, role):
    auth.login(role)
    assert client.post("/admin/history/checkpoint").status_code == 403
    with app.app_context():
        assert db.session.scalars(db.select(HistoryCheckpoint)).all() == []


def test_the_approval_record_shows_its_checkpoint(app, client, auth):
    document = approved_world(app)
    text_form = checkpoints.as_json(document).strip()
    auth.login("supervisor")
    page = client.get("/admin/ranking/?period=2026Q3").get_data(as_text=True)
    assert 'id="approval-checkpoint"' in page
    assert document["signature"] in page and document["hash"] in page
    sheet = client.get("/admin/ranking/?period=2026Q3&print=1").get_data(as_text=True)
    assert document["signature"] in sheet
    # The XLSX's stamp carries the same line, the file an auditor can re-check.
    from openpyxl import load_workbook

    workbook = load_workbook(BytesIO(client.get("/admin/ranking/export.xlsx?period=2026Q3").data))
    cells = [c.value for sheet in workbook for row in sheet.iter_rows() for c in row if c.value]
    assert text_form in cells
    assert json.loads(text_form) == document


def test_auditor_checks_a_saved_checkpoint_on_the_history_page(app, client, auth, runner, tmp_path):
    with app.app_context():
        add_events(4)
    found = write_checkpoint(runner, tmp_path / "cp.json")
    saved = json.dumps(found).encode()
    auth.login("auditor")

    def check(data: bytes, key: bytes | None = None):
        form = {"checkpoint": (BytesIO(data), "cp.json")}
        if key is not None:
            form["public_key"] = (BytesIO(key), "key.pem")
        return client.post(
            "/admin/history/check-checkpoint", data=form, content_type="multipart/form-data"
        )

    ok = check(saved)
    assert ok.status_code == 200
    assert 'id="check-checkpoint-result"' in ok.get_data(as_text=True)
    assert "签名有效" in ok.get_data(as_text=True)
    with app.app_context():
        with guard_off() as connection:
            connection.execute(
                text("DELETE FROM history_event WHERE seq > :kept"), {"kept": found["seq"] - 2}
            )
    page = check(saved).get_data(as_text=True)
    assert "检查点核对未通过" in page and "缺少 2 条事件" in page
    forged = json.dumps({**found, "at": "2020-01-01T00:00:00.000000Z"}).encode()
    assert "检查点签名无效" in check(forged).get_data(as_text=True)
    other = Ed25519PrivateKey.generate().public_key()
    foreign = check(saved, checkpoints.public_pem(other).encode()).get_data(as_text=True)
    assert "另一把密钥" in foreign
    bad = check(b"{}")
    assert bad.status_code == 422 and "检查点缺少字段" in bad.get_data(as_text=True)
    none = client.post(
        "/admin/history/check-checkpoint", data={}, content_type="multipart/form-data"
    )
    assert none.status_code == 422 and "请选择要核对的检查点文件" in none.get_data(as_text=True)


@pytest.mark.parametrize("role", ["assessor", "supervisor", "reviewer"])
def test_other_roles_cannot_check_a_checkpoint_on_the_page(app, client, auth, role):
    auth.login(role)
    response = client.post(
        "/admin/history/check-checkpoint",
        data={"checkpoint": (BytesIO(b"{}"), "cp.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403

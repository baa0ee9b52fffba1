"""Signed checkpoints of the history chain (docs/history.md#checkpoints).

A hash chain proves every event up to its last one, but not that nothing came after:
delete the newest events and the rest still verifies. A checkpoint is the last event's
``seq`` and ``hash`` at a moment, signed with the installation's Ed25519 key; kept
outside the database (printed on the approval record, saved beside an export), it shows
a cut tail (its ``seq`` is missing) or a rewritten one (its ``hash`` differs at that
``seq``).

The signed text is the canonical JSON of ``{"at", "hash", "key_id", "seq"}`` (sorted
keys, no spaces, UTF-8) and ``signature`` is its Ed25519 signature in base64, so an
auditor can check one without this application. ``key_id`` is the first 16 hex digits
of the SHA-256 of the raw 32-byte public key.

The private key is generated on first use into the instance folder
(``history-signing-key.pem``, PKCS#8 PEM, mode 0600; ``HISTORY_SIGNING_KEY`` names
another file) and never overwritten: a second process that races to make it uses the
first one's.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from flask import current_app
from sqlalchemy import func, select

from evaluation.core.writing import InvalidInput, ServiceError, in_write, writing
from evaluation.history import chain
from models import HistoryCheckpoint, HistoryEvent, db

KEY_FILE = "history-signing-key.pem"
FIELDS = ("seq", "hash", "at", "key_id", "signature")
OCCASIONS = ("approval", "export", "on_demand")
#: The largest checkpoint file read (one is about 250 bytes).
MAX_FILE_BYTES = 64 * 1024


class KeyMissing(ServiceError):
    """No signing key to check against (and none is made when only checking)."""

    status = 409


# --- the key --------------------------------------------------------------------------


def key_path() -> str:
    """The private key's file: ``HISTORY_SIGNING_KEY``, else the instance folder's."""
    return current_app.config.get("HISTORY_SIGNING_KEY") or os.path.join(
        current_app.instance_path, KEY_FILE
    )


def _create_key(path: str) -> None:
    """Write a new private key to ``path`` (0600) unless one is there: never overwrite.

    Written to a temporary file first and linked into place, so no process ever reads
    half a key, and a race between two processes keeps the first link.
    """
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = os.path.join(folder, f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(handle, 0o600)
        os.write(handle, pem)
        os.fsync(handle)
    finally:
        os.close(handle)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process made it first: that one is the key
    finally:
        os.unlink(temporary)


def private_key(*, create: bool = True) -> Ed25519PrivateKey:
    """Return the signing key, generating it on first use (``create``)."""
    path = key_path()
    if not os.path.exists(path):
        if not create:
            raise KeyMissing(f"没有签名密钥文件 {path}；请用 --public-key 指定公钥")
        _create_key(path)
    with open(path, "rb") as stream:
        if os.fstat(stream.fileno()).st_mode & 0o077:
            current_app.logger.warning("%s is readable by others: chmod 600 it", path)
        data = stream.read()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeyMissing(f"签名密钥文件 {path} 无法读取（不是 PEM 格式的私钥）") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyMissing(f"签名密钥文件 {path} 不是 Ed25519 私钥")
    return key


def public_key(*, create: bool = True) -> Ed25519PublicKey:
    return private_key(create=create).public_key()


def public_pem(key: Ed25519PublicKey) -> str:
    """The public key as auditors get it (SubjectPublicKeyInfo PEM)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of a public key: 16 hex digits of the SHA-256 of its raw bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256(raw).hexdigest()[:16]


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """Read an auditor's public key file (PEM); InvalidInput when it is not an Ed25519 key."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise InvalidInput("公钥文件无法读取（应为 flask history-public-key 输出的 PEM）") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput("公钥不是 Ed25519 公钥")
    return key


# --- signing --------------------------------------------------------------------------


def signed_text(checkpoint: dict) -> bytes:
    """The bytes a checkpoint's signature covers: canonical JSON of the four fields."""
    fields = {name: checkpoint[name] for name in ("seq", "hash", "at", "key_id")}
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def sign(seq: int, digest: str, at: str) -> dict:
    """Return the five-field checkpoint of ``seq``/``digest`` at ``at``, signed."""
    key = private_key()
    checkpoint = {"seq": seq, "hash": digest, "at": at, "key_id": key_id(key.public_key())}
    signature = key.sign(signed_text(checkpoint))
    checkpoint["signature"] = base64.b64encode(signature).decode("ascii")
    return checkpoint


def record(actor, occasion: str, *, period: str | None = None) -> HistoryCheckpoint:
    """Sign the chain's tail as this write transaction leaves it and store the checkpoint.

    Called inside ``writing`` after the transaction's last event, so the checkpoint
    covers them (an approval's ``period.approve`` and the review cases it opens); it
    commits or rolls back with them. Writing it appends no event: a checkpoint is an
    attestation of the chain, not a change to the ledger.
    """
    session = db.session
    if not in_write(session):
        raise RuntimeError("checkpoints are recorded inside core.writing.writing only")
    if occasion not in OCCASIONS:
        raise ValueError(f"unknown checkpoint occasion {occasion}")
    seq, digest = chain._tail(session)
    signed = sign(seq, digest, chain.format_at(chain.now()))
    row = HistoryCheckpoint(**signed, occasion=occasion, period=period, made_by=actor.username)
    session.add(row)
    session.flush()
    return row


def make(actor) -> HistoryCheckpoint:
    """An on-demand checkpoint (``history.checkpoint``): logs who asked, then signs the
    tail, that event included."""
    with writing(actor, "history.checkpoint"):
        chain.append(actor, "history.checkpoint", "history", "checkpoint")
        return record(actor, "on_demand")


def latest(session=None) -> HistoryCheckpoint | None:
    session = session or db.session
    return session.scalar(select(HistoryCheckpoint).order_by(HistoryCheckpoint.id.desc()).limit(1))


def of_approval(period_code: str, session=None) -> HistoryCheckpoint | None:
    """The checkpoint written by the period's latest approval."""
    session = session or db.session
    return session.scalar(
        select(HistoryCheckpoint)
        .where(HistoryCheckpoint.period == period_code, HistoryCheckpoint.occasion == "approval")
        .order_by(HistoryCheckpoint.id.desc())
        .limit(1)
    )


def as_json(checkpoint: dict) -> str:
    """The checkpoint file's text (one JSON object, fields in their order)."""
    return json.dumps({name: checkpoint[name] for name in FIELDS}, ensure_ascii=False) + "\n"


# --- checking -------------------------------------------------------------------------


def read_checkpoint(data: bytes) -> dict:
    """Parse a checkpoint file; InvalidInput naming what is wrong with it."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput("检查点文件过大（应为一个 JSON 对象）")
    try:
        found = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("检查点文件不是有效的 JSON") from None
    if not isinstance(found, dict):
        raise InvalidInput("检查点文件应为一个 JSON 对象")
    missing = [name for name in FIELDS if name not in found]
    if missing:
        raise InvalidInput(f"检查点缺少字段：{'、'.join(missing)}")
    seq = found["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise InvalidInput("检查点的 seq 不是非负整数")
    if not all(isinstance(found[name], str) for name in FIELDS[1:]):
        raise InvalidInput("检查点的 hash、at、key_id、signature 应为文本")
    return {name: found[name] for name in FIELDS}


@dataclass
class CheckpointCheck:
    """What a checkpoint says about the stored chain."""

    ok: bool
    #: Each problem in a sentence (signature, cut tail, rewritten event).
    problems: list[str] = field(default_factory=list)
    #: How many events after the stored tail the checkpoint vouches for (a cut tail).
    missing: int = 0
    message: str = ""


def signature_problem(checkpoint: dict, key: Ed25519PublicKey) -> str | None:
    """Why the checkpoint's signature does not hold under ``key`` (None when it does)."""
    expected = key_id(key)
    if checkpoint["key_id"] != expected:
        return (
            f"检查点由另一把密钥签名（key_id {checkpoint['key_id']}），"
            f"与所给公钥（key_id {expected}）不符"
        )
    try:
        signature = base64.b64decode(checkpoint["signature"], validate=True)
        key.verify(signature, signed_text(checkpoint))
    except (ValueError, InvalidSignature):
        return "检查点签名无效：检查点被改动过或签名是伪造的"
    return None


def check(checkpoint: dict, key: Ed25519PublicKey, session=None) -> CheckpointCheck:
    """Check a checkpoint's signature, then the stored chain against its ``seq``/``hash``."""
    session = session or db.session
    problems = []
    bad_signature = signature_problem(checkpoint, key)
    if bad_signature:
        problems.append(bad_signature)
    seq = checkpoint["seq"]
    last = session.scalar(select(func.max(HistoryEvent.seq))) or 0
    missing = 0
    if seq > last:
        missing = seq - last
        problems.append(
            f"变更历史的末尾被截去：检查点记录到第 {seq} 号事件，数据库只到第 {last} 号，"
            f"缺少 {missing} 条事件（第 {last + 1}–{seq} 号）"
        )
    elif seq > 0:
        stored = session.scalar(select(HistoryEvent.hash).where(HistoryEvent.seq == seq))
        if stored != checkpoint["hash"]:
            problems.append(
                f"第 {seq} 号事件与检查点不符：数据库中的哈希 {stored} ≠ 检查点的 "
                f"{checkpoint['hash']}（该事件或此前的事件被改写过）"
            )
    if problems:
        return CheckpointCheck(False, problems, missing, "；".join(problems))
    return CheckpointCheck(
        True,
        [],
        0,
        f"检查点签名有效（key_id {checkpoint['key_id']}），第 {seq} 号事件的哈希与检查点一致",
    )

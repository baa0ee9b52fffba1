"""The history chain (docs/rules.md#history-chain): append, verify, and the canonical form of an
event.

``hash = sha256((prev_hash + canonical).encode("utf-8")).hexdigest()`` where
``canonical`` is ``json.dumps`` of the ten fields ``seq … reason`` with
``ensure_ascii=False, sort_keys=True, separators=(",", ":")``; seq 1's
``prev_hash`` is 64 zeros.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from hashlib import sha256
from json.encoder import encode_basestring as _encode

from sqlalchemy import insert, select

from evaluation.core.numbers import exact
from evaluation.core.writing import InvalidInput, in_write
from models import HistoryEvent, db

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "entity",
    "entity_key",
    "period",
    "before",
    "after",
    "reason",
)
EXPORT_FIELDS = (*HASHED_FIELDS, "prev_hash", "hash")


_PLAIN = frozenset({str, int, bool, type(None)})


def jsonable(value):
    """Turn a field value into JSON data: decimals and dates as strings."""
    if type(value) in _PLAIN:  # the common case first: every event goes through here
        return value
    if isinstance(value, Decimal):
        return exact(value)
    if isinstance(value, datetime):
        return format_at(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        raise TypeError("floats have no place in the ledger's history; use Decimal")
    return str(value)


def format_at(moment: datetime) -> str:
    """Format a UTC time as the history stores it: ``2026-11-27T08:00:00.123456Z``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(event: dict) -> str:
    """Return the canonical JSON text of an event's ten hashed fields."""
    return json.dumps(
        {name: event[name] for name in HASHED_FIELDS},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def chain_hash(prev_hash: str, event: dict) -> str:
    """Return the hash of an event chained onto ``prev_hash``."""
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


def diff(before: dict, after: dict) -> tuple[dict | None, dict | None]:
    """Keep only the fields that changed (JSON data on both sides)."""
    before = jsonable(before or {})
    after = jsonable(after or {})
    keys = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    if not keys:
        return None, None
    return (
        {k: before.get(k) for k in keys} if before else None,
        {k: after.get(k) for k in keys} if after else None,
    )


def _dump(obj: dict | None) -> str | None:
    if obj is None:
        return None
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _tail(session) -> tuple[int, str]:
    tail = session.info.get("history_tail")
    if tail is None:
        row = session.execute(
            select(HistoryEvent.seq, HistoryEvent.hash).order_by(HistoryEvent.seq.desc()).limit(1)
        ).first()
        tail = (row.seq, row.hash) if row else (0, GENESIS)
    return tail


def last_event():
    """The chain's last event as a one-row subquery (``seq``, ``hash``; no row when the
    history is empty), for an operation that reads it under the write lock together with
    its own rows (``scores.operations.set_score``); it then hands it to ``remember_tail``."""
    return (
        select(HistoryEvent.seq, HistoryEvent.hash)
        .order_by(HistoryEvent.seq.desc())
        .limit(1)
        .subquery("last_event")
    )


def remember_tail(session, seq: int | None, hash_: str | None) -> None:
    """Keep the last event read under the write lock (``last_event``), so that the next
    ``append_many`` in this transaction chains onto it without reading it again."""
    if not in_write(session):
        raise RuntimeError("the chain's tail is only kept inside core.writing.writing")
    session.info["history_tail"] = (seq, hash_) if seq is not None else (0, GENESIS)


def now() -> datetime:
    """The clock events are stamped with (the one place tests freeze time)."""
    return datetime.now(UTC)


@dataclass
class PendingEvent:
    action: str
    entity: str
    entity_key: str
    period: str | None = None
    before: dict | None = None
    after: dict | None = None
    reason: str | None = None


def append(
    actor,
    action: str,
    entity: str,
    entity_key: str,
    *,
    period: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> dict:
    """Append one event to the chain inside the current write transaction."""
    return append_many(
        actor,
        [PendingEvent(action, entity, entity_key, period, before, after, reason)],
        at=at,
    )[0]


def append_many(actor, events: Iterable[PendingEvent], *, at: datetime | None = None) -> list:
    """Append events in order, in one bulk insert, inside the write transaction.

    The one writer of the event format: ``append`` is this with one event, and the
    bulk services (``records.create_rows``, ``ledger.write_values`` …) hand their
    events here, so a stored event is the same however many are written at once.
    """
    session = db.session
    if not in_write(session):
        raise RuntimeError("history events are appended inside core.writing.writing only")
    seq, prev = _tail(session)
    moment = at or now()
    rows = []
    for pending in events:
        seq += 1
        row = {
            "seq": seq,
            "at": format_at(moment),
            "actor": actor.username,
            "action": pending.action,
            "entity": pending.entity,
            "entity_key": str(pending.entity_key),
            "period": pending.period,
            "before": jsonable(pending.before),
            "after": jsonable(pending.after),
            "reason": pending.reason,
        }
        row["prev_hash"] = prev
        row["hash"] = prev = chain_hash(prev, row)
        rows.append(row)
    if rows:
        session.flush()
        session.execute(
            insert(HistoryEvent),
            [{**r, "before": _dump(r["before"]), "after": _dump(r["after"])} for r in rows],
        )
        session.info["history_tail"] = (seq, prev)
    return rows


def event_dict(row) -> dict:
    """Return the twelve exported fields of a stored event, JSON objects parsed."""
    return {
        "seq": row.seq,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "entity": row.entity,
        "entity_key": row.entity_key,
        "period": row.period,
        "before": json.loads(row.before) if row.before is not None else None,
        "after": json.loads(row.after) if row.after is not None else None,
        "reason": row.reason,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def iter_events(session=None, *, batch: int = 5000, where=None) -> Iterator[dict]:
    """Stream stored events in ``seq`` order by keyset pages (constant memory)."""
    session = session or db.session
    columns = [getattr(HistoryEvent, name) for name in EXPORT_FIELDS]
    after = 0
    while True:
        query = select(*columns).where(HistoryEvent.seq > after)
        if where is not None:
            query = query.where(*where)
        rows = session.execute(query.order_by(HistoryEvent.seq).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield event_dict(row)
        after = rows[-1].seq


@dataclass
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    message: str = ""


def verify_events(events: Iterable[dict]) -> Verification:
    """Recompute the chain over events in order; name the first bad ``seq``."""
    prev = GENESIS
    expected = 1
    checked = 0
    for event in events:
        seq = event["seq"]
        if seq != expected:
            return Verification(False, checked, expected, f"第 {expected} 号事件缺失或顺序错乱")
        if event["prev_hash"] != prev:
            return Verification(False, checked, seq, f"第 {seq} 号事件的前一哈希与链不符")
        if chain_hash(prev, event) != event["hash"]:
            return Verification(False, checked, seq, f"第 {seq} 号事件内容与其哈希不符")
        prev = event["hash"]
        expected += 1
        checked += 1
    return Verification(True, checked, None, f"变更历史完整：共 {checked} 条事件，哈希链校验通过")


def _stored_canonical(row) -> str:
    """Build the canonical text of a stored event straight from its columns.

    ``before``/``after`` are stored as the canonical JSON of their objects (``_dump``),
    so they are spliced in as they are and nothing is parsed; the keys below are in
    ``sort_keys`` order. ``verify`` falls back to the parsed form for a row whose stored
    JSON is not in canonical form, so the result is the same as ``canonical``'s.
    """
    seq, at, actor, action, entity, entity_key, period, before, after, reason = row[:10]
    return "".join(
        (
            '{"action":', _encode(action),
            ',"actor":', _encode(actor),
            ',"after":', "null" if after is None else after,
            ',"at":', _encode(at),
            ',"before":', "null" if before is None else before,
            ',"entity":', _encode(entity),
            ',"entity_key":', _encode(entity_key),
            ',"period":', "null" if period is None else _encode(period),
            ',"reason":', "null" if reason is None else _encode(reason),
            ',"seq":', str(seq), "}",
        )
    )  # fmt: skip


def _parsed_matches(prev: str, row, digest: str) -> bool:
    try:
        return chain_hash(prev, event_dict(row)) == digest
    except ValueError:  # stored JSON that does not even parse
        return False


def verify(session=None, *, batch: int = 10_000) -> Verification:
    """Verify the stored history chain (fast path of ``verify_events`` over the table)."""
    session = session or db.session
    connection = session.connection()
    columns = [getattr(HistoryEvent, name) for name in EXPORT_FIELDS]
    prev = GENESIS
    expected = 1
    after_seq = 0
    while True:
        rows = connection.execute(
            select(*columns)
            .where(HistoryEvent.seq > after_seq)
            .order_by(HistoryEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            seq, prev_hash, digest = row[0], row[10], row[11]
            if seq != expected:
                return Verification(
                    False, expected - 1, expected, f"第 {expected} 号事件缺失或顺序错乱"
                )
            if prev_hash != prev:
                return Verification(
                    False, expected - 1, seq, f"第 {seq} 号事件的前一哈希与链不符"
                )
            text = prev + _stored_canonical(row)
            if sha256(text.encode("utf-8")).hexdigest() != digest and not _parsed_matches(
                prev, row, digest
            ):
                return Verification(
                    False, expected - 1, seq, f"第 {seq} 号事件内容与其哈希不符"
                )
            prev = digest
            expected += 1
        after_seq = rows[-1][0]
    checked = expected - 1
    return Verification(True, checked, None, f"变更历史完整：共 {checked} 条事件，哈希链校验通过")


# --- checking an exported file against the chain ----------------------------------------

#: The largest JSONL file the history page checks (about 100,000 events); the command
#: line verifies any length (``flask verify-history``).
CHECK_MAX_BYTES = 50 * 1024 * 1024
_CHECK_BATCH = 1000


@dataclass
class FileCheck:
    """What an exported JSONL file holds compared with the stored chain."""

    ok: bool
    events: int
    first_seq: int | None = None
    last_seq: int | None = None
    #: The first ``seq`` where the file and the chain differ (None when they agree).
    first_bad_seq: int | None = None
    message: str = ""


def _file_events(lines: Iterable[bytes], max_bytes: int) -> Iterator[dict]:
    """Parse the JSONL lines; a bad line is refused with its number (InvalidInput)."""
    size = 0
    for number, raw in enumerate(lines, start=1):
        size += len(raw)
        if size > max_bytes:
            raise InvalidInput(f"文件过大（上限 {max_bytes // (1024 * 1024)} MB）")
        if not raw.strip():
            continue
        try:
            event = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError:
            raise InvalidInput(f"第 {number} 行不是 UTF-8 文本") from None
        except ValueError as error:
            raise InvalidInput(
                f"第 {number} 行不是有效的 JSON（第 {error.colno} 个字符附近有误）"
            ) from None
        if not isinstance(event, dict):
            raise InvalidInput(f"第 {number} 行不是一个事件（应为 JSON 对象）")
        missing = [name for name in EXPORT_FIELDS if name not in event]
        if missing:
            raise InvalidInput(f"第 {number} 行缺少字段：{'、'.join(missing)}")
        seq = event["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise InvalidInput(f"第 {number} 行的 seq 不是正整数")
        if not all(isinstance(event[name], str) for name in ("prev_hash", "hash")):
            raise InvalidInput(f"第 {number} 行的哈希不是文本")
        yield event


def check_file(lines: Iterable[bytes], session=None, *, max_bytes: int | None = None):
    """Compare an exported JSONL file with the stored chain, event by event.

    Each event must hash to its own ``hash`` from its ``prev_hash`` (else the file was
    changed), follow the previous line without a gap (else the file is partial, e.g. a
    filtered export), and be the stored event of that ``seq`` (same hashes). Returns the
    first ``seq`` that differs, or that the file agrees with the database. A line that
    is not an event is refused with its line number (``InvalidInput``).
    """
    session = session or db.session
    max_bytes = CHECK_MAX_BYTES if max_bytes is None else max_bytes
    columns = [HistoryEvent.seq, HistoryEvent.prev_hash, HistoryEvent.hash]
    count, first, last = 0, None, None
    batch: list[dict] = []

    def differs(events: list[dict]) -> FileCheck | None:
        nonlocal count, first, last
        stored = {
            row.seq: row
            for row in session.execute(
                select(*columns).where(HistoryEvent.seq.in_([e["seq"] for e in events]))
            )
        }
        for event in events:
            seq = event["seq"]
            if last is None and seq != 1:
                message = (
                    f"文件从第 {seq} 号事件开始，缺少此前的事件"
                    "（不是完整的哈希链，可能是筛选导出）"
                )
                return FileCheck(False, count, first, last, seq, message)
            if last is not None and seq != last + 1:
                message = (
                    f"文件在第 {last} 号之后缺少事件，下一行是第 {seq} 号"
                    "（不是完整的哈希链，可能是筛选导出）"
                )
                return FileCheck(False, count, first, last, last + 1, message)
            if chain_hash(event["prev_hash"], event) != event["hash"]:
                message = f"文件中第 {seq} 号事件的内容与其哈希不符（文件被改动过）"
                return FileCheck(False, count, first, last, seq, message)
            row = stored.get(seq)
            if row is None:
                message = f"数据库中没有第 {seq} 号事件"
                return FileCheck(False, count, first, last, seq, message)
            if (row.prev_hash, row.hash) != (event["prev_hash"], event["hash"]):
                message = f"文件中第 {seq} 号事件与数据库中的记录不同"
                return FileCheck(False, count, first, last, seq, message)
            first = seq if first is None else first
            last = seq
            count += 1
        return None

    for event in _file_events(lines, max_bytes):
        batch.append(event)
        if len(batch) >= _CHECK_BATCH:
            found = differs(batch)
            if found is not None:
                return found
            batch = []
    if batch and (found := differs(batch)) is not None:
        return found
    if count == 0:
        return FileCheck(False, 0, message="文件中没有事件")
    return FileCheck(
        True,
        count,
        first,
        last,
        None,
        f"文件与数据库中的哈希链一致：第 1–{last} 号共 {count} 条事件逐条相符",
    )

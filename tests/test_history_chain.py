"""The history chain (docs/rules.md#history-chain): one event per change, append-only,
tamper-evident,
never forked by concurrent writers."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from evaluation.accounts import operations as accounts
from evaluation.core.writing import SystemActor, writing
from evaluation.history import chain as history
from evaluation.history import records
from models import AnalysisGroup, HistoryEvent, Unit, db
from models.history import SQLITE_DROP, SQLITE_TRIGGERS
from tests.conftest import user

ADMIN = SystemActor("chain-admin")


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(HistoryEvent))


def last_event() -> HistoryEvent:
    return db.session.scalar(select(HistoryEvent).order_by(HistoryEvent.seq.desc()).limit(1))


def tamper(*statements: tuple[str, dict]) -> None:
    """Run raw SQL on the history table with its append-only triggers out of the way,
    as an attacker with database access would, then put the triggers back."""
    db.session.remove()
    with db.engine.begin() as conn:
        postgresql = conn.dialect.name == "postgresql"
        if postgresql:
            conn.execute(text("ALTER TABLE history_event DISABLE TRIGGER USER"))
        else:
            for statement in SQLITE_DROP:
                conn.execute(text(statement))
        for sql, params in statements:
            conn.execute(text(sql), params)
        if postgresql:
            conn.execute(text("ALTER TABLE history_event ENABLE TRIGGER USER"))
        else:
            for statement in SQLITE_TRIGGERS:
                conn.execute(text(statement))


def make_town(code: str = "445203100000", name: str = "云路镇") -> Unit:
    return records.create(ADMIN, Unit, {"code": code, "name": name, "level": "town", "kind": "镇"})


def test_each_change_appends_exactly_one_event(ctx):
    start = event_count()

    town = make_town()
    assert event_count() == start + 1
    created = last_event()
    assert (created.action, created.entity, created.entity_key) == (
        "unit.create",
        "unit",
        "445203100000",
    )
    assert created.actor == "chain-admin"

    records.update(ADMIN, town, {"name": "云路镇（新）", "sort_order": 3})
    assert event_count() == start + 2
    updated = last_event()
    assert updated.action == "unit.update"
    assert '"name":"云路镇"' in updated.before and '"name":"云路镇（新）"' in updated.after

    records.update(ADMIN, town, {"name": "云路镇（新）"})  # nothing changed
    assert event_count() == start + 2

    group = records.create(ADMIN, AnalysisGroup, {"name": "第一研判组", "leader": "张三"})
    assert event_count() == start + 3
    records.delete(ADMIN, group)
    assert event_count() == start + 4
    assert last_event().action == "analysis_group.delete"

    auditor = user("auditor")
    accounts.set_password(ADMIN, auditor, "another-long-password")
    assert event_count() == start + 5
    password_event = last_event()
    assert password_event.action == "user.password_set"
    assert password_event.entity_key == "auditor"
    # Neither the password nor its hash is ever written to the history.
    for row in db.session.scalars(select(HistoryEvent)):
        assert "argon2" not in (row.before or "") + (row.after or "")
        assert "another-long-password" not in (row.before or "") + (row.after or "")

    assert history.verify().ok


def test_decimals_are_recorded_as_strings(ctx):
    from models import KeyProject

    records.create(
        ADMIN,
        KeyProject,
        {
            "code": "XM001",
            "name": "产业园",
            "progress": Decimal("12.50"),
            "due_date": date(2026, 12, 31),
        },
    )
    event = history.event_dict(last_event())
    assert event["after"]["progress"] == "12.50"
    assert event["after"]["due_date"] == "2026-12-31"


def test_rolled_back_change_appends_nothing(ctx):
    start = event_count()
    with pytest.raises(ValueError, match="midway"):
        with writing(ADMIN, "base_data.write") as session:
            session.add(Unit(code="445203100001", name="玉滘镇", level="town", kind="镇"))
            session.flush()
            history.append(ADMIN, "unit.create", "unit", "445203100001", after={"name": "玉滘镇"})
            raise ValueError("failed midway")
    assert event_count() == start
    assert db.session.scalar(select(Unit).where(Unit.code == "445203100001")) is None
    # The next change continues the chain with no gap.
    make_town()
    assert last_event().seq == start + 1
    assert history.verify().ok


def test_verify_names_an_edited_event(ctx):
    make_town()
    make_town("445203100002", "锡场镇")
    assert history.verify().ok
    target = last_event().seq - 1
    tamper(("UPDATE history_event SET reason = :r WHERE seq = :s", {"r": "改过", "s": target}))
    result = history.verify()
    assert not result.ok
    assert result.first_bad_seq == target
    assert str(target) in result.message


def test_verify_names_a_deleted_event(ctx):
    make_town()
    make_town("445203100002", "锡场镇")
    target = last_event().seq - 1
    tamper(("DELETE FROM history_event WHERE seq = :s", {"s": target}))
    result = history.verify()
    assert not result.ok
    assert result.first_bad_seq == target


def test_verify_names_swapped_events(ctx):
    make_town()
    make_town("445203100002", "锡场镇")
    second = last_event().seq
    first = second - 1
    columns = [c for c in history.EXPORT_FIELDS if c != "seq"]
    rows = {
        row.seq: row
        for row in db.session.execute(
            select(HistoryEvent).where(HistoryEvent.seq.in_([first, second]))
        ).scalars()
    }
    values = {s: {c: getattr(rows[s], c) for c in columns} for s in rows}
    assignments = ", ".join(f"{c} = :{c}" for c in columns)
    sql = f"UPDATE history_event SET {assignments} WHERE seq = :seq"
    tamper((sql, {**values[second], "seq": first}), (sql, {**values[first], "seq": second}))
    result = history.verify()
    assert not result.ok
    assert result.first_bad_seq == first


def test_verify_judges_the_json_not_its_spelling(ctx):
    """Stored JSON re-spelled (spaces, key order) still hashes as the same event; a
    changed value inside it does not."""
    town = make_town()
    records.update(ADMIN, town, {"name": "云路镇（新）", "sort_order": 3})
    target = last_event().seq
    respelled = '{ "sort_order" : 3, "name" : "云路镇（新）" }'
    tamper(("UPDATE history_event SET after = :a WHERE seq = :s", {"a": respelled, "s": target}))
    assert history.verify().ok
    altered = '{"name":"云路镇（新）","sort_order":4}'
    tamper(("UPDATE history_event SET after = :a WHERE seq = :s", {"a": altered, "s": target}))
    result = history.verify()
    assert not result.ok and result.first_bad_seq == target
    tamper(("UPDATE history_event SET after = :a WHERE seq = :s", {"a": "{broken", "s": target}))
    assert history.verify().first_bad_seq == target


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE history_event SET reason = 'rewritten'",
        "DELETE FROM history_event",
    ],
)
def test_triggers_refuse_update_and_delete(ctx, statement):
    make_town()
    before = event_count()
    db.session.remove()
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text(statement))
    assert event_count() == before
    assert history.verify().ok


def test_concurrent_appends_never_fork(app):
    writers, per_writer = 6, 4
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers)

    def write(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for i in range(per_writer):
                    records.create(SystemActor(f"writer{n}"), AnalysisGroup, {"name": f"组{n}-{i}"})
                db.session.remove()
        except BaseException as error:  # reported below, after join
            errors.append(error)

    with app.app_context():
        start = event_count()
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with app.app_context():
        seqs = list(db.session.scalars(select(HistoryEvent.seq).order_by(HistoryEvent.seq)))
        assert seqs == list(range(1, start + writers * per_writer + 1))
        result = history.verify()
        assert result.ok and result.checked == len(seqs)


def test_verify_history_command(app, runner):
    with app.app_context():
        make_town()
        make_town("445203100002", "锡场镇")
        total = event_count()
    ok = runner.invoke(args=["verify-history"])
    assert ok.exit_code == 0, ok.output
    assert f"共 {total} 条事件" in ok.output

    with app.app_context():
        tamper(("UPDATE history_event SET actor = 'mallory' WHERE seq = 3", {}))
    bad = runner.invoke(args=["verify-history"])
    assert bad.exit_code != 0
    assert "seq 3" in bad.output


def test_truncate_is_refused(ctx):
    """A TRUNCATE fires no row trigger on PostgreSQL; a statement-level one refuses it, and
    verify would otherwise pass on an empty table."""
    make_town()
    before = event_count()
    db.session.remove()
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite's DELETE is covered above")
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE history_event"))
    assert event_count() == before


def _raw_event(seq: int, prev_hash: str) -> dict:
    event = {
        "seq": seq, "at": "2026-12-01T08:00:00.000000Z", "actor": "mallory",
        "action": "unit.create", "entity": "unit", "entity_key": "X", "period": None,
        "before": None, "after": None, "reason": None,
    }
    return {**event, "prev_hash": prev_hash, "hash": history.chain_hash(prev_hash, event)}


INSERT = (
    "INSERT {verb} INTO history_event (seq, at, actor, action, entity, entity_key, period,"
    " before, after, reason, prev_hash, hash) VALUES (:seq, :at, :actor, :action, :entity,"
    " :entity_key, :period, :before, :after, :reason, :prev_hash, :hash)"
)


def test_insert_or_replace_cannot_rewrite_an_event(ctx):
    """SQLite's INSERT OR REPLACE deletes the old row without the DELETE trigger."""
    make_town("445203100000")
    make_town("445203101000", "水东镇")
    db.session.remove()
    if db.engine.dialect.name != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's (PostgreSQL's upsert fires the UPDATE trigger)")
    first = db.session.get(HistoryEvent, 1)
    forged = _raw_event(1, first.prev_hash)
    db.session.remove()
    with pytest.raises(DBAPIError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text(INSERT.format(verb="OR REPLACE")), forged)
    assert db.session.get(HistoryEvent, 1).actor != "mallory"
    assert history.verify().ok


@pytest.mark.parametrize("case", ["gap", "wrong_prev_hash", "old_seq"])
def test_an_insert_must_extend_the_chain(ctx, case):
    make_town()
    tail = last_event()
    seq, tail_hash = tail.seq, tail.hash
    row = {
        "gap": _raw_event(seq + 2, tail_hash),
        "wrong_prev_hash": _raw_event(seq + 1, "f" * 64),
        "old_seq": _raw_event(seq, tail.prev_hash),
    }[case]
    db.session.remove()
    with pytest.raises(DBAPIError):
        with db.engine.begin() as conn:
            conn.execute(text(INSERT.format(verb="")), row)
    assert last_event().seq == seq
    # The chain's next event is let in.
    with db.engine.begin() as conn:
        conn.execute(text(INSERT.format(verb="")), _raw_event(seq + 1, tail_hash))
    assert history.verify().ok

"""Create, update and delete base data (units, cadres, groups, projects, schemes,
periods, users), each change recorded in the history with the changed fields.

Model-specific rules (a published scheme is frozen, a period's status moves only
through the workflow) are ``Rule`` checks registered per model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from types import SimpleNamespace

from sqlalchemy import func, insert, inspect, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from evaluation.core.writing import InvalidInput, update_rows, writing
from evaluation.history import chain as history
from models import (
    AnalysisGroup,
    ApiToken,
    Cadre,
    CadreRecord,
    Dimension,
    Indicator,
    KeyProject,
    Period,
    ProjectUpdate,
    Scheme,
    Unit,
    User,
    db,
)

#: Columns never written to the history (secrets) or not worth recording.
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "session_nonce"})


@dataclass
class EntitySpec:
    entity: str
    permission: str
    key: Callable[[object], str]
    #: Extra checks: ``rule(obj, values, is_created)`` raises a ServiceError.
    rules: list[Callable] = field(default_factory=list)
    #: Fields that only dedicated services may change.
    protected: frozenset[str] = frozenset()


SPECS: dict[type, EntitySpec] = {
    Unit: EntitySpec("unit", "base_data.write", lambda u: u.code),
    AnalysisGroup: EntitySpec("analysis_group", "base_data.write", lambda g: g.name),
    Cadre: EntitySpec("cadre", "cadre.write", lambda c: str(c.id)),
    CadreRecord: EntitySpec("cadre_record", "cadre_record.write", lambda r: str(r.id)),
    KeyProject: EntitySpec("key_project", "project.write", lambda p: p.code),
    ProjectUpdate: EntitySpec(
        "project_update", "project.update", lambda u: f"{u.project.code}/{u.id}"
    ),
    Scheme: EntitySpec("scheme", "scheme.write", lambda s: s.code, protected=frozenset({"status"})),
    Dimension: EntitySpec("dimension", "scheme.write", lambda d: f"{d.scheme.code}/{d.code}"),
    Indicator: EntitySpec("indicator", "scheme.write", lambda i: f"{i.scheme.code}/{i.code}"),
    Period: EntitySpec(
        "period",
        "period.write",
        lambda p: p.code,
        protected=frozenset(
            {"status", "submitted_by", "submitted_at", "approved_by", "approved_at"}
        ),
    ),
    User: EntitySpec(
        "user", "user.write", lambda u: u.username, protected=frozenset({"session_nonce"})
    ),
    ApiToken: EntitySpec("api_token", "token.write", lambda t: str(t.id)),
}


def spec_for(model_class: type) -> EntitySpec:
    """Return the history spec of a model class."""
    return SPECS[model_class]


def entity_key(obj) -> str:
    """Return the natural key the history uses for ``obj``."""
    return spec_for(type(obj)).key(obj)


def snapshot(obj, model_class: type | None = None) -> dict:
    """Return the recordable fields of ``obj``; foreign keys as the related entity's key.

    ``obj`` is a mapped object, or (for the bulk ``create_rows``) a plain namespace of
    ``model_class``'s column values and many-to-one related objects.
    """
    data: dict = {}
    for name, relation in _recordable(model_class or type(obj)):
        if relation is None:
            data[name] = getattr(obj, name)
            continue
        related = getattr(obj, relation)
        rel_spec = SPECS.get(type(related)) if related is not None else None
        data[relation] = (
            None if related is None else (rel_spec.key(related) if rel_spec else str(related))
        )
    return data


@cache
def _recordable(model_class: type) -> tuple[tuple[str, str | None], ...]:
    """(column, many-to-one relationship or None) of each column ``snapshot`` records."""
    mapper = inspect(model_class)
    fk_names = {}
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOONE":
            for column in rel.local_columns:
                fk_names[column.key] = rel.key
    return tuple(
        (attr.key, fk_names.get(attr.key))
        for attr in mapper.column_attrs
        if attr.key != "id" and attr.key not in SECRET_COLUMNS
    )


def _apply(obj, values: dict, spec: EntitySpec) -> None:
    for name, value in values.items():
        if name in spec.protected:
            raise InvalidInput(f"字段 {name} 只能通过专门的流程修改")
        setattr(obj, name, value)


def create(actor, model_class: type, values: dict, *, reason: str | None = None):
    """Create a record from field values and record it."""
    spec = spec_for(model_class)
    with writing(actor, spec.permission) as session:
        obj = model_class()
        _apply(obj, values, spec)
        for rule in spec.rules:
            rule(obj, values, True)
        session.add(obj)
        session.flush()
        history.append_many(actor, [_creation_event(spec, obj, snapshot(obj), reason)])
    return obj


def _creation_event(spec: EntitySpec, obj, after: dict, reason) -> history.PendingEvent:
    """The ``<entity>.create`` event of a new record (``create`` and ``create_rows``)."""
    _, after = history.diff({}, after)
    return history.PendingEvent(
        f"{spec.entity}.create",
        spec.entity,
        spec.key(obj),
        period=_period_code(obj),
        after=after,
        reason=reason,
    )


def _update_event(spec: EntitySpec, obj, before: dict, reason) -> history.PendingEvent | None:
    """The ``<entity>.update`` event of a changed record, or None when nothing changed."""
    old, new = history.diff(before, snapshot(obj))
    if old is None and new is None:
        return None
    return history.PendingEvent(
        f"{spec.entity}.update",
        spec.entity,
        spec.key(obj),
        period=_period_code(obj),
        before=old,
        after=new,
        reason=reason,
    )


def update(actor, obj, values: dict, *, reason: str | None = None):
    """Change a record's fields and record what changed (nothing changed, nothing recorded)."""
    spec = spec_for(type(obj))
    with writing(actor, spec.permission) as session:
        session.refresh(obj)
        before = snapshot(obj)
        _apply(obj, values, spec)
        for rule in spec.rules:
            rule(obj, values, False)
        session.flush()
        event = _update_event(spec, obj, before, reason)
        if event is not None:
            history.append_many(actor, [event])
    return obj


def delete(actor, obj, *, reason: str | None = None) -> None:
    """Delete a record and record what it held."""
    spec = spec_for(type(obj))
    with writing(actor, spec.permission) as session:
        session.refresh(obj)
        for rule in spec.rules:
            rule(obj, None, False)
        before, _ = history.diff(snapshot(obj), {})
        key = spec.key(obj)
        period = _period_code(obj)
        session.delete(obj)
        session.flush()
        history.append(
            actor, f"{spec.entity}.delete", spec.entity, key, period=period, before=before,
            reason=reason,
        )


# --- bulk forms (seeders, imports): the same rows and events, fewer statements ---------


def _with_defaults(table, row: dict) -> dict:
    """Give ``row`` every column an ORM insert would fill: scalar defaults, else None.

    A column with a callable or server default must be given: its value would be
    recorded by ``create`` but is not known before the insert.
    """
    full = dict(row)
    for column in table.columns:
        if column.primary_key or column.key in full:
            continue
        if column.default is not None and column.default.is_scalar:
            full[column.key] = column.default.arg
        elif column.default is not None or column.server_default is not None:
            raise ValueError(f"create_rows needs {table.name}.{column.key} given explicitly")
        else:
            full[column.key] = None
    return full


def insert_rows(session, table, rows: Sequence[dict]) -> list[int]:
    """Insert rows in one executemany; return their new ids in the order of ``rows``.

    PostgreSQL returns them through ``RETURNING`` in parameter order. SQLite would run
    that one row per statement, so there the rows go in by plain executemany and the ids
    are read back: under the write lock nobody else inserts, and SQLite numbers new rows
    upward in the order they are inserted.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name != "sqlite":
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(session.scalars(returning, rows))
    last = session.scalar(select(func.max(table.c.id))) or 0
    session.execute(insert(table), rows)
    ids = list(session.scalars(select(table.c.id).where(table.c.id > last).order_by(table.c.id)))
    if len(ids) != len(rows):
        raise RuntimeError(f"{table.name}: {len(rows)} rows inserted, {len(ids)} found")
    return ids


def _many_to_one(model_class: type) -> list[tuple[str, str, type]]:
    """(relationship name, local column name, related class) of each many-to-one."""
    return [
        (rel.key, column.key, rel.mapper.class_)
        for rel in inspect(model_class).relationships
        if rel.direction.name == "MANYTOONE"
        for column in rel.local_columns
    ]


def _load(session, model_class: type, ids, *, options=(), fresh=True, chunk=5000) -> dict:
    """Load objects by id in chunks (``fresh``: re-read those already loaded)."""
    ids = sorted({i for i in ids if i is not None})
    found = {}
    for start in range(0, len(ids), chunk):
        query = (
            select(model_class)
            .where(model_class.id.in_(ids[start : start + chunk]))
            .options(*options)
            .execution_options(populate_existing=fresh)
        )
        found.update((obj.id, obj) for obj in session.scalars(query))
    return found


def create_rows(
    actor, model_class: type, rows: Sequence[dict], *, reason: str | None = None
) -> list[int]:
    """Insert many new records and their events, each as ``create`` records it.

    ``rows`` hold column values (foreign keys as ids). Same permission, same
    ``<entity>.create`` event per row (built by the same function from the same
    snapshot), but one INSERT and one history insert for the lot. Models with extra
    rules (schemes, dimensions, indicators) are refused: create those one by one.
    Returns the new ids in the order of ``rows``.
    """
    spec = spec_for(model_class)
    if spec.rules:
        raise TypeError(f"{model_class.__name__} has rules; create it with records.create")
    table = model_class.__table__
    with writing(actor, spec.permission) as session:
        for name in {name for row in rows for name in row}:
            if name in spec.protected:
                raise InvalidInput(f"字段 {name} 只能通过专门的流程修改")
        full = [_with_defaults(table, row) for row in rows]
        if not full:
            return []
        ids = insert_rows(session, table, full)
        relations = _many_to_one(model_class)
        related = {
            rel: _load(session, target, (row[column] for row in full), fresh=False)
            for rel, column, target in relations
        }
        events = []
        for row, new_id in zip(full, ids, strict=True):
            obj = SimpleNamespace(**row, id=new_id)
            for rel, column, _ in relations:
                setattr(obj, rel, related[rel].get(row[column]))
            events.append(_creation_event(spec, obj, snapshot(obj, model_class), reason))
        history.append_many(actor, events)
    return ids


def update_many(
    actor, model_class: type, changes: Sequence[tuple[int, dict]], *, reason: str | None = None
) -> int:
    """Change many records of one model, each as ``update`` changes and records it.

    ``changes`` are ``(id, values)`` pairs: column values, or many-to-one relationships
    as objects (or their foreign key as an id). The rows are read afresh inside the
    write; one UPDATE per set of changed columns and one history insert for the lot.
    Models with extra rules are refused, as by ``create_rows``. Returns the number of
    events written (a record whose values did not change has none).
    """
    spec = spec_for(model_class)
    if spec.rules:
        raise TypeError(f"{model_class.__name__} has rules; change it with records.update")
    relations = {rel: (column, target) for rel, column, target in _many_to_one(model_class)}
    by_column = {column: rel for rel, (column, _) in relations.items()}
    columns = {column.key for column in model_class.__table__.columns}
    table = model_class.__table__
    with writing(actor, spec.permission) as session:
        options = [selectinload(getattr(model_class, rel)) for rel in relations]
        objects = _load(session, model_class, (obj_id for obj_id, _ in changes), options=options)
        events, statements = [], {}
        for obj_id, values in changes:
            obj = objects[obj_id]
            before = snapshot(obj)
            stored = {}
            for name, value in values.items():
                if name in spec.protected:
                    raise InvalidInput(f"字段 {name} 只能通过专门的流程修改")
                if name in by_column:  # a foreign key given as an id: record the object
                    name = by_column[name]
                    value = None if value is None else session.get(relations[name][1], value)
                if name in relations:
                    column = relations[name][0]
                    key = None if value is None else value.id
                    set_committed_value(obj, name, value)
                    set_committed_value(obj, column, key)
                    stored[column] = key
                elif name in columns:
                    set_committed_value(obj, name, value)
                    stored[name] = value
                else:
                    raise InvalidInput(f"没有字段 {name}")
            event = _update_event(spec, obj, before, reason)
            if event is None:
                continue
            events.append(event)
            statements.setdefault(tuple(sorted(stored)), []).append({"_id": obj_id, **stored})
        for names, params in statements.items():
            update_rows(session, table, names, params)
        history.append_many(actor, events)
    return len(events)


def _period_code(obj) -> str | None:
    if isinstance(obj, Period):
        return obj.code
    period = getattr(obj, "period", None)
    return getattr(period, "code", None)


def add_rule(model_class: type, rule: Callable) -> None:
    """Register an extra check for changes to ``model_class``."""
    spec_for(model_class).rules.append(rule)


__all__ = [
    "create",
    "create_rows",
    "update",
    "update_many",
    "delete",
    "snapshot",
    "entity_key",
    "add_rule",
    "SPECS",
    "db",
]

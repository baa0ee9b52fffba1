"""Create, update and delete base data (units, cadres, groups, projects, schemes,
periods, users), each change recorded in the history with the changed fields.

Model-specific rules (a published scheme is frozen, a period's status moves only
through the workflow) are ``Rule`` checks registered per model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import inspect

from evaluation.services import history
from evaluation.services.core import InvalidInput, writing
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
SECRET_COLUMNS = frozenset({"password_hash", "token_hash"})


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
    User: EntitySpec("user", "user.write", lambda u: u.username),
    ApiToken: EntitySpec("api_token", "token.write", lambda t: str(t.id)),
}


def spec_for(model_class: type) -> EntitySpec:
    """Return the history spec of a model class."""
    return SPECS[model_class]


def entity_key(obj) -> str:
    """Return the natural key the history uses for ``obj``."""
    return spec_for(type(obj)).key(obj)


def snapshot(obj) -> dict:
    """Return the recordable fields of ``obj``; foreign keys as the related entity's key."""
    mapper = inspect(type(obj))
    data: dict = {}
    fk_names = {}
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOONE":
            for column in rel.local_columns:
                fk_names[column.key] = rel.key
    for attr in mapper.column_attrs:
        name = attr.key
        if name == "id" or name in SECRET_COLUMNS:
            continue
        if name in fk_names:
            related = getattr(obj, fk_names[name])
            rel_spec = SPECS.get(type(related)) if related is not None else None
            data[fk_names[name]] = (
                None if related is None else (rel_spec.key(related) if rel_spec else str(related))
            )
            continue
        data[name] = getattr(obj, name)
    return data


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
        _, after = history.diff({}, snapshot(obj))
        history.append(
            actor,
            f"{spec.entity}.create",
            spec.entity,
            spec.key(obj),
            period=_period_code(obj),
            after=after,
            reason=reason,
        )
    return obj


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
        old, new = history.diff(before, snapshot(obj))
        if old is not None or new is not None:
            history.append(
                actor,
                f"{spec.entity}.update",
                spec.entity,
                spec.key(obj),
                period=_period_code(obj),
                before=old,
                after=new,
                reason=reason,
            )
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


def _period_code(obj) -> str | None:
    if isinstance(obj, Period):
        return obj.code
    period = getattr(obj, "period", None)
    return getattr(period, "code", None)


def add_rule(model_class: type, rule: Callable) -> None:
    """Register an extra check for changes to ``model_class``."""
    spec_for(model_class).rules.append(rule)


__all__ = ["create", "update", "delete", "snapshot", "entity_key", "add_rule", "SPECS", "db"]

"""The period workflow over the API, 公示, 异议 and 容错纠错 (docs/publication.md#api).

The same operations as the web (``periods``, ``publication``, ``tolerance``), so the same
role and state rules: a refused role 403, a blocked or stale step 409, bad input 422.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from flask import g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from sqlalchemy import select

from evaluation.api import bp, spec, token_required
from evaluation.api.periods import _period_or_404
from evaluation.api.schemas import (
    ERROR_TEXTS,
    STORABLE_TEXT,
    DocumentedResponse,
    Error,
)
from evaluation.core.states import PERIOD_WORKFLOW
from evaluation.core.writing import Conflict, Forbidden, InvalidInput, NotFound, StateError
from evaluation.periods import operations as periods
from evaluation.publication import operations as publication
from evaluation.publication import sheet
from evaluation.tolerance import operations as tolerance
from evaluation.web import LARGEST_ARG
from models import Objection, ToleranceCase, Unit, db

Text = Annotated[StrictStr, Field(pattern=STORABLE_TEXT, max_length=4000)]
#: Row ids are 32-bit integers in every database (a larger one was a 500 on PostgreSQL).
Id = Annotated[StrictInt, Field(ge=1, le=LARGEST_ARG)]

PATH = {
    "code": "考核周期代码，如 2026Q3",
    "action": "open、submit、return、approve 或 reopen",
    "objection_id": "异议编号",
    "case_id": "容错纠错申请编号",
}


def _answers(ok, description: str, *errors: int, status: int = 200) -> DocumentedResponse:
    return DocumentedResponse(
        **{f"HTTP_{status}": (ok, description)},
        **{f"HTTP_{code}": (Error, ERROR_TEXTS[code]) for code in errors},
    )


# --- schemas -----------------------------------------------------------------------------


class WorkflowStep(BaseModel):
    """``reason``：退回、重新开启时必填；``override_reason``：审定时越过未结束的公示、未答复的
    异议、未认定的容错申请或缺失数值的说明（记入变更历史）。"""

    reason: Text | None = None
    override_reason: Text | None = None


class PeriodState(BaseModel):
    code: str
    status: Literal["draft", "open", "submitted", "approved"]
    snapshot_hash: str | None = None


class WindowSet(BaseModel):
    start: date = Field(description="公示开始日期（北京时间，含当天）")
    end: date = Field(description="公示结束日期（含当天）")
    show_ranking: StrictBool = Field(False, description="公示期间是否向各镇街展示全区排名")


class WindowInfo(BaseModel):
    id: int
    start: str
    end: str
    show_ranking: bool
    state: Literal["upcoming", "open", "closed"]
    days_left: int
    opened_by: str
    opened_at: str


class Publication(BaseModel):
    model_config = ConfigDict(extra="allow")

    period: str
    status: str
    window: WindowInfo | None
    blockers: list[str] = Field(
        description="审定前尚待办结的事项（督导、考核组、管理员、审计可见）"
    )
    town: dict[str, Any] | None = Field(
        None, description="镇街填报员：本镇街的数值、得分、小计、加减分、总分、名次和等次"
    )
    ranking: list[dict[str, Any]] | None = Field(None, description="公示全区排名时的各镇街结果")


class ObjectionNew(BaseModel):
    """对一个指标、加减分项或一票否决提出异议：``indicator``、``adjustment``、``veto`` 三选一。"""

    unit: Annotated[StrictStr, Field(pattern=STORABLE_TEXT, max_length=32)]
    indicator: Annotated[StrictStr, Field(pattern=STORABLE_TEXT, max_length=32)] | None = None
    adjustment: Id | None = None
    veto: StrictBool | None = None
    reason: Text


class Created(BaseModel):
    id: int


class ObjectionInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    period: str
    unit: str
    target: Literal["indicator", "adjustment", "veto"]
    item: str
    reason: str
    status: Literal["pending", "maintained", "adjusted"]
    answer_reason: str | None
    value_before: str | None
    value_after: str | None


class Objections(BaseModel):
    objections: list[ObjectionInfo]


class Answer(BaseModel):
    decision: Literal["maintain", "adjust"]
    value: Annotated[StrictStr, Field(pattern=STORABLE_TEXT, max_length=64)] | None = Field(
        None,
        description="调整时的新数值：指标为原始数值，加减分项为分值（0 即撤销），一票否决不需要",
    )
    reason: Text


class CaseNew(BaseModel):
    """对一个减分项（``adjustment``）或一票否决（``veto``: true）申请容错纠错。"""

    unit: Annotated[StrictStr, Field(pattern=STORABLE_TEXT, max_length=32)]
    adjustment: Id | None = None
    veto: StrictBool | None = None
    situation: Text
    grounds: Text


class CaseInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    period: str
    unit: str
    target: Literal["adjustment", "veto"]
    situation: str
    grounds: str
    status: Literal["applied", "verifying", "upheld", "rejected"]
    findings: str | None
    decision_reason: str | None


class Cases(BaseModel):
    cases: list[CaseInfo]
    situations: list[str]


class Findings(BaseModel):
    findings: Text


class Determination(BaseModel):
    decision: Literal["upheld", "rejected"]
    reason: Text


# --- workflow ------------------------------------------------------------------------------


@bp.post("/periods/<code>/workflow/<action>")
@token_required("api.read")
@spec.validate(
    json=WorkflowStep,
    resp=_answers(PeriodState, "已完成", 401, 403, 404, 409, 422),
    path_parameter_descriptions=PATH,
    tags=["流程"],
)
def workflow(code: str, action: str):
    """周期流程：开启、提交、退回、审定、重新开启（审定受公示与异议约束）"""
    if action not in PERIOD_WORKFLOW:
        raise NotFound(f"没有名为 {action} 的流程步骤（open、submit、return、approve、reopen）")
    period = _period_or_404(code)
    body = request.context.json
    user = g.api_user
    try:
        if action == "open":
            periods.open_period(user, period)
        elif action == "submit":
            periods.submit(user, period)
        elif action == "return":
            periods.return_period(user, period, body.reason)
        elif action == "approve":
            periods.approve(user, period, body.override_reason)
        else:
            periods.reopen(user, period, body.reason)
    except StateError as error:  # a step the period's state does not allow: 409 here
        raise Conflict(error.message) from None
    snapshot = sheet.current_hash(period)
    return jsonify({"code": period.code, "status": period.status, "snapshot_hash": snapshot})


# --- 公示 --------------------------------------------------------------------------------


def _reporter_unit(user) -> int | None:
    return publication.own_unit_id(user)


@bp.get("/periods/<code>/publication")
@token_required("publication.view")
@spec.validate(
    resp=_answers(Publication, "公示", 401, 403, 404, 422), path_parameter_descriptions=PATH,
    tags=["公示"],
)  # fmt: skip
def get_publication(code: str):
    """周期的公示期；镇街填报员另得本镇街的结果（展示排名时含全区排名）"""
    period = _period_or_404(code)
    window = publication.window_of(publication.current_window(period))
    user = g.api_user
    answer: dict = {
        "period": period.code,
        "status": period.status,
        "window": window.as_dict() if window is not None else None,
        "blockers": [],
    }
    if user.role == "reporter":
        unit_id = _reporter_unit(user)
        if window is not None and window.state != "upcoming" and unit_id is not None:
            data = sheet.town_sheet(period, db.session.get(Unit, unit_id))
            answer["town"] = sheet.town_json(data)
            if window.state == "open" and data["ranking"] is not None:
                answer["ranking"] = data["ranking"]
    else:
        answer["blockers"] = [str(block) for block in publication.approval_blockers(period)]
    return jsonify(answer)


@bp.post("/periods/<code>/publication")
@token_required("publication.open")
@spec.validate(
    json=WindowSet,
    resp=_answers(WindowInfo, "公示期已设定", 401, 403, 404, 422),
    path_parameter_descriptions=PATH,
    tags=["公示"],
)
def set_publication(code: str):
    """设定（或修改）已提交周期的公示期"""
    period = _period_or_404(code)
    body = request.context.json
    row = publication.open_window(g.api_user, period, body.start, body.end, body.show_ranking)
    return jsonify(publication.window_of(row).as_dict())


# --- 异议 ----------------------------------------------------------------------------------


def _unit_or_404(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"没有代码为 {code} 的单位")
    return unit


def _one_target(body, names: tuple[str, ...]) -> tuple[str, object]:
    given = [name for name in names if getattr(body, name) not in (None, False)]
    if len(given) != 1:
        said = "、".join(names)
        raise InvalidInput(
            f"须且只能给出 {said} 之一", details=[{"path": "target", "message": f"{said} 三选一"}]
        )
    return given[0], getattr(body, given[0])


@bp.post("/periods/<code>/objections")
@token_required("objection.lodge")
@spec.validate(
    json=ObjectionNew,
    resp=_answers(Created, "异议已提出", 401, 403, 404, 409, 422, status=201),
    path_parameter_descriptions=PATH,
    tags=["公示"],
)
def lodge(code: str):
    """提出异议（公示期内，本镇街，每个事项一次）"""
    period = _period_or_404(code)
    body = request.context.json
    unit = _unit_or_404(body.unit)
    target, key = _one_target(body, ("indicator", "adjustment", "veto"))
    objection = publication.lodge_objection(g.api_user, period, unit, target, key, body.reason)
    return jsonify({"id": objection.id}), 201


@bp.get("/periods/<code>/objections")
@token_required("publication.view")
@spec.validate(
    resp=_answers(Objections, "异议（镇街填报员只见本镇街）", 401, 403, 404),
    path_parameter_descriptions=PATH,
    tags=["公示"],
)
def list_objections(code: str):
    """周期的异议及答复"""
    period = _period_or_404(code)
    user = g.api_user
    unit_id = _reporter_unit(user) if user.role == "reporter" else None
    if user.role == "reporter" and unit_id is None:
        raise Forbidden("该填报员未绑定镇街")
    rows = publication.period_objections(period, unit_id)
    return jsonify({"objections": [publication.objection_dict(o) for o in rows]})


@bp.post("/objections/<int:objection_id>/answer")
@token_required("objection.answer")
@spec.validate(
    json=Answer,
    resp=_answers(ObjectionInfo, "已答复", 401, 403, 404, 409, 422),
    path_parameter_descriptions=PATH,
    tags=["公示"],
)
def answer(objection_id: int):
    """答复异议：maintain（维持，附理由）或 adjust（调整为新数值，附理由）"""
    objection = db.session.get(Objection, objection_id) if objection_id <= LARGEST_ARG else None
    if objection is None:
        raise NotFound(f"没有第 {objection_id} 号异议")
    body = request.context.json
    publication.answer_objection(g.api_user, objection, body.decision, body.value, body.reason)
    return jsonify(publication.objection_dict(objection))


# --- 容错纠错 ------------------------------------------------------------------------------


@bp.post("/periods/<code>/tolerance-cases")
@token_required("tolerance.apply")
@spec.validate(
    json=CaseNew,
    resp=_answers(Created, "已申请", 401, 403, 404, 409, 422, status=201),
    path_parameter_descriptions=PATH,
    tags=["容错纠错"],
)
def apply_case(code: str):
    """申请容错纠错（针对减分项或一票否决）"""
    period = _period_or_404(code)
    body = request.context.json
    unit = _unit_or_404(body.unit)
    target, key = _one_target(body, ("adjustment", "veto"))
    case = tolerance.apply(
        g.api_user, period, unit, target, key if target == "adjustment" else None,
        body.situation, body.grounds,
    )  # fmt: skip
    return jsonify({"id": case.id}), 201


@bp.get("/periods/<code>/tolerance-cases")
@token_required("tolerance.view")
@spec.validate(
    resp=_answers(Cases, "容错纠错申请（镇街填报员只见本镇街）与可选情形", 401, 403, 404),
    path_parameter_descriptions=PATH,
    tags=["容错纠错"],
)
def list_cases(code: str):
    """周期的容错纠错申请"""
    period = _period_or_404(code)
    user = g.api_user
    unit_id = _reporter_unit(user) if user.role == "reporter" else None
    if user.role == "reporter" and unit_id is None:
        raise Forbidden("该填报员未绑定镇街")
    rows = tolerance.period_cases(period, unit_id)
    return jsonify(
        {"cases": [tolerance.case_dict(c) for c in rows], "situations": tolerance.situations()}
    )


def _case_or_404(case_id: int) -> ToleranceCase:
    case = db.session.get(ToleranceCase, case_id) if case_id <= LARGEST_ARG else None
    if case is None:
        raise NotFound(f"没有第 {case_id} 号容错纠错申请")
    return case


@bp.post("/tolerance-cases/<int:case_id>/findings")
@token_required("tolerance.verify")
@spec.validate(
    json=Findings,
    resp=_answers(CaseInfo, "已核实", 401, 403, 404, 409, 422),
    path_parameter_descriptions=PATH,
    tags=["容错纠错"],
)
def findings(case_id: int):
    """考核组核实（填写核实情况）"""
    case = _case_or_404(case_id)
    tolerance.add_findings(g.api_user, case, request.context.json.findings)
    return jsonify(tolerance.case_dict(case))


@bp.post("/tolerance-cases/<int:case_id>/determination")
@token_required("tolerance.determine")
@spec.validate(
    json=Determination,
    resp=_answers(CaseInfo, "已认定", 401, 403, 404, 409, 422),
    path_parameter_descriptions=PATH,
    tags=["容错纠错"],
)
def determination(case_id: int):
    """督导认定：upheld（认定容错，撤销减分或一票否决）或 rejected（不予认定），均须理由"""
    case = _case_or_404(case_id)
    body = request.context.json
    tolerance.determine(g.api_user, case, body.decision, body.reason)
    return jsonify(tolerance.case_dict(case))

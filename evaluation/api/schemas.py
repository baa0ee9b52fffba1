"""The schemas of /api/v1: request models that validate, response models that document.

Every request model here is checked by spectree before its view runs, and every model
(request and response) is written into ``GET /api/v1/openapi.json`` from the same class,
so the document and the checks cannot say different things (docs/api.md).

Response models describe; they are not checked at run time (a province ranking is some
200,000 values, see ``DocumentedResponse``). tests/test_api_schema.py checks real answers
against the document instead.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StrictFloat,
    StrictInt,
    StrictStr,
)
from pydantic.json_schema import SkipJsonSchema
from spectree import Response

#: The largest number a sequence or version may carry (a signed 64-bit integer column).
INT64_MAX = 2**63 - 1
HISTORY_PAGE_MAX = 1000

#: What a refused field's problem says, by field name (the API's 422 ``details``).
PROBLEMS = {
    "": "须为 JSON 对象 {\"value\", \"note\", \"version\"}",
    "value": "须为数值（数字或数字文本）或等次，不能为空",
    "note": "须为字符串（不含 NUL 字符，不含无效的 Unicode 字符如单独的代理项）",
    "version": "须为正整数，新建时为 null",
    "level": "只能是 town 或 village",
    "unit": "不能含 NUL 字符",
    "indicator": "不能含 NUL 字符",
    "period": "不能含 NUL 字符",
    "after_seq": "须为整数（≥ 0）",
    "limit": f"须为整数（1–{HISTORY_PAGE_MAX}）",
    "statement": "须为字符串（不超过 2000 字，不含 NUL 字符）",
    "decision": "只能是 accept、adjust 或 return",
    "reason": "须为字符串（不超过 500 字，不含 NUL 字符）",
}


# --- requests ------------------------------------------------------------------------------

#: Text the database can store: PostgreSQL refuses the NUL character in any text value.
STORABLE_TEXT = r"^[^\x00]*$"
StorableText = Annotated[str, Field(pattern=STORABLE_TEXT)]


class LevelQuery(BaseModel):
    level: Literal["town", "village"] = Field(
        "town", description="层级：town（镇街，默认）或 village（典型村）"
    )


class ScoresQuery(LevelQuery):
    unit: StorableText | SkipJsonSchema[None] = Field(None, description="只看这个单位（代码）")
    indicator: StorableText | SkipJsonSchema[None] = Field(None, description="只看这个指标（代码）")


class HistoryQuery(BaseModel):
    after_seq: int = Field(
        0, ge=0, le=INT64_MAX, description="只返回 seq 大于此值的事件"
    )
    limit: int = Field(
        100, ge=1, le=HISTORY_PAGE_MAX, description="每页条数"
    )
    period: StorableText | SkipJsonSchema[None] = Field(None, description="只看这个周期的事件")


class ScoreChange(BaseModel):
    """录入或修改一个数值。``version`` 新建时为 null（或省略），修改时为读到的版本（≥ 1）。

    版本从 1 开始：0 或负数不是任何分数的版本，按输入有误答 422；过期的正整数版本答 409。
    """

    value: StrictStr | StrictInt | Annotated[StrictFloat, Field(allow_inf_nan=False)] = Field(
        description=(
            "数值（JSON 数字或十进制文本，按原样精确读取；不接受 1e3 这类科学计数法，"
            "须在指标的允许范围内）或等次（如 A）"
        )
    )
    note: Annotated[StrictStr, Field(pattern=STORABLE_TEXT)] | None = Field(
        None, description="备注；省略或 null 则保留原备注"
    )
    version: Annotated[StrictInt, Field(ge=1, le=INT64_MAX)] | None = Field(
        None, description="新建时为 null，修改时为读到的版本"
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"value": "5.2", "note": "快报", "version": None}]}
    )


class ClaimsQuery(BaseModel):
    unit: StorableText | SkipJsonSchema[None] = Field(
        None, description="只看这个镇街（代码）；填报员只能看本镇街"
    )


class ClaimChange(BaseModel):
    """填写或修改一条自评（docs/reporting.md）。``version`` 新建时为 null，修改时为读到的版本。"""

    value: StrictStr | StrictInt | Annotated[StrictFloat, Field(allow_inf_nan=False)] = Field(
        description="自评值：数值（JSON 数字或十进制文本）或等次（如 A），规则同分数"
    )
    statement: Annotated[StrictStr, Field(pattern=STORABLE_TEXT, max_length=2000)] = Field(
        "", description="说明"
    )
    version: Annotated[StrictInt, Field(ge=1, le=INT64_MAX)] | None = Field(
        None, description="新建时为 null，修改时为读到的版本"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"value": "6.8", "statement": "新增两个项目", "version": None}]
        }
    )


class ClaimVerdict(BaseModel):
    """考核组认定：accept 采纳（自评值成为分数）、adjust 调整（value 与 reason 必填）、
    return 退回补充（reason 必填）。"""

    decision: Literal["accept", "adjust", "return"]
    value: StrictStr | StrictInt | Annotated[StrictFloat, Field(allow_inf_nan=False)] | None = (
        Field(None, description="adjust 时的核定值")
    )
    reason: Annotated[StrictStr, Field(pattern=STORABLE_TEXT, max_length=500)] = Field(
        "", description="理由（adjust、return 必填）"
    )


# --- answers -------------------------------------------------------------------------------

JsonNumber = float | str  # an exact decimal: a JSON number, or text where a float would round
Amount = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", description="两位小数的字符串")]


class Problem(BaseModel):
    path: str
    message: str


class Error(BaseModel):
    """Every refusal: ``error`` says it in words; 422 lists ``details`` (also as ``errors``)."""

    error: str
    status: int
    details: Any = Field(None, description="422：问题列表；409：当前的数值、版本、录入人和时间")
    errors: list[Problem] | None = Field(None, description="422 时与 details 相同")


class Summary(BaseModel):
    towns: int
    villages: int
    typical_villages: int
    dimensions: int
    indicators: int
    analysis_groups: int
    cadres: int
    key_projects: int
    periods: list[str]


class PeriodInfo(BaseModel):
    code: str
    name: str
    status: Literal["draft", "open", "submitted", "approved"]
    start: str = Field(description="日期，如 2026-07-01")
    end: str


class Periods(RootModel[list[PeriodInfo]]):
    pass


class Grade(BaseModel):
    name: str
    min: JsonNumber


class SchemeIndicator(BaseModel):
    code: str
    name: str
    points: JsonNumber
    method: Literal["direct", "target", "relative", "grade"]
    direction: Literal["higher", "lower"]
    target: JsonNumber | None
    floor: JsonNumber | None
    grade_fractions: dict[str, JsonNumber] | None


class Dimension(BaseModel):
    code: str
    name: str
    indicators: list[SchemeIndicator]


class Scheme(BaseModel):
    """The engine's scheme form (docs/rules.md), numbers as exact JSON numbers."""

    total: JsonNumber
    bonus_cap: JsonNumber | None
    penalty_cap: JsonNumber | None
    tie_method: Literal["competition", "dense"]
    grades: list[Grade]
    dimensions: list[Dimension]


class Result(BaseModel):
    unit: str
    name: str
    rank: int
    total: Amount
    dimensions: dict[str, Amount]
    indicators: dict[str, Amount]
    bonus: Amount
    penalty: Amount
    grade: str
    grade_shown: str = Field(
        description=(
            "页面显示的等次：有缺项的单位为“数据不全”（grade 仍为引擎按缺项 0 分算出的等次）"
        )
    )
    vetoed: bool
    complete: bool
    missing: list[str]


class Ranking(BaseModel):
    model_config = ConfigDict(extra="allow")

    period: str
    level: Literal["town", "village"]
    status: str
    from_snapshot: bool = Field(description="已审定周期直接取自审定时保存的排名快照")
    snapshot_hash: str | None = Field(description="快照的 SHA-256")
    results: list[Result]


class ReportIndicator(BaseModel):
    code: str
    name: str
    dimension: str
    method: Literal["direct", "target", "relative", "grade"]
    points: Amount
    max: Amount = Field(description="该指标的满分")
    rank_among: int = Field(description="该指标得分在全部单位中的名次（得分更高的单位数 + 1）")
    average: Amount = Field(description="全部单位该指标的平均得分")
    value: str | None = Field(description="原始数值或等次；未录入为 null")


class ReportChange(BaseModel):
    previous_total: Amount
    previous_rank: int | None
    total: Amount = Field(description="总分变化 = 各指标 + bonus + penalty + floor，精确到分")
    indicators: dict[str, Amount] = Field(description="各指标得分变化")
    bonus: Amount = Field(description="加分变化")
    penalty: Amount = Field(description="扣分对总分的影响（扣分增加为负）")
    floor: Amount = Field(description="总分不低于 0 的保底所致变化，通常为 0.00")


GapReason = Literal["first", "top_grade", "vetoed", "missing", "at_maximum", "not_enough"]


class ReportGap(BaseModel):
    indicator: str
    value: str | None
    value_for_next_rank: str | None = Field(description="单靠该指标提升一个名次所需的最小数值")
    change_for_next_rank: str | None
    rank_at_value: int | None
    next_rank_reason: GapReason | None = Field(description="无法给出数值的原因代码")
    value_for_next_grade: str | None = Field(description="单靠该指标进入上一等次所需的最小数值")
    change_for_next_grade: str | None
    grade_at_value: str | None
    next_grade_reason: GapReason | None


class TownReport(BaseModel):
    """一镇一报告 (docs/reports.md)."""

    model_config = ConfigDict(extra="allow")

    period: str
    period_name: str
    level: Literal["town", "village"]
    status: str
    snapshot_hash: str | None
    snapshot_agrees: bool | None = Field(
        description="已审定周期：报告的总分、名次、等次与审定快照一致（未审定为 null）"
    )
    previous_period: str | None
    unit: str
    name: str
    units: int = Field(description="参与排名的单位数")
    total: Amount
    rank: int
    grade: str
    grade_shown: str = Field(description="页面显示的等次：有缺项时为“数据不全”")
    next_grade: str | None
    vetoed: bool
    bonus: Amount
    penalty: Amount
    dimensions: dict[str, Amount]
    indicators: list[ReportIndicator]
    strengths: list[str] = Field(description="优势指标（最多三项）")
    weaknesses: list[str] = Field(description="短板指标（最多三项，最弱在前）")
    missing: list[str]
    change: ReportChange | None = Field(description="与上一周期相比；无上一周期结果时为 null")
    gaps: list[ReportGap] = Field(description="差距测算")


class Flag(BaseModel):
    unit: str
    name: str
    analysis_group: str | None
    batch: int | None
    total: Amount | None
    reasons: list[
        Literal["VETO", "LOW_SCORE", "DROP", "INCOMPLETE", "BOTTOM", "NO_RECENT_REVIEW"]
    ]
    priority: Literal["high", "medium", "low"] | None
    flagged: bool
    complete: bool = Field(description="该村全部指标均已填报")


class Flags(BaseModel):
    period: str
    flags: list[Flag] = Field(description="每个典型村一条，已标记或无异常")


class Score(BaseModel):
    unit: str
    indicator: str
    value: str = Field(description="数值的十进制文本，或等次")
    points: str | None = Field(description="引擎算出的得分（两位小数）")
    note: str
    version: int
    entered_by: str
    updated_at: str = Field(description="UTC，如 2026-11-27T08:00:00.123456Z")


class Scores(RootModel[list[Score]]):
    pass


class ScoreSaved(Score):
    changed: bool = Field(description="false 表示与原值相同，未写入，也未记录变更")


class Event(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    entity: str
    entity_key: str
    period: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    prev_hash: str
    hash: str


class HistoryPage(BaseModel):
    events: list[Event]
    next_after_seq: int | None = Field(description="下一页的 after_seq；null 表示没有更多")


class OpenApiDocument(BaseModel):
    model_config = ConfigDict(extra="allow", title="OpenApiDocument")


# --- responses -----------------------------------------------------------------------------

ERROR_TEXTS = {
    401: "缺少或无效的 API 令牌",
    403: "角色无权访问，或周期状态不允许修改",
    404: "周期、单位或指标不存在",
    409: "版本已过期：details 给出当前数值、版本、录入人和时间",
    422: "输入有误：details 列出每个问题",
}


class DocumentedResponse(Response):
    """A spectree ``Response`` that documents exactly the given answers, without checking.

    spectree would validate every answer against its model and turn a mismatch into a
    500; the API's answers are built by the services and the engine, some are large,
    and a wrong document should fail a test, not a user's request. spectree would also
    add its own 422 model to every operation, even one without parameters; an operation
    that can answer 422 lists it with ``Error``.
    """

    def find_model(self, code: int):
        return None

    def add_model(self, code, model, replace=True, description=None) -> None:
        if replace:
            super().add_model(code, model, replace, description)


def answers(ok: type[BaseModel], description: str, *errors: int) -> DocumentedResponse:
    """The responses of one operation: 200 with ``ok``, and the listed error statuses."""
    return DocumentedResponse(
        HTTP_200=(ok, description),
        **{f"HTTP_{code}": (Error, ERROR_TEXTS[code]) for code in errors},
    )


class ClaimInfo(BaseModel):
    unit: str
    indicator: str
    value: str
    statement: str
    status: Literal["draft", "submitted", "accepted", "adjusted", "returned"]
    version: int
    evidence: list[str] = Field(description="佐证材料的 SHA-256")
    assessed_value: str | None = Field(description="核定值（分数）；填报员只在采纳或调整后看到")
    verdict_reason: str = Field("", description="调整或退回的理由")


class Claims(RootModel[list[ClaimInfo]]):
    pass


class ClaimsSubmitted(BaseModel):
    unit: str
    submitted: list[str] = Field(description="本次报送的指标代码")


class EvidenceStored(BaseModel):
    sha256: str
    size: int
    media_type: str
    name: str

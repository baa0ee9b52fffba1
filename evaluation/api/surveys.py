"""``GET /api/v1/surveys/<id>/tally``: a closed 民主测评's tally (docs/surveys.md#tally)."""

from __future__ import annotations

from flask import g, jsonify
from pydantic import BaseModel, ConfigDict, Field

from evaluation.api import bp, spec, token_required
from evaluation.api.schemas import answers
from evaluation.surveys import operations

Cents = str  # a two-decimal amount as text, e.g. "87.53"


class TallyOption(BaseModel):
    key: str = Field(description="excellent | competent | basic | incompetent")
    label: str
    score: str


class TallyTurnout(BaseModel):
    name: str
    weight: str
    planned: int
    issued: int = Field(description="已发测评码")
    spent: int = Field(description="已投票（已用测评码）")


class TallyGroup(BaseModel):
    name: str
    weight: str
    ballots: int
    counts: dict[str, int] = Field(description="各等次票数，按等次键")
    mean: Cents | None = Field(description="该群体平均分；无选票时为 null")


class TallyTarget(BaseModel):
    id: int
    name: str
    position: str
    ballots: int
    counts: dict[str, int]
    groups: list[TallyGroup]
    score: Cents | None = Field(description="综合得分 = Σ 群体权重/100 × 群体平均分，两位小数")
    excellent_rate: Cents | None = Field(description="优秀率（%）")
    competent_rate: Cents | None = Field(description="称职以上率（%）")
    incompetent: int = Field(description="不称职票数")


class TallySurvey(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    title: str
    status: str
    ballots: int


class SurveyTally(BaseModel):
    """民主测评计票结果 (docs/surveys.md#tally)."""

    survey: TallySurvey
    options: list[TallyOption]
    groups: list[TallyTurnout]
    targets: list[TallyTarget]


@bp.get("/surveys/<int:survey_id>/tally")
@token_required("survey.tally")
@spec.validate(
    resp=answers(SurveyTally, "计票结果（测评结束后）", 401, 403, 404),
    path_parameter_descriptions={"survey_id": "民主测评的编号"},
    tags=["民主测评"],
)
def survey_tally(survey_id: int):
    """民主测评计票结果：各对象各群体的票数、平均分、综合得分、优秀率、称职以上率（结束后可查）"""
    survey = operations.find(survey_id)
    return jsonify(operations.tally(g.api_user, survey))

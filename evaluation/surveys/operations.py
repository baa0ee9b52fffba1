"""民主测评 (docs/surveys.md): setting up a survey, its codes, the vote, closing, the tally.

The one write path of the surveys room: each change runs in ``core.writing.writing`` and
appends its history event there. A vote is the one write without a signed-in user: its
code is its credential, and what it stores is built so that a ballot cannot be tied back
to its code, its voter or its time (docs/surveys.md#anonymity).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, insert, select, update

from evaluation.core.states import SURVEY_WORKFLOW, SurveyStatus
from evaluation.core.writing import (
    InvalidInput,
    NotFound,
    ServiceError,
    StateError,
    require,
    writing,
)
from evaluation.history import chain as history
from evaluation.history import records
from evaluation.i18n import SHANGHAI, local_time
from evaluation.surveys import codes
from evaluation.surveys import tally as counting
from evaluation.surveys.codes import normalize_code, shown_code  # noqa: F401  (pages, slips)
from evaluation.surveys.tally import turnout  # noqa: F401  (the pages)
from models import (
    Cadre,
    CadreRecord,
    Survey,
    SurveyBallot,
    SurveyCode,
    SurveyGroup,
    SurveyOption,
    SurveyTarget,
    Unit,
    db,
)
from models.cadres import town_leader_role
from models.surveys import DEFAULT_OPTIONS, OPTION_KEYS, TARGET_KINDS
from models.types import utcnow

MOST_CODES = 2000
MOST_TARGETS = 200


@dataclass(frozen=True)
class Voter:
    """The actor of a vote: nobody in particular (no user, no address)."""

    username: str = "anonymous-voter"
    role: str = ""
    is_authenticated: bool = False
    is_active: bool = False


VOTER = Voter()


class UnknownCode(ServiceError):
    status = 422

    def __init__(self):
        super().__init__("测评码无效，请核对选票上的测评码后重新输入。")


class UsedCode(ServiceError):
    status = 409

    def __init__(self):
        super().__init__("该测评码已经投过票，每个测评码只能投票一次。")


class VotingClosed(ServiceError):
    status = 403


# --- reading ---------------------------------------------------------------------------


def find(survey_id) -> Survey:
    """The survey with this id (NotFound otherwise)."""
    try:
        number = int(str(survey_id))
    except ValueError:
        raise NotFound("没有这次民主测评") from None
    survey = db.session.get(Survey, number) if 0 < number < 2**31 else None
    if survey is None:
        raise NotFound("没有这次民主测评")
    return survey


def all_surveys() -> list[Survey]:
    return list(db.session.scalars(select(Survey).order_by(Survey.id.desc())))


def voting_window(survey: Survey) -> str:
    return f"{local_time(survey.opens_at, '%Y-%m-%d %H:%M')} 至 " + local_time(
        survey.closes_at, "%Y-%m-%d %H:%M"
    )


# --- setting up ------------------------------------------------------------------------


def _decimal(text, what: str, problems: list[str]) -> Decimal | None:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        problems.append(f"{what}不是数字：{text}")
        return None
    if not value.is_finite():
        problems.append(f"{what}不是数字：{text}")
        return None
    if value != value.quantize(Decimal("0.01")):
        problems.append(f"{what}最多两位小数：{text}")
        return None
    return value


def create_survey(
    actor,
    *,
    title: str,
    target_kind: str,
    opens_at: datetime,
    closes_at: datetime,
    groups: list[tuple[str, str, int]],
    targets: list[dict],
    options: list[tuple[str, str, str]] | None = None,
    excellent_cap: int | None = None,
    note: str = "",
) -> Survey:
    """Set up a survey (draft): ``groups`` as (name, weight, planned codes), weights adding up
    to exactly 100; ``targets`` as ``{"cadre": Cadre}`` or ``{"unit": Unit}`` (a town's
    leadership), each with an optional ``"report"`` (述职); ``options`` as (key, label,
    score), the defaults when None (docs/surveys.md#setting-up)."""
    with writing(actor, "survey.write") as session:
        problems: list[str] = []
        title = (title or "").strip()
        if not title or len(title) > 128:
            problems.append("测评名称不能为空，且不超过 128 个字")
        if target_kind not in TARGET_KINDS:
            problems.append("测评对象须为干部或镇街领导班子")
        if opens_at is None or closes_at is None:
            problems.append("请填写开始和结束时间")
        elif closes_at <= opens_at:
            problems.append("结束时间须晚于开始时间")
        problems += _group_problems(groups)
        option_rows = _options(options, problems)
        target_rows = _targets(target_kind, targets, problems)
        if excellent_cap is not None and not (1 <= excellent_cap <= MOST_TARGETS):
            problems.append("“优秀”名额上限须为正整数，不限则留空")
        if len(note or "") > 2000:
            problems.append("说明不超过 2000 个字")
        if problems:
            raise InvalidInput("；".join(problems), details=problems)
        survey = Survey(
            title=title, target_kind=target_kind, opens_at=opens_at, closes_at=closes_at,
            excellent_cap=excellent_cap, note=(note or "").strip(), created_by=actor.username,
            status=SurveyStatus.DRAFT.value,
        )  # fmt: skip
        for position, (name, weight, planned) in enumerate(groups):
            survey.groups.append(
                SurveyGroup(name=name.strip(), weight=Decimal(str(weight).strip()),
                            planned_codes=int(planned), position=position)
            )  # fmt: skip
        for position, (key, label, score) in enumerate(option_rows):
            survey.options.append(
                SurveyOption(key=key, label=label, score=score, position=position)
            )
        for position, row in enumerate(target_rows):
            survey.targets.append(SurveyTarget(position=position, **row))
        session.add(survey)
        session.flush()
        history.append(
            actor, "survey.create", "survey", str(survey.id),
            after={
                "title": title, "target_kind": target_kind,
                "opens_at": opens_at, "closes_at": closes_at, "excellent_cap": excellent_cap,
                "groups": [{"name": g.name, "weight": g.weight, "planned": g.planned_codes}
                           for g in survey.groups],
                "options": [{"key": o.key, "label": o.label, "score": o.score}
                            for o in survey.options],
                "targets": [t["name"] for t in target_rows],
            },
        )  # fmt: skip
        return survey


def _group_problems(groups) -> list[str]:
    problems: list[str] = []
    if not groups:
        return ["至少设一个测评人群体"]
    names = [str(name).strip() for name, _, _ in groups]
    if any(not n or len(n) > 32 for n in names):
        problems.append("群体名称不能为空，且不超过 32 个字")
    if len(set(names)) != len(names):
        problems.append("群体名称不能重复")
    total = Decimal(0)
    for name, weight, planned in groups:
        value = _decimal(weight, f"{name}的权重", problems)
        if value is not None:
            if not (0 < value <= 100):
                problems.append(f"{name}的权重须大于 0、不超过 100")
            total += value
        if not isinstance(planned, int) or not (0 <= planned <= MOST_CODES):
            problems.append(f"{name}的测评码数量须为 0 到 {MOST_CODES} 的整数")
    if not problems and total != 100:
        problems.append(f"各群体权重之和须恰为 100，现为 {counting.plain_text(total)}")
    return problems


def _options(options, problems: list[str]) -> list[tuple[str, str, Decimal]]:
    if options is None:
        return list(DEFAULT_OPTIONS)
    rows = []
    keys = [key for key, _, _ in options]
    if sorted(keys) != sorted(OPTION_KEYS):
        problems.append("评价等次须为优秀、称职、基本称职、不称职四档")
        return []
    for key, label, score in sorted(options, key=lambda o: OPTION_KEYS.index(o[0])):
        label = str(label).strip()
        if not label or len(label) > 16:
            problems.append("等次名称不能为空，且不超过 16 个字")
        value = _decimal(score, f"“{label}”的分值", problems)
        if value is not None and not (0 <= value <= 100):
            problems.append(f"“{label}”的分值须在 0 到 100 之间")
        rows.append((key, label, value))
    scores = [s for _, _, s in rows]
    if None not in scores and any(a <= b for a, b in zip(scores, scores[1:], strict=False)):
        problems.append("分值须从优秀到不称职依次降低")
    return rows


def _targets(kind: str, targets: list[dict], problems: list[str]) -> list[dict]:
    if not targets:
        problems.append("至少选择一个测评对象")
        return []
    if len(targets) > MOST_TARGETS:
        problems.append(f"测评对象不超过 {MOST_TARGETS} 个")
        return []
    rows, seen = [], set()
    for item in targets:
        report = str(item.get("report") or "").strip()
        if len(report) > 5000:
            problems.append("述职内容不超过 5000 个字")
        if kind == "cadre":
            cadre = item.get("cadre")
            if not isinstance(cadre, Cadre) or not cadre.active:
                problems.append("测评对象须为在职干部")
                continue
            key = ("cadre", cadre.id)
            row = {"cadre": cadre, "name": cadre.name, "position_title": cadre.position,
                   "report": report}  # fmt: skip
            if cadre.unit is not None:
                row["position_title"] = f"{cadre.unit.name} · {cadre.position}"[:64]
        else:
            unit = item.get("unit")
            if not isinstance(unit, Unit) or unit.level != "town":
                problems.append("领导班子测评的对象须为镇街")
                continue
            key = ("unit", unit.id)
            row = {"unit": unit, "name": f"{unit.name}领导班子", "position_title": unit.kind or "",
                   "report": report}  # fmt: skip
        if key in seen:
            problems.append(f"测评对象重复：{row['name']}")
            continue
        seen.add(key)
        rows.append(row)
    return rows


def set_report(actor, target: SurveyTarget, text: str) -> None:
    """Change a target's 述职 text (draft surveys only: every voter reads the same text)."""
    with writing(actor, "survey.write") as session:
        survey = session.get(Survey, target.survey_id, populate_existing=True)
        if survey.status != SurveyStatus.DRAFT:
            raise StateError("测评已发布，述职内容不能再改")
        text = (text or "").strip()
        if len(text) > 5000:
            raise InvalidInput("述职内容不超过 5000 个字")
        if text == target.report:
            return
        before = target.report
        target.report = text
        history.append(
            actor, "survey.report", "survey", str(survey.id),
            before={"target": target.name, "report": before},
            after={"target": target.name, "report": text},
        )  # fmt: skip


def publish(actor, survey: Survey) -> None:
    """Publish a draft survey: its targets, groups and options are fixed from now on."""
    step = SURVEY_WORKFLOW["publish"]
    with writing(actor, step.permission) as session:
        session.refresh(survey)
        if survey.status != step.source:
            raise StateError(
                f"只有草稿状态的测评可以发布（现为{SurveyStatus.label_of(survey.status)}）"
            )
        survey.status = step.target.value
        history.append(
            actor, "survey.publish", "survey", str(survey.id),
            before={"status": step.source.value}, after={"status": step.target.value},
        )  # fmt: skip


# --- codes ---------------------------------------------------------------------------


def _group_named(survey: Survey, name: str) -> SurveyGroup:
    for group in survey.groups:
        if group.name == (name or "").strip():
            return group
    names = "、".join(g.name for g in survey.groups)
    raise InvalidInput(f"本次测评没有“{name}”这个测评人群体（可选：{names}）")


def issue_codes(
    actor, survey: Survey, group_name: str, count: int,
    prepare: Callable[[SurveyGroup, list[str]], object] | None = None,
) -> tuple[list[str], object]:  # fmt: skip
    """Make ``count`` codes for one rater group; store their hashes only.

    ``prepare(group, codes)`` (the slips' PDF) runs before anything is stored and outside
    the write lock: when it fails, no code exists. Returns the codes and what ``prepare``
    made; the codes are shown this once and never again (docs/surveys.md#codes).
    """
    require(actor, "survey.write")
    if not isinstance(count, int) or not (1 <= count <= MOST_CODES):
        raise InvalidInput(f"一次生成的测评码数量须为 1 到 {MOST_CODES}")
    if survey.status == SurveyStatus.CLOSED:
        raise StateError("测评已结束，不能再生成测评码")
    group = _group_named(survey, group_name)
    fresh = codes.new_codes(count)
    made = prepare(group, fresh) if prepare is not None else None
    with writing(actor, "survey.write") as session:
        session.refresh(survey)
        if survey.status == SurveyStatus.CLOSED:
            raise StateError("测评已结束，不能再生成测评码")
        session.execute(
            insert(SurveyCode),
            [{"survey_id": survey.id, "group_id": group.id, "code_hash": codes.code_hash(c),
              "spent": False} for c in fresh],
        )  # fmt: skip
        history.append(
            actor, "survey.codes", "survey", str(survey.id),
            after={"group": group.name, "count": count},
        )  # fmt: skip
    return fresh, made


# --- voting ----------------------------------------------------------------------------


def _open_for_voting(survey: Survey, now: datetime) -> None:
    if survey.status == SurveyStatus.CLOSED or (
        survey.status == SurveyStatus.OPEN and now >= survey.closes_at
    ):
        raise VotingClosed(
            f"本次测评已于 {local_time(survey.closes_at, '%Y-%m-%d %H:%M')} 结束，不能再投票。"
        )
    if survey.status != SurveyStatus.OPEN or now < survey.opens_at:
        raise VotingClosed(f"本次测评尚未开始，投票时间为 {voting_window(survey)}。")


def look_up_code(code_text: str, *, address: str) -> tuple[Survey, SurveyGroup]:
    """The survey and rater group of an unspent code, for showing its ballot.

    Refuses an unknown code (counted against the address), a spent one, and a survey
    that is not taking votes now.
    """
    codes.refuse_if_throttled(address, None)
    code = codes.normalize_code(code_text)
    row = None
    if codes.well_formed(code):
        digest = codes.code_hash(code)
        row = db.session.scalar(select(SurveyCode).where(SurveyCode.code_hash == digest))
    if row is None:
        codes.count_wrong_code(address, None)
        raise UnknownCode()
    survey = db.session.get(Survey, row.survey_id)
    _open_for_voting(survey, utcnow())
    if row.spent:
        raise UsedCode()
    return survey, row.group


def ballot_problems(survey: Survey, choices: Mapping[str, str]) -> list[str]:
    """What is wrong with a ballot's ``choices`` (target id as text → option key)."""
    targets = {str(t.id): t for t in survey.targets}
    keys = {o.key for o in survey.options}
    problems = []
    forged = [k for k in choices if k not in targets]
    if forged:
        problems.append("选票含有不属于本次测评的对象，请重新打开选票填写。")
    if any(choices.get(k) not in keys for k in targets if k in choices):
        problems.append("选票含有无效的评价等次，请重新选择。")
    missing = [t.name for k, t in targets.items() if not choices.get(k)]
    if missing:
        problems.append("请对每个测评对象作出评价，尚未评价：" + "、".join(missing) + "。")
    excellent = sum(1 for k in targets if choices.get(k) == "excellent")
    if survey.excellent_cap is not None and excellent > survey.excellent_cap:
        label = next((o.label for o in survey.options if o.key == "excellent"), "优秀")
        cap = survey.excellent_cap
        problems.append(f"“{label}”最多只能评 {cap} 个，您评了 {excellent} 个，请减少后再提交。")
    return problems


def cast_ballot(
    code_text: str, choices: Mapping[str, str], *, address: str, survey_id=None
) -> None:
    """Cast one ballot with a code: spend the code and store the ballot in one transaction.

    The code is spent by ``UPDATE … WHERE spent = false`` and the ballot stored only when
    that changed exactly one row, so of any number of simultaneous submissions of one code
    exactly one is stored (docs/surveys.md#one-code-one-ballot). Any refusal leaves the
    code unspent and stores nothing. The stored ballot holds its survey, its rater group
    and its choices only; the history event names the survey and nothing else.
    """
    named = None
    if survey_id not in (None, ""):
        try:
            named = int(str(survey_id))
        except ValueError:
            named = None
    if named is not None and not (0 < named < 2**31 and db.session.get(Survey, named)):
        named = None  # a made-up survey counts against the site-wide allowance
    codes.refuse_if_throttled(address, named)
    code = codes.normalize_code(code_text)
    digest = codes.code_hash(code) if codes.well_formed(code) else None
    choices = {str(k): str(v) for k, v in choices.items()}
    try:
        with writing(VOTER) as session:
            row = None
            if digest is not None:
                row = session.scalar(select(SurveyCode).where(SurveyCode.code_hash == digest))
            if row is None or (named is not None and row.survey_id != named):
                raise UnknownCode()
            survey = session.get(Survey, row.survey_id, populate_existing=True)
            _open_for_voting(survey, utcnow())
            if row.spent:
                raise UsedCode()
            problems = ballot_problems(survey, choices)
            if problems:
                raise InvalidInput(problems[0], details=problems)
            spent = session.execute(
                update(SurveyCode)
                .where(SurveyCode.id == row.id, SurveyCode.spent.is_(False))
                .values(spent=True)
                .execution_options(synchronize_session=False)
            )
            if spent.rowcount != 1:
                raise UsedCode()
            session.execute(
                insert(SurveyBallot),
                [{"id": uuid.uuid4().hex, "survey_id": survey.id, "group_id": row.group_id,
                  "choices": dict(sorted(choices.items()))}],
            )  # fmt: skip
            history.append(VOTER, "survey.vote", "survey", str(survey.id))
    except UnknownCode:
        codes.count_wrong_code(address, named)
        raise


# --- closing and the tally ---------------------------------------------------------------


def tally(actor, survey: Survey) -> dict:
    """The survey's tally: for the supervisor, admin and auditor, once it is closed."""
    require(actor, "survey.tally")
    if survey.status != SurveyStatus.CLOSED:
        raise StateError("测评结束后才能查看计票结果")
    return counting.counted(survey)


def _rewrite(session, model, survey: Survey, order) -> None:
    """Write the survey's rows of ``model`` anew in the given order (one DELETE, one
    INSERT): PostgreSQL keeps a row where it was last written (``ctid``), so until then
    the ballots lie in the order they arrived and the spent codes in the order they were
    spent, the two orders side by side (docs/surveys.md#anonymity)."""
    columns = [column.key for column in model.__table__.columns]
    rows = [
        dict(zip(columns, row, strict=True))
        for row in session.execute(
            select(*[model.__table__.c[c] for c in columns])
            .where(model.survey_id == survey.id)
            .order_by(order)
        )
    ]
    if rows:
        session.execute(delete(model).where(model.survey_id == survey.id))
        session.execute(insert(model), rows)


def _record_detail(row: dict, result: dict) -> str:
    labels = {o["key"]: o["label"] for o in result["options"]}
    counts = "，".join(f"{labels[k]} {c} 票" for k, c in row["counts"].items())
    groups = "；".join(
        f"{g['name']}（权重 {g['weight']}）{g['ballots']} 票，平均 {g['mean'] or '—'} 分"
        for g in row["groups"]
    )
    return (
        f"综合得分 {row['score'] or '—'}；优秀率 {row['excellent_rate'] or '—'}%，"
        f"称职以上率 {row['competent_rate'] or '—'}%，不称职 {row['incompetent']} 票；"
        f"共 {row['ballots']} 票：{counts}。{groups}。"
    )


def close(actor, survey: Survey) -> dict:
    """Close a survey: no more votes; count the ballots; write each target's result to the
    cadre ledger as a 民主测评 record (a town's leadership: a record for each of the town's
    leaders). Returns the tally."""
    step = SURVEY_WORKFLOW["close"]
    with writing(actor, step.permission) as session:
        session.refresh(survey)
        if survey.status != step.source:
            raise StateError(
                f"只有已发布的测评可以结束（现为{SurveyStatus.label_of(survey.status)}）"
            )
        _rewrite(session, SurveyBallot, survey, SurveyBallot.id)  # random ids
        _rewrite(session, SurveyCode, survey, SurveyCode.id)  # the order of issue
        survey.status = step.target.value
        survey.closed_at = utcnow()
        session.flush()
        result = counting.counted(survey)
        today = datetime.now(SHANGHAI).date()
        written = 0
        for row, target in zip(result["targets"], survey.targets, strict=True):
            if target.cadre is not None:
                cadres = [target.cadre]
            else:
                cadres = [
                    c for c in session.scalars(
                        select(Cadre).where(Cadre.unit_id == target.unit_id).order_by(Cadre.id)
                    ) if town_leader_role(c)
                ]  # fmt: skip
            for cadre in cadres:
                title = f"民主测评：{survey.title}"
                if target.unit_id is not None:
                    title += "（领导班子）"
                records.create(
                    actor, CadreRecord,
                    {"cadre": cadre, "date": today, "orientation": "survey",
                     "title": title[:128], "detail": _record_detail(row, result),
                     "evaluation": "", "evidence": f"民主测评 #{survey.id}",
                     "recorded_by": actor.username},
                )  # fmt: skip
                written += 1
        history.append(
            actor, "survey.close", "survey", str(survey.id),
            before={"status": step.source.value},
            after={"status": step.target.value, "ballots": result["survey"]["ballots"],
                   "scores": {r["name"]: r["score"] for r in result["targets"]},
                   "cadre_records": written},
        )  # fmt: skip
        result["survey"]["status"] = survey.status
        return result

"""镇街报送 over the API (docs/reporting.md#api): claims, their evidence, a town's
submission and the assessors' verdicts, through ``reporting.operations`` with the same
role and state rules as the web.
"""

from __future__ import annotations

import json
from functools import wraps

from flask import g, jsonify, request
from sqlalchemy import select

from evaluation.api import bp, spec, token_required
from evaluation.api.periods import PATH_PARAMETERS, _period_or_404
from evaluation.api.schemas import (
    ERROR_TEXTS,
    ClaimChange,
    ClaimInfo,
    Claims,
    ClaimsQuery,
    ClaimsSubmitted,
    ClaimVerdict,
    DocumentedResponse,
    Error,
    EvidenceStored,
    answers,
)
from evaluation.core.permissions import reporter_unit
from evaluation.core.states import ClaimStatus
from evaluation.core.writing import Forbidden, NotFound
from evaluation.evidence import sniff
from evaluation.reporting import operations as reporting
from evaluation.reporting import pages
from models import Indicator, Period, Unit, db

#: What a reporter sees of its own town's assessed value: a verdict's, once given.
SETTLED = (ClaimStatus.ACCEPTED, ClaimStatus.ADJUSTED)


def _town(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code, Unit.level == "town"))
    if unit is None:
        raise NotFound(f"没有代码为 {code} 的镇街")
    return unit


def _indicator(period: Period, code: str) -> Indicator:
    indicator = db.session.scalar(
        select(Indicator).where(
            Indicator.scheme_id == period.town_scheme_id, Indicator.code == code
        )
    )
    if indicator is None:
        raise NotFound(f"本周期的镇街方案中没有指标 {code}")
    return indicator


def _claim_dict(unit: Unit, row: pages.Row, *, reporter: bool) -> dict:
    claim = row.claim
    assessed = row.assessed
    if reporter and claim.status not in SETTLED:
        assessed = None
    return {
        "unit": unit.code,
        "indicator": row.indicator.code,
        "value": claim.value,
        "statement": claim.statement,
        "status": claim.status,
        "version": claim.version,
        "evidence": [link.evidence.sha256 for link in row.links if link.active],
        "assessed_value": assessed,
        "verdict_reason": claim.verdict_reason,
    }


@bp.get("/periods/<code>/claims")
@token_required("claim.view")
@spec.validate(
    query=ClaimsQuery,
    resp=answers(Claims, "自评", 401, 403, 404, 422),
    path_parameter_descriptions=PATH_PARAMETERS,
    tags=["镇街报送"],
)
def period_claims(code: str):
    """周期的镇街自评（填报员只看到本镇街）"""
    period = _period_or_404(code)
    own = reporter_unit(g.api_user)
    wanted = request.args.get("unit")
    if wanted:
        unit = _town(wanted)
        if own is not None and unit.id != own:
            raise Forbidden("只能查看本镇街的自评")
        unit_ids = [unit.id]
    elif own is not None:
        unit_ids = [own]
    else:
        unit_ids = list(
            db.session.scalars(
                select(Unit.id)
                .where(Unit.level == "town", Unit.active)
                .order_by(Unit.sort_order, Unit.code)
            )
        )
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    rows = pages._rows(period, unit_ids, pages._indicators(period))
    return jsonify(
        [
            _claim_dict(units[unit_id], row, reporter=own is not None)
            for unit_id in unit_ids
            for row in rows.get(unit_id, [])
            if row.claim is not None
        ]
    )


@bp.put("/periods/<code>/claims/<unit_code>/<indicator:indicator_code>")
@token_required("claim.write")
@spec.validate(
    json=ClaimChange,
    resp=answers(ClaimInfo, "已保存", 401, 403, 404, 409, 422),
    path_parameter_descriptions=PATH_PARAMETERS,
    tags=["镇街报送"],
)
def put_claim(code: str, unit_code: str, indicator_code: str):
    """填写或修改本镇街一条自评（乐观锁：version）"""
    period = _period_or_404(code)
    unit = _town(unit_code)
    indicator = _indicator(period, indicator_code)
    # Read the body exactly: a JSON decimal as its own text, as the score PUT does.
    body = json.loads(request.get_data(as_text=True), parse_float=str)
    reporting.save_claim(
        g.api_user,
        period,
        unit,
        indicator,
        body["value"],
        body.get("statement") or "",
        version=body.get("version"),
    )
    row = pages._rows(period, [unit.id], [indicator])[unit.id][0]
    return jsonify(_claim_dict(unit, row, reporter=reporter_unit(g.api_user) is not None))


UPLOAD_ANSWERS = DocumentedResponse(
    HTTP_201=(EvidenceStored, "已保存并关联到这条自评"),
    **{f"HTTP_{c}": (Error, ERROR_TEXTS[c]) for c in (401, 403, 404, 409, 422)},
    HTTP_413=(Error, "文件超过大小上限，未保存"),
)


def _upload(code: str, unit_code: str, indicator_code: str):
    """为本镇街一条自评上传佐证材料（multipart/form-data，字段 file）"""
    period = _period_or_404(code)
    unit = _town(unit_code)
    indicator = _indicator(period, indicator_code)
    stored = reporting.attach_evidence(
        g.api_user, period, unit, indicator, request.files.get("file")
    )
    link_name = stored.original_name
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        link_name = sniff.clean_name(upload.filename, stored.media_type)
    return jsonify(
        {
            "sha256": stored.sha256,
            "size": stored.size,
            "media_type": stored.media_type,
            "name": link_name,
        }
    ), 201


#: Documented by spectree, not checked by it: its check takes JSON bodies only and would
#: read the file into memory (as ``api/evidence.py`` does for downloads).
_upload_documented = spec.validate(
    resp=UPLOAD_ANSWERS, path_parameter_descriptions=PATH_PARAMETERS, tags=["镇街报送"]
)(_upload)


@bp.post("/periods/<code>/claims/<unit_code>/<indicator:indicator_code>/evidence")
@token_required("claim.write")
@wraps(_upload_documented)
def post_claim_evidence(code: str, unit_code: str, indicator_code: str):
    return _upload(code, unit_code, indicator_code)


def _submit(code: str, unit_code: str):
    """报送本镇街全部草稿自评（缺少须附的佐证材料时答 422 并列出指标）"""
    period = _period_or_404(code)
    unit = _town(unit_code)
    sent = reporting.submit_town(g.api_user, period, unit)
    return jsonify({"unit": unit.code, "submitted": [c.indicator.code for c in sent]})


_submit_documented = spec.validate(
    resp=answers(ClaimsSubmitted, "已报送", 401, 403, 404, 409, 422),
    path_parameter_descriptions=PATH_PARAMETERS,
    tags=["镇街报送"],
)(_submit)


@bp.post("/periods/<code>/claims/<unit_code>/submit")
@token_required("claim.write")
@wraps(_submit_documented)
def submit_claims(code: str, unit_code: str):
    # No body: spectree's JSON check is left out, its document kept.
    return _submit(code, unit_code)


@bp.post("/periods/<code>/claims/<unit_code>/<indicator:indicator_code>/verdict")
@token_required("claim.verify")
@spec.validate(
    json=ClaimVerdict,
    resp=answers(ClaimInfo, "已认定", 401, 403, 404, 409, 422),
    path_parameter_descriptions=PATH_PARAMETERS,
    tags=["镇街报送"],
)
def claim_verdict(code: str, unit_code: str, indicator_code: str):
    """考核组认定一条已报送的自评：采纳、调整（核定值与理由）或退回补充（理由）"""
    period = _period_or_404(code)
    unit = _town(unit_code)
    indicator = _indicator(period, indicator_code)
    body = json.loads(request.get_data(as_text=True), parse_float=str)
    reporting.verdict(
        g.api_user,
        period,
        unit,
        indicator,
        body["decision"],
        value=body.get("value"),
        reason=body.get("reason") or "",
    )
    row = pages._rows(period, [unit.id], [indicator])[unit.id][0]
    return jsonify(_claim_dict(unit, row, reporter=False))

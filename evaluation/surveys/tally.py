"""The 民主测评 tally (docs/surveys.md#tally): counts, means and the weighted score, exact
(fractions) and rounded half up to 0.01 once at the end; and the turnout per rater group."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, select

from evaluation.core.numbers import plain as plain_text
from evaluation.i18n import local_time
from models import Survey, SurveyBallot, SurveyCode, db


def turnout(survey: Survey) -> list[dict]:
    """Per rater group: codes issued, codes spent (= ballots cast), planned."""
    issued = dict(
        db.session.execute(
            select(SurveyCode.group_id, func.count())
            .where(SurveyCode.survey_id == survey.id)
            .group_by(SurveyCode.group_id)
        ).all()
    )
    spent = dict(
        db.session.execute(
            select(SurveyCode.group_id, func.count())
            .where(SurveyCode.survey_id == survey.id, SurveyCode.spent)
            .group_by(SurveyCode.group_id)
        ).all()
    )
    return [
        {"name": g.name, "weight": plain_text(g.weight), "planned": g.planned_codes,
         "issued": issued.get(g.id, 0), "spent": spent.get(g.id, 0)}
        for g in survey.groups
    ]  # fmt: skip


_CENT = Decimal("0.01")


def _round(value: Fraction) -> str:
    """A non-negative exact fraction rounded half up to two decimals, as text."""
    cents = math.floor(value * 100 + Fraction(1, 2))
    return format(Decimal(cents).scaleb(-2).quantize(_CENT), "f")


def tally_rows(targets, groups, options, ballots) -> list[dict]:
    """Count the ballots (docs/surveys.md#tally), exactly (fractions), rounded once at the end.

    ``targets``: [(id, name)], ``groups``: [(id, name, weight)], ``options``: [(key, label,
    score)], ``ballots``: [(group_id, {target id text: option key})]. Per target and group:
    the count per option and the mean score; the weighted score Σ weight/100 × group mean
    (over the groups that cast ballots, their weights scaled to add up to 100 when one cast
    none); 优秀率 and 称职以上率 in percent; the 不称职 count.
    """
    score_of = {key: Fraction(str(score)) for key, _, score in options}
    rows = []
    for target_id, name in targets:
        key = str(target_id)
        per_group = []
        total_counts = dict.fromkeys(score_of, 0)
        weighted, weight_used = Fraction(0), Fraction(0)
        for group_id, group_name, weight in groups:
            counts = dict.fromkeys(score_of, 0)
            for ballot_group, choices in ballots:
                if ballot_group == group_id and choices.get(key) in counts:
                    counts[choices[key]] += 1
            n = sum(counts.values())
            mean = sum((score_of[k] * c for k, c in counts.items()), Fraction(0)) / n if n else None
            if mean is not None:
                weighted += Fraction(str(weight)) * mean
                weight_used += Fraction(str(weight))
            for k, c in counts.items():
                total_counts[k] += c
            per_group.append(
                {"name": group_name, "weight": plain_text(Decimal(str(weight))), "ballots": n,
                 "counts": counts, "mean": None if mean is None else _round(mean)}
            )  # fmt: skip
        n = sum(total_counts.values())
        rows.append(
            {
                "id": target_id, "name": name, "ballots": n, "counts": total_counts,
                "groups": per_group,
                "score": _round(weighted / weight_used) if weight_used else None,
                "excellent_rate": _round(Fraction(100 * total_counts.get("excellent", 0), n))
                if n else None,
                "competent_rate": _round(Fraction(
                    100 * (total_counts.get("excellent", 0) + total_counts.get("competent", 0)), n
                )) if n else None,
                "incompetent": total_counts.get("incompetent", 0),
            }
        )  # fmt: skip
    return rows


def counted(survey: Survey) -> dict:
    ballots = [
        (group_id, choices)
        for group_id, choices in db.session.execute(
            select(SurveyBallot.group_id, SurveyBallot.choices).where(
                SurveyBallot.survey_id == survey.id
            )
        )
    ]
    rows = tally_rows(
        [(t.id, t.name) for t in survey.targets],
        [(g.id, g.name, g.weight) for g in survey.groups],
        [(o.key, o.label, o.score) for o in survey.options],
        ballots,
    )
    for row, target in zip(rows, survey.targets, strict=True):
        row["position"] = target.position_title
    return {
        "survey": {
            "id": survey.id, "title": survey.title, "status": survey.status,
            "target_kind": survey.target_kind,
            "opens_at": local_time(survey.opens_at), "closes_at": local_time(survey.closes_at),
            "closed_at": local_time(survey.closed_at), "excellent_cap": survey.excellent_cap,
            "ballots": len(ballots),
        },
        "options": [{"key": o.key, "label": o.label, "score": plain_text(o.score)}
                    for o in survey.options],
        "groups": turnout(survey),
        "targets": rows,
    }  # fmt: skip

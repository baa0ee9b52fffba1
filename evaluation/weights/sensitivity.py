"""Method sensitivity (docs/weights.md#method-sensitivity): a period ranked again under the
other defensible method choices — each target indicator scored relatively instead (and all
of them at once), and the bonus cap lifted — with each unit's rank range across them and
the choice that moves it most. Reads only; nothing is written.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from evaluation.ranking import reading
from models import Period

__all__ = ["Choice", "Sensitivity", "method_sensitivity"]

#: More target indicators than this: only "all of them at once" is tried, not each alone.
EACH_TARGET_LIMIT = 8


@dataclass(frozen=True)
class Choice:
    key: str
    label: str


@dataclass
class Sensitivity:
    period: Period
    level: str
    choices: list[Choice]
    #: Per unit: code, name, rank, ranks (one per choice), low, high, worst (the choice
    #: that moves it most, or None), shift (its move, + up / − down).
    rows: list[dict]


def _relative(indicator: dict) -> None:
    indicator["method"] = "relative"
    indicator["target"] = None
    indicator["floor"] = None


def _alternatives(document: dict) -> list[tuple[Choice, dict]]:
    scheme = document["scheme"]
    targets = [
        i["code"] for d in scheme["dimensions"] for i in d["indicators"] if i["method"] == "target"
    ]
    answer = []

    def variant(change) -> dict:
        other = copy.copy(document)
        other["scheme"] = copy.deepcopy(scheme)
        change(other["scheme"])
        return other

    def to_relative(codes):
        def change(changed):
            for dimension in changed["dimensions"]:
                for indicator in dimension["indicators"]:
                    if indicator["code"] in codes:
                        _relative(indicator)

        return change

    if targets:
        if len(targets) <= EACH_TARGET_LIMIT:
            for code in targets:
                answer.append(
                    (
                        Choice(f"relative:{code}", f"{code} 改为横向比较"),
                        variant(to_relative({code})),
                    )
                )
        if len(targets) > 1:
            answer.append(
                (
                    Choice("relative:all", "目标完成率指标全部改为横向比较"),
                    variant(to_relative(set(targets))),
                )
            )
    if scheme.get("bonus_cap") is not None:

        def no_cap(changed):
            changed["bonus_cap"] = None

        answer.append((Choice("bonus_cap:off", "取消加分上限"), variant(no_cap)))
    return answer


def method_sensitivity(period: Period, level: str = "town") -> Sensitivity:
    """Rank ``period`` under each alternative method choice beside its ranking."""
    now = reading.ranking(period, level)["results"]
    document = reading.engine_input(period, level)
    document.pop("sensitivity", None)
    alternatives = _alternatives(document)
    ranks_by_choice = []
    for _, changed in alternatives:
        results = reading.compute(changed)["results"]
        ranks_by_choice.append({r["unit"]: r["rank"] for r in results})
    rows = []
    for result in now:
        ranks = [ranks.get(result["unit"]) for ranks in ranks_by_choice]
        every = [result["rank"], *[r for r in ranks if r is not None]]
        worst, shift = None, 0
        for choice, rank in zip(alternatives, ranks, strict=True):
            if rank is not None and abs(result["rank"] - rank) > abs(shift):
                worst, shift = choice[0], result["rank"] - rank
        rows.append({
            "unit": result["unit"], "name": result["name"], "rank": result["rank"],
            "ranks": ranks, "low": min(every), "high": max(every),
            "worst": worst, "shift": shift,
        })  # fmt: skip
    return Sensitivity(period, level, [choice for choice, _ in alternatives], rows)

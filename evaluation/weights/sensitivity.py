"""Method sensitivity (docs/weights.md#method-sensitivity): a period ranked again under the
other defensible method choices — each target indicator scored relatively instead (and all
of them at once), and the bonus cap lifted — with each unit's rank range across them and
the choice that moves it most. Reads only; nothing is written.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from flask_babel import gettext as _

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

    @property
    def by_unit(self) -> dict[str, dict]:
        """The rows by unit code (the ranking page shows them beside its own rows)."""
        return {row["unit"]: row for row in self.rows}

    def summary(self) -> list[tuple[Choice, int, int]]:
        """Each choice with how many units it moves most and its largest move, the choice
        that moves most units first."""
        counts = {choice.key: 0 for choice in self.choices}
        largest = {choice.key: 0 for choice in self.choices}
        for row in self.rows:
            if row["worst"] is not None:
                counts[row["worst"].key] += 1
            for choice, rank in zip(self.choices, row["ranks"], strict=True):
                if rank is not None:
                    largest[choice.key] = max(largest[choice.key], abs(row["rank"] - rank))
        answer = [(choice, counts[choice.key], largest[choice.key]) for choice in self.choices]
        return sorted(answer, key=lambda item: (-item[1], -item[2]))


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
                        Choice(f"relative:{code}", _("%(code)s 改为横向比较", code=code)),
                        variant(to_relative({code})),
                    )
                )
        if len(targets) > 1:
            answer.append(
                (
                    Choice("relative:all", _("目标完成率指标全部改为横向比较")),
                    variant(to_relative(set(targets))),
                )
            )
    if scheme.get("bonus_cap") is not None:

        def no_cap(changed):
            changed["bonus_cap"] = None

        answer.append((Choice("bonus_cap:off", _("取消加分上限")), variant(no_cap)))
    return answer


def method_sensitivity(
    period: Period, level: str = "town", now: list[dict] | None = None
) -> Sensitivity:
    """Rank ``period`` under each alternative method choice beside its ranking.

    ``now``: the period's ranking results when the caller has them already (the ranking
    page's interval run), else they are read.
    """
    if now is None:
        now = reading.ranking(period, level)["results"]
    document = reading.engine_input(period, level)
    document.pop("sensitivity", None)
    alternatives = _alternatives(document)
    ranks_by_choice = []
    for _choice, changed in alternatives:
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

"""The district demo's 年度综合考评 (docs/demo.md, docs/annual.md): 2026Y over the two
approved periods, with grade quotas and a tie across a quota boundary.

The seeder's values are drawn at random, so the tie is arranged, not hoped for: before
the later period is approved, the unit just below the quota line gets the smallest
bonus (a real 加分 item, through the scores room's operations) that brings its annual
total level with the last unit above the line. The tie group then crosses the line and
goes down whole.
"""

from __future__ import annotations

from decimal import Decimal

from evaluation.annual import operations
from evaluation.ranking import reading
from evaluation.scores import operations as ledger
from evaluation.scoring import annual as rules
from evaluation.scoring.amounts import CENT, q

CODE = "2026Y"
NAME = "2026年度综合考评"
#: (period code, weight): the two periods the demo approves.
SOURCES = (("2025Q4", "40"), ("2026Q1", "60"))
#: Band → percent: 好 at most 20 %, 较好 at most 30 % of the towns.
QUOTAS = {"好": "20", "较好": "30"}
BONUS_REASON = "年度重点工作获市委督查室通报表扬"


def _sources(periods: dict) -> list[dict]:
    return [
        {"code": code, "weight": Decimal(weight),
         "results": reading.ranking(periods[code], "town")["results"]}
        for code, weight in SOURCES
    ]  # fmt: skip


def arrange_boundary_tie(assessor, periods: dict, scheme, towns: dict) -> None:
    """Give the first town below a quota line the bonus that ties it with the last above.

    Call while the last source period is open, its values entered. ``periods``: code →
    Period; ``towns``: name → Unit.
    """
    bands = operations.bands_of(scheme)
    quotas = {band: Decimal(p) for band, p in QUOTAS.items()}
    units = [(u.code, u.name) for u in reading.level_units("town")]
    sources = _sources(periods)
    rows = rules.combine(units, sources, bands, scheme.tie_method)
    _, notes = rules.apply_quotas(rows, bands, quotas)
    if not notes or notes[0]["tie"]:
        return  # no line crossed, or a tie across it already
    first_below = notes[0]["lowered"][0]
    last_above, below = rows[first_below - 1], rows[first_below]
    # The later period's weight moves the annual total by weight/100 per point of bonus.
    code, weight = SOURCES[-1]
    others = sum(
        (Decimal(w) * below["parts"][c] for c, w in SOURCES[:-1] if below["parts"][c] is not None),
        Decimal(0),
    )
    later = below["parts"][code]
    bonus = CENT
    while q((others + Decimal(weight) * (later + bonus)) / 100) < last_above["total"]:
        bonus += CENT
    if q((others + Decimal(weight) * (later + bonus)) / 100) != last_above["total"]:
        return  # not reachable in whole cents: leave the demo without the tie
    unit = next(u for u in towns.values() if u.code == below["unit"])
    ledger.add_adjustment(assessor, periods[code], unit, "bonus", bonus, BONUS_REASON)


def create(admin, periods: dict, scheme) -> None:
    """Define 2026Y over the approved periods, with its quotas."""
    operations.create_annual(
        admin, code=CODE, name=NAME, scheme=scheme,
        sources=[(periods[code], weight) for code, weight in SOURCES], quotas=dict(QUOTAS),
    )  # fmt: skip

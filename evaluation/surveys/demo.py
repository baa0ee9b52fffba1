"""The district demo's 民主测评 (docs/demo.md, docs/surveys.md#demo): one closed survey of
the first four towns' leaders with its ballots, tally and cadre-ledger records, and one
open survey of five towns' leadership (班子) whose codes are printed on slips in the
instance folder by ``flask seed-demo``.

Ballots are cast through ``operations.cast_ballot`` with codes made like any others; the
choices are drawn from the seeder's random generator, each target with its own leaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from evaluation.surveys import operations
from models.cadres import town_leader_role
from models.types import utcnow

CLOSED_TITLE = "2026年度镇街党政正职民主测评"
OPEN_TITLE = "2026年度镇街领导班子民主测评"
SLIPS_FILE = "demo-survey-slips.pdf"
CODES_FILE = "demo-survey-codes.txt"
#: (group, weight, codes made, ballots cast) of the closed survey.
CLOSED_GROUPS = (("班子成员", "40", 8, 8), ("中层干部", "30", 12, 11), ("群众代表", "30", 20, 17))
#: (group, weight, codes) of the open survey; every code stays unused.
OPEN_GROUPS = (("班子成员", "40", 5), ("中层干部", "30", 5), ("群众代表", "30", 10))
OPTIONS = ("excellent", "competent", "basic", "incompetent")


@dataclass
class DemoSlips:
    """The open survey's unused codes, for ``flask seed-demo`` to print."""

    survey_id: int = 0
    codes: dict[str, list[str]] = field(default_factory=dict)


def _report(name: str, position: str) -> str:
    return (
        f"{name}同志任{position}以来，牵头推进百千万工程年度重点任务，"
        "抓项目建设和招商引资，推动典型村培育创建；"
        "存在的不足：统筹城乡融合发展的办法还不多，下一步将补齐短板。"
    )


def _team_report(town: str) -> str:
    return (
        f"{town}领导班子一年来坚持党建引领，推进百千万工程，镇域经济、城乡融合、乡村振兴"
        "三大方面任务总体完成；存在的不足：典型村培育进度不均衡，下一步将挂图作战、逐村推进。"
    )


def _choice(rng, leaning: float, room_left: bool) -> str:
    """One vote for a target whose leaning (0..1) says how well raters judge it."""
    draw = rng.random()
    if draw < leaning * 0.55 and room_left:
        return "excellent"
    if draw < 0.9:
        return "competent"
    if draw < 0.98:
        return "basic"
    return "incompetent"


def create(admin, towns: dict, town_cadres: dict, rng) -> DemoSlips:
    """Seed both surveys (inside the seeder's transaction); return the open one's codes."""
    leaders = [
        cadre for name in list(towns)[:4] for cadre in town_cadres[name] if town_leader_role(cadre)
    ]
    now = utcnow()
    closed = operations.create_survey(
        admin, title=CLOSED_TITLE, target_kind="cadre",
        opens_at=now - timedelta(days=10), closes_at=now + timedelta(days=1),
        groups=[(g, w, n) for g, w, n, _ in CLOSED_GROUPS],
        targets=[{"cadre": c, "report": _report(c.name, c.position)} for c in leaders],
        excellent_cap=3, note="请根据测评对象一年来的德、能、勤、绩、廉表现，实事求是地评价。",
    )  # fmt: skip
    operations.publish(admin, closed)
    leanings = {t.id: 0.35 + 0.6 * rng.random() for t in closed.targets}
    for group, _, made, cast in CLOSED_GROUPS:
        codes, _ = operations.issue_codes(admin, closed, group, made)
        for code in codes[:cast]:
            choices, excellent = {}, 0
            for target in closed.targets:
                option = _choice(rng, leanings[target.id], excellent < closed.excellent_cap)
                excellent += option == "excellent"
                choices[str(target.id)] = option
            operations.cast_ballot(code, choices, address="demo-seed")
    operations.close(admin, closed)

    opened = operations.create_survey(
        admin, title=OPEN_TITLE, target_kind="leadership",
        opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=14),
        groups=list(OPEN_GROUPS),
        targets=[{"unit": unit, "report": _team_report(name)}
                 for name, unit in list(towns.items())[:5]],
        excellent_cap=2,
    )  # fmt: skip
    operations.publish(admin, opened)
    slips = DemoSlips(survey_id=opened.id)
    for group, _, made in OPEN_GROUPS:
        slips.codes[group], _ = operations.issue_codes(admin, opened, group, made)
    return slips


def print_slips(instance: str, slips: DemoSlips, base: str) -> tuple[Path, Path | None]:
    """Write the open survey's codes (readable by the owner only) and their slips (PDF)
    to the instance folder; the PDF is None when Chromium cannot print it."""
    import os

    from evaluation.core.writing import ServiceError
    from evaluation.surveys import slips as printing
    from models import Survey, db

    folder = Path(instance)
    folder.mkdir(parents=True, exist_ok=True)
    listing = folder / CODES_FILE
    fd = os.open(listing, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for group, codes in slips.codes.items():
            for code in codes:
                handle.write(f"{group} {code} {printing.vote_link(base, code)}\n")
    survey = db.session.get(Survey, slips.survey_id)
    html = []
    for group in survey.groups:
        html.append(printing.slips_html(survey, group, slips.codes[group.name], base))
    try:
        content = printing.pdf.html_to_pdf(_joined(html))
    except ServiceError:
        return listing, None
    path = folder / SLIPS_FILE
    path.write_bytes(content)
    return listing, path


def _joined(documents: list[str]) -> str:
    """Several slip sheets as one document (each group starts on a new page)."""
    head, _, _ = documents[0].partition("<body>")
    bodies = [d.partition("<body>")[2].rpartition("</body>")[0] for d in documents]
    return head + "<body>" + "".join(bodies) + "</body></html>"

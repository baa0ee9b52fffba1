"""The annual 通报 (docs/annual.md#notice): the quarterly notice's builder
(``evaluation.reports.documents.notice_docx``) with the annual figures.

The columns between 镇街 and 总分 are the source periods' totals; the quota notes and
calibrations follow the table; the footer carries each source snapshot's SHA-256 and the
SHA-256 of the annual result itself.
"""

from __future__ import annotations

import hashlib

from flask_babel import force_locale

from evaluation.annual import operations


def notice_data(actor, annual) -> dict:
    """What the annual 通报 says, in the shape ``documents.notice_docx`` reads."""
    from evaluation.i18n import local_time
    from evaluation.ranking.reading import canonical_json
    from evaluation.ranking.workbook import issuing_body
    from evaluation.reports.operations import _chinese_date
    from models.types import utcnow

    with force_locale("zh_CN"):  # the 通报 is a Chinese document whatever the reader's language
        answer = operations.ranking(actor, annual)
    rows = [
        {
            "rank": r["rank"], "unit": r["unit"], "name": r["name"], "vetoed": r["vetoed"],
            "figures": [r["parts"][s["period"]] or "—" for s in answer["sources"]],
            "total": r["total"], "grade": r["grade"],
        }
        for r in answer["results"]
    ]  # fmt: skip
    counts = [(band, sum(1 for row in rows if row["grade"] == band)) for band in answer["bands"]]
    notes = list(answer["notes"])
    for r in answer["results"]:
        calibration = r["calibration"]
        if calibration is not None and calibration["grade"] != r["quota_grade"]:
            notes.append(
                f"{r['name']}等次由“{r['quota_grade']}”校准为“{r['grade']}”，"
                f"理由：{calibration['reason']}。"
            )
    digest = hashlib.sha256(canonical_json(answer).encode("utf-8")).hexdigest()
    weights = "，".join(f"{s['name']} {s['weight']}%" for s in answer["sources"])
    sources = "；".join(f"{code} {h}" for code, h in answer["hashes"].items())
    bands = operations.bands_of(annual.scheme)
    return {
        "period": annual.code,
        "period_name": annual.name,
        "title": f"关于{annual.name}镇街“担当作为”考核结果的通报",
        "opening": f"　　{annual.name}已经完成。年度总分按各期考核结果加权计算（{weights}），"
        "等次按名额限制确定，现将结果通报如下。",
        "issuing_body": issuing_body(),
        "date": _chinese_date(local_time(utcnow(), "%Y-%m-%d")),
        "dimensions": [],
        "columns": [f"{s['name']}（权重 {s['weight']}）" for s in answer["sources"]],
        "rows": rows,
        "notes": notes,
        "grade_counts": counts,
        "bands": [(band.name, band.min) for band in bands],
        "snapshot_hash": digest,
        "footer": f"{annual.code} 年度结果 SHA-256：{digest} · 各期审定快照：{sources}",
    }

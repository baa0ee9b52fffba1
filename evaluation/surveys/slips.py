"""The slips of a survey's codes (docs/surveys.md#slips): an A4 PDF of cut-out slips, each
with its code, its QR code (segno) and the voting address, printed by the reports room's
headless Chromium (``reports/pdf.py``).

One CSS grid per page (ten slips): one grid over every page made Chromium's layout slow.
"""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from flask import render_template

from evaluation.reports import pdf
from evaluation.surveys.operations import shown_code

SLIPS_PER_PAGE = 10


def vote_link(base: str, code: str) -> str:
    """The slip's address: the voting page with the code filled in."""
    return f"{base.rstrip('/')}?{urlencode({'code': code})}"


def slips_html(survey, group, codes: list[str], base: str) -> str:
    slips = [
        {
            "code": shown_code(code),
            "link": vote_link(base, code),
            "qr": segno.make(vote_link(base, code), error="m").svg_data_uri(scale=3, border=2),
        }
        for code in codes
    ]
    pages = [slips[i : i + SLIPS_PER_PAGE] for i in range(0, len(slips), SLIPS_PER_PAGE)]
    return render_template(
        "surveys/slips_print.html", survey=survey, group=group, pages=pages, base=base
    )


def slips_pdf(survey, group, codes: list[str], base: str) -> bytes:
    """The slips of ``codes`` as an A4 PDF."""
    return pdf.html_to_pdf(slips_html(survey, group, codes, base))


def slips_filename(survey, group) -> str:
    return f"民主测评选票-{survey.id}-{group.name}.pdf"

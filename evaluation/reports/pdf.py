"""PDF of the reports (docs/reports.md#pdf): an HTML print sheet printed by headless Chromium.

Chromium (``/usr/bin/chromium``, the browser the browser tests already use) lays out the
1,609-row 通报 of a province in about 5 s where WeasyPrint took 11–15 s; the CJK font
(WenQuanYi Micro Hei) is named in the sheet's CSS and embedded in the PDF.

Each call gets its own temporary directory and browser profile (two prints never share
one), a time limit, and its whole process group killed on a timeout. The sheet is the
project's own template (autoescaped) with a Content-Security-Policy that loads nothing
but inline styles and ``data:`` images.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess  # nosec B404  # runs the configured Chromium with a fixed argument list
import tempfile
from pathlib import Path

from flask import current_app, render_template
from markupsafe import Markup

from evaluation.core.writing import ServiceError

CHROMIUM = "/usr/bin/chromium"
PDF_TYPE = "application/pdf"


class PdfFailed(ServiceError):
    """Chromium did not make the PDF (missing, timed out, or failed)."""

    status = 503


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI for an ``<img>`` of a print sheet."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string for the sheet's ``<style>`` (where HTML escapes do not
    apply): backslash, quote, line breaks and ``<`` (no ``</style>``) escaped the CSS way."""
    escaped = "".join(
        f"\\{ord(c):x} " if c in '\\"<>\n\r' or ord(c) < 32 else c for c in text
    )
    return Markup(f'"{escaped}"')  # nosec B704  # every character that could end it is escaped


def html_to_pdf(html: str, *, timeout: float | None = None) -> bytes:
    """Print ``html`` (a whole A4 document) to PDF with headless Chromium."""
    binary = current_app.config.get("CHROMIUM_PATH") or CHROMIUM
    limit = timeout or current_app.config.get("PDF_TIMEOUT", 120)
    if not os.access(binary, os.X_OK):
        raise PdfFailed(f"未找到 Chromium（{binary}），无法生成 PDF")
    with tempfile.TemporaryDirectory(prefix="report-pdf-") as work:
        source = Path(work, "sheet.html")
        source.write_text(html, encoding="utf-8")
        target = Path(work, "sheet.pdf")
        command = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--no-pdf-header-footer",
            f"--user-data-dir={Path(work, 'profile')}", f"--print-to-pdf={target}",
            source.as_uri(),
        ]  # fmt: skip
        process = subprocess.Popen(  # nosec B603  # fixed arguments, no shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _, errors = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the browser and its helpers
            process.communicate()
            raise PdfFailed(f"生成 PDF 超时（{limit} 秒）") from None
        if process.returncode or not target.exists() or target.stat().st_size == 0:
            tail = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise PdfFailed(f"Chromium 未能生成 PDF（退出码 {process.returncode}）：{tail[0]}")
        return target.read_bytes()


def notice_pdf(notice: dict) -> bytes:
    """The 通报 (docs/reports.md#notice) as a PDF: the same data as the DOCX."""
    from evaluation.reports.charts import MOST_BARS, grade_count_chart, totals_chart

    rows = notice["rows"]
    if len(rows) <= MOST_BARS:
        chart = totals_chart(
            [r["name"] for r in rows], [r["total"] for r in rows], [r["grade"] for r in rows],
            notice["bands"],
        )  # fmt: skip
        caption = "图：各镇街总分（颜色为等次，虚线为等次分数线）"
    else:
        chart = grade_count_chart(notice["grade_counts"])
        caption = "图：各等次镇街数"
    html = render_template(
        "reports/notice_print.html",
        notice=notice,
        chart=data_uri(chart),
        caption=caption,
        footer=css_string(
            notice.get("footer")
            or f"{notice['period']} 排名快照 SHA-256：{notice['snapshot_hash'] or '—'}"
        ),
    )
    return html_to_pdf(html)


def notice_pdf_filename(notice: dict) -> str:
    return f"{notice['period_name']}镇街担当作为考核结果通报-{notice['period']}.pdf"


def town_report_pdf(report: dict) -> bytes:
    """One town's report (docs/reports.md) as a PDF: the same figures as the page and DOCX."""
    from evaluation.reports.charts import share_chart
    from evaluation.reports.documents import town_report_title
    from evaluation.reports.operations import REASON_TEXTS, document_view

    view = document_view(report)
    stamp = f"{report['period']} · {report['unit']}"
    if report["snapshot_hash"]:
        stamp += f" · 排名快照 SHA-256：{report['snapshot_hash']}"
    chart = view["chart"]
    picture = share_chart(chart["labels"], chart["town"], chart["average"], chart["town_name"])
    html = render_template(
        "reports/town_print.html",
        report=report,
        view=view,
        reasons=REASON_TEXTS,
        title=town_report_title(report),
        chart=data_uri(picture),
        footer=css_string(stamp),
    )
    return html_to_pdf(html)


def town_report_pdf_filename(report: dict) -> str:
    from evaluation.reports.documents import town_report_filename

    return town_report_filename(report).removesuffix(".docx") + ".pdf"

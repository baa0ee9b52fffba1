"""Word documents of the reports (docs/reports.md#doors), made with python-docx.

A4, every run in one CJK font (``w:eastAsia`` set explicitly: the default template's
theme would put Chinese text in 宋体 in Word), the snapshot's SHA-256 in the footer when
the period is approved, and a clear 未审定 mark when it is not.
"""

from __future__ import annotations

import copy
import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from evaluation.i18n import local_time
from evaluation.reports.operations import document_view
from models.types import utcnow

FONT = "WenQuanYi Micro Hei"
_THEME_ATTRIBUTES = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def _zh(run, size: float | None = None, bold: bool | None = None):
    """Put a run in the CJK font (Latin and East Asian alike)."""
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    return run


def new_document() -> Document:
    """An empty A4 document whose styles use the CJK font."""
    document = Document()
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        style = document.styles[name]
        style.font.name = FONT
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), FONT)
        for attribute in _THEME_ATTRIBUTES:
            fonts.attrib.pop(qn(attribute), None)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(25)
    section.left_margin = section.right_margin = Mm(20)
    return document


def paragraph(document, text: str, *, size: float = 11, bold: bool = False, center=False):
    para = document.add_paragraph()
    if center:
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _zh(para.add_run(text), size, bold)
    return para


def heading(document, text: str, level: int = 1):
    _zh(document.add_heading(level=level).add_run(text), 14 if level == 1 else 12, True)


def _cell_styles(document, size: float) -> tuple:
    """The paragraph styles of table cells at ``size`` points: text, and numbers (right)."""
    from docx.enum.style import WD_STYLE_TYPE

    found = []
    for suffix, right in (("文字", False), ("数字", True)):
        name = f"表格{suffix} {size:g}"
        try:
            style = document.styles[name]
        except KeyError:
            style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = document.styles["Normal"]
            style.font.size = Pt(size)
            style.paragraph_format.space_after = Pt(0)
            if right:
                style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        found.append(style)
    return tuple(found)


def table(document, rows: list[list[str]], *, numeric: set[int] = frozenset(), size=9.5):
    """A grid table; the first row is the header; columns in ``numeric`` align right.

    The header and one model data row are made by python-docx; every data row is a copy
    of the model row (lxml's deepcopy) with its texts set, so a province table of 15,000
    cells takes a fraction of a second instead of seconds of element-by-element work.
    """
    grid = document.add_table(rows=2 if len(rows) > 1 else 1, cols=len(rows[0]))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = OxmlElement("w:tblHeader")  # the header row repeats on every page
    header.set(qn("w:val"), "true")
    grid.rows[0]._tr.get_or_add_trPr().append(header)
    text_style, number_style = _cell_styles(document, size)
    for c, cell in enumerate(grid.rows[0].cells):
        para = cell.paragraphs[0]
        para.style = text_style
        para.add_run(rows[0][c]).font.bold = True
    if len(rows) == 1:
        return grid
    model = grid.rows[1]
    for c, cell in enumerate(model.cells):
        para = cell.paragraphs[0]
        para.style = number_style if c in numeric else text_style
        para.add_run("·")  # a w:t in every cell, whose text each copy replaces
    model_tr = model._tr
    tbl = grid._tbl
    text_tag, space = qn("w:t"), qn("xml:space")
    for row in rows[1:]:
        tr = copy.deepcopy(model_tr)
        for t, text in zip(tr.iter(text_tag), row, strict=True):
            t.text = text
            if text != text.strip():
                t.set(space, "preserve")
        tbl.append(tr)
    tbl.remove(model_tr)
    return grid


def footer(document, text: str) -> None:
    _zh(document.sections[0].footer.paragraphs[0].add_run(text), 7.5)


def saved(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _signed(amount: str) -> str:
    return amount if amount.startswith("-") or amount == "0.00" else f"+{amount}"


def town_report_title(report: dict) -> str:
    return f"{report['period_name']}{report['name']}“担当作为”考核情况报告"


def town_report_filename(report: dict) -> str:
    state = "已审定" if report["status"] == "approved" else "未审定"
    return f"{report['period_name']}{report['name']}考核报告-{report['period']}_{state}.docx"


def town_report_docx(report: dict) -> bytes:
    """The report of one town as a DOCX (the same figures as the page and the API)."""
    from evaluation.reports.charts import share_chart

    view = document_view(report)
    document = new_document()
    paragraph(document, town_report_title(report), size=18, bold=True, center=True)
    if report["status"] != "approved":
        paragraph(document, "（考核周期尚未审定，数据仅供参考）", size=10, center=True)

    heading(document, "一、总体情况")
    said = (
        f"总分 {report['total']} 分（加分 {report['bonus']}，减分 {report['penalty']}），"
        f"在 {report['units']} 个镇街中排名第 {report['rank']} 名，"
        f"等次为“{report['grade_shown']}”。"
    )
    if report["vetoed"]:
        said += "本期被一票否决。"
    change = report["change"]
    if change is not None:
        said += (
            f"上期（{report['previous_period']}）总分 {change['previous_total']} 分"
            + (f"、第 {change['previous_rank']} 名" if change["previous_rank"] else "")
            + f"，总分变化 {_signed(change['total'])} 分。"
        )
    paragraph(document, said)

    heading(document, "二、各指标得分与名次")
    rows = [["维度", "指标", "数值", "得分", "满分", "得分率", "镇街平均", "指标名次"]]
    for line in view["lines"]:
        rows.append(
            [
                line["dimension_name"],
                f"{line['code']} {line['name']}"
                + (f"（{'、'.join(line['tags'])}）" if line["tags"] else ""),
                line["value"] if line["value"] is not None else "未录入",
                line["points"],
                line["max"],
                line["share"],
                line["average"],
                f"{line['rank_among']}/{report['units']}",
            ]
        )
    table(document, rows, numeric={2, 3, 4, 5, 6, 7})
    chart = view["chart"]
    picture = share_chart(chart["labels"], chart["town"], chart["average"], chart["town_name"])
    document.add_picture(io.BytesIO(picture), width=Mm(160))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph(document, "图：各指标得分率，本镇街与镇街平均", size=9, center=True)

    heading(document, "三、优势与短板")
    paragraph(document, "优势指标：" + ("；".join(view["strengths"]) or "无"))
    paragraph(document, "短板指标（最弱在前）：" + ("；".join(view["weaknesses"]) or "无"))

    heading(document, "四、与上期相比")
    if change is None:
        paragraph(document, "没有可比较的上一考核周期结果。")
    else:
        rows = [["项目", "对总分的影响"]]
        rows += [[label, _signed(amount)] for label, amount in view["change_rows"]]
        rows.append(["总分变化", _signed(change["total"])])
        table(document, rows, numeric={1})

    heading(document, "五、差距测算")
    paragraph(
        document,
        "单靠一个指标、其他数值都不变时，达到目标所需的最小数值（括号内为变化幅度）。",
        size=9.5,
    )
    grade_goal = f"进入“{report['next_grade']}”等次" if report["next_grade"] else "进入上一等次"
    rows = [["指标", "当前数值", "提升一个名次", grade_goal]]
    for gap in view["gaps"]:
        rank_text = gap["next_rank"]
        if gap["rank_at_value"]:
            rank_text += f" → 第 {gap['rank_at_value']} 名"
        rows.append(
            [f"{gap['code']} {gap['name']}", gap["value"] or "—", rank_text, gap["next_grade"]]
        )
    table(document, rows, numeric={1})

    made = local_time(utcnow(), "%Y-%m-%d %H:%M")
    stamp = f"{report['period']} · {report['unit']} · 生成于 {made}"
    if report["snapshot_hash"]:
        stamp += f" · 排名快照 SHA-256：{report['snapshot_hash']}"
    footer(document, stamp)
    return saved(document)


def notice_filename(notice: dict) -> str:
    return f"{notice['period_name']}镇街担当作为考核结果通报-{notice['period']}.docx"


def notice_docx(notice: dict) -> bytes:
    """The 通报 of an approved period (docs/reports.md#notice) as a DOCX."""
    from docx.shared import Mm, RGBColor

    from evaluation.reports.charts import MOST_BARS, grade_count_chart, totals_chart

    document = new_document()
    head = paragraph(document, notice["issuing_body"], size=22, bold=True, center=True)
    head.runs[0].font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    paragraph(document, notice["title"], size=16, bold=True, center=True)
    paragraph(document, "各镇（街道）党（工）委：", size=12)
    paragraph(
        document,
        notice.get("opening")
        or f"　　{notice['period_name']}镇街“担当作为”考核工作已经完成，考核结果经审定，"
        "现将结果通报如下。",
        size=12,
    )
    heading(document, "一、考核结果")
    # The columns between 镇街 and 总分: a quarter's subtotals, bonus and penalty; an
    # annual period's source totals (evaluation/annual/notice.py), given as ``columns``.
    middle = notice.get("columns") or [*notice["dimensions"], "加分", "减分"]
    rows = [["名次", "镇街", *middle, "总分", "等次"]]
    for row in notice["rows"]:
        name = row["name"] + ("（一票否决）" if row["vetoed"] else "")
        figures = row.get("figures") or [*row["dimensions"], row["bonus"], row["penalty"]]
        rows.append([str(row["rank"]), name, *figures, row["total"], row["grade"]])
    width = len(rows[0])
    table(document, rows, numeric=set(range(2, width - 1)) | {0}, size=9)
    for note in notice.get("notes", []):
        paragraph(document, f"　　{note}", size=11)

    heading(document, "二、等次分布")
    said = "，".join(f"“{grade}”{count} 个" for grade, count in notice["grade_counts"])
    paragraph(document, f"共 {len(notice['rows'])} 个镇街：{said}。", size=12)
    counts = notice["grade_counts"]
    table(document, [[grade for grade, _ in counts], [str(n) for _, n in counts]], size=10)
    if len(notice["rows"]) <= MOST_BARS:
        picture = totals_chart(
            [row["name"] for row in notice["rows"]],
            [row["total"] for row in notice["rows"]],
            [row["grade"] for row in notice["rows"]],
            notice["bands"],
        )
        caption = "图：各镇街总分（颜色为等次，虚线为等次分数线）"
    else:
        picture = grade_count_chart(counts)
        caption = "图：各等次镇街数"
    document.add_paragraph()
    document.add_picture(io.BytesIO(picture), width=Mm(160))
    document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph(document, caption, size=9, center=True)

    document.add_paragraph()
    for text in (notice["issuing_body"], notice["date"]):
        para = paragraph(document, text, size=12)
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer(
        document,
        notice.get("footer")
        or f"{notice['period']} 排名快照 SHA-256：{notice['snapshot_hash'] or '—'}",
    )
    return saved(document)

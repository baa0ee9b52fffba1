"""Import files that would eat the worker's memory, or that say one thing and mean
another, are refused quickly with the cell named (docs/import.md#limits)."""

from __future__ import annotations

import io
import os
import resource
import zipfile
from contextlib import contextmanager
from datetime import date

import pytest
from openpyxl import Workbook

from evaluation.core.writing import InvalidInput
from evaluation.scores.importer import read as importer_read
from evaluation.scores.importer.apply import import_scores
from evaluation.scores.importer.parse import QUOTED_CHARS
from evaluation.scores.importer.read import MAX_BYTES, read_table
from models import db
from tests.ledger_world import build_world, open_period

HEADER = ["考核周期", "单位代码", "指标代码", "数值", "备注"]

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
    "</Types>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def handmade_xlsx(sheet_data: str, shared: list[str] | None = None, *, padding: str = "") -> bytes:
    """A workbook written by hand, as an attacker would: ``sheet_data`` is the XML inside
    ``<sheetData>``; ``padding`` goes after it (blanks compress a thousandfold)."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
        f'.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData>{padding}</worksheet>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared is not None:
            items = "".join(f"<si><t>{text}</t></si>" for text in shared)
            archive.writestr(
                "xl/sharedStrings.xml",
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f"{items}</sst>",
            )
    return out.getvalue()


@contextmanager
def memory_ceiling(extra: int = 1024**3):
    """Let the process grow by at most ``extra`` bytes of address space meanwhile, so a
    reader that would balloon fails with MemoryError instead of taking the machine."""
    if not os.path.exists("/proc/self/statm"):
        yield
        return
    with open("/proc/self/statm") as statm:
        size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def refusal(data: bytes, filename: str = "bomb.xlsx") -> str:
    with memory_ceiling(), pytest.raises(InvalidInput) as caught:
        read_table(data, filename)
    return caught.value.message


# --- memory bombs (finding 1) -------------------------------------------------------------


def test_a_cell_beyond_column_xfd_is_refused_before_any_row_is_made():
    """The 1.9 KB file of the attack: cells at column ZZZZZN drove a worker to 6 GB."""
    cells = "".join(f'<row r="{n}"><c r="ZZZZZN{n}" t="inlineStr"><is><t>x</t></is></c></row>'
                    for n in range(1, 20))
    data = handmade_xlsx(cells)
    assert len(data) < 2500
    assert "XFD" in refusal(data)


def test_a_cell_at_xfd_on_many_rows_is_refused_by_the_cell_count():
    """Inside XFD, but 16,384 cells a row over 300 rows: some five million empty cells."""
    rows = "".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>' for n in range(1, 301))
    assert "单元格过多" in refusal(handmade_xlsx(rows))


def test_a_zip_of_blanks_is_refused_from_its_directory():
    data = handmade_xlsx('<row r="1"><c r="A1"><v>1</v></c></row>', padding=" " * 20_000_000)
    assert len(data) < 100_000
    assert "压缩比异常" in refusal(data)


def test_unpacked_size_is_capped(monkeypatch):
    monkeypatch.setattr(importer_read, "MAX_UNPACKED_BYTES", 10_000)
    data = handmade_xlsx("".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>'
                                 for n in range(1, 1000)))
    assert "解压后过大（上限 0 MB）" in refusal(data)


def test_a_cell_longer_than_excel_allows_is_refused_and_not_quoted_in_full():
    long = "长" * 40_000
    message = refusal(handmade_xlsx(f'<row r="1"><c r="B1" t="inlineStr"><is><t>{long}</t></is>'
                                    "</c></row>"))
    assert "B1" in message and "40000 个字" in message and len(message) < 200
    message = refusal(handmade_xlsx('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', [long]))
    assert "共享字符串第1项" in message


def test_csv_rows_and_cells_are_capped(monkeypatch):
    field = "x" * 131_073  # above the csv module's own ceiling too
    message = refusal(f"a,b\n1,{field}\n".encode(), "scores.csv")
    assert message.startswith("第2行")
    message = refusal(f"a,b\n1,{'x' * 40_000}\n".encode(), "scores.csv")
    assert message == "第2行第2列的内容过长（40000 个字，每格至多 32767 个字）"
    monkeypatch.setattr(importer_read, "MAX_ROWS", 3)
    assert "行数过多" in refusal(b"a\n1\n2\n3\n", "scores.csv")
    assert "列数过多" in refusal(("," * 16_384 + "\n").encode(), "scores.csv")


@pytest.fixture
def world(ctx):
    world = build_world()
    open_period(world)
    return world


def problems(data: bytes, filename: str, world) -> list[tuple[int, str, str]]:
    report = import_scores(world.user("assessor"), "2026Q3", data, filename=filename,
                                    dry_run=True)
    return [(p.row, p.column, p.message) for p in report.problems]


def test_a_report_quotes_a_huge_cell_cut_short(world):
    data = ",".join(HEADER).encode() + f"\n2026Q3,{'9' * 30_000},U02,5,\n".encode()
    [(row, column, message)] = problems(data, "scores.csv", world)
    assert (row, column) == (2, "单位代码")
    assert len(message) <= QUOTED_CHARS + 1 and message.endswith("…")


def test_the_cli_says_a_too_long_csv_field_in_one_line(app, runner, tmp_path):
    with app.app_context():
        build_world()
        db.session.remove()
    path = tmp_path / "scores.csv"
    path.write_text(",".join(HEADER) + f"\n2026Q3,445203100000,U02,5,{'x' * 131_073}\n")
    result = runner.invoke(args=["import-scores", str(path), "--period", "2026Q3"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "第2行" in lines[0] and "Traceback" not in result.output


def test_requests_past_the_app_wide_limit_get_413_in_chinese(app, client, auth):
    assert app.config["MAX_CONTENT_LENGTH"] >= MAX_BYTES
    app.config["MAX_CONTENT_LENGTH"] = 1000
    auth.login("assessor")
    response = client.post("/admin/import/", data={"file": (io.BytesIO(b"x" * 5000), "a.csv")})
    assert response.status_code == 413
    assert "上传文件过大" in response.get_data(as_text=True)


# --- corrupt cells: a clear refusal naming the cell (finding 5) ----------------------------


def test_a_shared_string_index_out_of_range_is_named():
    data = handmade_xlsx('<row r="1"><c r="C1" t="s"><v>7</v></c></row>', ["考核周期"])
    assert refusal(data) == "单元格 C1 指向不存在的共享字符串（第 7 项），文件已损坏"


@pytest.mark.parametrize("text", ["nan", "inf", "1x", ""])
def test_a_number_cell_that_is_no_number_is_named(text):
    data = handmade_xlsx(f'<row r="1"><c r="D1"><v>{text}</v></c></row>')
    if text == "":
        assert read_table(data, "x.xlsx") == [(None,) * 4]  # an empty value: blank
    else:
        assert refusal(data) == f"单元格 D1 的数值「{text}」不是数字，文件已损坏"


# --- silent coercions (finding 7) ---------------------------------------------------------


def csv_file(*rows) -> bytes:
    return ("\n".join(",".join(f'"{c}"' for c in row) for row in [HEADER, *rows]) + "\n").encode()


def xlsx_file(*rows) -> bytes:
    book = Workbook()
    book.active.append(HEADER)
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_commas_only_as_thousands_separators(world):
    data = csv_file(
        ["2026Q3", "445203100000", "U02", "1,2,3", ""],
        ["2026Q3", "445203101000", "U02", "12,34", ""],
        ["2026Q3", "445203001000", "U02", "1,2", ""],
    )
    found = problems(data, "s.csv", world)
    assert [(row, column) for row, column, _ in found] == [(2, "数值"), (3, "数值"), (4, "数值")]
    assert "千分位逗号的位置不对" in found[0][2] and "1,2,3" in found[0][2]
    # In their places they are read: E01 allows any number.
    ok = csv_file(["2026Q3", "445203100000", "E01", "1,234.5", ""])
    report = import_scores(world.user("assessor"), "2026Q3", ok, filename="s.csv",
                                    dry_run=True)
    assert report.problems == [] and report.changes[0].new_value == "1234.5"


def test_a_date_in_the_value_column_is_refused_not_read_as_its_serial(world):
    data = xlsx_file(["2026Q3", "445203100000", "U02", date(2026, 1, 1), ""])
    [(row, column, message)] = problems(data, "s.xlsx", world)
    assert (row, column) == (2, "数值")
    assert "D2" in message and "日期" in message and "46023" in message


def test_a_formula_without_a_computed_value_is_refused_not_taken_as_blank(world):
    data = xlsx_file(["2026Q3", "445203100000", "U02", "=10+5", ""])  # openpyxl keeps no result
    [(row, column, message)] = problems(data, "s.xlsx", world)
    assert (row, column) == (2, "数值")
    assert "D2" in message and "公式" in message


def test_a_formula_with_its_computed_value_is_read(world):
    data = handmade_xlsx(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>考核周期</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>单位代码</t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>指标代码</t></is></c>'
        '<c r="D1" t="inlineStr"><is><t>数值</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>2026Q3</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>445203100000</t></is></c>'
        '<c r="C2" t="inlineStr"><is><t>U02</t></is></c>'
        '<c r="D2"><f>10+5</f><v>15</v></c></row>'
    )
    report = import_scores(world.user("assessor"), "2026Q3", data, filename="s.xlsx",
                                    dry_run=True)
    assert report.problems == [] and report.changes[0].new_value == "15"

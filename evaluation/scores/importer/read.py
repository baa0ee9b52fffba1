"""Read an uploaded file into rows of cells: CSV (UTF-8 or GBK) or XLSX, with the template's
stated export time and its percent-formatted cells. See "XML safety" below.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from xml.etree import ElementTree  # nosec B405  # see "XML safety" below

from evaluation.core.writing import InvalidInput
from evaluation.scores.importer.parse import (
    EXPORTED_AT_LABEL,
    INFO_SHEET,
    ImportFile,
    PercentCell,
    UnreadableCell,
    _excel_decimal,
    _quoted,
    _text,
)

#: Files larger than this are refused before parsing (a province period is ~1 MB).
MAX_BYTES = 30 * 1024 * 1024
#: A province period has 30,571 town values; anything far beyond is not an import file.
MAX_ROWS = 200_000
#: Excel's own limits: 16,384 columns (A … XFD) and 32,767 characters in a cell.
MAX_COLUMNS = 16_384
MAX_CELL_CHARS = 32_767
#: Cells a sheet may spread over, empty ones between filled ones included (a cell placed
#: at XFD on every row would otherwise make millions of empty ones: docs/import.md#limits).
MAX_CELLS = 4_000_000
#: An XLSX file's parts, unpacked, at most this many bytes in all, and no part packed
#: tighter than ``MAX_PACKING`` to 1 (real sheets pack some 5–30 to 1; a zip of blanks
#: packs 1,000 to 1). Checked from the zip's directory before anything is unpacked.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_PACKING = 200


# --- reading files ----------------------------------------------------------------------


def read_table(data: bytes, filename: str = "") -> list[tuple]:
    """Return the rows of the first sheet of an XLSX file, or of a UTF-8 CSV file."""
    return read_file(data, filename).rows


def read_file(data: bytes, filename: str = "") -> ImportFile:
    """Read an XLSX or UTF-8 CSV file: its rows and, for a template, its export time."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"文件过大（上限 {MAX_BYTES // (1024 * 1024)} MB）")
    name = filename.lower()
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or name.endswith(".xls"):
        raise InvalidInput("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或「CSV UTF-8」")
    if name.endswith(".xlsx"):
        raise InvalidInput("无法读取该 XLSX 文件：文件已损坏或不是 Excel 工作簿")
    return ImportFile(_csv_rows(_csv_text(data)))


def _csv_rows(text: str) -> list[tuple]:
    """The rows of a CSV text, held to the sheet limits (docs/import.md#limits)."""
    rows: list[tuple] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise InvalidInput(f"文件行数过多（上限 {MAX_ROWS} 行）")
            if len(row) > MAX_COLUMNS:
                raise InvalidInput(f"第{reader.line_num}行列数过多（上限 {MAX_COLUMNS} 列）")
            for column, value in enumerate(row, start=1):
                if len(value) > MAX_CELL_CHARS:
                    raise InvalidInput(_too_long(f"第{reader.line_num}行第{column}列", len(value)))
            rows.append(tuple(row))
    except csv.Error:
        # The csv module's own ceiling (131,072 characters) is above ours: still too long.
        raise InvalidInput(
            f"第{reader.line_num}行：单元格过长或格式有误（每格至多 {MAX_CELL_CHARS} 个字）"
        ) from None
    return rows


def _too_long(where: str, length: int) -> str:
    return f"{where}的内容过长（{length} 个字，每格至多 {MAX_CELL_CHARS} 个字）"


def _csv_text(data: bytes) -> str:
    """Decode a CSV file: UTF-8 (with or without BOM) when it is valid UTF-8, else GB18030
    (a superset of GBK, what Excel and WPS write on Chinese Windows: docs/import.md)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidInput(
            "无法识别 CSV 文件的编码（应为 UTF-8 或 GBK）；请在 Excel 中另存为"
            "「CSV UTF-8（逗号分隔）」或 .xlsx，或点击「下载模板」按模板填写"
        ) from None


def _check_archive(data: bytes) -> None:
    """Refuse a zip that would unpack too large, from its directory, before unpacking."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidInput("无法读取该 XLSX 文件：文件已损坏或不是 Excel 工作簿") from None
    limit = MAX_UNPACKED_BYTES // (1024 * 1024)
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise InvalidInput(f"XLSX 文件解压后过大（上限 {limit} MB），不像是考核数据表")
    for member in members:
        if member.file_size > 1024 * 1024 and member.file_size > MAX_PACKING * max(
            member.compress_size, 1
        ):
            raise InvalidInput(
                f"XLSX 文件中的 {_quoted(member.filename)} 压缩比异常（超过 {MAX_PACKING} 倍），"
                "不像是考核数据表"
            )


def _read_xlsx(data: bytes) -> ImportFile:
    _check_archive(data)
    try:
        return _read_sheet_xml(data)
    except InvalidInput:
        raise
    except Exception:  # an unusual workbook: let openpyxl have a go
        return _read_xlsx_with_openpyxl(data)


def _read_xlsx_with_openpyxl(data: bytes) -> ImportFile:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a broken zip or XML
        raise InvalidInput("无法读取该 XLSX 文件：文件已损坏或不是 Excel 工作簿") from None
    try:
        sheet = workbook.worksheets[0]
        rows, cells = [], 0
        for row in sheet.iter_rows():
            cells += len(row)
            if len(rows) >= MAX_ROWS or cells > MAX_CELLS:
                raise InvalidInput(f"文件过大（上限 {MAX_ROWS} 行、{MAX_CELLS} 个单元格）")
            rows.append(tuple(_openpyxl_value(cell) for cell in row))
        exported_at = None
        if INFO_SHEET in workbook.sheetnames and workbook[INFO_SHEET] is not sheet:
            exported_at = _stated_time(workbook[INFO_SHEET].iter_rows(values_only=True))
        return ImportFile(rows, exported_at)
    finally:
        workbook.close()


def _openpyxl_value(cell):
    value = cell.value
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and is_percent_format(getattr(cell, "number_format", None) or "")
    ):
        return PercentCell(_excel_decimal(float(value)))
    return value


#: Built-in number formats 9 (0%) and 10 (0.00%); custom ones are read from their code.
_PERCENT_BUILTINS = frozenset({"9", "10"})
#: Parts of a number format that display text rather than format the number: quoted
#: text, escaped characters, padding (_x), fills (*x), and [colours/conditions/locales].
_LITERALS = re.compile(r'"[^"]*"|\\.|_.|\*.|\[[^\]]*\]')


def is_percent_format(code: str) -> bool:
    """Whether a number format shows the value × 100 (a bare % outside quotes)."""
    return "%" in _LITERALS.sub("", code)


def _stated_time(rows: Iterable[Sequence]) -> datetime | None:
    """Return the 导出时间 of a template's info sheet (naive UTC), if it states one."""
    for row in rows:
        if len(row) >= 2 and _text(row[0]) == EXPORTED_AT_LABEL:
            stated = row[1]
            if isinstance(stated, datetime):
                return stated.replace(tzinfo=None)
            try:
                return datetime.strptime(_text(stated), EXPORTED_AT_FORMAT)
            except ValueError:
                return None  # edited out of shape: the file states no time
    return None


#: How the template writes its 导出时间 (UTC, as the history writes times).
EXPORTED_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


# XML safety (bandit B405/B314): an uploaded workbook's parts are parsed with the standard
# library. Its expat (>= 2.4.1, as with Python 3.11 and every current system) refuses
# billion-laughs and quadratic entity expansion, and ElementTree never fetches external
# entities or DTDs, so a hostile workbook fails to parse and is refused like any broken one
# (tests/test_faults.py builds one). defusedxml would add nothing here.

_LOCAL_NAMES: dict[str, str] = {}


def _local(tag: str) -> str:
    """Return a tag's name without its namespace (transitional and strict OOXML alike)."""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = _LOCAL_NAMES[tag] = tag.rsplit("}", 1)[-1]
    return name


def _part_path(target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def _workbook_parts(archive: zipfile.ZipFile) -> tuple[list[tuple[str, str]], str | None]:
    """Return the sheets' (name, part) in workbook order and the styles part, if any."""
    workbook_xml = archive.read("xl/workbook.xml")
    workbook = ElementTree.fromstring(workbook_xml)  # nosec B314  # XML safety
    rels_xml = archive.read("xl/_rels/workbook.xml.rels")
    rels = ElementTree.fromstring(rels_xml)  # nosec B314  # XML safety
    targets = {el.get("Id"): el.get("Target") for el in rels}
    sheets = []
    for element in workbook.iter():
        if _local(element.tag) == "sheet":
            rel_id = next(v for k, v in element.attrib.items() if _local(k) == "id")
            sheets.append((element.get("name", ""), _part_path(targets[rel_id])))
    if not sheets:
        raise ValueError("a workbook without sheets")
    styles = next(
        (_part_path(el.get("Target")) for el in rels if el.get("Type", "").endswith("/styles")),
        None,
    )
    return sheets, styles


#: Built-in date and time formats (14–22, 27–36 and 50–58 in CJK locales, 45–47).
_DATE_BUILTINS = frozenset(str(n) for n in [*range(14, 23), *range(27, 37), *range(45, 48),
                                            *range(50, 59)])


def is_date_format(code: str) -> bool:
    """Whether a number format shows the number as a date or time."""
    return any(c in "yYmMdDhHsS" for c in _LITERALS.sub("", code).replace("General", ""))


def _percent_styles(archive: zipfile.ZipFile, part: str | None) -> frozenset[str]:
    """Return the cell style indexes (``s="…"``) whose number format is a percentage."""
    return _styles_where(archive, part, is_percent_format, _PERCENT_BUILTINS)


def _date_styles(archive: zipfile.ZipFile, part: str | None) -> frozenset[str]:
    """Return the cell style indexes whose number format is a date or time."""
    return _styles_where(archive, part, is_date_format, _DATE_BUILTINS)


def _styles_where(archive, part: str | None, is_format, builtins: frozenset) -> frozenset[str]:
    """Return the cell style indexes whose number format passes ``is_format``."""
    if part is None or part not in archive.namelist():
        return frozenset()
    styles = ElementTree.fromstring(archive.read(part))  # nosec B314  # XML safety
    custom = {
        el.get("numFmtId"): el.get("formatCode", "")
        for el in styles.iter()
        if _local(el.tag) == "numFmt"
    }
    cell_xfs = next((el for el in styles if _local(el.tag) == "cellXfs"), None)
    if cell_xfs is None:
        return frozenset()
    found = set()
    for index, xf in enumerate(el for el in cell_xfs if _local(el.tag) == "xf"):
        fmt = xf.get("numFmtId", "0")
        if is_format(custom[fmt]) if fmt in custom else fmt in builtins:
            found.add(str(index))
    return frozenset(found)


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings = []
    with archive.open("xl/sharedStrings.xml") as stream:
        for _, element in ElementTree.iterparse(stream):  # nosec B314  # XML safety
            if _local(element.tag) == "si":
                text = _rich_text(element)
                if len(text) > MAX_CELL_CHARS:
                    raise InvalidInput(_too_long(f"共享字符串第{len(strings) + 1}项", len(text)))
                strings.append(text)
                element.clear()
    return strings


def _rich_text(element) -> str:
    """Return the text of an ``si`` / ``is`` element: its runs, without phonetic hints."""
    parts = []
    for child in element:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _column_index(reference: str) -> int:
    """The 0-based column of a cell reference (``F2`` → 5); beyond XFD is refused."""
    index = 0
    for char in reference:
        if "A" <= char.upper() <= "Z":
            index = index * 26 + (ord(char.upper()) - 64)
            if index > MAX_COLUMNS:
                raise InvalidInput(
                    f"单元格位置 {_quoted(reference)} 超出 Excel 的最后一列 XFD，"
                    "文件不是正常的工作表"
                )
        else:
            break
    return index - 1


def _read_sheet_xml(data: bytes) -> ImportFile:
    """Read the first sheet's cell values straight from its XML (several times faster
    than openpyxl), and the 导出时间 of a template's info sheet. Rows keep their sheet
    numbers (gaps become empty rows) so 第N行 is the row the user sees; numbers come
    back as int or float, as openpyxl gives them, or as ``PercentCell`` when the cell
    is formatted as a percentage.
    """
    archive = zipfile.ZipFile(io.BytesIO(data))
    sheets, styles = _workbook_parts(archive)
    shared = _shared_strings(archive)
    percent = _percent_styles(archive, styles)
    dates = _date_styles(archive, styles)
    rows = _sheet_rows(archive, sheets[0][1], shared, percent, dates)
    exported_at = None
    for name, part in sheets[1:]:
        if name == INFO_SHEET:
            exported_at = _stated_time(_sheet_rows(archive, part, shared, frozenset()))
            break
    return ImportFile(rows, exported_at)


def _sheet_rows(
    archive: zipfile.ZipFile,
    part: str,
    shared: list[str],
    percent: frozenset[str],
    dates: frozenset[str] = frozenset(),
) -> list[tuple]:
    rows: list[tuple] = []
    spread = 0  # cells so far, the empty ones between filled ones included
    with archive.open(part) as stream:
        cells: list = []
        for _, element in ElementTree.iterparse(stream):  # nosec B314  # XML safety
            name = _local(element.tag)
            if name == "c":
                reference = element.get("r")
                column = _column_index(reference) if reference else len(cells)
                if column >= MAX_COLUMNS:
                    raise InvalidInput(f"第{len(rows) + 1}行列数过多（上限 {MAX_COLUMNS} 列）")
                if column >= len(cells):
                    spread += column + 1 - len(cells)
                    if spread > MAX_CELLS:
                        raise InvalidInput(f"工作表单元格过多（上限 {MAX_CELLS} 个，含空单元格）")
                    cells.extend([None] * (column - len(cells)))
                    cells.append(_cell_value(element, shared, percent, dates))
                else:  # a cell named twice or out of order: the later one counts
                    cells[column] = _cell_value(element, shared, percent, dates)
                element.clear()
            elif name == "row":
                text = element.get("r")
                number = int(text) if text and text.isascii() and text.isdigit() else len(rows) + 1
                if number > MAX_ROWS or len(text or "") > 9:
                    raise InvalidInput(f"文件行数过多（上限 {MAX_ROWS} 行）")
                rows.extend(() for _ in range(number - 1 - len(rows)))
                rows.append(tuple(cells))
                cells = []
                element.clear()
    return rows


#: A number as a sheet's XML writes it.
_XML_NUMBER = re.compile(r"-?\d+(\.\d*)?([eE][+-]?\d+)?|-?\.\d+([eE][+-]?\d+)?")

FORMULA_WITHOUT_VALUE = (
    "单元格 {ref} 是公式，但文件里没有它的计算结果（文件未在 Excel 中保存过）；"
    "请在 Excel 或 WPS 中打开并保存后再导入，或直接填写数值"
)
DATE_IN_VALUE = (
    "单元格 {ref} 是日期格式（Excel 把日期存为序号 {serial}），不是数值；"
    "请将单元格格式改为「常规」或「数值」后填写"
)


def _cell_value(element, shared: list[str], percent: frozenset[str], dates=frozenset()):
    """One cell's value; a cell the file itself contradicts is refused naming it."""
    reference = _quoted(element.get("r") or "")
    kind = element.get("t", "n")
    if kind == "inlineStr":
        inline = next((c for c in element if _local(c.tag) == "is"), None)
        text = _rich_text(inline) if inline is not None else None
        if text is not None and len(text) > MAX_CELL_CHARS:
            raise InvalidInput(_too_long(f"单元格 {reference} ", len(text)))
        return text
    value = next((c.text for c in element if _local(c.tag) == "v"), None)
    if value is None:
        if any(_local(c.tag) == "f" for c in element):
            return UnreadableCell(FORMULA_WITHOUT_VALUE.format(ref=reference))
        return None
    if len(value) > MAX_CELL_CHARS:
        raise InvalidInput(_too_long(f"单元格 {reference} ", len(value)))
    if kind == "s":
        index = int(value) if value.isascii() and value.isdigit() else -1
        if not 0 <= index < len(shared):
            raise InvalidInput(
                f"单元格 {reference} 指向不存在的共享字符串（第 {_quoted(value)} 项），文件已损坏"
            )
        return shared[index]
    if kind == "b":
        return value == "1"
    if kind in ("str", "e", "d"):
        return value
    if not _XML_NUMBER.fullmatch(value.strip()):
        raise InvalidInput(f"单元格 {reference} 的数值「{_quoted(value)}」不是数字，文件已损坏")
    value = value.strip()
    if dates and element.get("s") in dates:
        return UnreadableCell(DATE_IN_VALUE.format(ref=reference, serial=value), value)
    if percent and element.get("s") in percent:
        return PercentCell(_excel_decimal(float(value)))
    if any(c in value for c in ".eE"):
        return float(value)
    return int(value)

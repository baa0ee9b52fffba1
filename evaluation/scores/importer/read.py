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
    _excel_decimal,
    _text,
)

#: Files larger than this are refused before parsing (a province period is ~1 MB).
MAX_BYTES = 30 * 1024 * 1024
#: A province period has 30,571 town values; anything far beyond is not an import file.
MAX_ROWS = 200_000


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
    return ImportFile([tuple(row) for row in csv.reader(io.StringIO(_csv_text(data), newline=""))])


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


def _read_xlsx(data: bytes) -> ImportFile:
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
        rows = [tuple(_openpyxl_value(cell) for cell in row) for row in sheet.iter_rows()]
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


def _percent_styles(archive: zipfile.ZipFile, part: str | None) -> frozenset[str]:
    """Return the cell style indexes (``s="…"``) whose number format is a percentage."""
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
        if is_percent_format(custom[fmt]) if fmt in custom else fmt in _PERCENT_BUILTINS:
            found.add(str(index))
    return frozenset(found)


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings = []
    with archive.open("xl/sharedStrings.xml") as stream:
        for _, element in ElementTree.iterparse(stream):  # nosec B314  # XML safety
            if _local(element.tag) == "si":
                strings.append(_rich_text(element))
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
    index = 0
    for char in reference:
        if char.isalpha():
            index = index * 26 + (ord(char.upper()) - 64)
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
    rows = _sheet_rows(archive, sheets[0][1], shared, percent)
    exported_at = None
    for name, part in sheets[1:]:
        if name == INFO_SHEET:
            exported_at = _stated_time(_sheet_rows(archive, part, shared, frozenset()))
            break
    return ImportFile(rows, exported_at)


def _sheet_rows(
    archive: zipfile.ZipFile, part: str, shared: list[str], percent: frozenset[str]
) -> list[tuple]:
    rows: list[tuple] = []
    with archive.open(part) as stream:
        cells: list = []
        for _, element in ElementTree.iterparse(stream):  # nosec B314  # XML safety
            name = _local(element.tag)
            if name == "c":
                reference = element.get("r")
                column = _column_index(reference) if reference else len(cells)
                cells.extend([None] * (column - len(cells)))
                cells.append(_cell_value(element, shared, percent))
                element.clear()
            elif name == "row":
                number = int(element.get("r") or len(rows) + 1)
                if number > MAX_ROWS:
                    raise InvalidInput(f"文件行数过多（上限 {MAX_ROWS} 行）")
                rows.extend(() for _ in range(number - 1 - len(rows)))
                rows.append(tuple(cells))
                cells = []
                element.clear()
    return rows


def _cell_value(element, shared: list[str], percent: frozenset[str]):
    kind = element.get("t", "n")
    if kind == "inlineStr":
        inline = next((c for c in element if _local(c.tag) == "is"), None)
        return _rich_text(inline) if inline is not None else None
    value = next((c.text for c in element if _local(c.tag) == "v"), None)
    if value is None:
        return None
    if kind == "s":
        return shared[int(value)]
    if kind == "b":
        return value == "1"
    if kind in ("str", "e", "d"):
        return value
    if percent and element.get("s") in percent:
        return PercentCell(_excel_decimal(float(value)))
    if any(c in value for c in ".eE"):
        return float(value)
    return int(value)

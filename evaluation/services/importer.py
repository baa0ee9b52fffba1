"""Score import (docs/rules.md#import-file): the template, the parser and the all-or-nothing apply.

A file is XLSX or CSV (UTF-8, with or without BOM, or GBK/GB18030). In the long layout
columns are found by header, Chinese or English — 考核周期/period, 单位代码/unit_code,
指标代码/indicator_code, 数值/value, 备注/note, 版本/version — and other columns (names
for the reader) are ignored; a wide sheet (a unit per row, an indicator per column, as
offices keep them) is read into the same rows. Title rows above the header are skipped.
A row whose 数值 is blank leaves that cell as it is; a file without a 备注 column keeps
the stored notes. docs/import.md describes, for users and maintainers,
what is accepted: percent cells and "88%" text for indicators measured in %, the
warnings of a dry run, and how a file's versions (or its export time, or an explicit
overwrite with a reason) keep a stale file from undoing later corrections.

``parse_table`` is pure: rows of cells and the period's catalog in, parsed rows and
*every* problem out (第N行 列名：…, the header being row 1). ``import_scores`` applies a
clean file in ONE write transaction (``writing(actor, "score.write")``) with the
ledger's own rules — ``ledger.require_open``, ``ledger.check_unit``,
``ledger.check_value`` — and writes the changed cells through ``ledger.write_values``,
the batched form of ``ledger.set_score`` (one ``score.set`` event per change). One
problem anywhere, or a failure midway, writes nothing. Re-importing the same values
changes nothing and writes no event.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree  # nosec B405  # see "XML safety" below

from sqlalchemy import select

from evaluation.core.states import PeriodStatus
from evaluation.core.writing import InvalidInput, NotFound, require, writing
from evaluation.i18n import local_time
from evaluation.scores import operations as ledger
from evaluation.scores import values
from models import Indicator, Period, Score, Unit, db
from models.schemes import DEFAULT_GRADE_FRACTIONS, METHODS
from models.types import plain, utcnow
from models.units import LEVELS

#: Column key → (Chinese header, English header). The Chinese name is used in messages.
COLUMNS = {
    "period": ("考核周期", "period"),
    "unit_code": ("单位代码", "unit_code"),
    "indicator_code": ("指标代码", "indicator_code"),
    "value": ("数值", "value"),
    "note": ("备注", "note"),
    #: The stored version each row was exported with (0: no value then); the template
    #: writes it in a hidden column so a stale row is refused rather than put back.
    "version": ("版本", "version"),
}
REQUIRED = ("period", "unit_code", "indicator_code", "value")
#: Columns whose content alone makes a row worth reading (a lone version is not).
_CONTENT = ("period", "unit_code", "indicator_code", "value", "note")
#: The template's columns, in order (names beside the codes, for the reader).
TEMPLATE_HEADERS = (
    "考核周期", "单位代码", "单位名称", "指标代码", "指标名称", "数值", "备注", "版本"
)
#: The template's hidden sheet stating when it was made (the first sheet holds the data).
INFO_SHEET = "模板信息"
EXPORTED_AT_LABEL = "导出时间"
#: Indicator.measure_unit of indicators measured in percent.
PERCENT = "%"
NOTE_MAX = 2000
#: Files larger than this are refused before parsing (a province period is ~1 MB).
MAX_BYTES = 30 * 1024 * 1024
#: A province period has 30,571 town values; anything far beyond is not an import file.
MAX_ROWS = 200_000
#: Above this many template rows only each indicator's first row carries the rule as a
#: comment (tens of thousands of comments make Excel crawl); the 指标说明 sheet has all.
COMMENT_ROWS_LIMIT = 2000

_HEADER_LOOKUP = {name.casefold(): key for key, names in COLUMNS.items() for name in names}


def column_name(key: str) -> str:
    return COLUMNS[key][0]


# --- the catalog the parser checks against (plain data, no database) -------------------


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    level: str
    active: bool = True
    #: 典型村 batch (villages), None otherwise.
    typical_batch: int | None = None


@dataclass(frozen=True)
class IndicatorInfo:
    """What the value check needs of an indicator (duck-typed for ``ledger.check_value``)."""

    code: str
    name: str
    method: str
    points: Decimal
    direction: str = "higher"
    grade_fractions: Mapping[str, str] | None = None
    #: 计量单位; "%" makes percent cells and "88%" text read as 88.
    measure_unit: str = ""
    #: The allowed range and the whole-number flag (docs/values-and-ranges.md).
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    integer_only: bool = False

    @property
    def fractions(self) -> Mapping[str, str]:
        return self.grade_fractions or DEFAULT_GRADE_FRACTIONS


@dataclass(frozen=True)
class Problem:
    """One bad cell or column: ``第{row}行 {column}：{message}``."""

    row: int
    column: str
    message: str
    #: What kind of refusal, when the page offers a way out ("overwrite"), else "".
    code: str = ""

    def __str__(self) -> str:
        return f"第{self.row}行 {self.column}：{self.message}"


@dataclass(frozen=True)
class ValueWarning:
    """A value that is accepted but looks wrong (shown by the dry run, never blocking).

    ``kind`` is a key of ``VALUE_CHECKS``.
    """

    row: int
    column: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行 {self.column}：{self.message}"


@dataclass(frozen=True)
class ImportRow:
    row: int
    unit: str
    indicator: str
    number: Decimal | None
    grade: str | None
    #: None when the file has no 备注 column (the stored note is kept).
    note: str | None
    #: The 版本 the row was exported with (0: the cell was empty); None: not stated.
    version: int | None = None
    #: The header of the value's column, named in messages (a wide sheet's indicator).
    column: str = "数值"

    @property
    def value(self) -> str:
        return self.grade if self.grade is not None else plain(self.number)


@dataclass
class Parsed:
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[ValueWarning] = field(default_factory=list)
    #: Rows naming a cell but leaving 数值 blank (left as they are).
    blank: int = 0
    #: How the sheet was read, for the report ("" when it could not be).
    layout: str = ""


@dataclass(frozen=True)
class PercentCell:
    """A spreadsheet number shown as a percentage: Excel and WPS store 95% as 0.95."""

    fraction: Decimal

    @property
    def percent(self) -> Decimal:
        return self.fraction * 100  # exact: Decimal multiplication by 100 never rounds

    def __str__(self) -> str:
        return f"{plain(self.percent)}%"


@dataclass
class ImportFile:
    """What a file holds: its first sheet's rows and, for a template, when it was made."""

    rows: list[tuple]
    #: The template's 导出时间 (naive UTC); None when the file does not state one.
    exported_at: datetime | None = None


# --- cells ------------------------------------------------------------------------------


def _text(cell) -> str:
    """Return a code-like cell as text: 445203100000 typed as a number stays the code."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    return str(cell).strip()


def _excel_decimal(number: float) -> Decimal:
    """Read a spreadsheet float to Excel's 15 significant digits, what the user saw
    (so 0.1 + 0.2 computed in a cell reads as 0.3)."""
    return Decimal(format(number, ".15g"))


def _number(cell) -> Decimal | PercentCell | str:
    """Return a value cell as Decimal when it is numeric, else as stripped text.

    A percent-formatted cell stays a ``PercentCell``: what it means depends on the
    indicator (``_read_value``).
    """
    if isinstance(cell, PercentCell):
        return cell
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float):
        return _excel_decimal(cell)
    if isinstance(cell, int | Decimal):
        return Decimal(cell)
    return _text(cell)


def _blank_row(cells: Sequence) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# --- parsing ----------------------------------------------------------------------------


def _header(row: Sequence, line: int = 1) -> tuple[dict[str, int], list[Problem]]:
    positions: dict[str, int] = {}
    problems = []
    for index, cell in enumerate(row):
        name = _text(cell).lstrip("\ufeff").strip().casefold()
        key = _HEADER_LOOKUP.get(name)
        if key is None:
            continue  # a column for the reader (单位名称 …): ignored
        if key in positions:
            problems.append(Problem(line, column_name(key), "此列出现了不止一次"))
        else:
            positions[key] = index
    for key in REQUIRED:
        if key not in positions:
            names = "/".join(COLUMNS[key])
            problems.append(Problem(line, column_name(key), f"缺少此列（表头须为 {names}）"))
    return positions, problems


# --- finding the header: long or wide, below any title rows (docs/import.md#layouts) ---

#: The header is looked for in the first rows only (title rows, a two-row header).
HEADER_SEARCH_ROWS = 20
#: Headers of a wide sheet's unit column (codes or names in its cells).
UNIT_HEADERS = frozenset(
    name.casefold()
    for name in (
        "单位", "单位名称", "单位代码", "镇街", "镇街名称", "镇街代码", "镇(街)", "镇（街）",
        "镇街道", "镇", "街道", "村", "村名称", "典型村", "名称", "unit", "unit_code",
        "unit_name", "name",
    )
)
#: Of these, the ones that announce codes (preferred when a sheet has both columns).
UNIT_CODE_HEADERS = frozenset({"单位代码", "镇街代码", "unit_code"})
#: Rows of a wide sheet that total or average the others, skipped by their label
#: ("合计", "全区合计", "平均值" …), unless the label is a unit's own code or name.
SUMMARY_LABELS = ("合计", "总计", "小计", "平均", "平均值", "平均数")
#: What to tell a user whose sheet has neither layout.
LAYOUT_HINT = (
    "无法识别表格格式：未找到表头。可用两种格式——"
    "长表（每行一项，表头含 考核周期、单位代码、指标代码、数值）或"
    "宽表（每行一个单位，一列「单位」或「镇街」填单位名称或代码，其余各列表头为指标代码或指标名称，"
    "如「E01」「E01 地区生产总值增速」）。请点击「下载模板」对照模板整理后再导入"
)
_SPACES = re.compile(r"\s+")
_LEADING_CODE = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)[\s:：、.．_-]*(.*)$")
_TRAILING_NOTE = re.compile(r"[（(][^（）()]*[）)]$")


def _squeezed(cell) -> str:
    """Header text without any whitespace (an Excel header often wraps inside a cell)."""
    return _SPACES.sub("", _text(cell).lstrip("\ufeff"))


def _indicator_lookup(indicators: Mapping[str, IndicatorInfo]) -> Callable[[str], str | None]:
    """Return a function reading a wide header ("E01", "E01 地区生产总值增速", the
    indicator's name alone, or the name with a trailing "（%）") to an indicator code."""
    by_code = {code.casefold(): code for code in indicators}
    by_name: dict[str, str | None] = {}
    for code, info in indicators.items():
        name = _SPACES.sub("", info.name)
        by_name[name] = None if name in by_name else code  # an ambiguous name: no match

    def lookup(header: str) -> str | None:
        if not header:
            return None
        found = by_code.get(header.casefold())
        if found:
            return found
        match = _LEADING_CODE.match(_text(header))
        token = match.group(1).rstrip("._-").casefold() if match else ""
        if token in by_code:
            return by_code[token]
        name = _squeezed(header)
        for candidate in (name, _TRAILING_NOTE.sub("", name)):
            if by_name.get(candidate):
                return by_name[candidate]
        return None

    return lookup


@dataclass
class _WideHeader:
    line: int
    unit_column: int
    unit_header: str
    #: Column index → (indicator code, header as written).
    indicators: dict[int, tuple[str, str]]
    period_column: int | None = None


def _wide_header(
    rows: Sequence[Sequence], index: int, lookup: Callable[[str], str | None]
) -> _WideHeader | None:
    """Read row ``index`` as a wide header; a blank cell takes the text of the cell above
    (a two-row header: 单位 or 序号 merged down, dimension names merged over indicators)."""
    row = rows[index]
    above = rows[index - 1] if index > 0 else ()
    indicators: dict[int, tuple[str, str]] = {}
    units: list[tuple[int, str]] = []
    period_column = None
    for column in range(max(len(row), len(above))):
        cell = row[column] if column < len(row) else None
        text = _text(cell)
        if not text and column < len(above):
            text = _text(above[column])
        if not text:
            continue
        squeezed = _squeezed(text)
        if squeezed.casefold() in UNIT_HEADERS:
            units.append((column, squeezed))
            continue
        if _HEADER_LOOKUP.get(squeezed.casefold()) == "period":
            period_column = column
            continue
        code = lookup(text)
        if code is not None and cell is not None and _text(cell):
            indicators[column] = (code, _SPACES.sub(" ", text))
    if not units or not indicators:
        return None
    unit_column, unit_header = next(
        ((c, h) for c, h in units if h.casefold() in UNIT_CODE_HEADERS), units[0]
    )
    return _WideHeader(index + 1, unit_column, unit_header, indicators, period_column)


def _summary_row(cells: Sequence, skip: Mapping[int, object], names: _UnitNames) -> bool:
    """Whether a wide row is a 合计/总计/平均 line (its label in any non-indicator cell)."""
    for column, cell in enumerate(cells):
        if column in skip or not isinstance(cell, str):
            continue
        label = _squeezed(cell).rstrip(":：")
        if label.startswith(SUMMARY_LABELS[:3]) or label.endswith(SUMMARY_LABELS):
            return not names.known(label)
    return False


def parse_table(
    table: Iterable[Sequence],
    *,
    period: str,
    units: Mapping[str, UnitInfo],
    indicators: Mapping[str, IndicatorInfo],
    level: str = "town",
) -> Parsed:
    """Parse the rows of an import file; return the rows and every problem, by row.

    The header is the first row naming the long layout's columns (指标代码 or 数值),
    or a wide header (a 单位/镇街 column and indicator columns), among the first
    ``HEADER_SEARCH_ROWS`` rows; title rows above it are skipped. Rows are numbered as
    the sheet numbers them.
    """
    rows = table if isinstance(table, list) else list(table)
    if not rows or all(_blank_row(row) for row in rows[:HEADER_SEARCH_ROWS]):
        return Parsed(problems=[Problem(1, "表头", "文件为空，没有表头和数据")])
    if _long_keys(rows[0]) & {"indicator_code", "value"}:
        return _parse_long(rows, 0, period=period, units=units, indicators=indicators, level=level)
    lookup = _indicator_lookup(indicators)
    fallback = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = _long_keys(row)
        if keys & {"indicator_code", "value"}:
            return _parse_long(
                rows, index, period=period, units=units, indicators=indicators, level=level
            )
        wide = _wide_header(rows, index, lookup)
        if wide is not None:
            # A dimension row named like an indicator is the top of a two-row header:
            # the header is the row with the indicator columns.
            below = _wide_header(rows, index + 1, lookup) if index + 1 < len(rows) else None
            if below is not None and len(below.indicators) > len(wide.indicators):
                wide = below
            return _parse_wide(
                rows, wide, period=period, units=units, indicators=indicators, level=level
            )
        if fallback is None and len(keys) >= 2:
            fallback = index
    if fallback is not None:  # a long header missing its columns: say which
        return _parse_long(
            rows, fallback, period=period, units=units, indicators=indicators, level=level
        )
    return Parsed(problems=[Problem(1, "表头", LAYOUT_HINT)])


def _long_keys(row: Sequence) -> set[str]:
    keys = set()
    for cell in row:
        if isinstance(cell, str):
            key = _HEADER_LOOKUP.get(cell.lstrip("\ufeff").strip().casefold())
            if key is not None:
                keys.add(key)
    return keys


def _unit_problem(unit_code: str, unit: UnitInfo | None, level: str) -> str | None:
    """Why a unit cannot take values at this level (None: it can)."""
    if unit is None:
        return f"单位 {unit_code} 不存在"
    if unit.level != level:
        return (
            f"{unit_code}（{unit.name}）属于{LEVELS.get(unit.level, unit.level)}，"
            f"本次导入的是{LEVELS.get(level, level)}"
        )
    if not unit.active:
        return f"{unit_code}（{unit.name}）已停用"
    if level == "village" and unit.typical_batch is None:
        return f"{unit_code}（{unit.name}）不是典型村"
    return None


class _UnitNames:
    """Units found by name: a unique match within the level (docs/import.md#layouts)."""

    def __init__(self, units: Mapping[str, UnitInfo], level: str):
        self.units = units
        self.level = level
        self._by_name: dict[str, list[str]] | None = None

    def known(self, text: str) -> bool:
        """Whether a text is some unit's code or name."""
        return text in self.units or self.resolve(text)[0] in self.units

    def resolve(self, text: str) -> tuple[str, str | None]:
        """Return (code, problem): the code as written, or the code of the unit named."""
        if text in self.units:
            return text, None
        if self._by_name is None:
            self._by_name = {}
            for code, unit in self.units.items():
                self._by_name.setdefault(_SPACES.sub("", unit.name), []).append(code)
        codes = self._by_name.get(_SPACES.sub("", text), [])
        mine = [c for c in codes if self.units[c].level == self.level]
        if len(mine) == 1 or (not mine and len(codes) == 1):
            return (mine or codes)[0], None
        if len(mine) > 1:
            listed = "、".join(mine)
            kind = LEVELS.get(self.level, self.level)
            return text, f"名称「{text}」对应多个{kind}（{listed}），请改填单位代码"
        if codes:
            return text, f"名称「{text}」对应多个单位，请改填单位代码"
        return text, None


def _parse_wide(
    rows: list,
    header: _WideHeader,
    *,
    period: str,
    units: Mapping[str, UnitInfo],
    indicators: Mapping[str, IndicatorInfo],
    level: str,
) -> Parsed:
    """Read a wide sheet: a unit per row, an indicator per column (no notes, no versions).

    Each filled cell becomes one row of the long layout, numbered by its sheet row and
    named by its column's header; 序号 and other columns are ignored, and so are rows
    labelled 合计/总计/平均 and rows without any value.
    """
    result = Parsed(layout=f"宽表：表头在第{header.line}行，{len(header.indicators)} 个指标列")
    names = _UnitNames(units, level)
    seen_columns: dict[str, str] = {}
    for code, title in header.indicators.values():
        if code in seen_columns:
            result.problems.append(
                Problem(header.line, title, f"与「{seen_columns[code]}」是同一指标 {code}")
            )
        seen_columns.setdefault(code, title)
    if result.problems:
        return result
    seen_units: dict[str, int] = {}
    for index in range(header.line, len(rows)):
        cells = rows[index]
        number = index + 1
        values = {
            column: cells[column] if column < len(cells) else None
            for column in header.indicators
        }
        if _blank_row(list(values.values())) or _summary_row(cells, header.indicators, names):
            continue
        unit_cell = cells[header.unit_column] if header.unit_column < len(cells) else None
        unit_text = _text(unit_cell)
        problems: list[Problem] = []
        if header.period_column is not None:
            cell = cells[header.period_column] if header.period_column < len(cells) else None
            period_text = _text(cell)
            if period_text and period_text != period:
                problems.append(
                    Problem(number, "考核周期", f"「{period_text}」与所选考核周期 {period} 不符")
                )
        unit_code, message = names.resolve(unit_text) if unit_text else ("", "不能为空")
        if message is None:
            message = _unit_problem(unit_code, units.get(unit_code), level)
        if message is None and unit_code in seen_units:
            message = f"与第{seen_units[unit_code]}行是同一单位 {unit_code}"
        if message is not None:
            problems.append(Problem(number, header.unit_header, message))
        else:
            seen_units[unit_code] = number
        found: list[ImportRow] = []
        notices: list[ValueWarning] = []
        blank = 0
        for column, (code, title) in header.indicators.items():
            raw = _number(values[column])
            if raw == "":
                blank += 1
                continue
            parsed_value, problem, warned = _read_value(indicators[code], raw)
            if problem:
                problems.append(Problem(number, title, problem))
            elif parsed_value is not None:
                found.append(
                    ImportRow(
                        number, unit_code, code, parsed_value[0], parsed_value[1], None,
                        column=title,
                    )
                )
                notices.extend(ValueWarning(number, title, k, m) for k, m in warned)
        if problems:
            result.problems.extend(problems)
            continue
        result.rows.extend(found)
        result.warnings.extend(notices)
        result.blank += blank
    return result


def _parse_long(
    rows: list,
    header_index: int,
    *,
    period: str,
    units: Mapping[str, UnitInfo],
    indicators: Mapping[str, IndicatorInfo],
    level: str,
) -> Parsed:
    """Read the long layout: one value per row, its header at ``rows[header_index]``."""
    result = Parsed(layout="" if header_index == 0 else f"长表：表头在第{header_index + 1}行")
    positions, header_problems = _header(rows[header_index], header_index + 1)
    if header_problems:
        result.problems = header_problems
        return result
    seen: dict[tuple[str, str], int] = {}
    level_name = LEVELS.get(level, level)
    names: _UnitNames | None = None
    for number, cells in enumerate(rows[header_index + 1 :], start=header_index + 2):

        def cell(key, cells=cells):
            index = positions.get(key)
            return cells[index] if index is not None and index < len(cells) else None

        mine = [cell(key) for key in _CONTENT]
        if _blank_row(mine):
            continue
        problems: list[Problem] = []

        period_text = _text(cell("period"))
        if not period_text:
            problems.append(Problem(number, "考核周期", "不能为空"))
        elif period_text != period:
            problems.append(
                Problem(number, "考核周期", f"「{period_text}」与所选考核周期 {period} 不符")
            )

        unit_code = _text(cell("unit_code"))
        unit = units.get(unit_code)
        if unit is None and unit_code:
            # A town's name in place of its code: a unique match within the level.
            names = names or _UnitNames(units, level)
            unit_code, name_problem = names.resolve(unit_code)
            unit = units.get(unit_code)
            if name_problem:
                problems.append(Problem(number, "单位代码", name_problem))
        if not unit_code:
            problems.append(Problem(number, "单位代码", "不能为空"))
        elif unit is None:
            if not problems:
                problems.append(Problem(number, "单位代码", f"单位代码 {unit_code} 不存在"))
        elif unit.level != level:
            problems.append(
                Problem(
                    number,
                    "单位代码",
                    f"{unit_code}（{unit.name}）属于{LEVELS.get(unit.level, unit.level)}，"
                    f"本次导入的是{level_name}",
                )
            )
        elif not unit.active:
            problems.append(Problem(number, "单位代码", f"{unit_code}（{unit.name}）已停用"))
        elif level == "village" and unit.typical_batch is None:
            problems.append(Problem(number, "单位代码", f"{unit_code}（{unit.name}）不是典型村"))

        indicator_code = _text(cell("indicator_code"))
        indicator = indicators.get(indicator_code)
        if not indicator_code:
            problems.append(Problem(number, "指标代码", "不能为空"))
        elif indicator is None:
            problems.append(
                Problem(
                    number,
                    "指标代码",
                    f"指标代码 {indicator_code} 不在本周期的{level_name}指标方案中",
                )
            )

        note = None
        if "note" in positions:
            note = _text(cell("note"))
            if len(note) > NOTE_MAX:
                problems.append(Problem(number, "备注", f"不能超过 {NOTE_MAX} 个字"))

        version = None
        if "version" in positions:
            version_text = _text(cell("version"))
            if version_text.isascii() and version_text.isdigit():
                version = int(version_text)
            elif version_text:
                problems.append(Problem(number, "版本", VERSION_INVALID))

        raw = _number(cell("value"))
        parsed_value: tuple[Decimal | None, str | None] | None = None
        notices: list[tuple[str, str]] = []
        if raw == "":
            pass  # blank: leave the stored value as it is
        elif indicator is not None:
            parsed_value, message, notices = _read_value(indicator, raw)
            if message:
                problems.append(Problem(number, "数值", message))

        if unit_code and indicator_code:
            key = (unit_code, indicator_code)
            if key in seen:
                problems.append(
                    Problem(
                        number,
                        "指标代码",
                        f"与第{seen[key]}行重复（同一单位 {unit_code}、同一指标 {indicator_code}）",
                    )
                )
            else:
                seen[key] = number

        if problems:
            result.problems.extend(problems)
        elif raw == "":
            result.blank += 1
        elif parsed_value is not None:
            result.rows.append(
                ImportRow(
                    number,
                    unit_code,
                    indicator_code,
                    parsed_value[0],
                    parsed_value[1],
                    note,
                    version,
                )
            )
            if notices:
                result.warnings.extend(
                    ValueWarning(number, "数值", kind, message) for kind, message in notices
                )
    return result


VERSION_INVALID = "版本号须为非负整数（由模板自动填写，请勿修改此列）"


def _percent_text(raw) -> Decimal | None:
    """Return 88 for the text "88%", "88 %" or "88％"; None for anything else."""
    if not isinstance(raw, str) or not raw.endswith(("%", "％")):
        return None
    try:
        number = Decimal(raw[:-1].strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _not_percent_indicator(indicator: IndicatorInfo, raw) -> str:
    unit = f"计量单位为「{indicator.measure_unit}」" if indicator.measure_unit else "不以 % 计量"
    if isinstance(raw, PercentCell):
        return (
            f"指标 {indicator.code} {unit}，但该单元格是百分比格式（显示为 {raw}）；"
            "请将单元格格式改为「常规」或「数值」后填写"
        )
    return f"指标 {indicator.code} {unit}，数值不能填百分数（收到 {raw}）"


def _read_value(
    indicator: IndicatorInfo, raw
) -> tuple[tuple | None, str | None, list[tuple[str, str]]]:
    """Read a non-blank value cell: ``((number, grade), problem, [(kind, warning)])``.

    For an indicator measured in %, a percent cell (0.95 shown as 95%) and the text
    "95%" both mean 95; for any other indicator they are refused.
    """
    if isinstance(raw, PercentCell):
        percent = raw.percent
    else:
        percent = _percent_text(raw)
    if percent is not None:
        if indicator.measure_unit != PERCENT:
            return None, _not_percent_indicator(indicator, raw), []
        raw = percent
    elif indicator.method == "grade" and isinstance(raw, str):
        # 等次 keys are letters or Chinese; accept "a" for "A".
        if raw not in indicator.fractions and raw.upper() in indicator.fractions:
            raw = raw.upper()
    try:
        value = ledger.check_value(indicator, raw)
    except InvalidInput as error:
        return None, error.message, []
    if percent is not None or value[0] is None:
        return value, None, []  # typed as a percentage, or a grade: nothing to doubt
    notices = []
    for kind, check in VALUE_CHECKS.items():
        message = check(indicator, value[0])
        if message:
            notices.append((kind, message))
    return value, None, notices


# --- warnings: accepted values that look wrong ------------------------------------------


def _fraction_for_percent(indicator: IndicatorInfo, number: Decimal) -> str | None:
    if indicator.measure_unit != PERCENT or not 0 < number < 1:
        return None
    meant = plain(number * 100)
    return (
        f"指标 {indicator.code} 以 % 计量，{plain(number)} 介于 0 与 1 之间，"
        f"可能是把 {meant}% 填成了小数；如应为 {meant}%，请填 {meant} 或 {meant}%"
    )


#: Checks run on every number read without a percent sign: kind → check(indicator,
#: number) returning a warning or None. A new kind of warning is one more entry.
VALUE_CHECKS: dict[str, Callable[[IndicatorInfo, Decimal], str | None]] = {
    "percent_fraction": _fraction_for_percent,
}


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


# --- the plan: what would change -------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    number: Decimal | None
    grade: str | None
    note: str
    version: int
    score_id: int | None = None
    entered_by: str = ""
    #: Naive UTC, as stored.
    updated_at: datetime | None = None

    @property
    def value(self) -> str:
        return self.grade if self.grade is not None else plain(self.number)


@dataclass(frozen=True)
class Change:
    row: int
    unit: str
    unit_name: str
    indicator: str
    indicator_name: str
    #: None for a new value.
    old_value: str | None
    new_value: str
    old_note: str | None
    new_note: str
    #: The stored version the change is made against (None: a new score).
    version: int | None
    number: Decimal | None
    grade: str | None
    score_id: int | None = None
    #: The overwrite reason, when the change replaces a value the file did not know.
    reason: str | None = None

    @property
    def is_new(self) -> bool:
        return self.version is None

    @property
    def overwrites(self) -> bool:
        return self.reason is not None


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    #: Rows that would undo a later change, or overwrite without being told to.
    refused: list[Problem] = field(default_factory=list)


def _cell_label(row: ImportRow, units, indicators) -> str:
    indicator = indicators[row.indicator]
    return f"{units[row.unit].name}（{row.unit}）/ {row.indicator} {indicator.name}"


def _file_side(row: ImportRow, note: str, old: Stored | None) -> str:
    if old is not None and row.value == old.value and note != old.note:
        return f"文件中为 {row.value}，备注「{note}」（现备注「{old.note}」）"
    return f"文件中为 {row.value}"


KEEP_CURRENT = "请重新下载模板后填写，或清空此行数值以保留现值"


def _stale(row: ImportRow, note: str, old: Stored | None, cell: str, *, since: str) -> Problem:
    """A row made before a later change of its cell: refused, with who changed it when."""
    if old is None:
        message = f"{cell}：{_file_side(row, note, old)}，但该数值{since}已被清除；{KEEP_CURRENT}"
    else:
        message = (
            f"{cell}：{_file_side(row, note, old)}，但该数值{since}已被 {old.entered_by} "
            f"于 {local_time(old.updated_at)} 改为 {old.value}（第 {old.version} 版）；"
            f"{KEEP_CURRENT}"
        )
    return Problem(row.row, row.column, message, "stale")


def _unconfirmed(row: ImportRow, note: str, old: Stored, cell: str) -> Problem:
    """A row without version or export time that would change a stored value."""
    message = (
        f"{cell}：{_file_side(row, note, old)}，现值为 {old.value}（{old.entered_by} 于 "
        f"{local_time(old.updated_at)} 录入）；文件没有版本号和导出时间，修改已有数值须选择"
        "覆盖（导入页面勾选「覆盖已有数值」，命令行加 --overwrite）并填写原因"
    )
    return Problem(row.row, row.column, message, "overwrite")


def plan_changes(
    rows: Iterable[ImportRow],
    stored: Mapping[tuple[str, str], Stored],
    units: Mapping[str, UnitInfo],
    indicators: Mapping[str, IndicatorInfo],
    *,
    exported_at: datetime | None = None,
    overwrite_reason: str | None = None,
) -> Plan:
    """Compare parsed rows with the stored values: what changes, what is the same, and
    which rows are refused.

    A row that changes nothing is fine whatever it states. A row that would change a
    stored cell must know the cell as it is now: its 版本 equals the stored version
    (0: the cell was empty); without a version, the cell was not changed after the
    file's ``exported_at``; a file stating neither may change stored cells only with
    ``overwrite_reason`` (which goes into those changes' history events).
    """
    plan = Plan()
    for row in rows:
        old = stored.get((row.unit, row.indicator))
        note = row.note if row.note is not None else (old.note if old else "")
        if old is not None and (old.number, old.grade, old.note) == (row.number, row.grade, note):
            plan.unchanged += 1
            continue
        reason = None
        changed_since_export = (
            exported_at is not None
            and old is not None
            and old.updated_at is not None
            and old.updated_at > exported_at
        )
        if row.version is not None:
            # A cell cleared and entered again starts again at version 1: the export
            # time tells that version 1 from the one the file was made with.
            if row.version != (old.version if old else 0) or changed_since_export:
                cell = _cell_label(row, units, indicators)
                since = "在您下载模板之后" if row.version == 0 or old is None else ""
                plan.refused.append(_stale(row, note, old, cell, since=since))
                continue
        elif old is not None:
            if exported_at is not None:
                if changed_since_export:
                    cell = _cell_label(row, units, indicators)
                    since = f"在文件导出（{local_time(exported_at)}）之后"
                    plan.refused.append(_stale(row, note, old, cell, since=since))
                    continue
            elif overwrite_reason is None:
                plan.refused.append(
                    _unconfirmed(row, note, old, _cell_label(row, units, indicators))
                )
                continue
            else:
                reason = overwrite_reason
        plan.changes.append(
            Change(
                row=row.row,
                unit=row.unit,
                unit_name=units[row.unit].name,
                indicator=row.indicator,
                indicator_name=indicators[row.indicator].name,
                old_value=old.value if old else None,
                new_value=row.value,
                old_note=old.note if old else None,
                new_note=note,
                version=old.version if old else None,
                number=row.number,
                grade=row.grade,
                score_id=old.score_id if old else None,
                reason=reason,
            )
        )
    return plan


@dataclass
class ImportReport:
    period: str
    period_name: str
    level: str
    dry_run: bool
    #: False when the period is not open (a dry run still shows what would change).
    period_open: bool
    problems: list[Problem] = field(default_factory=list)
    #: Values accepted that look wrong: shown, never blocking.
    warnings: list[ValueWarning] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    blank: int = 0
    applied: bool = False
    #: The template's 导出时间 (naive UTC), when the file states one.
    exported_at: datetime | None = None
    #: How the sheet was read when it is not the plain long layout (e.g. "宽表：表头在第3行…").
    layout: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def new(self) -> int:
        return sum(1 for c in self.changes if c.is_new)

    @property
    def changed(self) -> int:
        return len(self.changes) - self.new

    @property
    def overwritten(self) -> int:
        return sum(1 for c in self.changes if c.overwrites)

    @property
    def needs_overwrite(self) -> bool:
        """Whether some refusal would go away by choosing to overwrite (with a reason)."""
        return any(p.code == "overwrite" for p in self.problems)

    def summary(self) -> str:
        """One line for the CLI and the page."""
        if self.problems:
            return f"发现 {len(self.problems)} 处问题，未写入任何数据"
        counts = f"新增 {self.new} 项，修改 {self.changed} 项，未变 {self.unchanged} 项"
        if self.overwritten:
            counts += f"（其中覆盖已有数值 {self.overwritten} 项）"
        if self.blank:
            counts += f"，空白 {self.blank} 行（保持原值）"
        if self.warnings:
            counts += f"；{len(self.warnings)} 处提示请核对"
        if self.dry_run:
            return f"试导入（未写入）：{counts}"
        return f"已导入：{counts}"


# --- the database side ------------------------------------------------------------------


@dataclass
class Catalog:
    units: dict[str, UnitInfo]
    indicators: dict[str, IndicatorInfo]
    stored: dict[tuple[str, str], Stored]
    unit_rows: dict[str, Unit]
    indicator_rows: dict[str, Indicator]


def find_period(code: str) -> Period:
    period = db.session.scalar(select(Period).where(Period.code == code))
    if period is None:
        raise NotFound(f"没有代码为 {code} 的考核周期")
    return period


def _scheme(period: Period, level: str):
    if level not in LEVELS:
        raise InvalidInput(f"层级须为 {'、'.join(LEVELS)}")
    scheme = period.scheme_for(level)
    if scheme is None:
        raise InvalidInput(f"考核周期「{period.name}」没有{LEVELS[level]}指标方案")
    return scheme


def load_catalog(period: Period, level: str) -> Catalog:
    """Read the period's units, indicators and stored values in three queries."""
    scheme = _scheme(period, level)
    indicator_rows = {
        i.code: i
        for i in db.session.scalars(
            select(Indicator).where(Indicator.scheme_id == scheme.id).order_by(Indicator.order)
        )
    }
    unit_rows = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.level == level))}
    units = {
        u.code: UnitInfo(u.code, u.name, u.level, u.active, u.typical_batch)
        for u in unit_rows.values()
    }
    # Units of the other level only need to be recognised (to say "wrong level").
    for code, name, unit_level in db.session.execute(
        select(Unit.code, Unit.name, Unit.level).where(Unit.level != level)
    ):
        units[code] = UnitInfo(code, name, unit_level)
    indicators = {
        code: IndicatorInfo(
            i.code,
            i.name,
            i.method,
            i.points,
            i.direction,
            i.grade_fractions or None,
            (i.measure_unit or "").strip(),
            i.value_min,
            i.value_max,
            bool(i.integer_only),
        )
        for code, i in indicator_rows.items()
    }
    by_unit_id = {u.id: u.code for u in unit_rows.values()}
    by_indicator_id = {i.id: i.code for i in indicator_rows.values()}
    stored = {}
    if by_indicator_id:
        for (
            score_id,
            unit_id,
            indicator_id,
            number,
            grade,
            note,
            version,
            entered_by,
            updated_at,
        ) in db.session.execute(
            select(
                Score.id,
                Score.unit_id,
                Score.indicator_id,
                Score.number,
                Score.grade,
                Score.note,
                Score.version,
                Score.entered_by,
                Score.updated_at,
            ).where(Score.period_id == period.id, Score.indicator_id.in_(by_indicator_id))
        ):
            if unit_id in by_unit_id:
                key = (by_unit_id[unit_id], by_indicator_id[indicator_id])
                stored[key] = Stored(
                    number, grade, note or "", version, score_id, entered_by or "", updated_at
                )
    return Catalog(units, indicators, stored, unit_rows, indicator_rows)


def _prepare(
    period: Period,
    source: ImportFile,
    level: str,
    *,
    dry_run: bool,
    overwrite_reason: str | None,
) -> tuple[ImportReport, Catalog]:
    catalog = load_catalog(period, level)
    parsed = parse_table(
        source.rows,
        period=period.code,
        units=catalog.units,
        indicators=catalog.indicators,
        level=level,
    )
    report = ImportReport(
        period=period.code,
        period_name=period.name,
        level=level,
        dry_run=dry_run,
        period_open=period.status == PeriodStatus.OPEN,
        warnings=parsed.warnings,
        blank=parsed.blank,
        exported_at=source.exported_at,
        layout=parsed.layout,
    )
    # The good rows are planned even beside bad ones, so the report names every row
    # that would be refused, not only the first kind found.
    plan = plan_changes(
        parsed.rows,
        catalog.stored,
        catalog.units,
        catalog.indicators,
        exported_at=source.exported_at,
        overwrite_reason=overwrite_reason,
    )
    report.problems = sorted(parsed.problems + plan.refused, key=lambda p: p.row)
    if not report.problems:
        report.changes, report.unchanged = plan.changes, plan.unchanged
    return report, catalog


def _overwrite_reason(overwrite: bool, reason: str | None) -> str | None:
    if not overwrite:
        return None
    text = (reason or "").strip()
    if not text:
        message = "选择覆盖已有数值时须填写原因"
        raise InvalidInput(message, details=[{"path": "reason", "message": message}])
    return text


def import_scores(
    actor,
    period_code: str,
    data: bytes,
    *,
    filename: str = "",
    level: str = "town",
    dry_run: bool = False,
    overwrite: bool = False,
    reason: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check an import file and, unless ``dry_run``, apply it all or nothing.

    The report lists every problem (nothing is written when there is one) or the
    changes made / that would be made. ``overwrite`` (with a ``reason``) lets a file
    that states neither versions nor an export time change stored values.
    ``progress(done, total)`` is called while applying, after each batch of changes.
    """
    overwrite_reason = _overwrite_reason(overwrite, reason)
    source = read_file(data, filename)
    if dry_run:
        require(actor, "import.view")
        period = find_period(period_code)
        report, _ = _prepare(
            period, source, level, dry_run=True, overwrite_reason=overwrite_reason
        )
        return report
    with writing(actor, "score.write") as session:
        period = find_period(period_code)
        session.refresh(period)
        ledger.require_open(period)
        report, catalog = _prepare(
            period, source, level, dry_run=False, overwrite_reason=overwrite_reason
        )
        if report.problems:
            return report
        _apply_changes(actor, session, period, catalog, report.changes, progress)
        report.applied = True
    return report


def _apply_changes(actor, session, period: Period, catalog: Catalog, changes, progress) -> None:
    """Write the planned changes through the ledger's bulk path (``ledger.write_values``).

    Same rules, columns and ``score.set`` events as ``ledger.set_score``; the caller's
    ``writing`` makes the whole file one transaction: all or nothing.
    """
    ledger.write_values(
        actor,
        period,
        [
            ledger.ValueWrite(
                unit=catalog.unit_rows[change.unit],
                indicator=catalog.indicator_rows[change.indicator],
                value=change.grade if change.grade is not None else change.number,
                note=change.new_note,
                score_id=change.score_id,
                version=change.version,
                old_value=change.old_value,
                old_note=change.old_note,
                reason=change.reason,
            )
            for change in changes
        ],
        progress=progress,
    )


# --- the template -----------------------------------------------------------------------


def rule_comment(indicator: Indicator) -> str:
    """Return the text shown as the comment of an indicator's cells."""
    lines = [f"{indicator.code} {indicator.name}"]
    method = METHODS.get(indicator.method, indicator.method)
    lines.append(f"{method}，满分 {plain(indicator.points)} 分")
    if indicator.method == "grade":
        lines.append("数值填等次：" + "、".join(indicator.fractions))
    elif indicator.method == "direct":
        lines.append(f"数值填 0 至 {plain(indicator.points)} 之间的分数")
    elif indicator.method == "target" and indicator.target is not None:
        unit = indicator.measure_unit or ""
        lines.append(f"目标值 {plain(indicator.target)}{unit}")
    elif indicator.measure_unit:
        lines.append(f"计量单位：{indicator.measure_unit}")
    allowed = values.allowed_text(indicator) if indicator.method != "grade" else ""
    if allowed:
        lines.append(f"允许填写：{allowed}")
    if (indicator.measure_unit or "").strip() == PERCENT and indicator.method != "grade":
        lines.append("数值填百分数：95% 填 95 或 95% 均可（0.95 表示 0.95%）")
    if indicator.rule_text:
        lines.append(f"评分细则：{indicator.rule_text}")
    return "\n".join(lines)


def template_filename(period: Period, level: str = "town") -> str:
    return f"分数导入模板-{period.code}-{LEVELS.get(level, level)}.xlsx"


def write_template(period: Period, stream, level: str = "town") -> int:
    """Write the import template of a period to ``stream``; return its number of rows.

    One row per unit × indicator of the level's scheme, names beside the codes, the
    current value and note prefilled, the scoring rule as a comment on the indicator
    name, and each cell's version in a hidden 版本 column (0: no value yet); a second
    sheet lists every indicator with its rule; a hidden third sheet states when the
    template was made (导出时间), so an upload can tell what changed after it.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    from evaluation.loading import level_units

    # Taken before the values are read: a change made meanwhile counts as "after".
    exported_at = utcnow()
    catalog = load_catalog(period, level)
    units = level_units(level)
    indicators = list(catalog.indicator_rows.values())
    rows_total = len(units) * len(indicators)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("分数导入")
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGH", (10, 15, 16, 10, 28, 12, 30, 8), strict=True):
        sheet.column_dimensions[letter].width = width
    # The version is for the import, not for the reader (who should not edit it).
    sheet.column_dimensions["H"].hidden = True
    bold = Font(bold=True)

    def cell(value, *, comment: str | None = None, font=None):
        item = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            item.data_type = "s"  # stays text even if it begins with "=" (never a formula)
        if comment:
            item.comment = Comment(comment, "担当作为考核评价台账", width=320, height=160)
        if font is not None:
            item.font = font
        return item

    def plain_cell(value):
        # A bare value is much cheaper to write; only "=…" text needs a typed cell.
        return cell(value) if isinstance(value, str) and value.startswith("=") else value

    sheet.append([cell(name, font=bold) for name in TEMPLATE_HEADERS])
    comments = {i.code: rule_comment(i) for i in indicators}
    commented: set[str] = set()
    for unit in units:
        for indicator in indicators:
            old = catalog.stored.get((unit.code, indicator.code))
            if old is None:
                value = None
            elif old.grade is not None:
                value = old.grade
            else:
                value = Decimal(plain(old.number))
            row = [
                period.code,
                unit.code,
                unit.name,
                indicator.code,
                indicator.name,
                value,
                old.note if old and old.note else None,
                old.version if old else 0,
            ]
            if rows_total <= COMMENT_ROWS_LIMIT or indicator.code not in commented:
                commented.add(indicator.code)
                # Every cell of a commented row is its own object: openpyxl's write-only
                # sheet would otherwise carry the comment on to the cells after it.
                cells = [cell(v) for v in row]
                cells[4] = cell(indicator.name, comment=comments[indicator.code])
                sheet.append(cells)
            else:
                sheet.append([plain_cell(v) for v in row])
    guide = workbook.create_sheet("指标说明")
    guide.column_dimensions["A"].width = 10
    guide.column_dimensions["B"].width = 28
    guide.column_dimensions["C"].width = 80
    guide.append([WriteOnlyCell(guide, value=v) for v in ("指标代码", "指标名称", "评分说明")])
    for indicator in indicators:
        row = []
        for value in (indicator.code, indicator.name, comments[indicator.code]):
            item = WriteOnlyCell(guide, value=value)
            item.data_type = "s"
            row.append(item)
        guide.append(row)
    info = workbook.create_sheet(INFO_SHEET)
    info.sheet_state = "hidden"
    info.column_dimensions["A"].width = 12
    info.column_dimensions["B"].width = 60
    for label, value in (
        (EXPORTED_AT_LABEL, exported_at.strftime(EXPORTED_AT_FORMAT)),
        ("北京时间", local_time(exported_at)),
        ("考核周期", period.code),
        ("层级", LEVELS.get(level, level)),
        ("说明", TEMPLATE_NOTE),
    ):
        row = []
        for text in (label, value):
            item = WriteOnlyCell(info, value=text)
            item.data_type = "s"
            row.append(item)
        info.append(row)
    workbook.save(stream)
    return rows_total


#: The info sheet's explanation of the hidden 版本 column and the 导出时间.
TEMPLATE_NOTE = (
    "「分数导入」表隐藏的「版本」列记录导出时每项数值的版本（0 表示当时尚无数值）。"
    "导入时，若某项数值在导出后已被他人修改，该行将被拒绝，以免旧值覆盖新的更正；"
    "请勿修改版本列和本表。"
)


def template_bytes(period: Period, level: str = "town") -> bytes:
    buffer = io.BytesIO()
    write_template(period, buffer, level)
    return buffer.getvalue()


__all__ = [
    "COLUMNS",
    "Change",
    "ImportReport",
    "ImportRow",
    "IndicatorInfo",
    "Parsed",
    "Problem",
    "UnitInfo",
    "import_scores",
    "parse_table",
    "plan_changes",
    "read_table",
    "template_bytes",
    "write_template",
]

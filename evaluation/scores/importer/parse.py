"""Parse an import: cells and the period's catalog in, rows and every problem out (pure).

The row types, the header (long or wide), the value rules per cell. docs/import.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from evaluation.core.writing import InvalidInput
from evaluation.scores import operations as ledger
from evaluation.scores import values
from models.schemes import DEFAULT_GRADE_FRACTIONS
from models.types import plain
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
#: What a problem quotes of a cell: enough to find it, never the whole of a huge one.
QUOTED_CHARS = 200

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

    def __post_init__(self) -> None:
        # A report quotes cells; a 32,767-character one is cut, not repeated in full.
        object.__setattr__(self, "column", _quoted(self.column))
        object.__setattr__(self, "message", _quoted(self.message))

    def __str__(self) -> str:
        return f"第{self.row}行 {self.column}：{self.message}"


def _quoted(text: str) -> str:
    return text if len(text) <= QUOTED_CHARS else text[:QUOTED_CHARS] + "…"


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


@dataclass(frozen=True)
class UnreadableCell:
    """A value cell that looks like a number but must not be read as one: a date (Excel
    keeps 2026-01-01 as 46023) or a formula without a computed value (never opened in
    Excel). ``problem`` says so; ``shown`` is what stands for it elsewhere."""

    problem: str
    shown: str = ""

    def __str__(self) -> str:
        return self.shown


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
    if isinstance(cell, PercentCell | UnreadableCell):
        return cell
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float):
        if cell != cell or cell in (float("inf"), float("-inf")):
            return str(cell)  # not a number: refused by the value rules, row and column named
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
            if problem := values.note_problem(note):
                problems.append(Problem(number, "备注", problem))

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
        return values.read_number_text(raw[:-1])
    except values.NumberTextError:
        return None


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
    "95%" both mean 95; for any other indicator they are refused. A date or a formula
    without a computed value is refused (``UnreadableCell``).
    """
    if isinstance(raw, UnreadableCell):
        return None, raw.problem, []
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

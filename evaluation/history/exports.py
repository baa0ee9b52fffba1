"""Browse and export the history (docs/rules.md#history-chain): filters, keyset pages, CSV / XLSX /
JSONL.

Exports stream: events are read in keyset batches by ``seq`` and written out row by
row, so memory stays flat however long the history is. Each export is itself an
event (``history.export``: who exported which filters in which format), appended
before the first row is read; the export then stops at that event's ``seq`` so the
file is one consistent cut of the chain.

In CSV and XLSX a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return gets a leading ``'`` so a spreadsheet never runs it as a formula; numbers stay
numbers. JSONL carries the twelve fields verbatim (``before``/``after`` as JSON
objects) so anyone can re-verify the chain without this application.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from json.encoder import encode_basestring

from flask_babel import force_locale, gettext
from sqlalchemy import and_, or_, select

from evaluation.core import labels
from evaluation.core.spreadsheets import FORMULA_FIRST
from evaluation.core.writing import InvalidInput, writing
from evaluation.history import chain as history
from evaluation.history import checkpoints
from evaluation.i18n import SHANGHAI
from models import HistoryCheckpoint, HistoryEvent, Indicator, Unit, User, db

FORMATS = ("csv", "xlsx", "jsonl")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/x-ndjson; charset=utf-8",
}
BATCH = 5000
#: Events shown per history page.
PAGE_SIZE = 50

_COLUMNS = [getattr(HistoryEvent, name) for name in history.EXPORT_FIELDS]


# --- filters ------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryFilter:
    """What the auditor asked to see; empty fields do not filter."""

    period: str = ""
    #: Unit code: the unit's own events and those keyed under it (``code/…``).
    unit: str = ""
    #: Indicator code: events whose key ends in ``/code`` (scores, the indicator itself).
    indicator: str = ""
    actor: str = ""
    action: str = ""
    #: Calendar days in Asia/Shanghai, both inclusive.
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> HistoryFilter:
        """Read a filter from query-string style arguments (unknown keys ignored)."""
        values: dict = {}
        for name in ("period", "unit", "indicator", "actor", "action"):
            values[name] = (args.get(name) or "").strip()[:160]
        for name in ("date_from", "date_to"):
            text = (args.get(name) or "").strip()
            if text:
                try:
                    values[name] = date.fromisoformat(text)
                except ValueError:
                    raise InvalidInput(f"日期格式应为 YYYY-MM-DD：{text}") from None
        return cls(**values)

    def as_args(self) -> dict[str, str]:
        """Return the non-empty fields as query-string arguments."""
        result = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value:
                result[field.name] = value.isoformat() if isinstance(value, date) else value
        return result

    def is_filtered(self) -> bool:
        """Tell whether this filter leaves events out (then the file is not a whole chain)."""
        return bool(self.as_args())

    def conditions(self) -> list:
        """Return the SQL conditions of this filter.

        Unit, indicator, actor and action may be given as a person says them: a unit by
        code or name, an indicator by code or name, an actor by username or display
        name, an action by code or by its Chinese label (``evaluation/core/labels.py``;
        ``录入分数`` includes clears). Names are resolved to codes first, in one small
        query each, so the history table is still searched by code.
        """
        conditions = []
        if self.period:
            conditions.append(HistoryEvent.period == self.period)
        if self.unit:
            codes = _resolve(Unit.code, Unit.name, self.unit)
            conditions.append(
                or_(
                    HistoryEvent.entity_key.in_(codes),
                    *(
                        HistoryEvent.entity_key.like(_like_escape(code) + "/%", escape="\\")
                        for code in codes
                    ),
                    # A review case is keyed ``<period>/<village code>``.
                    *(
                        and_(
                            HistoryEvent.entity == "review_case",
                            HistoryEvent.entity_key.like("%/" + _like_escape(code), escape="\\"),
                        )
                        for code in codes
                    ),
                )
            )
        if self.indicator:
            codes = _resolve(Indicator.code, Indicator.name, self.indicator)
            conditions.append(
                or_(
                    HistoryEvent.entity_key.in_(codes),
                    *(
                        HistoryEvent.entity_key.like("%/" + _like_escape(code), escape="\\")
                        for code in codes
                    ),
                )
            )
        if self.actor:
            conditions.append(
                HistoryEvent.actor.in_(_resolve(User.username, User.display_name, self.actor))
            )
        if self.action:
            conditions.append(HistoryEvent.action.in_(labels.action_codes(self.action) or [""]))
        # ``at`` is fixed-width UTC text, so text order is time order.
        if self.date_from:
            conditions.append(HistoryEvent.at >= _utc_text(self.date_from))
        if self.date_to:
            conditions.append(HistoryEvent.at < _utc_text(self.date_to + timedelta(days=1)))
        return conditions


#: At most this many codes are searched for one name typed into a filter.
NAME_MATCHES = 50


def _resolve(code_column, name_column, text: str) -> list[str]:
    """Return the codes ``text`` names: itself as a code, the exact name, else part of one.

    Always includes ``text`` itself, so a code the base data no longer holds (a deleted
    unit, a system actor such as ``cli``) is still found in the history.
    """
    found = db.session.scalars(
        select(code_column).where(or_(code_column == text, name_column == text)).distinct()
        .limit(NAME_MATCHES)
    ).all()
    if not found:
        found = db.session.scalars(
            select(code_column)
            .where(name_column.like("%" + _like_escape(text) + "%", escape="\\"))
            .distinct()
            .order_by(code_column)
            .limit(NAME_MATCHES)
        ).all()
    return sorted({text, *found})


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _utc_text(day: date) -> str:
    """Return the history's UTC text for midnight of ``day`` in Asia/Shanghai."""
    return history.format_at(datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC))


# --- reading --------------------------------------------------------------------------


def iter_rows(
    flt: HistoryFilter, *, up_to: int | None = None, batch: int = BATCH, session=None
) -> Iterator:
    """Stream matching stored rows in ``seq`` order by keyset batches.

    Rows keep ``before``/``after`` as the stored JSON text (exactly what was hashed,
    compact and key-sorted), which spares every exported row a parse and a re-dump;
    ``history.iter_events`` is the parsed equivalent.
    """
    session = session or db.session
    conditions = flt.conditions()
    if up_to is not None:
        conditions.append(HistoryEvent.seq <= up_to)
    # Core execution on the session's connection: plain rows, no ORM bookkeeping.
    connection = session.connection()
    after = 0
    while True:
        rows = connection.execute(
            select(*_COLUMNS)
            .where(HistoryEvent.seq > after, *conditions)
            .order_by(HistoryEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


@dataclass
class HistoryPage:
    """One page of events, newest first, with the keys of the neighbouring pages."""

    events: list[dict]
    #: Pass as ``before`` for the next older page (None: this is the oldest).
    older: int | None
    #: Pass as ``after`` for the next newer page (None: this is the newest).
    newer: int | None


def page(
    flt: HistoryFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> HistoryPage:
    """Return a page of events newest first, keyed by ``seq`` (no COUNT of the table)."""
    conditions = flt.conditions()
    query = select(*_COLUMNS).where(*conditions)
    if after is not None:
        # Newer page: the ``size`` events just above ``after``, then shown newest first.
        rows = db.session.execute(
            query.where(HistoryEvent.seq > after).order_by(HistoryEvent.seq).limit(size + 1)
        ).all()
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        more_older = _exists(conditions, HistoryEvent.seq <= after)
    else:
        if before is not None:
            query = query.where(HistoryEvent.seq < before)
        rows = db.session.execute(query.order_by(HistoryEvent.seq.desc()).limit(size + 1)).all()
        more_older = len(rows) > size
        rows = rows[:size]
        more_newer = before is not None and _exists(conditions, HistoryEvent.seq >= before)
    events = [history.event_dict(row) for row in rows]
    return HistoryPage(
        events=events,
        older=events[-1]["seq"] if events and more_older else None,
        newer=events[0]["seq"] if events and more_newer else None,
    )


def _exists(conditions: list, extra) -> bool:
    return (
        db.session.execute(
            select(HistoryEvent.seq).where(and_(*conditions, extra)).limit(1)
        ).first()
        is not None
    )


# --- names and readable cells -------------------------------------------------------


def key_codes(entity: str | None, key: str) -> tuple[str, str]:
    """Return the unit code and indicator code an event's key names ("" when none).

    Keys by entity (docs/rules.md#history-chain): ``score`` ``unit/indicator``;
    ``adjustment`` and ``review_record`` ``unit/id``; ``veto`` and ``unit`` the unit's code;
    ``review_case`` ``period/unit``; ``indicator`` ``scheme/indicator``.
    """
    if entity == "score":
        unit, _, indicator = key.partition("/")
        return unit, indicator
    if entity in ("adjustment", "review_record", "veto", "unit"):
        return key.partition("/")[0], ""
    if entity == "review_case":
        return key.rpartition("/")[2], ""
    if entity == "indicator":
        return "", key.rpartition("/")[2]
    return "", ""


@dataclass
class Names:
    """The names shown next to the codes of events, each table read in one query."""

    people: dict[str, str]
    units: dict[str, str]
    indicators: dict[str, str]

    @classmethod
    def load(cls, session=None, events: Iterable | None = None) -> Names:
        """Read the names: all of them for an export, those ``events`` need for a page."""
        session = session or db.session
        people = select(User.username, User.display_name)
        units = select(Unit.code, Unit.name)
        # A code kept by several schemes shows the name of the newest one.
        indicators = select(Indicator.code, Indicator.name).order_by(Indicator.scheme_id)
        if events is not None:
            events = [
                e if isinstance(e, dict)
                else {"actor": e.actor, "entity": e.entity, "entity_key": e.entity_key}
                for e in events
            ]
            actors = {event["actor"] for event in events}
            pairs = [key_codes(event["entity"], event["entity_key"]) for event in events]
            people = people.where(User.username.in_(actors))
            units = units.where(Unit.code.in_({unit for unit, _ in pairs if unit}))
            indicators = indicators.where(
                Indicator.code.in_({code for _, code in pairs if code})
            )
        return cls(
            people={name: shown or name for name, shown in session.execute(people)},
            units=dict(session.execute(units).all()),
            indicators=dict(session.execute(indicators).all()),
        )

    def person(self, username: str | None) -> str:
        if username == ANONYMOUS_VOTER:
            return gettext("匿名测评人")
        return self.people.get(username or "", "")

    def of_key(self, entity: str | None, key: str) -> tuple[str, str]:
        """Return the unit name and indicator name of an event's key ("" when none)."""
        unit, indicator = key_codes(entity, key)
        return self.units.get(unit, ""), self.indicators.get(indicator, "")


#: The actor of every 民主测评 vote: no account, nobody in particular (docs/surveys.md).
ANONYMOUS_VOTER = "anonymous-voter"


#: Column headers of the CSV and XLSX exports (docs/rules.md#history-chain, "Exports"):
#: the twelve fields in Chinese, with names and labels beside the codes.
HEADERS = (
    "序号",
    "时间（北京时间）",
    "操作人账号",
    "操作人",
    "操作代码",
    "操作",
    "对象类型代码",
    "对象类型",
    "对象代码",
    "单位名称",
    "指标名称",
    "考核周期",
    "原值",
    "新值",
    "原因",
    "前一哈希",
    "哈希",
)
UTC_HEADER = "时间（UTC）"
#: Column widths of the XLSX sheet, in characters.
WIDTHS = (8, 20, 12, 12, 18, 14, 14, 10, 24, 16, 24, 10, 36, 36, 30, 18, 18)
FILTER_NOTE = (
    "注意：这是按条件筛选的导出（{filters}），只含部分事件，不是完整的哈希链，"
    "不能用于校验变更历史；校验请导出全部变更历史的 JSONL 文件。"
)


def filter_note(flt: HistoryFilter) -> str:
    """The warning a filtered export carries (its first line, or its first sheet)."""
    described = "；".join(f"{FILTER_NAMES.get(k, k)}={v}" for k, v in flt.as_args().items())
    return FILTER_NOTE.format(filters=described)


FILTER_NAMES = {
    "period": "考核周期",
    "unit": "单位",
    "indicator": "指标",
    "actor": "操作人",
    "action": "操作",
    "date_from": "起始日期",
    "date_to": "截止日期",
}


class Readable:
    """Turn stored rows into the cells of a CSV/XLSX export: names beside codes, Beijing time.

    Everything per row is a dictionary lookup: the names are read once (``Names.load``)
    and neutralized once, labels are kept per code, and the time is shifted by whole
    hours, so only the ``YYYY-MM-DDTHH`` prefix is converted (once per hour of history).
    ``csv_line`` is the same line ``csv.writer`` writes for ``cells``, built directly.
    """

    def __init__(self, names: Names, *, utc: bool = False):
        self.utc = utc
        self._hours: dict[str, str] = {}
        self._codes: dict[tuple, tuple] = {}
        self._actors: dict[str, str] = {}
        self._periods: dict[str | None, str] = {}
        self._people = {k: _neutral(v) for k, v in names.people.items()}
        self._units = {k: _neutral(v) for k, v in names.units.items()}
        self._indicators = {k: _neutral(v) for k, v in names.indicators.items()}
        self._people_csv = {k: _csv_field(v) for k, v in self._people.items()}
        self._units_csv = {k: _csv_field(v) for k, v in self._units.items()}
        self._indicators_csv = {k: _csv_field(v) for k, v in self._indicators.items()}

    def time(self, at: str) -> str:
        """``2026-11-27T08:00:00.123456Z`` → ``2026-11-27 16:00:00`` (or UTC, same form)."""
        hour = at[:13]
        shown = self._hours.get(hour)
        if shown is None:
            if self.utc:
                shown = hour.replace("T", " ")
            else:
                moment = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
                shown = moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H")
            self._hours[hour] = shown
        return shown + at[13:19]

    def _labels(self, action: str, entity: str) -> tuple:
        """The action and entity cells, and their CSV text, kept per pair of codes."""
        found = self._codes.get((action, entity))
        if found is None:
            # The file is in Chinese whatever language the exporting user reads.
            with force_locale("zh_CN"):
                cells = (
                    _neutral(action),
                    labels.action_label(action),
                    _neutral(entity),
                    labels.entity_label(entity),
                )
            found = self._codes[(action, entity)] = (cells, ",".join(map(_csv_field, cells)))
        return found

    def cells(self, row) -> list:
        """Return an exported row: ``seq`` a number, every text neutralized, null as empty."""
        seq, at, actor, action, entity, key, period, before, after, reason, prev, digest = row
        unit, indicator = key_codes(entity, key)
        return [
            seq,
            self.time(at),
            _neutral(actor),
            self._people.get(actor, ""),
            *self._labels(action, entity)[0],
            _neutral(key),
            self._units.get(unit, ""),
            self._indicators.get(indicator, ""),
            _neutral(period),
            before or "",
            after or "",
            _neutral(reason),
            prev,
            digest,
        ]

    def csv_line(self, row) -> str:
        """Return one event as a CSV line (the bytes ``csv.writer`` gives for ``cells``)."""
        seq, at, actor, action, entity, key, period, before, after, reason, prev, digest = row
        # The few actors and periods are quoted once each.
        who = self._actors.get(actor)
        if who is None:
            who = self._actors[actor] = _csv_text(actor) + "," + self._people_csv.get(actor, "")
        when = self._periods.get(period)
        if when is None:
            when = self._periods[period] = _csv_text(period)
        unit, indicator = key_codes(entity, key)
        return ",".join(
            (
                str(seq),
                self.time(at),
                who,
                self._labels(action, entity)[1],
                _csv_text(key),
                self._units_csv.get(unit, ""),
                self._indicators_csv.get(indicator, ""),
                when,
                "" if before is None else _csv_field(before),
                "" if after is None else _csv_field(after),
                "" if reason is None else _csv_text(reason),
                prev,
                digest,
            )
        )


def _neutral(value: str | None) -> str:
    """A text cell as a spreadsheet must get it: formula-like text with a leading ``'``."""
    if not value:
        return ""
    return "'" + value if value[0] in FORMULA_FIRST else value


# --- writers --------------------------------------------------------------------------


def _csv_field(text: str) -> str:
    """Quote a CSV field as ``csv.QUOTE_MINIMAL`` does (delimiter, quote or line break)."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def _csv_text(value) -> str:
    if not value:
        return ""
    if value[0] in FORMULA_FIRST:
        value = "'" + value
    return _csv_field(value)


def csv_line(cells: list) -> str:
    """Return readable cells (``Readable.cells``) as a CSV line, as ``csv.writer`` writes it."""
    return ",".join([str(cells[0]), *map(_csv_field, cells[1:])])


def csv_chunks(
    rows: Iterable, readable: Readable, *, note: str = "", rows_per_chunk: int = 1000
) -> Iterator[bytes]:
    """Yield the CSV bytes: UTF-8 BOM, [the filter's note,] the headers, one line per event."""
    header = list(HEADERS)
    if readable.utc:
        header[1] = UTC_HEADER
    lines = ["\ufeff" + (_csv_field(note) + "\r\n" if note else "") + ",".join(header)]
    line = readable.csv_line
    for row in rows:
        lines.append(line(row))
        if len(lines) >= rows_per_chunk:
            yield ("\r\n".join(lines) + "\r\n").encode("utf-8")
            lines.clear()
    if lines:
        yield ("\r\n".join(lines) + "\r\n").encode("utf-8")


#: Positions of ``before`` and ``after``: stored as the JSON text of an object (or null)
#: and embedded as the object itself.
_JSON_OBJECT_FIELDS = frozenset(
    i for i, name in enumerate(history.EXPORT_FIELDS) if name in ("before", "after")
)
_KEYS = [json.dumps(name) + ":" for name in history.EXPORT_FIELDS]


def jsonl_line(row) -> str:
    """Return one event as a JSON line with exactly the twelve fields, in order."""
    parts = []
    for index, value in enumerate(row):
        if value is None:
            text = "null"
        elif index in _JSON_OBJECT_FIELDS:
            text = value
        elif isinstance(value, str):
            # The same text json.dumps(value, ensure_ascii=False) gives, without its overhead.
            text = encode_basestring(value)
        else:
            text = json.dumps(value)
        parts.append(_KEYS[index] + text)
    return "{" + ",".join(parts) + "}\n"


def jsonl_chunks(rows: Iterable, *, rows_per_chunk: int = 1000) -> Iterator[bytes]:
    """Yield the JSONL bytes (UTF-8, no BOM: every line is a JSON document)."""
    lines: list[str] = []
    for row in rows:
        lines.append(jsonl_line(row))
        if len(lines) >= rows_per_chunk:
            yield "".join(lines).encode("utf-8")
            lines.clear()
    if lines:
        yield "".join(lines).encode("utf-8")


#: Excel's rows per sheet (header included); a longer export continues on a new sheet.
SHEET_ROWS = 1_048_576
#: Start a new sheet before a sheet's XML nears the 4 GiB a plain zip entry can hold.
SHEET_BYTES = 2 * 1024**3
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}"><fonts count="2"><font><sz val="11"/>'
    '<name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill '
    'patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
    'xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1">'
    '<alignment wrapText="1" vertical="top"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0"/></cellStyles></styleSheet>'
)
_LETTERS = "ABCDEFGHIJKLMNOPQ"
#: Characters XML 1.0 cannot hold at all (openpyxl refuses them too).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_SPECIAL = re.compile("[&<>\r]")
_XML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_XML_ANY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff&<>\r]")


def _xml_text(text: str) -> str:
    if not _XML_ANY.search(text):
        return text
    if _XML_ILLEGAL.search(text):
        text = _XML_ILLEGAL.sub("\ufffd", text)
    if _XML_SPECIAL.search(text):
        # A carriage return as a character reference survives XML's newline folding.
        text = _XML_SPECIAL.sub(lambda m: _XML_ENTITIES[m.group()], text)
    return text


def _xlsx_row(number: int, cells: list, style: int = 0) -> str:
    parts = [f'<row r="{number}">']
    styled = f' s="{style}"' if style else ""
    for letter, value in zip(_LETTERS, cells, strict=False):
        if isinstance(value, int):
            parts.append(f'<c r="{letter}{number}"><v>{value}</v></c>')
        elif value:
            parts.append(
                f'<c r="{letter}{number}"{styled} t="inlineStr"><is><t xml:space="preserve">'
                f"{_xml_text(value)}</t></is></c>"
            )
    parts.append("</row>")
    return "".join(parts)


def _sheet_start(utc: bool) -> str:
    """The start of a data sheet: frozen header row, column widths, the header."""
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{width}" customWidth="1"/>'
        for n, width in enumerate(WIDTHS, start=1)
    )
    header = list(HEADERS)
    if utc:
        header[1] = UTC_HEADER
    return (
        f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}"><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f"<cols>{cols}</cols><sheetData>" + _xlsx_row(1, header, style=1)
    )


def _note_sheet(note: str) -> str:
    return (
        f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}"><cols><col min="1" max="1" width="120" '
        f'customWidth="1"/></cols><sheetData>{_xlsx_row(1, [note], style=1)}</sheetData>'
        "</worksheet>"
    )


def write_xlsx(
    rows: Iterable,
    path: str,
    readable: Readable,
    *,
    note: str = "",
    sheet_rows: int = SHEET_ROWS,
) -> int:
    """Write the XLSX workbook to ``path``, streaming (constant memory).

    The sheet XML is written straight into the zip (inline strings, ``seq`` as a
    number): an order of magnitude faster than openpyxl for a million events. A
    filtered export opens on a 说明 sheet saying it is not a verifiable chain.
    """
    count = 0
    sheets = 0
    cells = readable.cells
    start = _sheet_start(readable.utc)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        if note:
            archive.writestr("xl/worksheets/note.xml", _note_sheet(note))
        stream = None
        written = 0
        row_number = 0
        pending: list[str] = []

        def flush() -> int:
            data = "".join(pending).encode("utf-8")
            pending.clear()
            stream.write(data)
            return len(data)

        for row in rows:
            if stream is None or row_number >= sheet_rows or written >= SHEET_BYTES:
                if stream is not None:
                    pending.append("</sheetData></worksheet>")
                    flush()
                    stream.close()
                sheets += 1
                stream = archive.open(f"xl/worksheets/sheet{sheets}.xml", "w")
                pending.append(start)
                row_number, written = 1, 0
            row_number += 1
            pending.append(_xlsx_row(row_number, cells(row)))
            count += 1
            if len(pending) >= 1000:
                written += flush()
        if stream is None:  # no events: a sheet with the header alone
            sheets = 1
            stream = archive.open("xl/worksheets/sheet1.xml", "w")
            pending.append(start)
        pending.append("</sheetData></worksheet>")
        flush()
        stream.close()
        _write_xlsx_package(archive, sheets, note=bool(note))
    return count


def _write_xlsx_package(archive: zipfile.ZipFile, sheets: int, *, note: bool = False) -> None:
    """Write the parts around the sheets: content types, relationships, workbook, styles."""
    parts = [("note.xml", "说明")] if note else []
    parts += [(f"sheet{n}.xml", "变更历史") for n in range(1, 2)]
    parts += [(f"sheet{n}.xml", f"变更历史（{n}）") for n in range(2, sheets + 1)]
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/{part}" ContentType="{sheet_type}"/>'
        for part, _ in parts
    )
    archive.writestr(
        "[Content_Types].xml",
        f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}</Types>",
    )
    archive.writestr(
        "_rels/.rels",
        f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" '
        f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    )
    sheet_list = "".join(
        f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>'
        for n, (_, name) in enumerate(parts, start=1)
    )
    archive.writestr(
        "xl/workbook.xml",
        f'{_XML_HEAD}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        f"<sheets>{sheet_list}</sheets></workbook>",
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL_NS}/worksheet" Target="worksheets/{part}"/>'
        for n, (part, _) in enumerate(parts, start=1)
    )
    archive.writestr(
        "xl/_rels/workbook.xml.rels",
        f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">{sheet_rels}'
        f'<Relationship Id="rId{len(parts) + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
        "</Relationships>",
    )
    archive.writestr("xl/styles.xml", _STYLES)


def xlsx_chunks(
    rows: Iterable, readable: Readable, *, note: str = "", chunk_size: int = 1 << 16
) -> Iterator[bytes]:
    """Yield the XLSX bytes: built in a temporary file, streamed, then removed."""
    handle, path = tempfile.mkstemp(prefix="history-", suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(rows, path, readable, note=note)
        with open(path, "rb") as stream:
            while chunk := stream.read(chunk_size):
                yield chunk
    finally:
        os.unlink(path)


# --- the logged export ----------------------------------------------------------------


@dataclass
class Export:
    """A logged export ready to stream."""

    format: str
    filename: str
    mimetype: str
    #: The ``seq`` of this export's own ``history.export`` event; the file stops there.
    up_to: int
    chunks: Iterator[bytes]


def log_export(actor, fmt: str, flt: HistoryFilter, *, utc: bool = False) -> int:
    """Record who exported which events in which format; return the event's ``seq``."""
    if fmt not in FORMATS:
        raise InvalidInput(f"不支持的导出格式 {fmt}，可选：{', '.join(FORMATS)}")
    after = {"format": fmt, "filters": flt.as_args()}
    if utc and fmt != "jsonl":
        after["time"] = "UTC"
    with writing(actor, "history.export"):
        event = history.append(actor, "history.export", "history", fmt, after=after)
        # The file stops at this event: its checkpoint accompanies the file
        # (docs/history.md#exports).
        checkpoints.record(actor, "export")
    return event["seq"]


def export_filename(fmt: str, flt: HistoryFilter, moment: datetime | None = None) -> str:
    """Return the download name, e.g. ``变更历史-2026Q3-20261127-1600.csv``.

    A filtered export says so in its name (``…-筛选-…``): it is not a whole chain.
    """
    moment = (moment or datetime.now(UTC)).astimezone(SHANGHAI)
    parts = ["变更历史"]
    if flt.period:
        parts.append(flt.period)
    if flt.is_filtered():
        parts.append("筛选")
    parts.append(moment.strftime("%Y%m%d-%H%M"))
    return "-".join(parts) + "." + fmt


def _writer(fmt: str, flt: HistoryFilter, utc: bool):
    """Return a function from rows to the file's byte chunks."""
    if fmt == "jsonl":
        # The twelve canonical fields verbatim, UTC: the file re-verifies the chain.
        return jsonl_chunks
    readable = Readable(Names.load(), utc=utc)
    note = filter_note(flt) if flt.is_filtered() else ""
    chunks = csv_chunks if fmt == "csv" else xlsx_chunks
    return lambda rows: chunks(rows, readable, note=note)


def export_history(actor, fmt: str, flt: HistoryFilter, *, utc: bool = False) -> Export:
    """Log an export and return its byte stream (read lazily, in keyset batches).

    CSV and XLSX are for people: Chinese headers, names beside codes, Beijing time
    unless ``utc``; a filtered one says first that it is not a verifiable chain. JSONL
    is for machines: the twelve fields (docs/rules.md#history-chain).
    """
    up_to = log_export(actor, fmt, flt, utc=utc)
    rows = iter_rows(flt, up_to=up_to)
    chunks = _writer(fmt, flt, utc)(rows)
    return Export(fmt, export_filename(fmt, flt), MIMETYPES[fmt], up_to, chunks)


def export_checkpoint(up_to: int) -> dict | None:
    """The signed checkpoint written with the export that stops at ``up_to``."""
    row = db.session.scalar(
        select(HistoryCheckpoint)
        .where(HistoryCheckpoint.seq == up_to, HistoryCheckpoint.occasion == "export")
        .order_by(HistoryCheckpoint.id.desc())
        .limit(1)
    )
    return row.document() if row is not None else None


def checkpoint_path(output: str) -> str:
    """Where the command line saves an export's checkpoint: beside it."""
    return output + ".checkpoint.json"


def write_export(
    actor, fmt: str, flt: HistoryFilter, output: str, *, utc: bool = False
) -> int:
    """Log an export and write it to the file ``output``, its signed checkpoint beside it
    (``checkpoint_path``); return the number of events."""
    up_to = log_export(actor, fmt, flt, utc=utc)
    checkpoint = export_checkpoint(up_to)
    if checkpoint is not None:
        with open(checkpoint_path(output), "w", encoding="utf-8") as stream:
            stream.write(checkpoints.as_json(checkpoint))
    counted = _Counter(iter_rows(flt, up_to=up_to))
    if fmt == "xlsx":
        note = filter_note(flt) if flt.is_filtered() else ""
        write_xlsx(counted, output, Readable(Names.load(), utc=utc), note=note)
    else:
        with open(output, "wb") as stream:
            for chunk in _writer(fmt, flt, utc)(counted):
                stream.write(chunk)
    return counted.count


class _Counter:
    """Pass rows through, counting them."""

    def __init__(self, rows: Iterable):
        self._rows = rows
        self.count = 0

    def __iter__(self):
        for row in self._rows:
            self.count += 1
            yield row

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

from sqlalchemy import and_, or_, select

from evaluation.core.spreadsheets import FORMULA_FIRST
from evaluation.core.writing import InvalidInput, writing
from evaluation.history import chain as history
from evaluation.i18n import SHANGHAI
from models import HistoryEvent, db

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

    def conditions(self) -> list:
        """Return the SQL conditions of this filter."""
        conditions = []
        if self.period:
            conditions.append(HistoryEvent.period == self.period)
        if self.unit:
            conditions.append(
                or_(
                    HistoryEvent.entity_key == self.unit,
                    HistoryEvent.entity_key.like(_like_escape(self.unit) + "/%", escape="\\"),
                )
            )
        if self.indicator:
            conditions.append(
                or_(
                    HistoryEvent.entity_key == self.indicator,
                    HistoryEvent.entity_key.like("%/" + _like_escape(self.indicator), escape="\\"),
                )
            )
        if self.actor:
            conditions.append(HistoryEvent.actor == self.actor)
        if self.action:
            conditions.append(HistoryEvent.action == self.action)
        # ``at`` is fixed-width UTC text, so text order is time order.
        if self.date_from:
            conditions.append(HistoryEvent.at >= _utc_text(self.date_from))
        if self.date_to:
            conditions.append(HistoryEvent.at < _utc_text(self.date_to + timedelta(days=1)))
        return conditions


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


# --- cells ----------------------------------------------------------------------------


#: Columns whose text could start like a formula. The others cannot: ``at`` starts with
#: a digit, the hashes are hex, ``before``/``after`` are JSON objects (``{``) or null.
_FREE_TEXT = tuple(
    i
    for i, name in enumerate(history.EXPORT_FIELDS)
    if name in ("actor", "action", "entity", "entity_key", "period", "reason")
)
_NULLABLE = tuple(
    i for i, name in enumerate(history.EXPORT_FIELDS) if name in ("before", "after")
)


def _cells(row) -> list:
    """Return an exported row: ``seq`` a number, every text neutralized, null as empty."""
    cells = list(row)  # in EXPORT_FIELDS order; seq first
    for index in _FREE_TEXT:
        value = cells[index]
        if value is None:
            cells[index] = ""
        elif value and value[0] in FORMULA_FIRST:
            cells[index] = "'" + value
    for index in _NULLABLE:
        if cells[index] is None:
            cells[index] = ""
    return cells


# --- writers --------------------------------------------------------------------------


def _csv_field(text: str) -> str:
    """Quote a CSV field as ``csv.QUOTE_MINIMAL`` does (delimiter, quote or line break)."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def _csv_text(value) -> str:
    if value is None:
        return ""
    if value and value[0] in FORMULA_FIRST:
        value = "'" + value
    return _csv_field(value)


def csv_line(row) -> str:
    """Return one event as a CSV line: the twelve fields, texts neutralized, nulls empty.

    The same bytes ``csv.writer`` gives for ``_cells(row)``, built directly: the
    columns that cannot start like a formula or hold a delimiter skip the checks.
    """
    seq, at, actor, action, entity, entity_key, period, before, after, reason, prev, digest = row
    return ",".join(
        (
            str(seq),
            at,
            _csv_text(actor),
            _csv_text(action),
            _csv_text(entity),
            _csv_text(entity_key),
            _csv_text(period),
            "" if before is None else _csv_field(before),
            "" if after is None else _csv_field(after),
            _csv_text(reason),
            prev,
            digest,
        )
    )


def csv_chunks(rows: Iterable, *, rows_per_chunk: int = 1000) -> Iterator[bytes]:
    """Yield the CSV bytes: UTF-8 BOM, the twelve field names, one line per event."""
    lines = ["\ufeff" + ",".join(history.EXPORT_FIELDS)]
    for row in rows:
        lines.append(csv_line(row))
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
    f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}"><fonts count="1"><font><sz val="11"/>'
    '<name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill '
    'patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
    'xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0"/></cellStyles></styleSheet>'
)
_LETTERS = "ABCDEFGHIJKL"
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


def _xlsx_row(number: int, cells: list) -> str:
    parts = [f'<row r="{number}">']
    for letter, value in zip(_LETTERS, cells, strict=False):
        if isinstance(value, int):
            parts.append(f'<c r="{letter}{number}"><v>{value}</v></c>')
        elif value:
            parts.append(
                f'<c r="{letter}{number}" t="inlineStr"><is><t xml:space="preserve">'
                f"{_xml_text(value)}</t></is></c>"
            )
    parts.append("</row>")
    return "".join(parts)


def write_xlsx(rows: Iterable, path: str, *, sheet_rows: int = SHEET_ROWS) -> int:
    """Write the XLSX workbook to ``path``, streaming (constant memory).

    The sheet XML is written straight into the zip (inline strings, ``seq`` as a
    number): an order of magnitude faster than openpyxl for a million events.
    """
    count = 0
    sheets = 0
    header = list(history.EXPORT_FIELDS)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
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
                pending.append(f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}"><sheetData>')
                pending.append(_xlsx_row(1, header))
                row_number, written = 1, 0
            row_number += 1
            pending.append(_xlsx_row(row_number, _cells(row)))
            count += 1
            if len(pending) >= 1000:
                written += flush()
        if stream is None:  # no events: a sheet with the header alone
            sheets = 1
            stream = archive.open("xl/worksheets/sheet1.xml", "w")
            pending.append(f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}"><sheetData>')
            pending.append(_xlsx_row(1, header))
        pending.append("</sheetData></worksheet>")
        flush()
        stream.close()
        _write_xlsx_package(archive, sheets)
    return count


def _write_xlsx_package(archive: zipfile.ZipFile, sheets: int) -> None:
    """Write the parts around the sheets: content types, relationships, workbook, styles."""
    names = ["变更历史"] + [f"变更历史（{n}）" for n in range(2, sheets + 1)]
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{sheet_type}"/>'
        for n in range(1, sheets + 1)
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
        for n, name in enumerate(names, start=1)
    )
    archive.writestr(
        "xl/workbook.xml",
        f'{_XML_HEAD}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        f"<sheets>{sheet_list}</sheets></workbook>",
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    )
    archive.writestr(
        "xl/_rels/workbook.xml.rels",
        f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">{sheet_rels}'
        f'<Relationship Id="rId{sheets + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
        "</Relationships>",
    )
    archive.writestr("xl/styles.xml", _STYLES)


def xlsx_chunks(rows: Iterable, *, chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """Yield the XLSX bytes: built in a temporary file, streamed, then removed."""
    handle, path = tempfile.mkstemp(prefix="history-", suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(rows, path)
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


def log_export(actor, fmt: str, flt: HistoryFilter) -> int:
    """Record who exported which events in which format; return the event's ``seq``."""
    if fmt not in FORMATS:
        raise InvalidInput(f"不支持的导出格式 {fmt}，可选：{', '.join(FORMATS)}")
    with writing(actor, "history.export"):
        event = history.append(
            actor,
            "history.export",
            "history",
            fmt,
            after={"format": fmt, "filters": flt.as_args()},
        )
    return event["seq"]


def export_filename(fmt: str, flt: HistoryFilter, moment: datetime | None = None) -> str:
    """Return the download name, e.g. ``变更历史-2026Q3-20261127-1600.csv``."""
    moment = (moment or datetime.now(UTC)).astimezone(SHANGHAI)
    parts = ["变更历史"]
    if flt.period:
        parts.append(flt.period)
    parts.append(moment.strftime("%Y%m%d-%H%M"))
    return "-".join(parts) + "." + fmt


def export_history(actor, fmt: str, flt: HistoryFilter) -> Export:
    """Log an export and return its byte stream (read lazily, in keyset batches)."""
    up_to = log_export(actor, fmt, flt)
    rows = iter_rows(flt, up_to=up_to)
    writer = {"csv": csv_chunks, "xlsx": xlsx_chunks, "jsonl": jsonl_chunks}[fmt]
    return Export(fmt, export_filename(fmt, flt), MIMETYPES[fmt], up_to, writer(rows))


def write_export(actor, fmt: str, flt: HistoryFilter, output: str) -> int:
    """Log an export and write it to the file ``output``; return the number of events."""
    up_to = log_export(actor, fmt, flt)
    counted = _Counter(iter_rows(flt, up_to=up_to))
    if fmt == "xlsx":
        write_xlsx(counted, output)
    else:
        writer = csv_chunks if fmt == "csv" else jsonl_chunks
        with open(output, "wb") as stream:
            for chunk in writer(counted):
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

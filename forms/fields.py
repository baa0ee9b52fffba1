"""Form fields shared by the admin's model forms and the custom pages."""

from __future__ import annotations

from wtforms import DateField

from evaluation.core.dates import DATE_HINT, parse_date

__all__ = ["LedgerDateField"]


class LedgerDateField(DateField):
    """A date typed as people type it (``evaluation.core.dates``: 2026/10/1, 2026-10-01,
    2026.10.1), shown as 2026-10-01; a wrong one is refused naming the expected format."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        self.data = parse_date(text)
        if text and self.data is None:
            raise ValueError(f"无法识别的日期“{text}”，请按 {DATE_HINT} 的格式填写")

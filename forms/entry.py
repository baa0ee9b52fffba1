"""Forms of the score-entry page: the grid of cells, bonus/penalty items, vetoes and the
reasons the period workflow asks for.

The grid has as many cells as the page shows (19 indicators of a town, or every town
for one indicator), so it is read from the posted fields by index (``cells-<i>-…``)
rather than declared field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from evaluation.scores.values import read_number_text
from models.ledger import ADJUSTMENT_KINDS

#: A page never shows more cells than this; anything beyond is ignored.
MAX_CELLS = 5000
REASON_MAX = 1000


@dataclass
class CellInput:
    """One posted cell: what the user typed and what the page showed when it was drawn."""

    index: int
    unit: str
    indicator: str
    value: str
    note: str
    #: The score's version the page was drawn with; None when the cell was empty.
    version: int | None
    original_value: str
    original_note: str

    @property
    def value_changed(self) -> bool:
        return not same_value(self.value, self.original_value)

    @property
    def changed(self) -> bool:
        return self.value_changed or self.note != self.original_note


def same_value(a: str, b: str) -> bool:
    """Tell whether two typed values mean the same thing (``5`` and ``5.0`` do).

    Numbers are read by the ledger's own rule: ``1e3`` is not taken for a stored
    1000 and skipped, it is sent and refused like any value written that way.
    """
    if a == b:
        return True
    try:
        return read_number_text(a) == read_number_text(b)
    except ValueError:
        return False


def parse_grid(formdata) -> list[CellInput]:
    """Read the posted grid cells in page order."""
    cells: list[CellInput] = []
    for index in range(MAX_CELLS):
        prefix = f"cells-{index}-"
        if prefix + "unit" not in formdata:
            break
        raw_version = (formdata.get(prefix + "version") or "").strip()
        cells.append(
            CellInput(
                index=index,
                unit=(formdata.get(prefix + "unit") or "").strip(),
                indicator=(formdata.get(prefix + "indicator") or "").strip(),
                value=(formdata.get(prefix + "value") or "").strip(),
                note=(formdata.get(prefix + "note") or "").strip(),
                version=int(raw_version) if raw_version.isdigit() else None,
                original_value=(formdata.get(prefix + "orig_value") or "").strip(),
                original_note=(formdata.get(prefix + "orig_note") or "").strip(),
            )
        )
    return cells


def _reason_field(label):
    return TextAreaField(
        label,
        validators=[
            DataRequired(message=_l("请填写理由")),
            Length(max=REASON_MAX, message=_l("理由不超过 1000 字")),
        ],
        filters=[lambda text: text.strip() if isinstance(text, str) else text],
    )


class AdjustmentForm(FlaskForm):
    """加减分: kind, points (> 0, two decimals) and a reason."""

    kind = SelectField(
        _l("类型"),
        choices=list(ADJUSTMENT_KINDS.items()),
        validators=[DataRequired(message=_l("请选择加分或减分"))],
    )
    points = DecimalField(
        _l("分值"),
        places=2,
        validators=[
            InputRequired(message=_l("请填写分值")),
            NumberRange(min=Decimal("0.01"), message=_l("分值须大于 0")),
        ],
    )
    reason = _reason_field(_l("理由"))

    def validate_points(self, field) -> None:
        if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
            raise ValidationError(_l("分值最多两位小数"))


class VetoForm(FlaskForm):
    """一票否决: a reason is required."""

    reason = _reason_field(_l("否决理由"))


class ReasonForm(FlaskForm):
    """A reason for removing an item, returning or reopening a period."""

    reason = _reason_field(_l("理由"))


class ApprovalForm(FlaskForm):
    """审定: an override reason, needed only while some unit lacks values."""

    override_reason = TextAreaField(
        _l("审定说明"),
        validators=[Optional(), Length(max=REASON_MAX, message=_l("审定说明不超过 1000 字"))],
        filters=[lambda text: text.strip() if isinstance(text, str) else text],
    )


def form_errors(form: FlaskForm) -> list[str]:
    """Flatten a form's errors into messages that name their field."""
    messages = []
    for name, errors in form.errors.items():
        field = getattr(form, name, None)
        label = field.label.text if field is not None else name
        for error in errors:
            messages.append(f"{label}：{error}")
    return messages

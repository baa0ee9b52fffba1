"""The score-import page's form (docs/rules.md#import-file): period, level, file, dry run or apply,
and
whether to overwrite stored values a file without versions would change (with a reason)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from models.units import LEVELS

MODES = [("dry_run", _l("试导入（只检查，显示将变更的内容，不写入）")), ("apply", _l("正式导入"))]


class ImportForm(FlaskForm):
    period = SelectField(_l("考核周期"), validators=[DataRequired()], choices=[])
    level = SelectField(
        _l("层级"), choices=list(LEVELS.items()), default="town", validators=[DataRequired()]
    )
    file = FileField(
        _l("导入文件（XLSX 或 CSV）"),
        validators=[
            FileRequired(_l("请选择要导入的文件")),
            FileAllowed(["xlsx", "csv"], _l("只支持 XLSX 或 CSV 文件")),
        ],
    )
    mode = RadioField(_l("方式"), choices=MODES, default="dry_run", validators=[DataRequired()])
    overwrite = BooleanField(_l("覆盖已有数值（文件没有版本号和导出时间时，允许修改已录入的数值）"))
    #: Required with ``overwrite`` (the import service refuses it blank); it becomes the
    #: ``reason`` of the history events of the values overwritten.
    reason = TextAreaField(_l("覆盖原因"), validators=[Length(max=500)])


class ConfirmImportForm(FlaskForm):
    """确认导入 after a clean dry run: the file stays on the server under ``token``."""

    token = HiddenField(validators=[DataRequired()])
    sha256 = HiddenField(validators=[DataRequired()])

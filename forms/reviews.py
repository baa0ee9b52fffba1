"""Forms of the typical-village review board (研判)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from models.reviews import CONCLUSIONS


class ReviewForm(FlaskForm):
    """One review visit; the service checks the rules again (every door meets them)."""

    period = HiddenField()
    date = DateField(_l("研判日期"), validators=[DataRequired(message=_l("请填写研判日期"))])
    visitors = StringField(
        _l("走访人员"),
        validators=[DataRequired(message=_l("请填写走访人员")), Length(max=255)],
    )
    findings = TextAreaField(
        _l("发现的问题或情况"),
        validators=[DataRequired(message=_l("请填写发现的问题或情况")), Length(max=4000)],
    )
    #: No conclusion is preselected: the reviewer chooses one (docs/rules.md#review-flags).
    conclusion = SelectField(
        _l("研判结论"),
        choices=[("", _l("请选择"))] + [(c, c) for c in CONCLUSIONS],
        validators=[DataRequired(message=_l("请选择研判结论"))],
    )
    actions = TextAreaField(_l("整改措施"), validators=[Optional(), Length(max=4000)])
    next_visit = DateField(_l("下次走访"), validators=[Optional()])
    close_older = BooleanField(_l("同时办结本村以往各期未办结的研判任务"))


class CloseCaseForm(FlaskForm):
    """Close (办结) a review case with a reason."""

    reason = TextAreaField(
        _l("办结理由"),
        validators=[DataRequired(message=_l("请填写办结理由")), Length(max=1000)],
    )


class OpenCasesForm(FlaskForm):
    """Open the period's review cases from its flags (the CSRF token is the whole form)."""

    period = HiddenField()

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired()])
    new = PasswordField(
        _l("新密码"),
        validators=[DataRequired(), Length(min=10, max=256, message=_l("新密码至少 10 位"))],
    )
    confirm = PasswordField(
        _l("确认新密码"),
        validators=[DataRequired(), EqualTo("new", message=_l("两次输入的新密码不一致"))],
    )

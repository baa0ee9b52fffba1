"""Login, logout and password change (docs/architecture.md#pages-and-doors,
docs/rules.md#security)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from evaluation.accounts import operations as accounts
from evaluation.core.writing import ServiceError, TooManyAttempts
from evaluation.extensions import login_manager
from forms.auth import LoginForm, PasswordForm
from models import User, db

bp = Blueprint("auth", __name__)



def init_app(app: Flask) -> None:
    """Register the auth pages and the user loader."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return accounts.user_for_session(user_id)


def client_address() -> str:
    """The client's address: the connection's, or X-Forwarded-For's when the app is told
    to trust that many proxies (``PROXY_FIX_X_FOR``, docs/rules.md#security)."""
    return request.remote_addr or "unknown"


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is an on-site path, else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("admin.index"))
    if form.validate_on_submit():
        username = form.username.data.strip()
        address = client_address()
        try:
            attempt = accounts.claim_login_attempt(username, address)
        except TooManyAttempts as error:
            flash(error.message, "error")
            page = render_template("login.html", form=form, next_url=next_url)
            return page, 429, {"Retry-After": str(error.retry_after)}
        user = db.session.scalar(db.select(User).where(User.username == username))
        if accounts.check_password(user, form.password.data) and user.active:
            accounts.clear_login_failures(username, address, attempt)
            login_user(user)
            return redirect(next_url or url_for("admin.index"))
        flash("用户名或密码不正确。", "error")
        return render_template("login.html", form=form, next_url=next_url), 401
    return render_template("login.html", form=form, next_url=next_url)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        accounts.end_sessions(current_user)
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = current_user._get_current_object()
            accounts.change_own_password(
                user, form.current.data, form.new.data, address=client_address()
            )
        except ServiceError as error:
            flash(error.message, "error")
            if isinstance(error, TooManyAttempts):
                page = render_template("password.html", form=form)
                return page, 429, {"Retry-After": str(error.retry_after)}
        else:
            login_user(user)  # this session carries the new nonce; every other one ends
            flash("密码已修改。", "success")
            return redirect(url_for("admin.index"))
    return render_template("password.html", form=form)

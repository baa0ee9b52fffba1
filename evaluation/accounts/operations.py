"""Users, passwords, API tokens and login throttling."""

from __future__ import annotations

import hashlib
import math
import secrets
from contextlib import contextmanager
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, func, select

from evaluation.core.writing import InvalidInput, TooManyAttempts, writing
from evaluation.database import LOGIN_LOCK_KEY, take_write_lock
from evaluation.history import chain as history
from evaluation.history import records
from models import ROLES, ApiToken, LoginFailure, Unit, User, db
from models.types import utcnow
from models.users import UNIT_ROLES

_DEFAULT_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _hasher() -> PasswordHasher:
    if current_app and current_app.config.get("PASSWORD_HASH_FAST"):
        return _FAST_HASHER
    return _DEFAULT_HASHER


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Tell whether ``password`` is the user's (constant work even without a user)."""
    if user is None or not user.password_hash:
        _hasher().hash(password)  # same cost either way: no user enumeration by timing
        return False
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """Return a random password fit for printing once."""
    return secrets.token_urlsafe(12)


def _check_new_password(password: str) -> None:
    if len(password) < 10:
        raise InvalidInput("密码至少 10 位")


def create_user(actor, username: str, role: str, password: str, **fields) -> User:
    """Create a user with a hashed password."""
    if role not in ROLES:
        raise InvalidInput(f"未知角色 {role}，可选：{', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise InvalidInput("用户名不能为空，且不超过 64 个字符")
    _check_new_password(password)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput(f"用户名 {username} 已存在")
    return records.create(
        actor,
        User,
        {"username": username, "role": role, "password_hash": hash_password(password), **fields},
    )


# --- sessions (docs/rules.md#security) ------------------------------------------------


def new_session_nonce(user: User) -> None:
    """Give ``user`` a new session nonce inside the caller's transaction: every session
    cookie made before names the old one and is no longer honoured."""
    user.session_nonce = secrets.token_hex(16)


def end_sessions(user: User) -> None:
    """End every session of ``user`` (logout). Not a ledger change: no history event."""
    session = db.session
    session.commit()
    try:
        fresh = session.get(User, user.id, populate_existing=True)
        if fresh is not None:
            new_session_nonce(fresh)
        session.commit()
    except BaseException:
        session.rollback()
        raise


def user_for_session(user_id: str) -> User | None:
    """The active user a session's ``<id>:<nonce>`` names, if the nonce is still theirs."""
    number, _, nonce = user_id.partition(":")
    if not (number.isascii() and number.isdigit()) or len(number) > 10 or not nonce:
        return None
    user = db.session.get(User, int(number))
    if user is None or not user.active:
        return None
    return user if secrets.compare_digest(user.session_nonce, nonce) else None


def _rotate_on_deactivation(user: User, values, created: bool) -> None:
    if not created and values is not None and values.get("active") is False:
        new_session_nonce(user)


def _unit_matches_role(user: User, values, created: bool) -> None:
    """A reporter is bound to one active town; no other role has a unit
    (docs/reporting.md#the-reporter; the ``unit_bound`` CHECK is the guard behind this)."""
    if values is None:  # deleting
        return
    with db.session.no_autoflush:
        if "unit" in values:  # the relationship as set; unit_id follows at the flush
            unit = values["unit"]
        elif values.get("unit_id") is not None:
            unit = db.session.get(Unit, values["unit_id"])
        elif "unit_id" in values:
            unit = None
        else:
            unit = user.unit
    if user.role in UNIT_ROLES:
        if unit is None:
            raise InvalidInput("镇街填报员须绑定所在镇街（单位）")
        if unit.level != "town" or not unit.active:
            raise InvalidInput(f"{unit.name} 不是启用的镇街，填报员只能绑定镇街")
    elif unit is not None:
        raise InvalidInput("只有镇街填报员绑定单位，其他角色请留空")


records.add_rule(User, _rotate_on_deactivation)
records.add_rule(User, _unit_matches_role)


def set_password(actor, user: User, password: str) -> None:
    """Set a user's password (by an admin); the history records that, never the hash.
    The user's sessions end."""
    _check_new_password(password)
    with writing(actor, "user.write"):
        user.password_hash = hash_password(password)
        new_session_nonce(user)
        history.append(actor, "user.password_set", "user", user.username)


def change_own_password(user: User, current: str, new: str, *, address: str) -> None:
    """Change the logged-in user's own password after checking the current one; that
    check is throttled like a login from ``address`` (a stolen session cannot guess it)."""
    attempt = claim_login_attempt(user.username, address)
    if not check_password(user, current):
        raise InvalidInput("当前密码不正确")
    clear_login_failures(user.username, address, attempt)
    _check_new_password(new)
    with writing(user, "dashboard.view"):
        user.password_hash = hash_password(new)
        new_session_nonce(user)
        history.append(user, "user.password_change", "user", user.username)


# --- API tokens -------------------------------------------------------------


def token_digest(token: str) -> str:
    """Return the stored form of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(actor, user: User, name: str = "") -> str:
    """Create an API token for ``user``; return the token (shown once, stored hashed)."""
    token = "ldg_" + secrets.token_urlsafe(32)
    values = {"user": user, "name": name or user.username, "token_hash": token_digest(token)}
    records.create(actor, ApiToken, values)
    return token


def revoke_token(actor, token: ApiToken) -> None:
    """Revoke an API token."""
    records.update(actor, token, {"revoked_at": utcnow()})


def user_for_token(token: str) -> User | None:
    """Return the active user an unrevoked token belongs to."""
    return db.session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == token_digest(token),
            ApiToken.revoked_at.is_(None),
            User.active,
        )
    )


# --- login throttling (kept in the database: holds across worker processes) ----
# docs/rules.md#security: per account and address, with waits that double, never a lock
# that someone else's failures can put on the right password.


def _window_start():
    return utcnow() - timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])


def _pair_key(username: str, address: str) -> str:
    return f"pair:{username.lower()[:60]}|{address[:64]}"


def login_wait(username: str, address: str) -> int:
    """Seconds before this account may be tried again from this address (0: now)."""
    cfg = current_app.config
    count, last = db.session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.key == _pair_key(username, address), LoginFailure.at >= _window_start()
        )
    ).one()
    free = cfg["LOGIN_FREE_FAILURES"]
    if count < free or last is None:
        return 0
    window = cfg["LOGIN_FAILURE_WINDOW_SECONDS"]
    wait = min(cfg["LOGIN_BACKOFF_SECONDS"] * 2 ** min(count - free, 30), window)
    remaining = (last + timedelta(seconds=wait) - utcnow()).total_seconds()
    return max(0, math.ceil(remaining))


@contextmanager
def _counting():
    """One short write transaction on the login counters, serialized across every worker.

    A plain session would read first and write later; on SQLite two workers doing that at
    once make one fail with "database is locked", and two checks could both pass before
    either failure is counted. So the transaction begins holding the lock.
    """
    session = db.session
    session.commit()  # end any read transaction, so the lock is taken on fresh data
    try:
        take_write_lock(session, LOGIN_LOCK_KEY)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def claim_login_attempt(username: str, address: str) -> list[int]:
    """Count a password check as a failure of this account from this address before the
    password is checked; return the ids of what was counted (for ``clear_login_failures``
    on success). Raise ``TooManyAttempts`` while the pair must wait.

    Check and count are one serialized transaction, so a burst of guesses in parallel,
    across any number of workers, gets no more password checks than the rule allows.
    """
    with _counting() as session:
        wait = login_wait(username, address)
        if wait:
            raise TooManyAttempts(wait)
        counted = LoginFailure(key=_pair_key(username, address))
        session.add(counted)
        session.execute(delete(LoginFailure).where(LoginFailure.at < _window_start()))
        session.flush()
        return [counted.id]


def clear_login_failures(username: str, address: str, attempt: list[int] | tuple = ()) -> None:
    """Forget this account's failures from this address after the right password, and
    the attempt itself."""
    with _counting() as session:
        session.execute(
            delete(LoginFailure).where(
                (LoginFailure.key == _pair_key(username, address))
                | LoginFailure.id.in_(list(attempt))
            )
        )

"""民主测评 codes (docs/surveys.md#codes): making them, their stored form, and the throttle
on wrong ones (docs/surveys.md#throttling)."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from evaluation.core.writing import TooManyAttempts
from evaluation.database import LOGIN_LOCK_KEY, take_write_lock
from models import LoginFailure, db
from models.types import utcnow

#: Code characters: digits and capitals without the look-alikes 0/O, 1/I/L.
#: 31 characters, 12 of them: about 59 bits.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


def new_codes(count: int) -> list[str]:
    """``count`` fresh random codes (``secrets``), distinct."""
    codes: set[str] = set()
    while len(codes) < count:
        codes.add("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)))
    return sorted(codes, key=lambda _: secrets.randbits(32))


def normalize_code(text: str | None) -> str:
    """A code as typed or scanned: case, spaces and dashes do not matter."""
    return re.sub(r"[\s\-]", "", str(text or "")).upper()[:64]


def shown_code(code: str) -> str:
    """``ABCD-EFGH-JKMN``: a code in groups of four, for the slip."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def code_hash(code: str) -> str:
    """The stored form of a code: HMAC-SHA256 under the app's secret key, so a copy of the
    database alone cannot be searched for codes (docs/surveys.md#codes)."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, b"survey-code:" + code.encode("ascii"), hashlib.sha256).hexdigest()


def well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(c in ALPHABET for c in code)


# --- throttling wrong codes --------------------------------------------------------


def _address_key(address: str) -> str:
    return f"vote-addr|{(address or '')[:64]}"


def _scope_key(survey_id: int | None) -> str:
    return f"vote-survey|{survey_id}" if survey_id else "vote-site"


def _wait(key: str, free: int) -> int:
    cfg = current_app.config
    window = cfg["VOTE_FAILURE_WINDOW_SECONDS"]
    since = utcnow() - timedelta(seconds=window)
    count, last = db.session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.key == key, LoginFailure.at >= since
        )
    ).one()
    if count < free or last is None:
        return 0
    wait = min(cfg["VOTE_BACKOFF_SECONDS"] * 2 ** min(count - free, 20), window)
    return max(0, math.ceil((last + timedelta(seconds=wait) - utcnow()).total_seconds()))


def code_wait(address: str, survey_id: int | None = None) -> int:
    """Seconds before a code may be tried again from ``address`` (and for the survey, or
    site-wide when no survey is named): wrong codes are throttled like wrong passwords
    (docs/surveys.md#throttling)."""
    cfg = current_app.config
    return max(
        _wait(_address_key(address), cfg["VOTE_FREE_FAILURES"]),
        _wait(_scope_key(survey_id), cfg["VOTE_SURVEY_FREE_FAILURES"]),
    )


def refuse_if_throttled(address: str, survey_id: int | None) -> None:
    wait = code_wait(address, survey_id)
    if wait:
        error = TooManyAttempts(wait)
        error.message = f"输入错误的测评码次数过多，请 {wait} 秒后再试。"
        raise error


def count_wrong_code(address: str, survey_id: int | None) -> None:
    """Count a wrong code against the address and the survey (or the site), in a short
    transaction of its own under the throttle's lock. Only wrong codes are counted: a
    right code leaves no address behind."""
    session = db.session
    session.rollback()
    try:
        take_write_lock(session, LOGIN_LOCK_KEY)
        session.add(LoginFailure(key=_address_key(address)))
        session.add(LoginFailure(key=_scope_key(survey_id)))
        since = utcnow() - timedelta(seconds=current_app.config["VOTE_FAILURE_WINDOW_SECONDS"])
        session.execute(
            delete(LoginFailure).where(LoginFailure.at < since, LoginFailure.key.like("vote-%"))
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise

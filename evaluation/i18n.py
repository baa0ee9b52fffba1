"""Locale and time zone: Simplified Chinese by default, English on request."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, request, session

SHANGHAI = ZoneInfo("Asia/Shanghai")


def select_locale() -> str:
    """Pick the session's chosen language, else the default (zh_CN)."""
    chosen = session.get("lang") if request else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """Show times in Asia/Shanghai."""
    return "Asia/Shanghai"


def local_time(moment: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Format a stored UTC time (naive datetime or history ``at`` text) in Asia/Shanghai."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S.%fZ")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI).strftime(fmt)

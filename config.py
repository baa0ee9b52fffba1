"""Configuration classes: safe defaults, overridden by ``instance/config.py`` and the
environment (``DATABASE_URL``, ``SECRET_KEY``, ``FLASK_*``)."""

import os


class Config:
    #: None means "SQLite file in the instance folder", resolved by ``create_app``.
    SQLALCHEMY_DATABASE_URI = None
    #: pool_pre_ping: a connection the database dropped (restart, idle timeout) is
    #: replaced before use instead of failing a request with a 500.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SECRET_KEY = None

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    #: Set true when the app is served over HTTPS (behind a TLS-terminating proxy).
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 8 * 3600

    #: The largest request body, app-wide (413 上传文件过大): the import's 30 MB file and
    #: its form (docs/import.md#limits).
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    #: Form text fields (not files) in one request; Werkzeug's default is 500 KB.
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None

    #: Login throttling (docs/rules.md#security), per account *and* address: after this
    #: many failures within the window, each further try waits LOGIN_BACKOFF_SECONDS,
    #: doubled at every failure, at most the window. The right password from another
    #: address is never held up; the current-password check of a password change counts
    #: the same way.
    LOGIN_FREE_FAILURES = 5
    LOGIN_BACKOFF_SECONDS = 30
    LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60

    #: Proxies in front of the app that set X-Forwarded-For (and -Proto): 0 trusts none
    #: (the address is the connection's); 1 behind the README's nginx. Only then is the
    #: client's own address used for throttling (werkzeug's ProxyFix).
    PROXY_FIX_X_FOR = 0

    #: Typical-village review thresholds (docs/rules.md#review-flags).
    FLAG_LOW_SCORE = 60
    FLAG_DROP = 10
    FLAG_BOTTOM_N = 3
    FLAG_REVIEW_DAYS = 90

    #: Where 佐证材料 are stored (docs/evidence.md#where-files-live): a directory (None
    #: means ``instance/evidence/``) or ``s3://bucket/prefix`` (endpoint and keys from the
    #: environment: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, …).
    EVIDENCE_STORE = None
    #: The largest evidence file (413 上传文件过大 above it, nothing kept).
    EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
    #: A DOCX/XLSX/OFD (a zip) may hold at most this many entries, unpacking to at most
    #: this many bytes, at most this many times its own size (the zip-bomb guard).
    EVIDENCE_ZIP_MAX_ENTRIES = 10_000
    EVIDENCE_ZIP_MAX_UNPACKED = 200 * 1024 * 1024
    EVIDENCE_ZIP_MAX_RATIO = 100

    FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION = False
    FLASK_ADMIN_FLUID_LAYOUT = True


class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION = True
    #: Fast hashes in tests only; production uses argon2id defaults.
    PASSWORD_HASH_FAST = True


def environment_overrides() -> dict:
    """Read the settings the environment may override."""
    overrides: dict = {}
    if os.environ.get("DATABASE_URL"):
        overrides["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if os.environ.get("SECRET_KEY"):
        overrides["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("PROXY_FIX_X_FOR", "").isdigit():
        overrides["PROXY_FIX_X_FOR"] = int(os.environ["PROXY_FIX_X_FOR"])
    if os.environ.get("EVIDENCE_STORE"):
        overrides["EVIDENCE_STORE"] = os.environ["EVIDENCE_STORE"]
    if os.environ.get("EVIDENCE_MAX_BYTES", "").isdigit():
        overrides["EVIDENCE_MAX_BYTES"] = int(os.environ["EVIDENCE_MAX_BYTES"])
    if os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes"):
        overrides["SESSION_COOKIE_SECURE"] = True
        overrides["REMEMBER_COOKIE_SECURE"] = True
    return overrides

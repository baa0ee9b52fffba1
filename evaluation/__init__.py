"""担当作为考核评价台账: the application package.

``create_app`` builds one app: configuration, database, extensions, the admin,
the JSON API and the CLI. The scoring engine in ``evaluation.scoring`` stands on
its own and imports nothing from here.
"""

from __future__ import annotations

import gc
import os
import secrets
import time
from pathlib import Path

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the ledger application."""
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.from_object("config.Config")
    app.config.from_pyfile("config.py", silent=True)
    from config import environment_overrides

    app.config.from_prefixed_env("FLASK")
    app.config.update(environment_overrides())
    if test_config is not None:
        app.config.update(test_config)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        db_file = Path(app.instance_path) / "ledger.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))

    proxies = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if proxies:
        # Trust X-Forwarded-For/-Proto only from this many proxies (docs/rules.md#security).
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    _init_extensions(app)

    from evaluation import auth, security, web

    security.init_app(app)
    auth.init_app(app)
    web.init_app(app)
    from evaluation.evidence import web as evidence_web

    evidence_web.init_app(app)

    from evaluation import api, cli
    from evaluation.admin import init_admin

    api.init_app(app)
    cli.init_app(app)
    init_admin(app)
    return app


def settle_worker() -> None:
    """Take a server process's start-up objects out of the garbage collector's rounds.

    Called once the app is built (``wsgi.py``). Modules, templates, SQLAlchemy's
    metadata and the like live as long as the process; left in the collector's care,
    each full collection walks all of them again, and a request that makes many objects
    (a province ranking makes some 200,000) triggers several: about a fifth of its time.
    ``gc.freeze`` moves them to a generation that is never collected (Python docs,
    ``gc.freeze``); everything made afterwards is collected as usual.
    """
    gc.collect()
    gc.freeze()


def _init_extensions(app: Flask) -> None:
    from evaluation.database import configure_engine
    from evaluation.extensions import babel, csrf, login_manager, migrate
    from evaluation.i18n import select_locale, select_timezone
    from models import db

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)


def _instance_secret_key(instance: Path) -> str:
    """Read the generated secret key from the instance folder, creating it once."""
    path = instance / "secret_key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker is writing it right now
            time.sleep(0.2)
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip()

"""The app factory and its configuration."""

import stat

from evaluation import create_app


def test_testing_config_is_applied(app):
    assert app.config["TESTING"] is True
    assert app.config["SECRET_KEY"] == "test-secret-key"


def test_default_database_is_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", "from-environment")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/ledger.sqlite3")
    assert app.config["SECRET_KEY"] == "from-environment"
    assert not app.debug


def test_database_url_selects_postgresql(monkeypatch):
    url = "postgresql+psycopg://ledger@db.example/ledger"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "x")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


def test_secret_key_generated_into_instance(tmp_path, monkeypatch):
    import evaluation

    monkeypatch.delenv("SECRET_KEY", raising=False)
    key_file = tmp_path / "secret_key"
    first = evaluation._instance_secret_key(tmp_path)
    second = evaluation._instance_secret_key(tmp_path)
    assert first == second and len(first) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_chinese_is_the_default_language(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert "用户名" in page and "密码" in page

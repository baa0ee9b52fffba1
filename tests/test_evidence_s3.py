"""The S3 evidence store against a local S3-compatible server (moto in server mode, on a
loopback port): stored once, downloads, verify, a killed upload (docs/evidence.md)."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import select

pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

from moto.server import ThreadedMotoServer  # noqa: E402

from evaluation.evidence import operations as evidence  # noqa: E402
from evaluation.evidence.store import S3Store, current_store  # noqa: E402
from models import Evidence, db  # noqa: E402
from tests import evidence_files as files  # noqa: E402
from tests.conftest import user  # noqa: E402
from tests.ledger_world import build_world  # noqa: E402

BUCKET = "ledger-evidence"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(app, s3_endpoint, monkeypatch, tmp_path):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
    }.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    app.config["EVIDENCE_STORE"] = f"s3://{BUCKET}/佐证"
    app.config["EVIDENCE_TEMP_DIR"] = str(tmp_path / "incoming")
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client):
    answer = client.list_objects_v2(Bucket=BUCKET)
    return sorted(item["Key"] for item in answer.get("Contents", []))


def test_a_file_goes_to_the_bucket_once_and_comes_back(app, s3, client, auth):
    data = files.pdf("s3")
    digest = hashlib.sha256(data).hexdigest()
    with app.app_context():
        build_world()
        assert isinstance(current_store(), S3Store)
        for target in (1, 2):
            evidence.add_evidence(
                user("assessor"),
                data,
                filename="验收.pdf",
                target_type="score",
                target_id=target,
            )
        assert db.session.scalar(select(db.func.count()).select_from(Evidence)) == 1
    assert _keys(s3) == [f"佐证/{digest[:2]}/{digest[2:]}"]
    auth.login("auditor")
    answer = client.get(f"/evidence/{digest}")
    assert answer.status_code == 200 and answer.data == data
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_verify_reads_the_bucket(app, s3, runner):
    with app.app_context():
        build_world()
        found = evidence.add_evidence(
            user("assessor"), files.png(), filename="a.png", target_type="score", target_id=1
        )
        sha = found.sha256
    assert runner.invoke(args=["verify-evidence"]).exit_code == 0
    s3.put_object(Bucket=BUCKET, Key=f"佐证/{sha[:2]}/{sha[2:]}", Body=b"not the photo")
    result = runner.invoke(args=["verify-evidence"])
    assert result.exit_code == 1 and f"被改动：{sha}" in result.output


def test_a_killed_upload_puts_nothing_in_the_bucket(app, s3, tmp_path):
    class Dropped(io.RawIOBase):
        def __init__(self):
            self.left = 2

        def readable(self):
            return True

        def read(self, size=-1):
            if self.left == 0:
                raise ConnectionResetError("gone")
            self.left -= 1
            return b"%PDF-1.4 " + b"0" * max(0, (size or 1) - 9)

    with app.app_context():
        build_world()
        with pytest.raises(ConnectionResetError):
            evidence.add_evidence(
                user("assessor"), Dropped(), filename="a.pdf", target_type="score", target_id=1
            )
        assert db.session.scalar(select(db.func.count()).select_from(Evidence)) == 0
    assert _keys(s3) == []
    assert list((tmp_path / "incoming").iterdir()) == []

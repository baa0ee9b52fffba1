"""The evidence doors: download headers, inline only for PDF and images, thumbnails,
403 for whoever may not see, the attach door, and the API (docs/evidence.md#downloads)."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image
from sqlalchemy import select

from evaluation.accounts import operations as accounts
from evaluation.evidence import operations as evidence
from models import Evidence, EvidenceLink, Score, db
from tests import evidence_files as files
from tests.conftest import SEED_ACTOR, user
from tests.ledger_world import build_world, fill_towns, open_period


@pytest.fixture
def stored(app):
    """A PDF, a photo and a DOCX, linked to one score of the open 2026Q3."""
    with app.app_context():
        world = build_world()
        period = open_period(world)
        fill_towns(world, period)
        score = db.session.scalars(select(Score).order_by(Score.id)).first()
        made = {}
        for key, data, name in (
            ("pdf", files.pdf(), "验收报告.pdf"),
            ("jpeg", files.jpeg(), "现场照片.jpg"),
            ("docx", files.docx(), "项目清单.docx"),
        ):
            found = evidence.add_evidence(
                user("assessor"),
                data,
                filename=name,
                target_type="score",
                target_id=score.id,
                period_id=period.id,
                unit_id=score.unit_id,
            )
            made[key] = (found.sha256, data)
        made["score_id"] = score.id
        made["tokens"] = {
            role: accounts.create_token(SEED_ACTOR, user(role))
            for role in ("assessor", "reviewer", "auditor")
        }
        db.session.remove()
    return made


def test_a_download_is_an_attachment_under_its_chinese_name(client, auth, stored):
    auth.login("supervisor")
    sha, data = stored["pdf"]
    answer = client.get(f"/evidence/{sha}")
    assert answer.status_code == 200
    assert answer.data == data
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E9%AA%8C%E6%94%B6%E6%8A%A5%E5%91%8A.pdf" in disposition
    assert answer.headers["Content-Length"] == str(len(data))


def test_inline_only_for_pdf_and_images(client, auth, stored):
    auth.login("assessor")
    pdf = client.get(f"/evidence/{stored['pdf'][0]}?inline=1")
    assert pdf.headers["Content-Disposition"].startswith("inline;")
    assert pdf.headers["Content-Type"] == "application/pdf"
    photo = client.get(f"/evidence/{stored['jpeg'][0]}?inline=1")
    assert photo.headers["Content-Disposition"].startswith("inline;")
    docx = client.get(f"/evidence/{stored['docx'][0]}?inline=1")
    assert docx.headers["Content-Disposition"].startswith("attachment;")


def test_a_thumbnail_is_a_small_jpeg_without_exif(client, auth, stored):
    auth.login("assessor")
    answer = client.get(f"/evidence/{stored['jpeg'][0]}/thumb")
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(answer.data)) as image:
        assert max(image.size) <= 240
        assert not image.getexif().get_ifd(0x8825)
    assert client.get(f"/evidence/{stored['pdf'][0]}/thumb").status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("assessor", 200), ("supervisor", 200), ("auditor", 200), ("reviewer", 403)],
)
def test_who_may_download(client, auth, stored, role, status):
    auth.login(role)
    assert client.get(f"/evidence/{stored['pdf'][0]}").status_code == status
    assert client.get(f"/evidence/{stored['jpeg'][0]}/thumb").status_code == status


def test_anonymous_goes_to_login_and_unknown_hashes_are_404(client, auth, stored):
    answer = client.get(f"/evidence/{stored['pdf'][0]}")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    auth.login("admin")
    assert client.get("/evidence/" + "0" * 64).status_code == 404
    assert client.get("/evidence/not-a-hash").status_code == 404


def test_the_api_gives_the_file_with_the_same_rule(client, stored):
    sha, data = stored["pdf"]

    def get(role, path=f"/api/v1/evidence/{sha}"):
        headers = {"Authorization": f"Bearer {stored['tokens'][role]}"} if role else {}
        return client.get(path, headers=headers)

    answer = get("assessor")
    assert answer.status_code == 200 and answer.data == data
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    refused = get("reviewer")
    assert refused.status_code == 403 and refused.json["status"] == 403
    assert get(None).status_code == 401
    assert get("auditor", "/api/v1/evidence/" + "f" * 64).status_code == 404
    assert "/api/v1/evidence/{sha256}" in client.get("/api/v1/openapi.json").json["paths"]


def test_the_attach_door_stores_and_refuses(app, client, auth, stored):
    auth.login("assessor")
    target = {"target_type": "score", "target_id": str(stored["score_id"])}
    photo = files.png((50, 50), (1, 1, 1))
    answer = client.post(
        "/evidence/attach",
        data={**target, "file": (io.BytesIO(photo), "新照片.png"), "next": "/admin/entry/"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/admin/entry/")
    html = client.post(
        "/evidence/attach",
        data={**target, "file": (io.BytesIO(files.HTML), "报告.pdf")},
        content_type="multipart/form-data",
    )
    assert html.status_code == 422 and "网页或文本" in html.get_data(as_text=True)
    app.config["EVIDENCE_MAX_BYTES"] = 2000
    big = client.post(
        "/evidence/attach",
        data={**target, "file": (io.BytesIO(b"%PDF-1.4 " + b"0" * 3000), "大.pdf")},
        content_type="multipart/form-data",
    )
    assert big.status_code == 413
    auth.logout()
    auth.login("reviewer")
    again = client.post(
        "/evidence/attach",
        data={**target, "file": (io.BytesIO(photo), "x.png")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 403
    with app.app_context():
        digest = hashlib.sha256(photo).hexdigest()
        assert db.session.scalar(select(Evidence).where(Evidence.sha256 == digest)) is not None
        assert db.session.scalar(select(db.func.count()).select_from(EvidenceLink)) == 4


def test_the_unlink_door_needs_a_reason(app, client, auth, stored):
    with app.app_context():
        link = evidence.evidence_for("score", stored["score_id"])[0]
        link_id = link.id
    auth.login("assessor")
    client.post("/evidence/unlink", data={"link_id": link_id, "reason": "", "next": "/admin/"})
    with app.app_context():
        assert len(evidence.evidence_for("score", stored["score_id"])) == 3
    client.post("/evidence/unlink", data={"link_id": link_id, "reason": "重复", "next": "/admin/"})
    with app.app_context():
        assert len(evidence.evidence_for("score", stored["score_id"])) == 2


def test_a_sideways_phone_photo_gets_an_upright_thumbnail(app, client, auth, stored):
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    Image.new("RGB", (400, 200), (10, 20, 30)).save(out, "JPEG", exif=exif)
    with app.app_context():
        sha = evidence.add_evidence(
            user("assessor"), out.getvalue(), filename="竖拍.jpg", target_type="score",
            target_id=stored["score_id"],
        ).sha256  # fmt: skip
    auth.login("assessor")
    with Image.open(io.BytesIO(client.get(f"/evidence/{sha}/thumb").data)) as thumb:
        assert thumb.size[1] > thumb.size[0]

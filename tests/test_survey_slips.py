"""``flask survey-codes`` and the slips' PDF (docs/surveys.md#slips): the codes printed one
per line, an A4 page of cut-out slips whose QR codes open the voting page with the code."""

from __future__ import annotations

import io
import os

import pytest
from sqlalchemy import func, select

from models import SurveyCode, db
from tests.survey_world import make_survey

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK) and os.environ.get("E2E_REQUIRED") != "1",
    reason="Chromium is not installed at /usr/bin/chromium",
)


@needs_chromium
def test_survey_codes_prints_the_codes_and_writes_slips_whose_qr_opens_the_ballot(
    app, runner, tmp_path
):
    import pypdfium2
    import zxingcpp
    from pypdf import PdfReader

    with app.app_context():
        survey = make_survey()
        survey_id = survey.id
    output = tmp_path / "slips.pdf"
    result = runner.invoke(
        args=["survey-codes", str(survey_id), "--group", "群众代表", "--count", "12",
              "--output", str(output), "--url", "http://vote.example.cn/vote"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    codes = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(codes) == 12 and all(len(c) == 12 for c in codes)
    reader = PdfReader(io.BytesIO(output.read_bytes()))
    assert len(reader.pages) == 2  # ten slips to an A4 page
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert "群众代表" in text
    shown = {f"{c[:4]}-{c[4:8]}-{c[8:]}" for c in codes}
    assert all(code in text for code in shown)
    # Every QR code on the first page decodes to the voting address with its code.
    page = pypdfium2.PdfDocument(output.read_bytes())[0].render(scale=150 / 72).to_pil()
    found = {r.text for r in zxingcpp.read_barcodes(page)}
    assert len(found) == 10
    assert found <= {f"http://vote.example.cn/vote?code={c}" for c in codes}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyCode)) == 12


def test_survey_codes_refuses_an_unknown_group_in_one_line_storing_nothing(app, runner, tmp_path):
    with app.app_context():
        survey = make_survey()
        survey_id = survey.id
    output = tmp_path / "slips.pdf"
    result = runner.invoke(
        args=["survey-codes", str(survey_id), "--group", "外来人员", "--count", "3",
              "--output", str(output)]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "没有“外来人员”这个测评人群体" in result.output
    assert not output.exists()
    missing = runner.invoke(args=["survey-codes", "999", "--group", "x", "--count", "1",
                                  "--output", str(output)])  # fmt: skip
    assert missing.exit_code == 1 and "没有这次民主测评" in missing.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyCode)) == 0

"""The district demo's 镇街报送 (docs/demo.md, docs/reporting.md): a reporter per town,
the open period's deadline, and claims in every state, with small evidence files made
here by code (a PDF and a JPEG photo with EXIF time and GPS). All through the reporting
room's operations, acting as the towns' reporters and the assessor.
"""

from __future__ import annotations

import io
from datetime import timedelta
from fractions import Fraction

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from evaluation.history import records
from evaluation.reporting import operations as reporting
from models import Indicator, Score, db

#: Town indicator code → the evidence its claim must carry (shown to reporters).
EVIDENCE_REQUIRED = {
    "A04": "项目清单、签约协议",
    "B01": "项目清单、验收报告",
    "B03": "整治前后现场照片",
}
#: Days from the demo's today to the open period's reporting deadline.
DUE_IN_DAYS = 6
#: The reporter of the first town is ``reporter``; the others ``reporter2``, ``reporter3`` …
DISPLAY = "{town} 填报员"


def reporter_username(index: int) -> str:
    return "reporter" if index == 0 else f"reporter{index + 1}"


def sample_pdf(text: str) -> bytes:
    """A tiny valid one-page PDF with ``text`` (ASCII) on it."""
    body = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def _dms(x: float):
    d = int(x)
    m = int((x - d) * 60)
    s = ((x - d) * 60 - m) * 60
    return (IFDRational(d, 1), IFDRational(m, 1), IFDRational(Fraction(s).limit_denominator(10000)))


def sample_photo(taken: str, lat: float, lon: float, color=(90, 140, 60)) -> bytes:
    """A small JPEG 'photo' with EXIF DateTimeOriginal and a GPS position."""
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
    image = Image.new("RGB", (160, 120), color)
    for x in range(0, 160, 8):  # a few stripes, so the thumbnail is not one flat colour
        for y in range(0, 120):
            image.putpixel((x, y), (240, 240, 230))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=80)
    return out.getvalue()


class _Named(io.BytesIO):
    """Bytes with a file name, as an upload has."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name


def create(seeder, period_code: str) -> None:
    """Reporters for every town, the open period's deadline, and its claims: three towns
    that have no scores yet report (one verified in part, one waiting, one still
    drafting); the others have not begun."""
    admin = seeder.actor("admin")
    assessor = seeder.actor("assessor")
    towns = list(seeder.towns.values())
    for index, town in enumerate(towns):
        seeder.ensure_user(
            admin, "reporter", reporter_username(index), DISPLAY.format(town=town.name), None,
            unit=town,
        )  # fmt: skip
    period = seeder.periods[period_code]
    records.update(admin, period, {"report_due": seeder.today + timedelta(days=DUE_IN_DAYS)})
    indicators = list(
        db.session.scalars(
            db.select(Indicator)
            .where(Indicator.scheme_id == period.town_scheme_id)
            .order_by(Indicator.order)
        )
    )
    scored = set(db.session.scalars(db.select(Score.unit_id).where(Score.period_id == period.id)))
    # Three towns without scores, the first of them still drafting: its values stay empty
    # for entering them by hand, as the browser journeys do (docs/reporting.md#demo).
    reporting_towns = [(i, t) for i, t in enumerate(towns) if t.id not in scored][:3][::-1]
    photo = sample_photo("2026:09:20 09:41:07", 23.5672, 116.3914)
    for step, (index, town) in enumerate(reporting_towns):
        reporter = seeder.actor(reporter_username(index))
        chosen = indicators if step < 2 else indicators[:4]
        for indicator in chosen:
            value = _claimed(seeder, indicator)
            reporting.save_claim(
                reporter, period, town, indicator, value, f"{town.name}{indicator.name}自评说明",
                version=None,
            )  # fmt: skip
            if indicator.evidence_required or indicator.code in ("A01",):
                upload = (
                    _Named(photo, f"{indicator.name}现场照片.jpg")
                    if indicator.method == "grade"
                    else _Named(sample_pdf(f"{indicator.code} evidence"), f"{indicator.name}.pdf")
                )
                reporting.attach_evidence(reporter, period, town, indicator, upload)
        if step < 2:
            reporting.submit_town(reporter, period, town)
        if step == 0:
            reporting.verdict(assessor, period, town, chosen[0], "accept")
            reporting.verdict(assessor, period, town, chosen[1], "accept")
            adjusted = next(i for i in chosen[2:] if i.method != "grade")
            reporting.verdict(
                assessor, period, town, adjusted, "adjust", value=_lowered(seeder, adjusted),
                reason="核对统计报表后按区统计局口径调整",
            )  # fmt: skip
            returned = next(i for i in chosen[2:] if i.code != adjusted.code)
            reporting.verdict(
                assessor, period, town, returned, "return", reason="佐证材料不清晰，请补充扫描件"
            )


def _claimed(seeder, indicator: Indicator):
    """A plausible claimed value: a grade's best key, or a number within the bounds."""
    if indicator.method == "grade":
        return next(iter(indicator.fractions))
    spec = _specs(seeder).get(indicator.code)
    return seeder.sample_value(spec, seeder.rng.uniform(0.8, 0.98)) if spec else "1"


def _lowered(seeder, indicator: Indicator):
    spec = _specs(seeder).get(indicator.code)
    return seeder.sample_value(spec, 0.6) if spec else "0"


def _specs(seeder) -> dict:
    return {indicator.code: spec for indicator, spec in seeder.indicators("town")}

"""Small files of every allowed type and of the hostile kinds, made by code, for the
evidence tests (and the demo's sample evidence)."""

from __future__ import annotations

import io
import zipfile

from PIL import ExifTags, Image

from evaluation.reporting.demo import _dms, sample_pdf


def pdf(text: str = "yanshou baogao") -> bytes:
    """A tiny valid one-page PDF (the demo's own maker of sample evidence)."""
    return sample_pdf(text)


def jpeg(
    taken: str | None = "2026:09:18 10:20:30",
    lat: float | None = 23.5501,
    lon: float | None = 116.3728,
    size=(64, 48),
    color=(200, 120, 40),
) -> bytes:
    """A JPEG photo, with EXIF capture time and GPS unless told otherwise."""
    exif = Image.Exif()
    if taken:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    if lat is not None and lon is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        gps[ExifTags.GPS.GPSLatitude] = _dms(abs(lat))
        gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        gps[ExifTags.GPS.GPSLongitude] = _dms(abs(lon))
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(size=(40, 30), color=(20, 140, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


CONTENT_TYPES = (
    b'<?xml version="1.0"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)


def docx() -> bytes:
    from docx import Document

    out = io.BytesIO()
    document = Document()
    document.add_paragraph("项目清单")
    document.save(out)
    return out.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    out = io.BytesIO()
    book = Workbook()
    book.active.append(["项目", "金额"])
    book.save(out)
    return out.getvalue()


def ofd() -> bytes:
    return _zip(
        {
            "OFD.xml": (
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0">'
                b"<ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody>"
                b"</ofd:OFD>"
            ),
            "Doc_0/Document.xml": (
                b'<?xml version="1.0"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"/>'
            ),
        }
    )


def plain_zip() -> bytes:
    return _zip({"readme.txt": b"hello"})


def zip_bomb_xlsx(unpacked: int = 300 * 1024 * 1024) -> bytes:
    """An XLSX-looking zip whose one sheet unpacks to ``unpacked`` zero bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(unpacked // len(block)):
                member.write(block)
    return out.getvalue()


HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200

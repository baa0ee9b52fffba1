"""A photo's EXIF capture time and GPS position (Pillow), shown beside it
(docs/evidence.md#photos)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from PIL import ExifTags, Image

_SIX = Decimal("0.000001")


@dataclass(frozen=True)
class PhotoFacts:
    taken_at: datetime | None = None
    lat: Decimal | None = None
    lon: Decimal | None = None


def read_exif(path: Path) -> PhotoFacts:
    """The capture time (DateTimeOriginal, else DateTime) and the GPS position of a JPEG
    or PNG; empty facts when there are none or they cannot be read."""
    try:
        with Image.open(path) as image:
            exif = image.getexif()
            taken = _taken_at(exif)
            lat, lon = _position(exif)
    except Exception:  # noqa: BLE001 - a photo's metadata never stops its upload
        return PhotoFacts()
    return PhotoFacts(taken, lat, lon)


def _taken_at(exif) -> datetime | None:
    # DateTimeOriginal lives in the Exif sub-IFD, not in IFD0.
    text = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) or exif.get(
        ExifTags.Base.DateTime
    )
    if isinstance(text, bytes):
        text = text.decode("ascii", "ignore")
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _position(exif) -> tuple[Decimal | None, Decimal | None]:
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef))
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef))
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None, None
    return lat, lon


def _degrees(value, ref) -> Decimal | None:
    if not value or len(value) != 3:
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    try:
        d, m, s = (_exact(part) for part in value)
    except (InvalidOperation, ValueError, ZeroDivisionError, TypeError):
        return None
    figure = (d + m / 60 + s / 3600).quantize(_SIX)
    return -figure if (ref or "").strip("\x00 ").upper() in ("S", "W") else figure


def _exact(part) -> Decimal:
    """An EXIF rational as an exact decimal (never through a float)."""
    numerator = getattr(part, "numerator", None)
    denominator = getattr(part, "denominator", None)
    if numerator is not None and denominator:
        return Decimal(int(numerator)) / Decimal(int(denominator))
    if isinstance(part, tuple) and len(part) == 2 and part[1]:
        return Decimal(int(part[0])) / Decimal(int(part[1]))
    raise ValueError("not a rational")

"""What a file is, decided by its content, never by its name (docs/evidence.md#allowed-files).

Allowed: PDF, JPEG, PNG, DOCX, XLSX and OFD. ``filetype`` (a maintained library) reads
the first bytes; a zip is then opened and judged by its central directory — DOCX and
XLSX carry ``[Content_Types].xml`` with ``word/`` or ``xl/``, an OFD (GB/T 33190) carries
``OFD.xml`` at its root — and unpacked in chunks under the zip-bomb limits; an image is
checked by Pillow. Everything else (HTML, an executable, an empty or broken file) is
refused with a Chinese message naming why.
"""

from __future__ import annotations

import os
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import filetype
from PIL import Image

from evaluation.core.writing import InvalidInput

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFD = "application/ofd"

#: Allowed media types → their file extensions (the first is added to a name without one).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: (".pdf",),
    JPEG: (".jpg", ".jpeg"),
    PNG: (".png",),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    OFD: (".ofd",),
}
#: What people call each type.
KIND_NAMES = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", DOCX: "DOCX", XLSX: "XLSX", OFD: "OFD"}
ALLOWED_TEXT = "、".join(KIND_NAMES.values())

#: The longest name kept, in characters (the extension is kept whole).
NAME_MAX = 120
#: A photo larger than this many pixels is refused (a phone camera has at most 200 MP).
MAX_PIXELS = 200_000_000
#: Bytes read at a time when unpacking a zip to count what it holds.
UNPACK_CHUNK = 64 * 1024
#: A small zip may unpack to this much whatever its ratio.
RATIO_FLOOR = 10 * 1024 * 1024

_EXECUTABLES = {
    "application/x-executable",
    "application/x-msdownload",
    "application/x-mach-binary",
    "application/x-sharedlib",
    "application/vnd.microsoft.portable-executable",
    "application/x-dosexec",
}


@dataclass(frozen=True)
class ZipLimits:
    """The zip-bomb guard: entries, unpacked bytes, unpacked size ÷ file size."""

    max_entries: int = 10_000
    max_unpacked: int = 200 * 1024 * 1024
    max_ratio: int = 100

    @classmethod
    def from_config(cls, config) -> ZipLimits:
        return cls(
            int(config.get("EVIDENCE_ZIP_MAX_ENTRIES", cls.max_entries)),
            int(config.get("EVIDENCE_ZIP_MAX_UNPACKED", cls.max_unpacked)),
            int(config.get("EVIDENCE_ZIP_MAX_RATIO", cls.max_ratio)),
        )


def refuse(message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"path": "file", "message": message}])


def sniff(path: Path, limits: ZipLimits | None = None) -> str:
    """Return the media type of the file at ``path`` or raise ``InvalidInput`` (422)."""
    limits = limits or ZipLimits()
    size = os.path.getsize(path)
    if size == 0:
        raise refuse("文件是空的（0 字节），未保存")
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path, size, limits)
    kind = filetype.guess(head)
    mime = kind.mime if kind is not None else None
    if mime == PDF and head.startswith(b"%PDF-"):
        return PDF
    if mime in (JPEG, PNG):
        _check_image(path, mime)
        return mime
    if mime in _EXECUTABLES or head.startswith((b"\x7fELF", b"MZ", b"#!")):
        raise refuse(f"可执行程序不能作为佐证材料（只收 {ALLOWED_TEXT}）")
    if mime is None and _looks_like_markup(head):
        raise refuse(f"文件内容是网页或文本，不是允许的类型（只收 {ALLOWED_TEXT}）")
    shown = f"（内容为 {kind.extension.upper()}）" if kind is not None else ""
    raise refuse(f"文件类型不允许{shown}：只收 {ALLOWED_TEXT}，按文件内容判断")


def _looks_like_markup(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith((b"<", b"{", b"[")) or b"<html" in text or b"<script" in text


def _check_image(path: Path, mime: str) -> None:
    """Pillow opens it, its size is sane, and its data is whole."""
    expected = {JPEG: "JPEG", PNG: "PNG"}[mime]
    broken = refuse(f"图片已损坏或不完整，无法打开（{expected}）")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.format != expected:
                    raise broken
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise refuse(f"图片像素过多（{width}×{height}），未保存")
                image.verify()  # PNG: every chunk's CRC up to IEND
            if mime == JPEG:
                with Image.open(path) as image:
                    image.draft("RGB", (256, 256))  # decode at 1/8 scale: little memory
                    image.load()  # a truncated JPEG fails here
    except InvalidInput:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning):
        raise broken from None


def _zip_kind(path: Path, size: int, limits: ZipLimits) -> str:
    """DOCX, XLSX or OFD by the zip's directory, after the zip-bomb guard."""
    corrupt = refuse("压缩文件已损坏，无法读取（DOCX、XLSX、OFD 都是压缩包）")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise corrupt from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise refuse(f"压缩包内文件过多（{len(infos)} 个，上限 {limits.max_entries}），未保存")
        allowed = min(limits.max_unpacked, max(limits.max_ratio * size, RATIO_FLOOR))
        declared = sum(info.file_size for info in infos)
        if declared > allowed:
            raise _bomb(limits)
        names = {info.filename for info in infos}
        kind = _office_kind(archive, names)
        if kind is None:
            raise refuse(f"压缩包不是 DOCX、XLSX 或 OFD 文件：只收 {ALLOWED_TEXT}")
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise refuse("含宏的文档不能作为佐证材料，请另存为不含宏的 DOCX/XLSX")
        # The sizes in the directory may lie: unpack everything, counting real bytes.
        unpacked = 0
        try:
            for info in infos:
                with archive.open(info) as member:
                    while True:
                        chunk = member.read(UNPACK_CHUNK)
                        if not chunk:
                            break
                        unpacked += len(chunk)
                        if unpacked > allowed:
                            raise _bomb(limits)
        except InvalidInput:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
            raise corrupt from None
    return kind


def _bomb(limits: ZipLimits) -> InvalidInput:
    return refuse(
        "压缩包解压后过大（疑似压缩炸弹）："
        f"解压总量上限 {limits.max_unpacked // (1024 * 1024)} MB、压缩比上限 {limits.max_ratio}"
    )


def _office_kind(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    if "OFD.xml" in names:
        with archive.open("OFD.xml") as member:
            head = member.read(4096)
        if b"ofdspec.org" in head or b"OFD" in head:
            return OFD
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
    return None


#: Characters never kept in a name: control and format characters (a right-to-left
#: override could make ``exe.pdf`` read as ``fdp.exe``), and those Windows refuses.
_DROP = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_REPLACE = str.maketrans({c: "_" for c in ':*?"<>|'})


def clean_name(name: str | None, media_type: str) -> str:
    """The name a file is kept and downloaded under: no folder parts (``../``), no control
    characters, Chinese kept, at most ``NAME_MAX`` characters, ending in the extension of
    the type its content shows (added when the name says otherwise)."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(c for c in text if unicodedata.category(c) not in _DROP)
    text = text.translate(_REPLACE).strip().lstrip(".").strip()
    extensions = EXTENSIONS.get(media_type, ("",))
    stem, extension = os.path.splitext(text)
    if extension.lower() not in extensions:
        stem, extension = text, extensions[0]
    stem = stem.strip() or "佐证材料"
    room = NAME_MAX - len(extension)
    return stem[:room].rstrip() + extension.lower()

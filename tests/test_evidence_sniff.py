"""Type by content, the zip-bomb guard and clean names (docs/evidence.md#allowed-files).

Pure: no app, no database."""

from __future__ import annotations

import pytest

from evaluation.core.writing import InvalidInput
from evaluation.evidence.sniff import ZipLimits, clean_name, sniff
from tests import evidence_files as files

ALLOWED = [
    (files.pdf, "application/pdf"),
    (files.jpeg, "image/jpeg"),
    (files.png, "image/png"),
    (files.docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (files.xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (files.ofd, "application/ofd"),
]


@pytest.mark.parametrize(("make", "expected"), ALLOWED, ids=[e for _, e in ALLOWED])
def test_each_allowed_type_is_known_by_its_content(tmp_path, make, expected):
    path = tmp_path / "whatever.bin"  # the name says nothing
    path.write_bytes(make())
    assert sniff(path) == expected


def _refused(tmp_path, data: bytes, name="报告.pdf", limits=None) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InvalidInput) as caught:
        sniff(path, limits)
    assert caught.value.status == 422
    return caught.value.message


def test_html_renamed_pdf_is_refused(tmp_path):
    assert "网页或文本" in _refused(tmp_path, files.HTML)


def test_text_renamed_pdf_is_refused(tmp_path):
    assert "不允许" in _refused(tmp_path, "项目清单：1. 道路硬化".encode())


@pytest.mark.parametrize("data", [files.ELF, files.PE], ids=["ELF", "PE"])
def test_an_executable_renamed_pdf_is_refused(tmp_path, data):
    assert "可执行程序" in _refused(tmp_path, data)


def test_zero_bytes_are_refused(tmp_path):
    assert "0 字节" in _refused(tmp_path, b"")


def test_a_corrupt_png_is_refused(tmp_path):
    data = bytearray(files.png((300, 200)))
    data[60:80] = b"\xff" * 20  # inside the image data: a CRC mismatch
    assert "图片已损坏" in _refused(tmp_path, bytes(data), "photo.png")


def test_a_truncated_jpeg_is_refused(tmp_path):
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(out, "JPEG")
    data = out.getvalue()
    assert "图片已损坏" in _refused(tmp_path, data[: len(data) // 2], "photo.jpg")


def test_a_zip_bomb_named_xlsx_is_refused(tmp_path):
    bomb = files.zip_bomb_xlsx(64 * 1024 * 1024)
    message = _refused(tmp_path, bomb, "数据.xlsx", ZipLimits(max_unpacked=32 * 1024 * 1024))
    assert "压缩炸弹" in message


def test_a_zip_bomb_is_refused_under_the_default_limits(tmp_path):
    # 300 MB of zeros in ~300 KB: over both the 200 MB total and the ratio of 100.
    assert "压缩炸弹" in _refused(tmp_path, files.zip_bomb_xlsx(), "数据.xlsx")


def test_a_zip_lying_about_its_sizes_is_counted_by_what_it_unpacks(tmp_path):
    import struct

    data = bytearray(files.zip_bomb_xlsx(40 * 1024 * 1024))
    # Rewrite every uncompressed size the central directory declares to 1 byte.
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) != -1:
        if struct.unpack_from("<I", data, at + 24)[0] != 0xFFFFFFFF:
            struct.pack_into("<I", data, at + 24, 1)
        at += 4
    message = _refused(tmp_path, bytes(data), "数据.xlsx", ZipLimits(max_unpacked=20 * 2**20))
    assert "压缩炸弹" in message or "损坏" in message


def test_too_many_entries_are_refused(tmp_path):
    entries = {"[Content_Types].xml": files.CONTENT_TYPES, "word/document.xml": b"<w/>"}
    entries.update({f"word/media/{i}.txt": b"x" for i in range(30)})
    message = _refused(tmp_path, files._zip(entries), "a.docx", ZipLimits(max_entries=20))
    assert "文件过多" in message


def test_a_plain_zip_and_a_fake_docx_are_refused(tmp_path):
    assert "不是 DOCX" in _refused(tmp_path, files.plain_zip(), "a.docx")
    fake = files._zip({"word/readme.txt": b"hi"})  # fools the first-bytes sniffers
    assert "不是 DOCX" in _refused(tmp_path, fake, "a.docx")


def test_a_broken_zip_is_refused(tmp_path):
    assert "损坏" in _refused(tmp_path, files.docx()[:400], "a.docx")


def test_a_macro_document_is_refused(tmp_path):
    entries = {
        "[Content_Types].xml": files.CONTENT_TYPES,
        "word/document.xml": b"<w/>",
        "word/vbaProject.bin": b"macro",
    }
    assert "宏" in _refused(tmp_path, files._zip(entries), "a.docx")


@pytest.mark.parametrize(
    ("given", "media_type", "kept"),
    [
        ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
        ("..\\..\\windows\\验收报告.pdf", "application/pdf", "验收报告.pdf"),
        (
            "项目\x00清单\x1b[31m.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "项目清单[31m.docx",
        ),
        ("photo\u202egpj.exe", "image/jpeg", "photogpj.exe.jpg"),
        ("现场照片", "image/jpeg", "现场照片.jpg"),
        ("照片.PNG", "image/png", "照片.png"),
        ("报告.pdf", "image/png", "报告.pdf.png"),
        ("..", "application/pdf", "佐证材料.pdf"),
        ("", "application/ofd", "佐证材料.ofd"),
        ('a:b*c?"<d>|.pdf', "application/pdf", "a_b_c___d__.pdf"),
    ],
)
def test_names_keep_chinese_and_lose_paths_and_control_characters(given, media_type, kept):
    assert clean_name(given, media_type) == kept


def test_a_long_name_is_cut_keeping_its_extension():
    name = clean_name("验" * 300 + ".pdf", "application/pdf")
    assert len(name) == 120 and name.endswith("验.pdf")

"""Importing is bounded by what a file actually produces, never by what it declares.

The zip bombs here are written by hand (zlib and struct), so that their directory can lie: the
sizes and CRC a member declares are whatever the test says, whatever its deflate stream inflates to.
"""

import bz2
import io
import os
import struct
import tracemalloc
import zipfile
import zlib

import pytest
from django.core.management import CommandError, call_command

from documents.importing import import_bytes
from documents.importing.word import docx_text
from units.errors import InvalidInput

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)
RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Target="word/document.xml" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    b"</Relationships>"
)
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
HEAD = DECLARATION + f'<w:document xmlns:w="{W}"><w:body>'.encode()
TAIL = b"</w:body></w:document>"
PARAGRAPH = "<w:p><w:r><w:t>{}</w:t></w:r></w:p>"
MiB = 1024 * 1024


class Member:
    """One zip member: its stored bytes and what its records declare about them."""

    def __init__(self, name: str, stored: bytes, *, size: int, crc: int, method=zipfile.ZIP_DEFLATED, flags=0):
        self.name, self.stored, self.size, self.crc, self.method, self.flags = (
            name.encode(),
            stored,
            size,
            crc,
            method,
            flags,
        )

    @classmethod
    def deflated(cls, name: str, data: bytes) -> "Member":
        """A member whose records tell the truth."""
        return cls(name, _raw_deflate(data), size=len(data), crc=zlib.crc32(data))


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _deflate(*pieces: tuple[bytes, int]) -> bytes:
    """A raw deflate stream of each block repeated so many times, built without compressing the
    repeats: after a full flush a compressed block refers to nothing before it, so it can be repeated."""
    stream = b""
    for block, times in pieces:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        stream += (compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)) * times
    return stream + zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # the final, empty block


def _paragraphs(size: int) -> bytes:
    """Whole paragraphs of XML, nearly `size` bytes of them."""
    text = (PARAGRAPH.format("公文" * 50) * (size // 100)).encode()[:size]
    return text[: text.rindex(b"</w:p>") + len(b"</w:p>")]


def _zip(*members: Member) -> bytes:
    """The local headers, data, central directory and end record of a zip, as zipfile reads them."""
    body, directory = io.BytesIO(), io.BytesIO()
    for member in members:
        offset = body.tell()
        fixed = (20, member.flags, member.method, 0, 0x21, member.crc, len(member.stored), member.size)
        body.write(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, *fixed[1:], len(member.name), 0))
        body.write(member.name + member.stored)
        directory.write(
            struct.pack(
                "<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, *fixed[1:], len(member.name), 0, 0, 0, 0, 0, offset
            )
        )
        directory.write(member.name)
    count, start, size = len(members), body.tell(), directory.tell()
    return (
        body.getvalue()
        + directory.getvalue()
        + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, start, 0)
    )


def _docx(document_xml: bytes) -> bytes:
    return _word(Member.deflated("word/document.xml", document_xml))


def _word(document: Member) -> bytes:
    """A .docx as Word lays it out, around the given word/document.xml."""
    return _zip(Member.deflated("[Content_Types].xml", CONTENT_TYPES), Member.deflated("_rels/.rels", RELS), document)


def _peak_while(function) -> int:
    """The peak of Python's allocations while the function runs (it is expected to raise)."""
    tracemalloc.start()
    try:
        function()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_a_hand_written_docx_reads_like_one_from_word():
    data = _docx(HEAD + PARAGRAPH.format("内教工委函〔2022〕90号").encode() + TAIL)

    assert import_bytes(data, name="来文.docx").number == "内教工委函〔2022〕90号"


# --- zip bombs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crc", "message"),
    [
        # Any CRC but that of the declared first 1,000 bytes: zipfile stops at the declared size, and
        # the CRC of what it read there does not match.
        ("other", "文件“炸弹.docx”已损坏：其中的 word/document.xml 无法完整解压（BadZipFile）。"),
        # The CRC of the first 1,000 bytes: zipfile hands them over, and the XML, cut there, is refused.
        ("declared", "文件“炸弹.docx”不是有效的 .docx 文件（XMLSyntaxError）。"),
    ],
)
def test_a_part_that_declares_1000_bytes_but_inflates_to_256_mib_is_refused_in_bounded_memory(crc, message):
    block = _paragraphs(MiB)
    stream = _deflate((HEAD, 1), (block, 256))  # 256 MiB once inflated
    start = (HEAD + block)[:1000]
    bomb = Member("word/document.xml", stream, size=1000, crc=zlib.crc32(start) if crc == "declared" else 0)
    data = _word(bomb)
    assert len(data) < 2 * MiB
    assert zlib.decompressobj(-15).decompress(stream, len(start)) == start

    def read():
        with pytest.raises(InvalidInput) as refusal:
            docx_text(data, name="炸弹.docx")
        assert refusal.value.message == message

    # Memory for a few chunks of 64 KiB, nothing near what the stream holds.
    assert _peak_while(read) < 4 * MiB


def test_a_part_that_honestly_inflates_past_the_limit_is_read_only_up_to_it(settings):
    settings.IMPORT_MAX_UNPACKED_BYTES = MiB
    block, times = _paragraphs(MiB // 4), 1024  # 256 MiB of XML
    crc = zlib.crc32(HEAD)
    for _ in range(times):
        crc = zlib.crc32(block, crc)
    document = Member(
        "word/document.xml", _deflate((HEAD, 1), (block, times)), size=len(HEAD) + len(block) * times, crc=crc
    )
    data = _word(document)

    def read():
        with pytest.raises(InvalidInput) as refusal:
            docx_text(data, name="大文件.docx")
        assert refusal.value.message == "文件“大文件.docx”解压后超过 1 MB 的上限，不像一份公文，未导入。"

    assert _peak_while(read) < 4 * MiB


def test_the_parts_read_share_one_budget(settings):
    document_xml = HEAD + PARAGRAPH.format("公文").encode() + TAIL
    settings.IMPORT_MAX_UNPACKED_BYTES = len(RELS) + len(document_xml)
    assert docx_text(_docx(document_xml), name="x.docx") == "公文"

    settings.IMPORT_MAX_UNPACKED_BYTES = len(RELS) + len(document_xml) - 1
    with pytest.raises(InvalidInput, match=f"^文件“x.docx”解压后超过 {len(RELS) + len(document_xml) - 1} B 的上限"):
        docx_text(_docx(document_xml), name="x.docx")


def test_a_zip_of_more_members_than_allowed_is_refused(settings):
    settings.IMPORT_MAX_ZIP_MEMBERS = 3
    extra = Member.deflated("word/media/image1.png", b"\x89PNG\r\n\x1a\n")
    document = Member.deflated("word/document.xml", HEAD + TAIL)
    data = _zip(
        Member.deflated("[Content_Types].xml", CONTENT_TYPES), Member.deflated("_rels/.rels", RELS), document, extra
    )

    with pytest.raises(InvalidInput) as refusal:
        docx_text(data, name="多.docx")

    assert refusal.value.message == "文件“多.docx”含有超过 3 个压缩部件，不像一份公文，未导入。"


def test_a_table_that_repeats_a_merged_cell_cannot_multiply_the_text(settings):
    """A cell merged with the one above shows that one's text: a 10,000-character cell above 10,000
    merged rows would be 100 million characters from a zip of a few kilobytes."""
    settings.IMPORT_MAX_BYTES = 100_000
    top = f'<w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>{PARAGRAPH.format("字" * 10_000)}</w:tc></w:tr>'
    merged = "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc></w:tr>" * 10_000
    data = _docx(HEAD + f"<w:tbl>{top}{merged}</w:tbl>".encode() + TAIL)
    assert len(data) < 100_000

    with pytest.raises(InvalidInput) as refusal:
        import_bytes(data, name="表.docx")

    assert refusal.value.message == "文件“表.docx”中的文字超过 100000 个字符的导入上限，未导入。"


def test_merged_and_spanned_cells_read_as_python_docx_read_them():
    row = "<w:tr>{}</w:tr>"
    cell = "<w:tc>{}{}</w:tc>"
    rows = [
        row.format(
            cell.format('<w:tcPr><w:vMerge w:val="restart"/></w:tcPr>', PARAGRAPH.format("发往地址"))
            + cell.format('<w:tcPr><w:gridSpan w:val="3"/></w:tcPr>', PARAGRAPH.format("见报头"))
        ),
        row.format(cell.format("<w:tcPr><w:vMerge/></w:tcPr>", "<w:p/>") + cell.format("", PARAGRAPH.format("二"))),
    ]
    data = _docx(HEAD + ("<w:tbl>" + "".join(rows) + "</w:tbl>").encode() + TAIL)

    assert docx_text(data, name="x.docx") == "发往地址 见报头\n发往地址 二"


# --- what the parser refuses -----------------------------------------------------------------------


def _with_doctype(entities: str, reference: str) -> bytes:
    doctype = f"<!DOCTYPE w:document [{entities}]>".encode()
    paragraph = PARAGRAPH.format(reference).encode()
    return DECLARATION + doctype + HEAD[len(DECLARATION) :] + paragraph + TAIL


# Ten levels of ten references each: 10^10 characters once expanded.
BILLION_LAUGHS = '<!ENTITY a0 "哈哈哈哈哈哈哈哈哈哈">' + "".join(
    f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
)


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        (
            [
                Member.deflated("_rels/.rels", RELS),
                Member.deflated("word/document.xml", _with_doctype('<!ENTITY unit "内蒙古自治区">', "&unit;")),
            ],
            "DOCTYPE",
        ),
        # libxml2 refuses the expansion itself, before a DOCTYPE check could: entities are never resolved.
        (
            [
                Member.deflated("_rels/.rels", RELS),
                Member.deflated("word/document.xml", _with_doctype(BILLION_LAUGHS, "&a9;")),
            ],
            "XMLSyntaxError",
        ),
        (
            [
                Member.deflated("_rels/.rels", RELS),
                Member.deflated("word/document.xml", HEAD + b"<w:p>" * 300 + b"</w:p>" * 300 + TAIL),
            ],
            "XMLSyntaxError",
        ),
        (
            [
                Member.deflated("_rels/.rels", RELS),
                Member(
                    "word/document.xml",
                    bz2.compress(HEAD + TAIL),
                    size=len(HEAD + TAIL),
                    crc=zlib.crc32(HEAD + TAIL),
                    method=zipfile.ZIP_BZIP2,
                ),
            ],
            "word/document.xml compression method 12",
        ),
        (
            [
                Member.deflated("_rels/.rels", RELS),
                Member("word/document.xml", b"\x00" * 12, size=0, crc=0, flags=0x1),
            ],
            "word/document.xml encrypted",
        ),
        ([Member.deflated("word/document.xml", HEAD + TAIL)], "no _rels/.rels"),
        ([Member.deflated("_rels/.rels", RELS)], "no word/document.xml"),
        ([Member.deflated("_rels/.rels", RELS.replace(b'officeDocument"', b'other"'))], "no officeDocument"),
        (
            [Member.deflated("_rels/.rels", RELS), Member.deflated("word/document.xml", b'<x xmlns="urn:x"/>')],
            "no w:document",
        ),
    ],
    ids=[
        "entities",
        "billion-laughs",
        "too-deep",
        "bzip2",
        "encrypted",
        "no-relationships",
        "no-document",
        "no-main",
        "not-word",
    ],
)
def test_what_is_not_a_plain_word_document_is_refused_naming_the_file(members, reason):
    with pytest.raises(InvalidInput) as refusal:
        docx_text(_zip(*members), name="x.docx")

    assert refusal.value.message == f"文件“x.docx”不是有效的 .docx 文件（{reason}）。"


# --- the command reads no more than the limit ------------------------------------------------------


def _import(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="^1 个文件未能导入（见上）。$"):
        call_command("import_document", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_refuses_a_file_past_the_limit_by_its_size_and_writes_nothing(
    settings, world, tmp_path, nothing_written
):
    settings.IMPORT_MAX_BYTES = 100
    path = tmp_path / "来文.txt"
    path.write_bytes("内教工委函〔2022〕90号\n".encode() * 10)

    with nothing_written():
        _out, err = _import(str(path), "--as-received-by", world.education.name)

    assert err == f"文件“{path}”太大（310 字节），导入上限为 100 字节。\n"


def test_the_command_stops_reading_a_stream_at_the_limit(settings, world, nothing_written):
    settings.IMPORT_MAX_BYTES = 100
    read_end, write_end = os.pipe()
    os.write(write_end, b"a" * 1000)  # the size of a pipe is unknown until it has been read
    os.close(write_end)
    try:
        with nothing_written():
            _out, err = _import(f"/dev/fd/{read_end}", "--as-received-by", world.education.name)
    finally:
        os.close(read_end)

    assert err == f"文件“/dev/fd/{read_end}”超过导入上限 100 字节。\n"


def test_the_command_refuses_a_zip_bomb_and_writes_nothing(world, tmp_path, nothing_written):
    bomb = Member("word/document.xml", _deflate((HEAD, 1), (_paragraphs(MiB), 256)), size=1000, crc=0)
    path = tmp_path / "炸弹.docx"
    path.write_bytes(_word(bomb))

    with nothing_written():
        _out, err = _import(str(path), "--as-received-by", world.education.name)

    assert err == f"文件“{path}”已损坏：其中的 word/document.xml 无法完整解压（BadZipFile）。\n"

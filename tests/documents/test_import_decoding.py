"""Reading files: encodings, Word files, and a clear refusal (naming the file) for what is not text."""

import io
import zipfile

import pytest

from documents.importing import import_bytes
from units.errors import InvalidInput

TEXT = "中共内蒙古大学委员会文件\n内大党发〔2022〕7号\n关于做好秋季学期工作的通知\n各学院党委：\n请认真落实。\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "utf-16"])
def test_every_usual_encoding_reads_the_same(encoding):
    document = import_bytes(TEXT.encode(encoding), name="来文.txt")

    assert (document.number, document.title) == ("内大党发〔2022〕7号", "关于做好秋季学期工作的通知")


def test_windows_line_ends_read_the_same():
    document = import_bytes(TEXT.replace("\n", "\r\n").encode("gb18030"), name="来文.txt")

    assert (document.number, document.main_recipients) == ("内大党发〔2022〕7号", ["各学院党委"])
    assert document.body == "请认真落实。"


def test_bytes_that_are_neither_utf8_nor_gb18030_are_refused_with_the_file_and_the_place():
    data = "中文".encode() + b"\x80\x80\xff"

    with pytest.raises(InvalidInput, match=r"文件“坏文件.txt”无法识别文字编码：从第 7 字节起既不是 UTF-8 / GB18030"):
        import_bytes(data, name="坏文件.txt")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件“x.txt”是空的"),
        (b"  \n ", "文件“x.txt”是空的"),
        (b"abc\x00def", "文件“x.txt”不是文本文件（含有空字节）"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "文件“x.txt”是旧版 Word（.doc）格式"),
        (b"%PDF-1.7\n...", "文件“x.txt”不是可读的 PDF"),
        (b"PK\x03\x04not really a zip", "文件“x.txt”不是有效的 .docx 文件"),
    ],
)
def test_what_is_not_a_readable_text_is_refused_naming_the_file(data, message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        import_bytes(data, name="x.txt")


def test_a_zip_that_is_not_a_word_file_is_refused():
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("hello.txt", "hello")

    with pytest.raises(InvalidInput, match=r"文件“x\.docx”不是有效的 \.docx 文件"):
        import_bytes(stream.getvalue(), name="x.docx")


def test_a_file_too_big_is_refused_before_it_is_read(settings):
    with pytest.raises(InvalidInput, match=r"文件“big\.txt”太大"):
        import_bytes(b"a" * (settings.IMPORT_MAX_BYTES + 1), name="big.txt")

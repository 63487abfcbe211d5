"""Reading a zip package of XML parts (a .docx, an OFD) without trusting it: every step is bounded by
what the file actually produces, never by what it declares (documents.importing.word explains each
bound): its members counted before zipfile reads its directory, only the parts needed inflated, chunk
by chunk within a budget of bytes, the XML parsed as it comes, without DTDs or entities, each element
freed once read.
"""

import itertools
import zipfile
import zlib
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

from documents.attachments import human_size
from units.errors import InvalidInput

# What zipfile and lxml raise for a damaged file or one that is not a .docx at all (ValueError covers
# a member name that is not valid UTF-8; OSError a directory that points outside the file;
# NotImplementedError a member record asking for a zip version zipfile does not know).
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, NotImplementedError, etree.LxmlError)
# Each record of a zip's central directory starts with this signature, so the number of times it
# occurs in the file bounds the number of entries zipfile would build as it opens the file.
DIRECTORY_RECORD = b"PK\x01\x02"
# How much one read asks of the decompressor: zipfile passes it on as zlib's max_length, so no read
# produces more than this, whatever the compressed data would expand to.
CHUNK = 64 * 1024
# Only these methods decompress in bounded reads: zipfile inflates bzip2 and LZMA members without a
# max_length, so one read of a small compressed chunk could produce gigabytes. Word writes deflate.
BOUNDED_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def check_member_count(data: bytes, *, name: str) -> None:
    """Refuses a zip whose central directory has more records than IMPORT_MAX_ZIP_MEMBERS."""
    members = settings.IMPORT_MAX_ZIP_MEMBERS
    if data.count(DIRECTORY_RECORD) > members:
        raise InvalidInput(
            _("文件“%(name)s”含有超过 %(limit)d 个压缩部件，不像一份公文，未导入。") % {"name": name, "limit": members}
        )


def invalid(name: str, reason: str, *, kind: str) -> InvalidInput:
    """The refusal of a file that is not a readable `kind` (".docx", "OFD")."""
    return InvalidInput(
        _("文件“%(name)s”不是有效的 %(kind)s 文件（%(reason)s）。") % {"name": name, "kind": kind, "reason": reason}
    )


class Budget:
    """The bytes all the parts read may inflate to, counted as the decompressor produces them."""

    def __init__(self, *, name: str, limit: int) -> None:
        self.name, self.limit, self.spent = name, limit, 0

    def spend(self, size: int) -> None:
        self.spent += size
        if self.spent > self.limit:
            raise InvalidInput(
                _("文件“%(name)s”解压后超过 %(limit)s 的上限，不像一份公文，未导入。")
                % {"name": self.name, "limit": human_size(self.limit)}
            )


def inflate(archive: zipfile.ZipFile, part: str, budget: Budget, *, name: str, kind: str) -> Iterator[bytes]:
    """The part's bytes in chunks, never more in all than the budget allows."""
    try:
        info = archive.getinfo(part)
    except KeyError:
        raise invalid(name, f"no {part}", kind=kind) from None
    if info.flag_bits & 0x1:
        raise invalid(name, f"{part} encrypted", kind=kind)
    if info.compress_type not in BOUNDED_METHODS:
        raise invalid(name, f"{part} compression method {info.compress_type}", kind=kind)
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                budget.spend(len(chunk))
                yield chunk
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as error:
        # zipfile stops at the size the directory declares and then checks the CRC: a member that
        # inflates to more (or to other bytes) than its record says ends here, as damaged.
        # NotImplementedError: a member record asking for a zip version zipfile does not know.
        reason = "zlib.error" if isinstance(error, zlib.error) else type(error).__name__
        raise InvalidInput(
            _("文件“%(name)s”已损坏：其中的 %(part)s 无法完整解压（%(reason)s）。")
            % {"name": name, "part": part, "reason": reason}
        ) from None


def xml_events(chunks: Iterable[bytes], *, name: str, kind: str) -> Iterator[tuple[str, etree._Element]]:
    """Start and end events of the XML in the chunks, parsed as they come; each element is freed once
    its end event has been handled, so the tree never holds more than the open elements."""
    parser = etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,  # keeps libxml2's own caps: 256 levels deep, 10 MB in one text node
        remove_blank_text=True,  # as python-docx parses
    )
    checked = False
    for chunk in itertools.chain(chunks, [None]):
        if chunk is None:
            parser.close()  # raises for a document cut short
        else:
            parser.feed(chunk)
        for event, element in parser.read_events():
            # No part of a .docx or an OFD has a DOCTYPE: one can only be there to declare entities.
            if not checked and element.getroottree().docinfo.doctype:
                raise invalid(name, "DOCTYPE", kind=kind)
            checked = True
            yield event, element
            if event == "end":
                free(element)


def free(element: etree._Element) -> None:
    element.clear(keep_tail=True)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]

"""ZIP files that unpack to far more than they weigh, written quickly for the limit tests.

A member that is one block repeated (a run of zeros) is compressed once per distinct block:
with a full flush after each block the deflate output for the same block is the same bytes,
so a 1.5 GB member costs one compression of 16 MB and a CRC pass, not 1.5 GB of deflate.
The layout is the plain ZIP format (no ZIP64: members stay under 4 GiB). ``declared`` lets a
member's central directory entry lie about its unpacked size.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

BLOCK = 1 << 24  # 16 MiB
GB_1_5 = 96 * BLOCK  # 1.5 GiB


@dataclass(frozen=True)
class Member:
    name: str
    block: bytes
    repeat: int = 1
    declared: int | None = None  # unpacked size written in the central directory

    @property
    def size(self) -> int:
        return len(self.block) * self.repeat


def zeros(name: str, size: int = GB_1_5, *, declared: int | None = None) -> Member:
    assert size % BLOCK == 0
    return Member(name, bytes(BLOCK), size // BLOCK, declared)


def text(name: str, content: str | bytes) -> Member:
    return Member(name, content.encode() if isinstance(content, str) else content)


def _deflate(member: Member) -> tuple[bytes, int]:
    """The raw deflate stream of the member and its CRC-32."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    once = compressor.compress(member.block) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = once * member.repeat + compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(member.repeat):
        crc = zlib.crc32(member.block, crc)
    return stream, crc


def write_zip(path: Path, members: list[Member]) -> Path:
    central = b""
    with path.open("wb") as out:
        for member in members:
            data, crc = _deflate(member)
            name = member.name.encode()
            offset = out.tell()
            out.write(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 8, 0, 0x21,
                                  crc, len(data), member.size, len(name), 0))
            out.write(name)
            out.write(data)
            declared = member.size if member.declared is None else member.declared
            central += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0, 8, 0,
                                   0x21, crc, len(data), declared, len(name), 0, 0, 0, 0,
                                   0o644 << 16, offset) + name
        start = out.tell()
        out.write(central)
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                              len(central), start, 0))
    return path


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Ark1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def sheet_xml(rows: str, dimension: str | None = None) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"{dim}<sheetData>{rows}</sheetData></worksheet>")


def workbook(path: Path, sheet: Member) -> Path:
    """An XLSX workbook of one sheet (``sheet`` named xl/worksheets/sheet1.xml)."""
    return write_zip(path, [text("[Content_Types].xml", CONTENT_TYPES),
                            text("_rels/.rels", RELS), text("xl/workbook.xml", WORKBOOK),
                            text("xl/_rels/workbook.xml.rels", WORKBOOK_RELS), sheet])

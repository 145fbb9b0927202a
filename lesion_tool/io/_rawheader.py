"""A minimal, fast reader of the few top-level header elements discovery needs.

pydicom parses and validates every element it meets (about 1-2 ms per CT header), which makes a
folder scan slower than GDCM's. CT and MR single-frame headers are simple: little-endian
elements up to group 0x0028, then Pixel Data. This module walks the raw bytes of the file's head,
skips every element (and nested sequence) it does not need and decodes only the wanted ones, in
about a tenth of pydicom's time.

It declines (returns None) whenever it is not sure, and the caller then uses pydicom: big-endian
or deflated transfer syntaxes, multi-frame / Enhanced objects (functional groups), character sets
other than ASCII / Latin-1 / UTF-8, headers longer than the first read, or anything malformed.
"""

from __future__ import annotations

import os
import struct
from typing import Any

__all__ = ["RawDataset", "read_raw"]

_FIRST_BYTES = 4096
_O_RDONLY = os.O_RDONLY | getattr(os, "O_BINARY", 0)
_HEAD_BYTES = 65536
_MORE = object()  # sentinel: the wanted elements run past the bytes read
_LONG_VRS = {
    b"OB",
    b"OW",
    b"OF",
    b"OD",
    b"OL",
    b"OV",
    b"SQ",
    b"UT",
    b"UN",
    b"UC",
    b"UR",
    b"SV",
    b"UV",
}
_IMPLICIT = "1.2.840.10008.1.2"
_EXPLICIT_OK_PREFIXES = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.", "1.2.840.10008.1.2.5")
_DEFLATED = "1.2.840.10008.1.2.1.99"
_NUMBER_OF_FRAMES = 0x00280008
_META_KEYS = {
    0x00020002: "MediaStorageSOPClassUID",
    0x00020003: "MediaStorageSOPInstanceUID",
    0x00020010: "TransferSyntaxUID",
}
_PLAIN_STRING_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "PN", "SH", "TM", "UI"}
)
_CHARSET_TAG = 0x00080005

_unpack_hh = struct.Struct("<HH").unpack_from
_unpack_h = struct.Struct("<H").unpack_from
_unpack_i = struct.Struct("<I").unpack_from
_unpack_explicit = struct.Struct("<HH2sH").unpack_from
_VR_NAMES = {
    v.encode(): v
    for v in [
        "AE",
        "AS",
        "AT",
        "CS",
        "DA",
        "DS",
        "DT",
        "FL",
        "FD",
        "IS",
        "LO",
        "LT",
        "OB",
        "OD",
        "OF",
        "OL",
        "OV",
        "OW",
        "PN",
        "SH",
        "SL",
        "SQ",
        "SS",
        "ST",
        "SV",
        "TM",
        "UC",
        "UI",
        "UL",
        "UN",
        "UR",
        "US",
        "UT",
        "UV",
    ]
}
_unpack_implicit = struct.Struct("<HHI").unpack_from
# explicit VR bytes -> (4-byte length?, VR name)
_VR_KIND = {vr: (vr in _LONG_VRS, name) for vr, name in _VR_NAMES.items()}
_STOPS: dict[int, int] = {}


def _stop_tag(table: dict[int, tuple[str, str]]) -> int:
    """First tag after the last wanted one below the functional groups (0x5200)."""
    key = id(table)
    stop = _STOPS.get(key)
    if stop is None:
        stop = _STOPS[key] = max([t for t in table if t < 0x52000000] + [0x00280008]) + 1
    return stop


KNOWN_TAGS: dict[str, tuple[int, str]] = {
    "SOPClassUID": (0x00080016, "UI"),
    "SOPInstanceUID": (0x00080018, "UI"),
    "Modality": (0x00080060, "CS"),
    "PatientID": (0x00100020, "LO"),
    "PatientName": (0x00100010, "PN"),
    "StudyInstanceUID": (0x0020000D, "UI"),
    "StudyDate": (0x00080020, "DA"),
    "StudyTime": (0x00080030, "TM"),
    "StudyDescription": (0x00081030, "LO"),
    "SeriesInstanceUID": (0x0020000E, "UI"),
    "SeriesNumber": (0x00200011, "IS"),
    "SeriesDescription": (0x0008103E, "LO"),
    "SeriesDate": (0x00080021, "DA"),
    "SeriesTime": (0x00080031, "TM"),
    "AcquisitionDate": (0x00080022, "DA"),
    "AcquisitionTime": (0x00080032, "TM"),
    "AcquisitionDateTime": (0x0008002A, "DT"),
    "ContentTime": (0x00080033, "TM"),
    "ImageType": (0x00080008, "CS"),
    "FrameOfReferenceUID": (0x00200052, "UI"),
    "ImagePositionPatient": (0x00200032, "DS"),
    "ImageOrientationPatient": (0x00200037, "DS"),
    "PixelSpacing": (0x00280030, "DS"),
    "SliceThickness": (0x00180050, "DS"),
    "SpacingBetweenSlices": (0x00180088, "DS"),
    "Rows": (0x00280010, "US"),
    "Columns": (0x00280011, "US"),
    "NumberOfFrames": (0x00280008, "IS"),
    "RescaleSlope": (0x00281053, "DS"),
    "RescaleIntercept": (0x00281052, "DS"),
    "InstanceNumber": (0x00200013, "IS"),
    "AcquisitionNumber": (0x00200012, "IS"),
    "ContrastBolusAgent": (0x00180010, "LO"),
    "ContrastBolusStartTime": (0x00181042, "TM"),
    "ContrastBolusRoute": (0x00181040, "LO"),
    "ContrastBolusVolume": (0x00181041, "DS"),
    "GantryDetectorTilt": (0x00181120, "DS"),
    "BitsAllocated": (0x00280100, "US"),
    "BitsStored": (0x00280101, "US"),
    "PixelRepresentation": (0x00280103, "US"),
    "SamplesPerPixel": (0x00280002, "US"),
    "PhotometricInterpretation": (0x00280004, "CS"),
    "ProtocolName": (0x00181030, "LO"),
    "BodyPartExamined": (0x00180015, "CS"),
    "SharedFunctionalGroupsSequence": (0x52009229, "SQ"),
    "PerFrameFunctionalGroupsSequence": (0x52009230, "SQ"),
}
"""Tag and VR of the keywords discovery reads, as in pydicom's data dictionary (a test checks
every entry against it): with these, a headers-only folder scan never imports pydicom, whose
import alone costs about as much CPU as reading 2,000 headers."""


def _wanted(keywords: tuple[str, ...]) -> dict[int, tuple[str, str]]:
    table = {}
    for keyword in keywords:
        known = KNOWN_TAGS.get(keyword)
        if known is None:
            from pydicom.datadict import dictionary_VR, tag_for_keyword

            tag = tag_for_keyword(keyword)
            if tag is None:
                continue
            known = (int(tag), dictionary_VR(tag))
        table[known[0]] = (keyword, known[1])
    return table


class RawDataset(dict):
    """The decoded wanted elements by keyword, read like a pydicom Dataset (``get(keyword)``)."""

    __slots__ = ("file_meta",)

    def __init__(self, values: dict[str, Any], file_meta: dict[str, str]) -> None:
        super().__init__(values)
        self.file_meta = file_meta


_BINARY = {"US": ("H", 2), "SS": ("h", 2), "UL": ("I", 4), "SL": ("i", 4), "FL": ("f", 4)}
_BINARY["FD"] = ("d", 8)


_STRUCTS: dict[tuple[int, str], Any] = {}


def _decode(raw: bytes, vr: str, encoding: str) -> Any:
    binary = _BINARY.get(vr)
    if binary is not None:
        count = len(raw) // binary[1]
        if count == 0:
            return None
        unpack = _STRUCTS.get((count, binary[0]))
        if unpack is None:
            unpack = struct.Struct(f"<{count}{binary[0]}").unpack_from
            if len(_STRUCTS) < 256:
                _STRUCTS[count, binary[0]] = unpack
        values = unpack(raw)
        return values[0] if count == 1 else list(values)
    text = raw.decode(encoding, errors="replace").strip("\x00 ")
    if vr in ("LT", "ST", "UT"):
        return text
    if "\\" in text:
        return [v.strip() for v in text.split("\\")]
    return text


def _skip_undefined(buf: bytes, pos: int, explicit: bool) -> int:
    """Position after a sequence of undefined length starting at ``pos`` (its first item)."""
    end = len(buf)
    while pos + 8 <= end:
        group, elem = _unpack_hh(buf, pos)
        length = _unpack_i(buf, pos + 4)[0]
        pos += 8
        if group == 0xFFFE:
            if elem == 0xE0DD:  # sequence delimiter
                return pos
            if elem == 0xE000:  # item
                if length == 0xFFFFFFFF:
                    pos = _skip_dataset(buf, pos, explicit, until_item_end=True)
                else:
                    pos += length
                continue
            if elem == 0xE00D:  # stray item delimiter
                continue
        raise ValueError("malformed sequence")
    raise IndexError("sequence runs past the buffer")


def _skip_dataset(buf: bytes, pos: int, explicit: bool, *, until_item_end: bool) -> int:
    end = len(buf)
    while pos + 8 <= end:
        group, elem = _unpack_hh(buf, pos)
        if group == 0xFFFE and elem == 0xE00D:
            return pos + 8
        pos, _, _, length = _element_header(buf, pos, explicit)
        if length == 0xFFFFFFFF:
            pos = _skip_undefined(buf, pos, explicit)
        else:
            pos += length
    raise IndexError("item runs past the buffer")


def _element_header(buf: bytes, pos: int, explicit: bool) -> tuple[int, int, bytes, int]:
    """``(value position, tag, VR bytes or b'', length)`` of the element at ``pos``."""
    group, elem = _unpack_hh(buf, pos)
    tag = (group << 16) | elem
    if group == 0xFFFE:
        return pos + 8, tag, b"", _unpack_i(buf, pos + 4)[0]
    if explicit:
        vr = buf[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            return pos + 12, tag, vr, _unpack_i(buf, pos + 8)[0]
        return pos + 8, tag, vr, _unpack_h(buf, pos + 6)[0]
    return pos + 8, tag, b"", _unpack_i(buf, pos + 4)[0]


_TABLES: dict[tuple[str, ...], dict[int, tuple[str, str]]] = {}


def read_raw(path: str, keywords: tuple[str, ...]) -> RawDataset | None:
    """The wanted top-level elements of a single-frame little-endian file, or None to decline.

    Raises
    ------
    OSError
        The file cannot be opened or read.
    """
    table = _TABLES.get(keywords)
    if table is None:
        table = _TABLES[keywords] = _wanted(keywords)
    # One os.read of the head (no buffered file object: a tenth of the per-file cost); any
    # error after the open is raised again by the buffered path below, so that every message
    # (a folder, a read error) stays the one ``open``/``read`` gives.
    fd = os.open(path, _O_RDONLY)
    try:
        buf = os.read(fd, _FIRST_BYTES)
        if 0 < len(buf) < _FIRST_BYTES:
            buf += _read_all(fd, _FIRST_BYTES - len(buf))  # a short read: as fh.read does
        if len(buf) < 144 or buf[128:132] != b"DICM":
            return None
        result = _parse_guarded(buf, table)
        if result is _MORE and len(buf) == _FIRST_BYTES:
            buf += _read_all(fd, _HEAD_BYTES - len(buf))  # a long header: read more, once
            result = _parse_guarded(buf, table)
    except OSError:
        return _read_raw_buffered(path, table)
    finally:
        os.close(fd)
    return None if result is _MORE else result


def _read_all(fd: int, n: int) -> bytes:
    """Up to ``n`` more bytes (fewer only at the end of the file), as ``BufferedReader.read``."""
    chunks = []
    while n > 0:
        chunk = os.read(fd, n)
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _parse_guarded(buf: bytes, table: dict[int, tuple[str, str]]) -> Any:
    """:func:`_parse`, with running past the bytes read as ``_MORE`` and malformed as None."""
    try:
        return _parse(buf, table)
    except (IndexError, struct.error):
        return _MORE  # ran past the bytes read (or truncated: pydicom will say)
    except (ValueError, UnicodeDecodeError, LookupError):
        return None


def _read_raw_buffered(path: str, table: dict[int, tuple[str, str]]) -> RawDataset | None:
    """The reader through a buffered file object (raises its ``OSError`` unchanged)."""
    with open(path, "rb") as fh:
        buf = fh.read(_FIRST_BYTES)
        if len(buf) < 144 or buf[128:132] != b"DICM":
            return None
        result = _parse_guarded(buf, table)
        if result is _MORE and len(buf) == _FIRST_BYTES:
            buf += fh.read(_HEAD_BYTES - len(buf))  # a long header: read more, once
            result = _parse_guarded(buf, table)
    return None if result is _MORE else result


def _parse(buf: bytes, table: dict[int, tuple[str, str]]) -> RawDataset | None:
    pos = 132
    meta: dict[str, str] = {}
    end = len(buf)
    # File meta information: always explicit VR little endian.
    while pos + 8 <= end:
        group, elem, vr, length = _unpack_explicit(buf, pos)
        if group != 0x0002:
            break
        # _element_header(buf, pos, True), inlined: the meta group is read for every file
        tag = (group << 16) | elem
        if vr in _LONG_VRS:
            vpos, length = pos + 12, _unpack_i(buf, pos + 8)[0]
        else:
            vpos = pos + 8
        if length == 0xFFFFFFFF:
            return None
        key = _META_KEYS.get(tag)
        if key is not None:
            meta[key] = buf[vpos : vpos + length].decode("ascii").rstrip("\x00 ")
        pos = vpos + length
    syntax = meta.get("TransferSyntaxUID", "")
    if syntax == _IMPLICIT:
        explicit = False
    elif syntax.startswith(_EXPLICIT_OK_PREFIXES) and syntax != _DEFLATED:
        explicit = True
    else:
        return None
    values: dict[str, Any] = {}
    encoding = "latin-1"
    stop = _stop_tag(table)
    unpack_i = _unpack_i
    plain = _PLAIN_STRING_VRS
    wanted = table.get
    # Latin-1 maps each byte to one character: the whole head decoded once, then sliced, is
    # each value decoded alone (a UTF-8 character set decodes value by value).
    latin = buf.decode("latin-1")
    if explicit:
        unpack = _unpack_explicit
        vr_kind = _VR_KIND.get
    else:
        unpack = _unpack_implicit
        implicit_kind = (False, "")
    # One loop for both encodings, kept lean: it runs for every element of every file.
    while True:
        if pos + 12 > end:
            return _MORE  # type: ignore[return-value]
        if explicit:
            group, elem, vr, length = unpack(buf, pos)
            kind = vr_kind(vr)
            if kind is None:
                return None  # not a valid VR (or an item at top level): let pydicom decide
            if kind[0]:
                length = unpack_i(buf, pos + 8)[0]
                vpos = pos + 12
            else:
                vpos = pos + 8
        else:
            group, elem, length = unpack(buf, pos)
            kind = implicit_kind
            vpos = pos + 8
        tag = (group << 16) | elem
        if tag >= stop:
            break
        if length == 0xFFFFFFFF:
            pos = _skip_undefined(buf, vpos, explicit)
            continue
        pos = vpos + length
        if pos > end:
            return _MORE  # type: ignore[return-value]
        entry = wanted(tag)
        if entry is not None:
            if tag == _NUMBER_OF_FRAMES:
                return None  # multi-frame objects (functional groups) go to pydicom
            use_vr = kind[1] if explicit else entry[1]
            if use_vr in plain:
                # the common case, inlined: a (possibly multi-valued) string
                if latin is None:
                    text = buf[vpos:pos].decode(encoding, "replace").strip("\x00 ")
                else:
                    text = latin[vpos:pos].strip("\x00 ")
                values[entry[0]] = text.split("\\") if "\\" in text else text
            elif use_vr == "SQ":
                return None
            else:
                values[entry[0]] = _decode(buf[vpos:pos], use_vr, encoding)
        elif tag == _CHARSET_TAG:
            charset = buf[vpos:pos].decode("ascii").strip("\x00 ").upper()
            if charset in ("", "ISO_IR 6", "ISO_IR 100"):
                encoding = "latin-1"
            elif charset == "ISO_IR 192":
                encoding = "utf-8"
            else:
                return None
            if encoding != "latin-1":
                latin = None
    return RawDataset(values, meta)

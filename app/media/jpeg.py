"""JPEG at the level of its marker segments: what of a photo may go to a provider as it came.

A JPEG is a sequence of marker segments (tables, frame header, application data such as EXIF,
XMP or ICC, comments) up to its first scan, then entropy-coded data, where a 0xFF byte is always
followed by 0x00 or a restart marker, so any other marker there is found by its two bytes.
"""

from __future__ import annotations

import re

JPEG_START = b"\xff\xd8"
END_OF_IMAGE = 0xD9
START_OF_SCAN = 0xDA
QUANTIZATION_TABLE = 0xDB
COMMENT = 0xFE
JFIF_SEGMENT = 0xE0
APP_SEGMENTS = range(0xE0, 0xF0)
FRAME_HEADERS = frozenset(
    {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), 0xCD, 0xCE, 0xCF}
)
SENT_FRAME_HEADERS = frozenset({0xC0, 0xC1, 0xC2})
"""Huffman-coded baseline, extended and progressive JPEG: what every provider reads."""
KEPT_APP_SEGMENTS = {0xE0: b"JFIF\0", 0xE2: b"ICC_PROFILE\0", 0xEE: b"Adobe"}
"""What a decoder needs of the application segments: JFIF (without its thumbnail), the colour
profile and Adobe's colour transform flag. EXIF, XMP, IPTC, maker notes and thumbnails live in the
others."""
JFIF_HEADER_BYTES = 12
"""``JFIF\\0``, version, density unit and densities: JFIF's APP0 up to its thumbnail's size."""
MARKER_AFTER_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
"""A marker within or after entropy-coded data, where 0xFF is stuffed as FF 00 and FF D0-D7 are
restart markers."""


def jpeg_without_metadata(data: bytes) -> bytes | None:
    """``data`` with every comment and every application segment but ``KEPT_APP_SEGMENTS``
    removed before the first scan, and JFIF's thumbnail with them; the picture's bytes are not
    touched. None, so that the photo is decoded and encoded anew, when the headers are not well
    formed, there is no quantization table, the frame is not one of ``SENT_FRAME_HEADERS``, an
    application segment or comment follows the first scan (between progressive scans), or
    anything follows the end-of-image marker (an Ultra HDR gain map, a motion photo's video)."""
    if not data.startswith(JPEG_START):
        return None
    kept = [JPEG_START]
    frames: list[int] = []
    has_quantization = False
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # a fill byte before a marker
            position += 1
            continue
        if marker == START_OF_SCAN:
            if not has_quantization or frames not in ([frame] for frame in SENT_FRAME_HEADERS):
                return None
            if not _scans_hold_no_metadata(data, position):
                return None
            kept.append(data[position:])
            return b"".join(kept)
        end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if end > len(data) or end < position + 4:
            return None
        if marker in FRAME_HEADERS:
            frames.append(marker)
        has_quantization |= marker == QUANTIZATION_TABLE
        signature = KEPT_APP_SEGMENTS.get(marker)
        if marker == JFIF_SEGMENT:
            header = data[position + 4 : min(end, position + 4 + JFIF_HEADER_BYTES)]
            if header.startswith(b"JFIF\0") and len(header) == JFIF_HEADER_BYTES:
                payload = header + b"\0\0"  # no thumbnail
                kept.append(bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload)
        elif not (marker == COMMENT or marker in APP_SEGMENTS) or (
            signature and data.startswith(signature, position + 4)
        ):
            kept.append(data[position:end])
        position = end
    return None


def _scans_hold_no_metadata(data: bytes, first_scan: int) -> bool:
    """Whether, from the first scan on, there are only scans and their tables, ending with the
    end-of-image marker as the file's last two bytes. A table's bytes that look like a marker
    make this False: the photo is then decoded, never sent with something unchecked."""
    for match in MARKER_AFTER_SCAN.finditer(data, first_scan + 2):
        marker = data[match.start() + 1]
        if marker == END_OF_IMAGE:
            return match.end() == len(data)
        if marker == COMMENT or marker in APP_SEGMENTS or marker in FRAME_HEADERS:
            return False
    return False  # no end-of-image marker

"""Photo factories: images as a camera or a provider would produce them."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image


def make_image_bytes(
    width: int = 640,
    height: int = 480,
    fmt: str = "JPEG",
    *,
    color: tuple[int, int, int] = (200, 120, 50),
    exif_orientation: int | None = None,
    with_gps: bool = False,
    noise: bool = False,
    quality: int = 90,
) -> bytes:
    if noise:
        channels = [Image.effect_noise((width, height), sigma) for sigma in (40, 60, 80)]
        image = Image.merge("RGB", channels)
    else:
        image = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    if with_gps:
        exif[0x010F] = "CameraMaker"
        exif[0xA431] = "SERIAL-123456"  # BodySerialNumber
        exif.get_ifd(0x8825)[2] = (55.0, 45.0, 0.0)  # GPSLatitude
    out = io.BytesIO()
    options: dict[str, Any] = {"exif": exif.tobytes()} if len(exif) or with_gps else {}
    if fmt == "JPEG":
        options["quality"] = quality
    image.save(out, fmt, **options)
    return out.getvalue()

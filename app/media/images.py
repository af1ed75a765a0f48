"""Image sniffing, safe decoding and encoding with Pillow.

A photo becomes a ``PreparedImage``: a JPEG that already fits and stands upright is kept as it
came (its metadata segments dropped), anything else is decoded once (JPEG draft mode shrinks it
while decoding, EXIF orientation is applied). Nothing we send or store as a result carries EXIF,
GPS or camera serials; only the colour profile is kept.
"""

from __future__ import annotations

import io
import math
from typing import IO

from PIL import ExifTags, Image, ImageFile

from app.media.jpeg import jpeg_without_metadata

MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
FORMAT_BY_MIME = {mime: fmt for fmt, mime in MIME_BY_FORMAT.items()}
EXTENSION_BY_MIME = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
PREVIEW_SIDE = 512
PREVIEW_QUALITY = 80


class ImageRejected(Exception):
    def __init__(self, failure_reason: str, message: str) -> None:
        super().__init__(message)
        self.failure_reason = failure_reason
        self.message = message


def sniff_mime(head: bytes) -> str | None:
    """The image type by its first bytes, whatever the client declared."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


SENT_JPEG_QUALITY = 90
"""The quality of a photo re-encoded for a provider."""


class PreparedImage:
    """An upright image no larger than the slot's max side, ready for a provider.

    Providers get it as ``jpeg()``: the photo's own JPEG when it could go as it came, else the
    pixels encoded once. After that encoding the pixels (four bytes a pixel, 12.6 MB at
    2048x1536) are dropped and decoded again from the JPEG only if someone asks for them: a
    hundred jobs waiting on a slow provider then hold their JPEG each (about 1 MB; at most a
    byte a pixel for one kept as it came) instead of 13 MB.
    """

    def __init__(
        self,
        image: Image.Image | None,
        size: tuple[int, int],
        source_mime: str,
        icc_profile: bytes | None = None,
        jpeg: bytes | None = None,
    ) -> None:
        self._pixels = image
        self.size = size
        self.source_mime = source_mime
        self.icc_profile = icc_profile
        self._jpeg = jpeg

    @property
    def image(self) -> Image.Image:
        """The pixels; ``ImageRejected(invalid_image)`` when a JPEG kept as it came proves
        undecodable."""
        if self._pixels is None:
            assert self._jpeg is not None
            try:
                with Image.open(io.BytesIO(self._jpeg)) as reopened:
                    reopened.load()
                    self._pixels = _normalized_mode(reopened)
            except (OSError, SyntaxError, ValueError) as exc:
                raise ImageRejected(
                    "invalid_image", "The image could not be decoded completely."
                ) from exc
        return self._pixels

    def jpeg(self) -> bytes:
        """The JPEG a provider gets (encoded once; providers may ask repeatedly)."""
        if self._jpeg is None:
            self._jpeg = encode_image(self.image, "image/jpeg", SENT_JPEG_QUALITY, self.icc_profile)
            self._pixels = None
        return self._jpeg


DECODE_MEMORY_LIMIT_BYTES = 256 * 2**20
"""The memory one decode may take: the decoded image plus one working copy (orientation or mode
change). The concurrency limits bound how many decodes run at once; this bounds each of them, since
a file of a few hundred KB can declare a canvas of hundreds of MB."""
WORKING_COPY_BYTES_PER_PIXEL = 4
"""The upright RGB or RGBA copy: Pillow keeps both at four bytes a pixel."""


def check_decodable(fp: IO[bytes], mime: str, max_pixels: int, max_side: int | None) -> None:
    """Read only the header of ``fp`` and raise ``ImageRejected`` if decoding it would not fit
    (see ``open_within_limits``); ``fp`` is left at its start."""
    try:
        open_within_limits(fp, mime, max_pixels, max_side)
    finally:
        fp.seek(0)


def open_within_limits(
    fp: IO[bytes], mime: str, max_pixels: int, max_side: int | None
) -> ImageFile.ImageFile:
    """Open ``fp`` lazily (header only), with JPEG draft mode set for ``max_side``.

    Raises ``ImageRejected``: ``payload_too_large`` when the image has more than ``max_pixels``
    or its decoding would take more than ``DECODE_MEMORY_LIMIT_BYTES``, ``invalid_image`` when the
    header cannot be read. Nothing here touches Pillow's global settings or warning filters, so
    it is safe in every thread. The image is never closed here: that would close ``fp`` too.
    """
    fp.seek(0)
    try:
        opened = Image.open(fp, formats=[FORMAT_BY_MIME[mime]])
    except Image.DecompressionBombError as exc:
        raise ImageRejected(
            "payload_too_large", f"The image has too many pixels; the limit is {max_pixels} pixels."
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected("invalid_image", "The image could not be decoded completely.") from exc
    width, height = opened.size
    if width * height > max_pixels:
        raise ImageRejected(
            "payload_too_large",
            f"The image has {width}x{height} pixels; the limit is {max_pixels} pixels.",
        )
    if opened.format == "JPEG" and max_side is not None:
        _draft_for(opened, max_side)
    needed = decode_memory_bytes(opened.mode, opened.size)
    if needed > DECODE_MEMORY_LIMIT_BYTES:
        per_pixel = needed // (opened.size[0] * opened.size[1])
        raise ImageRejected(
            "payload_too_large",
            f"The image has {width}x{height} pixels; decoding it would take about "
            f"{needed // 2**20} MiB, more than the {DECODE_MEMORY_LIMIT_BYTES // 2**20} MiB "
            f"allowed: the limit for this kind of image is "
            f"{DECODE_MEMORY_LIMIT_BYTES // per_pixel} pixels.",
        )
    return opened


def decode_memory_bytes(mode: str, size: tuple[int, int]) -> int:
    """The estimated peak memory of decoding an image of ``mode`` and ``size`` (after draft) into
    an upright RGB or RGBA image."""
    width, height = size
    return width * height * (_bytes_per_pixel(mode) + WORKING_COPY_BYTES_PER_PIXEL)


def _bytes_per_pixel(mode: str) -> int:
    """As Pillow stores a decoded image: one byte for 1/L/P, two for I;16, four for the rest."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def prepare_image(
    fp: IO[bytes], mime: str, max_pixels: int, max_side: int, decoded: bool = False
) -> PreparedImage:
    """``fp`` (already sniffed as ``mime``) as an upright image of at most ``max_side``.

    Unless ``decoded`` is asked for, a complete colour JPEG that already fits and needs no turn is
    kept as it came, minus its metadata (``jpeg_without_metadata``): decoding and re-encoding it
    would cost about 30 ms of CPU for a 3 MP photo and a generation of JPEG loss, to send the
    provider much the same picture. Anything else is decoded.

    Raises ``ImageRejected`` with ``payload_too_large`` for an image over the limits of
    ``open_within_limits`` and ``invalid_image`` for anything Pillow cannot decode completely.
    """
    opened = open_within_limits(fp, mime, max_pixels, max_side)
    if not decoded and _may_go_as_it_came(opened, max_side):
        fp.seek(0)
        data = fp.read()
        stripped = jpeg_without_metadata(data)
        if stripped is not None and len(data) <= opened.size[0] * opened.size[1]:
            icc_profile = opened.info.get("icc_profile")
            return PreparedImage(None, opened.size, mime, icc_profile, jpeg=stripped)
    try:
        opened.load()
        icc_profile = opened.info.get("icc_profile")
        upright = _upright_transpose(opened)
        image = _normalized_mode(opened)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected("invalid_image", "The image could not be decoded completely.") from exc
    finally:
        del opened
    factor = max(image.size) // max_side
    if factor >= 2:
        image = image.reduce(factor)  # the full-size image is freed before the final resize
    image = fit_within(image, max_side)
    if upright is not None:
        image = image.transpose(upright)  # turned after the downscale: fewer pixels to move
    return PreparedImage(image, image.size, mime, icc_profile)


def _may_go_as_it_came(opened: ImageFile.ImageFile, max_side: int) -> bool:
    """A colour JPEG (YCbCr, which Pillow calls RGB) within ``max_side`` that needs no turn.

    ``decoderconfig`` is empty unless draft mode was set, which also shrinks the reported size:
    a photo over the side must never pass for one within it."""
    return (
        opened.format == "JPEG"
        and opened.mode == "RGB"
        and not opened.decoderconfig
        and max(opened.size) <= max_side
        and _upright_transpose(opened) is None
    )


TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""What turns an image of each EXIF orientation upright (as ``ImageOps.exif_transpose`` does)."""


def _upright_transpose(img: Image.Image) -> Image.Transpose | None:
    orientation = img.getexif().get(ExifTags.Base.Orientation)
    return TRANSPOSE_FOR_ORIENTATION.get(orientation) if isinstance(orientation, int) else None


def _draft_for(img: ImageFile.ImageFile, max_side: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale while the result keeps >= 3/4 of max_side.

    A scaled decode also takes libjpeg's fast integer DCT and plain upsampling (the ``draft`` flag
    of Pillow's decoder config): about 15 % less CPU for a 12 MP photo, with pixel values within a
    few levels of the accurate decode — less than the downscale that follows smooths away.
    """
    longest = max(img.size)
    scale = 1
    while scale < 8 and longest / (scale * 2) >= max_side * 0.75:
        scale *= 2
    if scale > 1:
        width, height = img.size
        img.draft("RGB", (math.ceil(width / scale), math.ceil(height / scale)))
        if len(img.decoderconfig) == 2:  # (scale, draft) as JpegImagePlugin.draft sets it
            img.decoderconfig = (img.decoderconfig[0], 1)


def _normalized_mode(img: Image.Image) -> Image.Image:
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    wanted = "RGBA" if has_alpha else "RGB"
    return img if img.mode == wanted else img.convert(wanted)


RESIZE_BAND_ROWS = 64


def fit_within(img: Image.Image, max_side: int) -> Image.Image:
    """Downscale (never upscale) so the longest side is at most ``max_side``.

    Resampled in bands of output rows: a one-call resize holds a third image (the source's
    rows at the new width) besides the source and the result — 16 MB for a 3000x2000 photo.
    Each band reads the source rows its filter needs, so the result equals a one-call resize.
    """
    width, height = img.size
    longest = max(width, height)
    if longest <= max_side:
        return img
    ratio = max_side / longest
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    if size[1] <= RESIZE_BAND_ROWS:
        return img.resize(size, Image.Resampling.BICUBIC)
    result = Image.new(img.mode, size)
    rows_per_output_row = height / size[1]
    for top in range(0, size[1], RESIZE_BAND_ROWS):
        bottom = min(size[1], top + RESIZE_BAND_ROWS)
        box = (0.0, top * rows_per_output_row, float(width), bottom * rows_per_output_row)
        band = img.resize((size[0], bottom - top), Image.Resampling.BICUBIC, box=box)
        result.paste(band, (0, top))
    return result


def encode_image(
    img: Image.Image, mime: str, quality: int = 90, icc_profile: bytes | None = None
) -> bytes:
    """Encode without any metadata but the colour profile."""
    out = io.BytesIO()
    options: dict[str, object] = {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if mime == "image/jpeg":
        if img.mode != "RGB":
            img = _flatten(img)
        img.save(out, "JPEG", quality=quality, **options)
    elif mime == "image/png":
        img.save(out, "PNG", compress_level=3, **options)
    elif mime == "image/webp":
        img.save(out, "WEBP", quality=quality, method=3, **options)
    else:
        raise ValueError(f"cannot encode {mime}")
    return out.getvalue()


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img.getchannel("A"))
        return background
    return img.convert("RGB")


def make_preview(img: Image.Image) -> bytes:
    """A WebP of at most ``PREVIEW_SIDE`` px: a box reduction by a whole factor, then one bicubic
    step (no copy of the full image), encoded with WebP's fastest method (a 512 px preview gains
    a few hundred bytes by method 2, for twice the CPU)."""
    factor = max(img.size) // PREVIEW_SIDE
    preview = img.reduce(factor) if factor >= 2 else img
    preview = fit_within(preview, PREVIEW_SIDE)
    out = io.BytesIO()
    preview.save(out, "WEBP", quality=PREVIEW_QUALITY, method=0)
    return out.getvalue()


HARMLESS_INFO = frozenset(
    {
        "dpi",
        "icc_profile",
        "gamma",
        "srgb",
        "chromaticity",
        "transparency",
        "aspect",
        "adobe",
        "adobe_transform",
        "progressive",
        "progression",
        "jfif",
        "jfif_version",
        "jfif_unit",
        "jfif_density",
        "loop",
        "background",
        "duration",
        "lossless",
    }
)


def carries_no_metadata(img: Image.Image) -> bool:
    """True when an encoded image may be served as it is: no EXIF, XMP, text chunks or comments."""
    return not img.getexif() and set(img.info) <= HARMLESS_INFO


def decode_result(data: bytes, max_pixels: int) -> tuple[Image.Image, str]:
    """Decode a provider's answer: ``ImageRejected(provider_no_image)`` when it is not an image,
    ``ImageRejected(provider_error)`` when it is over the limits photos are held to."""
    mime = sniff_mime(data[:16])
    if mime is None:
        raise ImageRejected(
            "provider_no_image", "The provider answered with data that is not an image."
        )
    try:
        img = open_within_limits(io.BytesIO(data), mime, max_pixels, None)
        img.load()
    except ImageRejected as rejected:
        if rejected.failure_reason == "payload_too_large":
            message = f"The provider's image is too large. {rejected.message}"
            raise ImageRejected("provider_error", message) from rejected
        raise ImageRejected(
            "provider_no_image", "The provider's image could not be decoded."
        ) from rejected
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(
            "provider_no_image", "The provider's image could not be decoded."
        ) from exc
    return _normalized_mode(img), mime

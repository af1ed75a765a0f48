"""Decoding, downscaling and previews of app.media.images, on real images in memory."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageCms, ImageStat

from app.media.images import (
    ImageRejected,
    fit_within,
    make_preview,
    prepare_image,
)
from app.media.jpeg import jpeg_without_metadata

NO_PIXEL_LIMIT = 10**9


def halves(width: int, height: int, left: str, right: str) -> Image.Image:
    image = Image.new("RGB", (width, height), right)
    image.paste(Image.new("RGB", (width // 2, height), left), (0, 0))
    return image


def jpeg(image: Image.Image, orientation: int | None = None, quality: int = 90) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def noisy(width: int, height: int) -> Image.Image:
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 30)
    return Image.merge("RGB", [gradient, noise, gradient.transpose(Image.Transpose.ROTATE_180)])


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    return max(ImageStat.Stat(ImageChops.difference(first, second)).mean)


def test_a_photo_turned_by_exif_comes_out_upright_after_the_downscale():
    photo = jpeg(halves(4000, 2000, "red", "blue"), orientation=6)  # shown turned 90° clockwise
    prepared = prepare_image(io.BytesIO(photo), "image/jpeg", NO_PIXEL_LIMIT, 1000)
    assert prepared.size == (500, 1000)
    red, blue = prepared.image.getpixel((250, 100)), prepared.image.getpixel((250, 900))
    assert red[0] > 200 and red[2] < 60  # type: ignore[index]
    assert blue[2] > 200 and blue[0] < 60  # type: ignore[index]


def test_a_photo_decoded_at_reduced_scale_stays_close_to_the_accurate_scaled_decode():
    photo = jpeg(noisy(2400, 1600), quality=92)
    prepared = prepare_image(io.BytesIO(photo), "image/jpeg", NO_PIXEL_LIMIT, 1200)
    accurate = Image.open(io.BytesIO(photo))
    accurate.draft("RGB", (1200, 800))  # Pillow's own draft: accurate DCT, fancy upsampling
    assert prepared.size == accurate.size == (1200, 800)
    assert 0 < mean_difference(prepared.image, accurate) < 1.5  # the fast decode did run


def test_fitting_in_bands_gives_what_a_one_call_resize_gives():
    image = noisy(3000, 2000)
    fitted = fit_within(image, 2048)
    whole = image.resize((2048, 1365), Image.Resampling.BICUBIC)
    assert fitted.size == (2048, 1365)
    extrema = ImageChops.difference(fitted, whole).getextrema()
    assert all(high <= 3 for _, high in extrema)  # type: ignore[misc]


def test_an_image_within_the_side_is_not_resized():
    image = noisy(640, 480)
    assert fit_within(image, 2048) is image


def test_a_preview_is_a_webp_of_at_most_512_pixels_keeping_the_aspect():
    for size, expected in (((1024, 1024), (512, 512)), ((2000, 1500), (512, 384))):
        preview = Image.open(io.BytesIO(make_preview(noisy(*size))))
        assert preview.format == "WEBP"
        assert preview.size == expected


def test_a_preview_looks_like_its_image():
    image = halves(1024, 768, "red", "blue")
    preview = Image.open(io.BytesIO(make_preview(image))).convert("RGB")
    assert mean_difference(preview, image.resize(preview.size)) < 4.0


def test_a_prepared_photo_once_encoded_still_gives_its_pixels_decoded_from_the_encoding():
    prepared = prepare_image(io.BytesIO(jpeg(noisy(3000, 2000))), "image/jpeg", NO_PIXEL_LIMIT, 800)
    original = prepared.image.copy()
    sent = prepared.jpeg()
    assert prepared.jpeg() is sent
    again = prepared.image
    assert again.size == prepared.size == original.size == (750, 500)
    assert mean_difference(again, original) < 5  # one JPEG generation at quality 90


def with_metadata(photo: bytes) -> bytes:
    """``photo`` carrying EXIF with GPS, an XMP packet, a comment and an sRGB colour profile."""
    image = Image.open(io.BytesIO(photo))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif.get_ifd(0x8825)[2] = (55.0, 45.0, 0.0)  # GPS latitude
    out = io.BytesIO()
    image.save(
        out,
        "JPEG",
        quality=95,
        exif=exif.tobytes(),
        xmp=b"<x:xmpmeta>secret-place</x:xmpmeta>",
        comment=b"serial 1234",
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    return out.getvalue()


def scan_of(photo: bytes) -> bytes:
    return photo[photo.index(b"\xff\xda") :]


def test_a_jpeg_that_fits_goes_as_it_came_without_its_metadata():
    photo = with_metadata(jpeg(noisy(1600, 1200)))
    prepared = prepare_image(io.BytesIO(photo), "image/jpeg", NO_PIXEL_LIMIT, 2048)
    sent = prepared.jpeg()
    assert scan_of(sent) == scan_of(photo)  # the picture itself is not re-encoded
    for secret in (b"CameraMaker", b"secret-place", b"serial 1234", b"Exif"):
        assert secret in photo and secret not in sent
    reopened = Image.open(io.BytesIO(sent))
    assert reopened.size == prepared.size == (1600, 1200)
    assert not reopened.getexif()
    assert reopened.info.get("icc_profile") == Image.open(io.BytesIO(photo)).info["icc_profile"]
    assert prepared.image.size == (1600, 1200)


def test_a_jpeg_that_fits_but_is_turned_by_exif_is_decoded_and_turned():
    photo = jpeg(halves(800, 400, "red", "blue"), orientation=6)
    prepared = prepare_image(io.BytesIO(photo), "image/jpeg", NO_PIXEL_LIMIT, 2048)
    assert prepared.size == (400, 800)
    assert Image.open(io.BytesIO(prepared.jpeg())).size == (400, 800)


@pytest.mark.parametrize("size", [(2400, 1600), (4000, 3000), (9000, 6000)])
def test_a_small_smooth_jpeg_over_the_side_is_decoded_and_encoded_anew(size):
    width, height = size
    photo = jpeg(halves(width, height, "red", "blue"))  # far under a byte a pixel
    assert len(photo) < 1200 * 800
    sent = prepare_image(io.BytesIO(photo), "image/jpeg", NO_PIXEL_LIMIT, 1200).jpeg()
    assert max(Image.open(io.BytesIO(sent)).size) <= 1200
    assert scan_of(sent) != scan_of(photo)


def test_a_jpeg_of_more_than_a_byte_a_pixel_is_encoded_anew_to_spare_the_uplink():
    photo = jpeg(Image.effect_noise((800, 600), 120).convert("RGB"), quality=100)
    assert len(photo) > 800 * 600
    sent = prepare_image(io.BytesIO(photo), "image/jpeg", NO_PIXEL_LIMIT, 2048).jpeg()
    assert len(sent) < len(photo)


def test_a_truncated_jpeg_that_fits_is_refused_not_sent():
    photo = jpeg(noisy(800, 600))
    with pytest.raises(ImageRejected) as refused:
        prepare_image(io.BytesIO(photo[: len(photo) // 2]), "image/jpeg", NO_PIXEL_LIMIT, 2048)
    assert refused.value.failure_reason == "invalid_image"


def test_headers_that_are_not_well_formed_give_no_stripped_jpeg():
    photo = jpeg(noisy(64, 48))
    assert jpeg_without_metadata(photo) is not None
    assert jpeg_without_metadata(b"\xff\xd8" + b"\x00" * 10) is None
    assert jpeg_without_metadata(photo[:2] + b"\xff\xe1\xff\xff" + photo[2:]) is None
    assert jpeg_without_metadata(photo[:2] + b"\xff\xe1\x00\x01" + photo[2:]) is None
    assert jpeg_without_metadata(photo[:200]) is None


def progressive(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, progressive=True)
    return out.getvalue()


def between_scans(photo: bytes, segment: bytes) -> bytes:
    second_scan = photo.index(b"\xff\xda", photo.index(b"\xff\xda") + 2)
    return photo[:second_scan] + segment + photo[second_scan:]


def test_a_progressive_jpeg_goes_as_it_came():
    photo = progressive(noisy(320, 240))
    assert jpeg_without_metadata(photo) is not None
    assert pixels(jpeg_without_metadata(photo) or b"") == pixels(photo)


@pytest.mark.parametrize(
    "segment", [b"\xff\xfe\x00\x0bserial 12", b"\xff\xe1\x00\x0aExif\x00\x00MM"]
)
def test_metadata_between_progressive_scans_makes_the_photo_decoded(segment):
    photo = between_scans(progressive(noisy(320, 240)), segment)
    assert decodes(photo)
    assert jpeg_without_metadata(photo) is None
    sent = prepare_image(io.BytesIO(photo), "image/jpeg", NO_PIXEL_LIMIT, 2048).jpeg()
    assert b"serial" not in sent and b"Exif" not in sent


def test_anything_after_the_end_of_image_makes_the_photo_decoded():
    photo = jpeg(noisy(320, 240))
    gain_map = jpeg(noisy(160, 120), orientation=1)  # an Ultra HDR gain map carries its own EXIF
    assert jpeg_without_metadata(photo + gain_map) is None
    sent = prepare_image(io.BytesIO(photo + gain_map), "image/jpeg", NO_PIXEL_LIMIT, 2048).jpeg()
    assert sent.count(b"\xff\xd9") == 1 and b"Exif" not in sent


def test_the_jfif_thumbnail_is_dropped():
    photo = jpeg(noisy(320, 240))
    thumbnail = b"THUMBNAILpix"  # 2x2 pixels, 3 bytes each
    payload = b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01" + b"\x02\x02" + thumbnail
    with_thumbnail = photo[:2] + b"\xff\xe0" + (len(payload) + 2).to_bytes(2, "big") + payload
    with_thumbnail += photo[photo.index(b"\xff\xe1") :]  # the original APP0 replaced
    stripped = jpeg_without_metadata(with_thumbnail)
    assert stripped is not None and thumbnail not in stripped
    assert stripped.startswith(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x02")
    assert pixels(stripped) == pixels(photo)


@pytest.mark.parametrize("frame", [0xC3, 0xC9, 0xCA])  # lossless, arithmetic
def test_frames_other_than_huffman_baseline_or_progressive_are_decoded(frame):
    photo = bytearray(jpeg(noisy(64, 48)))
    photo[photo.index(b"\xff\xc0") + 1] = frame
    assert jpeg_without_metadata(bytes(photo)) is None


def test_a_jpeg_without_quantization_tables_is_not_sent_as_it_came():
    photo = jpeg(noisy(64, 48))
    while b"\xff\xdb" in photo:
        start = photo.index(b"\xff\xdb")
        photo = photo[:start] + photo[start + 2 + int.from_bytes(photo[start + 2 : start + 4]) :]
    assert jpeg_without_metadata(photo) is None


SEGMENT_MARKERS = st.sampled_from([0xE0, 0xE1, 0xE2, 0xED, 0xEE, 0xEF, 0xFE])


@settings(max_examples=200, deadline=None)
@given(
    segments=st.lists(st.tuples(SEGMENT_MARKERS, st.binary(max_size=300)), max_size=6),
    cut=st.integers(min_value=0, max_value=4000),
)
def test_stripping_metadata_never_fails_and_keeps_any_decodable_picture(segments, cut):
    photo = jpeg(noisy(64, 48))
    inserted = b"".join(
        bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body
        for marker, body in segments
    )
    with_segments = photo[:2] + inserted + photo[2:]
    stripped = jpeg_without_metadata(with_segments)
    assert stripped is not None and scan_of(stripped) == scan_of(photo)
    if decodes(with_segments):  # a malformed kept segment (say, a short Adobe one) stays so
        assert pixels(stripped) == pixels(photo)
    damaged = jpeg_without_metadata(with_segments[:cut])  # any prefix: bytes or None, no error
    assert damaged is None or damaged.startswith(b"\xff\xd8")


def decodes(data: bytes) -> bool:
    try:
        Image.open(io.BytesIO(data)).load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


def pixels(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).tobytes()

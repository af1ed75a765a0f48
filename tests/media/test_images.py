"""Decoding, downscaling and previews of app.media.images, on real images in memory."""

from __future__ import annotations

import io

from PIL import Image, ImageChops, ImageStat

from app.media.images import decode_image, fit_within, make_preview

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
    prepared = decode_image(io.BytesIO(photo), "image/jpeg", NO_PIXEL_LIMIT, 1000)
    assert prepared.size == (500, 1000)
    red, blue = prepared.image.getpixel((250, 100)), prepared.image.getpixel((250, 900))
    assert red[0] > 200 and red[2] < 60  # type: ignore[index]
    assert blue[2] > 200 and blue[0] < 60  # type: ignore[index]


def test_a_photo_decoded_at_reduced_scale_stays_close_to_the_accurate_scaled_decode():
    photo = jpeg(noisy(2400, 1600), quality=92)
    prepared = decode_image(io.BytesIO(photo), "image/jpeg", NO_PIXEL_LIMIT, 1200)
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
    prepared = decode_image(io.BytesIO(jpeg(noisy(800, 600))), "image/jpeg", NO_PIXEL_LIMIT, 2048)
    original = prepared.image.copy()
    sent = prepared.encoded("image/jpeg", 95)
    assert prepared.encoded("image/jpeg", 95) is sent
    again = prepared.image
    assert again.size == prepared.size == original.size
    assert mean_difference(again.convert("RGB"), original.convert("RGB")) < 3

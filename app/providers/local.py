"""The built-in offline provider: Pillow styles, so the product works without any API key."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from app.config import Config
from app.deadline import Deadline
from app.providers.base import (
    KeyCheck,
    Outbound,
    ProviderRejected,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
)


def _rgb(img: Image.Image) -> Image.Image:
    return img if img.mode == "RGB" else img.convert("RGB")


def sepia(img: Image.Image) -> Image.Image:
    return ImageOps.colorize(
        ImageOps.grayscale(img), black="#2e1f0f", white="#f5e6c8", mid="#a27b4f"
    )


def black_and_white(img: Image.Image) -> Image.Image:
    return ImageOps.autocontrast(ImageOps.grayscale(img), cutoff=1).convert("RGB")


def pencil(img: Image.Image) -> Image.Image:
    gray = ImageOps.grayscale(img).filter(ImageFilter.SMOOTH_MORE)
    return ImageOps.autocontrast(gray.filter(ImageFilter.CONTOUR), cutoff=2).convert("RGB")


def pop_art(img: Image.Image) -> Image.Image:
    half = _rgb(img).reduce(2)
    gray = ImageOps.posterize(ImageOps.grayscale(half), 2)
    palettes = (
        ("#1a1aa6", "#ffde00"),
        ("#d6004c", "#00d1c1"),
        ("#00a651", "#ff6f00"),
        ("#6a00c9", "#ff9ee6"),
    )
    canvas = Image.new("RGB", (half.width * 2, half.height * 2))
    for index, (dark, light) in enumerate(palettes):
        canvas.paste(
            ImageOps.colorize(gray, dark, light),
            ((index % 2) * half.width, (index // 2) * half.height),
        )
    return canvas


def cartoon(img: Image.Image) -> Image.Image:
    smooth = _rgb(img).filter(ImageFilter.MedianFilter(5))
    flat = ImageOps.posterize(smooth, 3)
    edges = ImageOps.grayscale(smooth).filter(ImageFilter.FIND_EDGES)
    mask = edges.point(lambda value: 255 if value > 40 else 0)
    return Image.composite(Image.new("RGB", img.size, "black"), flat, mask)


def vignette(img: Image.Image) -> Image.Image:
    mask = Image.new("L", (256, 256), 0)
    ImageDraw.Draw(mask).ellipse((24, 24, 232, 232), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(40)).resize(img.size)
    return Image.composite(_rgb(img), Image.new("RGB", img.size, "black"), mask)


def posterize(img: Image.Image) -> Image.Image:
    return ImageOps.posterize(_rgb(img), 2)


def duotone(img: Image.Image) -> Image.Image:
    return ImageOps.colorize(ImageOps.grayscale(img), black="#0b1d51", white="#ff7eb6")


def _tint(img: Image.Image, red: float, green: float, blue: float) -> Image.Image:
    matrix = (red, 0, 0, 0, 0, green, 0, 0, 0, 0, blue, 0)
    return _rgb(img).convert("RGB", matrix)


def warm(img: Image.Image) -> Image.Image:
    return _tint(img, 1.12, 1.0, 0.82)


def cool(img: Image.Image) -> Image.Image:
    return _tint(img, 0.85, 1.0, 1.15)


def solarize(img: Image.Image) -> Image.Image:
    return ImageOps.solarize(_rgb(img), threshold=128)


def emboss(img: Image.Image) -> Image.Image:
    return ImageOps.grayscale(img).filter(ImageFilter.EMBOSS).convert("RGB")


def pixelate(img: Image.Image) -> Image.Image:
    block = max(4, max(img.size) // 64)
    small = _rgb(img).resize(
        (max(1, img.width // block), max(1, img.height // block)), Image.Resampling.BOX
    )
    return small.resize(img.size, Image.Resampling.NEAREST)


def neon(img: Image.Image) -> Image.Image:
    edges = _rgb(img).filter(ImageFilter.FIND_EDGES)
    return ImageOps.autocontrast(edges, cutoff=1)


def negative(img: Image.Image) -> Image.Image:
    return ImageOps.invert(_rgb(img))


STYLES: dict[str, Callable[[Image.Image], Image.Image]] = {
    "sepia": sepia,
    "bw": black_and_white,
    "pencil": pencil,
    "pop_art": pop_art,
    "cartoon": cartoon,
    "vignette": vignette,
    "posterize": posterize,
    "duotone": duotone,
    "warm": warm,
    "cool": cool,
    "solarize": solarize,
    "emboss": emboss,
    "pixelate": pixelate,
    "neon": neon,
    "negative": negative,
}


class LocalProvider:
    name = "local"
    calls_out = False
    works_on_pixels = True

    @classmethod
    def from_config(cls, config: Config, api_key: str | None, outbound: Outbound) -> LocalProvider:
        return cls()

    def is_configured(self) -> bool:
        return True

    def model_of(self, settings: dict[str, Any]) -> str | None:
        return str(settings.get("style", "sepia"))

    def check_key(self, deadline: Deadline) -> KeyCheck:
        return KeyCheck.OK

    def process(self, request: ProviderRequest) -> ProviderResult:
        delay = float(request.settings.get("delay_seconds") or 0)
        if delay:
            if not request.deadline.fits(delay):
                time.sleep(request.deadline.remaining())
                raise ProviderTimeout("The local provider's delay is longer than the time left.")
            time.sleep(delay)
        style_name = str(request.settings.get("style", "sepia"))
        if style_name not in STYLES:
            raise ProviderRejected(f"The local provider has no style {style_name!r}.")
        return ProviderResult(image=STYLES[style_name](request.photo.image))

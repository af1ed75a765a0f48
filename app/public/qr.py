"""QR codes drawn on the server as inline SVG (no script, no extra request)."""

from __future__ import annotations

from functools import lru_cache

import segno
from markupsafe import Markup

MODULE_PIXELS = 4


@lru_cache(maxsize=256)
def qr_svg(text: str) -> Markup:
    """Black on white whatever the page's colour scheme, sized by CSS (``viewBox`` only).

    Choosing the best mask takes most of the ~5 ms, hence the cache for reloads.
    """
    code = segno.make(text, error="m", micro=False)
    svg: str = code.svg_inline(
        scale=MODULE_PIXELS, omitsize=True, dark="#000", light="#fff", svgclass="qr-code"
    )
    return Markup(svg)  # noqa: S704 - segno's own markup; the text is encoded as modules

"""Answering an admin page request: the whole page, or for an htmx swap only the block it swaps.

Both answers carry ``Vary: HX-Request`` so a cache never hands the fragment to a plain page
load. htmx's history restore (the page was not in its cache) asks with ``HX-Request`` too but
needs the whole page, so it gets it.
"""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template
from htmx_flask import request
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    """Whether this request is an htmx swap (not a plain load, not a history restore)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page(template: str, block: str, status: int = 200, **context: Any) -> Response:
    """``template`` in full, or only its ``block`` for an htmx swap."""
    if wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response

"""Guest galleries: one slot's recent results, and /pubgallery while an admin shares it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, make_response, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_babel import ngettext

from app import context, db
from app.db import utcnow
from app.headers import keep_out_of_search_engines, no_store
from app.i18n import current_locale
from app.public.service import GalleryNotFound, find_public_slot, live_results
from app.ratelimit import hit
from app.settings.service import load_settings

bp = Blueprint("gallery", __name__)
bp.after_request(keep_out_of_search_engines)

SLOT_GALLERY_SIZE = 10
PUBLIC_GALLERY_SIZE = 100
RATE_LIMIT = 30
RATE_WINDOW_SECONDS = 60
CACHE_SECONDS = 30
CACHE_EXTENSION = "photochanger.gallery_cache"
RATE_KEY_MAX = 128


@dataclass(frozen=True)
class CachedPage:
    html: str
    stored_at: float


@dataclass
class PageCache:
    """Rendered pages kept ``ttl`` seconds by ``clock``, in this process only."""

    ttl: float
    clock: Callable[[], float] = time.monotonic
    pages: dict[str, CachedPage] = field(default_factory=dict)

    def get(self, key: str) -> tuple[str, float] | None:
        """The page and its age in seconds, while it is younger than ``ttl``."""
        page = self.pages.get(key)
        if page is None:
            return None
        age = self.clock() - page.stored_at
        return (page.html, age) if age < self.ttl else None

    def put(self, key: str, html: str) -> None:
        self.pages[key] = CachedPage(html, self.clock())


def _install_cache(state: BlueprintSetupState) -> None:
    state.app.extensions.setdefault(CACHE_EXTENSION, PageCache(CACHE_SECONDS))


bp.record_once(_install_cache)


def page_cache() -> PageCache:
    cache: PageCache = current_app.extensions[CACHE_EXTENSION]
    return cache


@bp.get("/public/slots/<slot_id>")
def slot_gallery(slot_id: str) -> Response:
    session = db.session()
    slot = find_public_slot(session, slot_id)
    items = live_results(session, utcnow(), SLOT_GALLERY_SIZE, slot_id=slot.slot_id)
    page = render_template(
        "public/gallery.html", title=slot.display_name, items=items, show_slot=False
    )
    return no_store(make_response(page))


@bp.get("/pubgallery")
def public_gallery() -> Response:
    """Rate limit first (every request counts), then the share state, then the cached page.

    The share state is read on every request, so a closed gallery is never served from the cache.
    """
    session = db.session()
    now = utcnow()
    key = f"pubgallery:{request.remote_addr or 'unknown'}"[:RATE_KEY_MAX]
    decision = hit(session, key, RATE_LIMIT, RATE_WINDOW_SECONDS, now)
    if not decision.allowed:
        wait = ngettext(
            "Please wait %(num)d second, then reload the page.",
            "Please wait %(num)d seconds, then reload the page.",
            decision.retry_after,
        )
        response = notice(_("Too many requests"), wait, 429)
        response.headers["Retry-After"] = str(decision.retry_after)
        return response
    shared_until = load_settings(session, context.config()).gallery_shared_until
    if shared_until is None or shared_until <= now:
        return notice(
            _("The gallery is closed"),
            _("The studio opens this gallery for a short time only. Ask the staff to open it."),
            404,
        )
    cache, language = page_cache(), current_locale()
    cached = cache.get(language)
    if cached is None:
        html, age = render_public_gallery(), 0.0
        cache.put(language, html)
    else:
        html, age = cached
    max_age = int(min(CACHE_SECONDS - age, (shared_until - now).total_seconds()))
    response = make_response(html)
    response.headers["Cache-Control"] = f"public, max-age={max(0, max_age)}"
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def render_public_gallery() -> str:
    items = live_results(db.session(), utcnow(), PUBLIC_GALLERY_SIZE)
    return render_template(
        "public/gallery.html", title=_("Photo gallery"), items=items, show_slot=True
    )


def notice(title: str, message: str, status: int) -> Response:
    response = no_store(
        make_response(render_template("public/notice.html", title=title, message=message))
    )
    response.status_code = status
    return response


@bp.errorhandler(GalleryNotFound)
def gallery_not_found(_error: GalleryNotFound) -> Response:
    return notice(_("Gallery not found"), _("There is no public gallery at this address."), 404)

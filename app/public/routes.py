from __future__ import annotations

from flask import Blueprint, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from spectree import Response as SpecResponse

from app import context, db
from app.api import ApiError, spec
from app.headers import keep_out_of_search_engines, no_store
from app.media.delivery import send_media
from app.media.storage import PREVIEW_MIME
from app.public.display import describe_expiry
from app.public.qr import qr_svg
from app.public.service import (
    JobNotFound,
    LiveResult,
    PublicJob,
    ResultExpired,
    ResultNotFound,
    find_job,
    find_live_result,
    public_job_view,
)
from app.settings.service import load_settings
from app.urls import result_links, telegram_result_link

bp = Blueprint("public", __name__)
bp.after_request(keep_out_of_search_engines)

FILE_MAX_AGE_SECONDS = 300


@bp.get("/public/results/<job_id>")
def result_file(job_id: str) -> Response:
    store = context.media_store()
    result = find_live_result(db.session(), store, job_id)
    response = send_media(
        store,
        result.payload,
        result.mime,
        context.config().media_accel_redirect,
        download_name=result.download_name,
        as_attachment=request.args.get("download") == "1",
    )
    return cache_until_expiry(response, result)


@bp.get("/public/results/<job_id>/preview")
def result_preview(job_id: str) -> Response:
    store = context.media_store()
    result = find_live_result(db.session(), store, job_id)
    if not result.preview.is_file():
        raise ResultNotFound(job_id)
    response = send_media(
        store, result.preview, PREVIEW_MIME, context.config().media_accel_redirect
    )
    return cache_until_expiry(response, result)


@bp.get("/r/<job_id>")
@bp.get("/r/<path:job_id>")
def result_page(job_id: str) -> Response:
    session = db.session()
    result = find_live_result(session, context.media_store(), job_id)
    links = result_links(result.job_id)
    bot_username = load_settings(session, context.config()).telegram_bot_username
    page = render_template(
        "public/result.html",
        links=links,
        expiry=describe_expiry(result.expires_at, result.seconds_left()),
        qr=qr_svg(links.page),
        telegram_link=telegram_result_link(bot_username, result.job_id),
    )
    return no_store(make_response(page))


@bp.get("/api/jobs/<job_id>")
@spec.validate(resp=SpecResponse(HTTP_200=PublicJob, HTTP_404=ApiError), tags=["jobs"])
def job_status(job_id: str) -> Response:
    """A job's status and result links, for anyone holding its id (no token needed)."""
    job = find_job(db.session(), job_id)
    view = public_job_view(job, result_links(job.id))
    return no_store(make_response(view.model_dump(mode="json")))


def cache_until_expiry(response: Response, result: LiveResult) -> Response:
    """Only the guest's own browser may cache the file, and never past the result's expiry."""
    response.cache_control.no_cache = None
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.max_age = min(FILE_MAX_AGE_SECONDS, result.seconds_left())
    return response


def wants_page() -> bool:
    return request.endpoint == "public.result_page"


def error_json(failure_reason: str, message: str, status: int) -> tuple[Response, int]:
    body = jsonify(status="error", failure_reason=failure_reason, message=message)
    return no_store(body), status


def gone_page(title: str, expired: bool, status: int) -> tuple[Response, int]:
    page = render_template("public/gone.html", title=title, expired=expired)
    return no_store(make_response(page)), status


@bp.errorhandler(ResultNotFound)
def result_not_found(_error: ResultNotFound) -> tuple[Response, int]:
    if wants_page():
        return gone_page(_("Photo not found"), expired=False, status=404)
    return error_json("result_not_found", _("There is no such result."), 404)


@bp.errorhandler(ResultExpired)
def result_expired(_error: ResultExpired) -> tuple[Response, int]:
    if wants_page():
        return gone_page(_("This photo has expired"), expired=True, status=410)
    return error_json("result_expired", _("This result has expired and was deleted."), 410)


@bp.errorhandler(JobNotFound)
def job_not_found(_error: JobNotFound) -> tuple[Response, int]:
    return error_json("job_not_found", _("There is no such job."), 404)

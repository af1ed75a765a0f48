from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request, send_file
from flask_babel import gettext as _

from app import context, db
from app.db import utcnow
from app.ingest.ids import is_job_id
from app.ingest.models import Job
from app.media.images import EXTENSION_BY_MIME
from app.public.links import external_url
from app.public.service import (
    ResultExpired,
    ResultNotFound,
    find_live_result,
    public_job_view,
)

bp = Blueprint("public", __name__)


@bp.get("/public/results/<job_id>")
def result_file(job_id: str) -> Response:
    result = find_live_result(db.session(), context.media_store(), job_id)
    download = request.args.get("download") == "1"
    extension = EXTENSION_BY_MIME[result.job.result_mime or "image/jpeg"]
    response = send_file(
        result.payload,
        mimetype=result.job.result_mime,
        as_attachment=download,
        download_name=f"photochanger-{job_id}.{extension}",
        conditional=True,
        etag=True,
        max_age=300,
    )
    return response


@bp.get("/public/results/<job_id>/preview")
def result_preview(job_id: str) -> Response:
    result = find_live_result(db.session(), context.media_store(), job_id)
    if not result.preview.is_file():
        raise ResultNotFound(job_id)
    return send_file(result.preview, mimetype="image/webp", conditional=True, max_age=300)


@bp.get("/r/<job_id>")
def result_page(job_id: str) -> str:
    result = find_live_result(db.session(), context.media_store(), job_id)
    seconds_left = int((result.expires_at - utcnow()).total_seconds())
    return render_template(
        "public/result.html",
        job=result.job,
        expires_at=result.expires_at,
        seconds_left=seconds_left,
        image_url=external_url("public.result_file", job_id=job_id),
        download_url=external_url("public.result_file", job_id=job_id) + "?download=1",
    )


@bp.get("/api/jobs/<job_id>")
def job_status(job_id: str) -> Response:
    job = db.session().get(Job, job_id) if is_job_id(job_id) else None
    if job is None:
        abort(404)
    return jsonify(public_job_view(job))


def _wants_html() -> bool:
    return request.path.startswith("/r/")


@bp.errorhandler(ResultNotFound)
def result_not_found(_error: ResultNotFound) -> tuple[Response | str, int]:
    if _wants_html():
        return render_template("public/gone.html", title=_("Photo not found"), expired=False), 404
    return jsonify(failure_reason="result_not_found", message=_("There is no such result.")), 404


@bp.errorhandler(ResultExpired)
def result_expired(error: ResultExpired) -> tuple[Response | str, int]:
    if _wants_html():
        return render_template(
            "public/gone.html", title=_("This photo has expired"), expired=True, job=error.job
        ), 410
    return jsonify(
        failure_reason="result_expired", message=_("This result has expired and was deleted.")
    ), 410

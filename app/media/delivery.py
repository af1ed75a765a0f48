"""Sending a stored media file to a client: streamed by the app itself, or handed over to nginx.

With ``MEDIA_ACCEL_REDIRECT`` set (nginx's internal location, e.g. ``/_protected_media/``), the app
still makes every decision (who may see the file, expiry, caching) but answers with an empty body
and ``X-Accel-Redirect: <prefix><path relative to MEDIA_ROOT>``; nginx then sends the file (with
ranges and conditional requests) without holding an app thread for a slow download.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from urllib.parse import quote

from flask import Response, send_file

from app.media.storage import MediaStore

ACCEL_HEADER = "X-Accel-Redirect"


def send_media(
    store: MediaStore,
    path: Path,
    mime: str,
    accel_prefix: str | None,
    download_name: str | None = None,
    as_attachment: bool = False,
) -> Response:
    """The answer that delivers ``path`` (a file on the volume) as ``mime``.

    Raises ``UnsafePath`` when ``path`` is outside the volume.
    """
    relative = store.relative(path)
    if not accel_prefix:
        return send_file(
            store.path(relative),
            mimetype=mime,
            as_attachment=as_attachment,
            download_name=download_name,
            conditional=True,
            etag=True,
        )
    response = Response(b"", mimetype=mime)
    response.headers[ACCEL_HEADER] = accel_prefix + quote(relative, safe="/")
    set_content_disposition(response, download_name or path.name, as_attachment)
    return response


def set_content_disposition(response: Response, download_name: str, as_attachment: bool) -> None:
    """The header ``send_file`` writes: an ASCII ``filename``, plus ``filename*`` when needed."""
    names = {"filename": download_name}
    try:
        download_name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode()
        quoted = quote(download_name, safe="!#$&+-.^_`|~")  # RFC 5987 attr-char
        names = {"filename": simple, "filename*": f"UTF-8''{quoted}"}
    response.headers.set(
        "Content-Disposition", "attachment" if as_attachment else "inline", **names
    )

"""How the app's request class spools uploaded files (app/__init__.py)."""

from __future__ import annotations

import io
from typing import IO

from flask import Flask, request
from werkzeug.test import EnvironBuilder

PHOTO = b"\xff\xd8" + b"\x00" * (600 * 1024)


def spooled_streams(app: Flask, data: dict[str, object]) -> dict[str, IO[bytes]]:
    environ = EnvironBuilder(method="POST", data=data).get_environ()
    with app.request_context(environ):
        files = request.files
        streams = {name: part.stream for name, part in files.items()}
        assert files["fileToUpload"].stream.read() == PHOTO
        return streams


def test_the_photo_of_a_large_body_is_spooled_to_a_file_that_can_be_linked(app):
    streams = spooled_streams(
        app, {"password": "x", "fileToUpload": (io.BytesIO(PHOTO), "photo.jpg")}
    )
    assert isinstance(streams["fileToUpload"], io.BufferedRandom)


def test_a_body_of_many_file_parts_takes_one_spool_file_not_one_each(app):
    parts: dict[str, object] = {f"part{i}": (io.BytesIO(b"x"), f"{i}.bin") for i in range(50)}
    parts["fileToUpload"] = (io.BytesIO(PHOTO), "photo.jpg")
    streams = spooled_streams(app, parts)
    assert sum(isinstance(stream, io.BufferedRandom) for stream in streams.values()) == 1

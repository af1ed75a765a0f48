"""The fake Gemini API server: pytest-httpserver handlers that check, record and answer calls."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support.fakes.gemini.contract import GENERATE_PATH, Call, body_problems
from tests.support.fakes.gemini.replies import (
    API_KEY,
    Reply,
    api_key_invalid_reply,
    error_reply,
    image_reply,
    models_page_reply,
    overloaded_reply,
)

LIST_PATH = "/v1beta/models"
HANG_LIMIT_SECONDS = 60.0


class Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


class GeminiFake:
    def __init__(self, server: HTTPServer, api_key: str = API_KEY) -> None:
        self.server = server
        self.api_key = api_key
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self._replies: list[Reply] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        server.expect_request(re.compile(r"^/v1beta/models.*")).respond_with_handler(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def script(self, *replies: Reply) -> GeminiFake:
        """Answer with these in order; the last one repeats."""
        self._replies = list(replies)
        return self

    def release(self) -> None:
        """Let every hanging answer finish (the test is over)."""
        self._released.set()

    @property
    def generate_calls(self) -> list[Call]:
        return [call for call in self.calls if call.model]

    def handle(self, request: Request) -> Response:
        try:
            call = self._accept(request)
        except Refused as refused:
            return _response(refused.reply)
        with self._lock:
            self.calls.append(call)
            reply = self._next(call)
        if reply.hang:
            self._released.wait(HANG_LIMIT_SECONDS)
            return _response(overloaded_reply())
        if reply.drip_seconds is not None:
            return self._dripped(reply, reply.drip_seconds)
        if reply.delay_seconds:
            self._released.wait(reply.delay_seconds)
        return _response(reply)

    def _dripped(self, reply: Reply, seconds: float) -> Response:
        def body() -> Iterator[bytes]:
            for index in range(len(reply.body)):
                if self._released.wait(seconds):
                    return
                yield reply.body[index : index + 1]

        response = Response(body(), status=reply.status, content_type=reply.content_type)
        response.headers["Content-Length"] = str(len(reply.body))
        return response

    def _next(self, call: Call) -> Reply:
        if not self._replies:
            return image_reply() if call.model else models_page_reply()
        return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def _accept(self, request: Request) -> Call:
        raw_uri = str(request.environ.get("RAW_URI", request.full_path))
        self._check(_key_in_url_problems(request))
        self._authorize(request)
        if request.path == LIST_PATH:
            self._check([] if request.method == "GET" else [f"{request.method} {LIST_PATH}"])
            return _call(request, raw_uri, {})
        match = GENERATE_PATH.match(request.path)
        if match is None or request.method != "POST" or ":generateContent" not in raw_uri:
            self._check([f"not a generateContent call: {request.method} {raw_uri}"])
        assert match is not None
        body = self._json_body(request)
        self._check(body_problems(body, match["model"]))
        return _call(request, raw_uri, body)

    def _authorize(self, request: Request) -> None:
        given = request.headers.get("x-goog-api-key") or request.args.get("key")
        if not given:
            raise Refused(
                error_reply(
                    403,
                    "PERMISSION_DENIED",
                    "Method doesn't allow unregistered callers (callers without established "
                    "identity). Please use API Key or other form of API consumer identity to "
                    "call this API.",
                )
            )
        if given != self.api_key:
            raise Refused(api_key_invalid_reply())

    def _json_body(self, request: Request) -> dict[str, Any]:
        if request.mimetype != "application/json":
            self._check([f"Content-Type is {request.content_type!r}, not application/json"])
        try:
            body = json.loads(request.get_data())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._check(["Invalid JSON payload received."])
        assert isinstance(body, dict)
        return body

    def _check(self, problems: list[str]) -> None:
        if problems:
            with self._lock:
                self.problems.extend(problems)
            raise Refused(error_reply(400, "INVALID_ARGUMENT", "fake: " + "; ".join(problems)))


def _response(reply: Reply) -> Response:
    return Response(reply.body, status=reply.status, content_type=reply.content_type)


def _call(request: Request, raw_uri: str, body: dict[str, Any]) -> Call:
    return Call(
        method=request.method,
        path=request.path,
        raw_uri=raw_uri,
        query=dict(request.args),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
    )


def _key_in_url_problems(request: Request) -> list[str]:
    return ["the API key was sent in the URL"] if "key" in request.args else []

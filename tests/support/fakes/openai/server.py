"""The fake OpenAI Images API server: a real HTTP server on 127.0.0.1 that checks the key,
records accepted edits and answers them with the scripted answers."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
from tests.support.fakes.openai.answers import Answer, image_answer
from tests.support.fakes.openai.contract import (
    GPT_IMAGE_MODELS,
    EditRequest,
    Refused,
    error_response,
    json_response,
    parse_edit,
    validate_edit,
)

API_KEY = "sk-test-openai-fake-9f2c"


def wrong_key_response(given: str) -> Response:
    masked = f"{given[:3]}***{given[-4:]}" if len(given) > 8 else "***"
    return error_response(
        401,
        f"Incorrect API key provided: {masked}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    )


@dataclass
class FakeOpenAI:
    api_key: str = API_KEY
    edits: list[EditRequest] = field(default_factory=list)
    models_calls: int = 0
    default_answer: Answer = field(default_factory=image_answer)
    _answers: deque[Answer] = field(default_factory=deque)
    _released: threading.Event = field(default_factory=threading.Event)
    _server: BaseWSGIServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def then(self, *answers: Answer) -> FakeOpenAI:
        """Queue answers for the next accepted edits; the default answer follows them."""
        self._answers.extend(answers)
        return self

    def always(self, answer: Answer) -> FakeOpenAI:
        self.default_answer = answer
        return self

    def hang(self, seconds: float = 60) -> Answer:
        """Answer nothing for ``seconds`` (or until the fake stops), then a late image."""

        def answer(request: EditRequest) -> Response:
            self._released.wait(seconds)
            return image_answer()(request)

        return answer

    def start(self) -> FakeOpenAI:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except Refused as refused:
            response = refused.response
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if request.path == "/v1/images/edits" and request.method == "POST":
            return self._edit(request)
        if request.path == "/v1/models" and request.method == "GET":
            self._authorize(request)
            self.models_calls += 1
            models = [{"id": m, "object": "model", "owned_by": "system"} for m in GPT_IMAGE_MODELS]
            return json_response(200, {"object": "list", "data": models})
        return error_response(
            404, f"Invalid URL ({request.method} {request.path})", "invalid_request_error"
        )

    def _edit(self, request: Request) -> Response:
        self._authorize(request)
        edit = parse_edit(request)
        validate_edit(edit)
        self.edits.append(edit)
        answer = self._answers.popleft() if self._answers else self.default_answer
        return answer(edit)

    def _authorize(self, request: Request) -> None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not given:
            raise Refused(
                error_response(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "invalid_request_error",
                )
            )
        if given != self.api_key:
            raise Refused(wrong_key_response(given))


@contextmanager
def running_fake(api_key: str = API_KEY) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(api_key).start()
    try:
        yield fake
    finally:
        fake.stop()

"""A loopback Turbotext: the form-encoded queue API, stateful, on 127.0.0.1.

Like the real service it downloads the images it is given by URL when a queue is created, so the
tests exercise our public provider-media links over real HTTP. What it answers is set through
``FakeTurbotext.behaviour`` before the call; what it saw is recorded for the assertions.
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import requests
from PIL import Image
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

API_KEY = "tt-test-key"
FIRST_QUEUE_ID = 8734512
# The shapes of fixtures/turbotext_create_queue.json, turbotext_pending.json, turbotext_result.json
CREATE_QUEUE: dict[str, Any] = {"success": True, "queueid": FIRST_QUEUE_ID}
PENDING: dict[str, Any] = {"action": "reconnect"}
RESULT: dict[str, Any] = {
    "success": True,
    "error": "",
    "data": {
        "image": ["image/mix_images_id12_0.png"],
        "prompt": "в стиле диснеевского мультфильма",
        "width": 768,
        "height": 576,
        "seed": 9147962925,
        "strength": 50,
        "pattern_prompt": False,
    },
    "uploaded_image": "https://www.turbotext.ru/download.php?f=mix_images_id12_0_8734512.png",
    "limits": {"foto_limit": 123, "text_limit": 456},
}
METHOD_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "generate_image2image": (
        frozenset({"url", "content"}),
        frozenset({"strength", "seed", "scale", "negative_prompt", "original_language", "user_id"}),
    ),
    "mix_images": (frozenset({"url_image_target", "url"}), frozenset({"content"})),
    "deepfake_photo": (frozenset({"url", "url_image_target"}), frozenset({"face_restore"})),
    "available_api": (frozenset(), frozenset()),
}
URL_FIELDS = ("url", "url_image_target")
AVAILABLE_METHODS = ["generate_image2image", "mix_images", "deepfake_photo"]
ResultShape = Literal["top", "data", "relative_image", "absolute_image"]


def result_png(size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 140, 220)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Behaviour:
    """What the fake answers. Lists are consumed one item per matching request."""

    reconnects: int = 1
    never_finish: bool = False
    create_statuses: list[int] = field(default_factory=list)
    create_errors: list[str] = field(default_factory=list)
    poll_statuses: list[int] = field(default_factory=list)
    poll_delay: float = 0.0
    result_error: str | None = None
    result_shape: ResultShape = "top"
    result_url: str | None = None
    """Where ``uploaded_image`` points instead of the fake itself."""
    result_image: bytes = field(default_factory=result_png)
    download_statuses: list[int] = field(default_factory=list)
    queueid_as_string: bool = False
    auth_error_in_body: bool = False
    """Answer a wrong key with HTTP 200 and an error body instead of HTTP 401."""


@dataclass(frozen=True)
class Fetched:
    """One image the fake downloaded from a URL it was given."""

    field: str
    url: str
    status: int
    mime: str
    body: bytes


@dataclass
class Queue:
    queue_id: int
    method: str
    form: dict[str, str]
    polls: int = 0


@dataclass(frozen=True)
class Call:
    method: str
    form: dict[str, str]
    authorization: str | None


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")


def _html_error(status: int) -> Response:
    return Response(f"<html><body><h1>{status}</h1></body></html>", status, mimetype="text/html")


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float("nan")


def _pop(items: list[Any]) -> Any:
    return items.pop(0) if items else None


class FakeTurbotext:
    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.behaviour = Behaviour()
        self.calls: list[Call] = []
        self.queues: dict[str, Queue] = {}
        self.fetched: list[Fetched] = []
        self.downloads: list[dict[str, str]] = []
        self._ids = itertools.count(FIRST_QUEUE_ID)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._routes = Map(
            [
                Rule("/api_ai/<method>", endpoint="api", methods=["POST"]),
                Rule("/download.php", endpoint="download", methods=["GET"]),
                Rule("/image/<path:name>", endpoint="download", methods=["GET"]),
            ]
        )
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeTurbotext:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # What the tests assert on.

    def calls_of(self, do: str, method: str | None = None) -> list[Call]:
        return [
            call
            for call in self.calls
            if call.form.get("do") == do and (method is None or call.method == method)
        ]

    @property
    def create_calls(self) -> int:
        return len(self.calls_of("create_queue"))

    @property
    def polls(self) -> int:
        return len(self.calls_of("get_result"))

    def fetched_field(self, name: str) -> Fetched:
        matches = [fetched for fetched in self.fetched if fetched.field == name]
        assert len(matches) == 1, f"{name} fetched {len(matches)} times"
        return matches[0]

    # The WSGI app.

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, values = self._routes.bind_to_environ(environ).match()
            if endpoint == "api":
                response = self._api(request, values["method"])
            else:
                response = self._download(request)
        except HTTPException as error:
            response = _json({"success": False, "error": error.name}, error.code or 500)
        return response(environ, start_response)

    def _api(self, request: Request, method: str) -> Response:
        form = request.form.to_dict()
        with self._lock:
            self.calls.append(Call(method, form, request.headers.get("Authorization")))
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._auth_failure()
        if request.mimetype != "application/x-www-form-urlencoded":
            return _json({"success": False, "error": "params_error"}, 400)
        if method not in METHOD_FIELDS:
            raise NotFound()
        if form.get("do") == "create_queue":
            return self._create_queue(method, form)
        if form.get("do") == "get_result":
            return self._get_result(method, form)
        return _json({"success": False, "error": "params_error"})

    def _auth_failure(self) -> Response:
        body = {"success": False, "error": "Invalid API key"}
        return _json(body) if self.behaviour.auth_error_in_body else _json(body, 401)

    def _create_queue(self, method: str, form: dict[str, str]) -> Response:
        with self._lock:
            status = _pop(self.behaviour.create_statuses)
            error = _pop(self.behaviour.create_errors)
        if status is not None:
            return _html_error(status)
        if error is not None:
            return _json({"success": False, "error": error})
        if not self._valid_form(method, form):
            return _json({"success": False, "error": "params_error"})
        if not all(self._fetch(name, form[name]) for name in URL_FIELDS if name in form):
            return _json({"success": False, "error": "url_error"})
        queue_id = next(self._ids)
        with self._lock:
            self.queues[str(queue_id)] = Queue(queue_id, method, form)
        answer = copy.deepcopy(CREATE_QUEUE)
        answer["queueid"] = str(queue_id) if self.behaviour.queueid_as_string else queue_id
        return _json(answer)

    @staticmethod
    def _valid_form(method: str, form: dict[str, str]) -> bool:
        required, optional = METHOD_FIELDS[method]
        given = set(form) - {"do"}
        if not required <= given or not given <= required | optional:
            return False
        if any(not form[name].strip() for name in required):
            return False
        checks: dict[str, Callable[[str], bool]] = {
            "strength": lambda v: v.isdigit() and 0 <= int(v) <= 80,
            "seed": lambda v: v.isdigit() and 1 <= int(v) <= 10**10,
            "scale": lambda v: 0.1 <= _number(v) <= 20,
            "face_restore": lambda v: v in ("True", "False"),
        }
        return all(check(form[name]) for name, check in checks.items() if name in form)

    def _fetch(self, name: str, url: str) -> bool:
        """GET an input the way Turbotext does, recording what came back."""
        try:
            response = requests.get(url, timeout=5)
        except requests.RequestException:
            return False
        mime = response.headers.get("Content-Type", "").split(";")[0]
        with self._lock:
            self.fetched.append(Fetched(name, url, response.status_code, mime, response.content))
        return response.status_code == 200 and mime in ("image/jpeg", "image/png")

    def _get_result(self, method: str, form: dict[str, str]) -> Response:
        if self.behaviour.poll_delay:
            self._stopping.wait(self.behaviour.poll_delay)
        with self._lock:
            status = _pop(self.behaviour.poll_statuses)
            queue = self.queues.get(form.get("queueid", ""))
        if status is not None:
            return _html_error(status)
        if method == "available_api":
            return _json({"success": True, "error": "", "data": AVAILABLE_METHODS})
        if queue is None or queue.method != method:
            return _json({"success": False, "error": "queue_not_found"})
        with self._lock:
            queue.polls += 1
            pending = self.behaviour.never_finish or queue.polls <= self.behaviour.reconnects
        if pending:
            return _json(copy.deepcopy(PENDING))
        if self.behaviour.result_error:
            return _json({"success": False, "error": self.behaviour.result_error})
        return _json(self._result(queue))

    def _result(self, queue: Queue) -> dict[str, Any]:
        name = f"{queue.method}_id12_0_{queue.queue_id}.png"
        download = self.behaviour.result_url or f"{self.url}/download.php?f={name}"
        answer = copy.deepcopy(RESULT)
        answer["data"]["image"] = [f"image/{name}"]
        shape = self.behaviour.result_shape
        if shape == "top":
            answer["uploaded_image"] = download
            return answer
        del answer["uploaded_image"]
        if shape == "data":
            answer["data"]["uploaded_image"] = download
        elif shape == "absolute_image":
            answer["data"]["image"] = [download]
        return answer

    def _download(self, request: Request) -> Response:
        with self._lock:
            self.downloads.append(dict(request.headers))
            status = _pop(self.behaviour.download_statuses)
        if status is not None and status != 200:
            return _html_error(status)
        return Response(self.behaviour.result_image, mimetype="image/png")

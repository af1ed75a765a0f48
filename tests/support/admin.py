"""An admin's browser session in tests: log in through the login form with its CSRF token, then
send the token the admin layout publishes with every state-changing request (as htmx does).

``AdminClient`` speaks real HTTP to a server; ``AdminTestClient`` is the same admin in-process
through Flask's test client, for form tests that need no socket. Both take ``requests``-style
keyword arguments (``data``, ``files``, ``allow_redirects``), so a test reads the same either way.
"""

from __future__ import annotations

import io
import re
from typing import Any, Generic, TypeVar

import requests
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-secret-123"
SECOND_ADMIN_USERNAME = "maria"
SECOND_ADMIN_PASSWORD = "maria-secret-456"
LOGIN_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
LAYOUT_CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


def login_form_token(page: str) -> str:
    """The CSRF token of the login form on ``page``."""
    found = LOGIN_CSRF_FIELD.search(page)
    assert found, "login form has no CSRF field"
    return found.group(1)


def post_login(
    http: requests.Session,
    base_url: str,
    password: str,
    username: str = ADMIN_USERNAME,
    **extra: str,
) -> requests.Response:
    """The login form sent over real HTTP with its CSRF token."""
    data = {
        "username": username,
        "password": password,
        "csrf_token": login_form_token(http.get(f"{base_url}/admin/login").text),
        **extra,
    }
    return http.post(f"{base_url}/admin/login", data=data, allow_redirects=False)


def layout_csrf_token(page: str) -> str:
    """The CSRF token the admin layout publishes for htmx requests."""
    found = LAYOUT_CSRF_META.search(page)
    assert found, "admin layout has no csrf-token meta tag"
    return found.group(1)


AnswerT = TypeVar("AnswerT", requests.Response, TestResponse)


class AdminSession(Generic[AnswerT]):
    """Login and CSRF handling shared by both transports; ``_send`` is the transport."""

    def __init__(self) -> None:
        self.csrf_token = ""

    def login(self, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD) -> None:
        token = login_form_token(self._send("GET", "/admin/login", {}).text)
        response = self._send(
            "POST",
            "/admin/login",
            {},
            data={"username": username, "password": password, "csrf_token": token},
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text
        self.refresh_csrf()

    def refresh_csrf(self) -> None:
        self.csrf_token = layout_csrf_token(self._send("GET", "/admin/", {}).text)

    def get(self, path: str, htmx: bool = False, **kwargs: Any) -> AnswerT:
        return self._send("GET", path, self._headers(htmx), **kwargs)

    def post(self, path: str, htmx: bool = False, **kwargs: Any) -> AnswerT:
        """A state-changing request with the CSRF token sent as htmx does (header)."""
        return self.request("POST", path, htmx=htmx, **kwargs)

    def request(
        self, method: str, path: str, htmx: bool = False, csrf: bool = True, **kwargs: Any
    ) -> AnswerT:
        headers = self._headers(htmx)
        if csrf:
            headers["X-CSRFToken"] = self.csrf_token
        kwargs.setdefault("allow_redirects", False)
        return self._send(method, path, headers, **kwargs)

    def _send(self, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> AnswerT:
        raise NotImplementedError

    @staticmethod
    def _headers(htmx: bool) -> dict[str, str]:
        return {"HX-Request": "true"} if htmx else {}


class AdminClient(AdminSession[requests.Response]):
    """A logged-in admin's browser session over real HTTP: cookie, CSRF token, htmx headers."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.session = requests.Session()

    def _send(
        self, method: str, path: str, headers: dict[str, str], **kwargs: Any
    ) -> requests.Response:
        return self.session.request(method, self.base_url + path, headers=headers, **kwargs)


class AdminTestClient(AdminSession[TestResponse]):
    """The same admin in-process, through the app's test client (its own cookie jar)."""

    def __init__(self, client: FlaskClient) -> None:
        super().__init__()
        self.client = client

    def _send(self, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> TestResponse:
        kwargs.pop("timeout", None)
        kwargs["follow_redirects"] = kwargs.pop("allow_redirects", True)
        files = kwargs.pop("files", None)
        if files:
            data = dict(kwargs.pop("data", None) or {})
            for name, (filename, content, *mime) in files.items():
                data[name] = (io.BytesIO(content), filename, *mime)
            kwargs["data"] = data
        return self.client.open(path, method=method, headers=headers, **kwargs)

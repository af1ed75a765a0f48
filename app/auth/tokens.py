"""Bearer tokens of the JSON API: HS256 JWTs with scope ``admin`` and a fixed lifetime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

TOKEN_LIFETIME = timedelta(hours=12)
ADMIN_SCOPE = "admin"
ALGORITHM = "HS256"


class TokenRejected(Exception):
    """The token is missing, forged, malformed or expired (401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ScopeMissing(Exception):
    """A valid token without the admin scope (403)."""


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


def issue_token(key: str, username: str, now: datetime, scope: str = ADMIN_SCOPE) -> IssuedToken:
    claims = {
        "sub": username,
        "scope": scope,
        "iat": int(now.timestamp()),
        "exp": int((now + TOKEN_LIFETIME).timestamp()),
    }
    token = jwt.encode(claims, key, algorithm=ALGORITHM)
    return IssuedToken(access_token=token, expires_in=int(TOKEN_LIFETIME.total_seconds()))


def read_admin_token(key: str, authorization: str | None) -> str:
    """The admin's username from an ``Authorization: Bearer`` header value."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("token_missing")
    try:
        claims = jwt.decode(
            token.strip(),
            key,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenRejected("token_expired") from error
    except jwt.PyJWTError as error:
        raise TokenRejected("token_invalid") from error
    scopes = str(claims.get("scope", "")).split()
    if ADMIN_SCOPE not in scopes:
        raise ScopeMissing(claims["sub"])
    return str(claims["sub"])

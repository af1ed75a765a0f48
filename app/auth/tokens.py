"""Bearer tokens of the JSON API: HS256 JWTs with scope ``admin``, a fixed lifetime and the admin's
session generation (``gen``), so logging out everywhere or a password change revokes them."""

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
class AdminToken:
    username: str
    generation: int


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


def issue_token(
    key: str, username: str, now: datetime, generation: int, scope: str = ADMIN_SCOPE
) -> IssuedToken:
    claims = {
        "sub": username,
        "scope": scope,
        "gen": generation,
        "iat": int(now.timestamp()),
        "exp": int((now + TOKEN_LIFETIME).timestamp()),
    }
    token = jwt.encode(claims, key, algorithm=ALGORITHM)
    return IssuedToken(access_token=token, expires_in=int(TOKEN_LIFETIME.total_seconds()))


def read_admin_token(key: str, authorization: str | None) -> AdminToken:
    """The admin and session generation of an ``Authorization: Bearer`` header value; whether the
    generation is still the admin's is for the caller to check."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("token_missing")
    try:
        claims = jwt.decode(
            token.strip(),
            key,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "gen"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenRejected("token_expired") from error
    except jwt.PyJWTError as error:
        raise TokenRejected("token_invalid") from error
    scopes = str(claims.get("scope", "")).split()
    if ADMIN_SCOPE not in scopes:
        raise ScopeMissing(claims["sub"])
    generation = claims["gen"]
    if not isinstance(generation, int) or isinstance(generation, bool):
        raise TokenRejected("token_invalid")
    return AdminToken(username=str(claims["sub"]), generation=generation)

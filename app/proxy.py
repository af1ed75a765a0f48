"""Which of a client's own claims to believe: who it is, which scheme and which host it used.

``X-Forwarded-*`` headers are honoured only on requests whose direct peer is one of the configured
reverse proxies (``TRUSTED_PROXIES``, ``PROXY_HOPS`` of them in a row); from anyone else they are
dropped, so a client cannot pick its own IP (and dodge a throttle) or its own scheme. A ``Host``
header builds absolute links only when it came through such a proxy or names an allowed host:
anything else could point a guest's link at another site.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

FORWARDED_HEADERS = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
)
THROUGH_TRUSTED_PROXY = "photochanger.through_trusted_proxy"


def parse_networks(value: str) -> list[Network]:
    """``"10.0.0.5, 172.28.0.0/16"`` as networks; raises ValueError naming a bad entry."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or network: {entry!r}") from None
    return networks


class TrustedProxies:
    """WSGI middleware: werkzeug's ProxyFix for requests from a trusted proxy, and the forwarded
    headers removed from every other request."""

    def __init__(self, app: WSGIApp, hops: int, proxies: Sequence[Network]) -> None:
        self.app = app
        self.hops = hops
        self.proxies = tuple(proxies)
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self.hops and self.is_proxy(environ.get("REMOTE_ADDR", "")):
            environ[THROUGH_TRUSTED_PROXY] = True
            return self.fixed(environ, start_response)
        for header in FORWARDED_HEADERS:
            environ.pop(header, None)
        return self.app(environ, start_response)

    def is_proxy(self, address: str) -> bool:
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(peer in network for network in self.proxies)


def host_is_trusted(environ: dict[str, Any], host: str, allowed_hosts: Sequence[str]) -> bool:
    """Whether ``host`` (``name[:port]``) may start an absolute link the app hands out."""
    if environ.get(THROUGH_TRUSTED_PROXY):
        return True
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.strip("[]").lower() in allowed_hosts

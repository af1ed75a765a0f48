"""The outbound watchdog over TLS, as real providers are called: a kept-alive HTTPS connection is
reused, and a peer dripping its headers is cut at the deadline."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.deadline import Deadline
from app.outbound import OutboundTimeout, new_session, send
from tests.support.servers import RawServer


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TlsServer(RawServer):
    """HTTPS on 127.0.0.1: ``/ok`` answers at once (keep-alive), ``/drip-head`` sends its
    headers a line every 0.3 s."""

    scheme = "https"

    def __init__(self, cert: Path, key: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        super().__init__()

    def serve(self, raw: socket.socket) -> None:
        try:
            with self.context.wrap_socket(raw, server_side=True) as connection:
                while not self.stopped.is_set():
                    head = b""
                    while b"\r\n\r\n" not in head:
                        data = connection.recv(65536)
                        if not data:
                            return
                        head += data
                    if b"/drip-head" in head.split(b"\r\n", 1)[0]:
                        connection.sendall(b"HTTP/1.1 200 OK\r\n")
                        while not self.stopped.wait(0.3):
                            connection.sendall(b"X-Padding: x\r\n")
                        return
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        except OSError:
            return  # the client cut the connection, as the drip test wants


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[TlsServer, Path]]:
    cert, key = self_signed_certificate(tmp_path)
    server = TlsServer(cert, key)
    yield server, cert
    server.stop()


def test_a_kept_alive_https_connection_is_reused(tls_server):
    server, cert = tls_server
    with new_session() as http:
        for _ in range(3):
            answer = send(
                http,
                "GET",
                f"{server.url}/ok",
                service="svc",
                deadline=Deadline.after(5),
                verify=str(cert),
            )
            assert answer.content == b"hello"
    assert server.connections == 1


def test_an_https_peer_dripping_its_headers_is_cut_at_the_deadline(tls_server):
    server, cert = tls_server
    started = time.monotonic()
    with new_session() as http, pytest.raises(OutboundTimeout):
        send(
            http,
            "GET",
            f"{server.url}/drip-head",
            service="svc",
            deadline=Deadline.after(2),
            verify=str(cert),
        )
    assert 1.9 <= time.monotonic() - started < 2.6

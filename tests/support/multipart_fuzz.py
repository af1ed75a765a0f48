"""Fuzzing the booth upload: hypothesis builds raw HTTP requests around multipart bodies (field
names and sizes, encodings, boundaries, truncation, wrong types, header sizes), sends each over
its own socket, and judges the answer: never a 500, never silence unless the request was cut
short, and afterwards no job left pending and no file the app does not account for.

Used by tests/ingest/test_fuzz.py (a few hundred cases) and scripts/fuzz_ingest.py (thousands).
Cases come from 10 000 loopback addresses (127.1.0.1 on) in turn, so the per-client password
throttle sees many clients, as at an event, instead of locking the fuzzer out after ten guesses.
"""

from __future__ import annotations

import io
import itertools
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ingest.models import Job, JobStatus
from tests.support.booth import parse_headers
from tests.support.ingest import INGEST_PASSWORD

ANSWER_TIMEOUT_SECONDS = 30.0
T = TypeVar("T")
SLOT_ID = "slot-001"


def _image(fmt: str, size: tuple[int, int] = (48, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (180, 90, 40)).save(out, fmt)
    return out.getvalue()


JPEG = _image("JPEG")
PAYLOADS: dict[str, bytes] = {
    "jpeg": JPEG,
    "png": _image("PNG"),
    "webp": _image("WEBP"),
    "gif": _image("GIF"),
    "bmp": _image("BMP"),
    "truncated-jpeg": JPEG[: len(JPEG) // 2],
    "jpeg-head-only": JPEG[:4],
    "empty": b"",
    "text": b"hello, not an image",
    "html": b"<html><body>hi</body></html>",
    "nul": b"\0" * 4096,
}


@dataclass(frozen=True)
class Part:
    headers: list[bytes]
    data: bytes


@dataclass(frozen=True)
class FuzzCase:
    """One raw request: its target, head lines, body and how it is sent."""

    target: str
    head_lines: list[bytes]
    body: bytes
    declared_length: int | None
    """``Content-Length`` sent (None: none, or chunked when ``chunked``)."""
    chunked: bool
    cut_short: bool
    """The client stops sending before the body it announced is complete."""

    def raw(self, host: str) -> bytes:
        lines = [f"POST {self.target} HTTP/1.1".encode(), f"Host: {host}".encode()]
        lines += self.head_lines
        if self.chunked:
            lines.append(b"Transfer-Encoding: chunked")
        elif self.declared_length is not None:
            lines.append(b"Content-Length: %d" % self.declared_length)
        lines.append(b"Connection: close")
        body = self.body
        if self.chunked:
            body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in _chunks(body, 4096))
            body += b"" if self.cut_short else b"0\r\n\r\n"
        return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or []


_names = st.one_of(
    st.sampled_from(["fileToUpload", "file", "password", "hash", "hash_hex", "time", "id", ""]),
    st.text(min_size=1, max_size=30),
    st.integers(1, 70_000).map(lambda n: "n" * n),
)
_filenames = st.one_of(
    st.none(),
    st.sampled_from(["IMG_0003.JPG", "../../etc/passwd", "..\\..\\boot.ini", "a\0b.jpg", ""]),
    st.text(max_size=40),
    st.integers(256, 5000).map(lambda n: "f" * n + ".jpg"),
)
_part_types = st.one_of(
    st.none(),
    st.sampled_from(["image/jpeg", "image/png", "text/plain", "application/octet-stream", "x"]),
    st.text(max_size=30),
)


def _quoted(value: str, encoding: str) -> bytes:
    return b'"' + value.replace('"', "'").encode(encoding, "replace") + b'"'


def _pick(draw: st.DrawFn, wild: bool, strategy: st.SearchStrategy[T], usual: T) -> T:
    """A fuzzed value in a wild case, the well-formed ``usual`` one otherwise."""
    return draw(strategy) if wild else usual


@st.composite
def parts(draw: st.DrawFn, photo_name: str | None = None, wild: bool = True) -> Part:
    name = photo_name if photo_name is not None else draw(_names)
    encoding = _pick(draw, wild, st.sampled_from(["utf-8", "latin-1", "utf-16"]), "utf-8")
    disposition = _pick(
        draw, wild, st.sampled_from([b"form-data", b"attachment", b"FORM-DATA", b""]), b"form-data"
    )
    header = b"Content-Disposition: " + disposition + b"; name=" + _quoted(name, encoding)
    filename = draw(_filenames) if photo_name is None else "IMG_0003.JPG"
    if filename is not None:
        header += b"; filename=" + _quoted(filename, encoding)
    if draw(st.booleans()):
        header += b"; filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE.jpg"
    headers = [header] if _pick(draw, wild, st.integers(0, 9), 1) else []
    part_type = _pick(draw, wild, _part_types, "image/jpeg" if photo_name else None)
    if part_type is not None:
        headers.append(b"Content-Type: " + part_type.encode("utf-8", "replace"))
    if _pick(draw, wild, st.integers(0, 5), 1) == 0:
        encoding_name = draw(st.sampled_from([b"base64", b"quoted-printable", b"8bit", b"x-zz"]))
        headers.append(b"Content-Transfer-Encoding: " + encoding_name)
    if _pick(draw, wild, st.integers(0, 7), 1) == 0:
        headers.append(b"X-Pad: " + b"p" * draw(st.integers(1, 100_000)))
    if photo_name is not None:
        usual = st.sampled_from(["jpeg", "png", "webp"])
        data = draw(st.sampled_from(list(PAYLOADS)) if wild else usual)
        payload = PAYLOADS[data] + draw(st.binary(max_size=16))  # a new photo hash, mostly
    else:
        payload = draw(
            st.one_of(
                st.binary(max_size=200),
                st.text(max_size=200).map(lambda t: t.encode("utf-8", "replace")),
                st.sampled_from(list(PAYLOADS.values())),
                st.integers(1, 300_000).map(lambda n: b"v" * n),
            )
        )
    return Part(headers, payload)


@st.composite
def fuzz_cases(draw: st.DrawFn) -> FuzzCase:
    """One in three requests is a well-formed upload with fuzzed extra fields and photo part
    details (so the whole pipeline runs); the rest are fuzzed throughout."""
    wild = draw(st.integers(0, 2)) > 0
    usual_boundary = "------------090306000104030805010400"
    boundary = _pick(
        draw,
        wild,
        st.one_of(
            st.sampled_from([usual_boundary, "x", "b" * 70, "b" * 300]),
            st.text(alphabet="abcXYZ019'()+_,-./:=? ", min_size=1, max_size=70),
            st.text(max_size=20),
        ),
        usual_boundary,
    )
    boundary_bytes = boundary.encode("utf-8", "replace")
    body_boundary = boundary_bytes
    if _pick(draw, wild, st.integers(0, 9), 1) == 0:
        body_boundary = draw(st.binary(max_size=20))
    newline = b"\n" if _pick(draw, wild, st.integers(0, 5), 1) == 0 else b"\r\n"

    password = _pick(
        draw,
        wild,
        st.sampled_from([INGEST_PASSWORD] * 4 + ["wrong", "", "пароль"]),
        INGEST_PASSWORD,
    )
    fields: list[Part] = []
    if _pick(draw, wild, st.integers(0, 9), 1):
        fields.append(Part([b'Content-Disposition: form-data; name="password"'], password.encode()))
    fields += draw(st.lists(parts(), max_size=6 if wild else 3))
    if _pick(draw, wild, st.integers(0, 5), 1):
        photo_name = draw(st.sampled_from(["fileToUpload", "file"]))
        fields.insert(draw(st.integers(0, len(fields))), draw(parts(photo_name, wild)))

    body = _pick(draw, wild, st.sampled_from([b"", b"preamble\r\n"]), b"")
    for part in fields:
        body += b"--" + body_boundary + newline + newline.join(part.headers)
        body += newline + newline + part.data + newline
    if _pick(draw, wild, st.integers(0, 7), 1):
        body += b"--" + body_boundary + b"--" + newline
    body += _pick(draw, wild, st.sampled_from([b"", b"epilogue", b"\r\n--x--\r\n"]), b"")

    multipart = b"multipart/form-data; boundary=" + boundary_bytes
    content_type = _pick(
        draw,
        wild,
        st.sampled_from(
            [
                multipart,
                b'multipart/form-data; boundary="' + boundary_bytes + b'"',
                b"multipart/form-data; charset=utf-8; boundary=" + boundary_bytes,
                b"multipart/form-data",
                b"multipart/mixed; boundary=" + boundary_bytes,
                b"application/x-www-form-urlencoded",
                b"application/json",
                b"image/jpeg",
                b"",
            ]
        ),
        multipart,
    )
    head = [b"Content-Type: " + content_type] if content_type else []
    if draw(st.integers(0, 5)) == 0:
        head.append(b"Expect: 100-continue")
    if draw(st.integers(0, 7)) == 0:
        head.append(b"Idempotency-Key: " + draw(st.binary(max_size=100)).hex().encode())
    if _pick(draw, wild, st.integers(0, 7), 1) == 0:
        head += [b"X-Header-%d: %s" % (n, b"h" * 100) for n in range(draw(st.integers(1, 150)))]
    if _pick(draw, wild, st.integers(0, 9), 1) == 0:
        head.append(b"X-Big: " + b"b" * draw(st.integers(4000, 20_000)))

    framings = st.sampled_from(["exact"] * 5 + ["long", "short", "chunked", "cut-chunked"])
    framing = _pick(draw, wild, framings, "exact")
    declared: int | None = len(body)
    chunked, cut_short = framing in ("chunked", "cut-chunked"), framing in ("long", "cut-chunked")
    if framing == "long":
        declared = len(body) + draw(st.integers(1, 10_000))
    elif framing == "short":
        declared = draw(st.integers(0, max(0, len(body) - 1)))
        body = body[:declared]  # the rest would be taken for a second request
    usual_target = f"/ingest/{SLOT_ID}"
    targets = st.sampled_from([usual_target] * 6 + [f"/api/ingest/{SLOT_ID}", "/ingest/slot-999"])
    target = _pick(draw, wild, targets, usual_target)
    if draw(st.integers(0, 9)) == 0:
        target += "?" + draw(st.sampled_from(["a=1", "password=x", "x=" + "q" * 3000, "%ff=%00"]))
    return FuzzCase(target, head, body, declared, chunked, cut_short)


@dataclass(frozen=True)
class Answer:
    status: int | None
    """None: the server closed the connection without an answer."""
    headers: dict[str, str]
    body: bytes
    seconds: float


_CLIENT_IPS = itertools.cycle([f"127.1.{a}.{b}" for a in range(40) for b in range(1, 255)])


def send(url: str, case: FuzzCase) -> Answer:
    """Send ``case`` from the next loopback address while reading the answer, as a client must:
    a server may answer (and close) before it has read the whole body."""
    parts_ = urlsplit(url)
    host, port = parts_.hostname or "127.0.0.1", parts_.port or 80
    started = time.monotonic()
    with socket.create_connection(
        (host, port), timeout=ANSWER_TIMEOUT_SECONDS, source_address=(next(_CLIENT_IPS), 0)
    ) as sock:
        sender = threading.Thread(target=_send_all, args=(sock, case, parts_.netloc), daemon=True)
        sender.start()
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        sender.join(ANSWER_TIMEOUT_SECONDS)
    seconds = time.monotonic() - started
    while received:
        head, _, received = received.partition(b"\r\n\r\n")
        status = int(head.split(b"\r\n", 1)[0].split()[1])
        if status >= 200 or not received:  # 100 Continue comes before the answer
            return Answer(status, parse_headers(head), received, seconds)
    return Answer(None, {}, b"", seconds)


def _send_all(sock: socket.socket, case: FuzzCase, host: str) -> None:
    try:
        sock.sendall(case.raw(host))
        if case.cut_short:
            sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the server answered and closed before reading everything


def describe(case: FuzzCase) -> str:
    """A short printable account of ``case`` for a failure report."""
    raw = case.raw("127.0.0.1")
    return (
        f"- {case.target}, {len(raw)} bytes, "
        f"declared {case.declared_length}, chunked={case.chunked}, cut_short={case.cut_short}\n"
        f"  {raw[:400]!r}"
    )


def problems_with(case: FuzzCase, answer: Answer) -> list[str]:
    """What is wrong with ``answer`` to ``case`` (an empty list when it is fine)."""
    if answer.status is None:
        return [] if case.cut_short else ["the server closed the connection without answering"]
    found = []
    if answer.status >= 500 and answer.status not in (503, 504):
        found.append(f"HTTP {answer.status}")
    if b"internal_error" in answer.body:
        found.append("failure_reason internal_error")
    if answer.seconds > ANSWER_TIMEOUT_SECONDS - 1:
        found.append(f"answered after {answer.seconds:.1f} s")
    return found


def leftovers(session: Session, media_root: Path, *, check_results: bool = True) -> list[str]:
    """Jobs still pending, files in ``temp/`` and (with ``check_results``) files under
    ``results/`` that no finished job names as its result."""
    session.expire_all()
    found = [
        f"job {job_id} is still pending"
        for job_id in session.scalars(select(Job.id).where(Job.status == JobStatus.PENDING))
    ]
    temp = media_root / "temp"
    found += [f"file left in temp/: {p.name}" for p in temp.iterdir()] if temp.is_dir() else []
    if check_results:
        results = set(
            session.scalars(
                select(Job.result_path).where(
                    Job.status == JobStatus.DONE, Job.result_path.is_not(None)
                )
            )
        )
        for path in (media_root / "results").rglob("*"):
            relative = str(path.relative_to(media_root))
            if path.is_file() and str(Path(relative).parent) not in results:
                found.append(f"file without a done job: {relative}")
    return found

"""What the fake Gemini API accepts in a generateContent call, and the call as it records it."""

from __future__ import annotations

import base64
import binascii
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

GENERATE_PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):generateContent$")
ASPECT_RATIOS = frozenset({"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"})
IMAGE_SIZES = frozenset({"1K", "2K", "4K"})
INPUT_MIMES = frozenset({"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"})
MODALITIES = frozenset({"TEXT", "IMAGE"})


@dataclass
class Call:
    """One request the fake accepted."""

    method: str
    path: str
    raw_uri: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def model(self) -> str | None:
        match = GENERATE_PATH.match(self.path)
        return match["model"] if match else None

    @property
    def parts(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = self.body["contents"][0]["parts"]
        return parts

    @property
    def images(self) -> list[bytes]:
        """The decoded input images, in the order they were sent."""
        return [base64.b64decode(_inline(part)["data"]) for part in self.parts if _inline(part)]

    @property
    def prompt(self) -> str:
        text: str = self.parts[-1]["text"]
        return text


def _inline(part: dict[str, Any]) -> dict[str, Any]:
    inline: dict[str, Any] = part.get("inlineData") or part.get("inline_data") or {}
    return inline


def body_problems(body: dict[str, Any], model: str) -> list[str]:
    """What the API (or our contract) refuses in a generateContent body."""
    problems = [f"unknown field {name!r}" for name in body if name not in TOP_LEVEL]
    for name, check in TOP_LEVEL.items():
        if name in body:
            problems += check(body[name], model)
        elif name == "contents":
            problems.append("contents is required")
    return problems


def _contents_problems(contents: Any, model: str) -> list[str]:
    if not isinstance(contents, list) or len(contents) != 1 or not isinstance(contents[0], dict):
        return ["contents must be exactly one turn"]
    turn = contents[0]
    if turn.get("role") != "user" or set(turn) != {"role", "parts"}:
        return ["the turn must be {'role': 'user', 'parts': [...]}"]
    parts = turn["parts"]
    if not isinstance(parts, list) or len(parts) < 2:
        return ["parts must hold at least one image and the prompt"]
    problems = [p for part in parts[:-1] for p in _image_part_problems(part)]
    last = parts[-1]
    if not (isinstance(last, dict) and set(last) == {"text"} and isinstance(last["text"], str)):
        problems.append("the last part must be the text prompt")
    elif not last["text"].strip():
        problems.append("the prompt is empty")
    return problems


def _image_part_problems(part: Any) -> list[str]:
    if not isinstance(part, dict) or len(part) != 1 or not _inline(part):
        return ["every part before the prompt must be exactly one inline image"]
    inline = _inline(part)
    mime = inline.get("mimeType", inline.get("mime_type"))
    if set(inline) - {"mimeType", "mime_type", "data"} or mime not in INPUT_MIMES:
        return [f"bad inline data fields or mime type {mime!r}"]
    try:
        data = base64.b64decode(inline.get("data", ""), validate=True)
    except (binascii.Error, ValueError):
        return ["inline data is not standard base64"]
    return _jpeg_problems(data) if mime == "image/jpeg" else []


def _jpeg_problems(data: bytes) -> list[str]:
    if not data.startswith(b"\xff\xd8\xff"):
        return ["inline data declared image/jpeg is not a JPEG"]
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            image.load()
    except (OSError, SyntaxError, ValueError):
        return ["inline JPEG does not decode"]
    return []


def _generation_problems(config: Any, model: str) -> list[str]:
    if not isinstance(config, dict):
        return ["generationConfig must be an object"]
    problems = [
        f"unknown generationConfig field {name!r}"
        for name in config
        if name not in {"responseModalities", "imageConfig"}
    ]
    modalities = config.get("responseModalities")
    if not isinstance(modalities, list) or not {str(m).upper() for m in modalities} <= MODALITIES:
        problems.append(f"bad responseModalities {modalities!r}")
    if "imageConfig" in config:
        problems += _image_config_problems(config["imageConfig"], model)
    return problems


def _image_config_problems(config: Any, model: str) -> list[str]:
    if not isinstance(config, dict) or set(config) - {"aspectRatio", "imageSize"}:
        return [f"bad imageConfig {config!r}"]
    problems = []
    if "aspectRatio" in config and config["aspectRatio"] not in ASPECT_RATIOS:
        problems.append(f"bad aspectRatio {config['aspectRatio']!r}")
    if "imageSize" in config:
        if config["imageSize"] not in IMAGE_SIZES:
            problems.append(f"bad imageSize {config['imageSize']!r} (uppercase K required)")
        if not model.startswith("gemini-3"):
            problems.append(f"imageSize sent to {model}, which only makes ~1 MP images")
    return problems


def _safety_problems(settings: Any, model: str) -> list[str]:
    valid = isinstance(settings, list) and all(
        isinstance(s, dict) and set(s) == {"category", "threshold"} for s in settings
    )
    return [] if valid else [f"bad safetySettings {settings!r}"]


TOP_LEVEL: dict[str, Callable[[Any, str], list[str]]] = {
    "contents": _contents_problems,
    "generationConfig": _generation_problems,
    "safetySettings": _safety_problems,
}

"""Slot settings per provider, validated by pydantic on every path that saves them.

Unknown keys are rejected, so switching provider can never leave stale settings behind. Models
are free text (providers add models often); each driver suggests a few to the UI.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.providers import gemini, openai
from app.providers.local import STYLES

Prompt = Annotated[str, Field(min_length=1, max_length=32000)]
Model = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._:/-]+$")]

ASPECT_RATIOS = ("auto", "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")


class StrictSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LocalSettings(StrictSettings):
    style: str = "sepia"
    delay_seconds: float = Field(0, ge=0, le=60)

    @model_validator(mode="after")
    def _known_style(self) -> LocalSettings:
        if self.style not in STYLES:
            raise ValueError(f"style must be one of: {', '.join(sorted(STYLES))}")
        return self


class GeminiSettings(StrictSettings):
    model: Model = gemini.DEFAULT_MODEL
    prompt: Prompt
    aspect_ratio: Literal[ASPECT_RATIOS] = "auto"  # type: ignore[valid-type]
    image_size: Literal["1K", "2K", "4K"] | None = None
    safety_settings: list[dict[str, str]] | None = None

    @model_validator(mode="after")
    def _image_size_for_gemini_3_only(self) -> GeminiSettings:
        if self.image_size is not None and not gemini.is_gemini_3(self.model):
            raise ValueError("image_size is only supported by Gemini 3 image models")
        return self


class TurbotextSettings(StrictSettings):
    method: Literal["generate_image2image", "mix_images", "deepfake_photo"]
    prompt: str | None = Field(None, max_length=2000)
    strength: int | None = Field(None, ge=0, le=80)
    seed: int | None = Field(None, ge=1, le=10**10)
    scale: float | None = Field(None, ge=0.1, le=20)
    negative_prompt: str | None = Field(None, max_length=2000)
    face_restore: bool | None = None

    @model_validator(mode="after")
    def _fields_of_the_method(self) -> TurbotextSettings:
        own = {
            "generate_image2image": {"prompt", "strength", "seed", "scale", "negative_prompt"},
            "mix_images": {"prompt"},
            "deepfake_photo": {"face_restore"},
        }[self.method]
        given = self.model_fields_set - {"method"} - own
        foreign = {name for name in given if getattr(self, name) is not None}
        if foreign:
            raise ValueError(f"{self.method} does not take: {', '.join(sorted(foreign))}")
        if self.method == "generate_image2image" and not self.prompt:
            raise ValueError("generate_image2image needs a prompt")
        return self


class OpenAISettings(StrictSettings):
    model: Model = openai.DEFAULT_MODEL
    prompt: Prompt
    size: Literal["auto", "1024x1024", "1536x1024", "1024x1536"] = "auto"
    quality: Literal["low", "medium", "high", "auto"] = "auto"
    input_fidelity: Literal["low", "high"] | None = None


class SettingsInvalid(ValueError):
    """Field errors of provider settings, as ``{field: message}``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def validated_settings(model: type[StrictSettings], settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` checked by ``model``, normalized (defaults filled, ``None`` dropped)."""
    try:
        validated = model.model_validate(settings)
    except ValidationError as error:
        raise SettingsInvalid(
            {".".join(str(p) for p in e["loc"]) or "settings": e["msg"] for e in error.errors()}
        ) from error
    return validated.model_dump(exclude_none=True)

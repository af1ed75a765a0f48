from __future__ import annotations

import pytest

from app.providers.registry import provider_spec, validate_settings
from app.providers.schemas import SettingsInvalid
from app.slots.errors import SlotNotFound
from app.slots.models import Slot
from tests.support.slots import set_provider_settings


def field_errors(provider: str, settings: dict[str, object]) -> dict[str, str]:
    with pytest.raises(SettingsInvalid) as raised:
        validate_settings(provider, settings)
    return raised.value.errors


def test_unknown_fields_are_rejected_by_name():
    errors = field_errors("openai", {"prompt": "p", "style": "sepia"})
    assert "style" in errors


@pytest.mark.parametrize("provider", ["gemini", "openai"])
def test_prompt_is_required_where_the_provider_needs_one(provider):
    assert "prompt" in field_errors(provider, {})


def test_models_are_free_text_with_a_suggested_list():
    assert validate_settings("gemini", {"prompt": "p", "model": "gemini-9-image"})["model"] == (
        "gemini-9-image"
    )
    assert provider_spec("gemini").suggested_models[0] == "gemini-2.5-flash-image"
    assert "gpt-image-1.5" in provider_spec("openai").suggested_models


def test_image_size_is_refused_for_gemini_2_5():
    errors = field_errors("gemini", {"prompt": "p", "image_size": "2K"})
    assert "Gemini 3" in next(iter(errors.values()))


def test_image_size_must_use_an_uppercase_k():
    assert "image_size" in field_errors(
        "gemini", {"prompt": "p", "model": "gemini-3-pro-image-preview", "image_size": "2k"}
    )


def test_turbotext_method_fields_belong_to_their_method():
    errors = field_errors("turbotext", {"method": "deepfake_photo", "strength": 40})
    assert "strength" in next(iter(errors.values()))
    assert validate_settings("turbotext", {"method": "deepfake_photo", "face_restore": True}) == {
        "method": "deepfake_photo",
        "face_restore": True,
    }


def test_local_style_must_exist():
    assert field_errors("local", {"style": "watercolour"})


def test_unknown_provider_is_a_field_error():
    assert "provider" in field_errors("dalle", {})


def test_switching_provider_replaces_the_settings_and_bumps_the_version(db_session):
    slot = set_provider_settings(
        db_session, "slot-003", "gemini", {"prompt": "Neon portrait"}, "admin"
    )
    assert slot.settings == {
        "model": "gemini-2.5-flash-image",
        "prompt": "Neon portrait",
        "aspect_ratio": "auto",
    }
    assert (slot.version, slot.updated_by) == (2, "admin")
    db_session.expire_all()
    assert db_session.get(Slot, "slot-003").settings["prompt"] == "Neon portrait"


def test_invalid_settings_change_nothing(db_session):
    with pytest.raises(SettingsInvalid):
        set_provider_settings(db_session, "slot-003", "openai", {"size": "4x4"}, "admin")
    db_session.rollback()
    slot = db_session.get(Slot, "slot-003")
    assert (slot.provider, slot.version) == ("local", 1)


def test_unknown_slot_is_refused(db_session):
    with pytest.raises(SlotNotFound):
        set_provider_settings(db_session, "slot-404", "local", {}, "admin")

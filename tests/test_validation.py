"""The validation-message table: pydantic's errors in the admin's words, for forms and the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest
from flask import Flask
from flask_babel import lazy_gettext as _l
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from app.validation import field_messages


class Booth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=10)]
    code: Annotated[str, StringConstraints(min_length=4)] = "abcd"
    copies: int = Field(1, ge=1, le=5)
    ratio: float = Field(1.0, gt=0)
    tags: list[str] = Field(default_factory=list, max_length=2)
    note: str = ""

    @field_validator("note")
    @classmethod
    def no_shouting(cls, value: str) -> str:
        if value.isupper():
            raise ValueError("no shouting")
        return value


def errors_of(data: dict[str, object], **options: object) -> dict[str, str]:
    try:
        Booth.model_validate(data)
    except ValidationError as error:
        return field_messages(error, **options)  # type: ignore[arg-type]
    raise AssertionError("the data was valid")


@pytest.fixture
def english(app: Flask) -> Iterator[None]:
    with app.test_request_context("/?lang=en"):
        yield


@pytest.mark.usefixtures("english")
def test_a_missing_or_empty_required_text_reads_as_required():
    assert errors_of({})["name"] == "This field is required."
    assert errors_of({"name": ""})["name"] == "This field is required."


@pytest.mark.usefixtures("english")
def test_a_length_or_range_message_names_the_bound_that_failed():
    assert errors_of({"name": "x" * 11})["name"] == "Enter at most 10 characters."
    assert errors_of({"name": "a", "code": "ab"})["code"] == "Enter at least 4 characters."
    assert errors_of({"name": "a", "copies": 0})["copies"] == "Must be at least 1."
    assert errors_of({"name": "a", "copies": 6})["copies"] == "Must be at most 5."
    assert errors_of({"name": "a", "ratio": 0})["ratio"] == "Must be more than 0."
    assert errors_of({"name": "a", "tags": ["a", "b", "c"]})["tags"] == "Enter at most 2 items."


@pytest.mark.usefixtures("english")
def test_type_and_choice_errors_have_plain_words():
    errors = errors_of({"name": "a", "copies": "many", "colour": "red"})

    assert errors == {
        "copies": "Enter a whole number.",
        "colour": "This field is not accepted here.",
    }


@pytest.mark.usefixtures("english")
def test_a_validators_own_words_are_kept_without_pydantics_prefix():
    assert errors_of({"name": "a", "note": "LOUD"})["note"] == "no shouting"


@pytest.mark.usefixtures("english")
def test_errors_inside_a_field_are_dotted_and_can_sit_under_a_prefix():
    errors = errors_of({"name": "a", "tags": ["ok", 5]}, prefix="booth")

    assert errors == {"booth.tags.1": "Enter text."}


@pytest.mark.usefixtures("english")
def test_a_fields_own_wording_replaces_the_table_under_its_top_level_name():
    wording = {"tags": _l("Enter up to two words.")}

    errors = errors_of({"name": "", "tags": ["ok", 5]}, wording=wording)

    assert errors == {"name": "This field is required.", "tags": "Enter up to two words."}


def test_messages_follow_the_admins_language(app: Flask):
    with app.test_request_context("/?lang=ru"):
        assert errors_of({})["name"] == "Это поле обязательно."
        assert errors_of({"name": "a", "copies": 9})["copies"] == (
            "Значение должно быть не больше 5."
        )


def test_the_api_words_a_refused_body_with_the_same_table(api_http, live_server):
    response = api_http.put(
        f"{live_server.url}/api/slots/slot-001",
        json={"output": {"quality": 0}, "colour": "red"},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 422
    messages = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert messages == {
        "output.quality": "Must be at least 1.",
        "colour": "This field is not accepted here.",
    }

"""Template images on the slot page over real HTTP: upload, checks, thumbnails and removal."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.slots.models import Slot, TemplateMedia
from app.slots.template_media import MAX_TEMPLATE_BYTES
from tests.support.images import make_image_bytes
from tests.support.pages import form_fields
from tests.support.stored import files_under


def templates_of(session: Session, slot_id: str = "slot-001") -> list[TemplateMedia]:
    session.expire_all()
    return list(session.scalars(select(TemplateMedia).where(TemplateMedia.slot_id == slot_id)))


def upload(admin_http, data: bytes, name: str = "style.png", **form: str):
    return admin_http.post(
        "/admin/slots/slot-001/templates?lang=en",
        htmx=True,
        data=form,
        files={"file": (name, data, "image/png")},
    )


def test_an_uploaded_template_is_stored_shown_and_bumps_the_version(
    admin_http, db_session, media_root
):
    png = make_image_bytes(300, 200, "PNG")

    response = upload(admin_http, png, kind="background", version="1")

    assert response.status_code == 200
    [template] = templates_of(db_session)
    assert (template.kind, template.mime, template.width, template.height) == (
        "background",
        "image/png",
        300,
        200,
    )
    assert template.path == f"templates/slot-001/{template.media_id}.png"
    assert (media_root / template.path).read_bytes() == png
    assert f"/admin/slots/slot-001/templates/{template.media_id}" in response.text
    slot = db_session.get(Slot, "slot-001")
    assert slot is not None
    assert (slot.version, slot.updated_by) == (2, "admin")
    assert re.search(
        r'id="slot-version" name="version" value="2" hx-swap-oob="true"', response.text
    )
    assert not any(p.name.startswith("template") for p in (media_root / "temp").iterdir())


def test_the_thumbnail_is_served_to_admins_only(admin_http, live_server, http):
    upload(admin_http, make_image_bytes(900, 600, "JPEG"), name="face.jpg")
    page = admin_http.get("/admin/slots/slot-001").text
    src = re.search(r'src="(/admin/slots/slot-001/templates/[0-9a-f]+)"', page)
    assert src

    thumbnail = admin_http.get(src.group(1))
    anonymous = http.get(live_server.url + src.group(1), allow_redirects=False)

    assert thumbnail.status_code == 200
    assert thumbnail.headers["Content-Type"] == "image/webp"
    assert thumbnail.content.startswith(b"RIFF")
    assert anonymous.status_code == 302


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_stored(
    admin_http, db_session, media_root
):
    response = upload(admin_http, b"GIF89a not what we take", name="x.gif")

    assert response.status_code == 415
    assert "Only JPEG, PNG or WebP images." in response.text
    assert templates_of(db_session) == []
    assert files_under(media_root / "templates") == []


def test_a_truncated_image_is_refused(admin_http, db_session):
    response = upload(admin_http, make_image_bytes(400, 300, "PNG")[:200])

    assert response.status_code == 422
    assert templates_of(db_session) == []


def test_a_template_over_10_mb_is_refused(admin_http, db_session, media_root):
    too_big = make_image_bytes(16, 16, "PNG") + b"\0" * MAX_TEMPLATE_BYTES

    response = upload(admin_http, too_big)

    assert response.status_code == 413
    assert "larger than 10 MB" in response.text
    assert templates_of(db_session) == []
    assert files_under(media_root / "templates") == []


def test_a_fifth_template_is_refused(admin_http, db_session):
    png = make_image_bytes(64, 64, "PNG")
    for _ in range(4):
        assert upload(admin_http, png).status_code == 200

    response = upload(admin_http, png)

    assert response.status_code == 409
    assert "at most 4 templates" in response.text
    assert len(templates_of(db_session)) == 4


def test_an_upload_without_a_file_asks_for_one(admin_http):
    response = admin_http.post("/admin/slots/slot-001/templates?lang=en", htmx=True, data={})

    assert response.status_code == 422
    assert "Choose an image file." in response.text


def test_removing_a_template_deletes_its_row_and_files(admin_http, db_session, media_root):
    upload(admin_http, make_image_bytes(64, 64, "PNG"))
    [template] = templates_of(db_session)

    response = admin_http.post(
        f"/admin/slots/slot-001/templates/{template.media_id}/delete",
        htmx=True,
        data={"version": "2"},
    )

    assert response.status_code == 200
    assert template.media_id not in response.text
    assert templates_of(db_session) == []
    assert files_under(media_root / "templates") == []
    slot = db_session.get(Slot, "slot-001")
    assert slot is not None
    assert slot.version == 3
    assert 'value="3" hx-swap-oob="true"' in response.text


def test_a_template_change_leaves_an_older_forms_version_alone(admin_http, db_session):
    response = upload(admin_http, make_image_bytes(64, 64, "PNG"), version="0")

    assert response.status_code == 200
    assert "hx-swap-oob" not in response.text


def test_the_slot_form_can_be_saved_after_a_template_upload(admin_http, db_session):
    form = form_fields(admin_http.get("/admin/slots/slot-001").text)
    uploaded = upload(admin_http, make_image_bytes(64, 64, "PNG"), version=form["version"])
    form["version"] = re.search(r'name="version" value="(\d+)"', uploaded.text).group(1)  # type: ignore[union-attr]

    saved = admin_http.post("/admin/slots/slot-001", htmx=True, data=form)

    assert saved.status_code == 200


def test_removing_an_unknown_template_answers_404(admin_http):
    response = admin_http.request(
        "DELETE", "/admin/slots/slot-001/templates/0123456789abcdef", htmx=True
    )

    assert response.status_code == 404


def test_a_template_of_another_slot_is_not_served_under_this_one(admin_http, db_session):
    upload(admin_http, make_image_bytes(64, 64, "PNG"))
    [template] = templates_of(db_session)

    response = admin_http.get(f"/admin/slots/slot-002/templates/{template.media_id}")

    assert response.status_code == 404
